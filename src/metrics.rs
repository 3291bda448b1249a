//! Prometheus metrics: one registry built at start-up, with every labelled handle
//! resolved once so the hot path only bumps atomics.
//!
//! Names, types and meanings are listed in the README; all use base units and the
//! `vakhsh_` prefix.

use crate::decision::Trigger;
use crate::event::EventType;
use crate::reject::Reason;
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// `type` label for lines that never got as far as having a known type.
pub const UNKNOWN_TYPE: &str = "unknown";

/// Counters for one event type.
#[derive(Clone)]
pub struct TypeCounters {
    pub received: IntCounter,
    pub accepted: IntCounter,
    pub duplicate: IntCounter,
    rejected: Vec<IntCounter>,
}

impl TypeCounters {
    pub fn rejected(&self, reason: Reason) -> &IntCounter {
        &self.rejected[reason as usize]
    }
}

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    by_type: Vec<TypeCounters>,
    unknown: TypeCounters,
    decisions: Vec<IntCounter>,
    pub ticks: IntCounter,
    /// The ingest sequence up to which the event log is on stable storage.
    pub log_synced: IntGauge,
    /// Wall time from the arrival of the event that let a tick be evaluated to the
    /// decision being handed to the sinks.
    pub ingest_to_decision: Histogram,
}

/// Latency buckets from 10 µs to 10 s: the pipeline's own work is microseconds, a
/// blocked sink or an overloaded host is seconds.
const LATENCY_BUCKETS: [f64; 19] = [
    1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0,
];

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            let vec = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(vec.clone()))
                .expect("metric registered once");
            vec
        };
        let received = counter_vec(
            "vakhsh_events_received_total",
            "Event lines received, by event type.",
            &["type"],
        );
        let accepted = counter_vec(
            "vakhsh_events_accepted_total",
            "Events accepted into the grid state, by type.",
            &["type"],
        );
        let duplicate = counter_vec(
            "vakhsh_events_duplicate_total",
            "Events dropped because their (source, seq) was already accepted, by type.",
            &["type"],
        );
        let rejected = counter_vec(
            "vakhsh_events_rejected_total",
            "Events rejected and written to the dead-letter file, by type and reason.",
            &["type", "reason"],
        );
        let decisions = counter_vec(
            "vakhsh_decisions_total",
            "Decisions emitted, by what triggered them.",
            &["trigger"],
        );
        let counters = |name: &str| TypeCounters {
            received: received.with_label_values(&[name]),
            accepted: accepted.with_label_values(&[name]),
            duplicate: duplicate.with_label_values(&[name]),
            rejected: Reason::ALL
                .iter()
                .map(|r| rejected.with_label_values(&[name, r.as_str()]))
                .collect(),
        };
        let ticks = IntCounter::new("vakhsh_ticks_total", "Schedule ticks evaluated.")
            .expect("valid metric");
        registry
            .register(Box::new(ticks.clone()))
            .expect("metric registered once");
        let log_synced = IntGauge::new(
            "vakhsh_event_log_synced_sequence",
            "Ingest sequence of the last event the event log has synced to stable storage.",
        )
        .expect("valid metric");
        registry
            .register(Box::new(log_synced.clone()))
            .expect("metric registered once");
        let ingest_to_decision = Histogram::with_opts(
            HistogramOpts::new(
                "vakhsh_ingest_to_decision_seconds",
                "Wall time from the arrival of the event that made a tick due to its decision reaching the sinks.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
        )
        .expect("valid metric");
        registry
            .register(Box::new(ingest_to_decision.clone()))
            .expect("metric registered once");
        Metrics {
            by_type: EventType::ALL
                .iter()
                .map(|t| counters(t.as_str()))
                .collect(),
            unknown: counters(UNKNOWN_TYPE),
            decisions: Trigger::ALL
                .iter()
                .map(|t| decisions.with_label_values(&[t.as_str()]))
                .collect(),
            ticks,
            log_synced,
            ingest_to_decision,
            registry,
        }
    }

    /// The counters of `event_type`, or of `unknown` for lines without one.
    pub fn events(&self, event_type: Option<EventType>) -> &TypeCounters {
        match event_type {
            Some(t) => &self.by_type[t as usize],
            None => &self.unknown,
        }
    }

    pub fn decision(&self, trigger: Trigger) -> &IntCounter {
        &self.decisions[trigger as usize]
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
