//! Prometheus metrics: one registry per run, with its text encoding for `/metrics`.
//!
//! Each family is defined and registered by the module that owns what it measures
//! (the pipeline's are gathered in [`crate::pipeline::StageMetrics`]); label values
//! that form a closed set are an enum ([`Label`]) whose handles are resolved once, so
//! the hot path only bumps atomics. This module knows none of them: it holds the
//! registry, the process's own families, and whether the run measures more than the
//! counters. Names, types and meanings are listed in `docs/metrics.md`.

mod label;

pub use label::{ByLabel, Label};

use crate::latency::collector::LatencyCollector;
use crate::latency::{Latency, Recorder, Stage};
use prometheus::core::Collector;
use prometheus::{Encoder, GaugeVec, Opts, Registry, TextEncoder};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Stage latencies; `None` when only the counters are kept, and then no solve
    /// time or grid gauge is measured either.
    latency: Option<Latency>,
}

impl Metrics {
    /// Every metric, stage latencies included.
    pub fn new() -> Self {
        Self::build(Some(Latency::new()))
    }

    /// The event, tick and decision counters alone, which a replay's summary is made
    /// of: no latency, solve time or grid gauge is measured (`replay --no-metrics`).
    pub fn counters_only() -> Self {
        Self::build(None)
    }

    fn build(latency: Option<Latency>) -> Self {
        let metrics = Metrics {
            registry: Registry::new(),
            latency,
        };
        if let Some(latency) = &metrics.latency {
            metrics
                .registry
                .register(Box::new(LatencyCollector::new(latency.clone())))
                .expect("metric registered once");
        }
        // Memory, CPU, open files of this process, as process_* (Linux).
        #[cfg(target_os = "linux")]
        metrics
            .registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("metric registered once");
        let build = metrics.register(GaugeVec::new(
            Opts::new(
                "vakhsh_build_info",
                "Always 1; the labels name the running build.",
            ),
            &["version"],
        ));
        build
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1.0);
        metrics
    }

    /// Registers a family made by its owner and gives it back. Each family is
    /// registered once per run; a second registration is a bug.
    pub fn register<M: Collector + Clone + 'static>(&self, family: prometheus::Result<M>) -> M {
        let family = family.expect("valid metric");
        self.registry
            .register(Box::new(family.clone()))
            .expect("metric registered once");
        family
    }

    /// False when only counters are kept: nothing else is measured then.
    pub fn measures(&self) -> bool {
        self.latency.is_some()
    }

    /// The stage latencies, unless only counters are kept.
    pub fn latency(&self) -> Option<&Latency> {
        self.latency.as_ref()
    }

    /// A recorder for a stage task that measures `stages`; one that measures nothing
    /// when only counters are kept.
    pub fn recorder(&self, stages: &[Stage]) -> Recorder {
        self.latency
            .as_ref()
            .map_or_else(Recorder::off, |l| l.recorder(stages))
    }

    /// The registry in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding cannot fail");
        String::from_utf8(out).expect("text encoding is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
