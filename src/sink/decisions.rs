//! Decision lines to every configured output. As each one is handed over, the sink
//! records its own stage latency (decision built → written) and the pipeline's end to
//! end (ingest → decision), and, in a replay, adds the decision to the run's totals. It
//! writes each decision's line itself, off the scheduler stage's path, and what is
//! queued in one write, off the async threads: a line to the decision file is written
//! whole or retried until it is (see [`super::retry`]). Each decision written is
//! counted by its trigger.

use super::retry::RetriedFile;
use crate::decision::Trigger;
use crate::edge::message::DecisionOut;
use crate::grid::Grid;
use crate::latency::{Recorder, Stage};
use crate::metrics::{ByLabel, Label, Metrics};
use crate::status::DaemonStatus;
use crate::totals::Totals;
use async_channel::Receiver;
use prometheus::IntCounter;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

/// The `trigger` label.
impl Label for Trigger {
    const NAME: &'static str = "trigger";

    fn all() -> impl Iterator<Item = Self> {
        Trigger::ALL.into_iter()
    }

    fn value(self) -> &'static str {
        self.as_str()
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Decisions written, by what triggered them.
#[derive(Clone)]
pub struct DecisionCounters(ByLabel<Trigger, IntCounter>);

impl DecisionCounters {
    pub fn register(metrics: &Metrics) -> Self {
        DecisionCounters(ByLabel::counters(
            metrics,
            "vakhsh_decisions_total",
            "Decisions emitted, by what triggered them.",
        ))
    }

    pub fn of(&self, trigger: Trigger) -> &IntCounter {
        self.0.get(trigger)
    }
}

/// What the sink wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub decisions: u64,
    /// Energy and time totals, when the run asked for them.
    pub totals: Option<Totals>,
}

/// Where decision lines go.
pub struct DecisionOutputs {
    pub file: Option<RetriedFile>,
    pub stdout: bool,
}

/// Writes every decision; `latency` measures [`Stage::Sink`] and
/// [`Stage::IngestToDecision`].
pub async fn run(
    rx: Receiver<DecisionOut>,
    mut outputs: DecisionOutputs,
    grid: Arc<Grid>,
    mut latency: Recorder,
    counters: DecisionCounters,
    status: Arc<DaemonStatus>,
    with_totals: bool,
) -> std::io::Result<Written> {
    let mut written = Written {
        decisions: 0,
        totals: with_totals.then(Totals::default),
    };
    // Reused from batch to batch: the decisions taken together, and their lines.
    let (mut batch, mut lines) = (Vec::<DecisionOut>::new(), Vec::new());
    while let Ok(first) = latency.wait(rx.recv()).await {
        batch.clear();
        batch.extend(std::iter::once(first).chain(super::queued(&rx)));
        lines.clear();
        let mut last = 0;
        for decision in &batch {
            let line = decision.decided.line(&grid);
            last = lines.len();
            line.write_json(&mut lines);
            if let Some(totals) = written.totals.as_mut() {
                totals.add(&line);
            }
        }
        (outputs, lines) = write(outputs, lines).await?;
        let now = Instant::now();
        for decision in &batch {
            latency.record(Stage::Sink, decision.built, now);
            latency.record(Stage::IngestToDecision, decision.arrived, now);
            counters.of(decision.decided.trigger).inc();
        }
        status.publish(&lines[last..]);
        written.decisions += batch.len() as u64;
    }
    Ok(written)
}

/// Writes `lines` to every output off the async threads; gives both back for reuse.
async fn write(
    mut outputs: DecisionOutputs,
    lines: Vec<u8>,
) -> std::io::Result<(DecisionOutputs, Vec<u8>)> {
    tokio::task::spawn_blocking(move || {
        if let Some(file) = outputs.file.as_mut() {
            file.append(&lines)?;
        }
        if outputs.stdout {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&lines)?;
            stdout.flush()?;
        }
        Ok((outputs, lines))
    })
    .await?
}
