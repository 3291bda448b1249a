//! Decision lines to every configured output, with the ingest → decision latency
//! observed as each one is handed over: on the Prometheus histogram, and on the
//! sink's own HdrHistogram for exact percentiles in summaries.

use crate::metrics::Metrics;
use crate::pipeline::{DecisionOut, Status};
use crate::totals::{Figures, Totals};
use async_channel::Receiver;
use hdrhistogram::Histogram;
use std::io::Write;
use std::sync::Arc;

/// What the sink wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub decisions: u64,
    /// Ingest → decision latency in microseconds.
    pub latency: Histogram<u64>,
    /// Energy and time totals, when the run asked for them.
    pub totals: Option<Totals>,
}

pub async fn run(
    rx: Receiver<DecisionOut>,
    mut outputs: Vec<Box<dyn Write + Send>>,
    metrics: Metrics,
    status: Arc<Status>,
    with_totals: bool,
) -> std::io::Result<Written> {
    let latency = Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds");
    let mut written = Written {
        decisions: 0,
        latency,
        totals: with_totals.then(Totals::default),
    };
    while let Ok(decision) = rx.recv().await {
        for out in &mut outputs {
            out.write_all(&decision.line)?;
        }
        if rx.is_empty() {
            for out in &mut outputs {
                out.flush()?;
            }
        }
        let elapsed = decision.arrived.elapsed();
        metrics.ingest_to_decision.observe(elapsed.as_secs_f64());
        written
            .latency
            .saturating_record(elapsed.as_micros().max(1) as u64);
        metrics.decision(decision.trigger).inc();
        if let Some(totals) = written.totals.as_mut()
            && let Ok(figures) = Figures::parse(&decision.line)
        {
            totals.add(figures);
        }
        status.publish(&decision.line);
        written.decisions += 1;
    }
    for out in &mut outputs {
        out.flush()?;
    }
    Ok(written)
}
