//! The engine under the network: a bounded primal simplex on a small dense basis,
//! kept warm through a whole tick, and from one tick to the next
//! ([`Engine::start_from`]).
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

/// Where one programme ended, to start the next, similar one from: its basis (an
/// artificial column by the row it belongs to) and the bound each non-basic column sat
/// on. The bound, not the value: a consumer served in full stays served in full when
/// its request moves, so the next programme starts where the last one's answer
/// would be.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Warm {
    basis: Vec<Basic>,
    /// Per structural column: non-basic at its upper bound as posed.
    upper: Vec<bool>,
    /// `B⁻¹` of that basis (the columns are the same, so it holds here too), and the
    /// pivots since it was last rebuilt, so rebuilds keep their rhythm across ticks.
    inv: Vec<f64>,
    pivots: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Basic {
    Column(usize),
    Artificial(usize),
}

/// A column's entries in the node rows: at most two, since every column is an arc.
#[derive(Debug, Clone, Copy, Default)]
struct Arc {
    len: u8,
    entries: [(u32, f64); 2],
}

impl Arc {
    fn entries(&self) -> &[(u32, f64)] {
        &self.entries[..self.len as usize]
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct Engine {
    /// Node rows: the first rows, given at construction.
    nodes: usize,
    /// All rows: the node rows, then the rows [`Engine::add_row`] appends.
    m: usize,
    rhs: Vec<f64>,
    /// Per column: its entries in the node rows.
    arcs: Vec<Arc>,
    /// Per appended row: its (column, coefficient) terms, the surplus included.
    extra: Vec<Vec<(usize, f64)>>,
    lo: Vec<f64>,
    hi: Vec<f64>,
    /// Per column: its upper bound as posed, before any step pinned it; a warm start
    /// reads off it which bound a non-basic column sits on.
    posed_hi: Vec<f64>,
    x: Vec<f64>,
    /// Column basic at each position, one position per row.
    basis: Vec<usize>,
    /// Per column: its position in `basis`, or [`NONBASIC`].
    position: Vec<usize>,
    /// `B⁻¹`, row-major `m × m`: row = basis position, column = constraint row.
    inv: Vec<f64>,
    pivots: usize,
    /// Columns before the artificial ones [`Engine::start`] adds.
    structural: usize,
    /// Columns that can move (`lo < hi`), the only ones pricing looks at; refreshed
    /// by [`Engine::fix_face`].
    free: Vec<usize>,
    /// The objective of the last [`Engine::minimise`], its duals and reduced costs.
    cost: Vec<f64>,
    y: Vec<f64>,
    d: Vec<f64>,
    /// Scratch: the entering column's image `B⁻¹·a_j`.
    alpha: Vec<f64>,
}

impl Engine {
    /// An engine with `nodes` node rows, all with right-hand side 0 until
    /// [`Engine::set_rhs`].
    pub(super) fn new(nodes: usize, columns: usize) -> Engine {
        let mut e = Engine {
            nodes,
            m: nodes,
            rhs: vec![0.0; nodes],
            ..Engine::default()
        };
        for v in [&mut e.lo, &mut e.hi, &mut e.x, &mut e.cost, &mut e.d] {
            v.reserve(columns + nodes);
        }
        e.arcs.reserve(columns + nodes);
        e.position.reserve(columns + nodes);
        e
    }

    /// The same engine with its first `columns` columns and their entries, as for a
    /// new programme of the same shape: rows added, basis and bounds' effects dropped,
    /// right-hand sides 0. Every kept column must get its bounds again
    /// ([`Engine::reset_bounds`]). A tick then allocates next to nothing.
    pub(super) fn recycle(mut self, columns: usize) -> Engine {
        self.m = self.nodes;
        self.rhs.clear();
        self.rhs.resize(self.nodes, 0.0);
        for v in self.per_column() {
            v.truncate(columns);
        }
        self.arcs.truncate(columns);
        self.position.clear();
        self.position.resize(columns, NONBASIC);
        self.inv.clear();
        self.extra.clear();
        self.basis.clear();
        self.free.clear();
        self.pivots = 0;
        self.structural = 0;
        self
    }

    /// The figures kept per column, to shorten or clear together.
    fn per_column(&mut self) -> [&mut Vec<f64>; 6] {
        [
            &mut self.lo,
            &mut self.hi,
            &mut self.posed_hi,
            &mut self.x,
            &mut self.cost,
            &mut self.d,
        ]
    }

    pub(super) fn set_rhs(&mut self, row: usize, value: f64) {
        self.rhs[row] = value;
    }

    /// Adds a non-basic arc with up to two node entries at `value` (clamped into
    /// `[lo, hi]`).
    pub(super) fn add_column(
        &mut self,
        entries: &[(usize, f64)],
        lo: f64,
        hi: f64,
        value: f64,
    ) -> usize {
        let mut arc = Arc::default();
        for &(row, c) in entries {
            debug_assert!(row < self.nodes, "arcs touch node rows only");
            match arc.entries().iter().position(|&(r, _)| r as usize == row) {
                Some(k) => arc.entries[k].1 += c,
                None => {
                    arc.entries[arc.len as usize] = (row as u32, c);
                    arc.len += 1;
                }
            }
        }
        self.arcs.push(arc);
        let hi = hi.max(lo);
        self.lo.push(lo);
        self.hi.push(hi);
        self.posed_hi.push(hi);
        self.x.push(value.clamp(lo, hi));
        self.cost.push(0.0);
        self.d.push(0.0);
        self.position.push(NONBASIC);
        if lo < hi {
            self.free.push(self.arcs.len() - 1);
        }
        self.arcs.len() - 1
    }

    pub(super) fn value(&self, col: usize) -> f64 {
        self.x[col]
    }

    pub(super) fn bounds(&self, col: usize) -> (f64, f64) {
        (self.lo[col], self.hi[col])
    }

    pub(super) fn fixed(&self, col: usize) -> bool {
        self.lo[col] >= self.hi[col]
    }

    /// Sets a column's bounds before a start, and puts it at its lower bound.
    pub(super) fn reset_bounds(&mut self, col: usize, lo: f64, hi: f64) {
        self.lo[col] = lo;
        self.hi[col] = hi.max(lo);
        self.posed_hi[col] = self.hi[col];
        self.x[col] = lo;
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
        let m = self.m;
        let value: f64 = terms.iter().map(|&(col, c)| c * self.x[col]).sum();
        let s = self.add_column(&[], lo.min(value), hi.max(value), value);
        let mut row: Vec<(usize, f64)> = Vec::with_capacity(terms.len() + 1);
        for &(col, c) in terms {
            match row.iter_mut().find(|(j, _)| *j == col) {
                Some(t) => t.1 += c,
                None => row.push((col, c)),
            }
        }
        row.push((s, -1.0));
        // Bordered inverse: [[B, 0], [r_B, −1]]⁻¹ = [[B⁻¹, 0], [r_B·B⁻¹, −1]].
        let mut inv = vec![0.0; (m + 1) * (m + 1)];
        for k in 0..m {
            inv[k * (m + 1)..k * (m + 1) + m].copy_from_slice(&self.inv[k * m..k * m + m]);
        }
        for &(col, c) in &row[..row.len() - 1] {
            let k = self.position[col];
            if k != NONBASIC {
                for i in 0..m {
                    inv[m * (m + 1) + i] += c * self.inv[k * m + i];
                }
            }
        }
        inv[m * (m + 1) + m] = -1.0;
        self.inv = inv;
        self.extra.push(row);
        self.m += 1;
        self.rhs.push(0.0);
        self.position[s] = self.basis.len();
        self.basis.push(s);
        s
    }

    /// Calls `f(row, coefficient)` for every entry of column `j`.
    fn entries(&self, j: usize, mut f: impl FnMut(usize, f64)) {
        for &(i, c) in self.arcs[j].entries() {
            f(i as usize, c);
        }
        for (r, row) in self.extra.iter().enumerate() {
            if let Some(&(_, c)) = row.iter().find(|&&(col, _)| col == j) {
                f(self.nodes + r, c);
            }
        }
    }

    /// `b − A·x` over the columns `include` selects.
    fn residual(&self, include: impl Fn(usize) -> bool) -> Vec<f64> {
        let mut r = self.rhs.clone();
        for (j, arc) in self.arcs.iter().enumerate() {
            if include(j) {
                for &(i, c) in arc.entries() {
                    r[i as usize] -= c * self.x[j];
                }
            }
        }
        for (k, row) in self.extra.iter().enumerate() {
            for &(j, c) in row {
                if include(j) {
                    r[self.nodes + k] -= c * self.x[j];
                }
            }
        }
        r
    }

    /// Finds a first feasible point. Rows are visited in order, and each row's residual
    /// is taken up, where it can be, by a column whose entries lie in that row and
    /// later ones only (a consumer in its area, a plant between its area and the pool,
    /// the unused headroom in the pool): the column becomes basic, moved by what the
    /// row lacks, and the later rows' residuals follow. The basis is then triangular.
    /// A row no column fits gets an artificial column, which phase 1 drives to zero;
    /// the artificials are then fixed there. Unless ramps force flows the crash basis
    /// is feasible and phase 1 has nothing to do.
    pub(super) fn start(&mut self) -> Result<(), EngineError> {
        debug_assert!(self.extra.is_empty() && self.basis.is_empty());
        let mut residual = self.residual(|_| true);
        let structural = self.arcs.len();
        self.structural = structural;
        self.free_movable();
        // The row of each column's first entry.
        let first: Vec<u32> = self
            .arcs
            .iter()
            .map(|arc| {
                arc.entries()
                    .iter()
                    .map(|&(i, _)| i)
                    .min()
                    .unwrap_or(u32::MAX)
            })
            .collect();
        for i in 0..self.m {
            let r = residual[i];
            let fits = (0..structural).find(|&j| {
                first[j] as usize == i
                    && self.arcs[j].entries().iter().any(|&(k, c)| {
                        let v = self.x[j] + r / c;
                        k as usize == i && v >= self.lo[j] && v <= self.hi[j]
                    })
            });
            let j = match fits {
                Some(j) => {
                    let arc = self.arcs[j];
                    let c = arc
                        .entries()
                        .iter()
                        .find(|&&(k, _)| k as usize == i)
                        .map_or(1.0, |e| e.1);
                    let delta = r / c;
                    self.x[j] += delta;
                    for &(k, ck) in arc.entries() {
                        residual[k as usize] -= ck * delta;
                    }
                    j
                }
                None => {
                    let sign = if r < 0.0 { -1.0 } else { 1.0 };
                    residual[i] = 0.0;
                    self.add_column(&[(i, sign)], 0.0, f64::INFINITY, r.abs())
                }
            };
            self.position[j] = i;
            self.basis.push(j);
        }
        self.refactor()?;
        let artificial: Vec<(usize, f64)> =
            (structural..self.arcs.len()).map(|a| (a, 1.0)).collect();
        if artificial.iter().any(|&(a, _)| self.x[a] > 0.0) {
            self.minimise(artificial.iter().copied())?;
            let left: f64 = artificial.iter().map(|&(a, _)| self.x[a]).sum();
            if left > INFEASIBLE {
                return Err(EngineError::Infeasible(left));
            }
        }
        for &(a, _) in &artificial {
            self.x[a] = 0.0;
            self.lo[a] = 0.0;
            self.hi[a] = 0.0;
        }
        self.free.retain(|&j| j < structural);
        self.recompute_basic();
        Ok(())
    }

    /// Starts from where a similar programme ended: its basis, and each non-basic
    /// column on the same bound as there. Returns `false`, with nothing changed, when that
    /// point is not feasible here (then [`Engine::start`] is the way in). Every column
    /// must still sit at its lower bound, as built.
    pub(super) fn start_from(&mut self, warm: &Warm) -> Result<bool, EngineError> {
        debug_assert!(self.extra.is_empty() && self.basis.is_empty());
        let structural = self.arcs.len();
        if warm.upper.len() != structural || warm.basis.len() != self.m {
            return Ok(false);
        }
        self.structural = structural;
        self.free_movable();
        for (j, &upper) in warm.upper.iter().enumerate() {
            if upper {
                self.x[j] = self.hi[j];
            }
        }
        for (i, &basic) in warm.basis.iter().enumerate() {
            let j = match basic {
                Basic::Column(j) => j,
                Basic::Artificial(row) => self.add_column(&[(row, 1.0)], 0.0, 0.0, 0.0),
            };
            self.position[j] = i;
            self.basis.push(j);
        }
        self.inv.clone_from(&warm.inv);
        self.pivots = warm.pivots;
        self.recompute_basic();
        if self.repair() {
            for &j in &self.basis {
                self.x[j] = self.x[j].clamp(self.lo[j], self.hi[j]);
            }
            return Ok(true);
        }
        // Back to the columns as built.
        for v in self.per_column() {
            v.truncate(structural);
        }
        self.arcs.truncate(structural);
        self.position.truncate(structural);
        self.position.iter_mut().for_each(|p| *p = NONBASIC);
        self.basis.clear();
        for j in 0..structural {
            self.x[j] = self.lo[j];
        }
        Ok(false)
    }

    /// Phase 1 from a warm basis whose basic values break their bounds: each such
    /// column's bounds are widened to where it stands, and the breaches are minimised
    /// (the values above their upper bounds, less those below their lower ones); a
    /// column back within its bounds gets them again and leaves the objective. Returns
    /// whether every column got back. A round that brings none back may have met a
    /// breach this basis cannot mend, or one no point can: either way the caller starts
    /// cold. Every bound is as posed again on return.
    fn repair(&mut self) -> bool {
        let outside = |e: &Engine, j: usize, (lo, hi): (f64, f64)| {
            let x = e.x[j];
            (x < lo - TOL || x > hi + TOL).then_some(if x > hi { 1.0 } else { -1.0 })
        };
        // (column, its bounds as posed, which way it breaks them)
        let mut breached: Vec<(usize, (f64, f64), f64)> = Vec::new();
        for &j in &self.basis {
            let bounds = (self.lo[j], self.hi[j]);
            if let Some(side) = outside(self, j, bounds) {
                breached.push((j, bounds, side));
            }
        }
        while !breached.is_empty() {
            for &(j, (lo, hi), _) in &breached {
                self.lo[j] = lo.min(self.x[j]);
                self.hi[j] = hi.max(self.x[j]);
            }
            let costs: Vec<(usize, f64)> = breached.iter().map(|&(j, _, side)| (j, side)).collect();
            let minimised = self.minimise(costs);
            let before = breached.len();
            breached.retain(|&(j, (lo, hi), _)| {
                let back = outside(self, j, (lo, hi)).is_none();
                if back {
                    self.lo[j] = lo;
                    self.hi[j] = hi;
                }
                !back
            });
            if minimised.is_err() || breached.len() == before {
                for &(j, (lo, hi), _) in &breached {
                    self.lo[j] = lo;
                    self.hi[j] = hi;
                }
                return false;
            }
        }
        true
    }

    /// Lists the structural columns that can move, for pricing.
    fn free_movable(&mut self) {
        let (lo, hi) = (&self.lo, &self.hi);
        self.free.clear();
        self.free
            .extend((0..self.structural).filter(|&j| lo[j] < hi[j]));
    }

    /// Where the programme stands, for [`Engine::start_from`]; only before any row has
    /// been added.
    pub(super) fn warm(&self) -> Option<Warm> {
        if !self.extra.is_empty() || self.basis.len() != self.m {
            return None;
        }
        let basis = self
            .basis
            .iter()
            .map(|&j| match j < self.structural {
                true => Basic::Column(j),
                false => Basic::Artificial(self.arcs[j].entries[0].0 as usize),
            })
            .collect();
        let upper = (0..self.structural)
            .map(|j| self.position[j] == NONBASIC && self.x[j] >= self.posed_hi[j])
            .collect();
        Some(Warm {
            basis,
            upper,
            inv: self.inv.clone(),
            pivots: self.pivots,
        })
    }

    /// Moves the point to a minimum of `Σ cost·x` over the current bounds.
    pub(super) fn minimise(
        &mut self,
        costs: impl IntoIterator<Item = (usize, f64)>,
    ) -> Result<(), EngineError> {
        self.cost.iter_mut().for_each(|c| *c = 0.0);
        for (j, c) in costs {
            self.cost[j] += c;
        }
        let limit = 50 * (self.m + self.arcs.len()) + 100;
        let mut degenerate = 0;
        self.price();
        for _ in 0..limit {
            let Some(j) = self.entering(degenerate >= DEGENERATE_RUN) else {
                return Ok(());
            };
            let moved = self.step(j, degenerate >= DEGENERATE_RUN)?;
            degenerate = if moved { 0 } else { degenerate + 1 };
        }
        Err(EngineError::IterationLimit)
    }

    /// Whether `col` is held at its current value on the last objective's optimal
    /// face: non-basic with a non-zero reduced cost (see [`Engine::fix_face`]).
    pub(super) fn held(&self, col: usize) -> bool {
        self.position[col] == NONBASIC && self.d[col].abs() > TOL
    }

    /// Pins every non-basic column whose reduced cost under the last objective is not
    /// zero at its current value: what remains is that objective's optimal face.
    /// Relies on the reduced costs [`Engine::minimise`] priced last.
    pub(super) fn fix_face(&mut self) {
        for k in 0..self.free.len() {
            let j = self.free[k];
            if self.held(j) {
                self.lo[j] = self.x[j];
                self.hi[j] = self.x[j];
            }
        }
        let (lo, hi) = (&self.lo, &self.hi);
        self.free.retain(|&j| lo[j] < hi[j]);
    }

    /// Duals `y = c_B·B⁻¹` and every reduced cost `d = c − y·A`.
    fn price(&mut self) {
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
        for &j in &self.free {
            let mut d = self.cost[j];
            for &(i, c) in self.arcs[j].entries() {
                d -= self.y[i as usize] * c;
            }
            self.d[j] = d;
        }
        for (k, row) in self.extra.iter().enumerate() {
            let y = self.y[self.nodes + k];
            if y != 0.0 {
                for &(j, c) in row {
                    self.d[j] -= y * c;
                }
            }
        }
    }

    /// The column to enter: the steepest improving (Dantzig), or with `bland` the
    /// first.
    fn entering(&self, bland: bool) -> Option<usize> {
        let mut best: Option<usize> = None;
        for &j in &self.free {
            let d = self.d[j];
            let improves = (d < -TOL && self.x[j] < self.hi[j] - TOL)
                || (d > TOL && self.x[j] > self.lo[j] + TOL);
            if !improves || self.position[j] != NONBASIC {
                continue;
            }
            if bland {
                return Some(j);
            }
            if best.is_none_or(|b| d.abs() > self.d[b].abs()) {
                best = Some(j);
            }
        }
        best
    }

    /// One primal step with `j` entering; returns whether the point moved.
    fn step(&mut self, j: usize, bland: bool) -> Result<bool, EngineError> {
        let m = self.m;
        let mut alpha = std::mem::take(&mut self.alpha);
        alpha.clear();
        alpha.resize(m, 0.0);
        self.entries(j, |i, c| {
            for (k, a) in alpha.iter_mut().enumerate() {
                *a += self.inv[k * m + i] * c;
            }
        });
        self.alpha = alpha;
        let dir = if self.d[j] < 0.0 { 1.0 } else { -1.0 };
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
        let (before, rest) = self.inv.split_at_mut(r * m);
        let (pivot_row, after) = rest.split_at_mut(m);
        for (k, row) in before.chunks_exact_mut(m).enumerate() {
            let a = self.alpha[k];
            if a != 0.0 {
                row.iter_mut()
                    .zip(pivot_row.iter())
                    .for_each(|(v, &p)| *v -= a * p);
            }
        }
        for (k, row) in after.chunks_exact_mut(m).enumerate() {
            let a = self.alpha[r + 1 + k];
            if a != 0.0 {
                row.iter_mut()
                    .zip(pivot_row.iter())
                    .for_each(|(v, &p)| *v -= a * p);
            }
        }
        self.position[self.basis[r]] = NONBASIC;
        self.basis[r] = j;
        self.position[j] = r;
        self.pivots += 1;
        if self.pivots >= REFACTOR {
            self.refactor()?;
            self.recompute_basic();
            self.price();
        } else {
            self.reprice(r, j);
        }
        Ok(())
    }

    /// Updates the duals and reduced costs after `j` entered at position `r`, in
    /// O(m + arcs) instead of pricing afresh: with `ρ` the new row `r` of `B⁻¹`,
    /// `y += d_j·ρ` and `d_k −= d_j·(ρ·a_k)`.
    fn reprice(&mut self, r: usize, j: usize) {
        let m = self.m;
        let dj = self.d[j];
        let rho = &self.inv[r * m..r * m + m];
        for (yi, &v) in self.y.iter_mut().zip(rho) {
            *yi += dj * v;
        }
        for &k in &self.free {
            let a: f64 = self.arcs[k]
                .entries()
                .iter()
                .map(|&(i, c)| rho[i as usize] * c)
                .sum();
            self.d[k] -= dj * a;
        }
        for (e, row) in self.extra.iter().enumerate() {
            let w = dj * rho[self.nodes + e];
            if w != 0.0 {
                for &(k, c) in row {
                    self.d[k] -= w * c;
                }
            }
        }
        self.d[j] = 0.0;
    }

    /// Rebuilds `B⁻¹` from the basis by Gauss–Jordan elimination with partial pivoting.
    fn refactor(&mut self) -> Result<(), EngineError> {
        let m = self.m;
        let mut b = vec![0.0; m * m];
        for (k, &col) in self.basis.iter().enumerate() {
            self.entries(col, |i, c| b[i * m + k] = c);
        }
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
        let residual = self.residual(|j| self.position[j] == NONBASIC);
        for k in 0..m {
            let v: f64 = (0..m).map(|i| self.inv[k * m + i] * residual[i]).sum();
            self.x[self.basis[k]] = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two rows: a source node with `supply` units, a sink node. Arcs: source→sink with
    /// gain 0.9 (cap 8), source→sink lossless (cap 5), a sink arc out of the sink node,
    /// and a slack out of the source.
    fn small(supply: f64) -> (Engine, [usize; 4]) {
        let mut e = Engine::new(2, 4);
        e.set_rhs(0, -supply);
        let lossy = e.add_column(&[(0, -1.0), (1, 0.9)], 0.0, 8.0, 0.0);
        let clean = e.add_column(&[(0, -1.0), (1, 1.0)], 0.0, 5.0, 0.0);
        let served = e.add_column(&[(1, -1.0)], 0.0, f64::INFINITY, 0.0);
        let slack = e.add_column(&[(0, -1.0)], 0.0, f64::INFINITY, 0.0);
        (e, [lossy, clean, served, slack])
    }

    #[test]
    fn finds_the_optimum_of_a_small_network() {
        let (mut e, [lossy, clean, served, slack]) = small(10.0);
        e.start().unwrap();
        e.minimise([(served, -1.0)]).unwrap();
        // 5 lossless + 5 of the lossy arc's 8 (the supply runs out): 5 + 4.5.
        assert!((e.value(served) - 9.5).abs() < 1e-9);
        assert!((e.value(clean) - 5.0).abs() < 1e-9);
        assert!((e.value(lossy) - 5.0).abs() < 1e-9);
        assert!(e.value(slack).abs() < 1e-9);
        // The face pins the served total: a later objective cannot trade it away.
        e.fix_face();
        e.minimise([(served, 1.0)]).unwrap();
        assert!((e.value(served) - 9.5).abs() < 1e-9);
    }

    #[test]
    fn a_warm_start_reaches_the_cold_optimum_mends_its_basis_or_declines() {
        let (mut first, [.., served, _]) = small(10.0);
        first.start().unwrap();
        first.minimise([(served, -1.0)]).unwrap();
        let warm = first.warm().expect("no row added");
        // A little more supply: the old basis still fits, and the optimum moves.
        let (mut next, _) = small(11.0);
        assert!(next.start_from(&warm).unwrap());
        next.minimise([(served, -1.0)]).unwrap();
        assert!(
            (next.value(served) - 10.4).abs() < 1e-9,
            "{}",
            next.value(served)
        );
        // Much less: the old basis drives a flow below zero, and phase 1 from that
        // basis mends it.
        let (mut short, [lossy, clean, ..]) = small(2.0);
        assert!(short.start_from(&warm).unwrap());
        assert!(short.value(lossy) >= 0.0 && short.value(clean) >= 0.0);
        short.minimise([(served, -1.0)]).unwrap();
        assert!(
            (short.value(served) - 2.0).abs() < 1e-9,
            "{}",
            short.value(served)
        );
        // A demand no point meets: it declines, bounds as posed, and the cold start
        // tells why.
        let (mut none, [lossy, ..]) = small(-1.0);
        assert!(!none.start_from(&warm).unwrap());
        assert_eq!(none.bounds(lossy), (0.0, 8.0));
        assert!(matches!(none.start(), Err(EngineError::Infeasible(_))));
    }

    #[test]
    fn reports_infeasible_bounds() {
        let mut e = Engine::new(1, 2);
        // x + y = 0 with x ≥ 1, y ≥ 0.
        e.add_column(&[(0, 1.0)], 1.0, 2.0, 1.0);
        e.add_column(&[(0, 1.0)], 0.0, 2.0, 0.0);
        assert!(matches!(e.start(), Err(EngineError::Infeasible(_))));
    }

    #[test]
    fn a_row_added_at_the_current_point_keeps_it_feasible() {
        let mut e = Engine::new(1, 2);
        e.set_rhs(0, 10.0);
        let a = e.add_column(&[(0, 1.0)], 0.0, 10.0, 0.0);
        let b = e.add_column(&[(0, 1.0)], 0.0, 10.0, 0.0);
        e.start().unwrap();
        e.minimise([(a, -1.0)]).unwrap();
        // a − b ≥ 2 holds at a = 10, b = 0; then maximise b: a = 6, b = 4.
        let s = e.add_row(&[(a, 1.0), (b, -1.0)], 2.0, f64::INFINITY);
        e.minimise([(b, -1.0)]).unwrap();
        assert!((e.value(s) - 2.0).abs() < 1e-9);
        assert!((e.value(a) - 6.0).abs() < 1e-9, "{}", e.value(a));
        assert!((e.value(b) - 4.0).abs() < 1e-9);
    }
}
