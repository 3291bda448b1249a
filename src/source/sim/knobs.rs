//! The `[simulator]` keys that shape a scenario beyond its name — how big the data
//! center grows, which line trips when, how often data centers drop off together, how
//! wet the year is — checked against the grid when the configuration is loaded.

use std::time::Duration;

/// Every scenario's knobs, each in use only in its own scenario but for
/// `dc_trips_per_week` and `inflow_share`, which every scenario plays.
#[derive(Debug, Clone)]
pub struct Knobs {
    pub growth: Growth,
    pub trip: LineTrip,
    /// Voltage dips that trip data centers together, on average, across the grid.
    pub dc_trips_per_week: f64,
    /// Natural inflow as a share of a normal year's; `None`: the scenario's own.
    pub inflow_share: Option<f64>,
}

/// `dc-growth`: sites grow linearly from `from_mw` to `to_mw` over `over` of event time
/// from the run's start, then stay at `to_mw`.
#[derive(Debug, Clone)]
pub struct Growth {
    /// The site that grows; every data center when `None`.
    pub site: Option<usize>,
    /// Each grown site's `size_mw` when `None`.
    pub from_mw: Option<f64>,
    /// Each grown site's `capacity_mw` when `None`.
    pub to_mw: Option<f64>,
    pub over: Duration,
}

/// `line-trip`: `line` goes out of service at the first `at_s` of local time of day
/// at or after the run's start and comes back `duration` later.
#[derive(Debug, Clone)]
pub struct LineTrip {
    /// `None` only on a grid without lines.
    pub line: Option<usize>,
    /// Seconds after local midnight.
    pub at_s: i64,
    pub duration: Duration,
}
