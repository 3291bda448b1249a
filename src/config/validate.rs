//! Raw configuration → validated [`Config`]: resolves references to indices, checks
//! ranges, parses durations and addresses, and records every problem it meets.

use super::{
    ConfigError, Daemon, HttpSettings, Output, PipelineSettings, SimulatorSource, TcpSource, parse,
    raw,
};
use crate::config::Config;
use crate::grid::{
    Area, AreaKind, Contract, ContractKind, DataCenter, Firmness, Floor, Grid, Index, Line, Load,
    LoadClass, Plant, Reserve, Reservoir, ScheduleSettings, States, TimeSettings, Window,
};
use crate::log::{LogSettings, SyncPolicy};
use crate::source::sim::Scenario;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

/// The shortest tick but "after every event": every tick the watermark passes is
/// evaluated, so a tick of microseconds would make one event cost millions of
/// schedules and copies of the state.
const MIN_INTERVAL: Duration = Duration::from_millis(10);

/// Tables a configuration may contain; anything else at the top level is unknown.
const SECTIONS: [&str; 17] = [
    "areas",
    "plants",
    "loads",
    "data_centers",
    "lines",
    "contracts",
    "reserve",
    "states",
    "schedule",
    "time",
    "simulator",
    "tcp",
    "input",
    "output",
    "http",
    "pipeline",
    "log",
];

/// Collects errors against key paths while the configuration is checked.
struct Checker<'a> {
    errors: &'a mut Vec<ConfigError>,
}

impl Checker<'_> {
    fn error(&mut self, path: String, value: impl ToString, message: impl Into<String>) {
        self.errors.push(ConfigError {
            path,
            value: Some(value.to_string()),
            message: message.into(),
        });
    }

    fn non_negative(&mut self, path: String, value: f64) -> f64 {
        if !(value.is_finite() && value >= 0.0) {
            self.error(path, value, "must be a finite number of at least 0");
        }
        value
    }

    fn positive(&mut self, path: String, value: f64) -> f64 {
        if !(value.is_finite() && value > 0.0) {
            self.error(path, value, "must be a finite number above 0");
        }
        value
    }

    fn tier(&mut self, path: String, value: i64) -> u32 {
        match u32::try_from(value) {
            Ok(tier) if tier >= 1 => tier,
            _ => {
                self.error(
                    path,
                    value,
                    "a tier is a whole number of at least 1 (1 is served first)",
                );
                1
            }
        }
    }

    fn count(&mut self, path: String, value: i64) -> usize {
        match usize::try_from(value) {
            Ok(n) if n >= 1 => n,
            _ => {
                self.error(path, value, "must be a whole number of at least 1");
                1
            }
        }
    }

    fn duration(&mut self, path: String, text: &str) -> Duration {
        humantime::parse_duration(text).unwrap_or_else(|e| {
            self.error(
                path,
                format!("{text:?}"),
                format!("not a duration ({e}); write e.g. \"1s\", \"15m\""),
            );
            Duration::ZERO
        })
    }

    /// A duration that must be longer than zero: a zero timeout would close every
    /// connection at once.
    fn timeout(&mut self, path: String, text: &str) -> Duration {
        let timeout = self.duration(path.clone(), text);
        if timeout.is_zero() {
            self.error(path, format!("{text:?}"), "must be longer than 0s");
        }
        timeout
    }

    /// An optional bearer token; an empty one would admit anyone who sends an empty
    /// `AUTH` line or header.
    fn token(&mut self, path: String, token: Option<String>) -> Option<String> {
        if token.as_deref() == Some("") {
            self.error(
                path,
                "\"\"",
                "an empty token is not allowed; remove the key to accept connections without one",
            );
        }
        token
    }

    fn address(&mut self, path: String, text: &str) -> SocketAddr {
        text.parse().unwrap_or_else(|_| {
            self.error(
                path,
                format!("{text:?}"),
                "not a socket address; write e.g. \"127.0.0.1:9184\"",
            );
            SocketAddr::from(([127, 0, 0, 1], 0))
        })
    }

    /// Records `id` under `kind`, reporting empty and repeated ids.
    fn register(&mut self, map: &mut HashMap<String, usize>, path: String, id: &str, at: usize) {
        if id.is_empty() {
            self.error(path, "\"\"", "an id must not be empty");
        } else if map.insert(id.to_string(), at).is_some() {
            self.error(path, format!("{id:?}"), "duplicate id");
        }
    }

    fn reference(
        &mut self,
        map: &HashMap<String, usize>,
        path: String,
        id: &str,
        what: &str,
    ) -> Option<usize> {
        let found = map.get(id).copied();
        if found.is_none() {
            self.error(path, format!("{id:?}"), format!("no {what} has this id"));
        }
        found
    }
}

/// Parses every element of the array table `key`, keeping its position in the path.
fn elements<T: serde::de::DeserializeOwned>(
    root: &Map<String, Value>,
    key: &str,
    errors: &mut Vec<ConfigError>,
) -> Vec<(String, Option<T>)> {
    match root.get(key) {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let path = format!("{key}[{i}]");
                let parsed = parse(item, &path, errors);
                (path, parsed)
            })
            .collect(),
        Some(other) => {
            errors.push(ConfigError {
                path: key.into(),
                value: Some(other.to_string()),
                message: format!("expected an array of tables ([[{key}]])"),
            });
            Vec::new()
        }
    }
}

fn table<T: serde::de::DeserializeOwned + Default>(
    root: &Map<String, Value>,
    key: &str,
    errors: &mut Vec<ConfigError>,
) -> T {
    root.get(key)
        .map_or_else(T::default, |v| parse(v, key, errors).unwrap_or_default())
}

pub(super) fn validate(root: &Map<String, Value>, errors: &mut Vec<ConfigError>) -> Option<Config> {
    for key in root.keys() {
        if !SECTIONS.contains(&key.as_str()) {
            errors.push(ConfigError {
                path: key.clone(),
                value: root.get(key).map(Value::to_string),
                message: "unknown key".into(),
            });
        }
    }
    let raw_areas = elements::<raw::Area>(root, "areas", errors);
    let raw_plants = elements::<raw::Plant>(root, "plants", errors);
    let raw_loads = elements::<raw::Load>(root, "loads", errors);
    let raw_dcs = elements::<raw::DataCenter>(root, "data_centers", errors);
    let raw_lines = elements::<raw::Line>(root, "lines", errors);
    let raw_contracts = elements::<raw::Contract>(root, "contracts", errors);
    let raw_reserve: Option<raw::Reserve> = root
        .get("reserve")
        .and_then(|v| parse(v, "reserve", errors));
    let raw_states: raw::States = table(root, "states", errors);
    let raw_schedule: raw::Schedule = table(root, "schedule", errors);
    let raw_time: raw::Time = table(root, "time", errors);
    let raw_simulator: raw::Simulator = table(root, "simulator", errors);
    let raw_tcp: raw::Tcp = table(root, "tcp", errors);
    let raw_input: raw::Input = table(root, "input", errors);
    let raw_output: raw::Output = table(root, "output", errors);
    let raw_http: raw::Http = table(root, "http", errors);
    let raw_pipeline: raw::Pipeline = table(root, "pipeline", errors);
    let raw_log: raw::Log = table(root, "log", errors);

    let mut c = Checker { errors };
    let mut index = Index::default();

    let mut areas = Vec::new();
    for (path, area) in raw_areas.into_iter().filter_map(|(p, a)| Some((p, a?))) {
        let kind = match area.kind.as_str() {
            "domestic" => AreaKind::Domestic,
            "neighbor" => AreaKind::Neighbor,
            other => {
                c.error(
                    format!("{path}.kind"),
                    format!("{other:?}"),
                    "expected \"domestic\" or \"neighbor\"",
                );
                AreaKind::Neighbor
            }
        };
        c.register(
            &mut index.areas,
            format!("{path}.id"),
            &area.id,
            areas.len(),
        );
        areas.push(Area {
            name: area.name.unwrap_or_else(|| area.id.clone()),
            id: area.id,
            kind,
        });
    }
    if !areas.iter().any(|a| a.kind == AreaKind::Domestic) {
        c.errors.push(ConfigError {
            path: "areas".into(),
            value: None,
            message: "at least one area must be of kind \"domestic\"".into(),
        });
    }
    let domestic_area = |c: &mut Checker, path: String, id: &str| -> usize {
        let at = c.reference(&index.areas, path.clone(), id, "area");
        if let Some(at) = at
            && areas[at].kind != AreaKind::Domestic
        {
            c.error(path, format!("{id:?}"), "must be a domestic area");
        }
        at.unwrap_or(0)
    };

    let mut plants = Vec::new();
    let mut plant_ids = HashMap::new();
    for (path, p) in raw_plants.into_iter().filter_map(|(p, a)| Some((p, a?))) {
        c.register(&mut plant_ids, format!("{path}.id"), &p.id, plants.len());
        let area = domestic_area(&mut c, format!("{path}.area"), &p.area);
        let capacity_mw = c.non_negative(format!("{path}.capacity_mw"), p.capacity_mw);
        let unit_mw = c.non_negative(format!("{path}.unit_mw"), p.unit_mw);
        let min_mw = c.non_negative(format!("{path}.min_mw"), p.min_mw);
        let capacity_known = capacity_mw.is_finite() && capacity_mw >= 0.0;
        if capacity_known && unit_mw > capacity_mw {
            c.error(
                format!("{path}.unit_mw"),
                unit_mw,
                format!("larger than capacity_mw ({capacity_mw})"),
            );
        }
        if capacity_known && min_mw > capacity_mw {
            c.error(
                format!("{path}.min_mw"),
                min_mw,
                format!("larger than capacity_mw ({capacity_mw})"),
            );
        }
        let reservoir = p.reservoir.map(|r| {
            let floor_m = r.floor_m;
            if !floor_m.is_finite() {
                c.error(
                    format!("{path}.reservoir.floor_m"),
                    floor_m,
                    "must be a finite level",
                );
            }
            let mut rule_curve_m = [floor_m; 12];
            if r.rule_curve_m.len() != 12 {
                c.error(
                    format!("{path}.reservoir.rule_curve_m"),
                    format!("{:?}", r.rule_curve_m),
                    format!(
                        "needs 12 monthly levels, January first (found {})",
                        r.rule_curve_m.len()
                    ),
                );
            } else {
                for (month, level) in r.rule_curve_m.iter().enumerate() {
                    if !level.is_finite() {
                        c.error(
                            format!("{path}.reservoir.rule_curve_m[{month}]"),
                            level,
                            "must be a finite level",
                        );
                    }
                    rule_curve_m[month] = *level;
                }
            }
            Reservoir {
                floor_m,
                rule_curve_m,
            }
        });
        plants.push(Plant {
            id: p.id,
            area,
            capacity_mw,
            unit_mw,
            min_mw,
            reservoir,
        });
    }
    index.plants = plant_ids;

    // What no single load can exceed when it declares no bound of its own.
    let installed_mw: f64 = plants.iter().map(|p| p.capacity_mw).sum();
    let mut loads = Vec::new();
    for (path, l) in raw_loads.into_iter().filter_map(|(p, a)| Some((p, a?))) {
        c.register(&mut index.loads, format!("{path}.id"), &l.id, loads.len());
        let area = domestic_area(&mut c, format!("{path}.area"), &l.area);
        let tier = c.tier(format!("{path}.tier"), l.tier);
        let class = match l.class.as_str() {
            "essential" => LoadClass::Essential,
            "residential" => LoadClass::Residential,
            "industrial" => LoadClass::Industrial,
            "other" => LoadClass::Other,
            other => {
                c.error(
                    format!("{path}.class"),
                    format!("{other:?}"),
                    "expected \"essential\", \"residential\", \"industrial\" or \"other\"",
                );
                LoadClass::Other
            }
        };
        let peak_mw = l
            .peak_mw
            .map(|v| c.non_negative(format!("{path}.peak_mw"), v));
        let max_mw = l
            .max_mw
            .map_or(installed_mw, |v| c.positive(format!("{path}.max_mw"), v));
        loads.push(Load {
            id: l.id,
            area,
            tier,
            class,
            peak_mw,
            max_mw,
        });
    }

    let mut data_centers = Vec::new();
    for (path, d) in raw_dcs.into_iter().filter_map(|(p, a)| Some((p, a?))) {
        c.register(
            &mut index.data_centers,
            format!("{path}.id"),
            &d.id,
            data_centers.len(),
        );
        if index.loads.contains_key(&d.id) {
            c.error(
                format!("{path}.id"),
                format!("{:?}", d.id),
                "a load already has this id",
            );
        }
        let area = domestic_area(&mut c, format!("{path}.area"), &d.area);
        let firm_tier = c.tier(format!("{path}.firm_tier"), d.firm_tier);
        let flexible_tier = c.tier(format!("{path}.flexible_tier"), d.flexible_tier);
        let capacity_mw = d
            .capacity_mw
            .map(|v| c.non_negative(format!("{path}.capacity_mw"), v));
        data_centers.push(DataCenter {
            id: d.id,
            area,
            firm_tier,
            flexible_tier,
            capacity_mw,
        });
    }

    let mut lines = Vec::new();
    for (path, l) in raw_lines.into_iter().filter_map(|(p, a)| Some((p, a?))) {
        c.register(&mut index.lines, format!("{path}.id"), &l.id, lines.len());
        let from = c.reference(&index.areas, format!("{path}.from"), &l.from, "area");
        let to = c.reference(&index.areas, format!("{path}.to"), &l.to, "area");
        if from.is_some() && from == to {
            c.error(
                format!("{path}.to"),
                format!("{:?}", l.to),
                "a line must join two different areas",
            );
        }
        let capacity_mw = c.non_negative(format!("{path}.capacity_mw"), l.capacity_mw);
        let reverse_capacity_mw =
            c.non_negative(format!("{path}.reverse_capacity_mw"), l.reverse_capacity_mw);
        if !(0.0..1.0).contains(&l.loss_fraction) {
            c.error(
                format!("{path}.loss_fraction"),
                l.loss_fraction,
                "must be at least 0 and below 1",
            );
        }
        let ramp_mw_per_min = c.non_negative(format!("{path}.ramp_mw_per_min"), l.ramp_mw_per_min);
        lines.push(Line {
            id: l.id,
            from: from.unwrap_or(0),
            to: to.unwrap_or(0),
            capacity_mw,
            reverse_capacity_mw,
            loss_fraction: l.loss_fraction,
            ramp_mw_per_min,
        });
    }

    let mut contracts = Vec::new();
    for (path, k) in raw_contracts.into_iter().filter_map(|(p, a)| Some((p, a?))) {
        c.register(
            &mut index.contracts,
            format!("{path}.id"),
            &k.id,
            contracts.len(),
        );
        let from = c.reference(&index.areas, format!("{path}.from"), &k.from, "area");
        let to = c.reference(&index.areas, format!("{path}.to"), &k.to, "area");
        let kind = match (from.map(|a| areas[a].kind), to.map(|a| areas[a].kind)) {
            (Some(AreaKind::Domestic), Some(AreaKind::Neighbor)) => ContractKind::Export,
            (Some(AreaKind::Neighbor), Some(AreaKind::Neighbor)) if from != to => {
                ContractKind::Transit
            }
            (Some(AreaKind::Neighbor), Some(AreaKind::Domestic)) => {
                c.error(
                    format!("{path}.from"),
                    format!("{:?}", k.from),
                    "import offers (neighbor to domestic) are not scheduled yet",
                );
                ContractKind::Export
            }
            (Some(_), Some(_)) => {
                c.error(
                    format!("{path}.to"),
                    format!("{:?}", k.to),
                    "a contract runs from a domestic area to a neighbor (export) or between two different neighbors (transit)",
                );
                ContractKind::Export
            }
            _ => ContractKind::Export,
        };
        let firmness = match k.firmness.as_str() {
            "firm" => Firmness::Firm,
            "non_firm" => Firmness::NonFirm,
            other => {
                c.error(
                    format!("{path}.firmness"),
                    format!("{other:?}"),
                    "expected \"firm\" or \"non_firm\"",
                );
                Firmness::NonFirm
            }
        };
        let tier = c.tier(format!("{path}.tier"), k.tier);
        let max_mw = c.non_negative(format!("{path}.max_mw"), k.max_mw);
        let floor = match (k.floor_mw, k.floor_tier) {
            (None, None) => None,
            (Some(mw), Some(floor_tier)) => {
                let mw = c.non_negative(format!("{path}.floor_mw"), mw);
                if max_mw >= 0.0 && mw > max_mw {
                    c.error(
                        format!("{path}.floor_mw"),
                        mw,
                        format!("larger than max_mw ({max_mw})"),
                    );
                }
                Some(Floor {
                    mw,
                    tier: c.tier(format!("{path}.floor_tier"), floor_tier),
                })
            }
            (Some(mw), None) => {
                c.error(format!("{path}.floor_mw"), mw, "needs floor_tier as well");
                None
            }
            (None, Some(t)) => {
                c.error(format!("{path}.floor_tier"), t, "needs floor_mw as well");
                None
            }
        };
        let window = k.window.map(|w| Window {
            start: month_day(&mut c, format!("{path}.window.start"), &w.start),
            end: month_day(&mut c, format!("{path}.window.end"), &w.end),
        });
        contracts.push(Contract {
            id: k.id,
            from: from.unwrap_or(0),
            to: to.unwrap_or(0),
            kind,
            firmness,
            tier,
            max_mw,
            floor,
            window,
        });
    }

    let reserve = raw_reserve.map(|r| {
        let tier = c.tier("reserve.tier".into(), r.tier);
        let min_mw = c.non_negative("reserve.min_mw".into(), r.min_mw);
        if !(0.0..=1.0).contains(&r.fraction_of_demand) {
            c.error(
                "reserve.fraction_of_demand".into(),
                r.fraction_of_demand,
                "must be between 0 and 1",
            );
        }
        Reserve {
            tier,
            min_mw,
            largest_unit: r.largest_unit,
            fraction_of_demand: r.fraction_of_demand,
        }
    });
    let states = States {
        alert_margin_mw: c
            .non_negative("states.alert_margin_mw".into(), raw_states.alert_margin_mw),
        hold: c.duration("states.hold".into(), &raw_states.hold),
    };
    let schedule = ScheduleSettings {
        interval: c.duration("schedule.interval".into(), &raw_schedule.interval),
        deadband_mw: c.non_negative("schedule.deadband_mw".into(), raw_schedule.deadband_mw),
        heartbeat: c.duration("schedule.heartbeat".into(), &raw_schedule.heartbeat),
    };
    if !schedule.interval.is_zero() && schedule.interval < MIN_INTERVAL {
        c.error(
            "schedule.interval".into(),
            format!("{:?}", raw_schedule.interval),
            format!(
                "must be \"0s\" (after every event) or at least {}",
                humantime::format_duration(MIN_INTERVAL)
            ),
        );
    }
    if schedule.heartbeat.is_zero() {
        c.error(
            "schedule.heartbeat".into(),
            format!("{:?}", raw_schedule.heartbeat),
            "must be longer than 0s",
        );
    }
    let time = TimeSettings {
        allowed_lateness: c.duration("time.allowed_lateness".into(), &raw_time.allowed_lateness),
        max_ahead: c.duration("time.max_ahead".into(), &raw_time.max_ahead),
    };

    let simulator = raw_simulator.enabled.then(|| {
        if Scenario::from_name(&raw_simulator.scenario).is_none() {
            c.error(
                "simulator.scenario".into(),
                format!("{:?}", raw_simulator.scenario),
                format!("unknown scenario; known: {}", Scenario::NAMES.join(", ")),
            );
        }
        SimulatorSource {
            scenario: raw_simulator.scenario,
            seed: raw_simulator.seed,
        }
    });
    let tcp = raw_tcp.enabled.then(|| TcpSource {
        address: c.address("tcp.address".into(), &raw_tcp.address),
        max_connections: c.count("tcp.max_connections".into(), raw_tcp.max_connections),
        max_line_bytes: c.count("tcp.max_line_bytes".into(), raw_tcp.max_line_bytes),
        token: c.token("tcp.token".into(), raw_tcp.token),
        idle_timeout: c.timeout("tcp.idle_timeout".into(), &raw_tcp.idle_timeout),
        auth_timeout: c.timeout("tcp.auth_timeout".into(), &raw_tcp.auth_timeout),
    });
    let http = raw_http.enabled.then(|| HttpSettings {
        address: c.address("http.address".into(), &raw_http.address),
        max_connections: c.count("http.max_connections".into(), raw_http.max_connections),
        max_body_bytes: c.count("http.max_body_bytes".into(), raw_http.max_body_bytes),
        token: c.token("http.token".into(), raw_http.token),
        idle_timeout: c.timeout("http.idle_timeout".into(), &raw_http.idle_timeout),
        auth_timeout: c.timeout("http.auth_timeout".into(), &raw_http.auth_timeout),
    });
    let pipeline = PipelineSettings {
        batch_size: c.count("pipeline.batch_size".into(), raw_pipeline.batch_size),
        lines_capacity: c.count(
            "pipeline.lines_capacity".into(),
            raw_pipeline.lines_capacity,
        ),
        events_capacity: c.count(
            "pipeline.events_capacity".into(),
            raw_pipeline.events_capacity,
        ),
        ticks_capacity: c.count(
            "pipeline.ticks_capacity".into(),
            raw_pipeline.ticks_capacity,
        ),
        decisions_capacity: c.count(
            "pipeline.decisions_capacity".into(),
            raw_pipeline.decisions_capacity,
        ),
        shutdown_grace: c.duration(
            "pipeline.shutdown_grace".into(),
            &raw_pipeline.shutdown_grace,
        ),
    };
    let log = raw_log.enabled.then(|| LogSettings {
        dir: raw_log.dir.into(),
        sync: match raw_log.sync.as_str() {
            "batch" => SyncPolicy::EachBatch,
            every => {
                let period = c.duration("log.sync".into(), every);
                if period.is_zero() {
                    c.error(
                        "log.sync".into(),
                        format!("{every:?}"),
                        "write \"batch\" or a period such as \"100ms\"",
                    );
                }
                SyncPolicy::Every(period)
            }
        },
        segment_bytes: c.count("log.segment_bytes".into(), raw_log.segment_bytes) as u64,
    });
    let daemon = Daemon {
        simulator,
        tcp,
        files: raw_input.files.into_iter().map(Into::into).collect(),
        stdin: raw_input.stdin,
        output: Output {
            decisions: raw_output.decisions.map(Into::into),
            stdout: raw_output.stdout,
            dead_letter: raw_output.dead_letter.map(Into::into),
        },
        http,
        pipeline,
        log,
    };
    let grid = Grid {
        areas,
        plants,
        installed_mw,
        loads,
        data_centers,
        lines,
        contracts,
        reserve,
        states,
        schedule,
        time,
        index,
    };
    Some(Config { grid, daemon })
}

/// Parses `"MM-DD"`.
fn month_day(c: &mut Checker, path: String, text: &str) -> (u32, u32) {
    let parsed = text.split_once('-').and_then(|(m, d)| {
        let (m, d) = (m.parse::<u32>().ok()?, d.parse::<u32>().ok()?);
        let days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        ((1..=12).contains(&m) && d >= 1 && d <= days[m as usize - 1]).then_some((m, d))
    });
    parsed.unwrap_or_else(|| {
        c.error(
            path,
            format!("{text:?}"),
            "expected a day of the year as \"MM-DD\"",
        );
        (1, 1)
    })
}
