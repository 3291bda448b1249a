//! Why an event was refused: a closed set, named on the dead-letter file and as the
//! `reason` label of `vakhsh_events_rejected_total`.

use crate::metrics::Label;
use serde::Serialize;

/// A closed set: each is a label value of `vakhsh_events_rejected_total{reason}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RejectReason {
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

impl RejectReason {
    pub const ALL: [RejectReason; 9] = [
        RejectReason::Malformed,
        RejectReason::TooLarge,
        RejectReason::UnknownType,
        RejectReason::UnknownId,
        RejectReason::BadTimestamp,
        RejectReason::InvalidValue,
        RejectReason::AboveCapacity,
        RejectReason::Late,
        RejectReason::TooFarAhead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::Malformed => "malformed",
            RejectReason::TooLarge => "too_large",
            RejectReason::UnknownType => "unknown_type",
            RejectReason::UnknownId => "unknown_id",
            RejectReason::BadTimestamp => "bad_timestamp",
            RejectReason::InvalidValue => "invalid_value",
            RejectReason::AboveCapacity => "above_capacity",
            RejectReason::Late => "late",
            RejectReason::TooFarAhead => "too_far_ahead",
        }
    }
}

impl Label for RejectReason {
    const NAME: &'static str = "reason";

    fn all() -> impl Iterator<Item = Self> {
        RejectReason::ALL.into_iter()
    }

    fn value(self) -> &'static str {
        self.as_str()
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl Serialize for RejectReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
