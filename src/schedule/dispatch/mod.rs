//! The lexicographic rules on the [`Network`]: tiers (rule 2), fairness inside a tier
//! (rule 4), waste (rule 7), run-of-river before storage (rule 6), storage shared in
//! proportion to availability, and no two-way flow (rule 7).
//!
//! # The algorithm
//!
//! One feasible point of the tick's network is carried through a chain of questions
//! (see [`rules`]), each answered by the [`Engine`]'s primal simplex from the previous
//! answer's basis:
//!
//! 1. for each tier ascending, the most MW its members can be served; the answer is
//!    kept by pinning the optimal face ([`Engine::fix_face`]), so every later question
//!    is asked only among schedules that serve every earlier tier its optimum — the
//!    lexicographic optimum of rule 10, exactly, with no tolerance traded;
//! 2. in each tier left short, weighted max-min fairness by progressive filling (see
//!    [`share`]);
//! 3. least imported MW, then, with that total held, the imports of the highest tier
//!    avoided first (lower tier taken first);
//! 4. least waste: spill plus losses;
//! 5. least storage output, so run-of-river goes first;
//! 6. storage plants in proportion to their availability, by the same filling;
//! 7. least total line flow.
//!
//! A run that sends MW both ways on a lossy line is repeated with the line fixed to
//! each way (see [`choice`]), so that the schedule is the optimum over one-way flows.
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
//!
//! [`Engine`]: super::simplex::Engine
//! [`Engine::fix_face`]: super::simplex::Engine::fix_face

mod checkpoint;
mod choice;
mod rules;
mod share;

pub(super) use checkpoint::resume;

use super::inputs::Inputs;
use super::network::{Network, Way};
use super::simplex::{EngineError, Warm};
use crate::grid::Grid;
use choice::Choice;

/// The network part-way through the tier steps: every tier below `tier` answered.
/// A tick whose state restricts some consumers resumes from here instead of starting
/// over (see [`resume`]).
#[derive(Debug, Clone)]
pub(in crate::schedule) struct Checkpoint {
    pub(super) net: Network,
    pub(super) tier: u32,
    /// The tiers below `tier` left short, to be shared.
    pub(super) short: Vec<Vec<usize>>,
}

/// The solved figures of one run, indexed like the [`Inputs`]' vectors.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Dispatch {
    pub g: Vec<f64>,
    pub spill: Vec<f64>,
    pub fwd: Vec<f64>,
    pub rev: Vec<f64>,
    pub served: Vec<f64>,
    /// MW taken per import offer.
    pub imports: Vec<f64>,
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
            imports: vec![0.0; inputs.offers.len()],
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
            imports: pick(&net.imports),
            ramps_relaxed: !net.ramps || inputs.lines.iter().any(|l| l.ramp_relaxed),
            complete: true,
        }
    }
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
