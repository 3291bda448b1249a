use super::*;
use crate::event::Body;
use crate::grid::{Contract, ContractKind, Firmness, Plant, PlantKind, PlantReading};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

fn default_config() -> crate::config::Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml");
    crate::config::load(&path).expect("default config")
}

fn default_grid() -> Grid {
    default_config().grid
}

/// Knobs that leave winter-shortage and summer-surplus as they are, without dips.
fn quiet() -> Knobs {
    Knobs {
        growth: Growth {
            site: None,
            from_mw: None,
            to_mw: None,
            over: Duration::from_secs(86_400),
        },
        trip: LineTrip {
            line: None,
            at_s: 0,
            duration: Duration::from_secs(3600),
        },
        dc_trips_per_week: 0.0,
        inflow_share: None,
    }
}

fn run(
    grid: &Grid,
    scenario: Scenario,
    seed: u64,
    start: Timestamp,
    steps: usize,
) -> Vec<Vec<String>> {
    run_with(grid, scenario, &quiet(), seed, start, steps)
}

fn run_with(
    grid: &Grid,
    scenario: Scenario,
    knobs: &Knobs,
    seed: u64,
    start: Timestamp,
    steps: usize,
) -> Vec<Vec<String>> {
    let mut sim = Simulator::new(grid, scenario, knobs, seed, start);
    (0..steps)
        .map(|_| {
            let mut out = Vec::new();
            sim.next_step(&mut out);
            out.iter().map(|e| e.to_json(grid)).collect()
        })
        .collect()
}

fn parse(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

/// Requested domestic demand and available generation of one step.
fn balance(step: &[String]) -> (f64, f64) {
    let (mut demand, mut available) = (0.0, 0.0);
    for line in step {
        let v = parse(line);
        match v["type"].as_str().unwrap() {
            "demand" => demand += num(&v, "mw"),
            "dc_demand" => demand += num(&v, "firm_mw") + num(&v, "flexible_mw"),
            "generation" => available += num(&v, "available_mw"),
            _ => {}
        }
    }
    (demand, available)
}

#[test]
fn scenario_names_round_trip_and_starts_are_in_their_season() {
    for name in Scenario::NAMES {
        assert_eq!(Scenario::from_name(name).unwrap().name(), name);
    }
    assert_eq!(Scenario::WinterShortage.default_start().month(), 1);
    assert_eq!(Scenario::SummerSurplus.default_start().month(), 7);
    assert_eq!(Scenario::Drought.default_start().month(), 1);
    assert_eq!(Scenario::from_name("monsoon"), None);
    assert_eq!(Scenario::DcGrowth.default_start().month(), 1);
    // CASA-1000's window is open, and it is a Monday.
    assert_eq!(
        Scenario::LineTrip.default_start(),
        at("2027-07-12T00:00:00Z")
    );
    assert_eq!(
        Scenario::SummerSurplus.default_start().to_string(),
        "2027-07-12T00:00:00Z"
    );
}

#[test]
fn same_seed_same_bytes_other_seed_differs() {
    let grid = default_grid();
    for scenario in [
        Scenario::WinterShortage,
        Scenario::SummerSurplus,
        Scenario::Drought,
    ] {
        let start = scenario.default_start();
        let a = run(&grid, scenario, 42, start, 900);
        let b = run(&grid, scenario, 42, start, 900);
        let c = run(&grid, scenario, 43, start, 900);
        assert_eq!(a, b, "{}", scenario.name());
        assert_ne!(a, c, "{}", scenario.name());
    }
}

#[test]
fn every_event_is_well_formed_and_within_capacity() {
    let grid = default_grid();
    for scenario in [Scenario::WinterShortage, Scenario::SummerSurplus] {
        let start = scenario.default_start();
        let steps = run(&grid, scenario, 7, start, 2 * 3600);
        let mut last_seq = 0;
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for (i, step) in steps.iter().enumerate() {
            let ts = start
                .saturating_add(Duration::from_secs(i as u64))
                .to_string();
            for line in step {
                assert!(!line.ends_with('\n'));
                let v = parse(line);
                assert_eq!(v["ts"], ts.as_str(), "{line}");
                assert_eq!(v["source"], "sim");
                let seq = v["seq"].as_u64().unwrap();
                assert!(seq > last_seq, "{line}");
                last_seq = seq;
                for (key, value) in v.as_object().unwrap() {
                    if let Some(x) = value.as_f64() {
                        assert!(x.is_finite() && x >= 0.0, "{key} in {line}");
                    }
                }
                let kind = v["type"].as_str().unwrap().to_string();
                match kind.as_str() {
                    "generation" => {
                        let p = &grid.plants[grid.index.plants[v["plant"].as_str().unwrap()]];
                        assert!(num(&v, "output_mw") <= p.capacity_mw, "{line}");
                        assert!(num(&v, "available_mw") <= p.capacity_mw, "{line}");
                        assert!(num(&v, "output_mw") <= num(&v, "available_mw") + 1e-9);
                        let hydro = p.kind == PlantKind::Hydro;
                        assert_eq!(v.get("inflow_mw").is_some(), hydro, "{line}");
                        if hydro {
                            assert!(num(&v, "inflow_mw") <= p.capacity_mw, "{line}");
                        }
                        assert_eq!(v.get("reservoir_level_m").is_some(), p.reservoir.is_some());
                    }
                    "demand" => {
                        assert!(grid.index.loads.contains_key(v["load"].as_str().unwrap()));
                        assert!(num(&v, "mw") > 0.0);
                    }
                    "dc_demand" => {
                        let d = &grid.data_centers
                            [grid.index.data_centers[v["site"].as_str().unwrap()]];
                        let sum = num(&v, "firm_mw") + num(&v, "flexible_mw");
                        assert!(sum <= d.capacity_mw.unwrap(), "{line}");
                    }
                    "line_status" => {
                        let l = &grid.lines[grid.index.lines[v["line"].as_str().unwrap()]];
                        assert!(v["in_service"].is_boolean());
                        if let Some(cap) = v.get("capacity_mw") {
                            assert!(cap.as_f64().unwrap() <= l.capacity_mw, "{line}");
                        }
                    }
                    "nomination" => {
                        let k =
                            &grid.contracts[grid.index.contracts[v["contract"].as_str().unwrap()]];
                        assert!(num(&v, "mw") <= k.max_mw, "{line}");
                    }
                    other => panic!("unexpected type {other}"),
                }
                *counts.entry(kind).or_default() += 1;
            }
        }
        let n = steps.len();
        // A stale gateway may skip a few minutes; a few spells a day leave the rest.
        let generation = counts["generation"];
        assert!(generation <= n * grid.plants.len(), "{generation}");
        assert!(generation >= n * (grid.plants.len() - 1), "{generation}");
        assert_eq!(counts["demand"], n * grid.loads.len());
        assert_eq!(counts["dc_demand"], n * grid.data_centers.len());
        // First step, then every quarter hour of event time.
        assert_eq!(counts["nomination"], 8 * grid.contracts.len());
        assert!(counts["line_status"] >= grid.lines.len());
        let first: Vec<Value> = steps[0].iter().map(|l| parse(l)).collect();
        let statuses = first.iter().filter(|v| v["type"] == "line_status").count();
        assert_eq!(statuses, grid.lines.len());
    }
}

/// Demand is above what the plants can give at the evening peak, before the reserve
/// (N-1, the largest unit) is held: with it, the scheduler sheds hundreds of MW.
#[test]
fn winter_runs_short_at_the_evening_peak() {
    let grid = default_grid();
    let largest_unit = grid.plants.iter().map(|p| p.unit_mw).fold(0.0, f64::max);
    for seed in 1..=4 {
        // 19:00 local is 14:00 UTC.
        let start = at("2027-01-11T13:55:00Z");
        let steps = run(&grid, Scenario::WinterShortage, seed, start, 600);
        for step in &steps {
            let (demand, available) = balance(step);
            assert!(
                demand > available && demand + largest_unit > available + 600.0,
                "seed {seed}: demand {demand} available {available}"
            );
        }
    }
}

#[test]
fn summer_has_surplus_for_exports_and_nominates_the_window_contracts() {
    let grid = default_grid();
    // The midday cooling peak.
    let start = at("2027-07-12T09:00:00Z");
    let steps: Vec<_> = (1..=4)
        .flat_map(|seed| run(&grid, Scenario::SummerSurplus, seed, start, 600))
        .collect();
    let mut nominated = BTreeMap::new();
    for step in &steps {
        let (demand, available) = balance(step);
        assert!(
            available > demand + 1000.0,
            "demand {demand} available {available}"
        );
        for v in step.iter().map(|l| parse(l)) {
            if v["type"] == "nomination" {
                nominated.insert(v["contract"].as_str().unwrap().to_string(), num(&v, "mw"));
            }
        }
    }
    // Every windowed sale and transit is a summer one; the winter import offer is not.
    let summer = |c: &&Contract| c.window.is_some() && c.kind != ContractKind::Import;
    for c in grid.contracts.iter().filter(summer) {
        assert!(c.in_window(start), "{}", c.id);
        let mw = nominated[&c.id];
        if c.firmness == Firmness::Firm {
            assert_eq!(mw, c.max_mw, "{}", c.id);
        } else {
            assert!(mw > 0.0, "{}", c.id);
        }
    }
}

/// (plant, level) of every reading of a storage plant.
fn levels<'a>(grid: &'a Grid, steps: &[Vec<String>]) -> Vec<(&'a Plant, f64)> {
    let mut out = Vec::new();
    for v in steps.iter().flatten().map(|l| parse(l)) {
        if let Some(level) = v.get("reservoir_level_m").and_then(Value::as_f64) {
            out.push((
                &grid.plants[grid.index.plants[v["plant"].as_str().unwrap()]],
                level,
            ));
        }
    }
    out
}

/// The first and last level of `plant` among `readings`.
fn first_and_last(readings: &[(&Plant, f64)], plant: &Plant) -> (f64, f64) {
    let mine: Vec<f64> = (readings.iter())
        .filter(|r| r.0.id == plant.id)
        .map(|r| r.1)
        .collect();
    (mine[0], mine[mine.len() - 1])
}

#[test]
fn winter_reservoirs_follow_the_plan_down_above_their_curves() {
    let grid = default_grid();
    let start = Scenario::WinterShortage.default_start();
    let steps = run(&grid, Scenario::WinterShortage, 1, start, 3600);
    let readings = levels(&grid, &steps);
    for p in grid.plants.iter().filter(|p| p.reservoir.is_some()) {
        let curve = p.reservoir.as_ref().unwrap().rule_curve_m[0];
        assert!(
            readings
                .iter()
                .filter(|r| r.0.id == p.id)
                .all(|r| r.1 > curve),
            "{}",
            p.id
        );
        let (first, last) = first_and_last(&readings, p);
        assert!(last < first, "{}: {first} → {last}", p.id);
    }
}

#[test]
fn drought_reservoirs_start_below_their_curves_and_pass_only_their_inflow() {
    let grid = default_grid();
    let start = Scenario::Drought.default_start();
    let steps = run(&grid, Scenario::Drought, 1, start, 600);
    for v in steps.iter().flatten().map(|l| parse(l)) {
        if let Some(level) = v.get("reservoir_level_m").and_then(Value::as_f64) {
            let p = &grid.plants[grid.index.plants[v["plant"].as_str().unwrap()]];
            let curve = p.reservoir.as_ref().unwrap().rule_curve_m[0];
            assert!(level < curve, "{v}");
            // Held: output never above inflow, beyond the meters' noise.
            assert!(
                num(&v, "output_mw") <= 1.05 * num(&v, "inflow_mw") + 1.0,
                "{v}"
            );
        }
    }
    // Nurek about 17 m below the level a normal year's plan has on the same day.
    let nurek = &grid.plants[grid.index.plants["nurek"]];
    let dry = first_and_last(&levels(&grid, &steps[..1]), nurek).0;
    let normal = run(&grid, Scenario::WinterShortage, 1, start, 1);
    let planned = first_and_last(&levels(&grid, &normal), nurek).0;
    assert!((15.0..20.0).contains(&(planned - dry)), "{planned} {dry}");
}

#[test]
fn summer_reservoirs_are_full_and_stay_full() {
    let grid = default_grid();
    let start = Scenario::SummerSurplus.default_start();
    let steps = run(&grid, Scenario::SummerSurplus, 1, start, 3600);
    let readings = levels(&grid, &steps);
    for p in grid.plants.iter().filter(|p| p.reservoir.is_some()) {
        let full = p.reservoir.as_ref().unwrap().full_m.unwrap();
        assert!(
            readings
                .iter()
                .filter(|r| r.0.id == p.id)
                .all(|r| r.1 == full),
            "{}",
            p.id
        );
    }
}

#[test]
fn sizes_are_derived_when_the_grid_gives_none() {
    let mut grid = default_grid();
    for l in &mut grid.loads {
        l.peak_mw = None;
    }
    for d in &mut grid.data_centers {
        d.capacity_mw = None;
    }
    let steps = run(
        &grid,
        Scenario::WinterShortage,
        3,
        Scenario::WinterShortage.default_start(),
        60,
    );
    let (demand, available) = balance(&steps[59]);
    assert!(
        demand > 0.3 * available && demand < 3.0 * available,
        "{demand} {available}"
    );
}

#[test]
fn lines_trip_and_come_back() {
    let grid = default_grid();
    let mut sim = Simulator::new(
        &grid,
        Scenario::WinterShortage,
        &quiet(),
        5,
        Scenario::WinterShortage.default_start(),
    );
    let mut out = Vec::new();
    let ts = Scenario::WinterShortage.default_start();
    sim.lines_step(ts, &mut out);
    sim.first = false;
    out.clear();
    for _ in 0..10 * 86_400 {
        sim.lines_step(ts, &mut out);
    }
    let events: Vec<Value> = out.iter().map(|e| parse(&e.to_json(&grid))).collect();
    let trips = events.iter().filter(|v| v["in_service"] == false).count();
    let deratings = events
        .iter()
        .filter(|v| v.get("capacity_mw").is_some())
        .count();
    for v in events.iter().filter(|v| v.get("capacity_mw").is_some()) {
        let line = &grid.lines[grid.index.lines[v["line"].as_str().unwrap()]];
        let cap = num(v, "capacity_mw");
        assert!(cap > 0.0 && cap <= line.capacity_mw, "{v}");
    }
    let restorations = events
        .iter()
        .filter(|v| v["in_service"] == true && v.get("capacity_mw").is_none())
        .count();
    // A few trips a day, an occasional derating, and every one of them ends.
    assert!((15..=70).contains(&trips), "{trips}");
    assert!((3..=25).contains(&deratings), "{deratings}");
    assert!(restorations + 2 >= trips + deratings);
}

/// A small grid written inline, so the golden figures below do not move when the
/// reference grid is retuned.
fn small_grid() -> Grid {
    let tree = serde_json::json!({
        "areas": [
            {"id": "a", "kind": "domestic"},
            {"id": "b", "kind": "domestic"},
            {"id": "x", "kind": "neighbor"}
        ],
        "plants": [
            {"id": "dam", "area": "a", "capacity_mw": 500, "unit_mw": 125, "min_mw": 20,
             "reservoir": {"floor_m": 100, "rule_curve_m":
                [110, 108, 106, 106, 110, 115, 120, 122, 122, 120, 116, 112]},
             "river": {"rated_flow_m3s": 250, "inflow_m3s":
                [30, 28, 30, 60, 150, 300, 400, 350, 200, 90, 50, 35]}},
            {"id": "weir", "area": "b", "capacity_mw": 80.25, "unit_mw": 20,
             "river": {"rated_flow_m3s": 200, "downstream_of": "dam", "travel": "90s"}},
            {"id": "stream", "area": "b", "capacity_mw": 12, "unit_mw": 6},
            {"id": "boiler", "area": "a", "kind": "thermal", "capacity_mw": 60, "unit_mw": 30,
             "min_mw": 30}
        ],
        "loads": [
            {"id": "homes", "area": "a", "tier": 1, "class": "residential"},
            {"id": "mill", "area": "b", "tier": 2, "class": "industrial", "peak_mw": 40}
        ],
        "data_centers": [
            {"id": "dc", "area": "b", "firm_tier": 2, "flexible_tier": 3, "capacity_mw": 50.5}
        ],
        "lines": [
            {"id": "ab", "from": "a", "to": "b", "capacity_mw": 200, "reverse_capacity_mw": 200},
            {"id": "bx", "from": "b", "to": "x", "capacity_mw": 100}
        ],
        "contracts": [
            {"id": "sale", "from": "b", "to": "x", "firmness": "non_firm", "tier": 3,
             "max_mw": 60, "window": {"start": "05-01", "end": "09-30"}}
        ]
    });
    crate::config::from_value(&tree).expect("small grid").grid
}

/// Pins the exact bytes: a change here means every recorded simulation changes,
/// on this platform or another, and must be deliberate.
#[test]
fn output_is_pinned_byte_for_byte() {
    let grid = small_grid();
    let steps = run(
        &grid,
        Scenario::WinterShortage,
        9,
        at("2027-01-11T00:00:00Z"),
        600,
    );
    // FNV-1a over every line of ten minutes.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for line in steps.iter().flatten() {
        for byte in line.bytes().chain([b'\n']) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    assert_eq!(steps[0].join("\n"), GOLDEN_FIRST_STEP);
    assert_eq!(hash, GOLDEN_HASH);
}

const GOLDEN_FIRST_STEP: &str = concat!(
    r#"{"type":"line_status","ts":"2027-01-11T00:00:00Z","source":"sim","seq":1,"line":"ab","in_service":true}"#,
    "\n",
    r#"{"type":"line_status","ts":"2027-01-11T00:00:00Z","source":"sim","seq":2,"line":"bx","in_service":true}"#,
    "\n",
    r#"{"type":"nomination","ts":"2027-01-11T00:00:00Z","source":"sim","seq":3,"contract":"sale","mw":16.000}"#,
    "\n",
    r#"{"type":"demand","ts":"2027-01-11T00:00:00Z","source":"sim","seq":4,"load":"homes","mw":248.240}"#,
    "\n",
    r#"{"type":"demand","ts":"2027-01-11T00:00:00Z","source":"sim","seq":5,"load":"mill","mw":35.489}"#,
    "\n",
    r#"{"type":"dc_demand","ts":"2027-01-11T00:00:00Z","source":"sim","seq":6,"site":"dc","firm_mw":22.621,"flexible_mw":15.139}"#,
    "\n",
    r#"{"type":"generation","ts":"2027-01-11T00:00:00Z","source":"sim","seq":7,"plant":"dam","output_mw":106.079,"available_mw":106.090,"reservoir_level_m":111.355,"inflow_mw":58.874}"#,
    "\n",
    r#"{"type":"generation","ts":"2027-01-11T00:00:00Z","source":"sim","seq":8,"plant":"weir","output_mw":21.242,"available_mw":21.651,"inflow_mw":21.797}"#,
    "\n",
    r#"{"type":"generation","ts":"2027-01-11T00:00:00Z","source":"sim","seq":9,"plant":"stream","output_mw":3.920,"available_mw":4.004,"inflow_mw":4.028}"#,
    "\n",
    r#"{"type":"generation","ts":"2027-01-11T00:00:00Z","source":"sim","seq":10,"plant":"boiler","output_mw":60.000,"available_mw":60.000}"#,
);
const GOLDEN_HASH: u64 = 0x3d57_a3a0_929a_715c;

#[test]
fn a_negative_peak_is_a_configuration_error() {
    let tree = serde_json::json!({
        "areas": [{"id": "a", "kind": "domestic"}],
        "loads": [{"id": "l", "area": "a", "tier": 1, "class": "other", "peak_mw": -5}]
    });
    let errors = crate::config::from_value(&tree).unwrap_err().0;
    assert!(
        errors.iter().any(|e| e.path.ends_with("peak_mw")),
        "{errors:?}"
    );
}

/// FNV-1a, as [`output_is_pinned_byte_for_byte`] hashes its lines.
fn fnv(bytes: &[u8]) -> u64 {
    (bytes.iter()).fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn file(grid: &Grid, seed: u64, start: Timestamp, seconds: u64, faults: f64) -> (Vec<u8>, Written) {
    let mut out = Vec::new();
    let settings = SimulatorSettings {
        enabled: false,
        scenario: Scenario::WinterShortage,
        seed,
        faults,
        knobs: quiet(),
    };
    let written = write_log(
        grid,
        &settings,
        start,
        Duration::from_secs(seconds),
        &mut out,
    )
    .expect("writing to memory");
    (out, written)
}

#[test]
fn no_faults_leave_the_pinned_bytes_unchanged() {
    let (bytes, written) = file(&small_grid(), 9, at("2027-01-11T00:00:00Z"), 600, 0.0);
    assert_eq!(fnv(&bytes), GOLDEN_HASH);
    assert_eq!(written.faults, 0);
    assert!(bytes.starts_with(GOLDEN_FIRST_STEP.as_bytes()));
}

#[test]
fn faults_are_reproducible_and_depend_on_seed_and_rate() {
    let grid = small_grid();
    let start = at("2027-01-11T00:00:00Z");
    let a = file(&grid, 9, start, 600, 0.05);
    assert_eq!(a, file(&grid, 9, start, 600, 0.05));
    assert_ne!(a.0, file(&grid, 10, start, 600, 0.05).0);
    assert_ne!(a.0, file(&grid, 9, start, 600, 0.1).0);
    assert!(a.1.faults > 0);
}

/// Every line of a faulty stream, put through the daemon's decoder and ordering core as
/// a replay of the file does, meets the fate its fault says, with the matching reason;
/// and the lines accepted are exactly the fault-free lines that were not made bad or
/// late, in their order.
#[test]
fn every_fault_is_refused_with_its_reason_and_good_lines_pass_unchanged() {
    use crate::event::RejectReason;
    use crate::event::decode::EventDecoder;
    use crate::pipeline::order::{Ingest, Verdict};

    let grid = Arc::new(default_grid());
    let start = Scenario::WinterShortage.default_start();
    let mut sim = Simulator::new(&grid, Scenario::WinterShortage, &quiet(), 3, start);
    let mut injector = FaultInjector::new(&grid, 3, 0.2);
    let (mut events, mut lines) = (Vec::new(), Vec::new());
    let mut expected_good = Vec::new();
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut kinds = BTreeMap::new();
    for _ in 0..900 {
        sim.next_step(&mut events);
        for event in events.drain(..) {
            let before = lines.len();
            let fault = injector.pass(&event, &grid, &mut lines);
            *kinds.entry(format!("{fault:?}")).or_insert(0) += 1;
            let reason = match fault {
                None | Some(Fault::Duplicate) => {
                    expected_good.push(event.to_json(&grid));
                    if fault.is_some() {
                        expected
                            .entry("duplicate".into())
                            .or_default()
                            .push(lines[before].clone());
                    }
                    continue;
                }
                Some(Fault::Late) => "late",
                Some(Fault::Truncated | Fault::SeqAsString) => "malformed",
                Some(Fault::UnknownType) => "unknown_type",
                Some(Fault::UnknownId) => "unknown_id",
                Some(Fault::NegativeMw) => "invalid_value",
                Some(Fault::BadTimestamp) => "bad_timestamp",
            };
            let line = if fault == Some(Fault::Late) {
                event.to_json(&grid)
            } else {
                assert_eq!(lines.len(), before + 1, "a bad line replaces its reading");
                lines[before].clone()
            };
            expected.entry(reason.into()).or_default().push(line);
        }
    }
    // Eight kinds of fault and good lines, each seen.
    assert_eq!(kinds.len(), 9, "{kinds:?}");

    let mut decoder = EventDecoder::new(grid.clone());
    let mut ingest = Ingest::new(grid.clone());
    let mut accepted = Vec::new();
    let mut refused: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in &lines {
        let verdict = match decoder.decode(line.as_bytes()) {
            Err(e) => Verdict::Rejected(e.reason),
            Ok(event) => {
                let now = ingest.newest().unwrap_or(event.ts);
                ingest.offer(&event, Some(now))
            }
        };
        match verdict {
            Verdict::Accepted => accepted.push(line.clone()),
            Verdict::Duplicate => refused
                .entry("duplicate".into())
                .or_default()
                .push(line.clone()),
            Verdict::Rejected(reason) => {
                assert_ne!(reason, RejectReason::AboveCapacity, "{line}");
                refused
                    .entry(reason.as_str().into())
                    .or_default()
                    .push(line.clone());
            }
        }
    }
    assert_eq!(accepted, expected_good);
    // Late lines still held when the stream stops were never sent.
    let held = expected["late"].len() - refused["late"].len();
    assert!(held < 200, "{held} late lines held");
    expected
        .get_mut("late")
        .unwrap()
        .truncate(refused["late"].len());
    assert_eq!(refused, expected);
}

#[test]
fn a_bad_timestamp_is_never_rfc_3339() {
    let ts = at("2027-01-11T05:06:07Z");
    for draw in [0.0, 0.4, 0.9] {
        let bad = faults::bad_timestamp(&ts.to_string(), ts, draw);
        assert!(Timestamp::parse(&bad).is_none(), "{bad}");
    }
}

/// The simulator of `scenario` on the reference grid, and the position of `plant`.
fn reference(scenario: Scenario, start: Timestamp, plant: &str) -> (Simulator, usize) {
    let grid = default_grid();
    let at = grid.index.plants[plant];
    (Simulator::new(&grid, scenario, &quiet(), 1, start), at)
}

/// Mean inflow (m³/s) of `plant` over an hour from `start`, summer-surplus conditions.
fn mean_inflow_m3s(plant: &str, start: &str) -> f64 {
    let (mut sim, at) = reference(Scenario::SummerSurplus, at(start), plant);
    let mut out = Vec::new();
    let mut sum = 0.0;
    for _ in 0..3600 {
        out.clear();
        sim.next_step(&mut out);
        sum += sim.plants[at].inflow_m3s();
    }
    sum / 3600.0
}

/// Barqi Tojik gives the Vakhsh as about 150–200 m³/s in winter and 2,000–2,200 m³/s
/// in summer: the head of the cascade sees flows in those bands, February's lowest and
/// July's highest, some 10 to 15 times as much.
#[test]
fn summer_inflow_is_ten_to_fifteen_times_winter_at_the_head_of_the_cascade() {
    let winter = mean_inflow_m3s("rogun", "2027-02-15T00:00:00Z");
    let summer = mean_inflow_m3s("rogun", "2027-07-15T00:00:00Z");
    assert!((140.0..=210.0).contains(&winter), "{winter}");
    assert!((1900.0..=2300.0).contains(&summer), "{summer}");
    let ratio = summer / winter;
    assert!((10.0..=15.0).contains(&ratio), "{ratio}");
}

/// Baipaza has no inflow of its own: what reaches it is what Nurek released one travel
/// time (1 h on the reference grid) earlier, and not what Nurek releases now.
#[test]
fn the_plant_below_receives_the_release_above_after_the_travel_time() {
    let grid = default_grid();
    let below = &grid.plants[grid.index.plants["baipaza"]];
    let river = below.river.as_ref().unwrap();
    let travel = river.travel.as_secs() as usize;
    let above = river.downstream_of.unwrap();
    let start = Scenario::WinterShortage.default_start();
    let (mut sim, at) = reference(Scenario::WinterShortage, start, "baipaza");
    let (mut released, mut arrived) = (Vec::new(), Vec::new());
    let mut out = Vec::new();
    for _ in 0..travel + 600 {
        out.clear();
        sim.next_step(&mut out);
        released.push(sim.plants[above].release_m3s());
        arrived.push(sim.plants[at].inflow_m3s());
    }
    let mut moved = 0.0_f64;
    let mut unlagged = 0.0_f64;
    for t in travel..travel + 600 {
        assert!(
            (arrived[t] - released[t - travel]).abs() < 1e-9,
            "second {t}"
        );
        moved = moved.max((released[t] - released[t - travel]).abs());
        unlagged = unlagged.max((arrived[t] - released[t]).abs());
    }
    // Nurek's release moves over the hour, so the lag is what makes them equal.
    assert!(moved > 1.0 && unlagged > 1.0, "{moved} {unlagged}");
}

/// Forced outages come at the configured rate across the grid (three a day in
/// winter-shortage): over ten simulated days the count lies in the 99.9 % range of a
/// Poisson law of mean 30, and every unit that tripped comes back.
#[test]
fn units_trip_at_the_configured_rate_and_come_back() {
    let start = Scenario::WinterShortage.default_start();
    let (mut sim, _) = reference(Scenario::WinterShortage, start, "nurek");
    let mut outages = Outages::new(3.0);
    let seconds = start.as_micros() / 1_000_000;
    let (mut trips, mut before) = (0, 0);
    let mut durations_s = 0;
    for s in 0..10 * 86_400 {
        outages.step(&mut sim.rng, &mut sim.plants, seconds + s);
        let now = outages.out();
        trips += now.saturating_sub(before);
        durations_s += now;
        before = now;
    }
    assert!((14..=49).contains(&trips), "{trips}");
    let tripped: u32 = sim.plants.iter().map(|p| p.tripped).sum();
    assert_eq!(tripped as usize, outages.out());
    // Out for one to six hours each: 3.5 h on average.
    let mean_h = durations_s as f64 / trips.max(1) as f64 / 3600.0;
    assert!((1.0..=6.0).contains(&mean_h), "{mean_h}");
}

/// Gateways go stale at the configured rate (eight spells a day across the grid, 2–10
/// minutes each): over five days the spells lie in the 99.9 % range of a Poisson law of
/// mean 40; a stale gateway repeats its last reading or sends nothing, each about half
/// the time, and a fresh one sends the reading with noise, within availability and
/// capacity.
#[test]
fn gateways_go_stale_at_their_rate_and_repeat_or_fall_silent() {
    const PLANTS: usize = 2;
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let mut gateways = Gateways::new(PLANTS, 8.0);
    let mut last: [Option<PlantReading>; PLANTS] = [None; PLANTS];
    let mut stale = [false; PLANTS];
    let (mut spells, mut repeated, mut silent) = (0, 0, 0);
    for second in 0..5 * 86_400 {
        gateways.step(&mut rng, second);
        // The true reading changes every second, so a repeat is never a coincidence.
        let truth = PlantReading {
            output_mw: 80.0 + (second % 11) as f64,
            available_mw: 95.0,
            reservoir_level_m: Some(870.0),
            inflow_mw: Some(99.0),
        };
        for plant in 0..PLANTS {
            let sent = gateways.send(&mut rng, plant, truth, 100.0);
            let now_stale = match sent {
                None => {
                    silent += 1;
                    true
                }
                Some(r) if Some(r) == last[plant] => {
                    repeated += 1;
                    true
                }
                Some(r) => {
                    assert!(r.output_mw <= r.available_mw, "{r:?}");
                    assert!((r.output_mw - truth.output_mw).abs() < 0.01 * truth.output_mw);
                    assert!(r.inflow_mw.is_some_and(|mw| mw <= 100.0), "{r:?}");
                    assert_eq!(r.reservoir_level_m, truth.reservoir_level_m);
                    last[plant] = Some(r);
                    false
                }
            };
            spells += usize::from(now_stale && !stale[plant]);
            stale[plant] = now_stale;
        }
    }
    assert!((22..=61).contains(&spells), "{spells}");
    // Six minutes on average each.
    let mean_s = (repeated + silent) as f64 / spells as f64;
    assert!((240.0..=480.0).contains(&mean_s), "{mean_s}");
    let share = repeated as f64 / (repeated + silent) as f64;
    assert!((0.25..=0.75).contains(&share), "{share}");
}

/// Every data center's readings (firm + flexible, MW) over `steps` seconds, by site.
fn dc_readings(
    grid: &Grid,
    scenario: Scenario,
    knobs: &Knobs,
    start: Timestamp,
    steps: usize,
) -> Vec<Vec<f64>> {
    let mut sim = Simulator::new(grid, scenario, knobs, 4, start);
    let mut readings = vec![Vec::with_capacity(steps); grid.data_centers.len()];
    let mut events = Vec::new();
    for _ in 0..steps {
        sim.next_step(&mut events);
        for event in events.drain(..) {
            if let Body::DcDemand { site, reading } = event.body {
                readings[site].push(reading.firm_mw + reading.flexible_mw);
            }
        }
    }
    readings
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[test]
fn the_reference_data_center_draws_about_its_built_size_outside_dc_growth() {
    let config = default_config();
    let grid = &config.grid;
    let darvoz = &grid.data_centers[0];
    assert_eq!(
        (darvoz.size_mw, darvoz.capacity_mw),
        (Some(2.0), Some(100.0))
    );
    for scenario in [Scenario::WinterShortage, Scenario::LineTrip] {
        let readings = dc_readings(grid, scenario, &quiet(), scenario.default_start(), 1800);
        // Firm 45 % of the site, flexible 5–48 %: about 2 MW, never above the site.
        let site = &readings[0];
        assert!(
            site.iter().all(|&mw| (0.9..=1.94).contains(&mw)),
            "{site:?}"
        );
    }
}

#[test]
fn dc_growth_grows_the_site_from_its_size_to_its_capacity_within_capacity() {
    let config = default_config();
    let grid = &config.grid;
    let mut knobs = config.daemon.simulator.knobs.clone();
    let (from, to) = (knobs.growth.from_mw.unwrap(), knobs.growth.to_mw.unwrap());
    assert_eq!((from, to), (2.0, 100.0));
    knobs.growth.over = Duration::from_secs(3 * 3600);
    knobs.dc_trips_per_week = 0.0;
    let start = Scenario::DcGrowth.default_start();
    let readings = dc_readings(grid, Scenario::DcGrowth, &knobs, start, 4 * 3600);
    let site = &readings[0];
    let capacity = grid.data_centers[0].capacity_mw.unwrap();
    assert!(site.iter().all(|&mw| mw <= capacity), "above {capacity}");
    // The site's size, linear over three hours then flat: each hour draws the share of
    // its mean size a site draws (firm 45 %, flexible 5–48 %).
    let size = |hour: f64| from + (to - from) * (hour / 3.0).min(1.0);
    let mut hourly = Vec::new();
    for hour in 0..4 {
        let drawn = mean(&site[hour * 3600..(hour + 1) * 3600]);
        let sized = if hour < 3 {
            size(hour as f64 + 0.5)
        } else {
            to
        };
        eprintln!("hour {hour}: {drawn:.3} MW drawn of {sized:.3} MW built");
        assert!(
            (0.5 * sized..=0.97 * sized).contains(&drawn),
            "hour {hour}: {drawn} MW of {sized}"
        );
        hourly.push(drawn);
    }
    assert!(
        hourly
            .windows(2)
            .take(2)
            .all(|w| w[1] > w[0] + 0.5 * (to - from) / 3.0)
    );
    // It starts at its size today.
    assert!(site[0] <= 0.97 * from, "{}", site[0]);
}

#[test]
fn a_line_trip_is_due_at_the_first_such_local_time_of_the_run() {
    let trip = LineTrip {
        line: Some(5),
        at_s: 14 * 3600 + 30 * 60,
        duration: Duration::from_secs(3600),
    };
    // 14:30 at UTC+5 is 09:30 UTC: the same day from midnight, the next from noon.
    for (start, due) in [
        ("2027-07-12T00:00:00Z", "2027-07-12T09:30:00Z"),
        ("2027-07-12T09:30:00Z", "2027-07-12T09:30:00Z"),
        ("2027-07-12T12:00:00Z", "2027-07-13T09:30:00Z"),
        ("2027-07-11T23:00:00Z", "2027-07-12T09:30:00Z"),
    ] {
        let plan = line::TripPlan::new(&trip, at(start), LOCAL_OFFSET_S).unwrap();
        assert_eq!(plan.at, at(due), "from {start}");
    }
}

/// A grid with three data centers, two of them in one area.
fn campus_grid() -> Grid {
    let tree = serde_json::json!({
        "areas": [{"id": "a", "kind": "domestic"}, {"id": "b", "kind": "domestic"}],
        "plants": [{"id": "weir", "area": "a", "capacity_mw": 400, "unit_mw": 100}],
        "loads": [{"id": "town", "area": "a", "tier": 1, "class": "residential", "peak_mw": 100}],
        "data_centers": [
            {"id": "a1", "area": "a", "firm_tier": 2, "flexible_tier": 3, "capacity_mw": 50},
            {"id": "b1", "area": "b", "firm_tier": 2, "flexible_tier": 3, "capacity_mw": 50},
            {"id": "a2", "area": "a", "firm_tier": 2, "flexible_tier": 3, "capacity_mw": 50}
        ],
        "lines": [{"id": "ab", "from": "a", "to": "b", "capacity_mw": 200, "reverse_capacity_mw": 200}]
    });
    crate::config::from_value(&tree).expect("campus grid").grid
}

/// Over two days at 150 dips a week, data centers drop to nothing together — every
/// site of one area, or every site — as often as a Poisson process at that rate
/// gives, stay off for tens of seconds to minutes and come back.
#[test]
fn data_centers_drop_off_together_at_the_configured_rate() {
    let grid = campus_grid();
    let mut knobs = quiet();
    knobs.dc_trips_per_week = 150.0;
    let span_s = 2 * 86_400;
    let start = Scenario::WinterShortage.default_start();
    let readings = dc_readings(&grid, Scenario::WinterShortage, &knobs, start, span_s);
    let off = |site: usize, t: usize| readings[site][t] == 0.0;
    let mut dips = 0;
    let mut off_runs = Vec::new();
    for t in 1..span_s {
        let dropped: Vec<usize> = (0..3).filter(|&s| off(s, t) && !off(s, t - 1)).collect();
        if dropped.is_empty() {
            continue;
        }
        // One area's sites (a1 and a2, or b1), or all of them; a site still off from
        // an earlier dip cannot drop again, so any of those may be missing.
        let still_off = |s: usize| off(s, t - 1);
        let whole = |sites: &[usize]| sites.iter().all(|&s| dropped.contains(&s) || still_off(s));
        let only = |sites: &[usize]| dropped.iter().all(|s| sites.contains(s));
        assert!(
            (only(&[0, 2]) && whole(&[0, 2])) || (only(&[1]) && whole(&[1])) || whole(&[0, 1, 2]),
            "at {t} s: {dropped:?}"
        );
        dips += 1;
        let site = dropped[0];
        off_runs.push((t..span_s).take_while(|&u| off(site, u)).count());
    }
    let expected = 150.0 * span_s as f64 / (7.0 * 86_400.0);
    let sd = expected.sqrt();
    eprintln!("{dips} dips, expected {expected:.1} ± {sd:.1}; off for {off_runs:?} s");
    // A dip that finds every site it hits still off shows no drop: a few may hide.
    assert!(
        (expected - 4.0 * sd - 3.0..=expected + 4.0 * sd).contains(&(dips as f64)),
        "{dips} dips"
    );
    // Off 20 s to 5 min, longer only when a second dip hits while off.
    let (lo, hi) = dip::OFF_S;
    assert!(off_runs.iter().all(|&s| s as f64 >= lo), "{off_runs:?}");
    let long = off_runs.iter().filter(|&&s| s as f64 > hi).count();
    assert!(long * 10 <= off_runs.len(), "{off_runs:?}");
    // Every site comes back: none is off at the end of a recovery after the last dip.
    for (site, trace) in readings.iter().enumerate() {
        let last_on = trace.iter().rposition(|&mw| mw > 0.0).unwrap();
        assert!(
            last_on + 1 == span_s || span_s - last_on < hi as usize,
            "site {site} stays off"
        );
    }
}

#[test]
fn a_flat_load_keeps_its_level_round_the_clock_while_its_class_follows_the_day() {
    let grid = default_grid();
    let talco = grid.index.loads["talco"];
    let industry = grid.index.loads["south-industry"];
    assert_eq!(grid.loads[talco].profile, crate::grid::LoadProfile::Flat);
    assert_eq!(
        grid.loads[industry].profile,
        crate::grid::LoadProfile::Class
    );
    // 03:00 and 13:00 local on a Monday and a Saturday.
    let mean_of = |start: &str, load: usize| {
        let steps = run(&grid, Scenario::WinterShortage, 2, at(start), 600);
        let mw: Vec<f64> = (steps.iter().flatten().map(|l| parse(l)))
            .filter(|v| v["load"] == grid.loads[load].id.as_str())
            .map(|v| num(&v, "mw"))
            .collect();
        mean(&mw)
    };
    let night = "2027-01-10T22:00:00Z";
    let noon = "2027-01-11T08:00:00Z";
    let saturday_noon = "2027-01-16T08:00:00Z";
    let peak = grid.loads[talco].peak_mw.unwrap();
    for start in [night, noon, saturday_noon] {
        let mw = mean_of(start, talco);
        assert!((0.95 * peak..=1.05 * peak).contains(&mw), "{start}: {mw}");
    }
    let (night, noon) = (mean_of(night, industry), mean_of(noon, industry));
    assert!(
        noon > 1.08 * night,
        "industry {night} at night, {noon} at noon"
    );
}
