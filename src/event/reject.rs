//! An event's refusal, and the record of it kept in the dead-letter file; why it was
//! refused is a [`RejectReason`], and [`super::counters`] counts every event's outcome.

use super::counters::EventCounters;
use super::{EventType, RejectReason};
use serde::Serialize;
use std::sync::Arc;

/// One refused line as written to the dead-letter file.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    pub reason: RejectReason,
    /// What exactly was wrong, for a person.
    pub detail: String,
    /// Which source sent it (`tcp 127.0.0.1:50514`, `file events.jsonl`, …).
    pub origin: Arc<str>,
    /// The line as received (invalid UTF-8 replaced, oversized lines cut).
    pub raw: String,
}

/// An event refused by the stage that judged it: its type, for the counters, and what
/// its [`DeadLetter`] says. Every stage that refuses one makes a `Rejection` and hands
/// over its [`Rejection::letter`], so a refusal is counted the same way wherever it
/// happens.
#[derive(Debug)]
pub struct Rejection {
    /// `None` for a line that never got as far as having a known type.
    pub event_type: Option<EventType>,
    pub reason: RejectReason,
    pub detail: String,
    pub origin: Arc<str>,
    pub raw: String,
}

impl Rejection {
    /// Counts the refusal by type and reason, logs it at debug, and gives the dead
    /// letter that records it. Debug only: the dead-letter file has every refusal, and a
    /// flood of bad lines must not flood an operator's log.
    pub fn letter(self, counters: &EventCounters) -> DeadLetter {
        counters.of(self.event_type).rejected(self.reason).inc();
        tracing::debug!(
            reason = self.reason.as_str(),
            origin = %self.origin,
            detail = %self.detail,
            "event refused"
        );
        DeadLetter {
            reason: self.reason,
            detail: self.detail,
            origin: self.origin,
            raw: self.raw,
        }
    }
}
