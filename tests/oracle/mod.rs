//! An independent reference for the scheduler, written from the product contract's
//! words (SPEC: "Grid model", "Time", "Decisions", "Scheduling rules") and, where it is
//! silent, from `docs/scheduling.md`; never from the scheduler's code. Solved with
//! `good_lp` and its pure-Rust `microlp` backend.
//!
//! - [`programme`]: the snapshot read as the rules state it (availability, consumers
//!   and their tiers, line limits and ramps, the state's restrictions).
//! - [`solver`]: one objective over the schedules in which no line carries flow both
//!   ways, exactly, by branch and bound on directions.
//! - [`order`]: the tiers' lexicographic optimum, the fair shares, least imports, least
//!   waste.
//! - this module: the judged state (rule 8) and the figures a decision reports.
//!
//! It is deliberately plain: every objective rebuilds the whole programme from
//! scratch, and earlier optima are explicit lower bounds. Speed is not the point; an
//! obviously faithful translation of the rules is.

// Shared by the integration tests and the benches, each of which uses only a part.
#![allow(dead_code)]

pub mod network;
mod order;
mod programme;
mod solver;

pub use order::Slack;
pub use programme::Previous;

use order::Allocation;
use programme::{Programme, Who};
use std::collections::BTreeMap;
use vakhsh::grid::{Grid, LoadClass, Telemetry};
use vakhsh::schedule::OperatingState;
use vakhsh::time::Timestamp;

/// Requested and served MW of one tier.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TierFigures {
    pub requested_mw: f64,
    pub served_mw: f64,
}

/// Why the state was judged worse than normal (rule 8).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Short {
    /// An `essential` load not fully served: emergency.
    Essential(usize),
    /// Another load not fully served: alert.
    Load(usize),
    /// A data center's firm part not fully served: alert.
    FirmDc(usize),
    /// The reserve not fully held: alert.
    Reserve,
    /// Unused domestic generation below `alert_margin_mw`: alert.
    Margin,
}

/// What the oracle finds for one tick.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Per tier under the emitted state's restrictions.
    pub tiers: BTreeMap<u32, TierFigures>,
    /// Served MW per load.
    pub loads: Vec<f64>,
    /// Served MW of each data center's firm and flexible parts.
    pub data_centers: Vec<[f64; 2]>,
    /// Scheduled MW per contract: floor part plus the rest; for an import offer, the
    /// least it may take (see `contract_spread`).
    pub contracts: Vec<f64>,
    /// How far above `contracts` a contract's MW may be and still be optimal: 0 except
    /// for import offers that share their tier with another, which no rule tells apart.
    pub contract_spread: Vec<f64>,
    /// The least imported MW (rule 7).
    pub imported_mw: f64,
    /// The reserve held (0 without one).
    pub reserve_mw: f64,
    /// Least spill plus losses with every consumer at its share (rule 7).
    pub waste_mw: f64,
    /// The state judged on the unrestricted programme.
    pub judged: OperatingState,
    /// Every reason the state was judged worse than normal.
    pub shorts: Vec<Short>,
    /// Availability less output, summed, in the unrestricted programme's least-waste
    /// schedule: what the alert margin is compared with.
    pub unused_mw: f64,
    /// True when the ramps left no feasible schedule under the emitted state's
    /// restrictions and were all dropped.
    pub ramps_relaxed: bool,
    /// What each plant offers (rule 1).
    pub avail: Vec<f64>,
    /// Each plant's least output (rule 1): `min(min_mw, availability)`, or a full
    /// reservoir's `min(inflow_mw, availability)` when that is more.
    pub must_run: Vec<f64>,
    pub reserve_required_mw: f64,
    /// Each contract's request (reported even outside its window).
    pub contract_requests: Vec<f64>,
    /// Net-flow range of each line under the emitted state's programme.
    pub line_range: Vec<(f64, f64)>,
    /// The most any step gave up of the optima held before it (see `order`): none,
    /// unless the solver's rounding needed some.
    pub slack: Slack,
    /// True when rule 4's fair shares were not defined (see `order::Allocation`).
    pub undefined: bool,
    /// One optimal schedule, to read when a case fails.
    pub witness: Witness,
}

/// The least-waste schedule of the emitted state's programme: not unique beyond the
/// consumers' MW, for diagnosis only.
#[derive(Debug, Clone, Default)]
pub struct Witness {
    pub g: Vec<f64>,
    pub spill: Vec<f64>,
    /// Net MW sent per line, negative = to→from.
    pub flows: Vec<f64>,
    /// MW taken per import offer.
    pub imports: Vec<f64>,
    pub losses: f64,
    /// Served MW per consumer: who, tier, MW.
    pub served: Vec<(String, u32, f64)>,
}

/// How many times, on this thread so far, a linear relaxation ran a lossy line both
/// ways and the oracle branched on its direction (see `solver`).
pub fn branchings() -> u64 {
    solver::branchings()
}

/// Solves the tick at `ts`: the state judged on the unrestricted programme, and every
/// figure of the programme restricted by the emitted state `restrictions`. `previous`
/// is the previous tick's time and net flows (ramps; none on a first tick).
pub fn solve(
    grid: &Grid,
    state: &Telemetry,
    ts: Timestamp,
    previous: Option<Previous>,
    restrictions: OperatingState,
) -> Outcome {
    let previous = previous.as_ref();
    let free = settled(Programme::new(
        grid,
        state,
        ts,
        previous,
        OperatingState::Normal,
    ));
    let free_allocation = order::allocate(&free);
    let (judged, shorts, unused_mw) = judge(&free, &free_allocation);
    let held = settled(Programme::new(grid, state, ts, previous, restrictions));
    let same_caps = held
        .consumers
        .iter()
        .zip(&free.consumers)
        .all(|(a, b)| a.cap == b.cap);
    let allocation = match same_caps && held.lines == free.lines {
        true => free_allocation,
        false => order::allocate(&held),
    };
    outcome(&held, allocation, judged, shorts, unused_mw)
}

/// The programme with rule 3's ramp relaxation settled.
fn settled(mut programme: Programme) -> Programme {
    programme.settle_ramps();
    programme
}

/// Rule 8, short meaning short by more than rule 10's tolerance: `emergency` when an
/// essential load is short; `alert` when another load, a firm data-center part or the
/// reserve is short, or unused domestic generation is below the margin.
fn judge(free: &Programme, allocation: &Allocation) -> (OperatingState, Vec<Short>, f64) {
    let grid = free.grid;
    let mut shorts = Vec::new();
    for (c, consumer) in free.consumers.iter().enumerate() {
        if allocation.served[c] >= consumer.request - met(consumer.request) {
            continue;
        }
        match consumer.who {
            Who::Load(i) if grid.loads[i].class == LoadClass::Essential => {
                shorts.push(Short::Essential(i))
            }
            Who::Load(i) => shorts.push(Short::Load(i)),
            Who::DcFirm(i) => shorts.push(Short::FirmDc(i)),
            Who::Reserve => shorts.push(Short::Reserve),
            Who::DcFlexible(_) | Who::Floor(_) | Who::Rest(_) => {}
        }
    }
    let schedule = &allocation.least_waste;
    let output: f64 = schedule.g.iter().chain(&schedule.spill).sum();
    let unused = free.avail.iter().sum::<f64>() - output;
    let margin = grid.states.alert_margin_mw;
    if unused < margin - met(margin) {
        shorts.push(Short::Margin);
    }
    let state = if shorts.iter().any(|s| matches!(s, Short::Essential(_))) {
        OperatingState::Emergency
    } else if shorts.is_empty() {
        OperatingState::Normal
    } else {
        OperatingState::Alert
    };
    (state, shorts, unused)
}

/// How far below its request a figure may be and still be fully served: rule 10's
/// tolerance, 1e-6 relative with a 1e-6 MW floor.
pub fn met(request: f64) -> f64 {
    1e-6_f64.max(1e-6 * request.abs())
}

/// The figures a decision reports, from the emitted state's allocation.
fn outcome(
    held: &Programme,
    allocation: Allocation,
    judged: OperatingState,
    shorts: Vec<Short>,
    unused_mw: f64,
) -> Outcome {
    let grid = held.grid;
    let mut loads = vec![0.0; grid.loads.len()];
    let mut data_centers = vec![[0.0; 2]; grid.data_centers.len()];
    let mut contracts = vec![0.0; grid.contracts.len()];
    let mut reserve_mw = 0.0;
    for (consumer, &mw) in held.consumers.iter().zip(&allocation.served) {
        match consumer.who {
            Who::Load(i) => loads[i] = mw,
            Who::DcFirm(i) => data_centers[i][0] = mw,
            Who::DcFlexible(i) => data_centers[i][1] = mw,
            Who::Floor(i) | Who::Rest(i) => contracts[i] += mw,
            Who::Reserve => reserve_mw = mw,
        }
    }
    let mut contract_spread = vec![0.0; grid.contracts.len()];
    for (offer, &(least, most)) in held.offers.iter().zip(&allocation.offers) {
        // The solver's rounding can put the most a hair below the least.
        contracts[offer.contract] = least.min(most);
        contract_spread[offer.contract] = (most - least).max(0.0);
    }
    let schedule = &allocation.least_waste;
    let witness = Witness {
        g: schedule.g.clone(),
        spill: schedule.spill.clone(),
        flows: schedule.net.clone(),
        imports: schedule.imports.clone(),
        losses: schedule.losses,
        served: held
            .consumers
            .iter()
            .zip(&schedule.served)
            .map(|(c, &mw)| (format!("{:?}", c.who), c.tier, mw))
            .collect(),
    };
    Outcome {
        tiers: allocation.tiers,
        loads,
        data_centers,
        contracts,
        contract_spread,
        imported_mw: allocation.imported_mw,
        reserve_mw,
        waste_mw: -schedule.objective,
        judged,
        shorts,
        unused_mw,
        ramps_relaxed: held.ramps_relaxed,
        avail: held.avail.clone(),
        must_run: held.must_run.clone(),
        reserve_required_mw: held.reserve_required,
        contract_requests: held.contract_requests.clone(),
        line_range: held.lines.iter().map(|l| (l.lo, l.hi)).collect(),
        slack: allocation.slack,
        undefined: allocation.undefined,
        witness,
    }
}
