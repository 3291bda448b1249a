//! What became of the events, by type: received, accepted, duplicate, and rejected by
//! reason. The decode stage counts them received, the ingest stage accepted or
//! duplicate, and either stage rejected ([`super::reject::Rejection`]); a replay's summary adds
//! them up.

use super::RejectReason;
use crate::event::EventType;
use crate::metrics::{ByLabel, Label, Metrics};
use prometheus::{IntCounter, IntCounterVec, Opts};

/// The `type` label: an event type, or `unknown` (`None`) for lines that never got as
/// far as having a known one.
impl Label for Option<EventType> {
    const NAME: &'static str = "type";

    fn all() -> impl Iterator<Item = Self> {
        EventType::ALL.map(Some).into_iter().chain([None])
    }

    fn value(self) -> &'static str {
        self.map_or("unknown", EventType::as_str)
    }

    fn index(self) -> usize {
        self.map_or(EventType::ALL.len(), EventType::position)
    }
}

/// Counters for one event type.
#[derive(Clone)]
pub struct TypeCounters {
    pub received: IntCounter,
    pub accepted: IntCounter,
    pub duplicate: IntCounter,
    rejected: ByLabel<RejectReason, IntCounter>,
}

impl TypeCounters {
    pub fn rejected(&self, reason: RejectReason) -> &IntCounter {
        self.rejected.get(reason)
    }
}

#[derive(Clone)]
pub struct EventCounters {
    by_type: ByLabel<Option<EventType>, TypeCounters>,
}

impl EventCounters {
    pub fn register(metrics: &Metrics) -> Self {
        let family = |name: &str, help: &str, labels: &[&str]| {
            metrics.register(IntCounterVec::new(Opts::new(name, help), labels))
        };
        let by_type = [Option::<EventType>::NAME];
        let received = family(
            "vakhsh_events_received_total",
            "Event lines received, by event type.",
            &by_type,
        );
        let accepted = family(
            "vakhsh_events_accepted_total",
            "Events accepted into the grid state, by type.",
            &by_type,
        );
        let duplicate = family(
            "vakhsh_events_duplicate_total",
            "Events dropped because their (source, seq) was already accepted, by type.",
            &by_type,
        );
        let rejected = family(
            "vakhsh_events_rejected_total",
            "Events rejected and written to the dead-letter file, by type and reason.",
            &[Option::<EventType>::NAME, RejectReason::NAME],
        );
        EventCounters {
            by_type: ByLabel::new(|event_type: Option<EventType>| {
                let one = [event_type.value()];
                TypeCounters {
                    received: received.with_label_values(&one),
                    accepted: accepted.with_label_values(&one),
                    duplicate: duplicate.with_label_values(&one),
                    rejected: ByLabel::new(|reason: RejectReason| {
                        rejected.with_label_values(&[event_type.value(), reason.value()])
                    }),
                }
            }),
        }
    }

    /// The counters of `event_type`, or of `unknown` for lines without one.
    pub fn of(&self, event_type: Option<EventType>) -> &TypeCounters {
        self.by_type.get(event_type)
    }

    /// Lines received, of every type.
    pub fn received(&self) -> u64 {
        self.by_type.iter().map(|c| c.received.get()).sum()
    }

    /// Every type's counters.
    pub fn iter(&self) -> impl Iterator<Item = &TypeCounters> {
        self.by_type.iter()
    }
}
