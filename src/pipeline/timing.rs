//! How a run relates to time: live runs judge events against the wall clock, replays
//! take event time alone and may be paced or cut to a window.

use crate::time::Timestamp;

/// How a run relates to time.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    /// Live runs refuse events too far beyond the wall clock; replays never read it.
    pub live: bool,
    /// Replay pacing: event time runs this many times as fast as the wall clock;
    /// `None` replays as fast as the pipeline goes.
    pub speed: Option<f64>,
    /// Only events with `from` ≤ `ts` < `to` are taken; the rest are skipped uncounted.
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl Timing {
    pub fn admits(&self, ts: Timestamp) -> bool {
        self.from.is_none_or(|from| ts >= from) && self.to.is_none_or(|to| ts < to)
    }
}

/// Holds a replay back so that event time passes `speed` times as fast as wall time.
pub struct Pace {
    speed: f64,
    origin: Option<(Timestamp, tokio::time::Instant)>,
}

impl Pace {
    pub fn new(speed: f64) -> Self {
        Pace {
            speed,
            origin: None,
        }
    }

    pub async fn wait_for(&mut self, ts: Timestamp) {
        let (first, start) = *self.origin.get_or_insert((ts, tokio::time::Instant::now()));
        let ahead = ts.micros_since(first).max(0) as f64 / self.speed;
        let due = start + std::time::Duration::from_micros(ahead as u64);
        if due > tokio::time::Instant::now() + std::time::Duration::from_millis(1) {
            tokio::time::sleep_until(due).await;
        }
    }
}
