//! The lexicographic rules on the [`Network`]: tiers (rule 2), fairness inside a tier
//! (rule 4), waste (rule 7), run-of-river before storage (rule 6), storage shared in
//! proportion to availability, and no two-way flow (rule 7).
//!
//! # The algorithm
//!
//! One feasible point of the tick's network is carried through a chain of questions,
//! each answered by the [`Engine`]'s primal simplex from the previous answer's basis:
//!
//! 1. for each tier ascending, the most MW its members can be served; the answer is
//!    kept by pinning the optimal face ([`Engine::fix_face`]), so every later question
//!    is asked only among schedules that serve every earlier tier its optimum — the
//!    lexicographic optimum of rule 10, exactly, with no tolerance traded;
//! 2. in each tier left short, weighted max-min fairness by progressive filling (see
//!    [`share`]);
//! 3. least waste: spill plus losses;
//! 4. least storage output, so run-of-river goes first;
//! 5. storage plants in proportion to their availability, by the same filling;
//! 6. least total line flow.
//!
//! A run that sends MW both ways on a lossy line is repeated with the line fixed to
//! each way (see [`Choice`]), so that the schedule is the optimum over one-way flows.
//!
//! *Why it is optimal.* Each step is a linear programme over the face the earlier
//! steps left, and the simplex method ends at an optimum of it; pinning the non-basic
//! columns with non-zero reduced cost leaves exactly that optimum's face. So tier
//! totals equal the lexicographic programme's, which the tests compare with an
//! independent solver.
//!
//! *What it costs.* The network has a row per node and one or two entries per column;
//! a pivot is O(nodes²) plus O(arcs). A tick starts from where the previous tick's
//! rules ended (see [`Warm`]), so a steady tick takes a few pivots, a first tick
//! a few dozen; the benches report the figures.
//!
//! If a step fails (an iteration limit, a singular basis), the point stands: it meets
//! every step answered before, and a warning is logged. If the network has no
//! feasible one-way point with the ramps, they are relaxed; if none even without,
//! the schedule is all zero (see [`Dispatch::zero`]).

use super::inputs::Inputs;
use super::network::{Network, Way};
use super::simplex::{Engine, EngineError, Warm};
use crate::grid::Grid;

/// How much more than the common level a member may get and still count as limited.
const FREEZE_REL: f64 = 1e-6;

/// How far outside its bounds a column's fair-share target may lie and still be
/// reached (clamped): the engine's own tolerance.
const SLACK: f64 = 1e-9;

/// The solved figures of one run, indexed like the [`Inputs`]' vectors.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Dispatch {
    pub g: Vec<f64>,
    pub spill: Vec<f64>,
    pub fwd: Vec<f64>,
    pub rev: Vec<f64>,
    pub served: Vec<f64>,
    /// True when the line ramps left no feasible schedule and were relaxed for the
    /// tick (rule 3).
    pub ramps_relaxed: bool,
    /// False when a step failed and an earlier answer (or the zero schedule) stands.
    pub complete: bool,
}

impl Dispatch {
    /// The safe schedule when the network has no feasible point: nothing generated,
    /// served or sent; must-run output counts as spilled.
    pub(super) fn zero(inputs: &Inputs) -> Dispatch {
        Dispatch {
            g: vec![0.0; inputs.avail.len()],
            spill: inputs.lb.clone(),
            fwd: vec![0.0; inputs.lines.len()],
            rev: vec![0.0; inputs.lines.len()],
            served: vec![0.0; inputs.consumers.len()],
            ramps_relaxed: inputs
                .lines
                .iter()
                .any(|l| l.ramp.is_some() || l.ramp_relaxed),
            complete: false,
        }
    }

    fn read(net: &Network, inputs: &Inputs) -> Dispatch {
        let e = &net.engine;
        let pick = |cols: &[usize]| cols.iter().map(|&j| e.value(j)).collect::<Vec<_>>();
        Dispatch {
            g: (0..net.must.len())
                .map(|p| net.value(&net.setpoint(p)))
                .collect(),
            spill: net
                .must
                .iter()
                .zip(&inputs.lb)
                .map(|(&j, &lb)| (lb - e.value(j)).max(0.0))
                .collect(),
            fwd: pick(&net.fwd),
            rev: pick(&net.rev),
            served: pick(&net.served),
            ramps_relaxed: !net.ramps || inputs.lines.iter().any(|l| l.ramp_relaxed),
            complete: true,
        }
    }
}

/// The network part-way through the tier steps: every tier below `tier` answered.
/// A tick whose state restricts some consumers resumes from here instead of starting
/// over (see [`resume`]).
#[derive(Debug, Clone)]
pub(super) struct Checkpoint {
    net: Network,
    tier: u32,
    /// The tiers below `tier` left short, to be shared.
    short: Vec<Vec<usize>>,
}

/// A run's figures, with what the tick may go on from.
#[derive(Debug)]
pub(super) struct Run {
    pub figures: Dispatch,
    /// Taken before the step of the first tier at or above the run's `keep_from`.
    pub checkpoint: Option<Checkpoint>,
    /// Where the rules ended, or where the first fair-share row was added, for the next
    /// tick to start from.
    pub warm: Option<Warm>,
    /// The network, done with: its buffers serve the next tick.
    pub spent: Option<Network>,
}

/// Runs every rule on `inputs`, starting from `warm` when it is feasible here: with
/// the ramps, or without them when they leave no feasible schedule (rule 3), or, when
/// even the capacities leave none, the zero schedule.
pub(super) fn dispatch(
    grid: &Grid,
    inputs: &Inputs,
    keep_from: Option<u32>,
    warm: Option<&Warm>,
    mut spent: Option<Network>,
) -> Run {
    for ramps in [true, false] {
        let mut choice = Choice {
            grid,
            inputs,
            ramps,
            keep_from,
            warm,
            spent: spent.take(),
            runs: 0,
            stopped: false,
        };
        let mut best = None;
        choice.search(vec![Way::Both; grid.lines.len()], &mut best);
        if choice.runs > 1 {
            tracing::debug!(
                runs = choice.runs,
                "direction choice: a line was used both ways"
            );
        }
        if let Some(run) = best {
            return run;
        }
        if ramps {
            tracing::warn!(
                "line ramps leave no feasible one-way schedule; relaxing them this tick"
            );
        }
    }
    tracing::warn!("network has no feasible schedule; emitting the zero schedule");
    Run {
        figures: Dispatch::zero(inputs),
        checkpoint: None,
        warm: None,
        spent: None,
    }
}

/// Most runs of the rules one tick's direction choice makes (with the ramps, and again
/// without them): a budget no grid can make the search exceed.
const MAX_RUNS: u32 = 64;

/// The direction choice (rule 7: a line never carries flow both ways at once).
///
/// The programme gives each line one variable per way, so an optimum may send MW both
/// ways on a lossy line and burn them, which the net flow a decision reports cannot
/// show. When a run's schedule does that on line `l`, every schedule that uses `l` one
/// way only lies in one of two smaller programmes, `l` forward only or `l` reverse
/// only; each is searched in turn, the way that carried more first. A run whose
/// schedule uses no line both ways is optimal for its programme and one-way, so it is
/// the best of its branch; a run no better than the best one-way schedule found so far
/// bounds its whole branch, which is cut. So the search is exact (branch and bound),
/// and the lexicographically best one-way schedule is kept.
///
/// Such runs are rare (a few in a thousand random ticks, none on the reference grid's
/// scenarios). [`MAX_RUNS`] bounds the work a pathological grid could cause: past it
/// the best schedule found stands, and if none was found the branch counts as
/// infeasible (so the ramps are relaxed), with a warning.
struct Choice<'a> {
    grid: &'a Grid,
    inputs: &'a Inputs,
    ramps: bool,
    keep_from: Option<u32>,
    warm: Option<&'a Warm>,
    spent: Option<Network>,
    runs: u32,
    /// The search reached [`MAX_RUNS`].
    stopped: bool,
}

impl Choice<'_> {
    /// Searches the schedules with each line restricted to its `ways`, keeping in `best`
    /// the best one-way schedule found.
    fn search(&mut self, ways: Vec<Way>, best: &mut Option<Run>) {
        if self.runs == MAX_RUNS {
            if !self.stopped {
                self.stopped = true;
                tracing::warn!(
                    runs = MAX_RUNS,
                    "direction choice stopped at its limit of runs"
                );
            }
            return;
        }
        let Some(mut run) = self.run(&ways) else {
            return; // no feasible point with these ways
        };
        if let Some(kept) = best
            && !better(self.grid, self.inputs, &run.figures, &kept.figures)
        {
            return; // nothing in this branch beats what is kept
        }
        let Some(l) = two_way(&run.figures, self.grid) else {
            if self.runs > 1 {
                // A checkpoint holds fixed ways the restricted programme may not want.
                run.checkpoint = None;
            }
            *best = Some(run);
            return;
        };
        let busier = if run.figures.fwd[l] >= run.figures.rev[l] {
            Way::Forward
        } else {
            Way::Reverse
        };
        let other = match busier {
            Way::Forward => Way::Reverse,
            _ => Way::Forward,
        };
        for way in [busier, other] {
            let mut ways = ways.clone();
            ways[l] = way;
            self.search(ways, best);
        }
    }

    /// One run of every rule with each line restricted to its `ways`; `None` when the
    /// network has no feasible point so restricted.
    fn run(&mut self, ways: &[Way]) -> Option<Run> {
        self.runs += 1;
        let spent = self.spent.take();
        let mut net =
            Network::build(self.grid, self.inputs, self.ramps, ways, self.warm, spent).ok()?;
        let mut short = Vec::new();
        let mut checkpoint = None;
        let refined =
            tiers(self.inputs, &mut net, 0, &mut short, self.keep_from).and_then(|kept| {
                checkpoint = kept;
                finish(self.inputs, &mut net, &short)
            });
        // Where the rules ended is the nearest start for the next tick.
        let warm = refined.is_ok().then(|| net.engine.warm()).flatten();
        Some(Run {
            figures: outcome(self.grid, self.inputs, &net, refined),
            checkpoint,
            warm,
            spent: Some(net),
        })
    }
}

/// The first lossy line a schedule uses both ways, if any. (A lossless line used both
/// ways costs nothing and is reported as its net flow, see [`outcome`].)
fn two_way(figures: &Dispatch, grid: &Grid) -> Option<usize> {
    (0..grid.lines.len()).find(|&l| figures.fwd[l].min(figures.rev[l]) > TWO_WAY_MW)
}

/// MW sent both ways below which a line counts as one-way: what it burns, a fraction
/// of this, is far below rule 3's 1e-6 MW balance tolerance.
const TWO_WAY_MW: f64 = 1e-9;

/// Whether `a` is lexicographically better than `b` in the rules' order: served MW per
/// tier ascending, then a run whose steps all succeeded, then each tier's fractions of
/// its requests from the lowest up (weighted max-min fairness), then least waste, least
/// storage output, storage output from the lowest fraction of availability up, least
/// total flow. Figures within their tolerance of each other are equal; a full tie keeps
/// `b`.
fn better(grid: &Grid, inputs: &Inputs, a: &Dispatch, b: &Dispatch) -> bool {
    for ((x, tolerance), (y, _)) in rank(grid, inputs, a).into_iter().zip(rank(grid, inputs, b)) {
        if (x - y).abs() > tolerance * (1.0 + x.abs().max(y.abs())) {
            return x > y;
        }
    }
    false
}

/// Relative distance within which two runs' figures count as equal: the engine's own.
const EQUAL: f64 = 1e-9;

/// Relative distance within which two fair shares count as equal: progressive filling
/// settles a member's fraction only to within [`FREEZE_REL`].
const EQUAL_SHARE: f64 = FREEZE_REL;

/// A run's figures in the rules' order, each the larger the better, with the tolerance
/// it is compared at (see [`better`]).
fn rank(grid: &Grid, inputs: &Inputs, d: &Dispatch) -> Vec<(f64, f64)> {
    let mut tiers: Vec<u32> = inputs.consumers.iter().map(|c| c.tier).collect();
    tiers.sort_unstable();
    tiers.dedup();
    let members =
        |t: u32| (0..inputs.consumers.len()).filter(move |&c| inputs.consumers[c].tier == t);
    let mut out: Vec<(f64, f64)> = tiers
        .iter()
        .map(|&t| (members(t).map(|c| d.served[c]).sum::<f64>(), EQUAL))
        .collect();
    out.push((f64::from(u8::from(d.complete)), 0.0));
    for &t in &tiers {
        let mut fractions: Vec<f64> = members(t)
            .filter(|&c| inputs.consumers[c].request > 0.0)
            .map(|c| d.served[c] / inputs.consumers[c].request)
            .collect();
        fractions.sort_by(f64::total_cmp);
        out.extend(fractions.into_iter().map(|f| (f, EQUAL_SHARE)));
    }
    let loss = |l: usize| (d.fwd[l] + d.rev[l]) * grid.lines[l].loss_fraction;
    let losses: f64 = (0..d.fwd.len()).map(loss).sum();
    out.push((-(d.spill.iter().sum::<f64>() + losses), EQUAL));
    let storage = (0..d.g.len()).filter(|&p| grid.plants[p].reservoir.is_some());
    out.push((-storage.clone().map(|p| d.g[p]).sum::<f64>(), EQUAL));
    let mut shares: Vec<f64> = storage
        .filter(|&p| inputs.avail[p] > 0.0)
        .map(|p| d.g[p] / inputs.avail[p])
        .collect();
    shares.sort_by(f64::total_cmp);
    out.extend(shares.into_iter().map(|f| (f, EQUAL_SHARE)));
    out.push((-d.fwd.iter().chain(&d.rev).sum::<f64>(), EQUAL));
    out
}

/// Runs the rules on `inputs`, a restriction of the inputs the checkpoint was taken
/// on (some caps cut to 0), from the checkpoint when it can.
///
/// The tiers answered before the checkpoint keep their optima under the restriction
/// when their optimal face holds a point that serves the cut consumers nothing: that
/// point is feasible for the restricted programme and reaches every optimum the
/// unrestricted one does, which bounds the restricted optima from above. So the cut
/// consumers are driven to 0 inside the face, and if they reach it the tier steps
/// carry on from the checkpoint; otherwise the tick starts over.
pub(super) fn resume(grid: &Grid, inputs: &Inputs, checkpoint: Option<Checkpoint>) -> Dispatch {
    let Some(Checkpoint {
        mut net,
        tier,
        mut short,
    }) = checkpoint
    else {
        return dispatch(grid, inputs, None, None, None).figures;
    };
    let cut: Vec<(usize, f64)> = net
        .served
        .iter()
        .zip(&inputs.consumers)
        .filter(|&(&j, c)| c.cap == 0.0 && net.engine.bounds(j).1 > 0.0)
        .map(|(&j, _)| (j, 1.0))
        .collect();
    let cleared = net.engine.minimise(cut.iter().copied()).is_ok() && net.value(&cut) <= 1e-9;
    if !cleared {
        return dispatch(grid, inputs, None, None, None).figures;
    }
    for &(j, _) in &cut {
        net.engine.set_bounds(j, 0.0, 0.0);
    }
    let refined = tiers(inputs, &mut net, tier, &mut short, None)
        .and_then(|_| finish(inputs, &mut net, &short));
    let figures = outcome(grid, inputs, &net, refined);
    match two_way(&figures, grid) {
        // The checkpoint's network lets every line run both ways: choose directions.
        Some(_) => dispatch(grid, inputs, None, None, None).figures,
        None => figures,
    }
}

/// Reads the figures, warning when a step failed.
fn outcome(
    grid: &Grid,
    inputs: &Inputs,
    net: &Network,
    refined: Result<(), EngineError>,
) -> Dispatch {
    if let Err(e) = &refined {
        tracing::warn!(error = %e, "a scheduling step failed; keeping the last answered step");
    }
    let mut out = Dispatch::read(net, inputs);
    out.complete = refined.is_ok();
    // A lossless line may still carry both ways at equal cost: keep the net only.
    for (l, line) in grid.lines.iter().enumerate() {
        if line.loss_fraction == 0.0 && out.fwd[l] > 0.0 && out.rev[l] > 0.0 {
            let net = out.fwd[l] - out.rev[l];
            out.fwd[l] = net.max(0.0);
            out.rev[l] = (-net).max(0.0);
        }
    }
    out
}

/// Rule 2: the tier steps from tier `from` up, in ascending order, every tier's total
/// before any sharing. Sharing a short tier first would pin who gets its MW, and a
/// later tier could then reach less than the lexicographic optimum (rule 10): a
/// transit and a load sharing a tier cost the domestic side very different MW. Short
/// tiers are pushed to `short`. Returns a checkpoint taken before the first tier at or
/// above `keep_from`.
fn tiers(
    inputs: &Inputs,
    net: &mut Network,
    from: u32,
    short: &mut Vec<Vec<usize>>,
    keep_from: Option<u32>,
) -> Result<Option<Checkpoint>, EngineError> {
    let groups = &net.groups[net.groups.partition_point(|g| g.0 < from)..];
    // The members of the `k`-th tier that may be served.
    let members = |k: usize| {
        let group: &[usize] = &groups[k].1;
        group
            .iter()
            .copied()
            .filter(|&c| inputs.consumers[c].cap > 0.0)
    };
    let mut checkpoint = None;
    let mut keep = |net: &Network, tier: u32, short: &Vec<Vec<usize>>| {
        if checkpoint.is_none() && keep_from.is_some_and(|k| tier >= k) {
            checkpoint = Some(Checkpoint {
                net: net.clone(),
                tier,
                short: short.clone(),
            });
        }
    };
    // While no tier has been short, first try to serve all the remaining tiers at
    // once: the lowest tiers that this serves in full are at their optimum (nothing
    // beats full), which spares each a step of its own.
    let mut batch = true;
    let mut i = 0;
    while i < groups.len() {
        if batch {
            let weighted = (i..groups.len()).flat_map(|k| {
                let weight = (groups.len() - k) as f64;
                members(k).map(move |c| (c, weight))
            });
            net.engine
                .minimise(weighted.map(|(c, weight)| (net.served[c], -weight)))?;
            let full = |engine: &Engine, c: usize| {
                engine.value(net.served[c]) >= inputs.consumers[c].cap - 1e-9
            };
            let mut served_in_full = 0;
            while i < groups.len() && members(i).all(|c| full(&net.engine, c)) {
                keep(net, groups[i].0, short);
                for c in members(i) {
                    let cap = inputs.consumers[c].cap;
                    net.engine.set_bounds(net.served[c], cap, cap);
                }
                i += 1;
                served_in_full += 1;
            }
            if i == groups.len() {
                break;
            }
            batch = served_in_full > 0;
        }
        let k = i;
        keep(net, groups[k].0, short);
        i += 1;
        if members(k).next().is_none() {
            continue;
        }
        net.engine
            .minimise(members(k).map(|c| (net.served[c], -1.0)))?;
        net.engine.fix_face();
        let served: f64 = members(k).map(|c| net.engine.value(net.served[c])).sum();
        let capacity: f64 = members(k).map(|c| inputs.consumers[c].cap).sum();
        if served > 1e-9 && served < capacity - 1e-6 - 1e-9 * capacity {
            short.push(members(k).collect());
            batch = false;
        }
    }
    Ok(checkpoint)
}

/// The steps after the tiers, in rule order.
fn finish(inputs: &Inputs, net: &mut Network, short: &[Vec<usize>]) -> Result<(), EngineError> {
    // Rule 4: inside each short tier, ascending, weighted max-min fairness with the
    // requests as weights, every tier's total held by the faces pinned above.
    for members in short {
        let items: Vec<Item> = members
            .iter()
            .map(|&c| Item::new(&[net.served[c]], inputs.consumers[c].request))
            .collect();
        share(&mut net.engine, &items)?;
    }

    // Rule 7: least waste. Spill is lb − must, so each must-run MW absorbed saves one.
    let spill = net.must.iter().map(|&j| (j, -1.0));
    let losses = net.loss.iter().enumerate().filter(|&(_, &loss)| loss > 0.0);
    let losses = losses.flat_map(|(l, &loss)| [(net.fwd[l], loss), (net.rev[l], loss)]);
    net.engine.minimise(spill.chain(losses))?;
    net.engine.fix_face();

    // Rule 6: run-of-river first, that is the least storage generation. Not the most
    // run-of-river generation: with waste fixed, run-of-river output can still rise by
    // trading spill for losses, sending MW both ways on a lossy line to burn them,
    // which rule 7 forbids. Least storage output leaves that trade to the least-flow
    // step below, which undoes it.
    let (must, rest) = (&net.must, &net.rest);
    let storage = || (0..net.storage.len()).filter(|&p| net.storage[p]);
    if storage().next().is_some() {
        let setpoints = storage().flat_map(|p| [(must[p], 1.0), (rest[p], 1.0)]);
        net.engine.minimise(setpoints)?;
        net.engine.fix_face();
    }
    // …then storage in proportion to availability.
    let items: Vec<Item> = storage()
        .map(|p| Item::new(&[must[p], rest[p]], inputs.avail[p]))
        .collect();
    share(&mut net.engine, &items)?;

    // Rule 7: a line never carries both ways; least flow breaks the remaining ties.
    net.engine
        .minimise(net.fwd.iter().chain(&net.rev).map(|&j| (j, 1.0)))
}

/// One member of a fair share: the columns whose sum it gets (a consumer's one, a
/// plant's two), and its weight.
struct Item {
    cols: [usize; 2],
    len: usize,
    weight: f64,
}

impl Item {
    fn new(cols: &[usize], weight: f64) -> Item {
        let mut item = Item {
            cols: [0; 2],
            len: cols.len(),
            weight,
        };
        item.cols[..cols.len()].copy_from_slice(cols);
        item
    }

    fn cols(&self) -> &[usize] {
        &self.cols[..self.len]
    }

    fn value(&self, engine: &Engine) -> f64 {
        self.cols().iter().map(|&j| engine.value(j)).sum()
    }
}

/// The common case of [`share`] in one step. The members' total is pinned by the face
/// the earlier steps left, and so are some members; if every other member can get the
/// same fraction of its weight, what the pinned ones leave over the others' weights,
/// that is the fair share: no fraction can rise without another falling, and the
/// pinned ones cannot move. Each such member moves towards its target within bounds
/// spanning where it is and where it should be; if all arrive, they are pinned there.
/// Otherwise their bounds are restored (the point stays feasible) and `false` sends
/// the members to progressive filling. Applies when each member has at most one
/// column left free.
fn share_evenly(engine: &mut Engine, open: &[&Item]) -> Result<bool, EngineError> {
    /// A member's free column on its way to its target, and the bounds it had.
    struct Move {
        col: usize,
        /// What the member's other, pinned column holds.
        rest: f64,
        weight: f64,
        bounds: (f64, f64),
        /// Towards the target: the column's cost.
        toward: f64,
    }
    let mut moves = Vec::with_capacity(open.len());
    let (mut total, mut weights) = (0.0, 0.0);
    for item in open {
        let value = item.value(engine);
        total += value;
        let mut free = item.cols().iter().filter(|&&j| !engine.fixed(j));
        match (free.next(), free.next()) {
            (None, _) => total -= value, // pinned: keeps its figure
            (Some(&col), None) => {
                weights += item.weight;
                moves.push(Move {
                    col,
                    rest: value - engine.value(col),
                    weight: item.weight,
                    bounds: engine.bounds(col),
                    toward: 0.0,
                });
            }
            _ => return Ok(false),
        }
    }
    if moves.is_empty() {
        return Ok(true);
    }
    let level = total / weights;
    let target = |m: &Move| level * m.weight - m.rest;
    // A member whose pinned column already holds more than its share (a plant's
    // must-run part) cannot be brought to it within its bounds: progressive filling
    // shares the rest among the others.
    let reachable = |m: &Move| {
        let (lo, hi) = m.bounds;
        (lo - SLACK..=hi + SLACK).contains(&target(m))
    };
    if !moves.iter().all(reachable) {
        return Ok(false);
    }
    for m in &mut moves {
        let (x, target) = (engine.value(m.col), target(m));
        engine.set_bounds(m.col, x.min(target), x.max(target));
        m.toward = if x > target { 1.0 } else { -1.0 };
    }
    engine.minimise(moves.iter().map(|m| (m.col, m.toward)))?;
    let arrived = moves.iter().all(|m| {
        let target = target(m);
        (engine.value(m.col) - target).abs() <= 1e-9 * (1.0 + target.abs())
    });
    for m in &moves {
        let x = engine.value(m.col);
        if arrived {
            engine.set_bounds(m.col, x, x);
        } else {
            engine.set_bounds(m.col, m.bounds.0, m.bounds.1);
        }
    }
    Ok(arrived)
}

/// Weighted max-min fairness by progressive filling. A fresh level λ gets a row
/// `member − weight·λ ≥ 0` for every member not yet limited and is raised as far as
/// it goes. Members whose row the optimum holds (its surplus has a non-zero reduced
/// cost) are frozen; each other member at the level is tested by maximising it alone
/// (λ held), and frozen if it cannot get more than `λ·weight` (by over [`FREEZE_REL`]
/// of its weight); repeat for the rest. Everyone keeps λ as floor, through its
/// row. A frozen member also gets its tested maximum as ceiling, by bounding its row's
/// surplus: exact, since the feasible set only shrinks from here, and it stops later
/// objectives from moving MW between members.
fn share(engine: &mut Engine, items: &[Item]) -> Result<(), EngineError> {
    let mut open: Vec<&Item> = items.iter().filter(|i| i.weight > 0.0).collect();
    if open.len() <= 1 || share_evenly(engine, &open)? {
        return Ok(()); // one member's figure is the pinned total itself
    }
    let mut level = 0.0;
    while !open.is_empty() {
        let lambda = engine.add_column(&[], level, 1.0, level);
        let surplus: Vec<usize> = open
            .iter()
            .map(|item| {
                let member = item.cols().iter().map(|&j| (j, 1.0));
                let terms: Vec<(usize, f64)> = member.chain([(lambda, -item.weight)]).collect();
                engine.add_row(&terms, 0.0, f64::INFINITY)
            })
            .collect();
        engine.minimise([(lambda, -1.0)])?;
        level = engine.value(lambda);
        engine.set_bounds(lambda, level, level);
        // A member whose surplus the level's optimum holds at zero is limited in every
        // schedule at this level: frozen without a test.
        let mut frozen: Vec<bool> = surplus.iter().map(|&s| engine.held(s)).collect();
        for (&s, _) in surplus.iter().zip(&frozen).filter(|&(_, &f)| f) {
            engine.set_bounds(s, 0.0, 0.0);
        }
        for (k, item) in open.iter().enumerate() {
            let room = FREEZE_REL * item.weight.max(1.0);
            if frozen[k] || engine.value(surplus[k]) > room {
                continue; // limited already, or above the level: not limited
            }
            engine.minimise(item.cols().iter().map(|&j| (j, -1.0)))?;
            let above = engine.value(surplus[k]);
            if above <= room {
                frozen[k] = true;
                engine.set_bounds(surplus[k], 0.0, above);
            }
        }
        if !frozen.contains(&true) {
            // Numerically stuck: λ should have frozen someone. Stop here rather than
            // loop; everyone keeps at least λ.
            break;
        }
        let mut k = 0;
        open.retain(|_| {
            k += 1;
            !frozen[k - 1]
        });
    }
    Ok(())
}
