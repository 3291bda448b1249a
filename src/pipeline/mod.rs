//! The pipeline: sources → decode → ingest (order, record, ticks) → schedule → sinks,
//! each edge a bounded channel ([`crate::edge`]), with dead letters on a side edge.
//! One file per stage task; this one wires them. See `docs/architecture.md`.
//!
//! Only the sources see the shutdown signal (through their
//! [`crate::source::SourceContext`]). Every later stage ends when its
//! input edge is closed and drained, so shutdown flushes in order and nothing accepted
//! is dropped on the way out.

mod decode;
mod gauges;
mod ingest;
pub mod order;
mod record;
mod recover;
mod schedule;
mod sinks;
mod stage_metrics;
mod timing;

pub use stage_metrics::StageMetrics;
pub use timing::Timing;

use crate::config::PipelineSettings;
use crate::decision::Decider;
use crate::edge::Edge;
use crate::edge::message::{Batch, DecisionOut, Decoded, Tick};
use crate::edge::metrics::EdgeName;
use crate::event::reject::DeadLetter;
use crate::grid::Grid;
use crate::http::HttpIntake;
use crate::listener::Listener;
use crate::log::LogSettings;
use crate::sink::decisions::Written;
use crate::source::file::EventFiles;
use crate::source::sim::LiveSimulator;
use crate::source::sim::SimulatorSettings;
use crate::source::tcp::{TcpIntake, TcpSettings};
use crate::source::{Limits, Source, SourceContext};
use crate::status::DaemonStatus;
use anyhow::Context;
use async_channel::bounded;
use order::Ingest;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Refused lines waiting for the dead-letter file. A line may be 64 KiB, so this bounds
/// the edge at 16 MiB; a flood of bad lines then slows decoding instead of filling
/// memory.
const DEAD_LETTERS_WAITING: usize = 256;

/// Where a run reads events from.
#[derive(Default)]
pub struct Sources {
    pub simulator: Option<SimulatorSettings>,
    pub tcp: Option<TcpSettings>,
    /// Takes `POST /v1/events` while the pipeline runs; the HTTP server is beside it.
    pub http: Option<Arc<HttpIntake>>,
    pub files: Vec<PathBuf>,
    pub stdin: bool,
}

/// Where a run writes.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    pub decisions: Option<PathBuf>,
    /// Truncate the decision file instead of appending (replays start afresh).
    pub truncate: bool,
    pub stdout: bool,
    pub dead_letter: Option<PathBuf>,
}

/// Everything a run needs.
pub struct Plan {
    pub grid: Arc<Grid>,
    pub sources: Sources,
    pub outputs: Outputs,
    pub settings: PipelineSettings,
    pub timing: Timing,
    /// Where accepted events are recorded; replays record nothing.
    pub log: Option<LogSettings>,
}

/// A stage's task, named for its errors.
type Task = (&'static str, JoinHandle<anyhow::Result<()>>);

/// A started pipeline.
pub struct Running {
    /// Where the TCP source listens, when there is one.
    pub tcp_address: Option<SocketAddr>,
    /// Every stage but the decision sink; [`Running::finish`] waits for them in this
    /// order, sources before the stages their edges feed.
    tasks: Vec<Task>,
    depths: JoinHandle<()>,
    decisions: JoinHandle<std::io::Result<Written>>,
}

impl Running {
    /// Waits for every stage to finish (sources first, sinks last).
    pub async fn finish(self) -> anyhow::Result<Written> {
        let mut first_error = None;
        for (name, task) in self.tasks {
            let result = task.await.map_err(anyhow::Error::from).and_then(|r| r);
            if let Err(e) = result {
                tracing::error!(
                    stage = name,
                    error = format!("{e:#}"),
                    "pipeline stage failed"
                );
                first_error.get_or_insert(e.context(format!("{name} failed")));
            }
        }
        let decisions = self.decisions.await?.context("writing decisions failed")?;
        self.depths.abort();
        match first_error {
            Some(e) => Err(e),
            None => Ok(decisions),
        }
    }
}

/// Starts every stage and returns once the sources are listening.
pub async fn start(
    plan: Plan,
    metrics: StageMetrics,
    status: Arc<DaemonStatus>,
    shutdown: CancellationToken,
) -> anyhow::Result<Running> {
    let s = &plan.settings;
    let (lines_tx, lines_rx) = bounded::<Batch>(s.lines_capacity);
    let (events_tx, events_rx) = bounded::<Vec<Decoded>>(s.events_capacity);
    let (ticks_tx, ticks_rx) = bounded::<Vec<Tick>>(s.ticks_capacity);
    let (decisions_tx, decisions_rx) = bounded::<DecisionOut>(s.decisions_capacity);
    let (dead_tx, dead_rx) = bounded::<DeadLetter>(DEAD_LETTERS_WAITING);
    let edge = |name: EdgeName| metrics.edges.blocked(name);
    let lines_tx = Edge::new(lines_tx, edge(EdgeName::Lines));
    let events_tx = Edge::new(events_tx, edge(EdgeName::Events));
    let ticks_tx = Edge::new(ticks_tx, edge(EdgeName::Ticks));
    let decisions_tx = Edge::new(decisions_tx, edge(EdgeName::Decisions));
    let dead_tx = Edge::new(dead_tx, edge(EdgeName::DeadLetters));
    // The watermark as the ingest stage last moved it, for the lag a live run shows.
    let watermark = plan.timing.live.then(|| Arc::new(AtomicI64::new(i64::MIN)));
    let depths = gauges::sample(
        metrics.clone(),
        vec![
            (EdgeName::Lines, gauges::depth(&lines_rx)),
            (EdgeName::Events, gauges::depth(&events_rx)),
            (EdgeName::Ticks, gauges::depth(&ticks_rx)),
            (EdgeName::Decisions, gauges::depth(&decisions_rx)),
            (EdgeName::DeadLetters, gauges::depth(&dead_rx)),
        ],
        watermark.clone(),
    );

    let mut outputs = sinks::OpenOutputs::open(&plan, &metrics, &status)?;
    let mut tasks: Vec<Task> = Vec::new();
    // State is rebuilt from the log before any source starts.
    let (ingest, decider, recording) = match &plan.log {
        Some(settings) => {
            let (recovered, writer, next_seq) =
                record::open_log(settings, &plan, &metrics, &status)?;
            let (tx, rx) = bounded(s.events_capacity);
            tasks.push((
                "event log",
                tokio::spawn(record::run(writer, rx, metrics.log_synced.clone())),
            ));
            let tx = Edge::new(tx, edge(EdgeName::Log));
            let recording = ingest::Recording { tx, next_seq };
            (recovered.ingest, recovered.decider, Some(recording))
        }
        None => (
            Ingest::new(plan.grid.clone()),
            Decider::new(plan.grid.clone()),
            None,
        ),
    };

    let ctx = SourceContext {
        out: lines_tx,
        shutdown,
        limits: Limits::new(s.batch_size, plan.sources.tcp.as_ref()),
        grid: plan.grid.clone(),
    };
    let mut tcp_address = None;
    if let Some(settings) = plan.sources.tcp {
        let listener = TcpListener::bind(settings.address)
            .await
            .with_context(|| format!("cannot listen for events on {}", settings.address))?;
        let address = listener.local_addr()?;
        tracing::info!(%address, "listening for JSON-line events over TCP");
        tcp_address = Some(address);
        let auth_failures = metrics.auth_failures.of(Listener::Tcp).clone();
        let intake = TcpIntake {
            listener,
            settings,
            auth_failures,
        };
        tasks.push(spawn(intake, &ctx));
    }
    if let Some(settings) = plan.sources.simulator {
        tasks.push(spawn(LiveSimulator { settings }, &ctx));
    }
    if let Some(intake) = plan.sources.http {
        tasks.push(spawn(intake, &ctx));
    }
    let Sources { files, stdin, .. } = plan.sources;
    if !files.is_empty() || stdin {
        tasks.push(spawn(
            EventFiles {
                paths: files,
                stdin,
            },
            &ctx,
        ));
    }
    // The sources hold the first edge now: it closes when the last of them ends.
    drop(ctx);

    let (counters, dead, grid) = (metrics.events.clone(), dead_tx.clone(), plan.grid.clone());
    let decode = decode::run(grid, lines_rx, events_tx, dead, counters, plan.timing);
    tasks.push(("decoder", tokio::spawn(decode)));
    outputs.open_decisions(&plan.outputs, plan.log.is_some(), &metrics, &status)?;
    if let (Some(published), Some(recovered)) = (&watermark, ingest.watermark()) {
        published.store(recovered.as_micros(), Ordering::Relaxed);
    }
    let stage = ingest::IngestStage {
        ingest,
        watermark,
        grid: plan.grid.clone(),
        timing: plan.timing,
        recording,
    };
    let ingest = ingest::run(stage, events_rx, ticks_tx, dead_tx, metrics.clone());
    tasks.push(("ingest", tokio::spawn(ingest)));
    let schedule = schedule::run(decider, ticks_rx, decisions_tx, metrics.clone());
    tasks.push(("scheduler", tokio::spawn(schedule)));
    let (dead_letters, decisions) = outputs.spawn(dead_rx, decisions_rx, metrics, status);
    tasks.push(("dead-letter sink", dead_letters));
    Ok(Running {
        tcp_address,
        tasks,
        depths,
        decisions,
    })
}

/// Starts `source` with its own copy of the context.
fn spawn<S: Source>(source: S, ctx: &SourceContext) -> Task {
    (S::NAME, tokio::spawn(source.run(ctx.clone())))
}
