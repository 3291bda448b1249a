//! The scheduler: from a telemetry snapshot to plant setpoints, served demand,
//! contract schedules and line flows, under the shortage rules.

use crate::grid::{Grid, GridState};
use crate::time::Timestamp;
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
pub enum Reason {
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

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Ok => "ok",
            Reason::Shortage => "shortage",
            Reason::LineCapacity => "line_capacity",
            Reason::RampLimit => "ramp_limit",
            Reason::OutOfWindow => "out_of_window",
            Reason::AlertState => "alert_state",
            Reason::EmergencyState => "emergency_state",
            Reason::LineOut => "line_out",
            Reason::ReservoirFloor => "reservoir_floor",
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
    pub reason: Reason,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Balance {
    /// Sum of plant setpoints: what the plants deliver to the grid.
    pub generation_mw: f64,
    pub domestic_served_mw: f64,
    /// MW delivered to neighbors under export contracts.
    pub exports_mw: f64,
    /// MW delivered under transit contracts.
    pub transit_mw: f64,
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
}

/// Owns what the rules carry from tick to tick: the previous line flows (ramps) and
/// the state machine's hysteresis clock.
#[derive(Debug, Clone)]
pub struct Scheduler {
    grid: Arc<Grid>,
}

impl Scheduler {
    pub fn new(grid: Arc<Grid>) -> Self {
        Scheduler { grid }
    }

    /// Schedules the tick at `ts` on `state`.
    pub fn schedule(&mut self, ts: Timestamp, state: &GridState) -> Schedule {
        let _ = (ts, state);
        let grid = &self.grid;
        Schedule {
            state: OperatingState::Normal,
            reserve_required_mw: 0.0,
            reserve_mw: 0.0,
            balance: Balance::default(),
            plants: vec![0.0; grid.plants.len()],
            loads: vec![Served::default(); grid.loads.len()],
            data_centers: vec![[Served::default(); 2]; grid.data_centers.len()],
            contracts: vec![
                ContractSchedule {
                    requested_mw: 0.0,
                    scheduled_mw: 0.0,
                    reason: Reason::Ok
                };
                grid.contracts.len()
            ],
            lines: vec![0.0; grid.lines.len()],
            tiers: Vec::new(),
        }
    }
}
