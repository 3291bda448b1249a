//! Decision lines to every configured output, with the ingest → decision latency
//! observed as each one is handed over.

use crate::metrics::Metrics;
use crate::pipeline::{DecisionOut, Status};
use async_channel::Receiver;
use std::io::Write;
use std::sync::Arc;

pub async fn run(
    rx: Receiver<DecisionOut>,
    mut outputs: Vec<Box<dyn Write + Send>>,
    metrics: Metrics,
    status: Arc<Status>,
) -> std::io::Result<u64> {
    let mut written = 0;
    while let Ok(decision) = rx.recv().await {
        for out in &mut outputs {
            out.write_all(&decision.line)?;
        }
        if rx.is_empty() {
            for out in &mut outputs {
                out.flush()?;
            }
        }
        metrics
            .ingest_to_decision
            .observe(decision.arrived.elapsed().as_secs_f64());
        metrics.decision(decision.trigger).inc();
        status.publish(&decision.line);
        written += 1;
    }
    for out in &mut outputs {
        out.flush()?;
    }
    Ok(written)
}
