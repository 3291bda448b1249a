//! Which ticks' schedules become decisions.
//!
//! A tick's schedule becomes a decision when it is the first, when the operating state
//! changes, when any figure moves by more than `deadband_mw` since the last decision,
//! when its line ramps were relaxed or the tick before it had them relaxed, or when
//! `heartbeat` of event time has passed without one.

use crate::grid::Grid;
use crate::schedule::{Schedule, Served};
use crate::time::{Timestamp, micros};

/// What made a tick's schedule a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// The first decision of the run.
    Initial,
    /// The operating state changed.
    StateChange,
    /// A figure moved by more than the deadband, or the line ramps were relaxed for
    /// this tick or the one before.
    Change,
    /// Nothing moved for a whole heartbeat.
    Heartbeat,
}

impl Trigger {
    pub const ALL: [Trigger; 4] = [
        Trigger::Initial,
        Trigger::StateChange,
        Trigger::Change,
        Trigger::Heartbeat,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Initial => "initial",
            Trigger::StateChange => "state_change",
            Trigger::Change => "change",
            Trigger::Heartbeat => "heartbeat",
        }
    }
}

/// Decides which schedules are emitted and numbers them.
#[derive(Debug, Clone, Default)]
pub struct Emitter {
    last: Option<(Timestamp, Schedule)>,
    seq: u64,
}

impl Emitter {
    /// Returns the trigger and decision number when `schedule` is to be emitted.
    pub fn offer(
        &mut self,
        grid: &Grid,
        ts: Timestamp,
        schedule: &Schedule,
    ) -> Option<(Trigger, u64)> {
        let trigger = match &self.last {
            None => Trigger::Initial,
            Some((_, last)) if last.state != schedule.state => Trigger::StateChange,
            Some((_, last)) if ramps_relaxed(last, schedule) => Trigger::Change,
            Some((_, last)) if moved(last, schedule, grid.schedule.deadband_mw) => Trigger::Change,
            Some((at, _)) if ts.micros_since(*at) >= micros(grid.schedule.heartbeat) => {
                Trigger::Heartbeat
            }
            Some(_) => return None,
        };
        self.seq += 1;
        self.last = Some((ts, schedule.clone()));
        Some((trigger, self.seq))
    }
}

/// True when the line ramps were relaxed for `schedule`'s tick or for `last`'s. A relaxed
/// tick's flows jumped past the ramps, so each one is on record (rule 3: the decision
/// says so), and so is the tick after, which shows the ramps binding again. Every
/// relaxed tick being emitted, a relaxed `last` is always the tick just before.
fn ramps_relaxed(last: &Schedule, schedule: &Schedule) -> bool {
    last.ramps_relaxed || schedule.ramps_relaxed
}

/// True when any figure differs by more than `deadband` MW.
fn moved(a: &Schedule, b: &Schedule, deadband: f64) -> bool {
    let far = |x: f64, y: f64| (x - y).abs() > deadband;
    let served = |x: &Served, y: &Served| {
        far(x.requested_mw, y.requested_mw) || far(x.served_mw, y.served_mw)
    };
    let (ab, bb) = (&a.balance, &b.balance);
    far(a.reserve_mw, b.reserve_mw)
        || far(a.reserve_required_mw, b.reserve_required_mw)
        || far(ab.generation_mw, bb.generation_mw)
        || far(ab.domestic_served_mw, bb.domestic_served_mw)
        || far(ab.exports_mw, bb.exports_mw)
        || far(ab.transit_mw, bb.transit_mw)
        || far(ab.imports_mw, bb.imports_mw)
        || far(ab.losses_mw, bb.losses_mw)
        || far(ab.spill_mw, bb.spill_mw)
        || far(ab.unserved_mw, bb.unserved_mw)
        || a.plants.iter().zip(&b.plants).any(|(x, y)| far(*x, *y))
        || a.lines.iter().zip(&b.lines).any(|(x, y)| far(*x, *y))
        || a.loads.iter().zip(&b.loads).any(|(x, y)| served(x, y))
        || a.data_centers
            .iter()
            .zip(&b.data_centers)
            .any(|(x, y)| served(&x[0], &y[0]) || served(&x[1], &y[1]))
        || a.contracts.iter().zip(&b.contracts).any(|(x, y)| {
            far(x.requested_mw, y.requested_mw)
                || far(x.scheduled_mw, y.scheduled_mw)
                || x.reason != y.reason
        })
        || a.tiers
            .iter()
            .zip(&b.tiers)
            .any(|(x, y)| far(x.requested_mw, y.requested_mw) || far(x.served_mw, y.served_mw))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::fixture::{at, grid, schedule};
    use crate::schedule::OperatingState;

    #[test]
    fn emits_first_on_change_beyond_deadband_on_state_change_and_on_heartbeat() {
        let grid = grid();
        let mut emitter = Emitter::default();
        assert_eq!(
            emitter.offer(&grid, at(0), &schedule(50.0)),
            Some((Trigger::Initial, 1))
        );
        assert_eq!(
            emitter.offer(&grid, at(1), &schedule(50.9)),
            None,
            "within the deadband"
        );
        assert_eq!(
            emitter.offer(&grid, at(2), &schedule(51.1)),
            Some((Trigger::Change, 2))
        );
        let mut alert = schedule(51.1);
        alert.state = OperatingState::Alert;
        assert_eq!(
            emitter.offer(&grid, at(3), &alert),
            Some((Trigger::StateChange, 3))
        );
        assert_eq!(emitter.offer(&grid, at(12), &alert), None);
        assert_eq!(
            emitter.offer(&grid, at(13), &alert),
            Some((Trigger::Heartbeat, 4))
        );
    }

    #[test]
    fn emits_every_tick_whose_ramps_were_relaxed_and_the_tick_after() {
        let grid = grid();
        let mut emitter = Emitter::default();
        let mut relaxed = schedule(50.0);
        relaxed.ramps_relaxed = true;
        assert_eq!(
            emitter.offer(&grid, at(0), &schedule(50.0)),
            Some((Trigger::Initial, 1))
        );
        assert_eq!(
            emitter.offer(&grid, at(1), &relaxed),
            Some((Trigger::Change, 2))
        );
        assert_eq!(
            emitter.offer(&grid, at(2), &relaxed),
            Some((Trigger::Change, 3)),
            "relaxed again, though no figure moved"
        );
        assert_eq!(
            emitter.offer(&grid, at(3), &schedule(50.0)),
            Some((Trigger::Change, 4)),
            "the ramps bind again"
        );
        assert_eq!(emitter.offer(&grid, at(4), &schedule(50.0)), None);
        relaxed.state = OperatingState::Alert;
        assert_eq!(
            emitter.offer(&grid, at(5), &relaxed),
            Some((Trigger::StateChange, 5)),
            "a state change says more than a change"
        );
    }
}
