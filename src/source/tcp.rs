//! A TCP listener taking JSON lines, for SCADA gateways and integrators.
//!
//! Each connection is one stream of lines. The listener enforces the line-size limit,
//! a cap on concurrent connections, and, when a token is configured, requires each
//! connection to open with the line `AUTH <token>`.

use super::Batch;
use super::lines::{self, End};
use crate::config::TcpSource;
use crate::edge::Edge;
use std::sync::Arc;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Accepts connections until `shutdown`, then waits for the open ones to finish the
/// batch they are reading.
pub async fn serve(
    listener: TcpListener,
    settings: TcpSource,
    batch_size: usize,
    tx: Edge<Batch>,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    let settings = Arc::new(settings);
    let connections = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (mut stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a TCP connection failed");
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(%peer, limit = settings.max_connections, "refusing TCP connection: too many open");
            let _ = stream.write_all(b"ERR too many connections\n").await;
            continue;
        };
        let (settings, tx, shutdown) = (settings.clone(), tx.clone(), shutdown.clone());
        connections.spawn(async move {
            let origin: Arc<str> = Arc::from(format!("tcp {peer}"));
            tokio::select! {
                _ = shutdown.cancelled() => {}
                result = connection(stream, &origin, &settings, batch_size, &tx) => {
                    if let Err(e) = result {
                        tracing::warn!(%peer, error = %e, "TCP connection ended with an error");
                    }
                }
            }
            drop(slot);
        });
    }
    connections.close();
    connections.wait().await;
}

async fn connection(
    stream: TcpStream,
    origin: &Arc<str>,
    settings: &TcpSource,
    batch_size: usize,
    tx: &Edge<Batch>,
) -> std::io::Result<End> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::with_capacity(1 << 16, read);
    if let Some(token) = &settings.token {
        let first = lines::read_line(&mut reader, origin, settings.max_line_bytes).await?;
        let authorised = first.is_some_and(|line| {
            line.bytes
                .strip_prefix(b"AUTH ")
                .is_some_and(|given| given == token.as_bytes())
        });
        if !authorised {
            tracing::warn!(%origin, "refusing TCP connection: missing or wrong AUTH line");
            write.write_all(b"ERR unauthorized\n").await?;
            return Ok(End::Closed);
        }
    }
    lines::forward(&mut reader, origin, settings.max_line_bytes, batch_size, tx).await
}
