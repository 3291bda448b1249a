//! The lexicographic rules on top of the [`Model`]: tiers (rule 2), fairness inside a
//! tier (rule 4), waste (rule 7), run-of-river before storage (rule 6), storage shared
//! in proportion to availability, and no two-way flow (rule 7).
//!
//! Each step solves, then fixes what it decided (a total as a row, a share as a lower
//! bound) before the next step, with a slack. The slack is first [`TIGHT`], 1e-9 MW:
//! later objectives may trade any slack for less waste, and losses amplify such trades
//! (a 1e-7 MW slack on a tier total can move 1e-5 MW between a lossless and a lossy
//! consumer), so it is kept far below what the outputs snap away. Should the engine's
//! own feasibility tolerance (1e-7 MW) make a tightly fixed model infeasible, the steps
//! run again with [`LOOSE`], 1e-6 MW + 1e-9 relative (still within rule 10's 1e-6
//! relative optimality). If that fails too, the last good solution is kept (it meets
//! every rule fixed so far) and a warning is logged; if no solve succeeds at all, the
//! schedule falls back to all-zero (see [`Dispatch::zero`]).

use super::inputs::Inputs;
use super::lp::{Cmp, Lp, LpError, Model, Var};
use crate::grid::Grid;

/// How far below (or above) an optimum a fixing lets the next steps go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Slack {
    abs: f64,
    rel: f64,
}

impl Slack {
    fn of(self, value: f64) -> f64 {
        self.abs + self.rel * value.abs()
    }
}

pub(super) const TIGHT: Slack = Slack {
    abs: 1e-9,
    rel: 0.0,
};
pub(super) const LOOSE: Slack = Slack {
    abs: 1e-6,
    rel: 1e-9,
};

/// How much more than the common level a member may get and still count as limited.
const FREEZE_REL: f64 = 1e-6;

/// The solved figures of one run, indexed like the [`Model`]'s vectors.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Dispatch {
    pub g: Vec<f64>,
    pub spill: Vec<f64>,
    pub fwd: Vec<f64>,
    pub rev: Vec<f64>,
    pub served: Vec<f64>,
    /// False when a step failed and an earlier solution (or the zero schedule) stands.
    pub complete: bool,
}

impl Dispatch {
    /// The safe schedule when the model cannot be solved at all: nothing generated,
    /// served or sent; must-run output counts as spilled.
    pub(super) fn zero(inputs: &Inputs) -> Dispatch {
        Dispatch {
            g: vec![0.0; inputs.avail.len()],
            spill: inputs.lb.clone(),
            fwd: vec![0.0; inputs.lines.len()],
            rev: vec![0.0; inputs.lines.len()],
            served: vec![0.0; inputs.consumers.len()],
            complete: false,
        }
    }

    fn read(model: &Model, x: &[f64]) -> Dispatch {
        let pick = |vars: &[Var]| vars.iter().map(|v| x[v.at()]).collect::<Vec<_>>();
        Dispatch {
            g: pick(&model.g),
            spill: pick(&model.spill),
            fwd: pick(&model.fwd),
            rev: pick(&model.rev),
            served: pick(&model.served),
            complete: true,
        }
    }
}

/// Runs every rule on `inputs` and returns the schedule's figures.
pub(super) fn dispatch(grid: &Grid, inputs: &Inputs) -> Dispatch {
    let mut model = Model::build(grid, inputs, true);
    let mut x = match model.lp.maximise(&[]) {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(error = %e, "line ramps leave no feasible flow; ignoring ramps this tick");
            model = Model::build(grid, inputs, false);
            match model.lp.maximise(&[]) {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!(error = %e, "network model unsolvable; emitting the zero schedule");
                    return Dispatch::zero(inputs);
                }
            }
        }
    };
    let (base, x0) = (model.clone(), x.clone());
    let mut refined = refine(inputs, &mut model, &mut x, TIGHT);
    if let Err(e) = &refined {
        tracing::debug!(error = %e, "a tightly fixed step failed; retrying with looser fixings");
        (model, x) = (base, x0);
        refined = refine(inputs, &mut model, &mut x, LOOSE);
        if let Err(e) = &refined {
            tracing::warn!(error = %e, "a scheduling step failed; keeping the last good solution");
        }
    }
    let mut out = Dispatch::read(&model, &x);
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

/// The steps after feasibility. `x` always holds the last successful solution.
fn refine(
    inputs: &Inputs,
    model: &mut Model,
    x: &mut Vec<f64>,
    slack: Slack,
) -> Result<(), LpError> {
    // Rule 2: tiers in ascending order, every tier's total before any sharing. Sharing
    // a short tier first would pin who gets its MW, and a later tier could then reach
    // less than the lexicographic optimum (rule 10): a transit and a load sharing a
    // tier cost the domestic side very different MW.
    let mut tiers: Vec<u32> = inputs.consumers.iter().map(|c| c.tier).collect();
    tiers.sort_unstable();
    tiers.dedup();
    let mut short = Vec::new();
    for tier in tiers {
        let members: Vec<usize> = (0..inputs.consumers.len())
            .filter(|&c| inputs.consumers[c].tier == tier && inputs.consumers[c].cap > 0.0)
            .collect();
        if members.is_empty() {
            continue;
        }
        let total_terms: Vec<(Var, f64)> =
            members.iter().map(|&c| (model.served[c], 1.0)).collect();
        let sol = model.lp.maximise(&total_terms)?;
        let total: f64 = total_terms.iter().map(|(v, _)| sol[v.at()]).sum();
        *x = sol;
        let capacity: f64 = members.iter().map(|&c| inputs.consumers[c].cap).sum();
        if total >= capacity - LOOSE.of(capacity) {
            // Fully served: everyone gets its cap, no fairness to settle.
            for &c in &members {
                let cap = inputs.consumers[c].cap;
                model.lp.raise_lo(model.served[c], cap - slack.of(cap));
            }
            continue;
        }
        if total <= slack.of(0.0) {
            // Nothing of this tier can be served: everyone gets 0, fairly.
            for &c in &members {
                model.lp.lower_hi(model.served[c], 0.0);
            }
            continue;
        }
        model.lp.row(&total_terms, Cmp::Ge, total - slack.of(total));
        short.push(members);
    }
    // Rule 4: inside each short tier, ascending, weighted max-min fairness with the
    // requests as weights, every tier's total held.
    for members in short {
        let items: Vec<(Var, f64)> = members
            .iter()
            .map(|&c| (model.served[c], inputs.consumers[c].request))
            .collect();
        progressive_fill(&mut model.lp, &items, x, slack)?;
    }

    // Rule 7: least waste (spill plus losses).
    let mut waste: Vec<(Var, f64)> = model.spill.iter().map(|&v| (v, 1.0)).collect();
    for (l, &loss) in model.loss.iter().enumerate() {
        if loss > 0.0 {
            waste.push((model.fwd[l], loss));
            waste.push((model.rev[l], loss));
        }
    }
    if !waste.is_empty() {
        let sol = model.lp.minimise(&waste)?;
        let w: f64 = waste.iter().map(|&(v, c)| c * sol[v.at()]).sum();
        *x = sol;
        model.lp.row(&waste, Cmp::Le, w + slack.of(w));
    }

    // Rule 6: run-of-river first, that is the least storage generation. Not the most
    // run-of-river generation: with waste fixed, run-of-river output can still rise by
    // trading spill for losses, sending MW both ways on a lossy line to burn them,
    // which rule 7 forbids. Least storage output leaves that trade to the least-flow
    // step below, which undoes it.
    let storage_total: Vec<(Var, f64)> = model
        .g
        .iter()
        .zip(&model.storage)
        .filter(|&(_, &storage)| storage)
        .map(|(&v, _)| (v, 1.0))
        .collect();
    if !storage_total.is_empty() {
        let sol = model.lp.minimise(&storage_total)?;
        let s: f64 = storage_total.iter().map(|&(v, _)| sol[v.at()]).sum();
        *x = sol;
        model.lp.row(&storage_total, Cmp::Le, s + slack.of(s));
    }
    // …then storage in proportion to availability.
    let storage: Vec<(Var, f64)> = model
        .g
        .iter()
        .zip(&model.storage)
        .zip(&inputs.avail)
        .filter(|&((_, &storage), &a)| storage && a > 0.0)
        .map(|((&v, _), &a)| (v, a))
        .collect();
    progressive_fill(&mut model.lp, &storage, x, slack)?;

    // Rule 7: a line never carries both ways; least flow breaks the remaining ties.
    let flows: Vec<(Var, f64)> = model
        .fwd
        .iter()
        .chain(&model.rev)
        .map(|&v| (v, 1.0))
        .collect();
    if !flows.is_empty() {
        *x = model.lp.minimise(&flows)?;
    }
    Ok(())
}

/// Weighted max-min fairness by progressive filling: raise a common level λ with
/// `var ≥ λ·weight` for everyone not yet limited, freeze those that cannot get more
/// than λ (each tested by maximising it alone with the others held at λ; "more" means
/// by over [`FREEZE_REL`] of its weight), repeat. Everyone keeps λ as its new floor; a
/// frozen variable also gets its tested maximum as ceiling. That ceiling is exact (the
/// feasible set only shrinks from here) and stops later objectives from moving MW
/// between members through the tolerances, which losses would otherwise amplify.
fn progressive_fill(
    lp: &mut Lp,
    items: &[(Var, f64)],
    x: &mut Vec<f64>,
    slack: Slack,
) -> Result<(), LpError> {
    let mut open: Vec<(Var, f64)> = items.iter().copied().filter(|&(_, w)| w > 0.0).collect();
    while !open.is_empty() {
        let mut trial = lp.clone();
        let level = trial.var(0.0, 1.0);
        for &(v, w) in &open {
            trial.row(&[(v, 1.0), (level, -w)], Cmp::Ge, 0.0);
        }
        let sol = trial.maximise(&[(level, 1.0)])?;
        let lambda = sol[level.at()].clamp(0.0, 1.0);
        x.clear();
        x.extend_from_slice(&sol[..lp.len()]);

        for &(v, w) in &open {
            let share = lambda * w;
            lp.raise_lo(v, share - slack.of(share));
        }
        let mut frozen = Vec::new();
        for (i, &(v, w)) in open.iter().enumerate() {
            let share = lambda * w;
            let best = lp.maximise(&[(v, 1.0)])?[v.at()];
            if best <= share + FREEZE_REL * w.max(1.0) {
                frozen.push(i);
                lp.lower_hi(v, best.max(share));
            }
        }
        if frozen.is_empty() {
            // Numerically stuck: λ should have frozen someone. Stop here rather than
            // loop; everyone keeps at least λ.
            break;
        }
        let mut i = 0;
        open.retain(|_| {
            let keep = !frozen.contains(&i);
            i += 1;
            keep
        });
    }
    Ok(())
}
