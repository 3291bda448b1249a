//! A TCP listener taking JSON lines, for SCADA gateways and integrators.
//!
//! Each connection is one stream of lines. The listener enforces the line-size limit,
//! a cap on concurrent connections, an idle limit (no complete line for
//! `idle_timeout` closes the connection), and, when a token is configured, requires
//! each connection to open with the line `AUTH <token>` within `auth_timeout`.

use super::lines::{self, End};
use super::{Source, SourceContext};
use crate::listener::{self, Acceptor};
use prometheus::IntCounter;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWriteExt, BufReader, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tokio_util::task::TaskTracker;

/// `[tcp]`: where the listener is, and the limits that keep one sender from holding it.
#[derive(Debug, Clone)]
pub struct TcpSettings {
    pub address: SocketAddr,
    pub max_connections: usize,
    /// Longer lines are rejected as `too_large` without being buffered whole.
    pub max_line_bytes: usize,
    /// When set, each connection must open with `AUTH <token>`.
    pub token: Option<String>,
    /// A connection that completes no line for this long is closed, so that silent
    /// sockets cannot hold every connection slot.
    pub idle_timeout: Duration,
    /// The `AUTH` line must arrive within this.
    pub auth_timeout: Duration,
}

/// Events over TCP: a bound listener, its settings, and the count of connections it
/// refused for their token.
pub struct TcpIntake {
    pub listener: TcpListener,
    pub settings: TcpSettings,
    pub auth_failures: IntCounter,
}

impl Source for TcpIntake {
    const NAME: &'static str = "tcp source";

    /// Accepts connections until shutdown, then waits for the open ones to stop
    /// reading and hand over the lines they have already read.
    async fn run(self, ctx: SourceContext) -> anyhow::Result<()> {
        let TcpIntake {
            listener,
            settings,
            auth_failures,
        } = self;
        let slots = Arc::new(Semaphore::new(settings.max_connections));
        let settings = Arc::new(settings);
        let connections = TaskTracker::new();
        let mut acceptor = Acceptor::new(listener, "tcp");
        loop {
            let (mut stream, peer) = tokio::select! {
                _ = ctx.shutdown.cancelled() => break,
                accepted = acceptor.accept() => accepted,
            };
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                tracing::warn!(%peer, limit = settings.max_connections, "refusing TCP connection: too many open");
                let _ = stream.write_all(b"ERR too many connections\n").await;
                continue;
            };
            let (settings, ctx) = (settings.clone(), ctx.clone());
            let auth_failures = auth_failures.clone();
            connections.spawn(async move {
                let origin: Arc<str> = Arc::from(format!("tcp {peer}"));
                let result = connection(stream, &origin, &settings, &ctx, &auth_failures).await;
                if let Err(e) = result {
                    tracing::warn!(%peer, error = %e, "TCP connection ended with an error");
                }
                drop(slot);
            });
        }
        connections.close();
        connections.wait().await;
        Ok(())
    }
}

/// Reads one connection's lines until it ends, goes idle, or `shutdown`: then the
/// socket is read no further, and the lines already read are handed over, so that a
/// shutdown loses nothing the daemon has taken from the network.
async fn connection(
    stream: TcpStream,
    origin: &Arc<str>,
    settings: &TcpSettings,
    ctx: &SourceContext,
    auth_failures: &IntCounter,
) -> io::Result<End> {
    let shutdown = &ctx.shutdown;
    let (read, mut write) = stream.into_split();
    let read = IdleLimit::new(read, settings.idle_timeout, shutdown.clone());
    let mut reader = BufReader::with_capacity(1 << 16, read);
    if let Some(token) = &settings.token
        && !authorised(&mut reader, origin, settings, token).await?
    {
        if shutdown.is_cancelled() {
            return Ok(End::Closed);
        }
        auth_failures.inc();
        tokio::time::sleep(listener::REFUSAL_DELAY).await;
        write.write_all(b"ERR unauthorized\n").await?;
        return Ok(End::Closed);
    }
    let end = lines::forward(&mut reader, origin, ctx.limits, &ctx.out, None).await?;
    if reader.get_ref().expired {
        tracing::info!(%origin, timeout = ?settings.idle_timeout, "closing TCP connection: no complete line within tcp.idle_timeout");
        let _ = write.write_all(b"ERR idle timeout\n").await;
    }
    Ok(end)
}

/// Reads the first line and checks that it is `AUTH <token>`, arriving within
/// `auth_timeout`.
async fn authorised<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    origin: &Arc<str>,
    settings: &TcpSettings,
    token: &str,
) -> io::Result<bool> {
    let first = lines::read_line(reader, origin, settings.max_line_bytes);
    let Ok(first) = tokio::time::timeout(settings.auth_timeout, first).await else {
        tracing::warn!(%origin, timeout = ?settings.auth_timeout, "refusing TCP connection: no AUTH line within tcp.auth_timeout");
        return Ok(false);
    };
    let authorised = first?.is_some_and(|line| {
        line.bytes
            .strip_prefix(b"AUTH ")
            .is_some_and(|given| listener::token_matches(token, given))
    });
    if !authorised {
        tracing::warn!(%origin, "refusing TCP connection: missing or wrong AUTH line");
    }
    Ok(authorised)
}

/// A connection's reading half that ends — reads as end of input — once no newline
/// has arrived for `limit`, or once the daemon shuts down. A line dribbled byte by byte
/// cannot keep it open, and whatever did arrive is still processed like the tail of any
/// stream.
struct IdleLimit<R> {
    inner: R,
    limit: Duration,
    deadline: Pin<Box<Sleep>>,
    stop: Pin<Box<WaitForCancellationFutureOwned>>,
    /// The limit was reached; everything after reads as the end.
    expired: bool,
}

impl<R> IdleLimit<R> {
    fn new(inner: R, limit: Duration, stop: CancellationToken) -> Self {
        IdleLimit {
            inner,
            limit,
            deadline: Box::pin(tokio::time::sleep(limit)),
            stop: Box::pin(stop.cancelled_owned()),
            expired: false,
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for IdleLimit<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.expired || this.stop.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if memchr::memchr(b'\n', &buf.filled()[before..]).is_some() {
                    this.deadline.as_mut().reset(Instant::now() + this.limit);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending if this.deadline.as_mut().poll(cx).is_ready() => {
                this.expired = true;
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_line_dribbled_byte_by_byte_does_not_hold_the_connection() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut read = IdleLimit::new(server, Duration::from_secs(10), CancellationToken::new());
        let feeding = tokio::spawn(async move {
            client.write_all(b"ok\n").await.unwrap();
            for _ in 0..100 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if client.write_all(b"x").await.is_err() {
                    break;
                }
            }
        });
        let started = Instant::now();
        let mut got = Vec::new();
        read.read_to_end(&mut got).await.unwrap();
        assert!(read.expired);
        assert!(got.starts_with(b"ok\nxxxxxxx"), "{got:?}");
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(10) && took < Duration::from_secs(12),
            "{took:?}"
        );
        feeding.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn each_complete_line_restarts_the_limit() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut read = IdleLimit::new(server, Duration::from_secs(10), CancellationToken::new());
        tokio::spawn(async move {
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_secs(8)).await;
                client.write_all(b"line\n").await.unwrap();
            }
        });
        let mut got = Vec::new();
        read.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"line\n".repeat(5), "no line was cut off early");
    }

    /// At shutdown a connection that is still open hands over the lines it has read
    /// and reads no more.
    #[tokio::test]
    async fn a_shutdown_hands_over_what_was_read() {
        let (mut client, server) = tokio::io::duplex(64);
        let stop = CancellationToken::new();
        let read = IdleLimit::new(server, Duration::from_secs(60), stop.clone());
        let mut reader = BufReader::new(read);
        let (tx, rx) = async_channel::bounded(4);
        let tx = crate::edge::Edge::new(tx, prometheus::Counter::new("blocked", "test").unwrap());
        client.write_all(b"a\n").await.unwrap();
        let forwarding = tokio::spawn(async move {
            let origin: Arc<str> = Arc::from("test");
            let limits = crate::source::Limits {
                batch_size: 256,
                max_line_bytes: 100,
            };
            lines::forward(&mut reader, &origin, limits, &tx, None).await
        });
        let first = rx.recv().await.unwrap();
        assert_eq!(first.len(), 1);
        stop.cancel();
        assert_eq!(forwarding.await.unwrap().unwrap(), End::Eof);
        assert!(
            client.write_all(b"b\n").await.is_err(),
            "the reading half is gone"
        );
        assert!(rx.recv().await.is_err(), "nothing read after the shutdown");
    }
}
