//! Why each contract got its figure: a heuristic over the solved schedule.
//!
//! Checked in this order, the first that applies wins:
//!
//! 1. `out_of_window` — the contract's window is closed at the tick.
//! 2. `ok` — scheduled within 1e-6 MW of the request.
//! 3. `emergency_state` / `alert_state` — the emitted state's restrictions cut the
//!    contract below its request.
//! 4. Network, looking only at the lines incident to the contract's `to` area (those
//!    that can carry MW towards it) and, for a transit, those incident to its `from`
//!    area (that can carry MW away from it). A side is *network-bound* when every
//!    in-service line of it is at its limit in that direction (vacuously, when none is
//!    in service). On a bound side: `line_out` if one of its lines is out of service,
//!    else `ramp_limit` if the lines are held by ramp bounds and none by its capacity,
//!    else `line_capacity` (a line at its capacity after derating, or no line able to
//!    carry the contract at all). A side with any headroom left is not the reason.
//! 5. `reservoir_floor` — some plant is capped at its inflow by its rule curve, so the
//!    shortfall is (at least partly) stored water that may not be used.
//! 6. `shortage` — anything else: not enough supply for this tier.
//!
//! An import offer is a source, so it has its own short list, the first that applies:
//! `out_of_window`; `ok` when taken in full; a network reason, by the same test on the
//! lines that carry MW away from its `from` neighbor, when that side is bound and some
//! consumer the state allows is short (so more of the offer might have served it);
//! else `ok` — the rest was not needed: taking it would serve no tier more (rule 7).

use super::ContractReason;
use super::OperatingState;
use super::dispatch::Dispatch;
use super::inputs::{Inputs, Part};
use crate::grid::{ContractKind, Grid};
use crate::time::Timestamp;

const MET: f64 = 1e-6;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Free,
    Capacity,
    Ramp,
}

/// The reason for every contract of an emitted run.
pub(super) fn reasons(
    grid: &Grid,
    ts: Timestamp,
    state: OperatingState,
    inputs: &Inputs,
    run: &Dispatch,
    scheduled: &[f64],
) -> Vec<ContractReason> {
    grid.contracts
        .iter()
        .enumerate()
        .map(|(c, contract)| {
            let requested = inputs.contract_requests[c];
            if !contract.in_window(ts) {
                return ContractReason::OutOfWindow;
            }
            if scheduled[c] >= requested - MET {
                return ContractReason::Ok;
            }
            if contract.kind == ContractKind::Import {
                return import_reason(grid, inputs, run, contract.from);
            }
            let cap: f64 = inputs
                .consumers
                .iter()
                .filter(|k| matches!(k.part, Part::Floor(i) | Part::Rest(i) if i == c))
                .map(|k| k.cap)
                .sum();
            if cap < requested - MET {
                match state {
                    OperatingState::Emergency => return ContractReason::EmergencyState,
                    OperatingState::Alert => return ContractReason::AlertState,
                    OperatingState::Normal => {}
                }
            }
            let network = side(grid, inputs, run, contract.to, true).or_else(|| {
                (contract.kind == ContractKind::Transit)
                    .then(|| side(grid, inputs, run, contract.from, false))
                    .flatten()
            });
            if let Some(reason) = network {
                return reason;
            }
            if inputs.reservoir_capped.iter().any(|&capped| capped) {
                ContractReason::ReservoirFloor
            } else {
                ContractReason::Shortage
            }
        })
        .collect()
}

/// Why an import offer within its window was taken below its request: the lines out of
/// its neighbor, when they are bound while some consumer is short; else it was not
/// needed.
fn import_reason(grid: &Grid, inputs: &Inputs, run: &Dispatch, from: usize) -> ContractReason {
    let mut consumers = inputs.consumers.iter().zip(&run.served);
    let short = consumers.any(|(c, &served)| served < c.cap - MET);
    let network = short.then(|| side(grid, inputs, run, from, false));
    network.flatten().unwrap_or(ContractReason::Ok)
}

/// The network reason on one side of a contract, if that side is bound. `towards`:
/// lines carrying MW into `area`; otherwise out of it.
fn side(
    grid: &Grid,
    inputs: &Inputs,
    run: &Dispatch,
    area: usize,
    towards: bool,
) -> Option<ContractReason> {
    let mut any_out = false;
    let mut any_capacity = false;
    let mut any_ramp = false;
    for (l, line) in grid.lines.iter().enumerate() {
        // forward (from→to) carries into `line.to` and out of `line.from`.
        let forward = if towards {
            line.to == area
        } else {
            line.from == area
        };
        let backward = if towards {
            line.from == area
        } else {
            line.to == area
        };
        if !forward && !backward {
            continue;
        }
        let configured = if forward {
            line.capacity_mw
        } else {
            line.reverse_capacity_mw
        };
        if configured <= 0.0 {
            continue;
        }
        let limits = &inputs.lines[l];
        if !limits.in_service {
            any_out = true;
            continue;
        }
        match bound(limits, run.fwd[l] - run.rev[l], forward) {
            Bound::Free => return None,
            Bound::Capacity => any_capacity = true,
            Bound::Ramp => any_ramp = true,
        }
    }
    Some(if any_out {
        ContractReason::LineOut
    } else if any_ramp && !any_capacity {
        ContractReason::RampLimit
    } else {
        // At capacity, or no line can carry it at all.
        ContractReason::LineCapacity
    })
}

/// Whether net flow `net` is held at a limit in the direction `forward`.
fn bound(limits: &super::inputs::LineLimits, net: f64, forward: bool) -> Bound {
    let (flow, cap, ramp) = if forward {
        (net, limits.fwd_cap, limits.ramp.map(|(_, hi)| hi))
    } else {
        (-net, limits.rev_cap, limits.ramp.map(|(lo, _)| -lo))
    };
    if flow >= cap - MET {
        Bound::Capacity
    } else if ramp.is_some_and(|r| flow >= r - MET) {
        Bound::Ramp
    } else {
        Bound::Free
    }
}
