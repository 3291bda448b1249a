//! A storage plant's reservoir: its level, turned from MW of net draw into metres, the
//! operator's plan that says what may be drawn, and the operator who holds it at its
//! rule curve.

use super::clock::Clock;
use crate::grid::Reservoir;

/// Live storage between dead level and the top, in hours of full output: an estimate
/// that turns MW of net draw into metres (Nurek holds about 4.5 km³ of live storage at
/// ~230 m of head, roughly 800–900 h at 3 GW).
const STORAGE_HOURS: f64 = 800.0;
/// Once held at its rule curve, a plant is released only this far above it.
const RELEASE_MARGIN_M: f64 = 0.05;
/// The plan spreads the water above its target over the rest of the month, but over
/// no less than this, so the last hours of a month do not empty what is left at once.
const MIN_HORIZON_H: f64 = 24.0;

pub(super) struct StorageSim {
    floor_m: f64,
    rule_curve_m: [f64; 12],
    /// `full_m`, or without one a little above the top of the rule curve.
    ceiling_m: f64,
    full: bool,
    mwh_per_m: f64,
    pub level_m: f64,
    /// The simulated operator keeps output at the inflow while this is set: the
    /// reservoir touched its rule curve and may not be drawn further.
    pub held: bool,
}

impl StorageSim {
    /// The reservoir of a plant of `capacity_mw`; empty until [`StorageSim::place`].
    pub(super) fn new(reservoir: &Reservoir, capacity_mw: f64) -> Self {
        let r = reservoir;
        let top = r.rule_curve_m.iter().copied().fold(r.floor_m, f64::max);
        let ceiling_m = r.full_m.unwrap_or(top + 0.02 * (top - r.floor_m));
        StorageSim {
            floor_m: r.floor_m,
            rule_curve_m: r.rule_curve_m,
            ceiling_m,
            full: r.full_m.is_some(),
            mwh_per_m: STORAGE_HOURS * capacity_mw / (ceiling_m - r.floor_m).max(1.0),
            level_m: 0.0,
            held: false,
        }
    }

    /// The lowest level the plan allows at the end of month `month` (1 = January): the
    /// month's rule-curve level, or the next month's when that is higher, so that the
    /// reservoir is where next month's curve wants it when the month turns.
    fn target_m(&self, month: usize) -> f64 {
        let this = self.rule_curve_m[month - 1];
        let next = self.rule_curve_m[month % 12];
        this.max(next).max(self.floor_m)
    }

    /// The starting level. Winter: on the operator's plan — at the start of a month
    /// where last month's plan ended, at its end at this month's target, in a straight
    /// line between — less `below_plan` of the range from dead level to the top (a dry
    /// year that left the reservoir low), never below dead level. Summer: at `full_m`
    /// when the grid gives one (a year of surplus water), else halfway between the
    /// month's curve and the top, filling.
    pub(super) fn place(&mut self, winter: bool, clock: &Clock, below_plan: f64) {
        let month = clock.month;
        let curve = self.rule_curve_m[month - 1].max(self.floor_m);
        self.level_m = if winter {
            let before = self.target_m((month + 10) % 12 + 1);
            let after = self.target_m(month);
            let planned = after + (before - after) * clock.month_left;
            (planned - below_plan * (self.ceiling_m - self.floor_m)).max(self.floor_m)
        } else if self.full {
            self.ceiling_m
        } else if self.ceiling_m > curve {
            curve + 0.5 * (self.ceiling_m - curve)
        } else {
            curve + 0.5
        };
        self.ceiling_m = self.ceiling_m.max(self.level_m);
    }

    /// What the operator's plan lets the plant release, in MW at its own head: the
    /// inflow, plus the water above the month's target spread over the rest of the
    /// month; never below the inflow (a reservoir below its target passes what comes
    /// in) nor `min_mw`. A storage plant's availability in a dry winter is this, not
    /// its nameplate.
    pub(super) fn plan_mw(&self, inflow_mw: f64, clock: &Clock, min_mw: f64) -> f64 {
        let horizon_h = clock.hours_left.max(MIN_HORIZON_H);
        let above_m = (self.level_m - self.target_m(clock.month)).max(0.0);
        (inflow_mw + above_m * self.mwh_per_m / horizon_h).max(min_mw)
    }

    /// True when the level is at the top: the plant must pass its inflow. Only a
    /// reservoir with `full_m` is ever full; the daemon judges the same level.
    pub(super) fn is_full(&self) -> bool {
        self.full && super::shape::millis(self.level_m) >= super::shape::millis(self.ceiling_m)
    }

    /// The operator's judgement on the level as reported: held once below the month's
    /// rule curve or the dead level, released a margin above.
    pub(super) fn judge(&mut self, month: usize) {
        let level_m = super::shape::millis(self.level_m) as f64 / 1000.0;
        let curve = self.rule_curve_m[month - 1];
        if level_m < curve || level_m < self.floor_m {
            self.held = true;
        } else if level_m >= curve.max(self.floor_m) + RELEASE_MARGIN_M {
            self.held = false;
        }
    }

    /// One second of `inflow_mw` in and `output_mw` out; returns what spills over the
    /// top, in MW at the plant's head.
    pub(super) fn fill(&mut self, inflow_mw: f64, output_mw: f64) -> f64 {
        let net_mwh = (inflow_mw - output_mw) / 3600.0;
        let level_m = self.level_m + net_mwh / self.mwh_per_m;
        if level_m > self.ceiling_m {
            self.level_m = self.ceiling_m;
            (level_m - self.ceiling_m) * self.mwh_per_m * 3600.0
        } else {
            self.level_m = level_m;
            0.0
        }
    }
}
