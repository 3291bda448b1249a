//! The engine under the network: a bounded primal simplex on a small dense basis,
//! kept warm through a whole tick.
//!
//! The rows are the network's nodes (see [`super::network`]) and, while a tier is
//! shared, one row per member (see [`super::dispatch`]); the columns are its arcs, with
//! one or two entries each. A tick asks a chain of questions of one feasible point: how
//! much of tier 1, then of tier 2 without losing any of tier 1, and so on. Each answer
//! starts from the previous answer's basis, so most cost a handful of pivots, and none
//! adds a row to remember it: [`Engine::fix_face`] pins every non-basic arc whose
//! reduced cost is not zero at the bound it sits on. That leaves exactly the optimal
//! face, because for every point `x` with `A·x = b` the objective equals
//! `z* + Σ d_j·(x_j − x*_j)` over the non-basic arcs, and every term of that sum is
//! non-negative on the feasible set.
//!
//! `B⁻¹` is held explicitly and updated in product form after each pivot, rebuilt by
//! Gauss–Jordan elimination every [`REFACTOR`] pivots. With `m` rows a pivot costs
//! O(m²) plus O(arcs) for pricing: a few hundred flops on the reference grid.
//!
//! The current point is always feasible once [`Engine::start`] has succeeded: each
//! question only moves it along feasible edges, and every bound the rules set contains
//! the current value. A failed question (an iteration limit, a numerically singular
//! basis) therefore leaves a point that meets every answer given so far.

use std::fmt;

/// Below this a basic value counts as on its bound, and a reduced cost as zero.
const TOL: f64 = 1e-9;
/// Smallest pivot element accepted in the ratio test.
const PIVOT_TOL: f64 = 1e-9;
/// Pivots between two rebuilds of `B⁻¹`.
const REFACTOR: usize = 64;
/// After this many pivots in a row that do not move the point, Bland's rule takes
/// over (smallest index enters and leaves), which cannot cycle.
const DEGENERATE_RUN: usize = 12;
/// A phase-1 residual above this means the bounds leave no feasible point.
const INFEASIBLE: f64 = 1e-6;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum EngineError {
    Infeasible(f64),
    Unbounded,
    IterationLimit,
    Singular,
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Infeasible(r) => write!(f, "no feasible point (residual {r:.3e} MW)"),
            EngineError::Unbounded => f.write_str("objective unbounded"),
            EngineError::IterationLimit => f.write_str("iteration limit reached"),
            EngineError::Singular => f.write_str("basis numerically singular"),
        }
    }
}

/// Sentinel position of a non-basic column.
const NONBASIC: usize = usize::MAX;

#[derive(Debug, Clone, Default)]
pub(super) struct Engine {
    /// Rows.
    m: usize,
    rhs: Vec<f64>,
    /// Per column: its (row, coefficient) entries.
    cols: Vec<Vec<(usize, f64)>>,
    lo: Vec<f64>,
    hi: Vec<f64>,
    x: Vec<f64>,
    /// Column basic at each position, one position per row.
    basis: Vec<usize>,
    /// Per column: its position in `basis`, or [`NONBASIC`].
    position: Vec<usize>,
    /// `B⁻¹`, row-major `m × m`: row = basis position, column = constraint row.
    inv: Vec<f64>,
    pivots: usize,
    /// Scratch: duals, column image, costs.
    y: Vec<f64>,
    alpha: Vec<f64>,
    cost: Vec<f64>,
}

impl Engine {
    /// An engine with `rows` rows, all with right-hand side 0 until [`Engine::set_rhs`].
    pub(super) fn new(rows: usize) -> Engine {
        Engine {
            m: rows,
            rhs: vec![0.0; rows],
            ..Engine::default()
        }
    }

    pub(super) fn set_rhs(&mut self, row: usize, value: f64) {
        self.rhs[row] = value;
    }

    /// Adds a non-basic column at `value` (which must lie in `[lo, hi]`).
    pub(super) fn add_column(
        &mut self,
        entries: &[(usize, f64)],
        lo: f64,
        hi: f64,
        value: f64,
    ) -> usize {
        let mut merged: Vec<(usize, f64)> = Vec::with_capacity(entries.len());
        for &(row, c) in entries {
            match merged.iter_mut().find(|(r, _)| *r == row) {
                Some(e) => e.1 += c,
                None => merged.push((row, c)),
            }
        }
        merged.retain(|&(_, c)| c != 0.0);
        self.cols.push(merged);
        self.lo.push(lo);
        self.hi.push(hi.max(lo));
        self.x.push(value.clamp(lo, hi.max(lo)));
        self.position.push(NONBASIC);
        self.cols.len() - 1
    }

    pub(super) fn value(&self, col: usize) -> f64 {
        self.x[col]
    }

    /// Sets a column's bounds, widened as needed to contain its current value, so the
    /// current point stays feasible.
    pub(super) fn set_bounds(&mut self, col: usize, lo: f64, hi: f64) {
        let v = self.x[col];
        self.lo[col] = lo.min(v);
        self.hi[col] = hi.max(v);
    }

    /// Adds the row `Σ coeff·x − s = 0` with a new surplus column `s`, basic at the
    /// row's current value, with bounds `[lo, hi]` (widened to contain that value).
    /// Returns `s`.
    pub(super) fn add_row(&mut self, terms: &[(usize, f64)], lo: f64, hi: f64) -> usize {
        let row = self.m;
        let mut value = 0.0;
        let mut r_b = vec![0.0; self.m];
        for &(col, c) in terms {
            value += c * self.x[col];
            self.cols[col].push((row, c));
            if self.position[col] != NONBASIC {
                r_b[self.position[col]] += c;
            }
        }
        let s = self.add_column(&[(row, -1.0)], lo.min(value), hi.max(value), value);
        self.x[s] = value;
        // Bordered inverse: [[B, 0], [r_B, −1]]⁻¹ = [[B⁻¹, 0], [r_B·B⁻¹, −1]].
        let m = self.m;
        let mut inv = vec![0.0; (m + 1) * (m + 1)];
        for k in 0..m {
            inv[k * (m + 1)..k * (m + 1) + m].copy_from_slice(&self.inv[k * m..k * m + m]);
        }
        for (k, &rk) in r_b.iter().enumerate() {
            if rk != 0.0 {
                for i in 0..m {
                    inv[m * (m + 1) + i] += rk * self.inv[k * m + i];
                }
            }
        }
        inv[m * (m + 1) + m] = -1.0;
        self.inv = inv;
        self.m += 1;
        self.rhs.push(0.0);
        self.position[s] = self.basis.len();
        self.basis.push(s);
        s
    }

    /// Finds a first feasible point: artificial columns take up each row's residual
    /// and phase 1 drives them to zero, after which they are fixed at zero.
    pub(super) fn start(&mut self) -> Result<(), EngineError> {
        let mut residual = self.rhs.clone();
        for (j, col) in self.cols.iter().enumerate() {
            for &(i, c) in col {
                residual[i] -= c * self.x[j];
            }
        }
        let first = self.cols.len();
        for (i, &r) in residual.iter().enumerate() {
            let sign = if r < 0.0 { -1.0 } else { 1.0 };
            let a = self.add_column(&[(i, sign)], 0.0, f64::INFINITY, r.abs());
            self.position[a] = i;
            self.basis.push(a);
        }
        self.refactor()?;
        let costs: Vec<(usize, f64)> = (first..self.cols.len()).map(|a| (a, 1.0)).collect();
        self.minimise(&costs)?;
        let left: f64 = (first..self.cols.len()).map(|a| self.x[a]).sum();
        if left > INFEASIBLE {
            return Err(EngineError::Infeasible(left));
        }
        for a in first..self.cols.len() {
            self.x[a] = 0.0;
            self.lo[a] = 0.0;
            self.hi[a] = 0.0;
        }
        self.recompute_basic();
        Ok(())
    }

    /// Moves the point to a minimum of `Σ cost·x` over the current bounds.
    pub(super) fn minimise(&mut self, costs: &[(usize, f64)]) -> Result<(), EngineError> {
        self.cost.clear();
        self.cost.resize(self.cols.len(), 0.0);
        for &(j, c) in costs {
            self.cost[j] += c;
        }
        let limit = 50 * (self.m + self.cols.len()) + 100;
        let mut degenerate = 0;
        for _ in 0..limit {
            self.duals();
            let Some((j, d)) = self.entering(degenerate >= DEGENERATE_RUN) else {
                return Ok(());
            };
            let moved = self.step(j, d, degenerate >= DEGENERATE_RUN)?;
            degenerate = if moved { 0 } else { degenerate + 1 };
        }
        Err(EngineError::IterationLimit)
    }

    /// Pins every non-basic column whose reduced cost under the last objective is not
    /// zero at its current value: what remains is that objective's optimal face.
    pub(super) fn fix_face(&mut self) {
        self.duals();
        for j in 0..self.cols.len() {
            if self.position[j] == NONBASIC && self.reduced_cost(j).abs() > TOL {
                self.lo[j] = self.x[j];
                self.hi[j] = self.x[j];
            }
        }
    }

    fn reduced_cost(&self, j: usize) -> f64 {
        self.cols[j]
            .iter()
            .fold(self.cost[j], |d, &(i, c)| d - self.y[i] * c)
    }

    /// `y = c_B·B⁻¹`.
    fn duals(&mut self) {
        let m = self.m;
        self.y.clear();
        self.y.resize(m, 0.0);
        for (k, &col) in self.basis.iter().enumerate() {
            let c = self.cost[col];
            if c != 0.0 {
                for (yi, &v) in self.y.iter_mut().zip(&self.inv[k * m..k * m + m]) {
                    *yi += c * v;
                }
            }
        }
    }

    /// The column to enter and its reduced cost: the steepest (Dantzig), or with
    /// `bland` the first that improves.
    fn entering(&self, bland: bool) -> Option<(usize, f64)> {
        let mut best: Option<(usize, f64)> = None;
        for j in 0..self.cols.len() {
            if self.position[j] != NONBASIC || self.hi[j] - self.lo[j] <= TOL {
                continue;
            }
            let d = self.reduced_cost(j);
            let improves = (d < -TOL && self.x[j] < self.hi[j] - TOL)
                || (d > TOL && self.x[j] > self.lo[j] + TOL);
            if !improves {
                continue;
            }
            if bland {
                return Some((j, d));
            }
            if best.is_none_or(|(_, b)| d.abs() > b.abs()) {
                best = Some((j, d));
            }
        }
        best
    }

    /// One primal step with `j` entering; returns whether the point moved.
    fn step(&mut self, j: usize, d: f64, bland: bool) -> Result<bool, EngineError> {
        let m = self.m;
        self.alpha.clear();
        self.alpha.resize(m, 0.0);
        for &(i, c) in &self.cols[j] {
            for (k, a) in self.alpha.iter_mut().enumerate() {
                *a += self.inv[k * m + i] * c;
            }
        }
        let dir = if d < 0.0 { 1.0 } else { -1.0 };
        let mut t_max = if dir > 0.0 {
            self.hi[j] - self.x[j]
        } else {
            self.x[j] - self.lo[j]
        };
        let mut leave: Option<usize> = None;
        for k in 0..m {
            let rate = -dir * self.alpha[k];
            if rate.abs() <= PIVOT_TOL {
                continue;
            }
            let col = self.basis[k];
            let room = if rate < 0.0 {
                self.x[col] - self.lo[col]
            } else {
                self.hi[col] - self.x[col]
            };
            let t = room.max(0.0) / rate.abs();
            let better = match leave {
                None => t < t_max,
                Some(r) if bland => t < t_max - TOL || (t <= t_max + TOL && col < self.basis[r]),
                Some(r) => {
                    t < t_max - TOL
                        || (t <= t_max + TOL && self.alpha[k].abs() > self.alpha[r].abs())
                }
            };
            if better {
                t_max = t;
                leave = Some(k);
            }
        }
        if !t_max.is_finite() {
            return Err(EngineError::Unbounded);
        }
        let t = t_max.max(0.0);
        self.x[j] += dir * t;
        for k in 0..m {
            let col = self.basis[k];
            self.x[col] -= dir * t * self.alpha[k];
        }
        match leave {
            None => {
                // The entering column crossed to its other bound.
                self.x[j] = if dir > 0.0 { self.hi[j] } else { self.lo[j] };
            }
            Some(r) => {
                let out = self.basis[r];
                self.x[out] = if -dir * self.alpha[r] < 0.0 {
                    self.lo[out]
                } else {
                    self.hi[out]
                };
                self.pivot(r, j)?;
            }
        }
        Ok(t > TOL)
    }

    /// Makes `j` basic at position `r`: product-form update of `B⁻¹`.
    fn pivot(&mut self, r: usize, j: usize) -> Result<(), EngineError> {
        let m = self.m;
        let p = self.alpha[r];
        for v in &mut self.inv[r * m..r * m + m] {
            *v /= p;
        }
        for k in 0..m {
            let a = self.alpha[k];
            if k != r && a != 0.0 {
                for i in 0..m {
                    self.inv[k * m + i] -= a * self.inv[r * m + i];
                }
            }
        }
        self.position[self.basis[r]] = NONBASIC;
        self.basis[r] = j;
        self.position[j] = r;
        self.pivots += 1;
        if self.pivots >= REFACTOR {
            self.refactor()?;
            self.recompute_basic();
        }
        Ok(())
    }

    /// Rebuilds `B⁻¹` from the basis by Gauss–Jordan elimination with partial pivoting.
    fn refactor(&mut self) -> Result<(), EngineError> {
        let m = self.m;
        let mut b = vec![0.0; m * m];
        for (k, &col) in self.basis.iter().enumerate() {
            for &(i, c) in &self.cols[col] {
                b[i * m + k] = c;
            }
        }
        // Solve B·X = I in place: `b` becomes I, `inv` becomes B⁻¹.
        let mut inv = vec![0.0; m * m];
        for i in 0..m {
            inv[i * m + i] = 1.0;
        }
        for c in 0..m {
            let p = (c..m)
                .max_by(|&a, &b2| b[a * m + c].abs().total_cmp(&b[b2 * m + c].abs()))
                .ok_or(EngineError::Singular)?;
            if b[p * m + c].abs() < 1e-12 {
                return Err(EngineError::Singular);
            }
            for k in 0..m {
                b.swap(c * m + k, p * m + k);
                inv.swap(c * m + k, p * m + k);
            }
            let pv = b[c * m + c];
            for k in 0..m {
                b[c * m + k] /= pv;
                inv[c * m + k] /= pv;
            }
            for r in 0..m {
                let f = b[r * m + c];
                if r != c && f != 0.0 {
                    for k in 0..m {
                        b[r * m + k] -= f * b[c * m + k];
                        inv[r * m + k] -= f * inv[c * m + k];
                    }
                }
            }
        }
        // The row operations that turned B into I, applied to I, are B⁻¹: rows by
        // basis position, columns by constraint row.
        self.inv = inv;
        self.pivots = 0;
        Ok(())
    }

    /// `x_B = B⁻¹·(b − N·x_N)`, clearing the drift of product-form updates.
    fn recompute_basic(&mut self) {
        let m = self.m;
        let mut residual = self.rhs.clone();
        for (j, col) in self.cols.iter().enumerate() {
            if self.position[j] == NONBASIC {
                for &(i, c) in col {
                    residual[i] -= c * self.x[j];
                }
            }
        }
        for k in 0..m {
            let v: f64 = (0..m).map(|i| self.inv[k * m + i] * residual[i]).sum();
            self.x[self.basis[k]] = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_optimum_of_a_small_network() {
        // Two rows: a source node with 10 units, a sink node. Arcs: source→sink with
        // gain 0.9 (cap 8), source→sink lossless (cap 5), a sink arc out of the sink
        // node, and a slack out of the source.
        let mut e = Engine::new(2);
        e.set_rhs(0, -10.0);
        let lossy = e.add_column(&[(0, -1.0), (1, 0.9)], 0.0, 8.0, 0.0);
        let clean = e.add_column(&[(0, -1.0), (1, 1.0)], 0.0, 5.0, 0.0);
        let served = e.add_column(&[(1, -1.0)], 0.0, f64::INFINITY, 0.0);
        let slack = e.add_column(&[(0, -1.0)], 0.0, f64::INFINITY, 0.0);
        e.start().unwrap();
        e.minimise(&[(served, -1.0)]).unwrap();
        // 5 lossless + 5 of the lossy arc's 8 (the supply runs out): 5 + 4.5.
        assert!((e.value(served) - 9.5).abs() < 1e-9);
        assert!((e.value(clean) - 5.0).abs() < 1e-9);
        assert!((e.value(lossy) - 5.0).abs() < 1e-9);
        assert!(e.value(slack).abs() < 1e-9);
        // The face pins the served total: a later objective cannot trade it away.
        e.fix_face();
        e.minimise(&[(served, 1.0)]).unwrap();
        assert!((e.value(served) - 9.5).abs() < 1e-9);
    }

    #[test]
    fn reports_infeasible_bounds() {
        let mut e = Engine::new(1);
        // x + y = 0 with x ≥ 1, y ≥ 0.
        e.add_column(&[(0, 1.0)], 1.0, 2.0, 1.0);
        e.add_column(&[(0, 1.0)], 0.0, 2.0, 0.0);
        assert!(matches!(e.start(), Err(EngineError::Infeasible(_))));
    }

    #[test]
    fn a_row_added_at_the_current_point_keeps_it_feasible() {
        let mut e = Engine::new(1);
        e.set_rhs(0, 10.0);
        let a = e.add_column(&[(0, 1.0)], 0.0, 10.0, 0.0);
        let b = e.add_column(&[(0, 1.0)], 0.0, 10.0, 0.0);
        e.start().unwrap();
        e.minimise(&[(a, -1.0)]).unwrap();
        // a − b ≥ 2 holds at a = 10, b = 0; then maximise b: a = 6, b = 4.
        let s = e.add_row(&[(a, 1.0), (b, -1.0)], 2.0, f64::INFINITY);
        e.minimise(&[(b, -1.0)]).unwrap();
        assert!((e.value(s) - 2.0).abs() < 1e-9);
        assert!((e.value(a) - 6.0).abs() < 1e-9, "{}", e.value(a));
        assert!((e.value(b) - 4.0).abs() < 1e-9);
    }
}
