//! Why an event was refused, and the record of it kept in the dead-letter file.

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
