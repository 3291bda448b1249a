//! The handles of every family the pipeline's stages record into. Each family is
//! defined and registered by the module that owns what it measures; this gathers them
//! once per run, before `/metrics` is first served, so every family shows from the
//! start.

use super::gauges;
use super::schedule::SchedulerMetrics;
use crate::edge::metrics::EdgeMetrics;
use crate::event::counters::EventCounters;
use crate::latency::{Recorder, Stage};
use crate::listener::AuthFailures;
use crate::log::writer::SyncedGauge;
use crate::metrics::Metrics;
use crate::sink::decisions::DecisionCounters;
use crate::sink::retry::OutputMetrics;
use prometheus::Gauge;

#[derive(Clone)]
pub struct StageMetrics {
    /// The run's registry, and whether stage latencies are measured.
    metrics: Metrics,
    pub events: EventCounters,
    pub edges: EdgeMetrics,
    pub outputs: OutputMetrics,
    pub decisions: DecisionCounters,
    /// Counted by the TCP source and by the HTTP endpoint beside the pipeline.
    pub auth_failures: AuthFailures,
    pub scheduler: SchedulerMetrics,
    pub watermark_lag: Gauge,
    pub log_synced: SyncedGauge,
}

impl StageMetrics {
    /// Registers every family of the pipeline on `metrics`; once per run.
    pub fn register(metrics: &Metrics) -> Self {
        StageMetrics {
            metrics: metrics.clone(),
            events: EventCounters::register(metrics),
            edges: EdgeMetrics::register(metrics),
            outputs: OutputMetrics::register(metrics),
            decisions: DecisionCounters::register(metrics),
            auth_failures: AuthFailures::register(metrics),
            scheduler: SchedulerMetrics::register(metrics),
            watermark_lag: gauges::register_watermark_lag(metrics),
            log_synced: SyncedGauge::register(metrics),
        }
    }

    /// A recorder for a stage task that measures `stages`; see [`Metrics::recorder`].
    pub fn recorder(&self, stages: &[Stage]) -> Recorder {
        self.metrics.recorder(stages)
    }
}
