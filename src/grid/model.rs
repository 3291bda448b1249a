//! The validated grid model: areas, plants, loads, data centers, lines, contracts and
//! the rules' parameters, with every cross-reference resolved to an index.
//!
//! Built once from configuration (see `config::validate`) and shared read-only by
//! every stage, so the hot path compares integers, never ids.

use crate::time::Timestamp;
use std::collections::HashMap;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaKind {
    /// One of the operator's own balancing areas: it has plants and loads.
    Domestic,
    /// A counterparty: it only sends or receives contract flows.
    Neighbor,
}

#[derive(Debug, Clone)]
pub struct Area {
    pub id: String,
    pub name: String,
    pub kind: AreaKind,
}

#[derive(Debug, Clone)]
pub struct Plant {
    pub id: String,
    pub area: usize,
    pub capacity_mw: f64,
    /// Largest single unit: the N-1 reserve must cover losing it.
    pub unit_mw: f64,
    /// Environmental or must-run output; what the grid cannot absorb is spilled.
    pub min_mw: f64,
    /// `None` for run-of-river plants, which are dispatched before storage.
    pub reservoir: Option<Reservoir>,
    /// What drives it; the scheduler treats every kind alike, the simulator does not.
    pub kind: PlantKind,
    /// Its place on a river, for the simulator; `None`: its water is a share of
    /// capacity set by the scenario.
    pub river: Option<River>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlantKind {
    Hydro,
    /// Fuel-fired: no water; a combined heat and power plant runs for heat in winter.
    Thermal,
}

/// A hydro plant's water, read only by the simulator.
#[derive(Debug, Clone)]
pub struct River {
    /// Turbine discharge at capacity: MW per m³/s is `capacity_mw / rated_flow_m3s`.
    pub rated_flow_m3s: f64,
    /// Natural (or lateral) inflow by month, January first, in a normal year.
    pub inflow_m3s: [f64; 12],
    /// The plant whose release (turbines and spill) flows into this one.
    pub downstream_of: Option<usize>,
    /// How long that release takes to arrive.
    pub travel: Duration,
}

#[derive(Debug, Clone)]
pub struct Reservoir {
    /// Dead level: below it the plant may only pass its inflow.
    pub floor_m: f64,
    /// Minimum level for each month, January first; below it, no further drawdown.
    pub rule_curve_m: [f64; 12],
    /// Normal retaining level: at or above it the plant must pass its inflow (what
    /// the grid cannot absorb is spilled). `None`: the reservoir is never full.
    pub full_m: Option<f64>,
}

impl Reservoir {
    /// True when the level forbids drawing the reservoir down in the month of `ts`.
    pub fn below_curve(&self, level_m: f64, ts: Timestamp) -> bool {
        let month = ts.month() as usize;
        level_m < self.floor_m || level_m < self.rule_curve_m[month - 1]
    }

    /// True when the level is at or above the normal retaining level.
    pub fn full(&self, level_m: f64) -> bool {
        self.full_m.is_some_and(|full| level_m >= full)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadClass {
    /// Hospitals, water, heating plants: any shortfall here is an emergency.
    Essential,
    Residential,
    Industrial,
    Other,
}

/// How the built-in simulator shapes a load through the day and the week; the
/// scheduler never reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadProfile {
    /// The daily and weekly shape of the load's class.
    Class,
    /// The same round the clock, weekdays and weekends: a process that cannot pause,
    /// such as an aluminium smelter, whose idle potlines freeze.
    Flat,
}

#[derive(Debug, Clone)]
pub struct Load {
    pub id: String,
    pub area: usize,
    pub tier: u32,
    pub class: LoadClass,
    /// Typical winter-peak demand, a hint for the built-in simulator only: telemetry,
    /// not this figure, is what the scheduler serves. `None` lets the simulator derive
    /// a size from the area's plant capacity and the load's class.
    pub peak_mw: Option<f64>,
    /// How the simulator shapes the load over time, a hint like `peak_mw`.
    pub profile: LoadProfile,
    /// The most this load can draw: a reading above it is `above_capacity`, so one bad
    /// figure cannot put the grid in a state it is not in. Configured, or the sum of
    /// every plant's capacity.
    pub max_mw: f64,
}

#[derive(Debug, Clone)]
pub struct DataCenter {
    pub id: String,
    pub area: usize,
    pub firm_tier: u32,
    /// Flexible demand is the first domestic load shed in an emergency.
    pub flexible_tier: u32,
    /// Upper bound on firm + flexible demand, when the site declares one; readings of a
    /// site without one are held to the grid's `installed_mw`.
    pub capacity_mw: Option<f64>,
    /// The site as built today, a hint for the built-in simulator only (it draws
    /// most of it): a site connected for its planned size, `capacity_mw`, may run far
    /// below it for years. `None` means as large as its capacity.
    pub size_mw: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct Line {
    pub id: String,
    pub from: usize,
    pub to: usize,
    /// Limit on the MW sent from `from` towards `to`.
    pub capacity_mw: f64,
    /// Limit on the MW sent from `to` towards `from`; 0 makes the line one-way.
    pub reverse_capacity_mw: f64,
    /// Share of the sent MW lost on the way: received = sent × (1 − loss_fraction).
    pub loss_fraction: f64,
    /// How fast the flow may move between ticks; 0 = unlimited.
    pub ramp_mw_per_min: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmness {
    Firm,
    NonFirm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContractKind {
    /// Domestic area to a neighbor.
    Export,
    /// Neighbor to neighbor across the domestic grid, which pays the losses.
    Transit,
    /// Neighbor to a domestic area: an offer the neighbor injects at `from`, a source
    /// the scheduler takes only where the tiers need it (rule 7).
    Import,
}

#[derive(Debug, Clone)]
pub struct Contract {
    pub id: String,
    pub from: usize,
    pub to: usize,
    pub kind: ContractKind,
    pub firmness: Firmness,
    pub tier: u32,
    pub max_mw: f64,
    /// A humanitarian minimum served at its own tier, kept in every state.
    pub floor: Option<Floor>,
    /// Days of the year (UTC, inclusive) in which the contract may flow.
    pub window: Option<Window>,
    /// What the counterparty pays per MWh scheduled (for an import, what is paid to
    /// it); settlement is energy × tariff. It does not enter the schedule.
    pub tariff_usd_per_mwh: Option<f64>,
}

#[derive(Debug, Clone, Copy)]
pub struct Floor {
    pub mw: f64,
    pub tier: u32,
}

/// Inclusive (month, day) range; `start` after `end` wraps over the new year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: (u32, u32),
    pub end: (u32, u32),
}

impl Window {
    pub fn contains(&self, ts: Timestamp) -> bool {
        let day = ts.month_day();
        if self.start <= self.end {
            self.start <= day && day <= self.end
        } else {
            day >= self.start || day <= self.end
        }
    }
}

impl Contract {
    pub fn in_window(&self, ts: Timestamp) -> bool {
        self.window.is_none_or(|w| w.contains(ts))
    }
}

#[derive(Debug, Clone)]
pub struct Reserve {
    pub tier: u32,
    pub min_mw: f64,
    /// N-1: hold at least the largest unit among plants with availability.
    pub largest_unit: bool,
    /// Share of requested domestic demand.
    pub fraction_of_demand: f64,
}

#[derive(Debug, Clone)]
pub struct States {
    /// Unused domestic generation below this puts the grid on alert.
    pub alert_margin_mw: f64,
    /// Event time a better state must hold before the grid steps down to it.
    pub hold: Duration,
}

#[derive(Debug, Clone)]
pub struct ScheduleSettings {
    /// Event-time tick; zero evaluates after every event.
    pub interval: Duration,
    /// A decision is emitted when any figure moves by more than this.
    pub deadband_mw: f64,
    /// A decision is emitted at least this often even when nothing moves.
    pub heartbeat: Duration,
}

#[derive(Debug, Clone)]
pub struct TimeSettings {
    /// How far behind the newest event an event may arrive and still be accepted.
    pub allowed_lateness: Duration,
    /// How far beyond the wall clock an event may claim to be (live sources only).
    pub max_ahead: Duration,
}

/// The whole validated grid.
#[derive(Debug, Clone)]
pub struct Grid {
    pub areas: Vec<Area>,
    pub plants: Vec<Plant>,
    /// The sum of every plant's capacity: what no single reading of a load, a site
    /// without a capacity of its own, or a plant's inflow can exceed.
    pub installed_mw: f64,
    pub loads: Vec<Load>,
    pub data_centers: Vec<DataCenter>,
    pub lines: Vec<Line>,
    pub contracts: Vec<Contract>,
    pub reserve: Option<Reserve>,
    pub states: States,
    pub schedule: ScheduleSettings,
    pub time: TimeSettings,
    pub index: Index,
}

/// Id → position, one map per kind of object, for decoding events.
#[derive(Debug, Clone, Default)]
pub struct Index {
    pub areas: HashMap<String, usize>,
    pub plants: HashMap<String, usize>,
    pub loads: HashMap<String, usize>,
    pub data_centers: HashMap<String, usize>,
    pub lines: HashMap<String, usize>,
    pub contracts: HashMap<String, usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn window_is_inclusive_and_may_wrap() {
        let summer = Window {
            start: (5, 1),
            end: (9, 30),
        };
        assert!(summer.contains(at("2027-05-01T00:00:00Z")));
        assert!(summer.contains(at("2027-09-30T23:59:59Z")));
        assert!(!summer.contains(at("2027-10-01T00:00:00Z")));
        let winter = Window {
            start: (11, 1),
            end: (2, 28),
        };
        assert!(winter.contains(at("2027-01-10T00:00:00Z")));
        assert!(!winter.contains(at("2027-06-10T00:00:00Z")));
    }

    #[test]
    fn rule_curve_is_read_for_the_month_of_the_event() {
        let mut rule_curve_m = [900.0; 12];
        rule_curve_m[0] = 870.0;
        let r = Reservoir {
            floor_m: 857.0,
            rule_curve_m,
            full_m: Some(910.0),
        };
        assert!(!r.below_curve(880.0, at("2027-01-15T00:00:00Z")));
        assert!(r.below_curve(880.0, at("2027-02-15T00:00:00Z")));
        assert!(r.below_curve(850.0, at("2027-01-15T00:00:00Z")));
    }

    #[test]
    fn a_reservoir_is_full_at_its_normal_retaining_level() {
        let mut r = Reservoir {
            floor_m: 857.0,
            rule_curve_m: [900.0; 12],
            full_m: Some(910.0),
        };
        assert!(!r.full(909.99));
        assert!(r.full(910.0) && r.full(912.0));
        assert!(!r.full(f64::NAN));
        r.full_m = None;
        assert!(!r.full(1000.0));
    }
}
