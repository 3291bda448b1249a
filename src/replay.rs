//! `vakhsh replay`: recorded events through the same pipeline, deterministically.
//!
//! A replay never reads the wall clock, so the same events and configuration always
//! give the same decision file, byte for byte.

use crate::config::Config;
use crate::event::EventType;
use crate::metrics::Metrics;
use crate::pipeline::{self, Inputs, Outputs, Plan, Status};
use crate::reject::Reason;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

pub struct Request {
    pub logs: Vec<PathBuf>,
    /// Decision file; stdout when absent.
    pub out: Option<PathBuf>,
    pub dead_letter: Option<PathBuf>,
}

/// Counts of a finished replay.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub received: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: Vec<(Reason, u64)>,
    pub decisions: u64,
    pub seconds: f64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rejected: u64 = self.rejected.iter().map(|(_, n)| n).sum();
        writeln!(
            f,
            "events: {} received, {} accepted, {} rejected, {} duplicates",
            self.received, self.accepted, rejected, self.duplicates
        )?;
        for (reason, n) in &self.rejected {
            writeln!(f, "  rejected {}: {n}", reason.as_str())?;
        }
        writeln!(f, "decisions: {}", self.decisions)?;
        let rate = self.received as f64 / self.seconds.max(1e-9);
        write!(f, "time: {:.3} s ({:.0} events/s)", self.seconds, rate)
    }
}

pub async fn run(
    config: Config,
    request: Request,
    shutdown: CancellationToken,
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let metrics = Metrics::new();
    let plan = Plan {
        grid: Arc::new(config.grid),
        inputs: Inputs {
            files: request.logs,
            ..Inputs::default()
        },
        outputs: Outputs {
            stdout: request.out.is_none(),
            decisions: request.out,
            truncate: true,
            dead_letter: request.dead_letter,
        },
        settings: config.daemon.pipeline,
        live: false,
        log: None,
    };
    let running =
        pipeline::start(plan, metrics.clone(), Arc::new(Status::default()), shutdown).await?;
    let report = running.finish().await?;
    let mut summary = Summary {
        decisions: report.decisions,
        seconds: started.elapsed().as_secs_f64(),
        ..Summary::default()
    };
    let types = EventType::ALL.map(Some).into_iter().chain([None]);
    let mut rejected = [0u64; Reason::ALL.len()];
    for event_type in types {
        let counters = metrics.events(event_type);
        summary.received += counters.received.get();
        summary.accepted += counters.accepted.get();
        summary.duplicates += counters.duplicate.get();
        for reason in Reason::ALL {
            rejected[reason as usize] += counters.rejected(reason).get();
        }
    }
    summary.rejected = Reason::ALL
        .into_iter()
        .zip(rejected)
        .filter(|(_, n)| *n > 0)
        .collect();
    Ok(summary)
}
