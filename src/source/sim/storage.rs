//! A storage plant's reservoir: its level, turned from MW of net draw into metres, and
//! the simulated operator who holds it at its rule curve.

use crate::grid::Reservoir;

/// Live storage between dead level and the top of the rule curve, in hours of full
/// output: an estimate that turns MW of net draw into metres (Nurek holds about
/// 4.5 km³ of live storage at ~230 m of head, roughly 800–900 h at 3 GW).
const STORAGE_HOURS: f64 = 800.0;
/// The reservoir that crosses its rule curve first does so after about this many hours
/// of winter drawdown; the others sit this many hours apart behind it.
const FIRST_CROSSING_H: f64 = 1.0;
const NEXT_CROSSING_H: f64 = 72.0;
/// Once held at its rule curve, a plant is released only this far above it.
const RELEASE_MARGIN_M: f64 = 0.05;

pub(super) struct StorageSim {
    floor_m: f64,
    rule_curve_m: [f64; 12],
    ceiling_m: f64,
    mwh_per_m: f64,
    pub level_m: f64,
    /// The simulated operator keeps output at the inflow while this is set: the
    /// reservoir touched its rule curve and may not be drawn further.
    pub held: bool,
}

impl StorageSim {
    /// The reservoir of a plant of `capacity_mw`, its top a little above the highest
    /// point of its rule curve; empty until [`StorageSim::place`].
    pub(super) fn new(reservoir: &Reservoir, capacity_mw: f64) -> Self {
        let r = reservoir;
        let top = r.rule_curve_m.iter().copied().fold(r.floor_m, f64::max);
        let ceiling_m = top + 0.02 * (top - r.floor_m);
        StorageSim {
            floor_m: r.floor_m,
            rule_curve_m: r.rule_curve_m,
            ceiling_m,
            mwh_per_m: STORAGE_HOURS * capacity_mw / (ceiling_m - r.floor_m).max(1.0),
            level_m: 0.0,
            held: false,
        }
    }

    /// The starting level of the reservoir that is `rank`-th smallest and drawn down
    /// at `draw_mw` at full availability. Winter: just above the month's rule curve, the
    /// smallest close enough to cross within the first hour and the others spaced days
    /// behind it, so a long run sees the shortage deepen. Summer: halfway between the
    /// curve and the top, filling.
    pub(super) fn place(&mut self, winter: bool, month: usize, rank: usize, draw_mw: f64) {
        let curve = self.rule_curve_m[month - 1].max(self.floor_m);
        self.level_m = if winter {
            let hours = if rank == 0 {
                FIRST_CROSSING_H
            } else {
                NEXT_CROSSING_H * rank as f64
            };
            curve + draw_mw * hours / self.mwh_per_m + 0.001
        } else if self.ceiling_m > curve {
            curve + 0.5 * (self.ceiling_m - curve)
        } else {
            curve + 0.5
        };
        self.ceiling_m = self.ceiling_m.max(self.level_m);
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

    /// One second of `inflow_mw` in and `output_mw` out; spills over the top.
    pub(super) fn fill(&mut self, inflow_mw: f64, output_mw: f64) {
        let net_mwh = (inflow_mw - output_mw) / 3600.0;
        self.level_m = (self.level_m + net_mwh / self.mwh_per_m).min(self.ceiling_m);
    }
}
