//! The scheduler: from a telemetry snapshot to plant setpoints, served demand,
//! contract schedules and line flows, under the shortage rules.
//!
//! # The model
//!
//! Each tick is one linear programme over a generalized network (see [`network`]),
//! solved lexicographically (a sequence of objectives, each optimum kept before the
//! next) by the warm-started network simplex of [`dispatch`] and [`simplex`]:
//!
//! - **Availability (rule 1).** `avail_p = min(available_mw, capacity_mw) ≥ 0`. When the
//!   plant has a reservoir, its reading carries a level, and that level is below the
//!   month's rule curve or the dead level, `avail_p = min(avail_p, inflow_mw or 0)`. An
//!   unknown level never caps. The setpoint `g_p ∈ [0, avail_p]` is what the plant
//!   delivers; the must-run bound `lb_p = min(min_mw, avail_p)` is met by
//!   `g_p + spill_p ≥ lb_p`: must-run output nothing absorbs is spilled. At or above
//!   `full_m` the reservoir passes its inflow: `lb_p = max(lb_p, min(inflow_mw,
//!   avail_p))`; an unknown level is never full, and an unknown inflow adds nothing.
//! - **Consumers (rule 2).** Every load; each data center's firm and flexible parts;
//!   each contract (request 0 without nomination, `max_mw` for a nomination without MW,
//!   else `min(mw, max_mw)`), split into a floor part `min(request, floor)` at the
//!   floor's tier and the rest at the contract's tier; the reserve, requesting
//!   `R = max(min_mw, largest unit_mw among plants with avail > 0 if largest_unit,
//!   fraction_of_demand × requested domestic demand)`. A contract outside its window
//!   is scheduled 0 (`out_of_window`) but its request is still reported.
//! - **Import offers (rule 7).** An import contract (neighbor to domestic) is no
//!   consumer but a source: a variable `m_i ∈ [0, request]` (0 outside its window)
//!   injected at its `from` neighbor, whose MW reach the domestic grid over lines.
//!   No state restricts it (rule 8 concerns exports and transits).
//! - **Network (rule 3).** Each line has two non-negative variables, MW sent from→to
//!   and to→from; received = sent × (1 − loss_fraction). Capacities bound each
//!   direction; a derating caps both; an outage forces both to 0 at once. With a ramp
//!   and a previous tick, the net flow stays within `prev ± ramp × elapsed minutes`,
//!   intersected with the capacities; when the intersection is empty (a derating below
//!   the ramp's reach) capacity wins and that line's ramp is relaxed. A line never
//!   carries both ways, so each direction also stays within the ramp's reach that way
//!   (`fwd ≤ max(hi, 0)`, `rev ≤ max(−lo, 0)`). If the ramps leave no feasible one-way
//!   schedule at all, they are all relaxed for the tick. Either way the schedule says
//!   so (`ramps_relaxed`). Every area
//!   balances: received − sent + generation (domestic areas) = withdrawals, where loads
//!   and data centers withdraw in their area, exports and transits withdraw at `to`,
//!   transits inject the same MW at `from`, and imports inject at `from`; the
//!   domestic side pays the losses.
//! - **Reserve (rule 5).** `Σ (g + spill) + reserve ≤ Σ avail` over domestic plants:
//!   headroom is availability less output, and spilled output is output, so spilling
//!   never buys reserve. No network constraint.
//! - **Tiers (rule 2)** ascending: maximise the tier's served MW with earlier tiers
//!   fixed. **Fairness (rule 4):** when a tier is short, among schedules with every
//!   tier's optimal total (all totals are fixed before any tier is shared),
//!   weighted max-min fairness with the requests as weights, by
//!   progressive filling. The total comes first (rule 10 holds the per-tier totals to
//!   the lexicographic optimum), so when consumers of a short tier sit behind lines of
//!   different losses, the optimal total is reached only by serving the cheaper-to-reach
//!   ones, and fairness shares only what the total leaves free. A tier's reported
//!   request includes contracts whose window is closed.
//! - **After the tiers:** least imported MW (rule 7), then, that total held, the
//!   imports of the highest offer tier avoided first, down to the lowest (lower tier
//!   taken first); then least waste, spill + losses (rule 7); then least storage
//!   generation, so run-of-river plants go first (rule 6; not "most run-of-river
//!   output", which could be raised by burning spill as losses on lines run both
//!   ways); then storage plants share the rest with equal
//!   `g_p / avail_p` as far as the network allows (progressive filling); then least
//!   total line flow. No line carries both ways (rule 7): lossless lines keep their
//!   net flow only, and a lossy line an optimum uses both ways is fixed to each way in
//!   turn, keeping the better (the direction choice in `dispatch`). The engine is deterministic, and nothing iterates a hash map,
//!   so the same input gives a bit-identical schedule.
//! - **States (rule 8):** see [`state`]. The state is judged on the unrestricted run;
//!   the emitted schedule is the run under the emitted state's restrictions.
//! - **Reasons:** see [`reason`] for the heuristic and its order.
//!
//! Optima are kept exactly, by pinning each step's optimal face rather than by a
//! fixing with a tolerance; outputs within 1e-8 MW of a bound snap to it, so no
//! rounding noise reaches a decision.

mod dispatch;
mod inputs;
mod network;
pub mod reason;
mod simplex;
pub mod state;

pub use state::Carryover;

use crate::grid::{ContractKind, Grid, Telemetry};
use crate::time::Timestamp;
use dispatch::{Dispatch, dispatch};
use inputs::{Inputs, Part, Previous};
use std::sync::Arc;

/// The operating state judged for a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OperatingState {
    Normal,
    Alert,
    Emergency,
}

impl OperatingState {
    pub fn as_str(self) -> &'static str {
        match self {
            OperatingState::Normal => "normal",
            OperatingState::Alert => "alert",
            OperatingState::Emergency => "emergency",
        }
    }
}

/// Why a contract got the figure it got: a closed set, documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContractReason {
    Ok,
    Shortage,
    LineCapacity,
    RampLimit,
    OutOfWindow,
    AlertState,
    EmergencyState,
    LineOut,
    ReservoirFloor,
}

impl ContractReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ContractReason::Ok => "ok",
            ContractReason::Shortage => "shortage",
            ContractReason::LineCapacity => "line_capacity",
            ContractReason::RampLimit => "ramp_limit",
            ContractReason::OutOfWindow => "out_of_window",
            ContractReason::AlertState => "alert_state",
            ContractReason::EmergencyState => "emergency_state",
            ContractReason::LineOut => "line_out",
            ContractReason::ReservoirFloor => "reservoir_floor",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Served {
    pub requested_mw: f64,
    pub served_mw: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContractSchedule {
    pub requested_mw: f64,
    pub scheduled_mw: f64,
    pub reason: ContractReason,
}

/// Written in decision lines and read back from them (see `crate::decision::DecisionLine`).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Balance {
    /// Sum of plant setpoints: what the plants deliver to the grid.
    pub generation_mw: f64,
    pub domestic_served_mw: f64,
    /// MW delivered to neighbors under export contracts.
    pub exports_mw: f64,
    /// MW delivered under transit contracts.
    pub transit_mw: f64,
    /// MW taken from import offers, as their neighbors inject them. Lines written
    /// before imports existed lack it: read, it is 0.
    #[serde(default)]
    pub imports_mw: f64,
    pub losses_mw: f64,
    /// Must-run output nothing could absorb.
    pub spill_mw: f64,
    /// Requested domestic demand (loads and data centers) not served.
    pub unserved_mw: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TierOutcome {
    pub tier: u32,
    pub requested_mw: f64,
    pub served_mw: f64,
}

/// One tick's schedule. Vectors are indexed like the [`Grid`]'s.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub state: OperatingState,
    pub reserve_required_mw: f64,
    pub reserve_mw: f64,
    pub balance: Balance,
    pub plants: Vec<f64>,
    pub loads: Vec<Served>,
    /// Firm part, then flexible part, per data center.
    pub data_centers: Vec<[Served; 2]>,
    pub contracts: Vec<ContractSchedule>,
    /// Sent MW per line; negative = to→from.
    pub lines: Vec<f64>,
    /// Every tier with anything in it, ascending.
    pub tiers: Vec<TierOutcome>,
    /// True when the line ramps left no feasible schedule and were relaxed for this
    /// tick (rule 3).
    pub ramps_relaxed: bool,
}

/// Owns what the rules carry from tick to tick: the previous line flows (ramps) and
/// the state machine's hysteresis clock.
#[derive(Debug, Clone)]
pub struct Scheduler {
    grid: Arc<Grid>,
    memory: Carryover,
    /// Where the last tick's rules ended: the next tick starts there when it can.
    /// It only saves work; which optimal schedule a tie resolves to may depend on it,
    /// and it is rebuilt as ticks run, so replays and recovery (which run the same
    /// ticks through one scheduler) see the same.
    warm: Option<simplex::Warm>,
    /// The last tick's network, whose buffers the next tick reuses.
    spent: Option<network::Network>,
    /// Whether the last tick's state restrictions took MW away from the schedule the
    /// tiers alone gave, so that the rules ran again under them: then this tick keeps a
    /// checkpoint to resume from. Like `warm`, it changes the work, not the optima, but
    /// it can change which of several equally optimal schedules (plant setpoints, say)
    /// a tie resolves to; replays and recovery run the same ticks through one
    /// scheduler, so they rebuild it and decisions stay byte-identical (rule 9).
    restricting: bool,
}

/// Distance within which a figure snaps to its bound: the engine's tolerance (1e-9)
/// with room, and small enough that what snapping moves, at most 1e-8 MW a figure,
/// cannot put an area out of balance by rule 3's 1e-6 MW.
const SNAP: f64 = 1e-8;

fn snap(x: f64, lo: f64, hi: f64) -> f64 {
    if !x.is_finite() || x <= lo + SNAP {
        lo
    } else if x >= hi - SNAP {
        hi
    } else {
        x
    }
}

impl Scheduler {
    pub fn new(grid: Arc<Grid>) -> Self {
        Scheduler {
            grid,
            memory: Carryover::default(),
            warm: None,
            spent: None,
            restricting: false,
        }
    }

    /// What the scheduler carries between ticks, to persist. Kept with
    /// [`Scheduler::restore`] for snapshots of the daemon's state, which recovery does
    /// not take yet (it replays the whole log); a test pins that a restored scheduler
    /// continues exactly.
    pub fn carryover(&self) -> &Carryover {
        &self.memory
    }

    /// Resumes from a persisted [`Carryover`].
    pub fn restore(&mut self, carryover: Carryover) {
        self.memory = carryover;
    }

    /// Schedules the tick at `ts` on `state`.
    pub fn schedule(&mut self, ts: Timestamp, state: &Telemetry) -> Schedule {
        let grid = Arc::clone(&self.grid);
        let previous = self.memory.last_tick.map(|last| Previous {
            flows: &self.memory.line_flows,
            elapsed_min: ts.micros_since(last) as f64 / 60e6,
        });
        let mut inputs = Inputs::new(&grid, ts, state, previous);
        // A tick whose restrictions take MW away usually follows one: only then is a
        // checkpoint worth its copy. Either way the tiers reach the same optima (ties
        // may resolve differently, see `restricting`).
        let keep_from = match self.memory.current {
            OperatingState::Normal => None,
            _ if self.restricting => inputs.restrictable_tier(),
            _ => None,
        };
        let run = dispatch(
            &grid,
            &inputs,
            keep_from,
            self.warm.as_ref(),
            self.spent.take(),
        );
        let (unrestricted, checkpoint) = (run.figures, run.checkpoint);
        self.warm = run.warm;
        self.spent = run.spent;
        let judged = state::judge(&grid, &inputs, &unrestricted);
        let emitted = self.memory.step(judged, ts, grid.states.hold);
        inputs.restrict(&grid, emitted);
        let caps = inputs.consumers.iter().map(|c| c.cap);
        let takes_away = caps
            .zip(&unrestricted.served)
            .any(|(cap, &served)| served > cap + SNAP);
        self.restricting = takes_away;
        let schedule = if takes_away {
            // The restrictions take away MW the tiers alone gave: the rules run again
            // under them.
            let run = dispatch::resume(&grid, &inputs, checkpoint);
            build(&grid, ts, emitted, &inputs, &run)
        } else {
            // They cut only what got nothing, as in a rationed winter: the schedule
            // meets them, and since they only shrink the programme, it is still its
            // lexicographic optimum.
            build(&grid, ts, emitted, &inputs, &unrestricted)
        };
        self.memory.last_tick = Some(ts);
        self.memory.line_flows.clone_from(&schedule.lines);
        schedule
    }
}

/// Turns a run's figures into the public [`Schedule`], snapping solver noise.
fn build(
    grid: &Grid,
    ts: Timestamp,
    state: OperatingState,
    inputs: &Inputs,
    run: &Dispatch,
) -> Schedule {
    let plants: Vec<f64> = run
        .g
        .iter()
        .zip(&inputs.avail)
        .map(|(&g, &a)| snap(g, 0.0, a))
        .collect();
    let spill_mw: f64 = run
        .spill
        .iter()
        .zip(&inputs.lb)
        .map(|(&s, &lb)| snap(s, 0.0, lb))
        .sum();
    let mut loads = vec![Served::default(); grid.loads.len()];
    let mut data_centers = vec![[Served::default(); 2]; grid.data_centers.len()];
    let mut scheduled = vec![0.0; grid.contracts.len()];
    let mut reserve_mw = 0.0;
    let mut tiers: Vec<TierOutcome> = Vec::new();
    for (c, consumer) in inputs.consumers.iter().enumerate() {
        let served = snap(run.served[c], 0.0, consumer.cap);
        let figure = Served {
            requested_mw: consumer.request,
            served_mw: served,
        };
        match consumer.part {
            Part::Load(i) => loads[i] = figure,
            Part::DcFirm(i) => data_centers[i][0] = figure,
            Part::DcFlexible(i) => data_centers[i][1] = figure,
            Part::Floor(i) | Part::Rest(i) => scheduled[i] += served,
            Part::Reserve => reserve_mw = served,
        }
        let at = match tiers.binary_search_by_key(&consumer.tier, |t| t.tier) {
            Ok(at) => at,
            Err(at) => {
                let tier = consumer.tier;
                tiers.insert(
                    at,
                    TierOutcome {
                        tier,
                        requested_mw: 0.0,
                        served_mw: 0.0,
                    },
                );
                at
            }
        };
        tiers[at].requested_mw += consumer.request;
        tiers[at].served_mw += served;
    }
    for (offer, &taken) in inputs.offers.iter().zip(&run.imports) {
        scheduled[offer.contract] = snap(taken, 0.0, offer.cap);
    }
    let mut lines = Vec::with_capacity(grid.lines.len());
    let mut losses_mw = 0.0;
    for (l, line) in grid.lines.iter().enumerate() {
        let limits = &inputs.lines[l];
        let f = snap(run.fwd[l], 0.0, limits.fwd_cap);
        let r = snap(run.rev[l], 0.0, limits.rev_cap);
        lines.push(f - r);
        losses_mw += (f + r) * line.loss_fraction;
    }
    let reasons = reason::reasons(grid, ts, state, inputs, run, &scheduled);
    let contracts: Vec<ContractSchedule> = (0..grid.contracts.len())
        .map(|c| ContractSchedule {
            requested_mw: inputs.contract_requests[c],
            scheduled_mw: scheduled[c],
            reason: reasons[c],
        })
        .collect();
    let (mut exports_mw, mut transit_mw, mut imports_mw) = (0.0, 0.0, 0.0);
    for (contract, &mw) in grid.contracts.iter().zip(&scheduled) {
        match contract.kind {
            ContractKind::Export => exports_mw += mw,
            ContractKind::Transit => transit_mw += mw,
            ContractKind::Import => imports_mw += mw,
        }
    }
    let domestic = loads.iter().chain(data_centers.iter().flatten());
    let (domestic_served_mw, unserved_mw) = domestic.fold((0.0, 0.0), |(s, u), x| {
        (s + x.served_mw, u + (x.requested_mw - x.served_mw))
    });
    Schedule {
        state,
        reserve_required_mw: inputs.reserve_required,
        reserve_mw,
        balance: Balance {
            generation_mw: plants.iter().sum(),
            domestic_served_mw,
            exports_mw,
            transit_mw,
            imports_mw,
            losses_mw,
            spill_mw,
            unserved_mw,
        },
        plants,
        loads,
        data_centers,
        contracts,
        lines,
        tiers,
        ramps_relaxed: run.ramps_relaxed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;
    use crate::grid::{AreaKind, Nomination, PlantReading};
    use serde_json::{Value, json};

    const EPS: f64 = 1e-6;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn grid(mut tree: Value) -> Arc<Grid> {
        let root = tree.as_object_mut().unwrap();
        root.entry("states")
            .or_insert(json!({"alert_margin_mw": 0, "hold": "15m"}));
        match config::from_value(&tree) {
            Ok(c) => Arc::new(c.grid),
            Err(e) => panic!("{e}"),
        }
    }

    fn area(id: &str, kind: &str) -> Value {
        json!({"id": id, "kind": kind})
    }

    fn plant(id: &str, area: &str, capacity: f64, min: f64, reservoir: bool) -> Value {
        let mut p = json!({"id": id, "area": area, "capacity_mw": capacity,
            "unit_mw": capacity, "min_mw": min});
        if reservoir {
            p["reservoir"] = json!({"floor_m": 100, "rule_curve_m": vec![200.0; 12]});
        }
        p
    }

    fn load(id: &str, area: &str, tier: u32, class: &str) -> Value {
        json!({"id": id, "area": area, "tier": tier, "class": class})
    }

    fn line(id: &str, from: &str, to: &str, cap: f64, rev: f64, loss: f64, ramp: f64) -> Value {
        json!({"id": id, "from": from, "to": to, "capacity_mw": cap,
            "reverse_capacity_mw": rev, "loss_fraction": loss, "ramp_mw_per_min": ramp})
    }

    fn contract(id: &str, from: &str, to: &str, firm: bool, tier: u32, max: f64) -> Value {
        json!({"id": id, "from": from, "to": to,
            "firmness": if firm { "firm" } else { "non_firm" }, "tier": tier, "max_mw": max})
    }

    fn avail(state: &mut Telemetry, p: usize, mw: f64) {
        state.plants[p] = PlantReading {
            output_mw: 0.0,
            available_mw: mw,
            reservoir_level_m: None,
            inflow_mw: None,
        };
    }

    fn close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < EPS,
            "expected {expected}, got {actual}"
        );
    }

    /// Every area balances and no line exceeds its configured capacity.
    fn assert_network(grid: &Grid, s: &Schedule) {
        for (a, kind) in grid.areas.iter().map(|a| a.kind).enumerate() {
            let mut net = 0.0;
            for (l, line) in grid.lines.iter().enumerate() {
                let (f, r) = (s.lines[l].max(0.0), (-s.lines[l]).max(0.0));
                let kept = 1.0 - line.loss_fraction;
                if line.from == a {
                    net += r * kept - f;
                }
                if line.to == a {
                    net += f * kept - r;
                }
                assert!(f <= line.capacity_mw + EPS && r <= line.reverse_capacity_mw + EPS);
            }
            if kind == AreaKind::Domestic {
                for (p, plant) in grid.plants.iter().enumerate() {
                    if plant.area == a {
                        net += s.plants[p];
                    }
                }
            }
            for (i, l) in grid.loads.iter().enumerate() {
                if l.area == a {
                    net -= s.loads[i].served_mw;
                }
            }
            for (i, dc) in grid.data_centers.iter().enumerate() {
                if dc.area == a {
                    net -= s.data_centers[i][0].served_mw + s.data_centers[i][1].served_mw;
                }
            }
            for (c, k) in grid.contracts.iter().enumerate() {
                let mw = s.contracts[c].scheduled_mw;
                match k.kind {
                    // An import enters at its neighbor; its domestic `to` only names
                    // whom it is for.
                    ContractKind::Import if k.from == a => net += mw,
                    ContractKind::Import => {}
                    _ if k.to == a => net -= mw,
                    ContractKind::Transit if k.from == a => net += mw,
                    _ => {}
                }
            }
            assert!(
                net.abs() < EPS,
                "area {} off balance by {net}",
                grid.areas[a].id
            );
        }
    }

    #[test]
    fn rule1_reservoir_below_curve_caps_at_inflow() {
        let g = grid(json!({
            "areas": [area("d", "domestic"), area("n", "neighbor")],
            "plants": [plant("dam", "d", 500.0, 0.0, true)],
            "loads": [load("town", "d", 1, "residential")],
            "lines": [line("x", "d", "n", 100.0, 0.0, 0.0, 0.0)],
            "contracts": [contract("sale", "d", "n", true, 2, 50.0)],
        }));
        let ts = at("2027-01-15T00:00:00Z");
        let mut state = Telemetry::new(&g);
        state.plants[0] = PlantReading {
            output_mw: 0.0,
            available_mw: 500.0,
            reservoir_level_m: Some(150.0), // below the 200 m curve
            inflow_mw: Some(80.0),
        };
        state.loads[0] = 200.0;
        state.nominations[0] = Nomination::Max;
        let s = Scheduler::new(g.clone()).schedule(ts, &state);
        close(s.plants[0], 80.0);
        close(s.loads[0].served_mw, 80.0);
        close(s.contracts[0].scheduled_mw, 0.0);
        assert_eq!(s.contracts[0].reason, ContractReason::ReservoirFloor);
        close(s.balance.unserved_mw, 120.0);

        // Above the curve the reservoir may be drawn: no cap.
        state.plants[0].reservoir_level_m = Some(250.0);
        let s = Scheduler::new(g.clone()).schedule(ts, &state);
        close(s.plants[0], 250.0);
        assert_eq!(s.contracts[0].reason, ContractReason::Ok);
        // An unknown level never caps.
        state.plants[0].reservoir_level_m = None;
        let s = Scheduler::new(g).schedule(ts, &state);
        close(s.plants[0], 250.0);
    }

    /// Rule 1: at or above `full_m` a plant must pass its inflow. What consumers can
    /// take is delivered, the rest is spilled, and spilled output is never reserve.
    #[test]
    fn rule1_a_full_reservoir_passes_its_inflow() {
        let mut dam = plant("dam", "d", 500.0, 10.0, true);
        dam["reservoir"]["full_m"] = json!(300.0);
        let g = grid(json!({
            "areas": [area("d", "domestic"), area("n", "neighbor")],
            "plants": [dam, plant("river", "d", 200.0, 0.0, false)],
            "loads": [load("town", "d", 2, "residential")],
            "lines": [line("x", "d", "n", 30.0, 0.0, 0.0, 0.0)],
            "contracts": [contract("sale", "d", "n", true, 3, 50.0)],
            "reserve": {"tier": 1, "min_mw": 560.0},
        }));
        let ts = at("2027-01-15T00:00:00Z");
        let mut state = Telemetry::new(&g);
        state.plants[0] = PlantReading {
            output_mw: 0.0,
            available_mw: 500.0,
            reservoir_level_m: Some(300.0), // at full_m
            inflow_mw: Some(150.0),
        };
        avail(&mut state, 1, 200.0);
        state.loads[0] = 100.0;
        state.nominations[0] = Nomination::Max;
        let run = |state: &Telemetry| Scheduler::new(g.clone()).schedule(ts, state);

        // The dam's output is its inflow, 150 MW: the town takes 100, the line 30, and
        // 20 are spilled. The run-of-river plant gives nothing (it would only spill
        // more), and the reserve is the headroom less all output, spill included: 550
        // MW, short of the 560 MW required.
        let s = run(&state);
        close(s.plants[0], 130.0);
        close(s.plants[1], 0.0);
        close(s.loads[0].served_mw, 100.0);
        close(s.contracts[0].scheduled_mw, 30.0);
        close(s.balance.spill_mw, 20.0);
        close(s.reserve_mw, 700.0 - 150.0);
        assert_eq!(s.state, OperatingState::Alert);
        assert_network(&g, &s);

        // Above full_m likewise; an inflow above availability passes what is available.
        state.plants[0].reservoir_level_m = Some(301.0);
        state.plants[0].inflow_mw = Some(900.0);
        let s = run(&state);
        close(s.plants[0], 130.0);
        close(s.balance.spill_mw, 370.0);
        close(s.reserve_mw, 200.0);
        // An inflow below min_mw leaves min_mw the must-run.
        state.plants[0].inflow_mw = Some(4.0);
        let s = run(&state);
        close(s.plants[0] + s.plants[1], 130.0);
        close(s.plants[0], 10.0);
        close(s.balance.spill_mw, 0.0);
        close(s.reserve_mw, 560.0);

        // Below full_m, with no level, or with no inflow, nothing changes: only min_mw
        // must run, run-of-river goes first, nothing is spilled, the reserve is held.
        let below = |state: &Telemetry| {
            let s = run(state);
            close(s.plants[0], 10.0);
            close(s.plants[1], 120.0);
            close(s.balance.spill_mw, 0.0);
            close(s.reserve_mw, 560.0);
            assert_eq!(s.state, OperatingState::Normal);
        };
        state.plants[0].inflow_mw = Some(150.0);
        state.plants[0].reservoir_level_m = Some(299.9);
        below(&state);
        state.plants[0].reservoir_level_m = None;
        below(&state);
        state.plants[0].reservoir_level_m = Some(300.0);
        state.plants[0].inflow_mw = None;
        below(&state);
    }

    #[test]
    fn rule2_a_floor_is_served_at_its_floor_tier() {
        let mut k = contract("aid", "d", "n", true, 4, 300.0);
        k["floor_mw"] = json!(20);
        k["floor_tier"] = json!(1);
        let g = grid(json!({
            "areas": [area("d", "domestic"), area("n", "neighbor")],
            "plants": [plant("p", "d", 100.0, 0.0, false)],
            "loads": [load("hospital", "d", 1, "essential"), load("homes", "d", 2, "residential")],
            "lines": [line("x", "d", "n", 300.0, 0.0, 0.0, 0.0)],
            "contracts": [k],
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 100.0);
        state.loads = vec![70.0, 50.0];
        state.nominations[0] = Nomination::Max;
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        // The homes are short: load is shed, so the grid is on alert (rule 8); the
        // firm contract keeps what it has.
        assert_eq!(s.state, OperatingState::Alert);
        close(s.loads[0].served_mw, 70.0);
        close(s.contracts[0].scheduled_mw, 20.0);
        close(s.loads[1].served_mw, 10.0);
        assert_eq!(s.contracts[0].reason, ContractReason::Shortage);
        let expected = [(1, 90.0, 90.0), (2, 50.0, 10.0), (4, 280.0, 0.0)];
        assert_eq!(s.tiers.len(), expected.len());
        for (t, (tier, requested, served)) in s.tiers.iter().zip(expected) {
            assert_eq!(t.tier, tier);
            close(t.requested_mw, requested);
            close(t.served_mw, served);
        }
        assert_network(&g, &s);
    }

    fn alert_grid() -> Arc<Grid> {
        grid(json!({
            "areas": [area("d", "domestic"), area("n", "neighbor")],
            "plants": [plant("p", "d", 1000.0, 0.0, false)],
            "loads": [load("homes", "d", 1, "residential")],
            "lines": [line("x", "d", "n", 1000.0, 0.0, 0.0, 0.0)],
            "contracts": [contract("spot", "d", "n", false, 2, 150.0),
                          contract("firm", "d", "n", true, 2, 100.0)],
            "states": {"alert_margin_mw": 100, "hold": "15m"},
        }))
    }

    #[test]
    fn rule8_alert_stops_non_firm_exports() {
        let g = alert_grid();
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 600.0);
        state.loads[0] = 300.0;
        state.nominations = vec![Nomination::Max, Nomination::Max];
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        // Unrestricted: 300 + 150 + 100 = 550 leaves 50 unused < 100 → alert.
        assert_eq!(s.state, OperatingState::Alert);
        close(s.contracts[0].scheduled_mw, 0.0);
        assert_eq!(s.contracts[0].reason, ContractReason::AlertState);
        close(s.contracts[1].scheduled_mw, 100.0);
        assert_eq!(s.contracts[1].reason, ContractReason::Ok);
        close(s.plants[0], 400.0);
        close(s.balance.exports_mw, 100.0);
    }

    #[test]
    fn rule8_hysteresis_holds_the_state_for_hold() {
        let g = alert_grid();
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 600.0);
        state.loads[0] = 300.0;
        state.nominations = vec![Nomination::Max, Nomination::Max];
        let mut scheduler = Scheduler::new(g.clone());
        let s = scheduler.schedule(at("2027-01-15T00:00:00Z"), &state);
        assert_eq!(s.state, OperatingState::Alert);
        // More water: judged normal, but the alert holds for 15 minutes.
        avail(&mut state, 0, 1000.0);
        let s = scheduler.schedule(at("2027-01-15T00:01:00Z"), &state);
        assert_eq!(s.state, OperatingState::Alert);
        close(s.contracts[0].scheduled_mw, 0.0);
        let s = scheduler.schedule(at("2027-01-15T00:15:59Z"), &state);
        assert_eq!(s.state, OperatingState::Alert);
        let s = scheduler.schedule(at("2027-01-15T00:16:00Z"), &state);
        assert_eq!(s.state, OperatingState::Normal);
        close(s.contracts[0].scheduled_mw, 150.0);
        assert_eq!(scheduler.carryover().current, OperatingState::Normal);
        // The state persists and restores.
        let saved = scheduler.carryover().clone();
        let mut other = Scheduler::new(g);
        other.restore(saved.clone());
        assert_eq!(other.carryover(), &saved);
    }

    #[test]
    fn rule8_emergency_keeps_only_floors_and_drops_flexible_dc_demand() {
        let mut k = contract("aid", "a", "n", true, 2, 40.0);
        k["floor_mw"] = json!(10);
        k["floor_tier"] = json!(1);
        let g = grid(json!({
            "areas": [area("a", "domestic"), area("b", "domestic"), area("n", "neighbor")],
            "plants": [plant("p", "a", 200.0, 0.0, false)],
            "loads": [load("hospital", "b", 1, "essential")],
            "data_centers": [{"id": "dc", "area": "a", "firm_tier": 2, "flexible_tier": 3}],
            "lines": [line("ab", "a", "b", 50.0, 50.0, 0.0, 0.0),
                      line("an", "a", "n", 100.0, 0.0, 0.0, 0.0)],
            "contracts": [k],
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 200.0);
        state.loads[0] = 100.0;
        state.data_centers[0].firm_mw = 20.0;
        state.data_centers[0].flexible_mw = 30.0;
        state.nominations[0] = Nomination::Max;
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        assert_eq!(s.state, OperatingState::Emergency);
        close(s.loads[0].served_mw, 50.0); // the line's limit
        close(s.contracts[0].scheduled_mw, 10.0);
        assert_eq!(s.contracts[0].reason, ContractReason::EmergencyState);
        close(s.data_centers[0][0].served_mw, 20.0);
        close(s.data_centers[0][1].requested_mw, 30.0);
        close(s.data_centers[0][1].served_mw, 0.0);
        close(s.plants[0], 80.0);
        close(s.balance.unserved_mw, 80.0);
        assert_network(&g, &s);
    }

    #[test]
    fn rule3_an_outage_or_a_derating_binds_at_once_and_a_ramp_after() {
        let g = grid(json!({
            "areas": [area("a", "domestic"), area("b", "domestic")],
            "plants": [plant("river", "a", 1000.0, 0.0, false),
                       plant("dam", "b", 600.0, 0.0, true)],
            "loads": [load("town", "b", 1, "residential")],
            "lines": [line("ab", "a", "b", 900.0, 900.0, 0.0, 100.0)],
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 1000.0);
        avail(&mut state, 1, 600.0);
        state.loads[0] = 500.0;
        let mut scheduler = Scheduler::new(g.clone());
        // First tick: no ramp; run-of-river first, so A supplies everything.
        let s = scheduler.schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.lines[0], 500.0);
        close(s.plants[1], 0.0);
        // Derated to 200, below the ramp's reach (400 at best): capacity wins at once,
        // and the decision says the ramp was relaxed.
        state.lines[0].derated_mw = Some(200.0);
        let s = scheduler.schedule(at("2027-01-15T00:01:00Z"), &state);
        close(s.lines[0], 200.0);
        close(s.plants[1], 300.0);
        assert!(s.ramps_relaxed);
        let s = scheduler.schedule(at("2027-01-15T00:01:30Z"), &state);
        close(s.lines[0], 200.0);
        assert!(!s.ramps_relaxed);
        // Out of service: zero at once.
        state.lines[0].in_service = false;
        let s = scheduler.schedule(at("2027-01-15T00:01:31Z"), &state);
        close(s.lines[0], 0.0);
        close(s.plants[1], 500.0);
        close(s.loads[0].served_mw, 500.0);
        // Back in service without derating: ramps up from 0.
        state.lines[0] = Default::default();
        let s = scheduler.schedule(at("2027-01-15T00:02:31Z"), &state);
        close(s.lines[0], 100.0);
        close(s.plants[1], 400.0);
    }

    #[test]
    fn rule3_a_ramp_nothing_can_absorb_is_dropped_for_the_tick() {
        let g = grid(json!({
            "areas": [area("a", "domestic"), area("b", "domestic")],
            "plants": [plant("river", "a", 1000.0, 0.0, false)],
            "loads": [load("town", "b", 1, "residential")],
            "lines": [line("ab", "a", "b", 900.0, 900.0, 0.0, 100.0)],
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 1000.0);
        state.loads[0] = 500.0;
        let mut scheduler = Scheduler::new(g.clone());
        let s = scheduler.schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.lines[0], 500.0);
        // The town disconnects: the ramp would push ~498 MW into an area that can
        // take none, so this tick ignores the ramp rather than fail.
        state.loads[0] = 0.0;
        let s = scheduler.schedule(at("2027-01-15T00:00:01Z"), &state);
        close(s.lines[0], 0.0);
        close(s.plants[0], 0.0);
        assert!(s.ramps_relaxed);
        assert_network(&g, &s);
        // The next tick ramps from there, and says nothing is relaxed.
        let s = scheduler.schedule(at("2027-01-15T00:00:02Z"), &state);
        assert!(!s.ramps_relaxed);
    }

    /// Found by the oracle property test: MW a ramp holds into an area that cannot
    /// absorb them used to be burnt by sending MW both ways on a lossy line to a dead
    /// end, and the decision's net flows did not balance at the dead end. A line never
    /// carries both ways (rule 7), so no one-way schedule keeps the ramp: it is
    /// relaxed, and the decision says so.
    #[test]
    fn rule7_a_ramp_is_relaxed_rather_than_burnt_both_ways_on_a_lossy_line() {
        let g = grid(json!({
            "areas": [area("a", "domestic"), area("b", "domestic"), area("c", "domestic")],
            "plants": [plant("river", "a", 1000.0, 0.0, false)],
            "loads": [load("town", "b", 1, "residential")],
            "lines": [line("ab", "a", "b", 200.0, 200.0, 0.02, 10.0),
                      line("bc", "b", "c", 1000.0, 1000.0, 0.05, 0.0)],
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 1000.0);
        state.loads[0] = 100.0;
        let mut scheduler = Scheduler::new(g.clone());
        let s = scheduler.schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.lines[0], 100.0 / 0.98);
        assert!(!s.ramps_relaxed);
        // A minute later the town takes nothing: the ramp would hold 92 MW on `ab`,
        // which only burning some 925 MW each way on `bc` could absorb.
        state.loads[0] = 0.0;
        let s = scheduler.schedule(at("2027-01-15T00:01:00Z"), &state);
        assert!(s.ramps_relaxed);
        close(s.lines[0], 0.0);
        close(s.lines[1], 0.0);
        close(s.balance.losses_mw, 0.0);
        assert_network(&g, &s);
    }

    /// Twelve dead ends behind the town each offer the ramp's MW a line to burn them
    /// on both ways; no one-way schedule exists, and the direction choice gives up
    /// within its budget of runs (2^13 − 1 runs without one) and relaxes the ramps.
    #[test]
    fn rule7_the_direction_choice_gives_up_within_its_budget() {
        let mut areas = vec![area("a", "domestic"), area("b", "domestic")];
        let mut lines = vec![line("ab", "a", "b", 200.0, 200.0, 0.02, 10.0)];
        for k in 0..12 {
            areas.push(area(&format!("c{k}"), "domestic"));
            let id = format!("bc{k}");
            lines.push(line(&id, "b", &format!("c{k}"), 1000.0, 1000.0, 0.05, 0.0));
        }
        let g = grid(json!({
            "areas": areas,
            "plants": [plant("river", "a", 1000.0, 0.0, false)],
            "loads": [load("town", "b", 1, "residential")],
            "lines": lines,
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 1000.0);
        state.loads[0] = 100.0;
        let mut scheduler = Scheduler::new(g.clone());
        scheduler.schedule(at("2027-01-15T00:00:00Z"), &state);
        state.loads[0] = 0.0;
        let s = scheduler.schedule(at("2027-01-15T00:01:00Z"), &state);
        assert!(s.ramps_relaxed);
        for &flow in &s.lines {
            close(flow, 0.0);
        }
        assert_network(&g, &s);
    }

    /// The example that showed spilled output counted as reserve: a storage plant held
    /// to its inflow (18.6 MW) with a must-run of 9.7 MW used to deliver nothing, spill
    /// 9.7 MW and report 18.6 MW of reserve while a load of a later tier got nothing.
    /// Its output is at least 9.7 MW whatever happens to it (rule 1), so its headroom is
    /// at most 8.9 MW (rule 5) and the 9.7 MW reach the load.
    #[test]
    fn rule5_spilled_must_run_output_is_never_reserve() {
        let g = grid(json!({
            "areas": [area("d", "domestic")],
            "plants": [plant("dam", "d", 100.0, 9.7, true)],
            "loads": [load("town", "d", 2, "residential")],
            "reserve": {"tier": 1, "min_mw": 30.0},
        }));
        let mut state = Telemetry::new(&g);
        state.plants[0] = PlantReading {
            output_mw: 0.0,
            available_mw: 100.0,
            reservoir_level_m: Some(150.0), // below the 200 m curve: held to inflow
            inflow_mw: Some(18.6),
        };
        state.loads[0] = 49.0;
        let s = Scheduler::new(g).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.reserve_mw, 8.9);
        close(s.loads[0].served_mw, 9.7);
        close(s.plants[0], 9.7);
        close(s.balance.spill_mw, 0.0);
        assert_eq!(s.state, OperatingState::Alert);
    }

    /// Rule 8: shed load is never normal. A short residential load or firm data-center
    /// part puts the grid on alert; flexible data-center demand left unserved does not.
    #[test]
    fn rule8_shed_load_or_firm_data_center_demand_is_alert() {
        let g = grid(json!({
            "areas": [area("d", "domestic")],
            "plants": [plant("p", "d", 1000.0, 0.0, false)],
            "loads": [load("homes", "d", 1, "residential")],
            "data_centers": [{"id": "dc", "area": "d", "firm_tier": 2, "flexible_tier": 3}],
        }));
        let mut state = Telemetry::new(&g);
        state.data_centers[0].firm_mw = 50.0;
        state.data_centers[0].flexible_mw = 50.0;
        state.loads[0] = 100.0;
        let judged = |mw: f64, state: &mut Telemetry| {
            avail(state, 0, mw);
            Scheduler::new(g.clone())
                .schedule(at("2027-01-15T00:00:00Z"), state)
                .state
        };
        assert_eq!(judged(200.0, &mut state), OperatingState::Normal);
        assert_eq!(judged(170.0, &mut state), OperatingState::Normal); // flexible short
        assert_eq!(judged(130.0, &mut state), OperatingState::Alert); // firm short
        assert_eq!(judged(90.0, &mut state), OperatingState::Alert); // homes shed
    }

    #[test]
    fn rule4_a_shortfall_is_shared_pro_rata() {
        let g = grid(json!({
            "areas": [area("d", "domestic")],
            "plants": [plant("p", "d", 100.0, 0.0, false)],
            "loads": [load("x", "d", 1, "residential"), load("y", "d", 1, "industrial")],
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 50.0);
        state.loads = vec![60.0, 40.0];
        let s = Scheduler::new(g).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.loads[0].served_mw, 30.0);
        close(s.loads[1].served_mw, 20.0);
    }

    #[test]
    fn rule4_what_the_network_frees_is_shared_among_the_rest() {
        // x sits behind a 10 MW line; y and z share what remains 3:1.
        let g = grid(json!({
            "areas": [area("a", "domestic"), area("b", "domestic")],
            "plants": [plant("p", "a", 100.0, 0.0, false)],
            "loads": [load("x", "b", 1, "residential"), load("y", "a", 1, "residential"),
                      load("z", "a", 1, "residential")],
            "lines": [line("ab", "a", "b", 10.0, 0.0, 0.0, 0.0)],
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 90.0);
        state.loads = vec![100.0, 60.0, 20.0];
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.loads[0].served_mw, 10.0);
        close(s.loads[1].served_mw, 60.0);
        close(s.loads[2].served_mw, 20.0);
        state.loads = vec![100.0, 120.0, 40.0];
        let s = Scheduler::new(g).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.loads[0].served_mw, 10.0);
        close(s.loads[1].served_mw, 60.0);
        close(s.loads[2].served_mw, 20.0);
    }

    #[test]
    fn rule6_run_of_river_is_used_before_storage() {
        let g = grid(json!({
            "areas": [area("d", "domestic")],
            "plants": [plant("big-dam", "d", 300.0, 0.0, true),
                       plant("river", "d", 100.0, 0.0, false),
                       plant("small-dam", "d", 100.0, 0.0, true)],
            "loads": [load("town", "d", 1, "residential")],
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 300.0);
        avail(&mut state, 1, 100.0);
        avail(&mut state, 2, 100.0);
        state.loads[0] = 250.0;
        let s = Scheduler::new(g).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.plants[1], 100.0);
        // The remaining 150 in proportion to availability, 3:1.
        close(s.plants[0], 112.5);
        close(s.plants[2], 37.5);
        close(s.balance.generation_mw, 250.0);
    }

    #[test]
    fn rule3_a_transit_pays_its_losses_from_domestic_supply() {
        let g = grid(json!({
            "areas": [area("k", "neighbor"), area("d", "domestic"), area("p", "neighbor")],
            "plants": [plant("dam", "d", 100.0, 0.0, false)],
            "lines": [line("kd", "k", "d", 1000.0, 0.0, 0.1, 0.0),
                      line("dp", "d", "p", 1000.0, 0.0, 0.1, 0.0)],
            "contracts": [contract("transit", "k", "p", true, 1, 50.0)],
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 100.0);
        state.nominations[0] = Nomination::Max;
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.contracts[0].scheduled_mw, 50.0);
        close(s.balance.transit_mw, 50.0);
        // k sends 50, d receives 45; p must receive 50, so d sends 50/0.9.
        close(s.lines[0], 50.0);
        close(s.lines[1], 50.0 / 0.9);
        close(s.plants[0], 50.0 / 0.9 - 45.0);
        close(s.balance.losses_mw, 5.0 + 50.0 / 0.9 * 0.1);
        assert_network(&g, &s);
    }

    fn export_grid() -> Arc<Grid> {
        grid(json!({
            "areas": [area("d", "domestic"), area("n", "neighbor")],
            "plants": [plant("p", "d", 1000.0, 0.0, false)],
            "lines": [line("a", "d", "n", 100.0, 0.0, 0.0, 60.0),
                      line("b", "d", "n", 100.0, 0.0, 0.0, 0.0)],
            "contracts": [contract("sale", "d", "n", true, 1, 500.0)],
        }))
    }

    #[test]
    fn reasons_name_an_outage_on_the_way_to_the_buyer() {
        let g = export_grid();
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 1000.0);
        state.nominations[0] = Nomination::Mw(150.0);
        state.lines[1].in_service = false;
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.contracts[0].scheduled_mw, 100.0);
        assert_eq!(s.contracts[0].reason, ContractReason::LineOut);
        close(s.lines[1], 0.0);
        state.lines[1].in_service = true;
        let s = Scheduler::new(g).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.contracts[0].scheduled_mw, 150.0);
        assert_eq!(s.contracts[0].reason, ContractReason::Ok);
    }

    #[test]
    fn reasons_name_a_ramp_that_holds_the_flow_back() {
        let g = grid(json!({
            "areas": [area("d", "domestic"), area("n", "neighbor")],
            "plants": [plant("p", "d", 1000.0, 0.0, false)],
            "lines": [line("a", "d", "n", 100.0, 0.0, 0.0, 60.0)],
            "contracts": [contract("sale", "d", "n", true, 1, 500.0)],
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 1000.0);
        let mut scheduler = Scheduler::new(g);
        let s = scheduler.schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.lines[0], 0.0);
        // A minute later 90 MW are nominated; the line may only move 60 MW a minute.
        state.nominations[0] = Nomination::Mw(90.0);
        let s = scheduler.schedule(at("2027-01-15T00:01:00Z"), &state);
        close(s.contracts[0].scheduled_mw, 60.0);
        assert_eq!(s.contracts[0].reason, ContractReason::RampLimit);
        let s = scheduler.schedule(at("2027-01-15T00:02:00Z"), &state);
        close(s.contracts[0].scheduled_mw, 90.0);
        assert_eq!(s.contracts[0].reason, ContractReason::Ok);
        // 30 s later the ramp would allow 120, the capacity only 100.
        state.nominations[0] = Nomination::Max;
        let s = scheduler.schedule(at("2027-01-15T00:02:30Z"), &state);
        close(s.contracts[0].scheduled_mw, 100.0);
        assert_eq!(s.contracts[0].reason, ContractReason::LineCapacity);
    }

    /// A grid short of its own supply: a 100 MW plant and a town at tier 1, a neighbor
    /// `n` offering up to `max` MW (tier 1) over a line losing 2%.
    fn import_grid(line_mw: f64, window: Option<Value>) -> Arc<Grid> {
        let mut offer = contract("uz-in", "n", "d", true, 1, 150.0);
        if let Some(window) = window {
            offer["window"] = window;
        }
        grid(json!({
            "areas": [area("d", "domestic"), area("n", "neighbor")],
            "plants": [plant("p", "d", 100.0, 0.0, false)],
            "loads": [load("town", "d", 1, "residential")],
            "lines": [line("nd", "n", "d", line_mw, 0.0, 0.02, 0.0)],
            "contracts": [offer],
        }))
    }

    /// Rule 7: an import offer is taken only where domestic supply falls short, and
    /// then only what the tiers need.
    #[test]
    fn rule7_an_import_is_taken_only_when_domestic_supply_falls_short() {
        let g = import_grid(200.0, None);
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 100.0);
        state.nominations[0] = Nomination::Max;
        state.loads[0] = 80.0;
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.plants[0], 80.0);
        close(s.contracts[0].requested_mw, 150.0);
        close(s.contracts[0].scheduled_mw, 0.0);
        assert_eq!(s.contracts[0].reason, ContractReason::Ok, "not needed");
        close(s.balance.imports_mw, 0.0);

        // 180 MW: the plant gives its 100, the neighbor the 80 that are missing plus
        // the 2% the line loses; the rest of the offer is not needed.
        state.loads[0] = 180.0;
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.plants[0], 100.0);
        close(s.loads[0].served_mw, 180.0);
        close(s.contracts[0].scheduled_mw, 80.0 / 0.98);
        assert_eq!(s.contracts[0].reason, ContractReason::Ok);
        close(s.balance.imports_mw, 80.0 / 0.98);
        close(s.balance.exports_mw, 0.0);
        close(s.balance.losses_mw, 80.0 / 0.98 * 0.02);
        close(s.lines[0], 80.0 / 0.98);
        assert_eq!(s.state, OperatingState::Normal);
        assert_network(&g, &s);
    }

    /// Rule 8's restrictions concern exports and transits: a grid on alert still
    /// imports, and an offer the line cannot carry says so.
    #[test]
    fn rule8_an_alert_still_imports_and_the_network_limit_is_the_reason() {
        let g = import_grid(50.0, None);
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 100.0);
        state.nominations[0] = Nomination::Mw(120.0);
        state.loads[0] = 180.0;
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        assert_eq!(s.state, OperatingState::Alert);
        close(s.contracts[0].scheduled_mw, 50.0);
        assert_eq!(s.contracts[0].reason, ContractReason::LineCapacity);
        close(s.loads[0].served_mw, 149.0);
        assert_network(&g, &s);
        // The line out: nothing can come in.
        state.lines[0].in_service = false;
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.contracts[0].scheduled_mw, 0.0);
        assert_eq!(s.contracts[0].reason, ContractReason::LineOut);
    }

    /// An offer whose window is closed is refused, however short the grid is; its
    /// request is still reported.
    #[test]
    fn an_import_out_of_its_window_is_refused() {
        let g = import_grid(200.0, Some(json!({"start": "05-01", "end": "09-30"})));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 100.0);
        state.nominations[0] = Nomination::Max;
        state.loads[0] = 180.0;
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.contracts[0].requested_mw, 150.0);
        close(s.contracts[0].scheduled_mw, 0.0);
        assert_eq!(s.contracts[0].reason, ContractReason::OutOfWindow);
        close(s.loads[0].served_mw, 100.0);
        assert_eq!(s.state, OperatingState::Alert);
        // In the window, it is taken.
        let s = Scheduler::new(g).schedule(at("2027-07-15T00:00:00Z"), &state);
        close(s.loads[0].served_mw, 180.0);
        close(s.contracts[0].scheduled_mw, 80.0 / 0.98);
    }

    /// Rule 7: the least imported MW comes first; among equal totals the offer of the
    /// lower tier is taken first.
    #[test]
    fn rule7_the_least_imported_mw_then_the_lower_tier_first() {
        let offers = |loss_1: f64| {
            grid(json!({
                "areas": [area("d", "domestic"), area("n1", "neighbor"), area("n2", "neighbor")],
                "plants": [plant("p", "d", 100.0, 0.0, false)],
                "loads": [load("town", "d", 1, "residential")],
                "lines": [line("a", "n1", "d", 200.0, 0.0, loss_1, 0.0),
                          line("b", "n2", "d", 200.0, 0.0, 0.0, 0.0)],
                "contracts": [contract("dear", "n2", "d", true, 2, 100.0),
                              contract("first", "n1", "d", true, 1, 100.0)],
            }))
        };
        let run = |g: &Arc<Grid>| {
            let mut state = Telemetry::new(g);
            avail(&mut state, 0, 100.0);
            state.nominations = vec![Nomination::Max, Nomination::Max];
            state.loads[0] = 150.0;
            let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
            assert_network(g, &s);
            close(s.loads[0].served_mw, 150.0);
            s
        };
        // Both lossless: 50 MW either way; the tier-1 offer is taken.
        let s = run(&offers(0.0));
        close(s.contracts[1].scheduled_mw, 50.0);
        close(s.contracts[0].scheduled_mw, 0.0);
        // The tier-1 offer behind a 10% loss needs 55.6 MW for the same 50: the least
        // imported MW comes first, so the tier-2 offer is taken.
        let s = run(&offers(0.1));
        close(s.contracts[0].scheduled_mw, 50.0);
        close(s.contracts[1].scheduled_mw, 0.0);
        close(s.balance.imports_mw, 50.0);
        // More than one offer can give: the lower tier gives all it can first.
        let g = offers(0.0);
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 100.0);
        state.nominations = vec![Nomination::Max, Nomination::Mw(30.0)];
        state.loads[0] = 150.0;
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.contracts[1].scheduled_mw, 30.0);
        assert_eq!(s.contracts[1].reason, ContractReason::Ok, "taken in full");
        close(s.contracts[0].scheduled_mw, 20.0);
    }

    /// Tiers come first (rule 2), so an import may feed an export when that serves the
    /// export's tier more; rule 7 then takes no MW more than the tier needs: the
    /// plant is not backed down to import instead.
    #[test]
    fn rule7_an_import_feeds_an_export_only_as_far_as_its_tier_needs() {
        let g = grid(json!({
            "areas": [area("d", "domestic"), area("n1", "neighbor"), area("n2", "neighbor")],
            "plants": [plant("p", "d", 100.0, 0.0, false)],
            "loads": [load("town", "d", 1, "residential")],
            "lines": [line("in", "n1", "d", 200.0, 0.0, 0.0, 0.0),
                      line("out", "d", "n2", 200.0, 0.0, 0.0, 0.0)],
            "contracts": [contract("in", "n1", "d", true, 1, 200.0),
                          contract("sale", "d", "n2", true, 3, 100.0)],
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 100.0);
        state.nominations = vec![Nomination::Max, Nomination::Max];
        state.loads[0] = 50.0;
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.contracts[1].scheduled_mw, 100.0);
        close(s.contracts[0].scheduled_mw, 50.0);
        close(s.plants[0], 100.0);
        close(s.balance.exports_mw, 100.0);
        close(s.balance.imports_mw, 50.0);
        assert_network(&g, &s);
        // With no export asked for, nothing is imported.
        state.nominations[1] = Nomination::None;
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.contracts[0].scheduled_mw, 0.0);
        close(s.plants[0], 50.0);
    }

    /// The reserve is domestic headroom (rule 5): importing lets a plant back down to
    /// hold it, and a reserve at a tier is served like any other tier.
    #[test]
    fn rule5_an_import_can_free_headroom_for_the_reserve() {
        let g = grid(json!({
            "areas": [area("d", "domestic"), area("n", "neighbor")],
            "plants": [plant("p", "d", 100.0, 0.0, false)],
            "loads": [load("town", "d", 1, "residential")],
            "lines": [line("nd", "n", "d", 200.0, 0.0, 0.0, 0.0)],
            "contracts": [contract("uz-in", "n", "d", true, 1, 150.0)],
            "reserve": {"tier": 2, "min_mw": 50.0},
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 100.0);
        state.nominations[0] = Nomination::Max;
        state.loads[0] = 80.0;
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.reserve_mw, 50.0);
        close(s.plants[0], 50.0);
        close(s.contracts[0].scheduled_mw, 30.0);
        assert_eq!(s.state, OperatingState::Normal);
        assert_network(&g, &s);
    }

    #[test]
    fn rule2_tiers_are_strict_priorities() {
        let g = grid(json!({
            "areas": [area("d", "domestic"), area("n", "neighbor")],
            "plants": [plant("p", "d", 100.0, 0.0, false)],
            "loads": [load("big", "d", 2, "industrial"), load("small", "d", 1, "residential")],
            "lines": [line("x", "d", "n", 100.0, 0.0, 0.0, 0.0)],
            "contracts": [contract("sale", "d", "n", true, 3, 100.0)],
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 100.0);
        state.loads = vec![100.0, 80.0];
        state.nominations[0] = Nomination::Mw(500.0); // capped at max_mw
        let s = Scheduler::new(g).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.loads[1].served_mw, 80.0);
        close(s.loads[0].served_mw, 20.0);
        close(s.contracts[0].requested_mw, 100.0);
        close(s.contracts[0].scheduled_mw, 0.0);
        assert_eq!(s.contracts[0].reason, ContractReason::Shortage);
        let tiers: Vec<u32> = s.tiers.iter().map(|t| t.tier).collect();
        assert_eq!(tiers, vec![1, 2, 3]);
        for (t, served) in s.tiers.iter().zip([80.0, 20.0, 0.0]) {
            close(t.served_mw, served);
        }
    }

    #[test]
    fn rule3_line_capacity_binds_and_balance_holds_per_area() {
        let g = grid(json!({
            "areas": [area("a", "domestic"), area("b", "domestic"), area("n", "neighbor")],
            "plants": [plant("river", "a", 500.0, 0.0, false),
                       plant("dam", "b", 50.0, 0.0, true)],
            "loads": [load("town", "b", 1, "residential")],
            "lines": [line("ab", "a", "b", 200.0, 200.0, 0.05, 0.0),
                      line("an", "a", "n", 30.0, 0.0, 0.0, 0.0)],
            "contracts": [contract("sale", "a", "n", true, 2, 50.0)],
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 500.0);
        avail(&mut state, 1, 50.0);
        state.loads[0] = 300.0;
        state.nominations[0] = Nomination::Max;
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.lines[0], 200.0);
        close(s.loads[0].served_mw, 240.0); // 200 × 0.95 + 50
        close(s.plants[1], 50.0);
        close(s.contracts[0].scheduled_mw, 30.0);
        assert_eq!(s.contracts[0].reason, ContractReason::LineCapacity);
        close(s.plants[0], 230.0);
        close(s.balance.losses_mw, 10.0);
        assert_network(&g, &s);
    }

    #[test]
    fn rule7_no_two_way_flow_on_a_lossless_line() {
        let g = grid(json!({
            "areas": [area("a", "domestic"), area("b", "domestic")],
            "plants": [plant("river", "a", 100.0, 0.0, false)],
            "loads": [load("town", "b", 1, "residential")],
            "lines": [line("ab", "a", "b", 500.0, 500.0, 0.0, 0.0)],
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 100.0);
        state.loads[0] = 50.0;
        let inputs = Inputs::new(&g, at("2027-01-15T00:00:00Z"), &state, None);
        let run = dispatch(&g, &inputs, None, None, None).figures;
        close(run.fwd[0], 50.0);
        assert_eq!(run.rev[0], 0.0);
        let s = Scheduler::new(g).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.lines[0], 50.0);
        close(s.balance.losses_mw, 0.0);
    }

    #[test]
    fn rule1_must_run_output_nothing_absorbs_is_spilled() {
        let g = grid(json!({
            "areas": [area("d", "domestic")],
            "plants": [plant("river", "d", 100.0, 40.0, false)],
            "loads": [load("town", "d", 1, "residential")],
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 100.0);
        state.loads[0] = 25.0;
        let s = Scheduler::new(g).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.plants[0], 25.0);
        close(s.balance.spill_mw, 15.0);
    }

    /// Found by the oracle property test: with nothing to absorb must-run output, the
    /// run-of-river step used to raise the plants' output and burn it as losses by
    /// sending MW both ways on lossy lines, so the decision's net flows did not
    /// balance. Must-run output nothing absorbs is spill, and no line runs both ways.
    #[test]
    fn rule7_must_run_surplus_is_spilled_not_burnt_both_ways_on_a_lossy_line() {
        let g = grid(json!({
            "areas": [area("a", "domestic"), area("b", "domestic"), area("n", "neighbor")],
            "plants": [plant("river", "b", 100.0, 10.0, false),
                       plant("dam", "a", 100.0, 0.0, true)],
            "lines": [line("ab", "b", "a", 300.0, 300.0, 0.015, 0.0),
                      line("an", "a", "n", 50.0, 80.0, 0.04, 0.0)],
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 50.0);
        avail(&mut state, 1, 20.0);
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.balance.spill_mw, 10.0);
        close(s.balance.losses_mw, 0.0);
        close(s.balance.generation_mw, 0.0);
        for &flow in &s.lines {
            close(flow, 0.0);
        }
        assert_network(&g, &s);
    }

    /// Found by the oracle property test: sharing a short tier before the next tier's
    /// total was maximised pinned a split that left the next tier less than the
    /// lexicographic optimum. Here a transit brings its MW into `d` on their way out,
    /// so giving the shared export line to the transit frees the plant for the town.
    #[test]
    fn rule10_every_tier_total_comes_before_sharing_inside_a_tier() {
        let g = grid(json!({
            "areas": [area("d", "domestic"), area("n0", "neighbor"), area("n1", "neighbor")],
            "plants": [plant("river", "d", 100.0, 0.0, false)],
            "loads": [load("town", "d", 2, "residential")],
            "lines": [line("in", "n0", "d", 100.0, 0.0, 0.0, 0.0),
                      line("out", "d", "n1", 30.0, 0.0, 0.0, 0.0)],
            "contracts": [contract("transit", "n0", "n1", true, 1, 30.0),
                          contract("sale", "d", "n1", true, 1, 30.0)],
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 40.0);
        state.loads[0] = 100.0;
        state.nominations = vec![Nomination::Max, Nomination::Max];
        let s = Scheduler::new(g.clone()).schedule(at("2027-01-15T00:00:00Z"), &state);
        close(s.tiers[0].served_mw, 30.0);
        close(s.tiers[1].served_mw, 40.0);
        close(s.loads[0].served_mw, 40.0);
        close(s.contracts[0].scheduled_mw, 30.0);
        assert_network(&g, &s);
    }

    /// Found by the oracle property test: a reserve of 244.2 MW held to within 5.5e-5 MW
    /// (solver tolerance traded across a 0.02% line) put the grid on alert. Short means
    /// short by more than rule 10's tolerance, 1e-6 relative.
    #[test]
    fn rule8_a_reserve_held_within_rule10_tolerance_is_held() {
        let g = grid(json!({
            "areas": [area("d", "domestic")],
            "plants": [plant("river", "d", 400.0, 0.0, false)],
            "loads": [load("town", "d", 2, "residential")],
            "reserve": {"tier": 1, "min_mw": 244.2},
        }));
        let mut state = Telemetry::new(&g);
        avail(&mut state, 0, 400.0);
        state.loads[0] = 100.0;
        let inputs = Inputs::new(&g, at("2027-01-15T00:00:00Z"), &state, None);
        let mut run = dispatch(&g, &inputs, None, None, None).figures;
        let r = inputs
            .consumers
            .iter()
            .position(|c| matches!(c.part, Part::Reserve))
            .unwrap();
        close(run.served[r], 244.2);
        run.served[r] = 244.2 - 5.5e-5;
        assert_eq!(state::judge(&g, &inputs, &run), OperatingState::Normal);
        run.served[r] = 244.2 - 1e-3;
        assert_eq!(state::judge(&g, &inputs, &run), OperatingState::Alert);
    }

    /// A January evening on the reference grid: Rogun and Kairakkum below their rule
    /// curves, the CASA-1000 summer contracts out of window.
    fn winter() -> (Arc<Grid>, Telemetry, Timestamp) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml");
        let g = Arc::new(config::load(&path).unwrap().grid);
        let mut state = Telemetry::new(&g);
        let plants = [
            ("nurek", 1975.0, Some(885.0), Some(300.0)),
            ("rogun", 600.0, Some(1060.0), Some(150.0)),
            ("baipaza", 450.0, None, None),
            ("sangtuda-1", 500.0, None, None),
            ("sangtuda-2", 150.0, None, None),
            ("golovnaya", 150.0, None, None),
            ("kairakkum", 100.0, Some(342.0), Some(40.0)),
            ("pamir-1", 20.0, None, None),
        ];
        for (id, mw, level, inflow) in plants {
            state.plants[g.index.plants[id]] = PlantReading {
                output_mw: mw,
                available_mw: mw,
                reservoir_level_m: level,
                inflow_mw: inflow,
            };
        }
        let loads = [
            ("south-essential", 300.0),
            ("north-essential", 150.0),
            ("gbao-essential", 10.0),
            ("south-households", 1500.0),
            ("north-households", 700.0),
            ("gbao-households", 60.0),
            ("south-industry", 400.0),
            ("north-industry", 200.0),
            ("talco", 500.0),
        ];
        for (id, mw) in loads {
            state.loads[g.index.loads[id]] = mw;
        }
        state.data_centers[g.index.data_centers["darvoz"]].firm_mw = 100.0;
        state.data_centers[g.index.data_centers["darvoz"]].flexible_mw = 150.0;
        state.nominations[g.index.contracts["af-supply"]] = Nomination::Max;
        state.nominations[g.index.contracts["uz-spot"]] = Nomination::Mw(400.0);
        state.nominations[g.index.contracts["gbao-badakhshan"]] = Nomination::Max;
        state.nominations[g.index.contracts["casa-pk"]] = Nomination::Max;
        (g, state, at("2027-01-15T17:00:00Z"))
    }

    #[test]
    fn reference_grid_winter_snapshot_balances_within_limits() {
        let (g, state, ts) = winter();
        let s = Scheduler::new(g.clone()).schedule(ts, &state);
        assert_network(&g, &s);
        // Availability: Nurek 1975, Rogun capped at 150, Kairakkum at 40, the rest
        // as read: 3435 MW. Largest unit with availability: Nurek's 375 MW.
        close(s.reserve_required_mw, 375.0);
        let casa = g.index.contracts["casa-pk"];
        assert_eq!(s.contracts[casa].reason, ContractReason::OutOfWindow);
        close(s.contracts[casa].requested_mw, 610.0);
        close(s.contracts[casa].scheduled_mw, 0.0);
        // Essentials (460) and the Afghan floor (40) come first and are served.
        for id in ["south-essential", "north-essential", "gbao-essential"] {
            let l = &s.loads[g.index.loads[id]];
            close(l.served_mw, l.requested_mw);
        }
        for (p, &mw) in s.plants.iter().enumerate() {
            assert!(mw >= 0.0 && mw <= g.plants[p].capacity_mw);
        }
        assert!(s.plants[g.index.plants["rogun"]] <= 150.0 + EPS);
        assert!(s.plants[g.index.plants["kairakkum"]] <= 40.0 + EPS);
        // 3435 MW available, 375 held as reserve (tier 3, before industry): 3060 MW.
        // Industry is shed, so the grid is on alert (rule 8).
        assert_eq!(s.state, OperatingState::Alert);
        close(s.reserve_mw, 375.0);
        close(s.balance.generation_mw, 3060.0);
        // North takes 810 MW over 2 % losses; GBAO fills the 40 MW Vanj–Darvoz tie (4 %);
        // the Afghan floor of 40 MW goes over the line that loses least, CASA-1000's
        // Kabul link (3 %).
        let losses = 810.0 / 0.98 - 810.0 + 40.0 * 0.04 + 40.0 / 0.97 - 40.0;
        close(s.balance.losses_mw, losses);
        close(s.lines[g.index.lines["north-south"]], 810.0 / 0.98);
        close(s.lines[g.index.lines["vanj-darvoz"]], 40.0);
        // Tier 2 is served in full but in GBAO, where the tie leaves households
        // 20 − 10 + 38.4 = 48.4 of their 60 MW.
        close(s.loads[g.index.loads["gbao-households"]].served_mw, 48.4);
        close(s.tiers[1].served_mw, 2200.0 + 48.4);
        // Tier 4 gets the rest, all of it where no loss is paid: south industry.
        close(
            s.loads[g.index.loads["south-industry"]].served_mw,
            3060.0 - 500.0 - 2248.4 - losses,
        );
        close(s.loads[g.index.loads["north-industry"]].served_mw, 0.0);
        close(
            s.contracts[g.index.contracts["af-supply"]].scheduled_mw,
            40.0,
        );
        assert_eq!(
            s.contracts[g.index.contracts["af-supply"]].reason,
            ContractReason::ReservoirFloor
        );
    }

    #[test]
    fn reference_grid_runs_every_step_in_every_state() {
        let (g, state, ts) = winter();
        let inputs = Inputs::new(&g, ts, &state, None);
        for s in [
            OperatingState::Normal,
            OperatingState::Alert,
            OperatingState::Emergency,
        ] {
            let mut restricted = inputs.clone();
            restricted.restrict(&g, s);
            let run = dispatch(&g, &restricted, None, None, None).figures;
            assert!(run.complete, "{s:?}");
        }
    }

    #[test]
    fn odd_snapshots_never_panic_and_always_balance() {
        let (g, mut state, ts) = winter();
        let odd = [f64::NAN, -5.0, 0.0, 1e-12, 50.0, 500.0, 1e9, f64::INFINITY];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut scheduler = Scheduler::new(g.clone());
        for tick in 0..12 {
            let mut pick = || odd[(next() % odd.len() as u64) as usize];
            for p in 0..state.plants.len() {
                state.plants[p].available_mw = pick();
                state.plants[p].inflow_mw = Some(pick());
                state.plants[p].reservoir_level_m = Some(pick() + 800.0);
            }
            for l in 0..state.loads.len() {
                state.loads[l] = pick();
            }
            state.data_centers[0].firm_mw = pick();
            state.data_centers[0].flexible_mw = pick();
            for l in 0..state.lines.len() {
                let x = pick();
                state.lines[l].in_service = x != 0.0;
                state.lines[l].derated_mw = (x < 100.0).then(&mut pick);
            }
            for c in 0..state.nominations.len() {
                state.nominations[c] = Nomination::Mw(pick());
            }
            let s = scheduler.schedule(
                ts.saturating_add(std::time::Duration::from_secs(tick)),
                &state,
            );
            assert_network(&g, &s);
            for x in s.plants.iter().chain(&s.lines) {
                assert!(x.is_finite());
            }
        }
    }

    #[test]
    fn rule9_the_same_input_gives_an_identical_schedule() {
        let (g, state, ts) = winter();
        let a = Scheduler::new(g.clone()).schedule(ts, &state);
        let b = Scheduler::new(g).schedule(ts, &state);
        assert_eq!(a, b);
    }
}
