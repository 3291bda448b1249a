//! Wiring: sources → decode/validate → grid state (ingest, ticks) → scheduler → sinks,
//! each edge a bounded channel, with dead letters on a side edge.
//!
//! Only the sources watch the shutdown token. Every later stage ends when its input
//! channel is closed and drained, so shutdown flushes in order and nothing accepted is
//! dropped on the way out.

use crate::config::{PipelineSettings, SimulatorSource, TcpSource};
use crate::decision::{Decided, Decider, Trigger};
use crate::decode::Decoder;
use crate::edge::Edge;
use crate::event::Event;
use crate::grid::{Grid, GridState};
use crate::ingest::{Ingest, Verdict};
use crate::latency::Stage;
use crate::log::{LogSettings, LogWriter};
use crate::metrics::Metrics;
use crate::reject::{DeadLetter, Reason};
use crate::sink;
use crate::sink::retry::{OutputFile, RetriedFile, Retry};
use crate::source::receipt::{self, Outcome, Receipt};
use crate::source::{self, Batch, Input};
use crate::time::Timestamp;
use anyhow::Context;
use async_channel::{Receiver, bounded};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Refused lines waiting for the dead-letter file. A line may be 64 KiB, so this bounds
/// the edge at 16 MiB; a flood of bad lines then slows decoding instead of filling
/// memory.
const DEAD_LETTERS_WAITING: usize = 256;

/// Where a run reads events from.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub simulator: Option<SimulatorSource>,
    pub tcp: Option<TcpSource>,
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
    pub inputs: Inputs,
    pub outputs: Outputs,
    pub settings: PipelineSettings,
    pub timing: Timing,
    /// Where accepted events are recorded; replays record nothing.
    pub log: Option<LogSettings>,
}

/// How a run relates to time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    /// Live runs refuse events too far beyond the wall clock; replays never read it.
    pub live: bool,
    /// Replay pacing: event time runs this many times as fast as the wall clock;
    /// `None` replays as fast as the pipeline goes.
    pub speed: Option<f64>,
    /// Only events with `from` ≤ `ts` < `to` are taken; the rest are skipped uncounted.
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl Timing {
    fn admits(&self, ts: Timestamp) -> bool {
        self.from.is_none_or(|from| ts >= from) && self.to.is_none_or(|to| ts < to)
    }
}

/// Holds a replay back so that event time passes `speed` times as fast as wall time.
struct Pace {
    speed: f64,
    origin: Option<(Timestamp, tokio::time::Instant)>,
}

impl Pace {
    async fn wait_for(&mut self, ts: Timestamp) {
        let (first, start) = *self.origin.get_or_insert((ts, tokio::time::Instant::now()));
        let ahead = ts.micros_since(first).max(0) as f64 / self.speed;
        let due = start + std::time::Duration::from_micros(ahead as u64);
        if due > tokio::time::Instant::now() + std::time::Duration::from_millis(1) {
            tokio::time::sleep_until(due).await;
        }
    }
}

/// What HTTP can see of a running pipeline.
#[derive(Debug, Default)]
pub struct Status {
    draining: AtomicBool,
    /// The latest decision line, shared with `/v1/schedule`.
    latest: Mutex<Option<Arc<[u8]>>>,
    /// Per output file (indexed by [`OutputFile`]), set while it cannot be written.
    unwritable: [AtomicBool; OutputFile::ALL.len()],
}

impl Status {
    pub fn publish(&self, line: &[u8]) {
        let line: Arc<[u8]> = Arc::from(line.strip_suffix(b"\n").unwrap_or(line));
        *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = Some(line);
    }

    pub fn latest(&self) -> Option<Arc<[u8]>> {
        self.latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Marks `file` as writable again or not; readiness follows.
    pub fn set_writable(&self, file: OutputFile, writable: bool) {
        self.unwritable[file as usize].store(!writable, Ordering::Relaxed);
    }

    /// The output files that cannot be written now.
    pub fn unwritable(&self) -> impl Iterator<Item = OutputFile> + '_ {
        OutputFile::ALL
            .into_iter()
            .filter(|file| self.unwritable[*file as usize].load(Ordering::Relaxed))
    }

    /// True while every output file can be written, so an event offered now can be
    /// recorded.
    pub fn storage_ok(&self) -> bool {
        self.unwritable().next().is_none()
    }

    /// Ready once a decision exists, while every output can be written, and until
    /// shutdown begins.
    pub fn ready(&self) -> bool {
        !self.draining.load(Ordering::Relaxed) && self.latest().is_some() && self.storage_ok()
    }
}

/// A decision on its way to the sinks.
pub struct DecisionOut {
    /// What it says; the sink writes its line.
    pub decided: Decided,
    /// When the event that made its tick due arrived.
    pub arrived: Instant,
    /// When the scheduler built it.
    pub built: Instant,
}

/// A tick due for scheduling.
struct Tick {
    ts: Timestamp,
    state: GridState,
    /// When the event that made it due arrived.
    arrived: Instant,
    /// When the ingest stage released it to the scheduler.
    released: Instant,
}

/// A decoded event with where it came from (kept for the dead-letter file).
struct Decoded {
    event: Event,
    origin: Arc<str>,
    arrived: Instant,
    /// The line it was decoded from; `None` for an event read from the native log.
    line: Option<Vec<u8>>,
    /// Where the ingest stage counts its verdict for the line's sender.
    receipt: Option<Arc<Receipt>>,
}

/// A started pipeline.
pub struct Running {
    /// Where the TCP source listens, when there is one.
    pub tcp_address: Option<SocketAddr>,
    /// The first edge, for sources started beside the pipeline (HTTP); dropped by
    /// [`Running::finish`] so that the edge closes once every source has let go.
    lines: Edge<Batch>,
    tasks: Vec<(&'static str, JoinHandle<anyhow::Result<()>>)>,
    depths: JoinHandle<()>,
    decisions: JoinHandle<std::io::Result<sink::decisions::Written>>,
}

impl Running {
    /// A sender on the first edge. Whoever holds one keeps the pipeline running, so
    /// it must be dropped when shutdown begins.
    pub fn lines(&self) -> Edge<Batch> {
        self.lines.clone()
    }

    /// Waits for every stage to finish (sources first, sinks last).
    pub async fn finish(self) -> anyhow::Result<sink::decisions::Written> {
        drop(self.lines);
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
    metrics: Metrics,
    status: Arc<Status>,
    shutdown: CancellationToken,
) -> anyhow::Result<Running> {
    let s = &plan.settings;
    let (lines_tx, lines_rx) = bounded::<Batch>(s.lines_capacity);
    let (events_tx, events_rx) = bounded::<Vec<Decoded>>(s.events_capacity);
    let (ticks_tx, ticks_rx) = bounded::<Vec<Tick>>(s.ticks_capacity);
    let (decisions_tx, decisions_rx) = bounded::<DecisionOut>(s.decisions_capacity);
    let (dead_tx, dead_rx) = bounded::<DeadLetter>(DEAD_LETTERS_WAITING);
    let edge = |name: &str| metrics.channel_blocked.with_label_values(&[name]);
    let lines_tx = Edge::new(lines_tx, edge("lines"));
    let events_tx = Edge::new(events_tx, edge("events"));
    let ticks_tx = Edge::new(ticks_tx, edge("ticks"));
    let decisions_tx = Edge::new(decisions_tx, edge("decisions"));
    let dead_tx = Edge::new(dead_tx, edge("dead_letters"));
    // The watermark as the ingest stage last moved it, for the lag a live run shows.
    let watermark = plan.timing.live.then(|| Arc::new(AtomicI64::new(i64::MIN)));
    let depths = sample_gauges(
        metrics.clone(),
        vec![
            ("lines", depth(&lines_rx)),
            ("events", depth(&events_rx)),
            ("ticks", depth(&ticks_rx)),
            ("decisions", depth(&decisions_rx)),
            ("dead_letters", depth(&dead_rx)),
        ],
        watermark.clone(),
    );

    // The daemon holds ingest back while a file cannot be written; a replay fails.
    let retried = |file: OutputFile, path: &Path, truncate: bool| {
        let retry = plan
            .timing
            .live
            .then(|| Retry::new(file, path, &metrics, status.clone()));
        RetriedFile::open(path, truncate, retry)
    };
    let dead_out = plan
        .outputs
        .dead_letter
        .as_deref()
        .map(|path| retried(OutputFile::DeadLetter, path, false))
        .transpose()?;

    let mut tasks: Vec<(&'static str, JoinHandle<anyhow::Result<()>>)> = Vec::new();
    // State is rebuilt from the log before any source starts.
    let (ingest, decider, recording) = match &plan.log {
        Some(settings) => {
            let (recovered, writer, recording) = open_log(settings, &plan, &metrics, &status)?;
            let (tx, rx) = bounded(s.events_capacity);
            tasks.push((
                "event log",
                tokio::spawn(record(writer, rx, metrics.clone())),
            ));
            (
                recovered.ingest,
                recovered.decider,
                Some(Recording {
                    tx: Edge::new(tx, metrics.channel_blocked.with_label_values(&["log"])),
                    next_seq: recording,
                }),
            )
        }
        None => (
            Ingest::new(plan.grid.clone()),
            Decider::new(plan.grid.clone()),
            None,
        ),
    };
    // A recovered decision file is rewritten from the log; new decisions append to it.
    let truncate = plan.outputs.truncate && plan.log.is_none();
    let max_line_bytes = source::lines::limit(plan.inputs.tcp.as_ref());
    let batch = s.batch_size;
    let mut tcp_address = None;
    if let Some(tcp) = plan.inputs.tcp.clone() {
        let listener = TcpListener::bind(tcp.address)
            .await
            .with_context(|| format!("cannot listen for events on {}", tcp.address))?;
        let address = listener.local_addr()?;
        tracing::info!(%address, "listening for JSON-line events over TCP");
        tcp_address = Some(address);
        let (tx, shutdown) = (lines_tx.clone(), shutdown.clone());
        let auth_failures = metrics.auth_failures.with_label_values(&["tcp"]);
        tasks.push((
            "tcp source",
            tokio::spawn(async move {
                source::tcp::serve(listener, tcp, batch, tx, auth_failures, shutdown).await;
                Ok(())
            }),
        ));
    }
    if let Some(sim) = plan.inputs.simulator.clone() {
        let (tx, shutdown, grid) = (lines_tx.clone(), shutdown.clone(), plan.grid.clone());
        tasks.push((
            "simulator",
            tokio::spawn(async move { source::sim::live(&grid, &sim, tx, shutdown).await }),
        ));
    }
    if !plan.inputs.files.is_empty() || plan.inputs.stdin {
        let (tx, shutdown, files, stdin, grid) = (
            lines_tx.clone(),
            shutdown.clone(),
            plan.inputs.files.clone(),
            plan.inputs.stdin,
            plan.grid.clone(),
        );
        tasks.push((
            "file source",
            tokio::spawn(async move {
                tokio::select! {
                    _ = shutdown.cancelled() => Ok(()),
                    result = async {
                        source::file::read_files(&files, &grid, max_line_bytes, batch, tx.clone()).await?;
                        if stdin {
                            source::file::read_stdin(max_line_bytes, batch, tx).await?;
                        }
                        Ok(())
                    } => result,
                }
            }),
        ));
    }

    let grid = plan.grid.clone();
    let (m, dead, timing) = (metrics.clone(), dead_tx.clone(), plan.timing);
    tasks.push((
        "decoder",
        tokio::spawn(decode(grid, lines_rx, events_tx, dead, m, timing)),
    ));
    let outputs = sink::decisions::Outputs {
        file: plan
            .outputs
            .decisions
            .as_deref()
            .map(|path| retried(OutputFile::Decisions, path, truncate))
            .transpose()?,
        stdout: plan.outputs.stdout,
    };
    if let (Some(published), Some(recovered)) = (&watermark, ingest.watermark()) {
        published.store(recovered.as_micros(), Ordering::Relaxed);
    }
    let stage = IngestStage {
        ingest,
        watermark,
        grid: plan.grid.clone(),
        timing: plan.timing,
        recording,
    };
    let ingest = run_ingest(stage, events_rx, ticks_tx, dead_tx, metrics.clone());
    tasks.push(("ingest", tokio::spawn(ingest)));
    let m = metrics.clone();
    tasks.push((
        "scheduler",
        tokio::spawn(schedule(decider, ticks_rx, decisions_tx, m)),
    ));
    tasks.push((
        "dead-letter sink",
        tokio::spawn(async move { Ok(sink::dead_letter::run(dead_rx, dead_out).await?) }),
    ));
    // Replays total their decisions; a live run has no end to total up to.
    let with_totals = !plan.timing.live;
    let decisions = tokio::spawn(sink::decisions::run(
        decisions_rx,
        outputs,
        plan.grid.clone(),
        metrics,
        status,
        with_totals,
    ));
    Ok(Running {
        tcp_address,
        lines: lines_tx,
        tasks,
        depths,
        decisions,
    })
}

/// Opens the event log (cutting a torn tail), rebuilds the state it implies and
/// rewrites the decision file from it. Returns the recovered state, the writer, and
/// the ingest sequence of the next event.
fn open_log(
    settings: &LogSettings,
    plan: &Plan,
    metrics: &Metrics,
    status: &Arc<Status>,
) -> anyhow::Result<(crate::log::recover::Recovered, LogWriter, u64)> {
    let dir = &settings.dir;
    let retry = Retry::new(OutputFile::EventLog, dir, metrics, status.clone());
    let (writer, opened) = LogWriter::open(settings.clone(), &plan.grid, retry)?;
    let mut out: Box<dyn Write> = match &plan.outputs.decisions {
        Some(path) => Box::new(sink::create(path)?),
        None => Box::new(std::io::sink()),
    };
    let recovered = crate::log::recover::recover(&plan.grid, dir, &mut out)
        .with_context(|| format!("cannot recover from the event log in {}", dir.display()))?;
    metrics.log_synced.set(opened.last_seq as i64);
    tracing::info!(
        dir = %dir.display(), events = recovered.events, decisions = recovered.decisions,
        "recovered from the event log; recording accepted events"
    );
    if let Some(line) = &recovered.last_decision {
        status.publish(line);
    }
    Ok((recovered, writer, opened.last_seq + 1))
}

async fn decode(
    grid: Arc<Grid>,
    rx: Receiver<Batch>,
    tx: Edge<Vec<Decoded>>,
    dead: Edge<DeadLetter>,
    metrics: Metrics,
    timing: Timing,
) -> anyhow::Result<()> {
    let mut decoder = Decoder::new(grid);
    while let Ok(batch) = rx.recv().await {
        let mut out = Vec::with_capacity(batch.len());
        for input in batch {
            let refused = match input {
                Input::Line(raw) => {
                    let result = if raw.too_large {
                        Err((
                            Reason::TooLarge,
                            None,
                            "line longer than the limit".to_string(),
                        ))
                    } else {
                        decoder
                            .decode(&raw.bytes)
                            .map_err(|e| (e.reason, e.event_type, e.detail))
                    };
                    match result {
                        Ok(event) => {
                            let (origin, arrived) = (raw.origin, raw.arrived);
                            Ok(Decoded {
                                event,
                                origin,
                                arrived,
                                line: Some(raw.bytes),
                                receipt: raw.receipt,
                            })
                        }
                        Err((reason, event_type, detail)) => {
                            receipt::count(&raw.receipt, Outcome::Rejected);
                            let raw_text = String::from_utf8_lossy(&raw.bytes).into_owned();
                            Err((
                                event_type,
                                DeadLetter {
                                    reason,
                                    detail,
                                    origin: raw.origin,
                                    raw: raw_text,
                                },
                            ))
                        }
                    }
                }
                Input::Logged {
                    event,
                    origin,
                    arrived,
                } => Ok(Decoded {
                    event,
                    origin,
                    arrived,
                    line: None,
                    receipt: None,
                }),
                Input::Unmapped {
                    event_type,
                    detail,
                    origin,
                } => {
                    let letter = DeadLetter {
                        reason: Reason::UnknownId,
                        detail,
                        origin,
                        raw: String::new(),
                    };
                    Err((Some(event_type), letter))
                }
            };
            match refused {
                Ok(decoded) if !timing.admits(decoded.event.ts) => {}
                Ok(decoded) => {
                    metrics
                        .events(Some(decoded.event.body.event_type()))
                        .received
                        .inc();
                    out.push(decoded);
                }
                Err((event_type, letter)) => {
                    let counters = metrics.events(event_type);
                    counters.received.inc();
                    counters.rejected(letter.reason).inc();
                    let _ = dead.send(letter).await;
                }
            }
        }
        if !out.is_empty() && tx.send(out).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// Where the ingest stage records accepted events: the log writer's channel and the
/// ingest sequence of the next event.
struct Recording {
    tx: Edge<Recorded>,
    next_seq: u64,
}

/// One batch's accepted events on their way to the log, with the receipts of the HTTP
/// requests that sent them. The receipts are let go once the events are written (and
/// synced, as the policy says), so that a sender hears "accepted" only of events the
/// log holds.
struct Recorded {
    events: Vec<(u64, Event)>,
    receipts: Vec<Arc<Receipt>>,
}

impl Recorded {
    /// Keeps `receipt` until the batch is written; a request's lines share one, so a
    /// run of them is kept once.
    fn hold(&mut self, receipt: &Option<Arc<Receipt>>) {
        if let Some(receipt) = receipt
            && !self
                .receipts
                .last()
                .is_some_and(|last| Arc::ptr_eq(last, receipt))
        {
            self.receipts.push(receipt.clone());
        }
    }
}

/// What the ingest stage owns: the ordering core, and how it records and paces.
struct IngestStage {
    ingest: Ingest,
    /// Where a live run publishes its watermark (microseconds) for the lag gauge.
    watermark: Option<Arc<AtomicI64>>,
    grid: Arc<Grid>,
    timing: Timing,
    recording: Option<Recording>,
}

/// Sends the ticks an input batch made due as one message, so a replay that makes many
/// ticks per batch wakes the scheduler once per batch, not once per tick.
async fn run_ingest(
    stage: IngestStage,
    rx: Receiver<Vec<Decoded>>,
    tx: Edge<Vec<Tick>>,
    dead: Edge<DeadLetter>,
    metrics: Metrics,
) -> anyhow::Result<()> {
    let IngestStage {
        mut ingest,
        watermark,
        grid,
        timing,
        mut recording,
    } = stage;
    // Ticks made due in a batch (boundary, state, arrival of the event that made it
    // due), released when the batch is done.
    let mut due = Vec::new();
    // Arrivals of the batch's events, counted together while equal: the events of a
    // native log's batch share one.
    let mut arrivals: Vec<(Instant, u64)> = Vec::new();
    let mut latency = metrics.recorder(&[Stage::Ingest]);
    let mut pace = timing.speed.map(|speed| Pace {
        speed,
        origin: None,
    });
    while let Ok(batch) = latency.wait(rx.recv()).await {
        let wall = timing.live.then(Timestamp::now);
        // Until a replay of event files has accepted an event, the earliest line of the
        // batch stands in for the newest, so that a broken clock on the very first line
        // is judged too.
        let earliest = match (wall, ingest.newest()) {
            (None, None) => batch
                .iter()
                .filter(|d| d.line.is_some())
                .map(|d| d.event.ts)
                .min(),
            _ => None,
        };
        let mut accepted = Recorded {
            events: Vec::new(),
            receipts: Vec::new(),
        };
        for Decoded {
            event,
            origin,
            arrived,
            line,
            receipt,
        } in batch
        {
            if let Some(pace) = pace.as_mut() {
                pace.wait_for(event.ts).await;
            }
            let event_type = event.body.event_type();
            let counters = metrics.events(Some(event_type));
            match arrivals.last_mut() {
                Some((at, n)) if *at == arrived => *n += 1,
                _ => arrivals.push((arrived, 1)),
            }
            // Event files have no wall clock: one from a broken clock is judged
            // against the newest event before it. Logged events were judged already.
            let now = match (wall, &line) {
                (Some(wall), _) => Some(wall),
                (None, Some(_)) => ingest.newest().or(earliest),
                (None, None) => None,
            };
            match ingest.offer(&event, now) {
                Verdict::Accepted => {
                    counters.accepted.inc();
                    receipt::count(&receipt, Outcome::Accepted);
                    if let Some(recording) = recording.as_mut() {
                        accepted.events.push((recording.next_seq, event));
                        accepted.hold(&receipt);
                        recording.next_seq += 1;
                    }
                }
                Verdict::Duplicate => {
                    counters.duplicate.inc();
                    receipt::count(&receipt, Outcome::Duplicate);
                }
                Verdict::Rejected(reason) => {
                    counters.rejected(reason).inc();
                    receipt::count(&receipt, Outcome::Rejected);
                    let detail = match (reason, wall) {
                        (Reason::Late, _) => "older than the watermark",
                        (_, Some(_)) => "further beyond the wall clock than time.max_ahead",
                        (_, None) => "further beyond the newest accepted event than time.max_ahead",
                    };
                    let raw = match &line {
                        Some(line) => String::from_utf8_lossy(line).into_owned(),
                        None => event.to_json(&grid),
                    };
                    let _ = dead
                        .send(DeadLetter {
                            reason,
                            detail: detail.into(),
                            origin,
                            raw,
                        })
                        .await;
                    continue;
                }
            }
            ingest.run_ticks(|ts, state| due.push((ts, state.clone(), arrived)));
        }
        if let (Some(published), Some(moved)) = (&watermark, ingest.watermark()) {
            published.store(moved.as_micros(), Ordering::Relaxed);
        }
        // The log hears of a batch before the scheduler does.
        if let Some(recording) = &recording
            && !accepted.events.is_empty()
            && recording.tx.send(accepted).await.is_err()
        {
            anyhow::bail!("the event log writer stopped");
        }
        let released = Instant::now();
        for (arrived, n) in arrivals.drain(..) {
            latency.record_n(Stage::Ingest, arrived, released, n);
        }
        let ticks: Vec<Tick> = due
            .drain(..)
            .map(|(ts, state, arrived)| Tick {
                ts,
                state,
                arrived,
                released,
            })
            .collect();
        if !ticks.is_empty() && tx.send(ticks).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// Appends accepted events to the log off the async threads, syncing as the policy
/// says — also when no new batch comes to trigger it. While the log cannot be written
/// the writer retries and this task takes no batch: its channel fills and holds ingest
/// back.
async fn record(
    mut writer: LogWriter,
    rx: Receiver<Recorded>,
    metrics: Metrics,
) -> anyhow::Result<()> {
    loop {
        let wait = writer.sync_due_in();
        let batch = tokio::select! {
            batch = rx.recv() => batch.ok(),
            _ = async { tokio::time::sleep(wait.unwrap_or_default()).await }, if wait.is_some() => None,
        };
        let closed = batch.is_none() && wait.is_none();
        let last = closed || (rx.is_closed() && rx.is_empty());
        writer = tokio::task::spawn_blocking(move || {
            match batch {
                // The receipts go when the events are written.
                Some(Recorded { events, receipts }) => {
                    writer.append(&events);
                    drop(receipts);
                }
                None => writer.sync(),
            }
            if last {
                writer.sync();
            }
            writer
        })
        .await?;
        metrics.log_synced.set(writer.synced_seq() as i64);
        if last {
            return Ok(());
        }
    }
}

async fn schedule(
    mut decider: Decider,
    rx: Receiver<Vec<Tick>>,
    tx: Edge<DecisionOut>,
    metrics: Metrics,
) -> anyhow::Result<()> {
    let mut latency = metrics.recorder(&[Stage::Schedule]);
    let mut gauges = metrics.grid_handles(decider.grid());
    while let Ok(ticks) = latency.wait(rx.recv()).await {
        for tick in ticks {
            metrics.ticks.inc();
            let solving = Instant::now();
            let decided = decider.tick(tick.ts, &tick.state);
            let built = Instant::now();
            metrics.observe_solve(built - solving);
            latency.record(Stage::Schedule, tick.released, built);
            let Some(decided) = decided else {
                continue;
            };
            // Every tick whose ramps were relaxed is a decision (`Emitter::offer`), so
            // this counts them all.
            if decided.schedule.ramps_relaxed {
                metrics.ramps_relaxed.inc();
            }
            log_decision(tick.ts, decided.seq, decided.trigger, &decided.schedule);
            gauges.observe(&decided.schedule);
            let out = DecisionOut {
                decided,
                arrived: tick.arrived,
                built,
            };
            if tx.send(out).await.is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// A probe of one edge's depth that does not keep the channel open.
type Depth = Box<dyn Fn() -> Option<usize> + Send>;

fn depth<T: Send + 'static>(rx: &Receiver<T>) -> Depth {
    let weak = rx.downgrade();
    Box::new(move || weak.upgrade().map(|rx| rx.len()))
}

/// Publishes every edge's depth, and in a live run the watermark's lag behind the wall
/// clock, twice a second; ends with the run. The lag is sampled here rather than when
/// events arrive so that it grows while telemetry has stopped, which is when it matters.
fn sample_gauges(
    metrics: Metrics,
    edges: Vec<(&'static str, Depth)>,
    watermark: Option<Arc<AtomicI64>>,
) -> JoinHandle<()> {
    let gauges: Vec<_> = edges
        .iter()
        .map(|(name, _)| metrics.channel_depth.with_label_values(&[name]))
        .collect();
    tokio::spawn(async move {
        loop {
            for ((_, probe), gauge) in edges.iter().zip(&gauges) {
                gauge.set(probe().unwrap_or(0) as i64);
            }
            let moved = watermark.as_ref().map(|w| w.load(Ordering::Relaxed));
            if let Some(micros) = moved.filter(|&m| m != i64::MIN) {
                let lag = Timestamp::now().micros_since(Timestamp::from_micros(micros));
                metrics.watermark_lag.set(lag as f64 / 1e6);
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    })
}

/// The first decision and every state change at info, the rest at debug: an operator
/// sees the grid's story in the log without one line a second.
fn log_decision(ts: Timestamp, seq: u64, trigger: Trigger, schedule: &crate::schedule::Schedule) {
    let b = &schedule.balance;
    let state = schedule.state.as_str();
    macro_rules! decision {
        ($level:ident) => {
            tracing::$level!(
                %ts, seq, state, trigger = trigger.as_str(),
                generation_mw = b.generation_mw.round(),
                served_mw = b.domestic_served_mw.round(),
                unserved_mw = b.unserved_mw.round(),
                exports_mw = b.exports_mw.round(),
                "decision"
            )
        };
    }
    match trigger {
        Trigger::Initial | Trigger::StateChange => decision!(info),
        Trigger::Change | Trigger::Heartbeat => decision!(debug),
    }
}
