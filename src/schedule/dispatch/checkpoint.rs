//! Where a tick whose state restricts some consumers resumes the rules: the network
//! part-way through the tier steps.

use super::choice::two_way;
use super::rules::{finish, tiers};
use super::{Checkpoint, Dispatch, dispatch, outcome};
use crate::grid::Grid;
use crate::schedule::inputs::Inputs;

/// Runs the rules on `inputs`, a restriction of the inputs the checkpoint was taken
/// on (some caps cut to 0), from the checkpoint when it can.
///
/// The tiers answered before the checkpoint keep their optima under the restriction
/// when their optimal face holds a point that serves the cut consumers nothing: that
/// point is feasible for the restricted programme and reaches every optimum the
/// unrestricted one does, which bounds the restricted optima from above. So the cut
/// consumers are driven to 0 inside the face, and if they reach it the tier steps
/// carry on from the checkpoint; otherwise the tick starts over.
pub(in crate::schedule) fn resume(
    grid: &Grid,
    inputs: &Inputs,
    checkpoint: Option<Checkpoint>,
) -> Dispatch {
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
