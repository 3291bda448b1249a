//! The simulator's water as the scheduler sees it: a scenario simulated through the
//! library, replayed through the library, judged on the replay's totals.

use crate::support::default_config;
use std::io::Write;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use vakhsh::pipeline::Timing;
use vakhsh::replay::{Request, Summary};
use vakhsh::source::sim::{Scenario, SimulatorSettings, write_log};
use vakhsh::time::Timestamp;

/// `duration` of `scenario` from `start` on the reference grid, followed by `tail` (lines
/// a gateway sends after it), replayed.
fn replay(scenario: Scenario, start: &str, duration: Duration, tail: &[String]) -> Summary {
    let config = vakhsh::config::load(&default_config()).expect("reference grid loads");
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let start = Timestamp::parse(start).unwrap();
    let mut file = std::io::BufWriter::new(std::fs::File::create(&events).unwrap());
    // The reference configuration's knobs, seed 1 and no faults.
    let settings = SimulatorSettings {
        scenario,
        seed: 1,
        faults: 0.0,
        ..config.daemon.simulator.clone()
    };
    write_log(&config.grid, &settings, start, duration, &mut file).unwrap();
    for line in tail {
        writeln!(file, "{line}").unwrap();
    }
    drop(file);
    let request = Request {
        logs: vec![events],
        timing: Timing {
            live: false,
            speed: None,
            from: None,
            to: None,
        },
        out: Some(dir.path().join("decisions.jsonl")),
        dead_letter: None,
        report: None,
        metrics: false,
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    (runtime.block_on(vakhsh::replay::run(
        config,
        request,
        CancellationToken::new(),
    )))
    .expect("replay")
}

/// A July night of surplus water: the reservoirs are full and pass their inflow, the
/// plants below pass the river, exports run to the lines' limits, and what nobody can
/// take is spilled.
#[test]
fn a_summer_night_spills_what_exports_cannot_take() {
    // 00:00 to 01:00 local (UTC+5), when domestic demand is lowest.
    let summary = replay(
        Scenario::SummerSurplus,
        "2027-07-12T19:00:00Z",
        Duration::from_secs(3600),
        &[],
    );
    let totals = &summary.totals;
    assert!(totals.spill_mwh > 50.0, "{totals}");
    // CASA-1000 (1,300 MW, its Pakistani and Afghan shares and the Kyrgyz transit) is
    // full the whole hour, and Uzbekistan buys.
    let exported = totals.exported_mwh();
    let casa: f64 = ["casa-pk", "casa-af", "kg-pk-transit"]
        .iter()
        .map(|c| exported[*c])
        .sum();
    assert!(casa > 1250.0, "{totals}");
    assert!(exported["uz-spot"] > 100.0, "{totals}");
    assert_eq!(totals.state_hours.get("emergency"), None, "{totals}");
}

/// A winter after a dry year: the reservoirs stand below their curves and may only
/// pass a dry winter's inflow, so the country is in alert or emergency throughout.
#[test]
fn a_drought_winter_is_never_normal() {
    let summary = replay(
        Scenario::Drought,
        "2027-01-18T13:00:00Z",
        Duration::from_secs(2 * 3600),
        &[],
    );
    let totals = &summary.totals;
    assert_eq!(totals.state_hours.get("normal"), None, "{totals}");
    let short: f64 = totals.unserved_mwh.values().sum();
    // About 3 GW of demand against about 1 GW of supply at the evening peak.
    assert!(short > 2.0 * 1500.0, "{totals}");
    assert!(
        totals.unserved_mwh.get(&2).copied().unwrap_or(0.0) > 1000.0,
        "{totals}"
    );
}

/// In a drought GBAO's own river cannot carry its essential load: when its tie to the
/// national grid trips, essential load goes short and the grid is in emergency until
/// the tie is back (the figures are in docs/scenarios.md).
#[test]
fn a_drought_winter_cut_off_from_gbao_is_an_emergency() {
    // 10:00 to 10:30 local, then the Vanj–Darvoz tie out for ten minutes of heartbeats,
    // one every five seconds (closer than `max_ahead`, as a live gateway sends them).
    let start = Timestamp::parse("2027-01-18T05:30:00Z").unwrap();
    let at = |s: u64| start.saturating_add(Duration::from_secs(s)).to_string();
    let mut tail = vec![format!(
        r#"{{"type":"line_status","ts":"{}","source":"gw","line":"vanj-darvoz","in_service":false}}"#,
        at(0)
    )];
    tail.extend((1..=120).map(|i| {
        format!(
            r#"{{"type":"heartbeat","ts":"{}","source":"gw"}}"#,
            at(5 * i)
        )
    }));
    let summary = replay(
        Scenario::Drought,
        "2027-01-18T05:00:00Z",
        Duration::from_secs(1800),
        &tail,
    );
    let totals = &summary.totals;
    let emergency = totals.state_hours.get("emergency").copied().unwrap_or(0.0);
    assert!(emergency > 5.0 / 60.0, "{totals}");
    assert!(
        totals.unserved_mwh.get(&1).copied().unwrap_or(0.0) > 0.0,
        "{totals}"
    );
}

/// A rationed winter is in `alert`, even in the small hours when demand is lowest: the
/// water plan leaves less than demand, so industry and the smelter are shed (rule 8),
/// while essential load and households are served.
#[test]
fn a_winter_shortage_night_is_in_alert() {
    // 03:00 to 04:00 local (UTC+5).
    let summary = replay(
        Scenario::WinterShortage,
        "2027-01-11T22:00:00Z",
        Duration::from_secs(3600),
        &[],
    );
    let totals = &summary.totals;
    let hours: f64 = totals.state_hours.values().sum();
    let alert = totals.state_hours.get("alert").copied().unwrap_or(0.0);
    assert!(alert >= 0.9 * hours, "{totals}");
    assert_eq!(totals.state_hours.get("emergency"), None, "{totals}");
    let shed = |tier: u32| totals.unserved_mwh.get(&tier).copied().unwrap_or(0.0);
    assert!(shed(4) + shed(5) > 100.0, "{totals}");
    assert_eq!(shed(1), 0.0, "{totals}");
}
