//! The operating state (rule 8): how a tick is judged, and the hysteresis that turns
//! judgements into the emitted state.
//!
//! Judging looks at the schedule the tiers alone give (no state restrictions):
//! `emergency` if an essential load is short; else `alert` if any other load or any
//! firm data-center part is short (load is being shed), the reserve held is short of
//! the requirement, or the unused domestic generation Σ(avail − output) is below
//! `alert_margin_mw`; else `normal`. Short means short by more than rule 10's
//! tolerance (see [`met`]).
//!
//! Hysteresis runs in event time. Escalation (a judged state worse than the current
//! one) is immediate. A judged state equal to the current one ends any holding period.
//! A better judged state starts a holding period at that tick; once every tick for
//! `hold` has been judged better, the state steps down to the worst state judged during
//! the period, and a new period starts at that tick if the judged state is better
//! still.

use super::OperatingState;
use super::dispatch::Dispatch;
use super::inputs::{Inputs, Part};
use crate::grid::{Grid, LoadClass};
use crate::time::{Timestamp, micros};
use std::time::Duration;

/// Shortfall up to which a figure counts as met: rule 10's tolerance, 1e-6 relative
/// with a 1e-6 MW floor. An absolute 1e-6 MW alone is too strict: the solver's own
/// feasibility tolerance, traded across a line with losses of a few hundredths of a
/// percent, moves 1e-4 MW between members of a tier, and a reserve of 244.2 MW held to
/// within 5e-5 MW is held.
fn met(request: f64) -> f64 {
    1e-6_f64.max(1e-6 * request.abs())
}

/// Everything the scheduler carries from one tick to the next. Public and plain so that
/// it can be persisted and restored (see `Scheduler::carryover` and `Scheduler::restore`).
#[derive(Debug, Clone, PartialEq)]
pub struct Carryover {
    /// The emitted state of the last tick.
    pub current: OperatingState,
    /// When the judged state started being better than `current`, if it is.
    pub better_since: Option<Timestamp>,
    /// The worst state judged since `better_since`.
    pub worst_seen: OperatingState,
    /// The last tick scheduled, for ramp limits.
    pub last_tick: Option<Timestamp>,
    /// Net sent MW per line at the last tick (negative = to→from).
    pub line_flows: Vec<f64>,
}

impl Default for Carryover {
    fn default() -> Self {
        Carryover {
            current: OperatingState::Normal,
            better_since: None,
            worst_seen: OperatingState::Normal,
            last_tick: None,
            line_flows: Vec::new(),
        }
    }
}

impl Carryover {
    /// Feeds one judgement at `ts` and returns the state to emit.
    pub fn step(
        &mut self,
        judged: OperatingState,
        ts: Timestamp,
        hold: Duration,
    ) -> OperatingState {
        if judged >= self.current {
            self.current = judged;
            self.better_since = None;
            self.worst_seen = judged;
            return self.current;
        }
        match self.better_since {
            None => {
                self.better_since = Some(ts);
                self.worst_seen = judged;
            }
            Some(_) => self.worst_seen = self.worst_seen.max(judged),
        }
        if let Some(since) = self.better_since
            && ts.micros_since(since) >= micros(hold)
        {
            self.current = self.worst_seen;
            if judged < self.current {
                self.better_since = Some(ts);
                self.worst_seen = judged;
            } else {
                self.better_since = None;
                self.worst_seen = self.current;
            }
        }
        self.current
    }
}

/// Judges the state of an unrestricted run.
pub(super) fn judge(grid: &Grid, inputs: &Inputs, run: &Dispatch) -> OperatingState {
    let mut alert = false;
    for (c, consumer) in inputs.consumers.iter().enumerate() {
        if run.served[c] >= consumer.request - met(consumer.request) {
            continue;
        }
        match consumer.part {
            Part::Load(i) if grid.loads[i].class == LoadClass::Essential => {
                return OperatingState::Emergency;
            }
            // Load shed, a firm data-center part short or the reserve not held.
            Part::Load(_) | Part::DcFirm(_) | Part::Reserve => alert = true,
            Part::DcFlexible(_) | Part::Floor(_) | Part::Rest(_) => {}
        }
    }
    // Unused generation is headroom: availability less output, spill included.
    let output = run.g.iter().zip(&run.spill).map(|(g, s)| g + s);
    let unused: f64 = inputs.avail.iter().sum::<f64>() - output.sum::<f64>();
    if alert || unused < grid.states.alert_margin_mw - met(grid.states.alert_margin_mw) {
        OperatingState::Alert
    } else {
        OperatingState::Normal
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OperatingState::*;

    /// Feeds each (judged, minute) to one state with a 15-minute hold and checks the
    /// state it emits.
    fn play(script: &[(OperatingState, i64, OperatingState)]) {
        let hold = Duration::from_secs(15 * 60);
        let mut s = Carryover::default();
        for &(judged, minute, emitted) in script {
            let at = Timestamp::from_micros(minute * 60_000_000);
            assert_eq!(s.step(judged, at, hold), emitted, "{judged:?} at {minute}");
        }
    }

    #[test]
    fn hysteresis_escalates_at_once_and_holds_the_state_for_hold() {
        play(&[
            (Emergency, 0, Emergency),
            (Normal, 1, Emergency),
            (Alert, 5, Emergency),
            (Normal, 15, Emergency),
            // 15 minutes of better since minute 1: step down to the worst seen, alert.
            (Normal, 16, Alert),
            // A fresh period for alert → normal starts at minute 16.
            (Normal, 30, Alert),
            (Normal, 31, Normal),
        ]);
    }

    #[test]
    fn hysteresis_restarts_when_the_better_condition_breaks() {
        play(&[
            (Alert, 0, Alert),
            (Normal, 1, Alert),
            (Alert, 10, Alert),
            (Normal, 12, Alert),
            (Normal, 26, Alert),
            (Normal, 27, Normal),
            // Escalation is immediate.
            (Emergency, 28, Emergency),
        ]);
    }
}
