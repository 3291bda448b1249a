//! The configuration file as written: serde structs, one per TOML table.
//!
//! Nothing here is trusted. Unknown keys are caught by the loader (see `config::load`)
//! and every cross-reference and range is checked when these become a
//! [`Config`](super::Config).
//!
//! A table whose keys are all optional takes those it leaves out from its `Default`
//! (`#[serde(default)]` on the struct), so that each default is written once; only
//! `[output]` works otherwise, as said on [`OutputTable`].

use serde::Deserialize;

// serde names a table's type in its errors (`expected struct Window`): each keeps the
// short name `check-config` has always said.

#[derive(Debug, Deserialize)]
#[serde(expecting = "struct Area")]
pub struct AreaTable {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// `domestic` or `neighbor`; checked during validation so that a typo is reported
    /// together with every other error.
    pub kind: String,
}

#[derive(Debug, Deserialize)]
#[serde(expecting = "struct Plant")]
pub struct PlantTable {
    pub id: String,
    pub area: String,
    pub capacity_mw: f64,
    pub unit_mw: f64,
    #[serde(default)]
    pub min_mw: f64,
    #[serde(default)]
    pub reservoir: Option<ReservoirTable>,
    /// `hydro` (the default) or `thermal`; checked during validation.
    #[serde(default)]
    pub kind: Option<String>,
    /// The plant's place on its river, read only by the simulator.
    #[serde(default)]
    pub river: Option<RiverTable>,
}

/// `[plants.river]`: what turns water into MW and where the water comes from.
#[derive(Debug, Deserialize)]
#[serde(expecting = "struct River")]
pub struct RiverTable {
    /// Turbine discharge at `capacity_mw`: MW per m³/s is capacity / rated flow.
    pub rated_flow_m3s: f64,
    /// Natural (for a plant below another, lateral) inflow by month, January first.
    #[serde(default)]
    pub inflow_m3s: Option<Vec<f64>>,
    /// The plant whose release flows into this one.
    #[serde(default)]
    pub downstream_of: Option<String>,
    /// How long that release takes to arrive, e.g. `"2h"`.
    #[serde(default)]
    pub travel: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(expecting = "struct Reservoir")]
pub struct ReservoirTable {
    pub floor_m: f64,
    pub rule_curve_m: Vec<f64>,
    /// Normal retaining level: at or above it the plant must pass its inflow.
    #[serde(default)]
    pub full_m: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(expecting = "struct Load")]
pub struct LoadTable {
    pub id: String,
    pub area: String,
    pub tier: i64,
    pub class: String,
    #[serde(default)]
    pub peak_mw: Option<f64>,
    /// `class` (the default) or `flat`.
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub max_mw: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(expecting = "struct DataCenter")]
pub struct DataCenterTable {
    pub id: String,
    pub area: String,
    pub firm_tier: i64,
    pub flexible_tier: i64,
    #[serde(default)]
    pub capacity_mw: Option<f64>,
    #[serde(default)]
    pub size_mw: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(expecting = "struct Line")]
pub struct LineTable {
    pub id: String,
    pub from: String,
    pub to: String,
    pub capacity_mw: f64,
    #[serde(default)]
    pub reverse_capacity_mw: f64,
    #[serde(default)]
    pub loss_fraction: f64,
    #[serde(default)]
    pub ramp_mw_per_min: f64,
}

#[derive(Debug, Deserialize)]
#[serde(expecting = "struct Contract")]
pub struct ContractTable {
    pub id: String,
    pub from: String,
    pub to: String,
    pub firmness: String,
    pub tier: i64,
    pub max_mw: f64,
    #[serde(default)]
    pub floor_mw: Option<f64>,
    #[serde(default)]
    pub floor_tier: Option<i64>,
    #[serde(default)]
    pub window: Option<WindowTable>,
    #[serde(default)]
    pub tariff_usd_per_mwh: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(expecting = "struct Window")]
pub struct WindowTable {
    pub start: String,
    pub end: String,
}

#[derive(Debug, Deserialize)]
#[serde(expecting = "struct Reserve")]
pub struct ReserveTable {
    pub tier: i64,
    #[serde(default)]
    pub min_mw: f64,
    #[serde(default)]
    pub largest_unit: bool,
    #[serde(default)]
    pub fraction_of_demand: f64,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
#[serde(expecting = "struct States")]
pub struct StatesTable {
    pub alert_margin_mw: f64,
    pub hold: String,
}

impl Default for StatesTable {
    fn default() -> Self {
        StatesTable {
            alert_margin_mw: 0.0,
            hold: "15m".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
#[serde(expecting = "struct Schedule")]
pub struct ScheduleTable {
    pub interval: String,
    pub deadband_mw: f64,
    pub heartbeat: String,
}

impl Default for ScheduleTable {
    fn default() -> Self {
        ScheduleTable {
            interval: "1s".into(),
            deadband_mw: 0.0,
            heartbeat: "60s".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
#[serde(expecting = "struct Time")]
pub struct TimeTable {
    pub allowed_lateness: String,
    pub max_ahead: String,
}

impl Default for TimeTable {
    fn default() -> Self {
        TimeTable {
            allowed_lateness: "5s".into(),
            max_ahead: "10s".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
#[serde(expecting = "struct Simulator")]
pub struct SimulatorTable {
    pub enabled: bool,
    pub scenario: String,
    pub seed: u64,
    pub faults: f64,
    /// A data center's id; every data center when absent.
    pub dc_growth_site: Option<String>,
    /// Each grown site's `size_mw` when absent.
    pub dc_growth_from_mw: Option<f64>,
    /// Each grown site's `capacity_mw` when absent.
    pub dc_growth_to_mw: Option<f64>,
    pub dc_growth_over: String,
    /// A line's id; the line of greatest capacity when absent.
    pub line_trip_line: Option<String>,
    /// Local time of day, `"HH:MM"`.
    pub line_trip_at: String,
    pub line_trip_for: String,
    pub dc_trips_per_week: f64,
    /// Natural inflow as a share of a normal year's; unset, the scenario's own.
    pub inflow_share: Option<f64>,
}

impl Default for SimulatorTable {
    fn default() -> Self {
        SimulatorTable {
            enabled: false,
            scenario: "winter-shortage".into(),
            seed: 1,
            faults: 0.0,
            dc_growth_site: None,
            dc_growth_from_mw: None,
            dc_growth_to_mw: None,
            dc_growth_over: "2days".into(),
            line_trip_line: None,
            line_trip_at: "14:30".into(),
            line_trip_for: "1h".into(),
            dc_trips_per_week: 3.0,
            inflow_share: None,
        }
    }
}

/// The listeners' defaults, the same for `[tcp]` and `[http]`; what each bounds is
/// said on `TcpSettings` and `HttpSettings`.
const MAX_CONNECTIONS: i64 = 64;
const IDLE_TIMEOUT: &str = "60s";
const AUTH_TIMEOUT: &str = "5s";

#[derive(Debug, Deserialize)]
#[serde(default)]
#[serde(expecting = "struct Tcp")]
pub struct TcpTable {
    pub enabled: bool,
    pub address: String,
    pub max_connections: i64,
    pub max_line_bytes: i64,
    pub token: Option<String>,
    pub idle_timeout: String,
    pub auth_timeout: String,
}

impl Default for TcpTable {
    fn default() -> Self {
        TcpTable {
            enabled: false,
            address: "127.0.0.1:9185".into(),
            max_connections: MAX_CONNECTIONS,
            max_line_bytes: 65_536,
            token: None,
            idle_timeout: IDLE_TIMEOUT.into(),
            auth_timeout: AUTH_TIMEOUT.into(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
#[serde(expecting = "struct Input")]
pub struct InputTable {
    pub files: Vec<String>,
    pub stdin: bool,
}

/// Unlike the other tables, a written `[output]` does not fall back on the defaults
/// key by key: a file it leaves out is not written.
#[derive(Debug, Deserialize)]
#[serde(expecting = "struct Output")]
pub struct OutputTable {
    #[serde(default)]
    pub decisions: Option<String>,
    #[serde(default)]
    pub stdout: bool,
    #[serde(default)]
    pub dead_letter: Option<String>,
}

impl Default for OutputTable {
    fn default() -> Self {
        OutputTable {
            decisions: Some("var/decisions.jsonl".into()),
            stdout: false,
            dead_letter: Some("var/dead-letter.jsonl".into()),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
#[serde(expecting = "struct Http")]
pub struct HttpTable {
    pub enabled: bool,
    pub address: String,
    pub max_connections: i64,
    pub max_body_bytes: i64,
    pub token: Option<String>,
    pub idle_timeout: String,
    pub auth_timeout: String,
}

impl Default for HttpTable {
    fn default() -> Self {
        HttpTable {
            enabled: true,
            address: "127.0.0.1:9184".into(),
            max_connections: MAX_CONNECTIONS,
            max_body_bytes: 4 << 20,
            token: None,
            idle_timeout: IDLE_TIMEOUT.into(),
            auth_timeout: AUTH_TIMEOUT.into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
#[serde(expecting = "struct Pipeline")]
pub struct PipelineTable {
    pub batch_size: i64,
    pub lines_capacity: i64,
    pub events_capacity: i64,
    pub ticks_capacity: i64,
    pub decisions_capacity: i64,
    pub shutdown_grace: String,
}

impl Default for PipelineTable {
    fn default() -> Self {
        /// Every channel's, unless set.
        const CAPACITY: i64 = 64;
        PipelineTable {
            batch_size: 256,
            lines_capacity: CAPACITY,
            events_capacity: CAPACITY,
            ticks_capacity: CAPACITY,
            decisions_capacity: CAPACITY,
            shutdown_grace: "10s".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
#[serde(expecting = "struct Log")]
pub struct LogTable {
    pub enabled: bool,
    pub dir: String,
    pub sync: String,
    pub segment_bytes: i64,
}

impl Default for LogTable {
    fn default() -> Self {
        LogTable {
            enabled: true,
            dir: "var/log".into(),
            sync: "batch".into(),
            segment_bytes: 64 << 20,
        }
    }
}
