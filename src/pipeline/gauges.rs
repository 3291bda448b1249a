//! Gauges sampled rather than set: each edge's depth, and in a live run the
//! watermark's lag behind the wall clock (`vakhsh_watermark_lag_seconds`, defined
//! here).

use super::StageMetrics;
use crate::edge::metrics::EdgeName;
use crate::metrics::Metrics;
use crate::time::Timestamp;
use async_channel::Receiver;
use prometheus::Gauge;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use tokio::task::JoinHandle;

/// A probe of one edge's depth that does not keep the channel open.
pub type Depth = Box<dyn Fn() -> Option<usize> + Send>;

pub fn depth<T: Send + 'static>(rx: &Receiver<T>) -> Depth {
    let weak = rx.downgrade();
    Box::new(move || weak.upgrade().map(|rx| rx.len()))
}

/// The lag's gauge, which [`sample`] sets in a live run.
pub fn register_watermark_lag(metrics: &Metrics) -> Gauge {
    metrics.register(Gauge::new(
        "vakhsh_watermark_lag_seconds",
        "Wall clock minus the watermark (newest event time minus the allowed lateness), live runs.",
    ))
}

/// Publishes every edge's depth, and in a live run the watermark's lag behind the wall
/// clock, twice a second; ends with the run. The lag is sampled here rather than when
/// events arrive so that it grows while telemetry has stopped, which is when it matters.
pub fn sample(
    metrics: StageMetrics,
    edges: Vec<(EdgeName, Depth)>,
    watermark: Option<Arc<AtomicI64>>,
) -> JoinHandle<()> {
    let gauges: Vec<_> = edges
        .iter()
        .map(|&(name, _)| metrics.edges.depth(name))
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
