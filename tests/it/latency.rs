//! `/v1/latency` and the latency families on `/metrics`, on a running daemon: every
//! stage present from the start, and counted once events and decisions flow.

use crate::daemon::snapshot;
use crate::support::{Daemon, Metrics, eventually};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;

const STAGES: [&str; 4] = ["ingest", "schedule", "sink", "ingest_to_decision"];
const SPECTRUM: [&str; 9] = [
    "min_us",
    "p50_us",
    "p75_us",
    "p90_us",
    "p95_us",
    "p99_us",
    "p99_9_us",
    "p99_99_us",
    "max_us",
];

fn latency(daemon: &Daemon) -> Value {
    let (status, body) = daemon.get("/v1/latency");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn count(document: &Value, stage: &str) -> u64 {
    document["stages"][stage]["since_start"]["count"]
        .as_u64()
        .unwrap()
}

/// Checks one spectrum: its figures ordered, its mean between min and max.
fn check_spectrum(stage: &str, figures: &Value) {
    let values: Vec<u64> = SPECTRUM
        .iter()
        .map(|f| {
            figures[f]
                .as_u64()
                .unwrap_or_else(|| panic!("{stage} {f}: {figures}"))
        })
        .collect();
    assert!(values.is_sorted(), "{stage}: {figures}");
    let mean = figures["mean_us"].as_f64().unwrap();
    assert!(
        values[0] as f64 <= mean && mean <= values[8] as f64,
        "{stage}: {figures}"
    );
}

#[test]
fn every_stage_reports_its_latency_once_decisions_flow() {
    let mut daemon = Daemon::start(&[]);
    let before = latency(&daemon);
    assert_eq!(before["window_seconds"], 60);
    for stage in STAGES {
        for span in ["since_start", "window"] {
            let figures = &before["stages"][stage][span];
            assert_eq!(figures["count"], 0, "{stage} {span}");
            assert!(figures["p99_us"].is_null(), "{stage} {span}: {figures}");
        }
    }

    let mut lines = Vec::new();
    for second in 0..10 {
        lines.extend(snapshot(second, 250.0 + f64::from(second) * 10.0));
    }
    daemon.send(&lines);

    // Stages publish about once a second: wait until every event, tick and decision
    // is on the board, as the counters count them, and /metrics shows the same board
    // before and after /v1/latency is read.
    let hdr_count =
        |stage: &str| format!(r#"vakhsh_stage_latency_hdr_seconds_count{{stage="{stage}"}}"#);
    let settled = |metrics: &Metrics, document: &Value| {
        STAGES
            .iter()
            .all(|s| metrics.sum(&hdr_count(s)) == count(document, s) as f64)
            && count(document, "ingest") == lines.len() as u64
            && count(document, "schedule") as f64 == metrics.sum("vakhsh_ticks_total")
            && count(document, "sink") as f64 == metrics.sum("vakhsh_decisions_total")
            && count(document, "ingest_to_decision") > 0
    };
    let (document, metrics) = eventually("the stages", Duration::from_secs(30), || {
        let metrics = Metrics(daemon.get("/metrics").1);
        let document = latency(&daemon);
        let after = Metrics(daemon.get("/metrics").1);
        match settled(&metrics, &document) && settled(&after, &document) {
            true => Ok((document, metrics)),
            false => Err(format!("/v1/latency: {document}")),
        }
    });
    assert_eq!(
        count(&document, "sink"),
        count(&document, "ingest_to_decision")
    );
    for stage in STAGES {
        let since_start = &document["stages"][stage]["since_start"];
        let window = &document["stages"][stage]["window"];
        check_spectrum(stage, since_start);
        check_spectrum(stage, window);
        assert_eq!(
            window["count"], since_start["count"],
            "all within the minute"
        );

        // The same board on /metrics: a summary with the window's quantiles.
        let p99 = metrics.sum(&format!(
            r#"vakhsh_stage_latency_hdr_seconds{{stage="{stage}",quantile="0.99"}}"#
        ));
        assert_eq!(p99, window["p99_us"].as_f64().unwrap() / 1e6, "{stage}");
    }
    for stage in ["ingest", "schedule", "sink"] {
        let selector = format!(r#"vakhsh_stage_latency_seconds_count{{stage="{stage}"}}"#);
        assert_eq!(metrics.sum(&selector), count(&document, stage) as f64);
    }
    assert_eq!(
        metrics.sum("vakhsh_ingest_to_decision_seconds_count"),
        count(&document, "ingest_to_decision") as f64
    );
    promtool_check(&metrics);
    assert!(daemon.stop("-TERM").0.success());
}

/// `promtool check metrics` on a page with every latency family filled.
fn promtool_check(metrics: &Metrics) {
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have the promtool binary"
        );
        eprintln!("promtool check skipped: no promtool binary (apt-get install prometheus)");
        return;
    };
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), metrics.0.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success() && output.stdout.is_empty() && output.stderr.is_empty(),
        "promtool: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
