//! The tick as a generalized network: nodes, arcs with gains, bounds.
//!
//! Nodes are the areas and one more, the *pool* of domestic availability. Every
//! figure of a schedule is an arc:
//!
//! - a plant's setpoint enters its area in two parallel arcs: the must-run part
//!   `[0, lb_p]` and the rest `[0, avail_p − lb_p]`, so the spill `lb_p − must_p`
//!   needs no row of its own (rule 1). Only the rest leaves the pool: the plant's
//!   output is `lb_p` plus the rest whatever is spilled, so the pool holds
//!   `Σ (avail_p − lb_p)` and spilled output never counts as headroom (rule 5);
//! - a line is two arcs, from→to and to→from, each delivering `1 − loss_fraction` of
//!   what it takes (rule 3); a ramp interval that excludes zero fixes the direction,
//!   since a line never carries both ways (rule 7);
//! - an import offer enters its `from` neighbor (rule 7: a source);
//! - a consumer leaves its area (a transit also enters its `from` area); the reserve
//!   leaves the pool, as does the unused headroom, so that
//!   `Σ outputs + reserve ≤ Σ avail` (rule 5) is the pool's balance.
//!
//! Each column therefore has one or two entries, and the rows are the network's
//! node balances: seven areas and the pool make eight rows on the reference grid.

use super::inputs::Inputs;
use super::simplex::{Engine, EngineError, Warm};
use crate::grid::Grid;

/// Which ways a line may carry flow in one run of the rules. A line never carries
/// both ways at once (rule 7); [`Way::Both`] leaves the choice to the programme, and
/// the direction choice of `dispatch` fixes one way where an optimum used both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Way {
    Both,
    Forward,
    Reverse,
}

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
    /// Per import offer: MW taken.
    pub imports: Vec<usize>,
    /// The consumers by tier, ascending: the order of the tier steps.
    pub groups: Vec<(u32, Vec<usize>)>,
    /// Unused headroom: what the pool keeps; the last column of the shape.
    headroom: usize,
    /// Per plant: has a reservoir (dispatched after run-of-river).
    pub storage: Vec<bool>,
    /// Per line: loss fraction.
    pub loss: Vec<f64>,
    /// Whether the lines' ramps bound this tick's flows (false once relaxed).
    pub ramps: bool,
}

impl Network {
    /// Builds the network, reusing the shape of a `spent` one if given (the same grid's,
    /// from an earlier tick), and finds a first feasible point, from `warm` (where the
    /// previous tick's rules ended) when that point is feasible here. Without
    /// `ramps` the lines keep only their capacities: the fallback when ramps force
    /// more MW into an area than it can absorb. Each line carries flow only the
    /// `ways` it is given.
    pub(super) fn build(
        grid: &Grid,
        inputs: &Inputs,
        ramps: bool,
        ways: &[Way],
        warm: Option<&Warm>,
        spent: Option<Network>,
    ) -> Result<Network, EngineError> {
        let mut net = match spent {
            Some(mut net) => {
                net.engine = net.engine.recycle(net.headroom + 1);
                net
            }
            None => Network::shape(grid, inputs),
        };
        net.bound(grid, inputs, ramps, ways)?;
        net.ramps = ramps;
        let warmed = match warm {
            Some(w) => net.engine.start_from(w)?,
            None => false,
        };
        if !warmed {
            net.engine.start()?;
        }
        Ok(net)
    }

    /// The nodes and arcs, which only the grid decides; every bound 0 until
    /// [`Network::bound`].
    fn shape(grid: &Grid, inputs: &Inputs) -> Network {
        let pool = grid.areas.len();
        let columns = 2 * (grid.plants.len() + grid.lines.len())
            + inputs.consumers.len()
            + inputs.offers.len()
            + 1;
        let mut engine = Engine::new(pool + 1, columns);
        let mut arc = |entries: &[(usize, f64)]| engine.add_column(entries, 0.0, 0.0, 0.0);
        let (mut must, mut rest) = (Vec::new(), Vec::new());
        for plant in &grid.plants {
            must.push(arc(&[(plant.area, 1.0)]));
            rest.push(arc(&[(plant.area, 1.0), (pool, 1.0)]));
        }
        let (mut fwd, mut rev) = (Vec::new(), Vec::new());
        for line in &grid.lines {
            let kept = 1.0 - line.loss_fraction;
            fwd.push(arc(&[(line.from, -1.0), (line.to, kept)]));
            rev.push(arc(&[(line.to, -1.0), (line.from, kept)]));
        }
        let served = inputs
            .consumers
            .iter()
            .map(|c| {
                let out = match c.sink {
                    Some(area) => (area, -1.0),
                    None => (pool, 1.0),
                };
                match c.source {
                    Some(area) => arc(&[out, (area, 1.0)]),
                    None => arc(&[out]),
                }
            })
            .collect();
        let imports = inputs
            .offers
            .iter()
            .map(|o| arc(&[(o.area, 1.0)]))
            .collect();
        let headroom = arc(&[(pool, 1.0)]);
        let mut groups: Vec<(u32, Vec<usize>)> = Vec::new();
        for (c, consumer) in inputs.consumers.iter().enumerate() {
            match groups.binary_search_by_key(&consumer.tier, |g| g.0) {
                Ok(at) => groups[at].1.push(c),
                Err(at) => groups.insert(at, (consumer.tier, vec![c])),
            }
        }
        Network {
            engine,
            must,
            rest,
            fwd,
            rev,
            served,
            imports,
            groups,
            headroom,
            storage: grid.plants.iter().map(|p| p.reservoir.is_some()).collect(),
            loss: grid.lines.iter().map(|l| l.loss_fraction).collect(),
            ramps: true,
        }
    }

    /// This tick's bounds on every arc, each arc at its lower bound, and the pool's
    /// supply. Fails when a ramp holds a line to a way `ways` forbids.
    fn bound(
        &mut self,
        grid: &Grid,
        inputs: &Inputs,
        ramps: bool,
        ways: &[Way],
    ) -> Result<(), EngineError> {
        let e = &mut self.engine;
        let above_must_run = inputs.avail.iter().zip(&inputs.lb).map(|(a, lb)| a - lb);
        e.set_rhs(grid.areas.len(), above_must_run.sum());
        for (p, (&lb, &avail)) in inputs.lb.iter().zip(&inputs.avail).enumerate() {
            e.reset_bounds(self.must[p], 0.0, lb);
            e.reset_bounds(self.rest[p], 0.0, (avail - lb).max(0.0));
        }
        for (l, (limits, &way)) in inputs.lines.iter().zip(ways).enumerate() {
            let ((f_lo, mut f_hi), (r_lo, mut r_hi)) = match limits.ramp {
                Some((lo, hi)) if ramps => (
                    (lo.max(0.0), hi.min(limits.fwd_cap).max(0.0)),
                    ((-hi).max(0.0), (-lo).min(limits.rev_cap).max(0.0)),
                ),
                _ => ((0.0, limits.fwd_cap), (0.0, limits.rev_cap)),
            };
            match way {
                Way::Both => {}
                Way::Forward if r_lo > 0.0 => return Err(EngineError::Infeasible(r_lo)),
                Way::Forward => r_hi = 0.0,
                Way::Reverse if f_lo > 0.0 => return Err(EngineError::Infeasible(f_lo)),
                Way::Reverse => f_hi = 0.0,
            }
            e.reset_bounds(self.fwd[l], f_lo, f_hi);
            e.reset_bounds(self.rev[l], r_lo, r_hi);
        }
        for (&j, c) in self.served.iter().zip(&inputs.consumers) {
            e.reset_bounds(j, 0.0, c.cap);
        }
        for (&j, o) in self.imports.iter().zip(&inputs.offers) {
            e.reset_bounds(j, 0.0, o.cap);
        }
        e.reset_bounds(self.headroom, 0.0, f64::INFINITY);
        Ok(())
    }

    /// A plant's setpoint as terms of the engine's columns.
    pub(super) fn setpoint(&self, p: usize) -> [(usize, f64); 2] {
        [(self.must[p], 1.0), (self.rest[p], 1.0)]
    }

    pub(super) fn value(&self, terms: &[(usize, f64)]) -> f64 {
        terms.iter().map(|&(j, c)| c * self.engine.value(j)).sum()
    }
}
