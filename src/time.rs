//! Event time: a UTC instant in microseconds, parsed from and written as RFC 3339.
//!
//! Everything that orders or paces the grid (watermarks, ticks, ramps, hysteresis,
//! contract windows, rule curves) reads this type, never the wall clock, so that a
//! replay sees exactly what the live run saw.

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use std::fmt;
use std::time::Duration;

/// Microseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_micros(micros: i64) -> Self {
        Timestamp(micros)
    }

    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 (any offset; converted to UTC). `None` when it does not parse
    /// or lies outside the range a microsecond `i64` can hold.
    pub fn parse(text: &str) -> Option<Self> {
        let parsed = DateTime::parse_from_rfc3339(text).ok()?;
        Some(Timestamp(parsed.timestamp_micros()))
    }

    /// The wall clock, used only to reject events from too far in the future.
    pub fn now() -> Self {
        Timestamp(Utc::now().timestamp_micros())
    }

    fn datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.0).unwrap_or_default()
    }

    /// Month of the year, 1 = January.
    pub fn month(self) -> u32 {
        self.datetime().month()
    }

    /// (month, day) in UTC, for contract windows.
    pub fn month_day(self) -> (u32, u32) {
        let dt = self.datetime();
        (dt.month(), dt.day())
    }

    /// The first instants of this month and the next, UTC: where a month's rule-curve
    /// level starts and stops applying.
    pub fn month_bounds(self) -> (Self, Self) {
        let dt = self.datetime();
        let (year, month) = (dt.year(), dt.month());
        let next = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        let first = |(year, month): (i32, u32)| {
            chrono::NaiveDate::from_ymd_opt(year, month, 1)
                .and_then(|day| day.and_hms_opt(0, 0, 0))
                .map_or(Timestamp(i64::MAX), |t| {
                    Timestamp(t.and_utc().timestamp_micros())
                })
        };
        (first((year, month)), first(next))
    }

    pub fn saturating_add(self, span: Duration) -> Self {
        Timestamp(self.0.saturating_add(micros(span)))
    }

    pub fn saturating_sub(self, span: Duration) -> Self {
        Timestamp(self.0.saturating_sub(micros(span)))
    }

    /// Microseconds from `earlier` to `self` (negative when `earlier` is later).
    pub fn micros_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The first multiple of `interval` (counted from the epoch) strictly after `self`.
    pub fn next_boundary(self, interval: Duration) -> Self {
        let step = micros(interval).max(1);
        Timestamp((self.0.div_euclid(step) + 1).saturating_mul(step))
    }
}

/// A duration in whole microseconds, saturating.
pub fn micros(span: Duration) -> i64 {
    i64::try_from(span.as_micros()).unwrap_or(i64::MAX)
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with a `Z`, with only as many fractional digits as needed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.datetime().to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// RFC 3339 text, as decision lines carry it; anything else is an error naming it.
impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Timestamp::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("ts {text:?} is not an RFC 3339 time")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offsets_into_utc_and_prints_minimal_fraction() {
        let ts = Timestamp::parse("2027-01-15T05:00:00+05:00").unwrap();
        assert_eq!(ts.to_string(), "2027-01-15T00:00:00Z");
        let ts = Timestamp::parse("2027-01-15T00:00:00.250Z").unwrap();
        assert_eq!(ts.to_string(), "2027-01-15T00:00:00.250Z");
        assert_eq!(ts.month_day(), (1, 15));
    }

    #[test]
    fn rejects_what_is_not_rfc3339() {
        for bad in [
            "",
            "yesterday",
            "2027-01-15 00:00:00",
            "2027-13-01T00:00:00Z",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn next_boundary_is_strictly_after() {
        let s = Duration::from_secs(1);
        let ts = Timestamp::from_micros(5_000_000);
        assert_eq!(ts.next_boundary(s).as_micros(), 6_000_000);
        assert_eq!(
            Timestamp::from_micros(5_000_001)
                .next_boundary(s)
                .as_micros(),
            6_000_000
        );
        assert_eq!(Timestamp::from_micros(-1).next_boundary(s).as_micros(), 0);
    }
}
