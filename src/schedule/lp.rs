//! The linear-programming engine and the network model built on it.
//!
//! This is the only module that knows about `microlp`. The rules in `dispatch` talk to
//! a [`Model`]: one variable per plant setpoint, plant spill, line direction and
//! consumer, plus the rows that make the network bind (rule 3), the must-run spill
//! (rule 1) and the reserve headroom (rule 5). A later, specialised flow algorithm can
//! replace this module without touching the rules.
//!
//! [`Lp`] keeps its own copy of bounds and rows and builds a fresh `microlp::Problem`
//! for every solve: the models are small (tens of variables), building is cheap next
//! to solving, and it lets the rules change bounds and add temporary rows freely.

use super::inputs::Inputs;
use crate::grid::{AreaKind, Grid};
use microlp::{ComparisonOp, OptimizationDirection, Problem};
use std::fmt;

/// A variable of an [`Lp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Var(usize);

impl Var {
    pub(super) fn at(self) -> usize {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cmp {
    Le,
    Ge,
    Eq,
}

/// Why a solve produced no values. Never fatal: the rules keep the last good solution.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct LpError(pub String);

impl fmt::Display for LpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One row: sparse terms (variable index, coefficient), comparison, right-hand side.
type Row = (Vec<(usize, f64)>, Cmp, f64);

/// A linear programme: variable bounds and rows, solved on demand.
#[derive(Debug, Clone, Default)]
pub(super) struct Lp {
    lo: Vec<f64>,
    hi: Vec<f64>,
    rows: Vec<Row>,
}

impl Lp {
    pub(super) fn var(&mut self, lo: f64, hi: f64) -> Var {
        self.lo.push(lo);
        self.hi.push(hi.max(lo));
        Var(self.lo.len() - 1)
    }

    pub(super) fn len(&self) -> usize {
        self.lo.len()
    }

    /// Raises a lower bound, never past the upper one: fixings carry a tolerance and
    /// must not make the model infeasible by a rounding error.
    pub(super) fn raise_lo(&mut self, v: Var, lo: f64) {
        let lo = lo.min(self.hi[v.0]);
        if lo > self.lo[v.0] {
            self.lo[v.0] = lo;
        }
    }

    /// Lowers an upper bound, never past the lower one.
    pub(super) fn lower_hi(&mut self, v: Var, hi: f64) {
        let hi = hi.max(self.lo[v.0]);
        if hi < self.hi[v.0] {
            self.hi[v.0] = hi;
        }
    }

    /// Adds `Σ coeff·var cmp rhs`. Repeated variables are merged (the engine rejects
    /// them) and zero coefficients dropped; an empty row is skipped.
    pub(super) fn row(&mut self, terms: &[(Var, f64)], cmp: Cmp, rhs: f64) {
        let mut merged: Vec<(usize, f64)> = terms.iter().map(|&(v, c)| (v.0, c)).collect();
        merged.sort_by_key(|&(v, _)| v);
        let mut out: Vec<(usize, f64)> = Vec::with_capacity(merged.len());
        for (v, c) in merged {
            match out.last_mut() {
                Some(last) if last.0 == v => last.1 += c,
                _ => out.push((v, c)),
            }
        }
        out.retain(|&(_, c)| c != 0.0);
        if !out.is_empty() {
            self.rows.push((out, cmp, rhs));
        }
    }

    pub(super) fn maximise(&self, objective: &[(Var, f64)]) -> Result<Vec<f64>, LpError> {
        self.solve(OptimizationDirection::Maximize, objective)
    }

    pub(super) fn minimise(&self, objective: &[(Var, f64)]) -> Result<Vec<f64>, LpError> {
        self.solve(OptimizationDirection::Minimize, objective)
    }

    fn solve(
        &self,
        direction: OptimizationDirection,
        objective: &[(Var, f64)],
    ) -> Result<Vec<f64>, LpError> {
        let mut costs = vec![0.0; self.lo.len()];
        for &(v, c) in objective {
            costs[v.0] += c;
        }
        let mut problem = Problem::new(direction);
        let vars: Vec<_> = (0..self.lo.len())
            .map(|i| problem.add_var(costs[i], (self.lo[i], self.hi[i])))
            .collect();
        for (terms, cmp, rhs) in &self.rows {
            let op = match cmp {
                Cmp::Le => ComparisonOp::Le,
                Cmp::Ge => ComparisonOp::Ge,
                Cmp::Eq => ComparisonOp::Eq,
            };
            problem.add_constraint(terms.iter().map(|&(v, c)| (vars[v], c)), op, *rhs);
        }
        let outcome = problem.solve().map_err(|e| LpError(e.to_string()))?;
        let solution = outcome
            .into_solution()
            .map_err(|_| LpError("solve interrupted".into()))?;
        Ok(vars.iter().map(|&v| solution.var_value(v)).collect())
    }
}

/// The network model of one tick: [`Lp`] plus the meaning of its variables.
#[derive(Debug, Clone)]
pub(super) struct Model {
    pub lp: Lp,
    /// Plant setpoint g_p ∈ [0, avail_p].
    pub g: Vec<Var>,
    /// Spilled must-run output: spill_p ≥ lb_p − g_p.
    pub spill: Vec<Var>,
    /// MW sent from→to.
    pub fwd: Vec<Var>,
    /// MW sent to→from.
    pub rev: Vec<Var>,
    /// MW served per consumer, in [0, cap].
    pub served: Vec<Var>,
    /// Per plant: has a reservoir (dispatched after run-of-river).
    pub storage: Vec<bool>,
    /// Per line: loss fraction.
    pub loss: Vec<f64>,
}

impl Model {
    /// Builds the model. Without `ramps` the line ramp rows are left out: the fallback
    /// when the ramp bounds leave no feasible flow (they can force more MW into an area
    /// than it can absorb).
    pub(super) fn build(grid: &Grid, inputs: &Inputs, ramps: bool) -> Model {
        let mut lp = Lp::default();
        let g: Vec<Var> = inputs.avail.iter().map(|&a| lp.var(0.0, a)).collect();
        let spill: Vec<Var> = inputs.lb.iter().map(|&lb| lp.var(0.0, lb)).collect();
        let mut fwd = Vec::with_capacity(inputs.lines.len());
        let mut rev = Vec::with_capacity(inputs.lines.len());
        for limits in &inputs.lines {
            let (fwd_hi, rev_hi) = if ramps {
                (limits.fwd_var_hi, limits.rev_var_hi)
            } else {
                (limits.fwd_cap, limits.rev_cap)
            };
            fwd.push(lp.var(0.0, fwd_hi));
            rev.push(lp.var(0.0, rev_hi));
        }
        let served: Vec<Var> = inputs
            .consumers
            .iter()
            .map(|c| lp.var(0.0, c.cap))
            .collect();

        for (p, &lb) in inputs.lb.iter().enumerate() {
            if lb > 0.0 {
                lp.row(&[(g[p], 1.0), (spill[p], 1.0)], Cmp::Ge, lb);
            }
        }
        if ramps {
            for (l, limits) in inputs.lines.iter().enumerate() {
                if let Some((lo, hi)) = limits.ramp {
                    let net = [(fwd[l], 1.0), (rev[l], -1.0)];
                    if lo == hi {
                        lp.row(&net, Cmp::Eq, lo);
                    } else {
                        lp.row(&net, Cmp::Ge, lo);
                        lp.row(&net, Cmp::Le, hi);
                    }
                }
            }
        }
        for (a, area) in grid.areas.iter().enumerate() {
            let mut terms = Vec::new();
            for (l, line) in grid.lines.iter().enumerate() {
                let kept = 1.0 - line.loss_fraction;
                if line.from == a {
                    terms.push((fwd[l], -1.0));
                    terms.push((rev[l], kept));
                }
                if line.to == a {
                    terms.push((fwd[l], kept));
                    terms.push((rev[l], -1.0));
                }
            }
            if area.kind == AreaKind::Domestic {
                for (p, plant) in grid.plants.iter().enumerate() {
                    if plant.area == a {
                        terms.push((g[p], 1.0));
                    }
                }
            }
            for (c, consumer) in inputs.consumers.iter().enumerate() {
                if consumer.sink == Some(a) {
                    terms.push((served[c], -1.0));
                }
                if consumer.source == Some(a) {
                    terms.push((served[c], 1.0));
                }
            }
            lp.row(&terms, Cmp::Eq, 0.0);
        }
        if let Some(r) = inputs.consumers.iter().position(|c| c.is_reserve()) {
            let mut terms: Vec<(Var, f64)> = g.iter().map(|&v| (v, 1.0)).collect();
            terms.push((served[r], 1.0));
            lp.row(&terms, Cmp::Le, inputs.avail.iter().sum());
        }
        Model {
            lp,
            g,
            spill,
            fwd,
            rev,
            served,
            storage: grid.plants.iter().map(|p| p.reservoir.is_some()).collect(),
            loss: grid.lines.iter().map(|l| l.loss_fraction).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_solves_a_small_programme_and_merges_repeated_terms() {
        let mut lp = Lp::default();
        let x = lp.var(0.0, 10.0);
        let y = lp.var(0.0, 10.0);
        // x + y + x ≤ 12 → 2x + y ≤ 12
        lp.row(&[(x, 1.0), (y, 1.0), (x, 1.0)], Cmp::Le, 12.0);
        let sol = lp.maximise(&[(x, 1.0), (y, 1.0)]).unwrap();
        assert!((sol[x.at()] - 1.0).abs() < 1e-9);
        assert!((sol[y.at()] - 10.0).abs() < 1e-9);
    }

    #[test]
    fn an_infeasible_programme_is_an_error_not_a_panic() {
        let mut lp = Lp::default();
        let x = lp.var(0.0, 1.0);
        lp.row(&[(x, 1.0)], Cmp::Ge, 2.0);
        assert!(lp.maximise(&[(x, 1.0)]).is_err());
        let mut lp = Lp::default();
        let x = lp.var(0.0, 1.0);
        lp.row(&[(x, 1.0)], Cmp::Le, f64::NAN);
        assert!(lp.maximise(&[(x, 1.0)]).is_err());
    }
}
