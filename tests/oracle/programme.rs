//! One tick's programme as the product contract states it (SPEC: "Grid model",
//! "Scheduling rules"): what each plant can give (rule 1), who asks for what at which
//! tier (rules 2, 5 and 8's restrictions), what each import offer may bring in (a
//! source, "Grid model") and what each line may carry (rule 3).
//! Nothing here is solved; `solver` builds the linear programme from it.

use vakhsh::grid::{ContractKind, Firmness, Grid, Line, LineReading, Nomination, Telemetry};
use vakhsh::schedule::OperatingState;
use vakhsh::time::Timestamp;

/// Who a consumer is: every figure of rule 2 that sits at a tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Load(usize),
    DcFirm(usize),
    DcFlexible(usize),
    /// A contract's floor part, `min(request, floor_mw)`, at `floor_tier`.
    Floor(usize),
    /// The rest of a contract's request, at its `tier`.
    Rest(usize),
    Reserve,
}

/// Something that may be served at a tier.
#[derive(Debug, Clone)]
pub struct Consumer {
    pub who: Who,
    pub tier: u32,
    /// What it asks for: the weight of rule 4's fair shares.
    pub request: f64,
    /// The most it may get after windows and the state's restrictions: the request or 0.
    pub cap: f64,
    /// Where its MW leave the grid (none for the reserve: it is headroom, rule 5).
    pub withdraw: Option<usize>,
    /// Where a transit's MW enter the grid.
    pub inject: Option<usize>,
}

/// An import offer: "a contract from a neighbor to a domestic area ... up to its
/// request (nomination, capped by `max_mw`) the neighbor injects MW at `from`, which
/// reach the domestic grid over lines like any other flow; it is a source, not a
/// consumer, so its `tier` only orders it among imports". Rule 8's restrictions name
/// exports and transits only, so no state cuts it; a closed window does, as it does
/// every contract.
#[derive(Debug, Clone)]
pub struct Offer {
    /// The contract it is.
    pub contract: usize,
    pub tier: u32,
    /// The most the neighbor injects: its request, or 0 outside its window.
    pub cap: f64,
    /// Where the MW enter: the offer's `from`.
    pub inject: usize,
}

/// What a line may carry this tick: MW sent each way and the net flow's range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineLimits {
    /// Most MW sent from→to.
    pub fwd_max: f64,
    /// Most MW sent to→from.
    pub rev_max: f64,
    /// Range of the net flow (from→to minus to→from).
    pub lo: f64,
    pub hi: f64,
}

impl LineLimits {
    const OUT: LineLimits = LineLimits {
        fwd_max: 0.0,
        rev_max: 0.0,
        lo: 0.0,
        hi: 0.0,
    };
}

/// The data of one tick's programme under one set of restrictions.
#[derive(Debug, Clone)]
pub struct Programme<'a> {
    pub grid: &'a Grid,
    /// Rule 1's availability per plant.
    pub avail: Vec<f64>,
    /// The least output of each plant: `min(min_mw, availability)`, and at least
    /// `min(inflow_mw, availability)` when its reservoir is full.
    pub must_run: Vec<f64>,
    pub consumers: Vec<Consumer>,
    pub offers: Vec<Offer>,
    /// The limits in force: ramped, except a ramp a derating leaves out of reach, and
    /// none once the ramps are relaxed.
    pub lines: Vec<LineLimits>,
    /// The limits with every ramp dropped (capacities still bind).
    pub capacities: Vec<LineLimits>,
    /// Some ramp was relaxed: one out of reach, or all of them.
    pub ramps_relaxed: bool,
    pub reserve_required: f64,
    pub contract_requests: Vec<f64>,
}

/// The previous tick a ramp is measured from: its time and its net flow per line.
pub type Previous = (Timestamp, Vec<f64>);

impl<'a> Programme<'a> {
    /// The programme of `state` at `ts`, with the consumers the emitted state
    /// `restrictions` allows (rule 8) and the ramps from `previous`. Whether the
    /// ramps leave a feasible schedule is settled by [`Programme::settle_ramps`].
    pub fn new(
        grid: &'a Grid,
        state: &Telemetry,
        ts: Timestamp,
        previous: Option<&Previous>,
        restrictions: OperatingState,
    ) -> Self {
        let avail = availability(grid, state, ts);
        let must_run = must_run(grid, state, &avail);
        let contract_requests = contract_requests(grid, state);
        let mut consumers = domestic_consumers(grid, state, restrictions);
        consumers.extend(contract_consumers(
            grid,
            ts,
            &contract_requests,
            restrictions,
        ));
        let offers = offers(grid, ts, &contract_requests);
        let reserve_required = reserve_required(grid, &avail, &consumers);
        if let Some(reserve) = &grid.reserve {
            consumers.push(Consumer {
                who: Who::Reserve,
                tier: reserve.tier,
                request: reserve_required,
                cap: reserve_required,
                withdraw: None,
                inject: None,
            });
        }
        let capacities: Vec<LineLimits> = grid
            .lines
            .iter()
            .zip(&state.lines)
            .map(|(line, reading)| capacity(line, reading))
            .collect();
        let mut lines = capacities.clone();
        let mut ramps_relaxed = false;
        if let Some((last, flows)) = previous {
            let minutes = ts.micros_since(*last) as f64 / 60e6;
            for (l, limits) in lines.iter_mut().enumerate() {
                let line = &grid.lines[l];
                match ramped(line, &state.lines[l], capacities[l], flows[l], minutes) {
                    Some(ramped) => *limits = ramped,
                    None => ramps_relaxed = true,
                }
            }
        }
        Programme {
            grid,
            avail,
            must_run,
            consumers,
            offers,
            lines,
            capacities,
            ramps_relaxed,
            reserve_required,
            contract_requests,
        }
    }

    /// Rule 3: when the ramps leave no feasible schedule (with one-way flow), they are
    /// all dropped for the tick; capacities still bind.
    pub fn settle_ramps(&mut self) {
        if self.lines != self.capacities && !self.feasible() {
            self.lines = self.capacities.clone();
            self.ramps_relaxed = true;
        }
    }

    /// Every tier that has a consumer, ascending.
    pub fn tiers(&self) -> Vec<u32> {
        let mut tiers: Vec<u32> = self.consumers.iter().map(|c| c.tier).collect();
        tiers.sort_unstable();
        tiers.dedup();
        tiers
    }

    /// The tiers of the offers that may bring anything in, ascending.
    pub fn offer_tiers(&self) -> Vec<u32> {
        let mut tiers: Vec<u32> = self
            .offers
            .iter()
            .filter(|o| o.cap > 0.0)
            .map(|o| o.tier)
            .collect();
        tiers.sort_unstable();
        tiers.dedup();
        tiers
    }

    /// The consumers of one tier.
    pub fn members(&self, tier: u32) -> Vec<usize> {
        (0..self.consumers.len())
            .filter(|&c| self.consumers[c].tier == tier)
            .collect()
    }
}

/// Rule 1: `min(available_mw, capacity_mw)`, capped at the inflow (0 when none was
/// read, docs) when the reported level is below the month's rule curve or the floor.
/// An unknown level never caps.
fn availability(grid: &Grid, state: &Telemetry, ts: Timestamp) -> Vec<f64> {
    let month = ts.month() as usize;
    grid.plants
        .iter()
        .zip(&state.plants)
        .map(|(plant, reading)| {
            let a = reading.available_mw.min(plant.capacity_mw).max(0.0);
            match (&plant.reservoir, reading.reservoir_level_m) {
                (Some(r), Some(level))
                    if level < r.rule_curve_m[month - 1] || level < r.floor_m =>
                {
                    a.min(reading.inflow_mw.unwrap_or(0.0).max(0.0))
                }
                _ => a,
            }
        })
        .collect()
}

/// Rule 1: output below `min(min_mw, availability)` is impossible, and a plant whose
/// reported level is at or above `full_m` must also output `min(inflow_mw,
/// availability)`: it passes its inflow. Both hold, so the least output is the larger.
/// An unknown level is not full, and an unknown inflow asks nothing (docs).
fn must_run(grid: &Grid, state: &Telemetry, avail: &[f64]) -> Vec<f64> {
    grid.plants
        .iter()
        .zip(&state.plants)
        .zip(avail)
        .map(|((plant, reading), &a)| {
            let environmental = plant.min_mw.min(a);
            let full = match (&plant.reservoir, reading.reservoir_level_m) {
                (Some(r), Some(level)) => r.full_m.is_some_and(|full_m| level >= full_m),
                _ => false,
            };
            match reading.inflow_mw {
                Some(inflow) if full => environmental.max(inflow.min(a)),
                _ => environmental,
            }
        })
        .collect()
}

/// A contract's request: nothing until nominated, `max_mw` for a nomination without
/// MW, else the nominated MW capped at `max_mw`.
fn contract_requests(grid: &Grid, state: &Telemetry) -> Vec<f64> {
    grid.contracts
        .iter()
        .zip(&state.nominations)
        .map(|(contract, nomination)| match *nomination {
            Nomination::None => 0.0,
            Nomination::Max => contract.max_mw,
            Nomination::Mw(mw) => mw.max(0.0).min(contract.max_mw),
        })
        .collect()
}

/// Loads and data-center parts; in `emergency` flexible demand is not served.
fn domestic_consumers(
    grid: &Grid,
    state: &Telemetry,
    restrictions: OperatingState,
) -> Vec<Consumer> {
    let at = |who, tier, request: f64, cap: f64, area| Consumer {
        who,
        tier,
        request,
        cap,
        withdraw: Some(area),
        inject: None,
    };
    let mut consumers = Vec::new();
    for (i, load) in grid.loads.iter().enumerate() {
        let mw = state.loads[i].max(0.0);
        consumers.push(at(Who::Load(i), load.tier, mw, mw, load.area));
    }
    for (i, dc) in grid.data_centers.iter().enumerate() {
        let firm = state.data_centers[i].firm_mw.max(0.0);
        let flexible = state.data_centers[i].flexible_mw.max(0.0);
        let flexible_cap = match restrictions {
            OperatingState::Emergency => 0.0,
            _ => flexible,
        };
        consumers.push(at(Who::DcFirm(i), dc.firm_tier, firm, firm, dc.area));
        consumers.push(at(
            Who::DcFlexible(i),
            dc.flexible_tier,
            flexible,
            flexible_cap,
            dc.area,
        ));
    }
    consumers
}

/// Each contract's floor part (when it has a floor) and the rest of its request. Out
/// of its window a contract gets nothing; in `alert` a non-firm contract, and in
/// `emergency` every contract, keeps only its floor part.
fn contract_consumers(
    grid: &Grid,
    ts: Timestamp,
    requests: &[f64],
    restrictions: OperatingState,
) -> Vec<Consumer> {
    let mut consumers = Vec::new();
    for (i, contract) in grid.contracts.iter().enumerate() {
        if contract.kind == ContractKind::Import {
            continue; // a source, not a consumer
        }
        let open = contract.in_window(ts);
        let rest_allowed = match restrictions {
            OperatingState::Normal => true,
            OperatingState::Alert => contract.firmness == Firmness::Firm,
            OperatingState::Emergency => false,
        };
        let inject = (contract.kind == ContractKind::Transit).then_some(contract.from);
        let part = |who, tier, request: f64, allowed: bool| Consumer {
            who,
            tier,
            request,
            cap: if open && allowed { request } else { 0.0 },
            withdraw: Some(contract.to),
            inject,
        };
        let floor_part = contract.floor.map_or(0.0, |f| requests[i].min(f.mw));
        if let Some(floor) = contract.floor {
            consumers.push(part(Who::Floor(i), floor.tier, floor_part, true));
        }
        let rest = requests[i] - floor_part;
        consumers.push(part(Who::Rest(i), contract.tier, rest, rest_allowed));
    }
    consumers
}

/// The import offers, each up to its request inside its window.
fn offers(grid: &Grid, ts: Timestamp, requests: &[f64]) -> Vec<Offer> {
    grid.contracts
        .iter()
        .enumerate()
        .filter(|(_, contract)| contract.kind == ContractKind::Import)
        .map(|(i, contract)| Offer {
            contract: i,
            tier: contract.tier,
            cap: if contract.in_window(ts) {
                requests[i]
            } else {
                0.0
            },
            inject: contract.from,
        })
        .collect()
}

/// The reserve's requirement: the largest of `min_mw`, the largest `unit_mw` among
/// plants with availability (when `largest_unit`) and `fraction_of_demand` of the
/// requested domestic demand (loads and data-center parts).
fn reserve_required(grid: &Grid, avail: &[f64], consumers: &[Consumer]) -> f64 {
    let Some(reserve) = &grid.reserve else {
        return 0.0;
    };
    let demand: f64 = consumers
        .iter()
        .filter(|c| matches!(c.who, Who::Load(_) | Who::DcFirm(_) | Who::DcFlexible(_)))
        .map(|c| c.request)
        .sum();
    let largest_unit = grid
        .plants
        .iter()
        .zip(avail)
        .filter(|&(_, &a)| reserve.largest_unit && a > 0.0)
        .map(|(plant, _)| plant.unit_mw)
        .fold(0.0, f64::max);
    reserve
        .min_mw
        .max(largest_unit)
        .max(reserve.fraction_of_demand * demand)
}

/// Rule 3's capacities: each direction's own, both capped by a derating; an outage
/// forces zero.
fn capacity(line: &Line, reading: &LineReading) -> LineLimits {
    if !reading.in_service {
        return LineLimits::OUT;
    }
    let derating = reading.derated_mw.map_or(f64::INFINITY, |d| d.max(0.0));
    let fwd_max = line.capacity_mw.min(derating);
    let rev_max = line.reverse_capacity_mw.min(derating);
    LineLimits {
        fwd_max,
        rev_max,
        lo: -rev_max,
        hi: fwd_max,
    }
}

/// Rule 3's ramp: the net flow within `previous ± ramp × minutes`, intersected with
/// the capacities. Flow within capacity comes first in rule 3, so when a derating
/// leaves no intersection the ramp cannot be kept: it is relaxed on that line (`None`)
/// and the decision says so. One-way flow makes each direction's bound follow from the
/// net range: from→to at most `max(hi, 0)`, to→from at most `max(−lo, 0)`. An outage
/// forces zero at once; a ramp of 0 is none.
fn ramped(
    line: &Line,
    reading: &LineReading,
    capacity: LineLimits,
    previous: f64,
    minutes: f64,
) -> Option<LineLimits> {
    if !reading.in_service || line.ramp_mw_per_min <= 0.0 {
        return Some(capacity);
    }
    let reach = line.ramp_mw_per_min * minutes;
    let (lo, hi) = (
        (previous - reach).max(capacity.lo),
        (previous + reach).min(capacity.hi),
    );
    (lo <= hi).then_some(LineLimits {
        fwd_max: hi.max(0.0),
        rev_max: (-lo).max(0.0),
        lo,
        hi,
    })
}
