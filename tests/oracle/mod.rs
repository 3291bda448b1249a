//! An independent reference for the scheduler: the lexicographic linear programme of
//! `docs/scheduling.md`, written from the documentation alone and solved with
//! `good_lp` (the pure-Rust `microlp` backend), so that a bug in the scheduler's own
//! formulation cannot hide behind the same bug here.
//!
//! It is deliberately plain: every objective rebuilds the whole programme from
//! scratch, and fixings are explicit `≥` constraints. Speed is not the point; an
//! obviously faithful translation of the rules is.

#![allow(dead_code)]

pub mod network;

use good_lp::{
    Expression, ProblemVariables, ResolutionError, Solution, SolverModel, Variable, microlp,
    variable,
};
use std::collections::BTreeMap;
use vakhsh::grid::{ContractKind, Firmness, Grid, GridState, LoadClass, Nomination};
use vakhsh::schedule::OperatingState;
use vakhsh::time::Timestamp;

/// Absolute part of the tolerance kept when a tier's optimum is fixed. It is kept far
/// below rule 10's 1e-6 because later tiers can trade it back amplified: a transit
/// costs the domestic side only its losses, so 1e-9 MW given up by an earlier tier can
/// buy 1e-9 / loss_fraction MW of a later tier's transit.
const FIX_ABS: f64 = 1e-9;
/// Relative part of the same tolerance.
const FIX_REL: f64 = 1e-11;
/// The looser tolerance (1e-7 MW + 1e-9 relative) used when the solver's own
/// feasibility tolerance makes a tightly fixed programme infeasible.
const LOOSE_ABS: f64 = 1e-7;
const LOOSE_REL: f64 = 1e-9;
/// How far below its request a figure may be and still count as met when the state is
/// judged: rule 10's tolerance, 1e-6 relative with a 1e-6 MW floor (docs: operating
/// states).
fn met(request: f64) -> f64 {
    1e-6_f64.max(1e-6 * request.abs())
}

fn slack(x: f64) -> f64 {
    FIX_ABS + FIX_REL * x.abs()
}

/// Fairness shares only decide the judged state, which is read to 1e-6 MW; they are
/// held more loosely so that chains of fixings stay feasible for the solver.
fn share_slack(x: f64) -> f64 {
    1e-6 + LOOSE_REL * x.abs()
}

/// Requested and served MW of one tier.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TierFigures {
    pub requested_mw: f64,
    pub served_mw: f64,
}

/// What the oracle finds for one tick.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Per tier of the programme under the given restrictions.
    pub tiers: BTreeMap<u32, TierFigures>,
    /// The state judged on the unrestricted programme.
    pub judged: OperatingState,
    /// What each plant offers after the rule curve.
    pub avail: Vec<f64>,
    pub reserve_required_mw: f64,
    /// Each contract's request (reported even outside its window).
    pub contract_requests: Vec<f64>,
    /// Net-flow range each line was held to under the restrictions' programme.
    pub line_range: Vec<(f64, f64)>,
    /// True when the ramps left no feasible schedule and were dropped for the tick.
    pub ramps_dropped: bool,
    /// True when the tight fixings left the solver no solution and the loose ones
    /// (1e-7 MW + 1e-9 relative) were used: tiers may then sit that much below their
    /// optimum, amplified by transits.
    pub loose: bool,
    /// True when the documented programme's schedule (tiers, fairness, least waste,
    /// least flow) still sends MW both ways on a lossy line: the programme burns MW
    /// there that nothing absorbs, and net flows alone cannot balance.
    pub two_way: bool,
    /// One optimal schedule (least waste after the tiers), to read when a case fails.
    pub witness: Witness,
}

/// One optimal schedule of the oracle, for diagnosis only: not unique.
#[derive(Debug, Clone, Default)]
pub struct Witness {
    pub g: Vec<f64>,
    pub spill: Vec<f64>,
    /// (from→to, to→from) MW sent per line.
    pub flows: Vec<(f64, f64)>,
    /// Served MW per consumer, described.
    pub served: Vec<(String, u32, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Load(usize),
    DcFirm(usize),
    DcFlexible(usize),
    Floor(usize),
    Rest(usize),
    Reserve,
}

/// One consumer of the programme: something that may be served at a tier.
#[derive(Debug, Clone)]
struct Consumer {
    who: Who,
    tier: u32,
    request: f64,
    /// Upper bound on served MW after windows and state restrictions.
    cap: f64,
    /// Area where the MW are withdrawn (none for the reserve: it is headroom).
    withdraw: Option<usize>,
    /// Area where a transit's MW are injected.
    inject: Option<usize>,
}

/// Bounds of one line: the two directed variables and, with a ramp, the net range.
#[derive(Debug, Clone, Copy)]
struct LineLimits {
    /// Capacity and derating alone, what is left when ramps are dropped.
    cap_fwd: f64,
    cap_rev: f64,
    /// The same widened to the ramp's nearest point when a derating is below reach.
    fwd_hi: f64,
    rev_hi: f64,
    /// Net flow (fwd − rev) range imposed by the ramp, if any.
    ramp: Option<(f64, f64)>,
}

/// The programme's data for one tick, before any objective.
struct Programme<'a> {
    grid: &'a Grid,
    avail: Vec<f64>,
    must_run: Vec<f64>,
    consumers: Vec<Consumer>,
    lines: Vec<LineLimits>,
    reserve_required: f64,
    contract_requests: Vec<f64>,
}

/// What to optimise in one solve.
enum Goal<'a> {
    /// Maximise the served MW of this tier.
    Tier(u32),
    /// Maximise λ with every listed consumer served at least λ × its cap.
    Fraction(&'a [usize]),
    /// Maximise one consumer, the listed ones held at λ × cap.
    One(usize, &'a [usize], f64),
    /// Least spill plus line losses.
    Waste,
    /// Least total MW sent on the lines.
    Flow,
}

/// The variables' values of one solve.
struct Values {
    g: Vec<f64>,
    spill: Vec<f64>,
    fwd: Vec<f64>,
    rev: Vec<f64>,
    served: Vec<f64>,
    objective: f64,
}

/// Lower bounds fixed by earlier objectives.
#[derive(Default, Clone)]
struct Fixes {
    tiers: Vec<(u32, f64)>,
    consumers: Vec<(usize, f64)>,
    /// Most spill plus losses allowed.
    waste: Option<f64>,
}

impl<'a> Programme<'a> {
    fn new(
        grid: &'a Grid,
        state: &GridState,
        ts: Timestamp,
        previous: Option<&(Timestamp, Vec<f64>)>,
        restrictions: OperatingState,
    ) -> Self {
        let avail: Vec<f64> = grid
            .plants
            .iter()
            .zip(&state.plants)
            .map(|(plant, reading)| {
                let mut a = reading.available_mw.min(plant.capacity_mw).max(0.0);
                if let (Some(r), Some(level)) = (&plant.reservoir, reading.reservoir_level_m) {
                    let month = ts.month() as usize;
                    if level < r.rule_curve_m[month - 1] || level < r.floor_m {
                        a = a.min(reading.inflow_mw.unwrap_or(0.0).max(0.0));
                    }
                }
                a
            })
            .collect();
        let must_run = grid
            .plants
            .iter()
            .zip(&avail)
            .map(|(p, &a)| p.min_mw.min(a))
            .collect();

        let mut consumers = Vec::new();
        let mut domestic_demand = 0.0;
        for (i, load) in grid.loads.iter().enumerate() {
            let mw = state.loads[i].max(0.0);
            domestic_demand += mw;
            consumers.push(Consumer {
                who: Who::Load(i),
                tier: load.tier,
                request: mw,
                cap: mw,
                withdraw: Some(load.area),
                inject: None,
            });
        }
        for (i, dc) in grid.data_centers.iter().enumerate() {
            let firm = state.data_centers[i].firm_mw.max(0.0);
            let flexible = state.data_centers[i].flexible_mw.max(0.0);
            domestic_demand += firm + flexible;
            consumers.push(Consumer {
                who: Who::DcFirm(i),
                tier: dc.firm_tier,
                request: firm,
                cap: firm,
                withdraw: Some(dc.area),
                inject: None,
            });
            let flexible_cap = if restrictions == OperatingState::Emergency {
                0.0
            } else {
                flexible
            };
            consumers.push(Consumer {
                who: Who::DcFlexible(i),
                tier: dc.flexible_tier,
                request: flexible,
                cap: flexible_cap,
                withdraw: Some(dc.area),
                inject: None,
            });
        }
        let mut contract_requests = Vec::new();
        for (i, contract) in grid.contracts.iter().enumerate() {
            let request = match state.nominations[i] {
                Nomination::None => 0.0,
                Nomination::Max => contract.max_mw,
                Nomination::Mw(mw) => mw.max(0.0).min(contract.max_mw),
            };
            contract_requests.push(request);
            let open = contract.in_window(ts);
            let inject = (contract.kind == ContractKind::Transit).then_some(contract.from);
            let floor_mw = contract.floor.map_or(0.0, |f| f.mw);
            let floor_part = request.min(floor_mw);
            let rest_part = request - floor_part;
            // Alert limits non-firm contracts to their floor; emergency, all contracts.
            let rest_allowed = match restrictions {
                OperatingState::Normal => true,
                OperatingState::Alert => contract.firmness == Firmness::Firm,
                OperatingState::Emergency => false,
            };
            if let Some(floor) = contract.floor {
                consumers.push(Consumer {
                    who: Who::Floor(i),
                    tier: floor.tier,
                    request: floor_part,
                    cap: if open { floor_part } else { 0.0 },
                    withdraw: Some(contract.to),
                    inject,
                });
            }
            consumers.push(Consumer {
                who: Who::Rest(i),
                tier: contract.tier,
                request: rest_part,
                cap: if open && rest_allowed { rest_part } else { 0.0 },
                withdraw: Some(contract.to),
                inject,
            });
        }
        let mut reserve_required = 0.0;
        if let Some(reserve) = &grid.reserve {
            let mut r = reserve.min_mw;
            if reserve.largest_unit {
                for (p, plant) in grid.plants.iter().enumerate() {
                    if avail[p] > 0.0 {
                        r = r.max(plant.unit_mw);
                    }
                }
            }
            r = r.max(reserve.fraction_of_demand * domestic_demand);
            reserve_required = r;
            consumers.push(Consumer {
                who: Who::Reserve,
                tier: reserve.tier,
                request: r,
                cap: r,
                withdraw: None,
                inject: None,
            });
        }

        let elapsed_min = previous.map(|(last, _)| ts.micros_since(*last) as f64 / 60e6);
        let lines = grid
            .lines
            .iter()
            .enumerate()
            .map(|(l, line)| {
                let reading = state.lines[l];
                if !reading.in_service {
                    return LineLimits {
                        cap_fwd: 0.0,
                        cap_rev: 0.0,
                        fwd_hi: 0.0,
                        rev_hi: 0.0,
                        ramp: None,
                    };
                }
                let derate = reading.derated_mw.unwrap_or(f64::INFINITY).max(0.0);
                let mut fwd_hi = line.capacity_mw.min(derate);
                let mut rev_hi = line.reverse_capacity_mw.min(derate);
                let mut ramp = None;
                if let (Some((_, flows)), Some(minutes)) = (previous, elapsed_min)
                    && line.ramp_mw_per_min > 0.0
                {
                    let reach = line.ramp_mw_per_min * minutes;
                    let (lo, hi) = (flows[l] - reach, flows[l] + reach);
                    if hi < -rev_hi {
                        // A derating below the ramp's reach: come down at ramp rate.
                        rev_hi = -hi;
                        ramp = Some((hi, hi));
                    } else if lo > fwd_hi {
                        fwd_hi = lo;
                        ramp = Some((lo, lo));
                    } else {
                        ramp = Some((lo.max(-rev_hi), hi.min(fwd_hi)));
                    }
                }
                LineLimits {
                    cap_fwd: line.capacity_mw.min(derate),
                    cap_rev: line.reverse_capacity_mw.min(derate),
                    fwd_hi,
                    rev_hi,
                    ramp,
                }
            })
            .collect();

        Programme {
            grid,
            avail,
            must_run,
            consumers,
            lines,
            reserve_required,
            contract_requests,
        }
    }

    /// Builds the programme with every constraint of the docs and solves it for `goal`.
    fn solve(&self, ramps: bool, fixes: &Fixes, goal: &Goal) -> Result<Values, ResolutionError> {
        let grid = self.grid;
        let mut vars = ProblemVariables::new();
        let g: Vec<Variable> = self
            .avail
            .iter()
            .map(|&a| vars.add(variable().min(0.0).max(a)))
            .collect();
        let spill: Vec<Variable> = self
            .must_run
            .iter()
            .map(|&m| vars.add(variable().min(0.0).max(m)))
            .collect();
        let mut fwd = Vec::new();
        let mut rev = Vec::new();
        for limits in &self.lines {
            let (f_hi, r_hi) = if ramps {
                (limits.fwd_hi, limits.rev_hi)
            } else {
                // Without ramps the nearest-point widening does not apply.
                (limits.cap_fwd, limits.cap_rev)
            };
            fwd.push(vars.add(variable().min(0.0).max(f_hi)));
            rev.push(vars.add(variable().min(0.0).max(r_hi)));
        }
        let served: Vec<Variable> = self
            .consumers
            .iter()
            .map(|c| vars.add(variable().min(0.0).max(c.cap)))
            .collect();
        let lambda = vars.add(variable().min(0.0).max(1.0));

        let mut waste = Expression::from(0.0);
        for &s in &spill {
            waste.add_mul(1.0, s);
        }
        for (l, line) in grid.lines.iter().enumerate() {
            waste.add_mul(line.loss_fraction, fwd[l]);
            waste.add_mul(line.loss_fraction, rev[l]);
        }
        let mut objective = Expression::from(0.0);
        match goal {
            Goal::Tier(t) => {
                for (c, consumer) in self.consumers.iter().enumerate() {
                    if consumer.tier == *t {
                        objective.add_mul(1.0, served[c]);
                    }
                }
            }
            Goal::Fraction(_) => objective.add_mul(1.0, lambda),
            Goal::One(c, _, _) => objective.add_mul(1.0, served[*c]),
            Goal::Waste => objective = -waste.clone(),
            Goal::Flow => {
                for l in 0..grid.lines.len() {
                    objective.add_mul(-1.0, fwd[l]);
                    objective.add_mul(-1.0, rev[l]);
                }
            }
        }
        let mut model = vars.maximise(objective.clone()).using(microlp);

        // Must-run: what the setpoint falls short of the must-run bound is spill.
        for p in 0..g.len() {
            model = model.with((g[p] + spill[p]).geq(self.must_run[p]));
        }
        // Balance at every area.
        let mut balance: Vec<Expression> = vec![Expression::from(0.0); grid.areas.len()];
        for (p, plant) in grid.plants.iter().enumerate() {
            balance[plant.area].add_mul(1.0, g[p]);
        }
        for (l, line) in grid.lines.iter().enumerate() {
            let keep = 1.0 - line.loss_fraction;
            balance[line.from].add_mul(-1.0, fwd[l]);
            balance[line.from].add_mul(keep, rev[l]);
            balance[line.to].add_mul(keep, fwd[l]);
            balance[line.to].add_mul(-1.0, rev[l]);
        }
        for (c, consumer) in self.consumers.iter().enumerate() {
            if let Some(a) = consumer.withdraw {
                balance[a].add_mul(-1.0, served[c]);
            }
            if let Some(a) = consumer.inject {
                balance[a].add_mul(1.0, served[c]);
            }
        }
        for expr in balance {
            model = model.with(expr.eq(0.0));
        }
        // Ramps on the net flow. A line never carries both ways, so each direction
        // also stays within what the ramp lets the net flow reach that way: a range
        // that excludes zero fixes the direction.
        if ramps {
            for (l, limits) in self.lines.iter().enumerate() {
                if let Some((lo, hi)) = limits.ramp {
                    model = model.with((fwd[l] - rev[l]).geq(lo));
                    model = model.with((fwd[l] - rev[l]).leq(hi));
                    model = model.with(Expression::from(fwd[l]).leq(hi.max(0.0)));
                    model = model.with(Expression::from(rev[l]).leq((-lo).max(0.0)));
                }
            }
        }
        // Reserve: headroom of the domestic plants.
        if let Some(r) = self.consumers.iter().position(|c| c.who == Who::Reserve) {
            let mut headroom = Expression::from(0.0);
            for &gp in &g {
                headroom.add_mul(1.0, gp);
            }
            headroom.add_mul(1.0, served[r]);
            model = model.with(headroom.leq(self.avail.iter().sum::<f64>()));
        }
        // Earlier optima.
        for &(t, lo) in &fixes.tiers {
            let mut sum = Expression::from(0.0);
            for (c, consumer) in self.consumers.iter().enumerate() {
                if consumer.tier == t {
                    sum.add_mul(1.0, served[c]);
                }
            }
            model = model.with(sum.geq(lo));
        }
        if let Some(most) = fixes.waste {
            model = model.with(waste.leq(most));
        }
        for &(c, lo) in &fixes.consumers {
            model = model.with(Expression::from(served[c]).geq(lo));
        }
        match goal {
            Goal::Fraction(group) => {
                for &c in *group {
                    model = model.with((served[c] - self.consumers[c].cap * lambda).geq(0.0));
                }
            }
            Goal::One(_, group, level) => {
                for &c in *group {
                    let lo = level * self.consumers[c].cap;
                    model = model.with(Expression::from(served[c]).geq(lo - share_slack(lo)));
                }
            }
            _ => {}
        }

        let solution = model.solve()?;
        Ok(Values {
            g: g.iter().map(|&v| solution.value(v)).collect(),
            spill: spill.iter().map(|&v| solution.value(v)).collect(),
            fwd: fwd.iter().map(|&v| solution.value(v)).collect(),
            rev: rev.iter().map(|&v| solution.value(v)).collect(),
            served: served.iter().map(|&v| solution.value(v)).collect(),
            objective: objective.eval_with(&solution),
        })
    }

    fn tiers(&self) -> Vec<u32> {
        let mut tiers: Vec<u32> = self.consumers.iter().map(|c| c.tier).collect();
        tiers.sort_unstable();
        tiers.dedup();
        tiers
    }

    /// Whether the ramps leave a feasible programme; if not, the docs drop them.
    fn ramps_feasible(&self) -> bool {
        if self.lines.iter().all(|l| l.ramp.is_none()) {
            return true;
        }
        match self.solve(true, &Fixes::default(), &Goal::Waste) {
            Ok(_) => true,
            Err(ResolutionError::Infeasible) => false,
            Err(e) => panic!("oracle: {e}"),
        }
    }

    /// Tier by tier, ascending: the most MW served with earlier tiers held, tightly
    /// fixed first and loosely if the tight fixings leave the solver no solution.
    /// Also says whether the loose fixings were needed.
    fn lexicographic(&self, ramps: bool) -> (BTreeMap<u32, TierFigures>, Fixes, bool) {
        match self.lexicographic_with(ramps, slack) {
            Some((tiers, fixes)) => (tiers, fixes, false),
            None => {
                let (tiers, fixes) = self
                    .lexicographic_with(ramps, |x| LOOSE_ABS + LOOSE_REL * x.abs())
                    .expect("oracle: the tiers have no solution even with loose fixings");
                (tiers, fixes, true)
            }
        }
    }

    fn lexicographic_with(
        &self,
        ramps: bool,
        slack: impl Fn(f64) -> f64,
    ) -> Option<(BTreeMap<u32, TierFigures>, Fixes)> {
        let mut fixes = Fixes::default();
        let mut out = BTreeMap::new();
        for t in self.tiers() {
            let best = match self.solve(ramps, &fixes, &Goal::Tier(t)) {
                Ok(values) => values.objective,
                Err(ResolutionError::Infeasible) => return None,
                Err(e) => panic!("oracle: tier {t}: {e}"),
            };
            fixes.tiers.push((t, best - slack(best)));
            let requested = self
                .consumers
                .iter()
                .filter(|c| c.tier == t)
                .map(|c| c.request)
                .sum();
            out.insert(
                t,
                TierFigures {
                    requested_mw: requested,
                    served_mw: best,
                },
            );
        }
        Some((out, fixes))
    }

    /// Weighted max-min fairness inside every short tier, ascending, by progressive
    /// filling, then the least waste: the schedule the state is judged on.
    fn fair_dispatch(
        &self,
        ramps: bool,
        tiers: &BTreeMap<u32, TierFigures>,
        mut fixes: Fixes,
    ) -> Values {
        for (&t, figures) in tiers {
            let capped: f64 = self
                .consumers
                .iter()
                .filter(|c| c.tier == t)
                .map(|c| c.cap)
                .sum();
            let mut open: Vec<usize> = (0..self.consumers.len())
                .filter(|&c| self.consumers[c].tier == t && self.consumers[c].cap > 0.0)
                .collect();
            if figures.served_mw >= capped - share_slack(capped) {
                for &c in &open {
                    let cap = self.consumers[c].cap;
                    fixes.consumers.push((c, cap - share_slack(cap)));
                }
                continue;
            }
            while !open.is_empty() {
                // Chains of fixings can defeat the solver's tolerance; the shares
                // reached so far stand (they only shape the judged state).
                let Ok(fraction) = self.solve(ramps, &fixes, &Goal::Fraction(&open)) else {
                    break;
                };
                let level = fraction.objective;
                let mut frozen = Vec::new();
                for &c in &open {
                    let cap = self.consumers[c].cap;
                    let most = self
                        .solve(ramps, &fixes, &Goal::One(c, &open, level))
                        .map(|v| v.served[c])
                        .unwrap_or(level * cap);
                    if most <= level * cap + 1e-6 * (1.0 + cap) {
                        frozen.push(c);
                    }
                }
                if frozen.is_empty() || level >= 1.0 - 1e-9 {
                    frozen = open.clone();
                }
                for &c in &open {
                    let lo = level * self.consumers[c].cap;
                    fixes.consumers.push((c, lo - share_slack(lo)));
                }
                open.retain(|c| !frozen.contains(c));
            }
        }
        let least = self
            .solve(ramps, &fixes, &Goal::Waste)
            .unwrap_or_else(|e| panic!("oracle: waste: {e}"));
        let w = -least.objective;
        fixes.waste = Some(w + share_slack(w));
        self.solve(ramps, &fixes, &Goal::Flow).unwrap_or(least)
    }

    /// `emergency` when an essential load is short; `alert` when the reserve is not
    /// fully held or the unused domestic generation is below the margin.
    fn judge(&self, values: &Values) -> OperatingState {
        for (c, consumer) in self.consumers.iter().enumerate() {
            if let Who::Load(i) = consumer.who
                && self.grid.loads[i].class == LoadClass::Essential
                && values.served[c] < consumer.request - met(consumer.request)
            {
                return OperatingState::Emergency;
            }
        }
        for (c, consumer) in self.consumers.iter().enumerate() {
            if consumer.who == Who::Reserve
                && values.served[c] < consumer.request - met(consumer.request)
            {
                return OperatingState::Alert;
            }
        }
        let unused: f64 = self.avail.iter().sum::<f64>() - values.g.iter().sum::<f64>();
        let margin = self.grid.states.alert_margin_mw;
        if unused < margin - met(margin) {
            return OperatingState::Alert;
        }
        OperatingState::Normal
    }
}

/// Solves the tick: the per-tier optimum under `restrictions`, and the state judged
/// on the unrestricted programme.
pub fn solve(
    grid: &Grid,
    state: &GridState,
    ts: Timestamp,
    previous: Option<(Timestamp, Vec<f64>)>,
    restrictions: OperatingState,
) -> Outcome {
    let previous = previous.as_ref();
    let free = Programme::new(grid, state, ts, previous, OperatingState::Normal);
    let free_ramps = free.ramps_feasible();
    let (free_tiers, fixes, free_loose) = free.lexicographic(free_ramps);
    let free_dispatch = free.fair_dispatch(free_ramps, &free_tiers, fixes);
    let judged = free.judge(&free_dispatch);

    let (tiers, dispatch, programme, ramps, loose) = if restrictions == OperatingState::Normal {
        (free_tiers, free_dispatch, free, free_ramps, free_loose)
    } else {
        let held = Programme::new(grid, state, ts, previous, restrictions);
        let ramps = held.ramps_feasible();
        let (tiers, fixes, loose) = held.lexicographic(ramps);
        let dispatch = held.fair_dispatch(ramps, &tiers, fixes);
        (tiers, dispatch, held, ramps, loose)
    };
    let two_way =
        grid.lines.iter().enumerate().any(|(l, line)| {
            line.loss_fraction > 0.0 && dispatch.fwd[l].min(dispatch.rev[l]) > 1e-6
        });
    let witness = Witness {
        flows: dispatch
            .fwd
            .iter()
            .copied()
            .zip(dispatch.rev.iter().copied())
            .collect(),
        served: programme
            .consumers
            .iter()
            .zip(&dispatch.served)
            .map(|(c, &x)| (format!("{:?}", c.who), c.tier, x))
            .collect(),
        g: dispatch.g,
        spill: dispatch.spill,
    };
    let line_range = programme
        .lines
        .iter()
        .map(|limits| match limits.ramp {
            Some(range) if ramps => range,
            _ => (-limits.cap_rev, limits.cap_fwd),
        })
        .collect();
    Outcome {
        tiers,
        judged,
        avail: programme.avail.clone(),
        reserve_required_mw: programme.reserve_required,
        contract_requests: programme.contract_requests.clone(),
        line_range,
        ramps_dropped: !ramps,
        loose,
        two_way,
        witness,
    }
}
