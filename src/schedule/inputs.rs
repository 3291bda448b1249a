//! What a tick's snapshot means for the model: plant availability and must-run output
//! (rule 1), the consumers with their requests and tiers (rule 2), the import offers
//! (sources, rule 7), the reserve requirement (rule 5) and each line's limits for this
//! tick (rule 3).
//!
//! Telemetry is taken defensively: a NaN, infinite or negative reading counts as 0, so
//! no snapshot can put a number the engine rejects into the model.

use super::OperatingState;
use crate::grid::{ContractKind, Firmness, Grid, Nomination, Telemetry};
use crate::time::Timestamp;

/// Who a consumer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Part {
    Load(usize),
    DcFirm(usize),
    DcFlexible(usize),
    /// The part of a contract up to its floor, at the floor's tier.
    Floor(usize),
    /// The rest of a contract (all of it without a floor), at the contract's tier.
    Rest(usize),
    Reserve,
}

#[derive(Debug, Clone)]
pub(super) struct Consumer {
    pub part: Part,
    pub tier: u32,
    /// What was asked: reported, and the fairness weight.
    pub request: f64,
    /// What may be served this tick: the request, cut by window or state.
    pub cap: f64,
    /// Area where the MW are withdrawn.
    pub sink: Option<usize>,
    /// Area where a transit injects the MW it withdraws at `sink`.
    pub source: Option<usize>,
}

/// An import offer: MW its neighbor may inject, taken only where the tiers need them
/// (rule 7). Not a consumer: its tier orders it among imports only, and no state
/// restricts it (rule 8 concerns exports and transits).
#[derive(Debug, Clone)]
pub(super) struct Offer {
    /// The contract it is.
    pub contract: usize,
    pub tier: u32,
    /// What may be taken this tick: the request, or 0 outside the window.
    pub cap: f64,
    /// Where the MW enter: the offer's `from` neighbor.
    pub area: usize,
}

/// One line's limits for this tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct LineLimits {
    pub in_service: bool,
    /// Capacity from→to after outage and derating.
    pub fwd_cap: f64,
    /// Capacity to→from after outage and derating.
    pub rev_cap: f64,
    /// Bounds on net flow (fwd − rev) when a ramp applies.
    pub ramp: Option<(f64, f64)>,
    /// True when the line's ramp cannot reach its capacity (a derating below the
    /// ramp's reach): capacity wins, and the ramp is relaxed on this line.
    pub ramp_relaxed: bool,
}

/// The model's data for one tick.
#[derive(Debug, Clone)]
pub(super) struct Inputs {
    pub avail: Vec<f64>,
    /// Must-run lower bound: min(min_mw, avail), raised to min(inflow_mw, avail) when
    /// the reservoir is full.
    pub lb: Vec<f64>,
    /// True when the rule curve capped the plant below what it could otherwise give.
    pub reservoir_capped: Vec<bool>,
    pub lines: Vec<LineLimits>,
    pub consumers: Vec<Consumer>,
    pub offers: Vec<Offer>,
    /// Per contract, its request (0 without nomination).
    pub contract_requests: Vec<f64>,
    pub reserve_required: f64,
}

fn clean(x: f64) -> f64 {
    if x.is_finite() { x.max(0.0) } else { 0.0 }
}

/// What the previous tick left for the ramps.
#[derive(Debug, Clone, Copy)]
pub(super) struct Previous<'a> {
    pub flows: &'a [f64],
    pub elapsed_min: f64,
}

impl Inputs {
    pub(super) fn new(
        grid: &Grid,
        ts: Timestamp,
        state: &Telemetry,
        previous: Option<Previous<'_>>,
    ) -> Inputs {
        let mut avail = Vec::with_capacity(grid.plants.len());
        let mut lb = Vec::with_capacity(grid.plants.len());
        let mut reservoir_capped = Vec::with_capacity(grid.plants.len());
        for (p, plant) in grid.plants.iter().enumerate() {
            let reading = state.plants.get(p).copied().unwrap_or_default();
            let mut a = clean(reading.available_mw).min(plant.capacity_mw).max(0.0);
            let mut capped = false;
            // What a full reservoir must pass: its inflow, when the reading gave one.
            let mut passes = 0.0;
            if let (Some(reservoir), Some(level)) = (&plant.reservoir, reading.reservoir_level_m)
                && level.is_finite()
            {
                if reservoir.below_curve(level, ts) {
                    let inflow = clean(reading.inflow_mw.unwrap_or(0.0));
                    if inflow < a {
                        a = inflow;
                        capped = true;
                    }
                } else if reservoir.full(level) {
                    passes = clean(reading.inflow_mw.unwrap_or(0.0));
                }
            }
            avail.push(a);
            lb.push(plant.min_mw.min(a).max(passes.min(a)).max(0.0));
            reservoir_capped.push(capped);
        }

        let floors = grid.contracts.iter().filter(|c| c.floor.is_some()).count();
        let mut consumers = Vec::with_capacity(
            grid.loads.len() + 2 * grid.data_centers.len() + grid.contracts.len() + floors + 1,
        );
        let mut domestic_request = 0.0;
        for (i, load) in grid.loads.iter().enumerate() {
            let request = clean(state.loads.get(i).copied().unwrap_or(0.0));
            domestic_request += request;
            consumers.push(Consumer {
                part: Part::Load(i),
                tier: load.tier,
                request,
                cap: request,
                sink: Some(load.area),
                source: None,
            });
        }
        for (i, dc) in grid.data_centers.iter().enumerate() {
            let reading = state.data_centers.get(i).copied().unwrap_or_default();
            let (firm, flexible) = (clean(reading.firm_mw), clean(reading.flexible_mw));
            domestic_request += firm + flexible;
            for (part, tier, request) in [
                (Part::DcFirm(i), dc.firm_tier, firm),
                (Part::DcFlexible(i), dc.flexible_tier, flexible),
            ] {
                consumers.push(Consumer {
                    part,
                    tier,
                    request,
                    cap: request,
                    sink: Some(dc.area),
                    source: None,
                });
            }
        }
        let mut contract_requests = Vec::with_capacity(grid.contracts.len());
        let mut offers = Vec::new();
        for (i, contract) in grid.contracts.iter().enumerate() {
            let request = match state.nominations.get(i).copied().unwrap_or_default() {
                Nomination::None => 0.0,
                Nomination::Max => contract.max_mw,
                Nomination::Mw(mw) => clean(mw).min(contract.max_mw),
            };
            contract_requests.push(request);
            let open = contract.in_window(ts);
            if contract.kind == ContractKind::Import {
                offers.push(Offer {
                    contract: i,
                    tier: contract.tier,
                    cap: if open { request } else { 0.0 },
                    area: contract.from,
                });
                continue;
            }
            let source = (contract.kind == ContractKind::Transit).then_some(contract.from);
            let floor_part = contract.floor.map_or(0.0, |f| request.min(f.mw));
            if let Some(floor) = contract.floor {
                consumers.push(Consumer {
                    part: Part::Floor(i),
                    tier: floor.tier,
                    request: floor_part,
                    cap: if open { floor_part } else { 0.0 },
                    sink: Some(contract.to),
                    source,
                });
            }
            let rest = (request - floor_part).max(0.0);
            consumers.push(Consumer {
                part: Part::Rest(i),
                tier: contract.tier,
                request: rest,
                cap: if open { rest } else { 0.0 },
                sink: Some(contract.to),
                source,
            });
        }
        let mut reserve_required = 0.0;
        if let Some(reserve) = &grid.reserve {
            let mut r = reserve
                .min_mw
                .max(reserve.fraction_of_demand * domestic_request);
            if reserve.largest_unit {
                for (plant, &a) in grid.plants.iter().zip(&avail) {
                    if a > 0.0 {
                        r = r.max(plant.unit_mw);
                    }
                }
            }
            reserve_required = clean(r);
            consumers.push(Consumer {
                part: Part::Reserve,
                tier: reserve.tier,
                request: reserve_required,
                cap: reserve_required,
                sink: None,
                source: None,
            });
        }

        let lines = grid
            .lines
            .iter()
            .enumerate()
            .map(|(l, line)| {
                let reading = state.lines.get(l).copied().unwrap_or_default();
                let prev = previous.and_then(|p| p.flows.get(l).map(|&f| (f, p.elapsed_min)));
                line_limits(
                    line.capacity_mw,
                    line.reverse_capacity_mw,
                    line.ramp_mw_per_min,
                    reading.in_service,
                    reading.derated_mw,
                    prev,
                )
            })
            .collect();

        Inputs {
            avail,
            lb,
            reservoir_capped,
            lines,
            consumers,
            offers,
            contract_requests,
            reserve_required,
        }
    }

    /// The tiers of the import offers that may bring anything in this tick, ascending:
    /// the order of rule 7's import steps.
    pub(super) fn offer_tiers(&self) -> Vec<u32> {
        let open = self.offers.iter().filter(|o| o.cap > 0.0);
        let mut tiers: Vec<u32> = open.map(|o| o.tier).collect();
        tiers.sort_unstable();
        tiers.dedup();
        tiers
    }

    /// The lowest tier with a consumer some state's restrictions could cut: below it,
    /// every state schedules the same.
    pub(super) fn restrictable_tier(&self) -> Option<u32> {
        self.consumers
            .iter()
            .filter(|c| matches!(c.part, Part::Rest(_) | Part::DcFlexible(_)) && c.cap > 0.0)
            .map(|c| c.tier)
            .min()
    }

    /// Puts the tick under a state's restrictions (rule 8): in `alert` non-firm
    /// contracts keep only their floor part; in `emergency` every contract keeps only
    /// its floor part and flexible data-center demand is not served.
    pub(super) fn restrict(&mut self, grid: &Grid, state: OperatingState) {
        for consumer in &mut self.consumers {
            let cut = match (state, consumer.part) {
                (OperatingState::Normal, _) => false,
                (OperatingState::Alert, Part::Rest(c)) => {
                    grid.contracts[c].firmness == Firmness::NonFirm
                }
                (OperatingState::Emergency, Part::Rest(_) | Part::DcFlexible(_)) => true,
                _ => false,
            };
            if cut {
                consumer.cap = 0.0;
            }
        }
    }
}

/// Limits of one line (rule 3). `prev` is the previous tick's net flow and the minutes
/// elapsed since; `None` on the first tick.
fn line_limits(
    capacity: f64,
    reverse: f64,
    ramp_per_min: f64,
    in_service: bool,
    derated: Option<f64>,
    prev: Option<(f64, f64)>,
) -> LineLimits {
    if !in_service {
        // An outage forces zero at once: no ramp.
        return LineLimits {
            in_service,
            fwd_cap: 0.0,
            rev_cap: 0.0,
            ramp: None,
            ramp_relaxed: false,
        };
    }
    let derate = derated.map_or(f64::INFINITY, clean);
    let fwd_cap = capacity.min(derate).max(0.0);
    let rev_cap = reverse.min(derate).max(0.0);
    let mut limits = LineLimits {
        in_service,
        fwd_cap,
        rev_cap,
        ramp: None,
        ramp_relaxed: false,
    };
    if let Some((flow, minutes)) = prev
        && ramp_per_min > 0.0
        && flow.is_finite()
    {
        let d = ramp_per_min * minutes.max(0.0);
        let (ramp_lo, ramp_hi) = (flow - d, flow + d);
        let (lo, hi) = (ramp_lo.max(-rev_cap), ramp_hi.min(fwd_cap));
        if lo <= hi {
            limits.ramp = Some((lo, hi));
        } else {
            // A derating below the ramp's reach: the flow may not stay above the
            // line's capacity (rule 3), so capacity wins and this line's ramp is
            // relaxed, which the decision says.
            limits.ramp_relaxed = true;
        }
    }
    limits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outage_forces_zero_and_a_derating_beyond_the_ramp_relaxes_it() {
        // In service, 900 MW prev, ramp 300/min, 1 minute later derated to 300: the
        // ramp reaches 600 at best, so capacity wins and the ramp is relaxed.
        let l = line_limits(900.0, 900.0, 300.0, true, Some(300.0), Some((900.0, 1.0)));
        assert_eq!((l.ramp, l.ramp_relaxed, l.fwd_cap), (None, true, 300.0));
        // Within the ramp's reach, the derating and the ramp both bind.
        let l = line_limits(900.0, 900.0, 300.0, true, Some(700.0), Some((900.0, 1.0)));
        assert_eq!((l.ramp, l.ramp_relaxed), (Some((600.0, 700.0)), false));
        // Out of service: zero, whatever the previous flow.
        let l = line_limits(900.0, 900.0, 300.0, false, None, Some((900.0, 1.0)));
        assert_eq!((l.fwd_cap, l.rev_cap, l.ramp), (0.0, 0.0, None));
        // Ramp window inside the capacity: intersected.
        let l = line_limits(900.0, 500.0, 100.0, true, None, Some((-450.0, 0.5)));
        assert_eq!(l.ramp, Some((-500.0, -400.0)));
        // First tick: no ramp.
        let l = line_limits(900.0, 500.0, 100.0, true, None, None);
        assert_eq!(l.ramp, None);
    }
}
