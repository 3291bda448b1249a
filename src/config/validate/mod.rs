//! Raw configuration → validated [`Config`]: resolves references to indices, checks
//! ranges, parses durations and addresses, and records every problem it meets.
//!
//! Every section is parsed first, so that wrong types and unknown keys head the report,
//! then checked by its own `check_<section>`, in the order of [`SECTIONS`]: the grid's
//! objects in [`grid`] and [`contracts`], the rules they are run by in [`rules`], the
//! daemon's settings in [`daemon`], all with the shared checks of [`checker`].

mod checker;
mod contracts;
mod daemon;
mod grid;
mod knobs;
mod rules;

use super::{ConfigError, Daemon, parse, raw};
use crate::config::Config;
use crate::grid::{Grid, Index};
use checker::Checker;
use grid::Areas;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

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

/// The elements of an array table that parsed, each with its path (`plants[2]`).
type Elements<T> = Vec<(String, T)>;

/// Every section as parsed, before any is checked.
struct Sections {
    areas: Elements<raw::AreaTable>,
    plants: Elements<raw::PlantTable>,
    loads: Elements<raw::LoadTable>,
    data_centers: Elements<raw::DataCenterTable>,
    lines: Elements<raw::LineTable>,
    contracts: Elements<raw::ContractTable>,
    reserve: Option<raw::ReserveTable>,
    states: raw::StatesTable,
    schedule: raw::ScheduleTable,
    time: raw::TimeTable,
    simulator: raw::SimulatorTable,
    tcp: raw::TcpTable,
    input: raw::InputTable,
    output: raw::OutputTable,
    http: raw::HttpTable,
    pipeline: raw::PipelineTable,
    log: raw::LogTable,
}

impl Sections {
    /// Parses in the order of [`SECTIONS`], which is the order of the report.
    fn parse(root: &Map<String, Value>, errors: &mut Vec<ConfigError>) -> Sections {
        Sections {
            areas: elements(root, "areas", errors),
            plants: elements(root, "plants", errors),
            loads: elements(root, "loads", errors),
            data_centers: elements(root, "data_centers", errors),
            lines: elements(root, "lines", errors),
            contracts: elements(root, "contracts", errors),
            reserve: root
                .get("reserve")
                .and_then(|v| parse(v, "reserve", errors)),
            states: table(root, "states", errors),
            schedule: table(root, "schedule", errors),
            time: table(root, "time", errors),
            simulator: table(root, "simulator", errors),
            tcp: table(root, "tcp", errors),
            input: table(root, "input", errors),
            output: table(root, "output", errors),
            http: table(root, "http", errors),
            pipeline: table(root, "pipeline", errors),
            log: table(root, "log", errors),
        }
    }
}

/// Parses every element of the array table `key`, keeping its position in the path.
fn elements<T: DeserializeOwned>(
    root: &Map<String, Value>,
    key: &str,
    errors: &mut Vec<ConfigError>,
) -> Elements<T> {
    match root.get(key) {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let path = format!("{key}[{i}]");
                let parsed = parse(item, &path, errors)?;
                Some((path, parsed))
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

/// Parses the table `key`, or gives its defaults when it is absent or unreadable.
fn table<T: DeserializeOwned + Default>(
    root: &Map<String, Value>,
    key: &str,
    errors: &mut Vec<ConfigError>,
) -> T {
    root.get(key)
        .map_or_else(T::default, |v| parse(v, key, errors).unwrap_or_default())
}

/// Reports every top-level key that names no section.
fn check_sections(root: &Map<String, Value>, errors: &mut Vec<ConfigError>) {
    for (key, value) in root {
        if !SECTIONS.contains(&key.as_str()) {
            errors.push(ConfigError {
                path: key.clone(),
                value: Some(value.to_string()),
                message: "unknown key".into(),
            });
        }
    }
}

/// Checks every section; the result is usable only when `errors` stays empty.
pub(super) fn validate(root: &Map<String, Value>, errors: &mut Vec<ConfigError>) -> Config {
    check_sections(root, errors);
    let raw = Sections::parse(root, errors);
    let c = &mut Checker { errors };

    let mut index = Index::default();
    let areas = grid::check_areas(c, raw.areas, &mut index.areas);
    let known = Areas {
        list: &areas,
        ids: &index.areas,
    };
    let plants = grid::check_plants(c, raw.plants, &known, &mut index.plants);
    let installed_mw: f64 = plants.iter().map(|p| p.capacity_mw).sum();
    let loads = grid::check_loads(c, raw.loads, &known, &mut index.loads, installed_mw);
    let data_centers = grid::check_data_centers(
        c,
        raw.data_centers,
        &known,
        &index.loads,
        &mut index.data_centers,
    );
    let lines = grid::check_lines(c, raw.lines, &known, &mut index.lines);
    let contracts = contracts::check_contracts(c, raw.contracts, &known, &mut index.contracts);
    let reserve = raw.reserve.map(|r| rules::check_reserve(c, r));
    let states = rules::check_states(c, raw.states);
    let schedule = rules::check_schedule(c, raw.schedule);
    let time = rules::check_time(c, raw.time);

    let knobs = knobs::check_knobs(c, &raw.simulator, &data_centers, &lines, &index);
    let simulator = daemon::check_simulator(c, raw.simulator, knobs);
    let tcp = daemon::check_tcp(c, raw.tcp);
    let (files, stdin) = daemon::check_input(raw.input);
    let output = daemon::check_output(raw.output);
    let http = daemon::check_http(c, raw.http);
    let pipeline = daemon::check_pipeline(c, raw.pipeline);
    let log = daemon::check_log(c, raw.log);

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
    let daemon = Daemon {
        simulator,
        tcp,
        files,
        stdin,
        output,
        http,
        pipeline,
        log,
    };
    Config { grid, daemon }
}
