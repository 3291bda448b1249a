//! The direction choice: which way each lossy line runs, when an optimum used one
//! both ways.

use super::rules::{finish, tiers};
use super::share::FREEZE_REL;
use super::{Dispatch, Run, outcome};
use crate::grid::Grid;
use crate::schedule::inputs::Inputs;
use crate::schedule::network::{Network, Way};
use crate::schedule::simplex::Warm;

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
pub(super) struct Choice<'a> {
    pub grid: &'a Grid,
    pub inputs: &'a Inputs,
    pub ramps: bool,
    pub keep_from: Option<u32>,
    pub warm: Option<&'a Warm>,
    pub spent: Option<Network>,
    pub runs: u32,
    /// The search reached [`MAX_RUNS`].
    pub stopped: bool,
}

impl Choice<'_> {
    /// Searches the schedules with each line restricted to its `ways`, keeping in `best`
    /// the best one-way schedule found.
    pub(super) fn search(&mut self, ways: Vec<Way>, best: &mut Option<Run>) {
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
pub(super) fn two_way(figures: &Dispatch, grid: &Grid) -> Option<usize> {
    (0..grid.lines.len()).find(|&l| figures.fwd[l].min(figures.rev[l]) > TWO_WAY_MW)
}

/// MW sent both ways below which a line counts as one-way: what it burns, a fraction
/// of this, is far below rule 3's 1e-6 MW balance tolerance.
const TWO_WAY_MW: f64 = 1e-9;

/// Whether `a` is lexicographically better than `b` in the rules' order: served MW per
/// tier ascending, then a run whose steps all succeeded, then each tier's fractions of
/// its requests from the lowest up (weighted max-min fairness), then least imported MW
/// and least imported per offer tier from the highest down, then least waste, least
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
    out.push((-d.imports.iter().sum::<f64>(), EQUAL));
    for &t in inputs.offer_tiers().iter().rev() {
        let offers = inputs.offers.iter().zip(&d.imports);
        let taken: f64 = offers.filter(|(o, _)| o.tier == t).map(|(_, mw)| mw).sum();
        out.push((-taken, EQUAL));
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
