//! Decision lines to every configured output. As each one is handed over, the sink
//! records its own stage latency (decision built → written) and the pipeline's end to
//! end (ingest → decision), and, given the grid, adds the decision to the run's totals.

use crate::decision;
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
    metrics: Metrics,
    status: Arc<Status>,
    totals_of: Option<Arc<Grid>>,
) -> std::io::Result<Written> {
    let mut written = Written {
        decisions: 0,
        totals: totals_of.is_some().then(Totals::default),
    };
    let mut latency = metrics.recorder(&[Stage::Sink, Stage::IngestToDecision]);
    while let Ok(decision) = latency.wait(rx.recv()).await {
        for out in &mut outputs {
            out.write_all(&decision.line)?;
        }
        if rx.is_empty() {
            for out in &mut outputs {
                out.flush()?;
            }
        }
        let now = Instant::now();
        latency.record(Stage::Sink, decision.built, now);
        latency.record(Stage::IngestToDecision, decision.arrived, now);
        metrics.decision(decision.trigger).inc();
        if let (Some(totals), Some(grid)) = (written.totals.as_mut(), &totals_of) {
            let d = &decision;
            totals.add(decision::figures(grid, d.ts, d.seq, d.trigger, &d.schedule));
        }
        status.publish(&decision.line);
        written.decisions += 1;
    }
    for out in &mut outputs {
        out.flush()?;
    }
    Ok(written)
}
