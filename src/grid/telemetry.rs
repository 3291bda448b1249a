//! The grid's telemetry state: the latest accepted reading for every plant, load,
//! data center, line and contract.
//!
//! This is what a tick hands the scheduler. It starts empty in the cautious sense: no
//! generation is available and no demand is requested until telemetry says so, every
//! line is in service at its configured capacity, and no contract is nominated.

use super::Grid;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PlantReading {
    pub output_mw: f64,
    pub available_mw: f64,
    /// `None` until a reading carries it; an unknown level never caps the plant.
    pub reservoir_level_m: Option<f64>,
    /// Power equivalent of natural inflow; an unknown inflow counts as 0 when the
    /// reservoir is below its rule curve.
    pub inflow_mw: Option<f64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DataCenterReading {
    pub firm_mw: f64,
    pub flexible_mw: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineReading {
    pub in_service: bool,
    /// A derating: the line carries at most this in either direction.
    pub derated_mw: Option<f64>,
}

impl Default for LineReading {
    fn default() -> Self {
        LineReading {
            in_service: true,
            derated_mw: None,
        }
    }
}

/// What a contract's counterparty asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Nomination {
    /// No nomination yet: nothing is requested.
    #[default]
    None,
    /// A nomination without `mw`: `max_mw` whenever the window is open.
    Max,
    /// A nomination of this many MW.
    Mw(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Telemetry {
    pub plants: Vec<PlantReading>,
    /// Requested MW per load.
    pub loads: Vec<f64>,
    pub data_centers: Vec<DataCenterReading>,
    pub lines: Vec<LineReading>,
    pub nominations: Vec<Nomination>,
}

impl Telemetry {
    pub fn new(grid: &Grid) -> Self {
        Telemetry {
            plants: vec![PlantReading::default(); grid.plants.len()],
            loads: vec![0.0; grid.loads.len()],
            data_centers: vec![DataCenterReading::default(); grid.data_centers.len()],
            lines: vec![LineReading::default(); grid.lines.len()],
            nominations: vec![Nomination::None; grid.contracts.len()],
        }
    }
}
