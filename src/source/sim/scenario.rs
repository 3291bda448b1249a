//! The named scenarios and what each varies; the figures are explained in
//! `docs/reference-grid.md`.

use super::Knobs;
use crate::time::Timestamp;

/// A named set of conditions the simulator reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// A January in which river flow is a tenth of summer's and the country runs short.
    WinterShortage,
    /// A July of surplus water with the CASA-1000 window open.
    SummerSurplus,
    /// `winter-shortage` with data centers growing to their planned size.
    DcGrowth,
    /// `summer-surplus` with a line tripping at the midday peak and coming back.
    LineTrip,
    /// A winter after a dry year (like 2021): less water, reservoirs far below plan.
    Drought,
}

impl Scenario {
    pub const NAMES: [&str; 5] = [
        "winter-shortage",
        "summer-surplus",
        "dc-growth",
        "line-trip",
        "drought",
    ];

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "winter-shortage" => Some(Scenario::WinterShortage),
            "summer-surplus" => Some(Scenario::SummerSurplus),
            "dc-growth" => Some(Scenario::DcGrowth),
            "line-trip" => Some(Scenario::LineTrip),
            "drought" => Some(Scenario::Drought),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scenario::WinterShortage => Self::NAMES[0],
            Scenario::SummerSurplus => Self::NAMES[1],
            Scenario::DcGrowth => Self::NAMES[2],
            Scenario::LineTrip => Self::NAMES[3],
            Scenario::Drought => Self::NAMES[4],
        }
    }

    /// Where a run starts when the user gives no start: a Monday midnight (UTC) in the
    /// month the scenario is about, so the rule curves and contract windows that
    /// month selects are the ones the scenario exercises. A data center grows into a
    /// winter, when every megawatt it takes is one households may go without.
    pub fn default_start(self) -> Timestamp {
        let text = match self {
            Scenario::WinterShortage | Scenario::DcGrowth => "2027-01-11T00:00:00Z",
            Scenario::SummerSurplus | Scenario::LineTrip => "2027-07-12T00:00:00Z",
            Scenario::Drought => "2027-01-18T00:00:00Z",
        };
        Timestamp::parse(text).unwrap_or_default()
    }

    /// The scenario's conditions, its natural inflow scaled by `knobs.inflow_share`
    /// when the configuration sets one.
    pub(super) fn params(self, knobs: &Knobs) -> Params {
        let mut params = match self {
            Scenario::WinterShortage | Scenario::DcGrowth | Scenario::Drought => Params {
                winter: true,
                storage_inflow: 0.12,
                river_flow: (0.25, 0.40),
                inflow_share: 1.0,
                below_plan: 0.0,
                maintenance: 0.25,
                level: [1.0, 1.0, 1.0, 1.0],
                weather_sensitivity: [0.02, 0.05, 0.0, 0.02],
                outages_per_day: 4.0,
                deratings_per_day: 1.0,
                unit_trips_per_day: 3.0,
                stale_per_day: 8.0,
            },
            Scenario::SummerSurplus | Scenario::LineTrip => Params {
                winter: false,
                storage_inflow: 1.2,
                river_flow: (0.98, 1.10),
                inflow_share: 1.0,
                below_plan: 0.0,
                maintenance: 0.0,
                level: [0.75, 0.5, 0.9, 0.7],
                weather_sensitivity: [0.01, 0.04, 0.0, 0.02],
                outages_per_day: 3.0,
                deratings_per_day: 1.5,
                unit_trips_per_day: 3.0,
                stale_per_day: 8.0,
            },
        };
        if self == Scenario::Drought {
            params.inflow_share = 0.4;
            params.below_plan = 1.0 / 3.0;
        }
        if let Some(share) = knobs.inflow_share {
            params.inflow_share = share;
        }
        params
    }
}

/// What a scenario varies.
#[derive(Debug, Clone, Copy)]
pub(super) struct Params {
    pub winter: bool,
    /// Natural inflow of a storage plant without `[plants.river]`, as a share of its
    /// capacity.
    pub storage_inflow: f64,
    /// Range of river flow (share of capacity) drawn for each run-of-river plant
    /// without `[plants.river]`.
    pub river_flow: (f64, f64),
    /// Every natural inflow as a share of a normal year's.
    pub inflow_share: f64,
    /// How far below the operator's plan winter reservoirs start, as a share of their
    /// range from dead level to the top.
    pub below_plan: f64,
    /// Share of each storage plant's units out for maintenance.
    pub maintenance: f64,
    /// Demand level relative to the winter peak, by class (essential, residential,
    /// industrial, other).
    pub level: [f64; 4],
    /// How strongly each class follows the weather (cold snap or heat wave).
    pub weather_sensitivity: [f64; 4],
    pub outages_per_day: f64,
    pub deratings_per_day: f64,
    /// Forced unit outages across the grid (see [`super::outages`]).
    pub unit_trips_per_day: f64,
    /// Gateways going stale across the grid (see [`super::gateway`]).
    pub stale_per_day: f64,
}
