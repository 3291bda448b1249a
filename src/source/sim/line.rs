//! Lines: in service, tripped for minutes, or derated for an hour or two; and the
//! scheduled trip of `line-trip`.

use super::knobs::LineTrip;
use super::shape::{between, bound_millis, millis, uniform};
use crate::grid::Line;
use crate::time::Timestamp;
use rand_chacha::ChaCha8Rng;

/// `line-trip` as a run plays it: the line, the second it trips and for how long.
pub(super) struct TripPlan {
    line: usize,
    pub(super) at: Timestamp,
    out_s: i64,
}

impl TripPlan {
    /// The first `trip.at_s` of local time (UTC + `local_offset_s`) at or after `start`;
    /// `None` on a grid without lines.
    pub(super) fn new(trip: &LineTrip, start: Timestamp, local_offset_s: i64) -> Option<Self> {
        let local_s = start.as_micros().div_euclid(1_000_000) + local_offset_s;
        let mut at_s = local_s - local_s.rem_euclid(86_400) + trip.at_s;
        if at_s < local_s {
            at_s += 86_400;
        }
        Some(TripPlan {
            line: trip.line?,
            at: Timestamp::from_micros((at_s - local_offset_s) * 1_000_000),
            out_s: trip.duration.as_secs().max(1) as i64,
        })
    }

    /// The line to trip in the step of `ts`, and for how many seconds, if one is due.
    fn due(&self, ts: Timestamp) -> Option<(usize, i64)> {
        (0..1_000_000)
            .contains(&ts.micros_since(self.at))
            .then_some((self.line, self.out_s))
    }
}

#[derive(Clone, Copy)]
enum Condition {
    Normal,
    Out { left_s: i64 },
    Derated { left_s: i64 },
}

pub(super) struct LineSim {
    capacity_mw: f64,
    capacity_m: i64,
    condition: Condition,
}

/// A change of a line's status: in service or not, and its derated capacity in
/// thousandths while derated.
pub(super) type LineChange = (bool, Option<i64>);

impl LineSim {
    pub(super) fn new(line: &Line) -> Self {
        LineSim {
            capacity_mw: line.capacity_mw,
            capacity_m: bound_millis(line.capacity_mw),
            condition: Condition::Normal,
        }
    }

    /// Trips the line for `left_s` seconds from now, whatever its condition: returns
    /// the change unless it was already out.
    fn trip(&mut self, left_s: i64) -> Option<LineChange> {
        let was_out = matches!(self.condition, Condition::Out { .. });
        self.condition = Condition::Out { left_s };
        (!was_out).then_some((false, None))
    }

    /// One second: a line in service trips with probability `p_out` and is derated
    /// with probability `p_derate`; a tripped or derated one counts down to its return.
    /// Returns the new status when it changes, and the status of every line in service
    /// on the `first` step.
    pub(super) fn step(
        &mut self,
        rng: &mut ChaCha8Rng,
        p_out: f64,
        p_derate: f64,
        first: bool,
    ) -> Option<LineChange> {
        let draw = uniform(rng);
        match self.condition {
            Condition::Normal => {
                if draw < p_out {
                    let left_s = between(rng, 3.0 * 60.0, 25.0 * 60.0) as i64;
                    self.condition = Condition::Out { left_s };
                    Some((false, None))
                } else if draw < p_out + p_derate {
                    let left_s = between(rng, 30.0 * 60.0, 120.0 * 60.0) as i64;
                    let share = between(rng, 0.5, 0.8);
                    self.condition = Condition::Derated { left_s };
                    let cap = millis(self.capacity_mw * share).min(self.capacity_m);
                    Some((true, Some(cap)))
                } else if first {
                    Some((true, None))
                } else {
                    None
                }
            }
            Condition::Out { left_s } | Condition::Derated { left_s } => {
                if left_s <= 1 {
                    self.condition = Condition::Normal;
                    Some((true, None))
                } else {
                    self.condition = match self.condition {
                        Condition::Out { .. } => Condition::Out { left_s: left_s - 1 },
                        _ => Condition::Derated { left_s: left_s - 1 },
                    };
                    None
                }
            }
        }
    }
}

/// One second of every line: its random outages and deratings, then the scheduled
/// trip if it is due. Returns each line's change, in the grid's order.
pub(super) fn step_all(
    lines: &mut [LineSim],
    plan: Option<&TripPlan>,
    ts: Timestamp,
    rng: &mut ChaCha8Rng,
    (p_out, p_derate): (f64, f64),
    first: bool,
) -> Vec<(usize, LineChange)> {
    let due = plan.and_then(|plan| plan.due(ts));
    let mut changes = Vec::new();
    for (at, line) in lines.iter_mut().enumerate() {
        let mut change = line.step(rng, p_out, p_derate, first);
        if let Some((tripped, out_s)) = due
            && tripped == at
        {
            change = line.trip(out_s).or(change);
        }
        changes.extend(change.map(|c| (at, c)));
    }
    changes
}
