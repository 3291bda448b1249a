//! One step of the programme: the best schedule for one objective, with earlier
//! steps' optima held, over schedules in which no line carries flow both ways.
//!
//! # Exact one-way flow
//!
//! Rule 7 forbids flow both ways at once, so the feasible schedules are those with
//! `fwd × rev = 0` on every line: a union of polytopes, one per choice of directions.
//! Each step maximises over that union by branch and bound on directions:
//!
//! 1. Solve the linear relaxation, in which a line has independent `fwd, rev ≥ 0`.
//!    It contains every one-way schedule, so its optimum bounds the step's.
//! 2. If no lossy line carries both ways in that solution, it is one-way (lossless
//!    lines: below) and therefore optimal for the step.
//! 3. Otherwise pick such a line and solve two children, one with `rev = 0` and one
//!    with `fwd = 0`. Every one-way schedule of the parent lies in one of them, so the
//!    best of the children's one-way optima is the parent's. A child whose relaxation
//!    is no better than the best one-way schedule found so far is cut.
//!
//! The search ends because each level fixes one more line. A lossless line needs no
//! branching: replacing its two flows by their net flow `fwd − rev` one way leaves
//! what every area receives, the losses, every capacity (the net is within each
//! direction's own) and the ramp (which bounds the net) unchanged, so a schedule using
//! it both ways is as good as a one-way one for every objective here, and the
//! [`Values`] read back hold the net flow. This is exact up to the LP solver's
//! tolerance: a flow of at most [`ONE_WAY`] counts as zero.

use super::programme::{Programme, Who};
use good_lp::{
    Expression, ProblemVariables, ResolutionError, Solution, SolverModel, Variable, microlp,
    variable,
};
use std::cell::Cell;

/// A flow at most this large (MW) counts as none when telling whether a line carries
/// both ways: far below rule 10's 1e-6 MW, above the LP solver's rounding noise.
const ONE_WAY: f64 = 1e-9;

/// A branch is cut unless its relaxation beats the best one-way schedule found by
/// more than this, so ties found again do not cost a search.
const PRUNE: f64 = 1e-9;

/// What one step maximises.
#[derive(Debug, Clone, Copy)]
pub enum Goal<'a> {
    /// Anything feasible.
    Feasible,
    /// The served MW of one tier.
    Tier(u32),
    /// The common fraction λ of their requests that every listed consumer gets.
    Level(&'a [usize]),
    /// One consumer's MW, every listed consumer held at its listed MW at least.
    Rise(usize, &'a [(usize, f64)]),
    /// The least imported MW: of every offer, or of the offers of one tier.
    Imports(Option<u32>),
    /// One offer's MW (by its place in the programme's offers): the most, or with
    /// `false` the least.
    Offer(usize, bool),
    /// The least waste: spill plus line losses.
    Waste,
}

/// Bounds that earlier steps' optima put on later steps.
#[derive(Debug, Clone, Default)]
pub struct Held {
    /// Served MW of a tier at least this.
    pub tiers: Vec<(u32, f64)>,
    /// Served MW of a consumer at least this.
    pub consumers: Vec<(usize, f64)>,
    /// Imported MW, of every offer or of one tier's, at most this.
    pub imports: Vec<(Option<u32>, f64)>,
    /// Spill plus losses at most this.
    pub waste: Option<f64>,
}

impl Held {
    /// The same bounds, each `x` loosened by `by(x)`: lower bounds lowered, upper
    /// bounds raised.
    pub fn lowered(&self, by: impl Fn(f64) -> f64) -> Held {
        Held {
            tiers: self.tiers.iter().map(|&(t, x)| (t, x - by(x))).collect(),
            consumers: self
                .consumers
                .iter()
                .map(|&(c, x)| (c, x - by(x)))
                .collect(),
            imports: self.imports.iter().map(|&(t, x)| (t, x + by(x))).collect(),
            waste: self.waste.map(|x| x + by(x)),
        }
    }
}

/// One one-way schedule: the values of every variable.
#[derive(Debug, Clone)]
pub struct Values {
    /// Setpoints: what each plant delivers.
    pub g: Vec<f64>,
    /// Must-run output spilled per plant; output = setpoint + spill.
    pub spill: Vec<f64>,
    /// Net flow per line (negative = to→from).
    pub net: Vec<f64>,
    /// MW lost on the lines.
    pub losses: f64,
    pub served: Vec<f64>,
    /// MW taken per import offer.
    pub imports: Vec<f64>,
    pub objective: f64,
}

/// Which way a branch holds a line.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Way {
    Forward,
    Reverse,
}

/// The variables of one relaxation.
struct Vars {
    g: Vec<Variable>,
    spill: Vec<Variable>,
    fwd: Vec<Variable>,
    rev: Vec<Variable>,
    served: Vec<Variable>,
    imports: Vec<Variable>,
    level: Variable,
}

/// A relaxation's solution with each direction's flow, before lines are netted.
struct Relaxed {
    values: Values,
    fwd: Vec<f64>,
    rev: Vec<f64>,
}

thread_local! {
    /// Branchings made on this thread, for the sweep's tally of how often the linear
    /// relaxation ran a lossy line both ways.
    static BRANCHINGS: Cell<u64> = const { Cell::new(0) };
}

/// How many times a relaxation ran a lossy line both ways on this thread so far.
pub fn branchings() -> u64 {
    BRANCHINGS.with(Cell::get)
}

impl Programme<'_> {
    /// True when some one-way schedule meets every constraint.
    pub fn feasible(&self) -> bool {
        self.best(&Held::default(), Goal::Feasible).is_some()
    }

    /// The best one-way schedule for `goal` with `held` kept, or `None` when there is
    /// none.
    pub fn best(&self, held: &Held, goal: Goal) -> Option<Values> {
        let mut ways = vec![None; self.lines.len()];
        let mut best = None;
        self.branch(held, goal, &mut ways, &mut best);
        best
    }

    /// Branch and bound on line directions, depth first, the relaxation's larger
    /// direction first.
    fn branch(&self, held: &Held, goal: Goal, ways: &mut [Option<Way>], best: &mut Option<Values>) {
        let Some(relaxed) = self.relaxation(held, goal, ways) else {
            return;
        };
        if best
            .as_ref()
            .is_some_and(|b| relaxed.values.objective <= b.objective + PRUNE)
        {
            return;
        }
        let Some(l) = self.two_way(&relaxed) else {
            *best = Some(relaxed.values);
            return;
        };
        BRANCHINGS.with(|n| n.set(n.get() + 1));
        let first = if relaxed.fwd[l] >= relaxed.rev[l] {
            Way::Forward
        } else {
            Way::Reverse
        };
        let second = match first {
            Way::Forward => Way::Reverse,
            Way::Reverse => Way::Forward,
        };
        for way in [first, second] {
            ways[l] = Some(way);
            self.branch(held, goal, ways, best);
        }
        ways[l] = None;
    }

    /// The lossy line the relaxation runs both ways most, if any.
    fn two_way(&self, relaxed: &Relaxed) -> Option<usize> {
        (0..self.lines.len())
            .filter(|&l| self.grid.lines[l].loss_fraction > 0.0)
            .map(|l| (l, relaxed.fwd[l].min(relaxed.rev[l])))
            .filter(|&(_, both)| both > ONE_WAY)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(l, _)| l)
    }

    /// The linear relaxation with the branch's directions: `None` when infeasible.
    /// When the solver's factorisation fails on a degenerate basis (it reports a
    /// singular matrix), the same rows are given in reverse order, which changes its
    /// pivots and not the programme.
    fn relaxation(&self, held: &Held, goal: Goal, ways: &[Option<Way>]) -> Option<Relaxed> {
        let mut problem = ProblemVariables::new();
        let vars = self.variables(&mut problem, held, goal, ways);
        let objective = self.objective(&vars, goal);
        let rows = self.constraints(&vars, held, goal);
        let solve = |rows: Vec<good_lp::Constraint>| {
            let model = problem.clone().maximise(objective.clone()).using(microlp);
            rows.into_iter()
                .fold(model, |model, row| model.with(row))
                .solve()
        };
        let reversed: Vec<good_lp::Constraint> = rows.iter().rev().cloned().collect();
        let solution = match solve(rows) {
            Err(ResolutionError::Infeasible) => return None,
            Err(_) => solve(reversed),
            solved => solved,
        };
        let solution = match solution {
            Ok(solution) => solution,
            Err(ResolutionError::Infeasible) => return None,
            Err(e) => panic!("oracle: {goal:?}: {e}"),
        };
        let read =
            |vs: &[Variable]| -> Vec<f64> { vs.iter().map(|&v| solution.value(v)).collect() };
        let (fwd, rev) = (read(&vars.fwd), read(&vars.rev));
        let losses = self
            .grid
            .lines
            .iter()
            .enumerate()
            .map(|(l, line)| (fwd[l] + rev[l]) * line.loss_fraction)
            .sum();
        let values = Values {
            g: read(&vars.g),
            spill: read(&vars.spill),
            net: fwd.iter().zip(&rev).map(|(f, r)| f - r).collect(),
            losses,
            served: read(&vars.served),
            imports: read(&vars.imports),
            objective: objective.eval_with(&solution),
        };
        Some(Relaxed { values, fwd, rev })
    }

    /// Rule 1: setpoint in [0, availability] and spill at most the must-run output;
    /// rule 3: each direction within its limit, zero the way a branch forbids; a
    /// consumer within its cap; λ in [0, 1].
    fn variables(
        &self,
        problem: &mut ProblemVariables,
        held: &Held,
        goal: Goal,
        ways: &[Option<Way>],
    ) -> Vars {
        let mut bounded = |hi: f64| problem.add(variable().min(0.0).max(hi));
        let g = self.avail.iter().map(|&a| bounded(a)).collect();
        let spill = self.must_run.iter().map(|&m| bounded(m)).collect();
        let open = |l: usize, way: Way, most: f64| match ways[l] {
            Some(held) if held != way => 0.0,
            _ => most,
        };
        let fwd = (0..self.lines.len())
            .map(|l| bounded(open(l, Way::Forward, self.lines[l].fwd_max)))
            .collect();
        let rev = (0..self.lines.len())
            .map(|l| bounded(open(l, Way::Reverse, self.lines[l].rev_max)))
            .collect();
        let floors = self.floors(held, goal);
        let served = self
            .consumers
            .iter()
            .zip(floors)
            .map(|(c, least)| problem.add(variable().min(least.min(c.cap)).max(c.cap)))
            .collect();
        let imports = self
            .offers
            .iter()
            .map(|o| problem.add(variable().min(0.0).max(o.cap)))
            .collect();
        let level = problem.add(variable().min(0.0).max(1.0));
        Vars {
            g,
            spill,
            fwd,
            rev,
            served,
            imports,
            level,
        }
    }

    /// Each consumer's least MW: what earlier steps hold it to and what a rise test
    /// holds the others to, as bounds of its variable rather than rows (the solver is
    /// steadier with bounds), never above its cap.
    fn floors(&self, held: &Held, goal: Goal) -> Vec<f64> {
        let mut floors = vec![0.0_f64; self.consumers.len()];
        let rise: &[(usize, f64)] = match goal {
            Goal::Rise(_, floors) => floors,
            _ => &[],
        };
        for &(c, least) in held.consumers.iter().chain(rise) {
            floors[c] = floors[c].max(least);
        }
        floors
    }

    fn objective(&self, vars: &Vars, goal: Goal) -> Expression {
        match goal {
            Goal::Feasible => Expression::from(0.0),
            Goal::Tier(tier) => self.tier_sum(vars, tier),
            Goal::Level(_) => Expression::from(vars.level),
            Goal::Rise(c, _) => Expression::from(vars.served[c]),
            Goal::Imports(tier) => -self.imported(vars, tier),
            Goal::Offer(i, true) => Expression::from(vars.imports[i]),
            Goal::Offer(i, false) => -Expression::from(vars.imports[i]),
            Goal::Waste => -self.waste(vars),
        }
    }

    /// The MW taken from every offer, or from the offers of one tier.
    fn imported(&self, vars: &Vars, tier: Option<u32>) -> Expression {
        let mut sum = Expression::from(0.0);
        for (o, offer) in self.offers.iter().enumerate() {
            if tier.is_none_or(|t| t == offer.tier) {
                sum.add_mul(1.0, vars.imports[o]);
            }
        }
        sum
    }

    fn tier_sum(&self, vars: &Vars, tier: u32) -> Expression {
        let mut sum = Expression::from(0.0);
        for c in self.members(tier) {
            sum.add_mul(1.0, vars.served[c]);
        }
        sum
    }

    /// Rule 7's wasted energy: spill plus what the lines lose.
    fn waste(&self, vars: &Vars) -> Expression {
        let mut waste = Expression::from(0.0);
        for &s in &vars.spill {
            waste.add_mul(1.0, s);
        }
        for (l, line) in self.grid.lines.iter().enumerate() {
            waste.add_mul(line.loss_fraction, vars.fwd[l]);
            waste.add_mul(line.loss_fraction, vars.rev[l]);
        }
        waste
    }

    fn constraints(&self, vars: &Vars, held: &Held, goal: Goal) -> Vec<good_lp::Constraint> {
        let mut rows = self.output_rows(vars);
        rows.extend(self.balance_rows(vars));
        rows.extend(self.ramp_rows(vars));
        rows.extend(self.reserve_row(vars));
        for &(tier, least) in &held.tiers {
            rows.push(self.tier_sum(vars, tier).geq(least));
        }
        for &(tier, most) in &held.imports {
            rows.push(self.imported(vars, tier).leq(most));
        }
        if let Some(most) = held.waste {
            rows.push(self.waste(vars).leq(most));
        }
        if let Goal::Level(open) = goal {
            for &c in open {
                let request = self.consumers[c].request;
                rows.push((vars.served[c] - request * vars.level).geq(0.0));
            }
        }
        rows
    }

    /// Rule 1: a plant's output (setpoint plus spill) lies between its must-run output
    /// and its availability.
    fn output_rows(&self, vars: &Vars) -> Vec<good_lp::Constraint> {
        let mut rows = Vec::new();
        for p in 0..self.avail.len() {
            let output = vars.g[p] + vars.spill[p];
            rows.push(output.clone().geq(self.must_run[p]));
            rows.push(output.leq(self.avail[p]));
        }
        rows
    }

    /// Rule 3: at every area, setpoints + what lines deliver in − what they take out −
    /// what consumers withdraw there + what transits and imports inject there = 0.
    fn balance_rows(&self, vars: &Vars) -> Vec<good_lp::Constraint> {
        let grid = self.grid;
        let mut balance = vec![Expression::from(0.0); grid.areas.len()];
        for (p, plant) in grid.plants.iter().enumerate() {
            balance[plant.area].add_mul(1.0, vars.g[p]);
        }
        for (l, line) in grid.lines.iter().enumerate() {
            let kept = 1.0 - line.loss_fraction;
            balance[line.from].add_mul(-1.0, vars.fwd[l]);
            balance[line.from].add_mul(kept, vars.rev[l]);
            balance[line.to].add_mul(kept, vars.fwd[l]);
            balance[line.to].add_mul(-1.0, vars.rev[l]);
        }
        for (c, consumer) in self.consumers.iter().enumerate() {
            if let Some(area) = consumer.withdraw {
                balance[area].add_mul(-1.0, vars.served[c]);
            }
            if let Some(area) = consumer.inject {
                balance[area].add_mul(1.0, vars.served[c]);
            }
        }
        for (o, offer) in self.offers.iter().enumerate() {
            balance[offer.inject].add_mul(1.0, vars.imports[o]);
        }
        balance.into_iter().map(|row| row.eq(0.0)).collect()
    }

    /// Rule 3: the net flow within its range, where that is narrower than the
    /// directions' own limits give (a ramp).
    fn ramp_rows(&self, vars: &Vars) -> Vec<good_lp::Constraint> {
        let mut rows = Vec::new();
        for (l, limits) in self.lines.iter().enumerate() {
            let net = vars.fwd[l] - vars.rev[l];
            if limits.lo > -limits.rev_max {
                rows.push(net.clone().geq(limits.lo));
            }
            if limits.hi < limits.fwd_max {
                rows.push(net.leq(limits.hi));
            }
        }
        rows
    }

    /// Rule 5: the reserve is at most the domestic plants' headroom, availability less
    /// output; spilled output is output, never headroom.
    fn reserve_row(&self, vars: &Vars) -> Option<good_lp::Constraint> {
        let r = self.consumers.iter().position(|c| c.who == Who::Reserve)?;
        let mut used = Expression::from(vars.served[r]);
        for p in 0..self.avail.len() {
            used.add_mul(1.0, vars.g[p]);
            used.add_mul(1.0, vars.spill[p]);
        }
        Some(used.leq(self.avail.iter().sum::<f64>()))
    }
}
