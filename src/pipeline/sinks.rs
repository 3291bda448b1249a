//! The sinks' wiring: the output files opened, as the run's kind asks, and the
//! dead-letter and decision sinks started on their edges.

use super::{Plan, StageMetrics};
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
    /// Replays total their decisions; a live run has no end to total up to.
    with_totals: bool,
}

impl OpenOutputs {
    /// The daemon holds ingest back while a file cannot be written; a replay fails. A
    /// recovered decision file is rewritten from the log; new decisions append to it.
    pub fn open(
        plan: &Plan,
        metrics: &StageMetrics,
        status: &Arc<DaemonStatus>,
    ) -> std::io::Result<Self> {
        let retried = |file: OutputFile, path: &Path, truncate: bool| {
            let retry = plan
                .timing
                .live
                .then(|| Retry::new(file, path, &metrics.outputs, status.clone()));
            RetriedFile::open(path, truncate, retry)
        };
        let truncate = plan.outputs.truncate && plan.log.is_none();
        Ok(OpenOutputs {
            dead_letter: plan
                .outputs
                .dead_letter
                .as_deref()
                .map(|path| retried(OutputFile::DeadLetter, path, false))
                .transpose()?,
            decisions: DecisionOutputs {
                file: plan
                    .outputs
                    .decisions
                    .as_deref()
                    .map(|path| retried(OutputFile::Decisions, path, truncate))
                    .transpose()?,
                stdout: plan.outputs.stdout,
            },
            grid: plan.grid.clone(),
            with_totals: !plan.timing.live,
        })
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
            self.with_totals,
        ));
        (dead_letters, decisions)
    }
}
