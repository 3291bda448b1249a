//! Lines: in service, tripped for minutes, or derated for an hour or two.

use super::shape::{between, bound_millis, millis, uniform};
use crate::grid::Line;
use rand_chacha::ChaCha8Rng;

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
