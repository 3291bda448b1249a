//! The tick as a generalized network: nodes, arcs with gains, bounds.
//!
//! Nodes are the areas and one more, the *pool* of domestic availability. Every
//! figure of a schedule is an arc:
//!
//! - a plant's setpoint leaves the pool and enters its area, in two parallel arcs:
//!   the must-run part `[0, lb_p]` and the rest `[0, avail_p − lb_p]`, so the spill
//!   `lb_p − must_p` needs no row of its own (rule 1);
//! - a line is two arcs, from→to and to→from, each delivering `1 − loss_fraction` of
//!   what it takes (rule 3); a ramp interval that excludes zero fixes the direction,
//!   since a line never carries both ways (rule 7);
//! - a consumer leaves its area (a transit also enters its `from` area); the reserve
//!   leaves the pool, as does the unused headroom, so that
//!   `Σ setpoints + reserve ≤ Σ avail` (rule 5) is the pool's balance.
//!
//! Each column therefore has one or two entries, and the rows are the network's
//! node balances: seven areas and the pool make eight rows on the reference grid.

use super::inputs::Inputs;
use super::simplex::{Engine, EngineError, Warm};
use crate::grid::Grid;

#[derive(Debug, Clone)]
pub(super) struct Network {
    pub engine: Engine,
    /// Per plant: the must-run part of its setpoint, `[0, lb]`.
    pub must: Vec<usize>,
    /// Per plant: the rest of its setpoint, `[0, avail − lb]`.
    pub rest: Vec<usize>,
    /// Per line: MW sent from→to.
    pub fwd: Vec<usize>,
    /// Per line: MW sent to→from.
    pub rev: Vec<usize>,
    /// Per consumer: MW served.
    pub served: Vec<usize>,
    /// Per plant: has a reservoir (dispatched after run-of-river).
    pub storage: Vec<bool>,
    /// Per line: loss fraction.
    pub loss: Vec<f64>,
}

impl Network {
    /// Builds the network, in the buffers of a `spent` one if given, and finds a first
    /// feasible point, from `warm` (where the previous tick's tier steps ended) when
    /// that point is feasible here. Without
    /// `ramps` the lines keep only their capacities: the fallback when ramps force
    /// more MW into an area than it can absorb.
    pub(super) fn build(
        grid: &Grid,
        inputs: &Inputs,
        ramps: bool,
        warm: Option<&Warm>,
        spent: Option<Network>,
    ) -> Result<Network, EngineError> {
        let pool = grid.areas.len();
        let columns = 2 * (grid.plants.len() + grid.lines.len()) + inputs.consumers.len() + 1;
        let mut engine = match spent {
            Some(net) => net.engine.recycle(pool + 1),
            None => Engine::new(pool + 1, columns),
        };
        engine.set_rhs(pool, inputs.avail.iter().sum());
        let mut must = Vec::with_capacity(grid.plants.len());
        let mut rest = Vec::with_capacity(grid.plants.len());
        for (p, plant) in grid.plants.iter().enumerate() {
            let arc = [(plant.area, 1.0), (pool, 1.0)];
            let (lb, avail) = (inputs.lb[p], inputs.avail[p]);
            must.push(engine.add_column(&arc, 0.0, lb, 0.0));
            rest.push(engine.add_column(&arc, 0.0, (avail - lb).max(0.0), 0.0));
        }
        let mut fwd = Vec::with_capacity(grid.lines.len());
        let mut rev = Vec::with_capacity(grid.lines.len());
        for (line, limits) in grid.lines.iter().zip(&inputs.lines) {
            let kept = 1.0 - line.loss_fraction;
            let ((f_lo, f_hi), (r_lo, r_hi)) = match limits.ramp {
                Some((lo, hi)) if ramps => (
                    (lo.max(0.0), hi.min(limits.fwd_var_hi).max(0.0)),
                    ((-hi).max(0.0), (-lo).min(limits.rev_var_hi).max(0.0)),
                ),
                _ => ((0.0, limits.fwd_cap), (0.0, limits.rev_cap)),
            };
            fwd.push(engine.add_column(&[(line.from, -1.0), (line.to, kept)], f_lo, f_hi, f_lo));
            rev.push(engine.add_column(&[(line.to, -1.0), (line.from, kept)], r_lo, r_hi, r_lo));
        }
        let served = inputs
            .consumers
            .iter()
            .map(|c| {
                let mut arc = Vec::with_capacity(2);
                match c.sink {
                    Some(area) => arc.push((area, -1.0)),
                    None => arc.push((pool, 1.0)),
                }
                if let Some(area) = c.source {
                    arc.push((area, 1.0));
                }
                engine.add_column(&arc, 0.0, c.cap, 0.0)
            })
            .collect();
        // Unused headroom: what the pool keeps.
        engine.add_column(&[(pool, 1.0)], 0.0, f64::INFINITY, 0.0);
        let warmed = match warm {
            Some(w) => engine.start_from(w)?,
            None => false,
        };
        if !warmed {
            engine.start()?;
        }
        Ok(Network {
            engine,
            must,
            rest,
            fwd,
            rev,
            served,
            storage: grid.plants.iter().map(|p| p.reservoir.is_some()).collect(),
            loss: grid.lines.iter().map(|l| l.loss_fraction).collect(),
        })
    }

    /// A plant's setpoint as terms of the engine's columns.
    pub(super) fn setpoint(&self, p: usize) -> [(usize, f64); 2] {
        [(self.must[p], 1.0), (self.rest[p], 1.0)]
    }

    pub(super) fn value(&self, terms: &[(usize, f64)]) -> f64 {
        terms.iter().map(|&(j, c)| c * self.engine.value(j)).sum()
    }
}
