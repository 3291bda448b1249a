//! A real Prometheus server on loopback scrapes a running daemon; its query API must
//! see a finite ingest → decision p99, from the histogram's buckets and from the HDR
//! summary, and the grid gauges of the latest decision. And every metric the Grafana
//! dashboard and the alert rules name is one a running daemon serves.
//!
//! The scrape needs the `prometheus` binary (Debian's `prometheus` package; `.ci/run`
//! installs it). Without it that test says so and passes, except under CI, where it
//! fails.

use crate::daemon::{at, snapshot};
use crate::support::{Daemon, eventually};
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn query(port: u16, expr: &str) -> Vec<Value> {
    let url = format!("http://127.0.0.1:{port}/api/v1/query");
    let Ok(mut response) = ureq::get(&url).query("query", expr).call() else {
        return Vec::new();
    };
    let body: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    body["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn value(sample: &Value) -> f64 {
    sample["value"][1].as_str().unwrap().parse().unwrap()
}

/// Polls `expr` until `done` holds for its result.
fn wait_for(port: u16, expr: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    eventually(expr, Duration::from_secs(60), || {
        let result = query(port, expr);
        match done(&result) {
            true => Ok(result),
            false => Err(format!("{result:?}")),
        }
    })
}

#[test]
fn prometheus_scrapes_the_latency_histogram_and_the_grid_gauges() {
    if Command::new("prometheus")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have the prometheus binary"
        );
        eprintln!("skipped: no prometheus binary (apt-get install prometheus)");
        return;
    }
    let mut daemon = Daemon::start(&[]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = daemon.path("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: vakhsh\n    static_configs:\n      - targets: [\"{}\"]\n",
            daemon.http
        ),
    )
    .unwrap();
    let _server = Server(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                daemon.path("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(port, r#"up{job="vakhsh"}"#, |r| {
        r.iter().any(|s| value(s) == 1.0)
    });

    // Decisions before and after Prometheus's first scrapes, so the histogram grows
    // between samples.
    let mut lines = Vec::new();
    for second in 0..10 {
        lines.extend(snapshot(second, 250.0 + f64::from(second) * 10.0));
    }
    daemon.send(&lines);
    let scraped = query(port, "vakhsh_ingest_to_decision_seconds_count");
    let before = scraped.first().map_or(0.0, value);
    wait_for(port, "vakhsh_ingest_to_decision_seconds_count", |r| {
        r.first().is_some_and(|s| value(s) > before)
    });
    let mut more = Vec::new();
    for second in 10..20 {
        more.extend(snapshot(second, 400.0 - f64::from(second) * 5.0));
    }
    daemon.send(&more);

    let p99 = wait_for(
        port,
        "histogram_quantile(0.99, sum by (le) (rate(vakhsh_ingest_to_decision_seconds_bucket[1m])))",
        |r| r.first().is_some_and(|s| value(s).is_finite()),
    );
    assert!(value(&p99[0]) > 0.0 && value(&p99[0]) < 10.0, "{p99:?}");
    let hdr_p99 = wait_for(
        port,
        r#"vakhsh_stage_latency_hdr_seconds{stage="ingest_to_decision",quantile="0.99"}"#,
        |r| r.first().is_some_and(|s| value(s).is_finite()),
    );
    assert!(
        value(&hdr_p99[0]) > 0.0 && value(&hdr_p99[0]) < 10.0,
        "{hdr_p99:?}"
    );

    // Once the daemon's latest decision stops changing, Prometheus sees its figures.
    let total = (lines.len() + more.len()) as f64;
    daemon.wait_for_metrics("every event", |m| {
        m.sum("vakhsh_events_accepted_total") == total
    });
    let latest = {
        let mut latest = daemon.get("/v1/schedule").1;
        let mut unchanged = 0;
        while unchanged < 5 {
            std::thread::sleep(Duration::from_millis(100));
            let again = daemon.get("/v1/schedule").1;
            unchanged = if again == latest { unchanged + 1 } else { 0 };
            latest = again;
        }
        serde_json::from_str::<Value>(&latest).unwrap()
    };
    let state = latest["state"].as_str().unwrap().to_string();
    wait_for(
        port,
        &format!(r#"vakhsh_grid_state{{state="{state}"}}"#),
        |r| r.first().is_some_and(|s| value(s) == 1.0),
    );
    for contract in latest["contracts"].as_array().unwrap() {
        let expr = format!(
            r#"vakhsh_contract_scheduled_watts{{contract="{}"}}"#,
            contract["contract"].as_str().unwrap()
        );
        let want = (contract["scheduled_mw"].as_f64().unwrap() * 1e6).round();
        wait_for(port, &expr, |r| r.first().is_some_and(|s| value(s) == want));
    }
    for tier in latest["tiers"].as_array().unwrap() {
        let expr = format!(r#"vakhsh_tier_served_watts{{tier="{}"}}"#, tier["tier"]);
        let want = (tier["served_mw"].as_f64().unwrap() * 1e6).round();
        wait_for(port, &expr, |r| r.first().is_some_and(|s| value(s) == want));
    }
    let generation = (latest["balance"]["generation_mw"].as_f64().unwrap() * 1e6).round();
    wait_for(port, r#"vakhsh_balance_watts{figure="generation"}"#, |r| {
        r.first().is_some_and(|s| value(s) == generation)
    });
    assert!(daemon.stop("-TERM").0.success());
}

/// A metric renamed or removed in the daemon but not in a deploy file would leave a panel
/// empty or an alert silent, without any error.
#[test]
fn the_dashboard_and_the_alert_rules_name_only_metrics_the_daemon_serves() {
    let mut daemon = Daemon::start(&[]);
    let mut lines = snapshot(0, 400.0);
    lines.push(format!(
        r#"{{"type":"heartbeat","ts":"{}","source":"gw-1"}}"#,
        at(10)
    ));
    daemon.send(&lines);
    // The per-tier gauges appear with the first decision that has the tier; a page is
    // read family by family, so they are surely on the page begun after one that
    // counted the decision.
    daemon.wait_for_metrics("a decision", |m| m.sum("vakhsh_decisions_total") >= 1.0);
    let page = daemon.wait_for_metrics("a page after it", |_| true);
    let served: BTreeSet<&str> = page
        .0
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|line| line.split(' ').next())
        .collect();
    for file in ["deploy/grafana/vakhsh.json", "deploy/prometheus/alerts.yml"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let text = std::fs::read_to_string(path).unwrap();
        let named = metric_names(&text);
        assert!(named.len() > 5, "{file}: {named:?}");
        for name in named {
            let family = ["_bucket", "_count", "_sum"]
                .iter()
                .filter_map(|suffix| name.strip_suffix(suffix))
                .find(|family| served.contains(family))
                .unwrap_or(name);
            assert!(
                served.contains(family),
                "{file} names {name}, which the daemon does not serve"
            );
        }
    }
    assert!(daemon.stop("-TERM").0.success());
}

/// The `vakhsh_…` metric names in `text`.
fn metric_names(text: &str) -> BTreeSet<&str> {
    text.match_indices("vakhsh_")
        .map(|(start, _)| {
            let rest = &text[start..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}
