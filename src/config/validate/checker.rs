//! The checks every section shares: each records its problem against the key's path
//! and still returns a value, so that checking goes on and reports everything.

use crate::config::ConfigError;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

/// Collects errors against key paths while the configuration is checked.
pub(super) struct Checker<'a> {
    pub(super) errors: &'a mut Vec<ConfigError>,
}

impl Checker<'_> {
    pub(super) fn error(&mut self, path: String, value: impl ToString, message: impl Into<String>) {
        self.errors.push(ConfigError {
            path,
            value: Some(value.to_string()),
            message: message.into(),
        });
    }

    pub(super) fn non_negative(&mut self, path: String, value: f64) -> f64 {
        if !(value.is_finite() && value >= 0.0) {
            self.error(path, value, "must be a finite number of at least 0");
        }
        value
    }

    pub(super) fn positive(&mut self, path: String, value: f64) -> f64 {
        if !(value.is_finite() && value > 0.0) {
            self.error(path, value, "must be a finite number above 0");
        }
        value
    }

    pub(super) fn tier(&mut self, path: String, value: i64) -> u32 {
        match u32::try_from(value) {
            Ok(tier) if tier >= 1 => tier,
            _ => {
                self.error(
                    path,
                    value,
                    "a tier is a whole number of at least 1 (1 is served first)",
                );
                1
            }
        }
    }

    pub(super) fn count(&mut self, path: String, value: i64) -> usize {
        match usize::try_from(value) {
            Ok(n) if n >= 1 => n,
            _ => {
                self.error(path, value, "must be a whole number of at least 1");
                1
            }
        }
    }

    pub(super) fn duration(&mut self, path: String, text: &str) -> Duration {
        humantime::parse_duration(text).unwrap_or_else(|e| {
            self.error(
                path,
                format!("{text:?}"),
                format!("not a duration ({e}); write e.g. \"1s\", \"15m\""),
            );
            Duration::ZERO
        })
    }

    /// A duration that must be longer than zero: a zero timeout would close every
    /// connection at once.
    pub(super) fn timeout(&mut self, path: String, text: &str) -> Duration {
        let timeout = self.duration(path.clone(), text);
        if timeout.is_zero() {
            self.error(path, format!("{text:?}"), "must be longer than 0s");
        }
        timeout
    }

    /// An optional bearer token; an empty one would admit anyone who sends an empty
    /// `AUTH` line or header.
    pub(super) fn token(&mut self, path: String, token: Option<String>) -> Option<String> {
        if token.as_deref() == Some("") {
            self.error(
                path,
                "\"\"",
                "an empty token is not allowed; remove the key to accept connections without one",
            );
        }
        token
    }

    pub(super) fn address(&mut self, path: String, text: &str) -> SocketAddr {
        text.parse().unwrap_or_else(|_| {
            self.error(
                path,
                format!("{text:?}"),
                "not a socket address; write e.g. \"127.0.0.1:9184\"",
            );
            SocketAddr::from(([127, 0, 0, 1], 0))
        })
    }

    /// Parses `"MM-DD"`.
    pub(super) fn month_day(&mut self, path: String, text: &str) -> (u32, u32) {
        let parsed = text.split_once('-').and_then(|(m, d)| {
            let (m, d) = (m.parse::<u32>().ok()?, d.parse::<u32>().ok()?);
            let days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
            ((1..=12).contains(&m) && d >= 1 && d <= days[m as usize - 1]).then_some((m, d))
        });
        parsed.unwrap_or_else(|| {
            self.error(
                path,
                format!("{text:?}"),
                "expected a day of the year as \"MM-DD\"",
            );
            (1, 1)
        })
    }

    /// Records `id` at position `at` in `map`, reporting empty and repeated ids.
    pub(super) fn register(
        &mut self,
        map: &mut HashMap<String, usize>,
        path: String,
        id: &str,
        at: usize,
    ) {
        if id.is_empty() {
            self.error(path, "\"\"", "an id must not be empty");
        } else if map.insert(id.to_string(), at).is_some() {
            self.error(path, format!("{id:?}"), "duplicate id");
        }
    }

    /// The position `id` was registered at, reporting an id that names no `what`.
    pub(super) fn reference(
        &mut self,
        map: &HashMap<String, usize>,
        path: String,
        id: &str,
        what: &str,
    ) -> Option<usize> {
        let found = map.get(id).copied();
        if found.is_none() {
            self.error(path, format!("{id:?}"), format!("no {what} has this id"));
        }
        found
    }
}
