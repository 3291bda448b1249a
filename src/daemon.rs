//! `vakhsh run`: the pipeline on live sources, the HTTP endpoint beside it, and
//! graceful shutdown on SIGTERM or SIGINT (a second signal exits at once).

use crate::config::Config;
use crate::http;
use crate::metrics::Metrics;
use crate::pipeline::{self, Inputs, Outputs, Plan, Status, Timing};
use anyhow::Context;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Exit status of a process stopped by a second signal, as shells report SIGINT.
const SECOND_SIGNAL_EXIT: i32 = 130;

pub async fn run(config: Config) -> anyhow::Result<()> {
    let daemon = config.daemon;
    let metrics = Metrics::new();
    let status = Arc::new(Status::default());
    let shutdown = CancellationToken::new();
    let http_stop = CancellationToken::new();

    let http = match daemon.http {
        Some(address) => {
            let listener = TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot serve HTTP on {address} (http.address)"))?;
            tracing::info!(address = %listener.local_addr()?, "serving /metrics, /healthz, /readyz, /v1/schedule, /v1/latency");
            let (m, s, stop) = (metrics.clone(), status.clone(), http_stop.clone());
            Some(tokio::spawn(http::serve(listener, m, s, stop)))
        }
        None => None,
    };

    let plan = Plan {
        grid: Arc::new(config.grid),
        inputs: Inputs {
            simulator: daemon.simulator,
            tcp: daemon.tcp,
            files: daemon.files,
            stdin: daemon.stdin,
        },
        outputs: Outputs {
            decisions: daemon.output.decisions,
            truncate: false,
            stdout: daemon.output.stdout,
            dead_letter: daemon.output.dead_letter,
        },
        settings: daemon.pipeline.clone(),
        timing: Timing {
            live: true,
            ..Timing::default()
        },
        log: daemon.log,
    };
    let running = pipeline::start(plan, metrics, status.clone(), shutdown.clone()).await?;
    tokio::spawn(signals(shutdown.clone(), status.clone()));

    let grace = daemon.pipeline.shutdown_grace;
    let report = tokio::select! {
        report = running.finish() => report?,
        _ = async { shutdown.cancelled().await; tokio::time::sleep(grace).await } => {
            anyhow::bail!("draining took longer than pipeline.shutdown_grace ({grace:?}); exiting without a complete flush")
        }
    };
    status.set_draining();
    http_stop.cancel();
    if let Some(http) = http {
        http.await?.context("HTTP server failed")?;
    }
    tracing::info!(
        decisions = report.decisions,
        "stopped after flushing every decision"
    );
    Ok(())
}

/// First SIGINT/SIGTERM: begin draining. Second: exit at once.
async fn signals(shutdown: CancellationToken, status: Arc<Status>) {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                return;
            }
        };
    for count in 0.. {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        if count > 0 {
            tracing::warn!("second signal: exiting without draining");
            std::process::exit(SECOND_SIGNAL_EXIT);
        }
        tracing::info!("signal received: stopping sources and draining the pipeline");
        status.set_draining();
        shutdown.cancel();
    }
}
