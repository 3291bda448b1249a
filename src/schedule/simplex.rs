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
struct ArcEntries {
    len: u8,
    entries: [(u32, f64); 2],
}

impl ArcEntries {
    fn entries(&self) -> &[(u32, f64)] {
        &self.entries[..self.len as usize]
    }
}

/// One column: its entries, bounds, value, and its cost and reduced cost under the
/// last objective. Kept together because pricing and the ratio test read them
/// together, column by column.
#[derive(Debug, Clone, Copy)]
struct Column {
    arc: ArcEntries,
    lo: f64,
    hi: f64,
    /// Its upper bound as posed, before any step pinned it; a warm start reads off it
    /// which bound a non-basic column sits on.
    posed_hi: f64,
    x: f64,
    cost: f64,
    d: f64,
    /// Its position in `basis`, or [`NONBASIC`].
    position: usize,
}

impl Column {
    fn bounds(&self) -> (f64, f64) {
        (self.lo, self.hi)
    }

    /// Held at its value on the last objective's optimal face: non-basic with a
    /// non-zero reduced cost.
    fn held(&self) -> bool {
        self.position == NONBASIC && self.d.abs() > TOL
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct Engine {
    /// Node rows: the first rows, given at construction.
    nodes: usize,
    /// All rows: the node rows, then the rows [`Engine::add_row`] appends.
    m: usize,
    rhs: Vec<f64>,
    /// The network's arcs, then the columns added later (fair-share levels and
    /// surpluses, phase-1 artificials).
    cols: Vec<Column>,
    /// Per appended row: its (column, coefficient) terms, the surplus included.
    extra: Vec<Vec<(usize, f64)>>,
    /// Column basic at each position, one position per row.
    basis: Vec<usize>,
    /// `B⁻¹`, row-major `m × m`: row = basis position, column = constraint row.
    inv: Vec<f64>,
    pivots: usize,
    /// Columns before the artificial ones [`Engine::start`] adds.
    structural: usize,
    /// Columns that can move (`lo < hi`), the only ones pricing looks at; refreshed
    /// by [`Engine::fix_face`].
    free: Vec<usize>,
    /// The duals of the last [`Engine::minimise`]'s objective.
    y: Vec<f64>,
    /// Scratch: the entering column's image `B⁻¹·a_j`.
    alpha: Vec<f64>,
    /// Where the programme stood when its first row was added (see [`Engine::warm`]).
    rowless: Option<Warm>,
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
        e.cols.reserve(columns + nodes);
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
        self.drop_basis(columns);
        self.inv.clear();
        self.rowless = None;
        self.extra.clear();
        self.free.clear();
        self.pivots = 0;
        self.structural = 0;
        self
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
        let mut arc = ArcEntries::default();
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
        let hi = hi.max(lo);
        self.cols.push(Column {
            arc,
            lo,
            hi,
            posed_hi: hi,
            x: value.clamp(lo, hi),
            cost: 0.0,
            d: 0.0,
            position: NONBASIC,
        });
        let j = self.cols.len() - 1;
        if lo < hi {
            self.free.push(j);
        }
        j
    }

    pub(super) fn value(&self, col: usize) -> f64 {
        self.cols[col].x
    }

    pub(super) fn bounds(&self, col: usize) -> (f64, f64) {
        self.cols[col].bounds()
    }

    pub(super) fn fixed(&self, col: usize) -> bool {
        let (lo, hi) = self.bounds(col);
        lo >= hi
    }

    /// Sets a column's bounds before a start, and puts it at its lower bound.
    pub(super) fn reset_bounds(&mut self, col: usize, lo: f64, hi: f64) {
        let col = &mut self.cols[col];
        (col.lo, col.hi) = (lo, hi.max(lo));
        col.posed_hi = col.hi;
        col.x = lo;
    }

    /// Sets a column's bounds, widened as needed to contain its current value, so the
    /// current point stays feasible.
    pub(super) fn set_bounds(&mut self, col: usize, lo: f64, hi: f64) {
        let col = &mut self.cols[col];
        (col.lo, col.hi) = (lo.min(col.x), hi.max(col.x));
    }

    /// Adds the row `Σ coeff·x − s = 0` with a new surplus column `s`, basic at the
    /// row's current value, with bounds `[lo, hi]` (widened to contain that value).
    /// Returns `s`.
    pub(super) fn add_row(&mut self, terms: &[(usize, f64)], lo: f64, hi: f64) -> usize {
        if self.extra.is_empty() {
            self.rowless = self.here();
        }
        let m = self.m;
        let value: f64 = terms.iter().map(|&(col, c)| c * self.cols[col].x).sum();
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
            let k = self.cols[col].position;
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
        self.cols[s].position = self.basis.len();
        self.basis.push(s);
        s
    }

    /// Calls `f(row, coefficient)` for every entry of column `j`.
    fn entries(&self, j: usize, mut f: impl FnMut(usize, f64)) {
        for &(i, c) in self.cols[j].arc.entries() {
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
        for (j, col) in self.cols.iter().enumerate() {
            if include(j) {
                for &(i, c) in col.arc.entries() {
                    r[i as usize] -= c * col.x;
                }
            }
        }
        for (k, row) in self.extra.iter().enumerate() {
            for &(j, c) in row {
                if include(j) {
                    r[self.nodes + k] -= c * self.cols[j].x;
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
        let structural = self.cols.len();
        self.structural = structural;
        self.free_movable();
        // The row of each column's first entry.
        let first: Vec<u32> = self
            .cols
            .iter()
            .map(|col| {
                col.arc
                    .entries()
                    .iter()
                    .map(|&(i, _)| i)
                    .min()
                    .unwrap_or(u32::MAX)
            })
            .collect();
        for i in 0..self.m {
            let r = residual[i];
            let fits = (0..structural).find(|&j| {
                let col = &self.cols[j];
                first[j] as usize == i
                    && col.arc.entries().iter().any(|&(k, c)| {
                        let v = col.x + r / c;
                        k as usize == i && v >= col.lo && v <= col.hi
                    })
            });
            let j = match fits {
                Some(j) => {
                    let arc = self.cols[j].arc;
                    let c = arc
                        .entries()
                        .iter()
                        .find(|&&(k, _)| k as usize == i)
                        .map_or(1.0, |e| e.1);
                    let delta = r / c;
                    self.cols[j].x += delta;
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
            self.cols[j].position = i;
            self.basis.push(j);
        }
        self.refactor()?;
        let artificial: Vec<(usize, f64)> =
            (structural..self.cols.len()).map(|a| (a, 1.0)).collect();
        if artificial.iter().any(|&(a, _)| self.cols[a].x > 0.0) {
            self.minimise(artificial.iter().copied())?;
            let left: f64 = artificial.iter().map(|&(a, _)| self.cols[a].x).sum();
            if left > INFEASIBLE {
                return Err(EngineError::Infeasible(left));
            }
        }
        for &(a, _) in &artificial {
            let col = &mut self.cols[a];
            (col.x, col.lo, col.hi) = (0.0, 0.0, 0.0);
        }
        self.free.retain(|&j| j < structural);
        self.recompute_basic();
        Ok(())
    }

    /// Starts from where a similar programme ended: its basis, and each non-basic
    /// column on the same bound as there, mended by [`Engine::repair`] if a basic value
    /// breaks its bounds here. Returns `false`, with nothing changed, when it cannot be
    /// mended (then [`Engine::start`] is the way in). Every column must still sit at its
    /// lower bound, as built.
    pub(super) fn start_from(&mut self, warm: &Warm) -> Result<bool, EngineError> {
        debug_assert!(self.extra.is_empty() && self.basis.is_empty());
        let structural = self.cols.len();
        if warm.upper.len() != structural || warm.basis.len() != self.m {
            return Ok(false);
        }
        self.structural = structural;
        self.free_movable();
        for (col, &upper) in self.cols.iter_mut().zip(&warm.upper) {
            if upper {
                col.x = col.hi;
            }
        }
        for (i, &basic) in warm.basis.iter().enumerate() {
            let j = match basic {
                Basic::Column(j) => j,
                Basic::Artificial(row) => self.add_column(&[(row, 1.0)], 0.0, 0.0, 0.0),
            };
            self.cols[j].position = i;
            self.basis.push(j);
        }
        self.inv.clone_from(&warm.inv);
        self.pivots = warm.pivots;
        self.recompute_basic();
        if self.repair() {
            for &j in &self.basis {
                let col = &mut self.cols[j];
                col.x = col.x.clamp(col.lo, col.hi);
            }
            return Ok(true);
        }
        self.drop_basis(structural);
        Ok(false)
    }

    /// Keeps the first `columns` columns, each non-basic at its lower bound, as built.
    fn drop_basis(&mut self, columns: usize) {
        self.cols.truncate(columns);
        for col in &mut self.cols {
            col.position = NONBASIC;
            col.x = col.lo;
        }
        self.basis.clear();
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
            let x = e.cols[j].x;
            (x < lo - TOL || x > hi + TOL).then_some(if x > hi { 1.0 } else { -1.0 })
        };
        // (column, its bounds as posed, which way it breaks them)
        let mut breached: Vec<(usize, (f64, f64), f64)> = Vec::new();
        for &j in &self.basis {
            let bounds = self.cols[j].bounds();
            if let Some(side) = outside(self, j, bounds) {
                breached.push((j, bounds, side));
            }
        }
        while !breached.is_empty() {
            for &(j, (lo, hi), _) in &breached {
                self.set_bounds(j, lo, hi);
            }
            let costs: Vec<(usize, f64)> = breached.iter().map(|&(j, _, side)| (j, side)).collect();
            let minimised = self.minimise(costs);
            let before = breached.len();
            breached.retain(|&(j, (lo, hi), _)| {
                let back = outside(self, j, (lo, hi)).is_none();
                if back {
                    (self.cols[j].lo, self.cols[j].hi) = (lo, hi);
                }
                !back
            });
            if minimised.is_err() || breached.len() == before {
                for &(j, (lo, hi), _) in &breached {
                    (self.cols[j].lo, self.cols[j].hi) = (lo, hi);
                }
                return false;
            }
        }
        true
    }

    /// Lists the structural columns that can move, for pricing.
    fn free_movable(&mut self) {
        let cols = &self.cols[..self.structural];
        self.free.clear();
        self.free
            .extend((0..cols.len()).filter(|&j| cols[j].lo < cols[j].hi));
    }

    /// Where the programme stands, for [`Engine::start_from`]; once rows have been
    /// added, where it stood when the first was (the next programme has none of them).
    pub(super) fn warm(&mut self) -> Option<Warm> {
        match self.extra.is_empty() {
            true => self.here(),
            false => self.rowless.take(),
        }
    }

    /// Where the programme stands, while it has no added row.
    fn here(&self) -> Option<Warm> {
        if !self.extra.is_empty() || self.basis.len() != self.m {
            return None;
        }
        let basis = self
            .basis
            .iter()
            .map(|&j| match j < self.structural {
                true => Basic::Column(j),
                false => Basic::Artificial(self.cols[j].arc.entries[0].0 as usize),
            })
            .collect();
        let upper = (0..self.structural)
            .map(|j| {
                let col = &self.cols[j];
                col.position == NONBASIC && col.x >= col.posed_hi
            })
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
        for col in &mut self.cols {
            col.cost = 0.0;
        }
        for (j, c) in costs {
            self.cols[j].cost += c;
        }
        let limit = 50 * (self.m + self.cols.len()) + 100;
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
        self.cols[col].held()
    }

    /// Pins every non-basic column whose reduced cost under the last objective is not
    /// zero at its current value: what remains is that objective's optimal face.
    /// Relies on the reduced costs [`Engine::minimise`] priced last.
    pub(super) fn fix_face(&mut self) {
        let cols = &mut self.cols;
        self.free.retain(|&j| {
            let col = &mut cols[j];
            if col.held() {
                col.lo = col.x;
                col.hi = col.x;
            }
            col.lo < col.hi
        });
    }

    /// Duals `y = c_B·B⁻¹` and every reduced cost `d = c − y·A`.
    fn price(&mut self) {
        let m = self.m;
        self.y.clear();
        self.y.resize(m, 0.0);
        let mut priced = false;
        for (k, &col) in self.basis.iter().enumerate() {
            let c = self.cols[col].cost;
            if c != 0.0 {
                priced = true;
                for (yi, &v) in self.y.iter_mut().zip(&self.inv[k * m..k * m + m]) {
                    *yi += c * v;
                }
            }
        }
        let y = &self.y;
        for &j in &self.free {
            let col = &mut self.cols[j];
            col.d = col.cost;
            // No basic column in the objective: every dual is 0, and d = c.
            if priced {
                for &(i, c) in col.arc.entries() {
                    col.d -= y[i as usize] * c;
                }
            }
        }
        for (k, row) in self.extra.iter().enumerate() {
            let y = self.y[self.nodes + k];
            if y != 0.0 {
                for &(j, c) in row {
                    self.cols[j].d -= y * c;
                }
            }
        }
    }

    /// The column to enter: the steepest improving (Dantzig), or with `bland` the
    /// first.
    fn entering(&self, bland: bool) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for &j in &self.free {
            let col = &self.cols[j];
            let d = col.d;
            let improves = (d < -TOL && col.x < col.hi - TOL) || (d > TOL && col.x > col.lo + TOL);
            if !improves || col.position != NONBASIC {
                continue;
            }
            if bland {
                return Some(j);
            }
            if best.is_none_or(|(_, b)| d.abs() > b) {
                best = Some((j, d.abs()));
            }
        }
        best.map(|(j, _)| j)
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
        let entering = &self.cols[j];
        let dir = if entering.d < 0.0 { 1.0 } else { -1.0 };
        let mut t_max = if dir > 0.0 {
            entering.hi - entering.x
        } else {
            entering.x - entering.lo
        };
        let mut leave: Option<usize> = None;
        for k in 0..m {
            let rate = -dir * self.alpha[k];
            if rate.abs() <= PIVOT_TOL {
                continue;
            }
            let col = self.basis[k];
            let basic = &self.cols[col];
            let room = if rate < 0.0 {
                basic.x - basic.lo
            } else {
                basic.hi - basic.x
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
        self.cols[j].x += dir * t;
        for (&col, &a) in self.basis.iter().zip(&self.alpha) {
            self.cols[col].x -= dir * t * a;
        }
        match leave {
            None => {
                // The entering column crossed to its other bound.
                let col = &mut self.cols[j];
                col.x = if dir > 0.0 { col.hi } else { col.lo };
            }
            Some(r) => {
                let out = &mut self.cols[self.basis[r]];
                out.x = if -dir * self.alpha[r] < 0.0 {
                    out.lo
                } else {
                    out.hi
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
        let out = self.basis[r];
        self.cols[out].position = NONBASIC;
        self.basis[r] = j;
        self.cols[j].position = r;
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
        let dj = self.cols[j].d;
        let rho = &self.inv[r * m..r * m + m];
        for (yi, &v) in self.y.iter_mut().zip(rho) {
            *yi += dj * v;
        }
        for &k in &self.free {
            let a: f64 = self.cols[k]
                .arc
                .entries()
                .iter()
                .map(|&(i, c)| rho[i as usize] * c)
                .sum();
            self.cols[k].d -= dj * a;
        }
        for (e, row) in self.extra.iter().enumerate() {
            let w = dj * rho[self.nodes + e];
            if w != 0.0 {
                for &(k, c) in row {
                    self.cols[k].d -= w * c;
                }
            }
        }
        self.cols[j].d = 0.0;
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
        let residual = self.residual(|j| self.cols[j].position == NONBASIC);
        for k in 0..m {
            let v: f64 = (0..m).map(|i| self.inv[k * m + i] * residual[i]).sum();
            let j = self.basis[k];
            self.cols[j].x = v;
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
