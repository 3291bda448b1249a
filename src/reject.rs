//! Why an event was refused, the refusal itself, and the record of it kept in the
//! dead-letter file; [`counters`] counts every event's outcome.

pub mod counters;

use crate::event::EventType;
use crate::metrics::Label;
use counters::EventCounters;
use serde::Serialize;
use std::sync::Arc;

/// A closed set: each is a label value of `vakhsh_events_rejected_total{reason}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// Not a JSON object of the expected shape: bad JSON, bad UTF-8, a missing field or
    /// a field of the wrong type.
    Malformed,
    /// Longer than the line limit.
    TooLarge,
    UnknownType,
    /// A plant, load, site, line or contract that the configuration does not have.
    UnknownId,
    BadTimestamp,
    /// A non-finite or negative MW figure.
    InvalidValue,
    AboveCapacity,
    /// Older than the watermark.
    Late,
    /// Further beyond the wall clock than `time.max_ahead`.
    TooFarAhead,
}

impl Reason {
    pub const ALL: [Reason; 9] = [
        Reason::Malformed,
        Reason::TooLarge,
        Reason::UnknownType,
        Reason::UnknownId,
        Reason::BadTimestamp,
        Reason::InvalidValue,
        Reason::AboveCapacity,
        Reason::Late,
        Reason::TooFarAhead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Malformed => "malformed",
            Reason::TooLarge => "too_large",
            Reason::UnknownType => "unknown_type",
            Reason::UnknownId => "unknown_id",
            Reason::BadTimestamp => "bad_timestamp",
            Reason::InvalidValue => "invalid_value",
            Reason::AboveCapacity => "above_capacity",
            Reason::Late => "late",
            Reason::TooFarAhead => "too_far_ahead",
        }
    }
}

impl Label for Reason {
    const NAME: &'static str = "reason";

    fn all() -> impl Iterator<Item = Self> {
        Reason::ALL.into_iter()
    }

    fn value(self) -> &'static str {
        self.as_str()
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One refused line as written to the dead-letter file.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter {
    pub reason: Reason,
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
    pub reason: Reason,
    pub detail: String,
    pub origin: Arc<str>,
    pub raw: String,
}

impl Rejection {
    /// Counts the refusal by type and reason, and gives the dead letter that records it.
    /// A refusal is not logged: the dead-letter file has each one, and a flood of bad
    /// lines would otherwise flood the log too.
    pub fn letter(self, counters: &EventCounters) -> DeadLetter {
        counters.of(self.event_type).rejected(self.reason).inc();
        DeadLetter {
            reason: self.reason,
            detail: self.detail,
            origin: self.origin,
            raw: self.raw,
        }
    }
}
