//! `vakhsh run`: the pipeline on live sources, the HTTP endpoint beside it, and
//! graceful shutdown on SIGTERM or SIGINT (a second signal exits at once): sources
//! stop, the pipeline drains, HTTP finishes its requests, all within
//! `pipeline.shutdown_grace`.

use crate::config::Config;
use crate::http::{self, HttpIntake};
use crate::metrics::Metrics;
use crate::pipeline::{self, Outputs, Plan, Sources, StageMetrics, Timing};
use crate::status::DaemonStatus;
use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio_util::sync::CancellationToken;

/// Exit status of a process stopped by a second signal, as shells report SIGINT.
const SECOND_SIGNAL_EXIT: i32 = 130;

pub async fn run(config: Config) -> anyhow::Result<()> {
    // Caught before anything listens: a signal sent while the daemon starts (recovering
    // its log, say) drains it like any other, instead of killing it.
    let caught = catch_signals().context("cannot catch SIGTERM and SIGINT")?;
    let daemon = config.daemon;
    let metrics = Metrics::new();
    let stage_metrics = StageMetrics::register(&metrics);
    let status = Arc::new(DaemonStatus::default());
    let shutdown = CancellationToken::new();
    let http_stop = CancellationToken::new();
    let grace = daemon.pipeline.shutdown_grace;
    let grace_over = CancellationToken::new();
    tokio::spawn(end_of_grace(shutdown.clone(), grace, grace_over.clone()));

    let intake = Arc::new(HttpIntake::default());
    let http = match daemon.http {
        Some(settings) => {
            let address = settings.address;
            let listener = TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot serve HTTP on {address} (http.address)"))?;
            tracing::info!(address = %listener.local_addr()?, "serving /metrics, /healthz, /readyz, /v1/schedule, /v1/latency, POST /v1/events");
            let shared = http::Shared {
                metrics: metrics.clone(),
                auth_failures: stage_metrics.auth_failures.clone(),
                status: status.clone(),
                intake: intake.clone(),
            };
            let (stop, abort) = (http_stop.clone(), grace_over.clone());
            Some(tokio::spawn(http::serve(
                listener, settings, shared, stop, abort,
            )))
        }
        None => None,
    };

    let plan = Plan {
        grid: Arc::new(config.grid),
        sources: Sources {
            simulator: daemon.simulator.enabled.then_some(daemon.simulator),
            tcp: daemon.tcp,
            http: http.is_some().then_some(intake),
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
    let running = pipeline::start(plan, stage_metrics, status.clone(), shutdown.clone()).await?;
    tokio::spawn(signals(caught, shutdown.clone(), status.clone()));

    let report = tokio::select! {
        report = running.finish() => report?,
        _ = grace_over.cancelled() => {
            anyhow::bail!("draining took longer than pipeline.shutdown_grace ({grace:?}); exiting without a complete flush")
        }
    };
    status.set_draining();
    http_stop.cancel();
    if let Some(http) = http {
        http.await.context("HTTP server failed")?;
    }
    tracing::info!(
        decisions = report.decisions,
        "stopped after flushing every decision"
    );
    Ok(())
}

/// Cancels `over` once `grace` has passed since shutdown began: the pipeline must have
/// drained by then, and HTTP connections still open are dropped.
async fn end_of_grace(shutdown: CancellationToken, grace: Duration, over: CancellationToken) {
    shutdown.cancelled().await;
    tokio::time::sleep(grace).await;
    over.cancel();
}

/// SIGTERM and SIGINT, held from now on until [`signals`] takes them.
fn catch_signals() -> std::io::Result<[Signal; 2]> {
    Ok([
        signal(SignalKind::terminate())?,
        signal(SignalKind::interrupt())?,
    ])
}

/// First SIGINT/SIGTERM: begin draining. Second: exit at once.
async fn signals(caught: [Signal; 2], shutdown: CancellationToken, status: Arc<DaemonStatus>) {
    let [mut terminate, mut interrupt] = caught;
    for count in 0.. {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
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
