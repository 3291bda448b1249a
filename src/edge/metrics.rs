//! The edges' families: how many messages wait on each, and how long its producers
//! waited while it was full. An edge's series appear when the pipeline resolves them
//! for the edges the run has, so a run without an event log shows no `log` edge.

use crate::metrics::{Label, Metrics};
use prometheus::{Counter, CounterVec, IntGauge, IntGaugeVec, Opts};

/// The `edge` label: the pipeline's edges, in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeName {
    Lines,
    Events,
    Ticks,
    Decisions,
    DeadLetters,
    /// Accepted events on their way to the event log.
    Log,
}

impl Label for EdgeName {
    const NAME: &'static str = "edge";

    fn all() -> impl Iterator<Item = Self> {
        use EdgeName::*;
        [Lines, Events, Ticks, Decisions, DeadLetters, Log].into_iter()
    }

    fn value(self) -> &'static str {
        match self {
            EdgeName::Lines => "lines",
            EdgeName::Events => "events",
            EdgeName::Ticks => "ticks",
            EdgeName::Decisions => "decisions",
            EdgeName::DeadLetters => "dead_letters",
            EdgeName::Log => "log",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Clone)]
pub struct EdgeMetrics {
    depth: IntGaugeVec,
    blocked: CounterVec,
}

impl EdgeMetrics {
    pub fn register(metrics: &Metrics) -> Self {
        EdgeMetrics {
            depth: metrics.register(IntGaugeVec::new(
                Opts::new(
                    "vakhsh_channel_depth",
                    "Messages waiting on each pipeline edge (batches on batched edges).",
                ),
                &[EdgeName::NAME],
            )),
            blocked: metrics.register(CounterVec::new(
                Opts::new(
                    "vakhsh_channel_send_blocked_seconds_total",
                    "Seconds producers waited to send on each pipeline edge while it was full.",
                ),
                &[EdgeName::NAME],
            )),
        }
    }

    /// Messages waiting on `edge` (batches on the batched edges), as last sampled.
    pub fn depth(&self, edge: EdgeName) -> IntGauge {
        self.depth.with_label_values(&[edge.value()])
    }

    /// Seconds producers waited on `edge` while it was full; see [`super::Edge`].
    pub fn blocked(&self, edge: EdgeName) -> Counter {
        self.blocked.with_label_values(&[edge.value()])
    }
}
