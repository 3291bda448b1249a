//! Decision lines to every configured output. As each one is handed over, the sink
//! records its own stage latency (decision built → written) and the pipeline's end to
//! end (ingest → decision), and, in a replay, adds the decision to the run's totals. It
//! writes each decision's line itself, off the scheduler stage's path.

use crate::grid::Grid;
use crate::latency::Stage;
use crate::metrics::Metrics;
use crate::pipeline::{DecisionOut, Status};
use crate::totals::Totals;
use async_channel::Receiver;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

/// What the sink wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub decisions: u64,
    /// Energy and time totals, when the run asked for them.
    pub totals: Option<Totals>,
}

pub async fn run(
    rx: Receiver<DecisionOut>,
    mut outputs: Vec<Box<dyn Write + Send>>,
    grid: Arc<Grid>,
    metrics: Metrics,
    status: Arc<Status>,
    with_totals: bool,
) -> std::io::Result<Written> {
    let mut written = Written {
        decisions: 0,
        totals: with_totals.then(Totals::default),
    };
    let mut latency = metrics.recorder(&[Stage::Sink, Stage::IngestToDecision]);
    while let Ok(decision) = latency.wait(rx.recv()).await {
        let wire = decision.decided.wire(&grid);
        let line = wire.line();
        for out in &mut outputs {
            out.write_all(&line)?;
        }
        if rx.is_empty() {
            for out in &mut outputs {
                out.flush()?;
            }
        }
        let now = Instant::now();
        latency.record(Stage::Sink, decision.built, now);
        latency.record(Stage::IngestToDecision, decision.arrived, now);
        metrics.decision(decision.decided.trigger).inc();
        if let Some(totals) = written.totals.as_mut() {
            totals.add(wire.figures());
        }
        status.publish(&line);
        written.decisions += 1;
    }
    for out in &mut outputs {
        out.flush()?;
    }
    Ok(written)
}
