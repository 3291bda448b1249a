//! The scenarios replayed as an operator would: `vakhsh simulate` on the reference
//! grid, `vakhsh replay`, then the decisions checked against what each scenario is
//! about — a line tripping at the summer peak, CASA-1000 closed in winter, and the
//! Afghan humanitarian floor held through a winter evening.

use crate::support::{default_config, replay, simulate_with};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use vakhsh::grid::Grid;
use vakhsh::time::Timestamp;

/// Tolerance on decision figures, which are rounded to 1e-8 MW.
const EPS: f64 = 1e-6;

fn grid() -> Grid {
    vakhsh::config::load(&default_config()).unwrap().grid
}

fn lines_of(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn ts(v: &Value) -> Timestamp {
    Timestamp::parse(v["ts"].as_str().unwrap()).unwrap()
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

/// The entry of a decision's `key` array whose `field` is `id`.
fn entry<'a>(decision: &'a Value, key: &str, field: &str, id: &str) -> &'a Value {
    (decision[key].as_array().unwrap().iter())
        .find(|e| e[field] == id)
        .unwrap_or_else(|| panic!("no {id} in {key}"))
}

fn mw(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap()
}

/// Every `line_status` event: (line, ts, in service, capacity when derated).
fn statuses(events: &[Value]) -> Vec<(String, Timestamp, bool, Option<f64>)> {
    (events.iter())
        .filter(|e| e["type"] == "line_status")
        .map(|e| {
            let line = e["line"].as_str().unwrap().to_string();
            let capacity = e.get("capacity_mw").and_then(Value::as_f64);
            (line, ts(e), e["in_service"] == true, capacity)
        })
        .collect()
}

/// Simulates and replays; returns (events, decisions).
fn simulated(
    dir: &Path,
    scenario: &str,
    start: &str,
    duration: &str,
    env: &[(&str, &str)],
) -> (Vec<Value>, Vec<Value>) {
    let events = dir.join(format!("{scenario}.jsonl"));
    let args = [
        "--scenario",
        scenario,
        "--start",
        start,
        "--duration",
        duration,
    ];
    simulate_with(&[&args[..], &["--seed", "3"]].concat(), env, &events);
    let decisions = dir.join(format!("{scenario}.decisions.jsonl"));
    replay(&events, &decisions);
    (lines_of(&events), lines_of(&decisions))
}

/// CASA-1000 trips at the configured local time (15:00 at UTC+5, 10:00 UTC) for the
/// configured 40 minutes; while it is out the decisions give it no flow and curtail the
/// export over it for `line_out`, every other line keeps within its ramp, and once it
/// is back the export flows again.
#[test]
fn line_trip_takes_the_configured_line_out_and_the_decisions_follow() {
    let config = vakhsh::config::load(&default_config()).unwrap();
    let grid = &config.grid;
    let tripped = &grid.lines[config.daemon.simulator.knobs.trip.line.unwrap()];
    assert_eq!(tripped.id, "casa-1000");
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("VAKHSH__SIMULATOR__LINE_TRIP_AT", "15:00"),
        ("VAKHSH__SIMULATOR__LINE_TRIP_FOR", "40m"),
    ];
    let start = "2027-07-12T09:30:00Z";
    let (events, decisions) = simulated(dir.path(), "line-trip", start, "90m", &env);
    let (out, back) = (at("2027-07-12T10:00:00Z"), at("2027-07-12T10:40:00Z"));

    let statuses = statuses(&events);
    let mine: Vec<_> = (statuses.iter())
        .filter(|s| s.0 == tripped.id && s.1 >= out)
        .map(|s| (s.1, s.2))
        .collect();
    assert_eq!(mine, [(out, false), (back, true)], "{mine:?}");

    // The export whose ends the line joins.
    let export = (grid.contracts.iter())
        .find(|c| (c.from, c.to) == (tripped.from, tripped.to))
        .unwrap();
    let (mut while_out, mut after) = (0, 0);
    for d in &decisions {
        // A decision at tick B is made on the events before B.
        let t = ts(d);
        let flow = mw(entry(d, "lines", "line", &tripped.id), "flow_mw");
        let contract = entry(d, "contracts", "contract", &export.id);
        if t > out && t <= back {
            while_out += 1;
            assert_eq!(flow, 0.0, "{t}");
            assert_eq!(mw(contract, "scheduled_mw"), 0.0, "{t}");
            assert!(mw(contract, "requested_mw") > 0.0, "{t}");
            assert_eq!(contract["reason"], "line_out", "{t}");
        } else if t > back.saturating_add(Duration::from_secs(15 * 60)) {
            after += 1;
            assert!(flow > 0.0 && mw(contract, "scheduled_mw") > 0.0, "{t}");
        }
    }
    eprintln!("{while_out} decisions while out, {after} once back");
    assert!(while_out > 0 && after > 0);
    assert_ramps_hold(grid, &decisions, &statuses);
}

/// Between consecutive decisions each line's flow moves by at most its ramp times the
/// time between them, unless the later decision says the ramps were relaxed or the
/// line tripped in between (an outage forces zero at once).
fn assert_ramps_hold(
    grid: &Grid,
    decisions: &[Value],
    statuses: &[(String, Timestamp, bool, Option<f64>)],
) {
    let mut checked = 0;
    for pair in decisions.windows(2) {
        let (t0, t1) = (ts(&pair[0]), ts(&pair[1]));
        if pair[1]["ramps_relaxed"] == true {
            continue;
        }
        let minutes = t1.micros_since(t0) as f64 / 60e6;
        for line in grid.lines.iter().filter(|l| l.ramp_mw_per_min > 0.0) {
            let tripped =
                (statuses.iter()).any(|s| s.0 == line.id && !s.2 && s.1 >= t0 && s.1 < t1);
            if tripped {
                continue;
            }
            let flow = |d: &Value| mw(entry(d, "lines", "line", &line.id), "flow_mw");
            let moved = (flow(&pair[1]) - flow(&pair[0])).abs();
            assert!(
                moved <= line.ramp_mw_per_min * minutes + EPS,
                "{} moved {moved} MW from {t0} to {t1}",
                line.id
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
}

/// A winter afternoon and evening: the CASA-1000 window (May to September) is closed,
/// so the export is scheduled 0 as `out_of_window` on every decision; and the
/// humanitarian floor of the supply to Afghanistan, at tier 1 with essential load, is
/// delivered whenever essential load is fully served and the line can carry it — also
/// while other load is being shed.
#[test]
fn winter_closes_casa_1000_and_holds_the_afghan_floor() {
    let grid = grid();
    let dir = tempfile::tempdir().unwrap();
    let (events, decisions) = simulated(
        dir.path(),
        "winter-shortage",
        "2027-01-11T12:00:00Z",
        "3h",
        &[],
    );
    assert!(decisions.len() > 100);

    // The summer windows; the winter import offer's is open.
    let january = vakhsh::time::Timestamp::parse("2027-01-11T12:00:00Z").unwrap();
    let closed: Vec<_> = (grid.contracts.iter())
        .filter(|c| c.window.is_some() && !c.in_window(january))
        .map(|c| c.id.as_str())
        .collect();
    assert!(closed.contains(&"casa-pk"), "{closed:?}");
    for d in &decisions {
        for id in &closed {
            let c = entry(d, "contracts", "contract", id);
            assert_eq!(mw(c, "scheduled_mw"), 0.0, "{id} at {}", ts(d));
            assert_eq!(c["reason"], "out_of_window", "{id} at {}", ts(d));
        }
    }

    let supply = grid.contracts.iter().find(|c| c.floor.is_some()).unwrap();
    assert_eq!(supply.id, "af-supply");
    let (floor, floor_tier) = supply.floor.as_ref().map(|f| (f.mw, f.tier)).unwrap();
    let line = (grid.lines.iter())
        .find(|l| (l.from, l.to) == (supply.from, supply.to))
        .unwrap();
    let essential: Vec<_> = (grid.loads.iter())
        .filter(|l| l.tier == floor_tier)
        .map(|l| l.id.as_str())
        .collect();
    let statuses: Vec<_> = (statuses(&events).into_iter())
        .filter(|s| s.0 == line.id)
        .collect();
    // Once back in service, the line takes floor / ramp minutes to carry the floor.
    let ramp_s = (60.0 * floor / line.ramp_mw_per_min).ceil() as u64 + 1;
    let (mut held, mut shedding) = (0, 0);
    for d in &decisions {
        let t = ts(d);
        let (mut in_service, mut capacity, mut back) = (true, line.capacity_mw, None);
        for s in statuses.iter().filter(|s| s.1 < t) {
            if s.2 && !in_service {
                back = Some(s.1);
            }
            in_service = s.2;
            capacity = s.3.unwrap_or(line.capacity_mw);
        }
        let deliverable = in_service
            && capacity * (1.0 - line.loss_fraction) >= floor
            && back.is_none_or(|back| back.saturating_add(Duration::from_secs(ramp_s)) <= t);
        let served = essential.iter().all(|id| {
            let l = entry(d, "loads", "load", id);
            mw(l, "served_mw") >= mw(l, "requested_mw") - EPS
        });
        if !(deliverable && served) {
            continue;
        }
        let c = entry(d, "contracts", "contract", &supply.id);
        let owed = floor.min(mw(c, "requested_mw"));
        assert!(
            mw(c, "scheduled_mw") >= owed - EPS,
            "{} scheduled {} below its floor {owed} at {t}",
            supply.id,
            mw(c, "scheduled_mw")
        );
        held += 1;
        let short = |l: &Value| mw(l, "served_mw") < mw(l, "requested_mw") - 1.0;
        if d["loads"].as_array().unwrap().iter().any(short) {
            shedding += 1;
        }
    }
    eprintln!("floor {floor} MW held on {held} decisions, {shedding} of them shedding load");
    assert!(held > 100, "{held}");
}
