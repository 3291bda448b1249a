//! The configuration file as written: serde structs, one per TOML table.
//!
//! Nothing here is trusted. Unknown keys are caught by the loader (see `config::load`)
//! and every cross-reference and range is checked when these become a
//! [`Config`](super::Config).

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Area {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// `domestic` or `neighbor`; checked during validation so that a typo is reported
    /// together with every other error.
    pub kind: String,
}

#[derive(Debug, Deserialize)]
pub struct Plant {
    pub id: String,
    pub area: String,
    pub capacity_mw: f64,
    pub unit_mw: f64,
    #[serde(default)]
    pub min_mw: f64,
    #[serde(default)]
    pub reservoir: Option<Reservoir>,
}

#[derive(Debug, Deserialize)]
pub struct Reservoir {
    pub floor_m: f64,
    pub rule_curve_m: Vec<f64>,
}

#[derive(Debug, Deserialize)]
pub struct Load {
    pub id: String,
    pub area: String,
    pub tier: i64,
    pub class: String,
    #[serde(default)]
    pub peak_mw: Option<f64>,
    #[serde(default)]
    pub max_mw: Option<f64>,
}

#[derive(Debug, Deserialize)]
pub struct DataCenter {
    pub id: String,
    pub area: String,
    pub firm_tier: i64,
    pub flexible_tier: i64,
    #[serde(default)]
    pub capacity_mw: Option<f64>,
}

#[derive(Debug, Deserialize)]
pub struct Line {
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
pub struct Contract {
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
    pub window: Option<Window>,
}

#[derive(Debug, Deserialize)]
pub struct Window {
    pub start: String,
    pub end: String,
}

#[derive(Debug, Deserialize)]
pub struct Reserve {
    pub tier: i64,
    #[serde(default)]
    pub min_mw: f64,
    #[serde(default)]
    pub largest_unit: bool,
    #[serde(default)]
    pub fraction_of_demand: f64,
}

#[derive(Debug, Deserialize)]
pub struct States {
    #[serde(default)]
    pub alert_margin_mw: f64,
    #[serde(default = "States::default_hold")]
    pub hold: String,
}

impl States {
    fn default_hold() -> String {
        "15m".into()
    }
}

impl Default for States {
    fn default() -> Self {
        States {
            alert_margin_mw: 0.0,
            hold: Self::default_hold(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Schedule {
    #[serde(default = "Schedule::default_interval")]
    pub interval: String,
    #[serde(default)]
    pub deadband_mw: f64,
    #[serde(default = "Schedule::default_heartbeat")]
    pub heartbeat: String,
}

impl Schedule {
    fn default_interval() -> String {
        "1s".into()
    }
    fn default_heartbeat() -> String {
        "60s".into()
    }
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            interval: Self::default_interval(),
            deadband_mw: 0.0,
            heartbeat: Self::default_heartbeat(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Time {
    #[serde(default = "Time::default_allowed_lateness")]
    pub allowed_lateness: String,
    #[serde(default = "Time::default_max_ahead")]
    pub max_ahead: String,
}

impl Time {
    fn default_allowed_lateness() -> String {
        "5s".into()
    }
    fn default_max_ahead() -> String {
        "10s".into()
    }
}

impl Default for Time {
    fn default() -> Self {
        Time {
            allowed_lateness: Self::default_allowed_lateness(),
            max_ahead: Self::default_max_ahead(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Simulator {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "Simulator::default_scenario")]
    pub scenario: String,
    #[serde(default = "Simulator::default_seed")]
    pub seed: u64,
}

impl Simulator {
    fn default_scenario() -> String {
        "winter-shortage".into()
    }
    fn default_seed() -> u64 {
        1
    }
}

impl Default for Simulator {
    fn default() -> Self {
        Simulator {
            enabled: false,
            scenario: Self::default_scenario(),
            seed: Self::default_seed(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Tcp {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default = "Tcp::default_address")]
    pub address: String,
    #[serde(default = "Tcp::default_max_connections")]
    pub max_connections: i64,
    #[serde(default = "Tcp::default_max_line_bytes")]
    pub max_line_bytes: i64,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout: String,
    #[serde(default = "default_auth_timeout")]
    pub auth_timeout: String,
}

/// The listeners' default timeouts, the same for `[tcp]` and `[http]`; what each
/// bounds is said on `TcpSource` and `HttpSettings`.
fn default_idle_timeout() -> String {
    "60s".into()
}

fn default_auth_timeout() -> String {
    "5s".into()
}

impl Tcp {
    fn default_address() -> String {
        "127.0.0.1:9185".into()
    }
    fn default_max_connections() -> i64 {
        64
    }
    fn default_max_line_bytes() -> i64 {
        65_536
    }
}

impl Default for Tcp {
    fn default() -> Self {
        Tcp {
            enabled: false,
            address: Self::default_address(),
            max_connections: Self::default_max_connections(),
            max_line_bytes: Self::default_max_line_bytes(),
            token: None,
            idle_timeout: default_idle_timeout(),
            auth_timeout: default_auth_timeout(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Input {
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub stdin: bool,
}

#[derive(Debug, Deserialize)]
pub struct Output {
    #[serde(default)]
    pub decisions: Option<String>,
    #[serde(default)]
    pub stdout: bool,
    #[serde(default)]
    pub dead_letter: Option<String>,
}

impl Default for Output {
    fn default() -> Self {
        Output {
            decisions: Some("var/decisions.jsonl".into()),
            stdout: false,
            dead_letter: Some("var/dead-letter.jsonl".into()),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Http {
    #[serde(default = "Http::default_enabled")]
    pub enabled: bool,
    #[serde(default = "Http::default_address")]
    pub address: String,
    #[serde(default = "Tcp::default_max_connections")]
    pub max_connections: i64,
    #[serde(default = "Http::default_max_body_bytes")]
    pub max_body_bytes: i64,
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout: String,
    #[serde(default = "default_auth_timeout")]
    pub auth_timeout: String,
}

impl Http {
    fn default_enabled() -> bool {
        true
    }
    fn default_address() -> String {
        "127.0.0.1:9184".into()
    }
    fn default_max_body_bytes() -> i64 {
        4 << 20
    }
}

impl Default for Http {
    fn default() -> Self {
        Http {
            enabled: true,
            address: Self::default_address(),
            max_connections: Tcp::default_max_connections(),
            max_body_bytes: Self::default_max_body_bytes(),
            token: None,
            idle_timeout: default_idle_timeout(),
            auth_timeout: default_auth_timeout(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Pipeline {
    #[serde(default = "Pipeline::default_batch_size")]
    pub batch_size: i64,
    #[serde(default = "Pipeline::default_capacity")]
    pub lines_capacity: i64,
    #[serde(default = "Pipeline::default_capacity")]
    pub events_capacity: i64,
    #[serde(default = "Pipeline::default_capacity")]
    pub ticks_capacity: i64,
    #[serde(default = "Pipeline::default_capacity")]
    pub decisions_capacity: i64,
    #[serde(default = "Pipeline::default_grace")]
    pub shutdown_grace: String,
}

impl Pipeline {
    fn default_batch_size() -> i64 {
        256
    }
    fn default_capacity() -> i64 {
        64
    }
    fn default_grace() -> String {
        "10s".into()
    }
}

impl Default for Pipeline {
    fn default() -> Self {
        Pipeline {
            batch_size: Self::default_batch_size(),
            lines_capacity: Self::default_capacity(),
            events_capacity: Self::default_capacity(),
            ticks_capacity: Self::default_capacity(),
            decisions_capacity: Self::default_capacity(),
            shutdown_grace: Self::default_grace(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Log {
    #[serde(default = "Log::default_enabled")]
    pub enabled: bool,
    #[serde(default = "Log::default_dir")]
    pub dir: String,
    #[serde(default = "Log::default_sync")]
    pub sync: String,
    #[serde(default = "Log::default_segment_bytes")]
    pub segment_bytes: i64,
}

impl Log {
    fn default_enabled() -> bool {
        true
    }
    fn default_dir() -> String {
        "var/log".into()
    }
    fn default_sync() -> String {
        "batch".into()
    }
    fn default_segment_bytes() -> i64 {
        64 << 20
    }
}

impl Default for Log {
    fn default() -> Self {
        Log {
            enabled: Self::default_enabled(),
            dir: Self::default_dir(),
            sync: Self::default_sync(),
            segment_bytes: Self::default_segment_bytes(),
        }
    }
}
