//! Configuration: the grid model and the daemon's own settings, loaded from TOML with
//! `VAKHSH__SECTION__KEY` environment overrides.
//!
//! Loading has two layers. [`raw`] mirrors the file; [`validate`] turns it into a
//! [`Config`] whose references are indices and whose values are in range. Every
//! problem found on the way — unknown key, wrong type, dangling reference, value out
//! of range — is collected, so that `vakhsh check-config` reports them all at once.

mod raw;
mod validate;

use crate::grid::Grid;
use crate::source::sim::SimulatorSettings;
use crate::source::tcp::TcpSettings;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub grid: Grid,
    pub daemon: Daemon,
}

/// Where events come from and where decisions go.
#[derive(Debug, Clone)]
pub struct Daemon {
    /// Read by `vakhsh simulate` as well; the live simulator runs when it is enabled.
    pub simulator: SimulatorSettings,
    pub tcp: Option<TcpSettings>,
    /// JSON Lines files read once, in order, at start.
    pub files: Vec<PathBuf>,
    pub stdin: bool,
    pub output: OutputSettings,
    /// `None` when the HTTP endpoint is disabled.
    pub http: Option<HttpSettings>,
    pub pipeline: PipelineSettings,
    /// Where accepted events are recorded; `None` when recording is off.
    pub log: Option<crate::log::LogSettings>,
}

/// The HTTP endpoint and the limits that keep one client from holding it.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub address: SocketAddr,
    pub max_connections: usize,
    /// A larger `POST /v1/events` body is refused with 413 before it is decoded.
    pub max_body_bytes: usize,
    /// When set, `/v1/*` requires `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// A request body must arrive whole within this.
    pub idle_timeout: Duration,
    /// A request's head, its `Authorization` header included, must arrive within
    /// this; an idle keep-alive connection is closed after it too.
    pub auth_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct OutputSettings {
    pub decisions: Option<PathBuf>,
    pub stdout: bool,
    pub dead_letter: Option<PathBuf>,
}

/// Capacities of the bounded channels between stages, and batch size on hot edges.
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    pub batch_size: usize,
    pub lines_capacity: usize,
    pub events_capacity: usize,
    pub ticks_capacity: usize,
    pub decisions_capacity: usize,
    /// How long shutdown may take to drain before the process gives up and exits.
    pub shutdown_grace: Duration,
}

/// One configuration problem: where it is, what was there, what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub path: String,
    pub value: Option<String>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "{} = {}: {}", self.path, value, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// Every problem found in a configuration.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "{n} configuration error{}",
            if n == 1 { "" } else { "s" }
        )?;
        for error in &self.0 {
            write!(f, "\n  {error}")?;
        }
        Ok(())
    }
}

/// Loads `path`, applies `VAKHSH__SECTION__KEY` environment overrides, and validates.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let environment = config::Environment::with_prefix("VAKHSH")
        .prefix_separator("__")
        .separator("__")
        .try_parsing(true);
    let tree = config::Config::builder()
        .add_source(config::File::from(path).format(config::FileFormat::Toml))
        .add_source(environment)
        .build()
        .and_then(|c| c.try_deserialize::<Value>())
        .map_err(|e| {
            ConfigErrors(vec![ConfigError {
                path: path.display().to_string(),
                value: None,
                message: e.to_string(),
            }])
        })?;
    from_value(&tree)
}

/// Validates an already-parsed configuration tree.
pub fn from_value(tree: &Value) -> Result<Config, ConfigErrors> {
    let mut errors = Vec::new();
    let Some(root) = tree.as_object() else {
        return Err(ConfigErrors(vec![ConfigError {
            path: "(root)".into(),
            value: None,
            message: "expected a table".into(),
        }]));
    };
    let config = validate::validate(root, &mut errors);
    let mut reported = std::collections::HashSet::new();
    errors.retain(|e| reported.insert(e.path.clone()));
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(ConfigErrors(errors))
    }
}

/// Deserializes one table, recording every key serde ignored as unknown and every
/// value of the wrong type with its full key path.
///
/// serde stops at the first type error, so after recording one the bad value is
/// replaced by a placeholder of a type that fits and parsing goes on: the other
/// fields of the same table still get checked. Placeholders are chosen to fail
/// validation at their own path (-1, "", …), where [`from_value`] keeps only the
/// first error, the type error; so they add nothing to the report.
fn parse<T: DeserializeOwned>(
    value: &Value,
    path: &str,
    errors: &mut Vec<ConfigError>,
) -> Option<T> {
    let mut patched = value.clone();
    let mut masked = Vec::new();
    loop {
        let mut unknown = Vec::new();
        let result: Result<T, _> = serde_path_to_error::deserialize(
            serde_ignored::Deserializer::new(&patched, &mut |ignored: serde_ignored::Path| {
                unknown.push(ignored.to_string())
            }),
        );
        if masked.is_empty() {
            for key in unknown {
                errors.push(ConfigError {
                    value: lookup(value, &key).map(Value::to_string),
                    path: join(path, &key),
                    message: "unknown key".into(),
                });
            }
        }
        let error = match result {
            Ok(parsed) => return Some(parsed),
            Err(error) => error,
        };
        let inner = error.path().to_string();
        if masked.contains(&inner) {
            return None;
        }
        errors.push(ConfigError {
            path: join(path, &inner),
            value: lookup(value, &inner).map(Value::to_string),
            message: error.into_inner().to_string(),
        });
        let placeholder = [json!(-1), json!(""), json!(false), json!([]), json!({})]
            .into_iter()
            .find(|p| {
                let mut trial = patched.clone();
                match lookup_mut(&mut trial, &inner) {
                    Some(slot) => *slot = p.clone(),
                    None => return false,
                }
                serde_path_to_error::deserialize::<_, T>(&trial)
                    .map_or_else(|e| e.path().to_string() != inner, |_| true)
            });
        match (placeholder, lookup_mut(&mut patched, &inner)) {
            (Some(placeholder), Some(slot)) => *slot = placeholder,
            _ => return None,
        }
        masked.push(inner);
    }
}

fn join(path: &str, inner: &str) -> String {
    match inner {
        "" | "." => path.to_string(),
        _ if inner.starts_with('[') => format!("{path}{inner}"),
        _ => format!("{path}.{inner}"),
    }
}

/// One step of a serde path such as `reservoir.rule_curve_m[3]`: a key, or an index
/// (`None` when it is not a number, which no value can be found at).
enum Step<'a> {
    Key(&'a str),
    Index(Option<usize>),
}

fn steps(path: &str) -> impl Iterator<Item = Step<'_>> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .flat_map(|segment| {
            let (key, indices) = match segment.find('[') {
                Some(at) => (&segment[..at], &segment[at..]),
                None => (segment, ""),
            };
            let indices = indices
                .split(['[', ']'])
                .filter(|s| !s.is_empty())
                .map(|index| Step::Index(index.parse().ok()));
            (!key.is_empty())
                .then_some(Step::Key(key))
                .into_iter()
                .chain(indices)
        })
}

/// Follows a serde path into a JSON tree.
fn lookup<'a>(mut value: &'a Value, path: &str) -> Option<&'a Value> {
    for step in steps(path) {
        value = match step {
            Step::Key(key) => value.get(key)?,
            Step::Index(index) => value.get(index?)?,
        };
    }
    Some(value)
}

fn lookup_mut<'a>(mut value: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    for step in steps(path) {
        value = match step {
            Step::Key(key) => value.get_mut(key)?,
            Step::Index(index) => value.get_mut(index?)?,
        };
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_shipped_configuration_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                seen += 1;
            }
        }
        assert!(seen >= 1);
    }

    #[test]
    fn a_written_table_takes_the_keys_it_leaves_out_from_the_defaults() {
        let tree = json!({
            "areas": [{"id": "a", "kind": "domestic"}],
            "states": {"alert_margin_mw": 5.0},
            "tcp": {"enabled": true},
            "output": {"stdout": true},
        });
        let config = from_value(&tree).unwrap();
        assert_eq!(config.grid.states.hold, Duration::from_secs(15 * 60));
        let tcp = config.daemon.tcp.unwrap();
        assert_eq!((tcp.max_connections, tcp.max_line_bytes), (64, 65_536));
        assert_eq!(tcp.idle_timeout, Duration::from_secs(60));
        assert!(config.daemon.http.is_some() && config.daemon.log.is_some());
        // A written `[output]` names every file it writes.
        assert_eq!(config.daemon.output.decisions, None);
        assert_eq!(config.daemon.output.dead_letter, None);
    }

    #[test]
    fn full_m_is_a_finite_level_above_the_floor_and_every_month_of_the_curve() {
        let grid = |full_m: Value| {
            let mut curve = vec![880.0; 12];
            curve[7] = 908.0;
            json!({
                "areas": [{"id": "a", "kind": "domestic"}],
                "plants": [{"id": "p", "area": "a", "capacity_mw": 100.0, "unit_mw": 50.0,
                    "reservoir": {"floor_m": 857.0, "rule_curve_m": curve, "full_m": full_m}}],
            })
        };
        let errors = |full_m: Value| match from_value(&grid(full_m)) {
            Ok(_) => Vec::new(),
            Err(ConfigErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
        };
        assert_eq!(errors(json!(910.0)), Vec::<String>::new());
        assert_eq!(errors(json!(908.0)), Vec::<String>::new());
        let config = from_value(&grid(json!(910.0))).unwrap();
        let reservoir = config.grid.plants[0].reservoir.as_ref().unwrap();
        assert_eq!(reservoir.full_m, Some(910.0));
        assert_eq!(
            errors(json!(900.0)),
            ["plants[0].reservoir.full_m = 900: below rule_curve_m[7] (908)"]
        );
        assert_eq!(
            errors(json!(857.0)),
            ["plants[0].reservoir.full_m = 857: must be above floor_m (857)"]
        );
        // Without the key the reservoir is never full.
        let mut tree = grid(json!(910.0));
        tree["plants"][0]["reservoir"]
            .as_object_mut()
            .unwrap()
            .remove("full_m");
        let config = from_value(&tree).unwrap();
        assert_eq!(
            config.grid.plants[0].reservoir.as_ref().unwrap().full_m,
            None
        );
    }

    #[test]
    fn a_river_names_an_existing_plant_above_without_a_circle() {
        let grid = |plants: Value, simulator: Value| {
            json!({
                "areas": [{"id": "a", "kind": "domestic"}],
                "plants": plants,
                "simulator": simulator,
            })
        };
        let plant = |id: &str, river: Value| json!({"id": id, "area": "a", "capacity_mw": 100.0, "unit_mw": 50.0, "river": river});
        let errors = |tree: Value| match from_value(&tree) {
            Ok(_) => Vec::new(),
            Err(ConfigErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
        };
        let tens = vec![10.0; 12];
        let head = json!({"rated_flow_m3s": 200.0, "inflow_m3s": tens});
        let below =
            |above: &str| json!({"rated_flow_m3s": 250.0, "downstream_of": above, "travel": "2h"});
        // The plant above may come later in the file.
        let ok = grid(
            json!([plant("low", below("top")), plant("top", head.clone())]),
            json!({}),
        );
        let config = from_value(&ok).unwrap();
        let river = config.grid.plants[0].river.as_ref().unwrap();
        assert_eq!(river.downstream_of, Some(1));
        assert_eq!(river.travel, Duration::from_secs(7200));
        assert_eq!(
            config.grid.plants[1].river.as_ref().unwrap().inflow_m3s,
            [10.0; 12]
        );
        assert_eq!(
            errors(grid(json!([plant("low", below("nowhere"))]), json!({}))),
            ["plants[0].river.downstream_of = \"nowhere\": no plant has this id"]
        );
        assert_eq!(
            errors(grid(
                json!([plant("a", below("b")), plant("b", below("a"))]),
                json!({})
            )),
            ["plants[1].river.downstream_of = \"a\": the river would flow in a circle"]
        );
        assert_eq!(
            errors(grid(json!([plant("a", below("a"))]), json!({}))),
            ["plants[0].river.downstream_of = \"a\": the river would flow in a circle"]
        );
        let dry = json!({"id": "dry", "area": "a", "capacity_mw": 10.0, "unit_mw": 5.0});
        assert_eq!(
            errors(grid(json!([dry, plant("b", below("dry"))]), json!({}))),
            ["plants[1].river.downstream_of = \"dry\": names a plant without [plants.river]"]
        );
        let slow = json!({"rated_flow_m3s": 0.0, "inflow_m3s": [1.0], "travel": "3d"});
        assert_eq!(
            errors(grid(json!([plant("p", slow)]), json!({}))),
            [
                "plants[0].river.rated_flow_m3s = 0: must be a finite number above 0",
                "plants[0].river.inflow_m3s = [1.0]: needs 12 monthly flows, January first (found 1)",
                "plants[0].river.travel = \"3d\": a travel time needs downstream_of",
            ]
        );
        let far = json!({"rated_flow_m3s": 1.0, "downstream_of": "top", "travel": "3d"});
        assert_eq!(
            errors(grid(
                json!([plant("top", head.clone()), plant("p", far)]),
                json!({})
            )),
            ["plants[1].river.travel = \"3d\": at most 48h"]
        );
        // The knob is checked whether or not the live simulator runs.
        assert_eq!(
            errors(grid(json!([]), json!({"inflow_share": 0.0}))),
            [
                "simulator.inflow_share = 0: a share of a normal year's inflow: write a number above 0 and at most 2"
            ]
        );
        let knobs = from_value(&grid(json!([]), json!({"inflow_share": 0.7}))).unwrap();
        assert_eq!(knobs.daemon.simulator.knobs.inflow_share, Some(0.7));
    }

    #[test]
    fn a_plant_is_hydro_unless_it_says_thermal_and_a_thermal_plant_has_no_water() {
        let grid =
            |plant: Value| json!({"areas": [{"id": "a", "kind": "domestic"}], "plants": [plant]});
        let errors = |tree: Value| match from_value(&tree) {
            Ok(_) => Vec::new(),
            Err(ConfigErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
        };
        let base = json!({"id": "p", "area": "a", "capacity_mw": 400.0, "unit_mw": 150.0});
        let kind = |tree: Value| from_value(&tree).unwrap().grid.plants[0].kind;
        assert_eq!(kind(grid(base.clone())), crate::grid::PlantKind::Hydro);
        let mut thermal = base.clone();
        thermal["kind"] = json!("thermal");
        assert_eq!(kind(grid(thermal.clone())), crate::grid::PlantKind::Thermal);
        let mut nuclear = base.clone();
        nuclear["kind"] = json!("nuclear");
        assert_eq!(
            errors(grid(nuclear)),
            ["plants[0].kind = \"nuclear\": expected \"hydro\" or \"thermal\""]
        );
        thermal["river"] = json!({"rated_flow_m3s": 10.0});
        assert_eq!(
            errors(grid(thermal)),
            ["plants[0].river: a thermal plant has no water: remove the table or the kind"]
        );
    }

    #[test]
    fn a_tariff_is_a_finite_price_of_at_least_zero() {
        let grid = |tariff: Option<Value>| {
            let mut contract = json!({"id": "casa", "from": "a", "to": "n",
                "firmness": "firm", "tier": 3, "max_mw": 100.0});
            if let Some(tariff) = tariff {
                contract["tariff_usd_per_mwh"] = tariff;
            }
            json!({
                "areas": [{"id": "a", "kind": "domestic"}, {"id": "n", "kind": "neighbor"}],
                "contracts": [contract],
            })
        };
        let errors = |tree: Value| match from_value(&tree) {
            Ok(_) => Vec::new(),
            Err(ConfigErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
        };
        let tariff = |tree: Value| from_value(&tree).unwrap().grid.contracts[0].tariff_usd_per_mwh;
        assert_eq!(tariff(grid(None)), None);
        assert_eq!(tariff(grid(Some(json!(93.5)))), Some(93.5));
        assert_eq!(tariff(grid(Some(json!(0.0)))), Some(0.0));
        assert_eq!(
            errors(grid(Some(json!(-1.5)))),
            ["contracts[0].tariff_usd_per_mwh = -1.5: must be a finite number of at least 0"]
        );
        assert_eq!(errors(grid(Some(json!("cheap")))).len(), 1);
    }

    #[test]
    fn scenario_knobs_are_checked_against_the_grid_whether_or_not_the_simulator_runs() {
        let tree = |simulator: Value| {
            json!({
                "areas": [{"id": "a", "kind": "domestic"}, {"id": "b", "kind": "domestic"}],
                "loads": [{"id": "smelter", "area": "a", "tier": 2, "class": "industrial",
                    "profile": "flat"}],
                "data_centers": [{"id": "dc", "area": "b", "firm_tier": 2, "flexible_tier": 3,
                    "capacity_mw": 100, "size_mw": 2}],
                "lines": [
                    {"id": "small", "from": "a", "to": "b", "capacity_mw": 50},
                    {"id": "big", "from": "b", "to": "a", "capacity_mw": 900},
                    {"id": "twin", "from": "a", "to": "b", "capacity_mw": 900}
                ],
                "simulator": simulator,
            })
        };
        let errors = |simulator: Value| match from_value(&tree(simulator)) {
            Ok(_) => Vec::new(),
            Err(ConfigErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
        };
        let config = from_value(&tree(json!({}))).unwrap();
        let sim = &config.daemon.simulator;
        assert!(!sim.enabled);
        assert_eq!(config.grid.loads[0].profile, crate::grid::LoadProfile::Flat);
        assert_eq!(config.grid.data_centers[0].size_mw, Some(2.0));
        let k = &sim.knobs;
        assert_eq!(
            (k.growth.site, k.growth.from_mw, k.growth.to_mw),
            (None, None, None)
        );
        assert_eq!(k.growth.over, Duration::from_secs(2 * 86_400));
        // The line of greatest capacity, the first of them.
        assert_eq!(k.trip.line, Some(1));
        assert_eq!(k.trip.at_s, 14 * 3600 + 30 * 60);
        assert_eq!(k.trip.duration, Duration::from_secs(3600));
        assert_eq!(k.dc_trips_per_week, 3.0);
        let config = from_value(&tree(
            json!({"line_trip_line": "twin", "line_trip_at": "07:05",
            "dc_growth_site": "dc", "dc_growth_to_mw": 80.0}),
        ))
        .unwrap();
        let k = &config.daemon.simulator.knobs;
        assert_eq!((k.trip.line, k.trip.at_s), (Some(2), 7 * 3600 + 5 * 60));
        assert_eq!((k.growth.site, k.growth.to_mw), (Some(0), Some(80.0)));

        assert_eq!(
            errors(json!({"dc_growth_site": "hall-9", "line_trip_line": "nowhere"})),
            [
                r#"simulator.dc_growth_site = "hall-9": no data center has this id"#,
                r#"simulator.line_trip_line = "nowhere": no line has this id"#
            ]
        );
        assert_eq!(
            errors(json!({"dc_growth_to_mw": 150.0, "dc_growth_from_mw": 0.0})),
            [
                "simulator.dc_growth_from_mw = 0: must be a finite number above 0",
                r#"simulator.dc_growth_to_mw = 150: above the capacity_mw (100) of data center "dc""#
            ]
        );
        for at in ["24:00", "2pm", "9:30", "12:60"] {
            assert_eq!(
                errors(json!({ "line_trip_at": at })),
                [format!(
                    "simulator.line_trip_at = {at:?}: expected a local time of day as \"HH:MM\" (UTC+5), e.g. \"14:30\""
                )]
            );
        }
        assert_eq!(
            errors(json!({"line_trip_for": "0s", "dc_growth_over": "soon"})).len(),
            2
        );
        assert_eq!(
            errors(json!({"dc_trips_per_week": -1.0})),
            ["simulator.dc_trips_per_week = -1: write a rate from 0 to 604800 (one a second)"]
        );
        let mut bad = tree(json!({}));
        bad["loads"][0]["profile"] = json!("shift");
        bad["data_centers"][0]["size_mw"] = json!(120);
        let errors: Vec<String> = match from_value(&bad) {
            Ok(_) => Vec::new(),
            Err(ConfigErrors(errors)) => errors.iter().map(ToString::to_string).collect(),
        };
        assert_eq!(
            errors,
            [
                r#"loads[0].profile = "shift": expected "class" (its class's daily shape) or "flat" (round the clock)"#,
                "data_centers[0].size_mw = 120: larger than capacity_mw (100)"
            ]
        );
    }

    #[test]
    fn an_import_offer_runs_from_a_neighbor_to_a_domestic_area_without_a_floor() {
        use crate::grid::ContractKind;
        let grid = |extra: Value| {
            let mut contract = json!({"id": "uz-in", "from": "n", "to": "a",
                "firmness": "firm", "tier": 2, "max_mw": 300.0, "tariff_usd_per_mwh": 41.0});
            for (key, value) in extra.as_object().unwrap() {
                contract[key] = value.clone();
            }
            json!({
                "areas": [{"id": "a", "kind": "domestic"}, {"id": "n", "kind": "neighbor"}],
                "contracts": [contract],
            })
        };
        let config = from_value(&grid(json!({}))).unwrap();
        assert_eq!(config.grid.contracts[0].kind, ContractKind::Import);
        assert_eq!(config.grid.contracts[0].tariff_usd_per_mwh, Some(41.0));
        let Err(ConfigErrors(errors)) = from_value(&grid(json!({"floor_mw": 50, "floor_tier": 1})))
        else {
            panic!("a floor on an import offer is refused");
        };
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let why = "an import offer (neighbor to domestic) is a source and has no floor";
        assert_eq!(
            errors,
            [
                format!("contracts[0].floor_mw = 50: {why}"),
                format!("contracts[0].floor_tier = 1: {why}"),
            ]
        );
        // Domestic to domestic is still no contract.
        let mut tree = grid(json!({}));
        tree["areas"][1]["kind"] = json!("domestic");
        assert!(from_value(&tree).is_err());
    }

    #[test]
    fn lookup_follows_nested_paths() {
        let tree = json!({"a": {"b": [1, {"c": 2}]}});
        assert_eq!(lookup(&tree, "a.b[1].c"), Some(&json!(2)));
        assert_eq!(lookup(&tree, "a.x"), None);
        assert_eq!(lookup(&tree, "a.b[x]"), None);
    }
}
