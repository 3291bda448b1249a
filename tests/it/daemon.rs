//! The daemon as a process: events over TCP in, decisions and dead letters out,
//! metrics over HTTP, clean exit on a signal.

use crate::support::{Daemon, export_log, replay, verify_log};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

pub fn at(second: u32) -> String {
    format!("2026-01-15T00:{:02}:{:02}Z", second / 60, second % 60)
}

/// A winter snapshot of the reference grid at `second`, one event per line.
pub fn snapshot(second: u32, talco_mw: f64) -> Vec<String> {
    let ts = at(second);
    let mut lines = Vec::new();
    for (plant, available, level) in [
        ("nurek", 1800.0, Some(880.0)),
        ("rogun", 300.0, Some(1070.0)),
        ("baipaza", 250.0, None),
        ("sangtuda-1", 280.0, None),
        ("sangtuda-2", 90.0, None),
        ("golovnaya", 100.0, None),
        ("kairakkum", 60.0, Some(344.0)),
        ("pamir-1", 12.0, None),
    ] {
        let level = level.map_or(String::new(), |l| {
            format!(r#","reservoir_level_m":{l},"inflow_mw":100"#)
        });
        lines.push(format!(
            r#"{{"type":"generation","ts":"{ts}","plant":"{plant}","output_mw":{},"available_mw":{available}{level}}}"#,
            available / 2.0
        ));
    }
    for (load, mw) in [
        ("south-essential", 300.0),
        ("north-essential", 120.0),
        ("gbao-essential", 8.0),
        ("south-households", 900.0),
        ("north-households", 450.0),
        ("gbao-households", 10.0),
        ("south-industry", 200.0),
        ("north-industry", 100.0),
        ("talco", talco_mw),
    ] {
        lines.push(format!(
            r#"{{"type":"demand","ts":"{ts}","load":"{load}","mw":{mw}}}"#
        ));
    }
    lines.push(format!(
        r#"{{"type":"dc_demand","ts":"{ts}","site":"darvoz","firm_mw":60,"flexible_mw":30}}"#
    ));
    lines.push(format!(
        r#"{{"type":"nomination","ts":"{ts}","contract":"af-supply","mw":150}}"#
    ));
    lines
}

fn read_json_lines(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn events_over_tcp_become_decisions_and_bad_lines_are_rejected_with_reasons() {
    let mut daemon = Daemon::start(&[]);
    let (status, _) = daemon.get("/readyz");
    assert_eq!(status, 503, "not ready before the first decision");
    assert_eq!(daemon.get("/healthz").0, 200);

    let mut lines = snapshot(0, 400.0);
    lines.push("{not json".into());
    lines.push(format!(
        r#"{{"type":"demand","ts":"{}","load":"atlantis","mw":5}}"#,
        at(1)
    ));
    lines.push(format!(
        r#"{{"type":"demand","ts":"{}","load":"talco","mw":321.5}}"#,
        at(1)
    ));
    lines
        .push(r#"{"type":"demand","ts":"2099-01-01T00:00:00Z","load":"talco","mw":1}"#.to_string());
    lines.extend(snapshot(10, 321.5));
    lines.push(format!(
        r#"{{"type":"demand","ts":"{}","load":"talco","mw":1}}"#,
        at(2)
    ));
    lines.push(format!(
        r#"{{"type":"heartbeat","ts":"{}","source":"gw-1","seq":1}}"#,
        at(20)
    ));
    lines.push(format!(
        r#"{{"type":"heartbeat","ts":"{}","source":"gw-1","seq":1}}"#,
        at(20)
    ));
    daemon.send(&lines);

    let total = lines.len() as f64;
    // Lines are counted as received when decoded and get their outcome later, in the
    // ingest stage: wait for every outcome.
    let metrics = daemon.wait_for_metrics("every line to get its outcome", |m| {
        let decided = m.sum("vakhsh_events_accepted_total")
            + m.sum("vakhsh_events_rejected_total")
            + m.sum("vakhsh_events_duplicate_total");
        decided == total
    });
    assert_eq!(metrics.sum("vakhsh_events_received_total"), total);
    // Every edge reports the time its producers waited for room, from the start.
    for edge in [
        "lines",
        "events",
        "ticks",
        "decisions",
        "dead_letters",
        "log",
    ] {
        let series = format!(r#"vakhsh_channel_send_blocked_seconds_total{{edge="{edge}"}}"#);
        assert!(
            metrics.0.lines().any(|line| line.starts_with(&series)),
            "{series} missing"
        );
    }
    assert_eq!(
        metrics.sum(r#"vakhsh_events_rejected_total{reason="malformed"}"#),
        1.0
    );
    assert_eq!(
        metrics.sum(r#"vakhsh_events_rejected_total{reason="unknown_id"}"#),
        1.0
    );
    assert_eq!(
        metrics.sum(r#"vakhsh_events_rejected_total{reason="too_far_ahead"}"#),
        1.0
    );
    assert_eq!(
        metrics.sum(r#"vakhsh_events_rejected_total{reason="late"}"#),
        1.0
    );
    assert_eq!(
        metrics.sum(r#"vakhsh_events_duplicate_total{type="heartbeat"}"#),
        1.0
    );
    let accepted = metrics.sum("vakhsh_events_accepted_total");
    let rejected = metrics.sum("vakhsh_events_rejected_total");
    let duplicates = metrics.sum("vakhsh_events_duplicate_total");
    assert_eq!(accepted, total - 5.0);
    assert_eq!(
        accepted + rejected + duplicates,
        total,
        "received = accepted + rejected + duplicates"
    );

    // The watermark is at 18 s: ticks up to 18 s are due, and each second's tick
    // after the first snapshot sees TALCO's 321.5 MW sent after the two bad lines.
    // All 18 ticks counted, then the decisions settled: a tick is counted before it is
    // scheduled, and on a loaded machine its decision can land after a first read.
    // The latency histogram follows within about a second, when the sink publishes.
    daemon.wait_for_metrics("every due tick and a decision's latency", |m| {
        m.sum("vakhsh_ticks_total") >= 18.0
            && m.sum("vakhsh_decisions_total") >= 1.0
            && m.sum("vakhsh_ingest_to_decision_seconds_count") >= 1.0
    });
    let (status, body) = daemon.get("/readyz");
    assert_eq!(status, 200, "{body}");
    let mut latest = daemon.get("/v1/schedule");
    let mut unchanged = 0;
    while unchanged < 5 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let again = daemon.get("/v1/schedule");
        unchanged = if again == latest { unchanged + 1 } else { 0 };
        latest = again;
    }
    let (status, latest) = latest;
    assert_eq!(status, 200);
    let latest: Value = serde_json::from_str(&latest).unwrap();
    // The grid gauges carry the latest decision's figures, in watts.
    let gauges = daemon.wait_for_metrics("the grid gauges", |_| true);
    let state = latest["state"].as_str().unwrap();
    assert_eq!(
        gauges.sum(&format!(r#"vakhsh_grid_state{{state="{state}"}}"#)),
        1.0
    );
    assert_eq!(gauges.sum("vakhsh_grid_state"), 1.0);
    for contract in latest["contracts"].as_array().unwrap() {
        let selector = format!(
            r#"vakhsh_contract_scheduled_watts{{contract="{}"}}"#,
            contract["contract"].as_str().unwrap()
        );
        assert_eq!(
            gauges.sum(&selector),
            (contract["scheduled_mw"].as_f64().unwrap() * 1e6).round(),
            "{selector}"
        );
    }
    for tier in latest["tiers"].as_array().unwrap() {
        let selector = format!(r#"vakhsh_tier_served_watts{{tier="{}"}}"#, tier["tier"]);
        let served = (tier["served_mw"].as_f64().unwrap() * 1e6).round();
        assert_eq!(gauges.sum(&selector), served, "{selector}");
        let selector = format!(r#"vakhsh_tier_unserved_watts{{tier="{}"}}"#, tier["tier"]);
        let requested = (tier["requested_mw"].as_f64().unwrap() * 1e6).round();
        assert_eq!(gauges.sum(&selector), requested - served, "{selector}");
    }
    // Load shed: every load's and firm data-center part's shortfall, not flexible demand.
    let watts = |l: &Value, figure: &str| (l[figure].as_f64().unwrap() * 1e6).round();
    let shed: f64 = latest["loads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| !l["load"].as_str().unwrap().ends_with("/flexible"))
        .map(|l| watts(l, "requested_mw") - watts(l, "served_mw"))
        .sum();
    assert_eq!(gauges.sum("vakhsh_load_shed_watts"), shed);

    let decisions_path = daemon.path("decisions.jsonl");
    let dead_path = daemon.path("dead-letter.jsonl");
    let (exit, log) = daemon.stop("-INT");
    assert!(exit.success(), "exit {exit:?}; log: {log:#?}");

    let decisions = read_json_lines(&decisions_path);
    assert!(!decisions.is_empty());
    let last = decisions.last().unwrap();
    let served = decisions.iter().find(|d| d["seq"] == latest["seq"]);
    assert_eq!(
        served,
        Some(&latest),
        "/v1/schedule serves a decision as written"
    );
    assert_eq!(decisions[0]["trigger"], "initial");
    assert_eq!(
        decisions[0]["ts"],
        at(1),
        "the first tick after the first event"
    );
    for (i, d) in decisions.iter().enumerate() {
        assert_eq!(d["seq"], i as u64 + 1);
    }
    let talco = last["loads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["load"] == "talco")
        .unwrap();
    assert_eq!(talco["requested_mw"], 321.5);

    let dead = read_json_lines(&dead_path);
    let reasons: Vec<&str> = dead.iter().map(|d| d["reason"].as_str().unwrap()).collect();
    assert_eq!(
        reasons,
        ["malformed", "unknown_id", "too_far_ahead", "late"]
    );
    assert_eq!(dead[0]["raw"], "{not json");
    assert!(dead[1]["detail"].as_str().unwrap().contains("atlantis"));
    assert!(
        dead[0]["origin"]
            .as_str()
            .unwrap()
            .starts_with("tcp 127.0.0.1:")
    );
}

#[test]
fn a_token_guards_tcp_ingest() {
    let mut daemon = Daemon::start(&[("VAKHSH__TCP__TOKEN", "s3cret")]);
    let mut stream = TcpStream::connect(daemon.tcp).unwrap();
    stream.write_all(b"AUTH wrong\n").unwrap();
    let mut reply = String::new();
    BufReader::new(&stream).read_line(&mut reply).unwrap();
    assert_eq!(reply, "ERR unauthorized\n");

    let mut lines = vec!["AUTH s3cret".to_string()];
    lines.extend(snapshot(0, 100.0));
    daemon.send(&lines);
    let expected = (lines.len() - 1) as f64;
    daemon.wait_for_metrics("the authorised lines", |m| {
        m.sum("vakhsh_events_accepted_total") == expected
    });
    let (exit, _) = daemon.stop("-TERM");
    assert!(exit.success());
}

#[test]
fn the_event_log_replays_to_the_live_decisions() {
    let mut daemon = Daemon::start(&[]);
    let mut lines = Vec::new();
    for second in 0..30 {
        lines.extend(snapshot(second, 300.0 + f64::from(second) * 7.5));
    }
    lines.push("garbage".into());
    daemon.send(&lines);
    let total = lines.len() as f64;
    daemon.wait_for_metrics("every line", |m| {
        m.sum("vakhsh_events_received_total") == total
    });
    let (exit, _) = daemon.stop("-TERM");
    assert!(exit.success());

    let log = daemon.path("log");
    let (code, report) = verify_log(&log);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains(&format!("last ingest sequence {}", lines.len() - 1)),
        "{report}"
    );

    let live = std::fs::read(daemon.path("decisions.jsonl")).unwrap();
    assert!(!live.is_empty());
    let replayed = daemon.path("replayed.jsonl");
    replay(&log, &replayed);
    assert!(
        std::fs::read(&replayed).unwrap() == live,
        "replaying the native log differs from the live run"
    );

    let exported = daemon.path("exported.jsonl");
    export_log(&log, &exported);
    replay(&exported, &replayed);
    assert!(
        std::fs::read(&replayed).unwrap() == live,
        "replaying the exported JSON differs from the live run"
    );
}

/// Af-supply's nomination falls from 150 MW to 0 at once: the south-af line, ramped at
/// 50 MW/min, cannot follow, and nothing else in Afghanistan takes its flow, so the line
/// ramps are relaxed for the next tick (rule 3). The decision says so, the counter counts
/// it, the tick after is on record, and a replay's summary counts the same.
#[test]
fn relaxed_ramps_are_on_record_and_counted() {
    let mut daemon = Daemon::start(&[]);
    let mut lines = snapshot(0, 400.0);
    lines.push(format!(
        r#"{{"type":"nomination","ts":"{}","contract":"af-supply","mw":0}}"#,
        at(1)
    ));
    lines.push(format!(
        r#"{{"type":"heartbeat","ts":"{}","source":"gw-1"}}"#,
        at(10)
    ));
    daemon.send(&lines);
    // Ticks are counted before they are scheduled, in order: with the fourth counted,
    // the second has been scheduled and, relaxed, counted. A page is not one instant
    // (its families are read one after another while the scheduler runs), so the count
    // is read from a page begun after one that showed the fourth tick.
    daemon.wait_for_metrics("the first four ticks", |m| {
        m.sum("vakhsh_ticks_total") >= 4.0
    });
    let metrics = daemon.wait_for_metrics("a page after them", |_| true);
    assert!(daemon.stop("-TERM").0.success());

    let decisions = read_json_lines(&daemon.path("decisions.jsonl"));
    assert_eq!(
        metrics.sum("vakhsh_ramps_relaxed_total"),
        1.0,
        "{}\n{decisions:#?}",
        metrics.0
    );
    let relaxed: Vec<(&Value, bool)> = decisions
        .iter()
        .map(|d| (&d["ts"], d["ramps_relaxed"].as_bool().unwrap()))
        .collect();
    let (second, third) = (Value::from(at(2)), Value::from(at(3)));
    assert_eq!(
        relaxed[1..3],
        [(&second, true), (&third, false)],
        "{decisions:#?}"
    );
    assert_eq!(relaxed.iter().filter(|(_, r)| *r).count(), 1);

    let summary = replay(&daemon.path("log"), &daemon.path("replayed.jsonl"));
    assert!(
        summary.contains("decisions with relaxed ramps: 1\n"),
        "{summary}"
    );
}
