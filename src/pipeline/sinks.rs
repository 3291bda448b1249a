//! The sinks' wiring: the output files opened, as the run's kind asks, and the
//! dead-letter and decision sinks started on their edges.

use super::{Outputs, Plan, StageMetrics};
use crate::edge::message::DecisionOut;
use crate::event::reject::DeadLetter;
use crate::grid::Grid;
use crate::latency::Stage;
use crate::sink;
use crate::sink::decisions::{DecisionOutputs, Written};
use crate::sink::retry::{RetriedFile, Retry};
use crate::status::{DaemonStatus, OutputFile};
use async_channel::Receiver;
use std::path::Path;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// The output files, open.
pub struct OpenOutputs {
    dead_letter: Option<RetriedFile>,
    decisions: DecisionOutputs,
    grid: Arc<Grid>,
    /// The daemon holds ingest back while a file cannot be written; a replay fails.
    live: bool,
}

impl OpenOutputs {
    /// Opens the dead-letter file, first of all, so that a path that cannot be written
    /// stops the start before the event log is touched.
    pub fn open(
        plan: &Plan,
        metrics: &StageMetrics,
        status: &Arc<DaemonStatus>,
    ) -> std::io::Result<Self> {
        let mut opened = OpenOutputs {
            dead_letter: None,
            decisions: DecisionOutputs {
                file: None,
                stdout: plan.outputs.stdout,
            },
            grid: plan.grid.clone(),
            live: plan.timing.live,
        };
        opened.dead_letter = plan
            .outputs
            .dead_letter
            .as_deref()
            .map(|path| opened.retried(OutputFile::DeadLetter, path, false, metrics, status))
            .transpose()?;
        Ok(opened)
    }

    /// Opens the decision file: after recovery, which rewrites it from the log (new
    /// decisions append to it); a replay without a log starts it afresh.
    pub fn open_decisions(
        &mut self,
        outputs: &Outputs,
        recovered: bool,
        metrics: &StageMetrics,
        status: &Arc<DaemonStatus>,
    ) -> std::io::Result<()> {
        let truncate = outputs.truncate && !recovered;
        self.decisions.file = outputs
            .decisions
            .as_deref()
            .map(|path| self.retried(OutputFile::Decisions, path, truncate, metrics, status))
            .transpose()?;
        Ok(())
    }

    fn retried(
        &self,
        file: OutputFile,
        path: &Path,
        truncate: bool,
        metrics: &StageMetrics,
        status: &Arc<DaemonStatus>,
    ) -> std::io::Result<RetriedFile> {
        let retry = self
            .live
            .then(|| Retry::new(file, path, &metrics.outputs, status.clone()));
        RetriedFile::open(path, truncate, retry)
    }

    /// Starts both sinks; the decision sink's task gives what it wrote.
    pub fn spawn(
        self,
        dead: Receiver<DeadLetter>,
        decisions: Receiver<DecisionOut>,
        metrics: StageMetrics,
        status: Arc<DaemonStatus>,
    ) -> (
        JoinHandle<anyhow::Result<()>>,
        JoinHandle<std::io::Result<Written>>,
    ) {
        let dead_letter = self.dead_letter;
        let dead_letters =
            tokio::spawn(async move { Ok(sink::dead_letter::run(dead, dead_letter).await?) });
        let decisions = tokio::spawn(sink::decisions::run(
            decisions,
            self.decisions,
            self.grid,
            metrics.recorder(&[Stage::Sink, Stage::IngestToDecision]),
            metrics.decisions,
            status,
            // Replays total their decisions; a live run has no end to total up to.
            !self.live,
        ));
        (dead_letters, decisions)
    }
}
