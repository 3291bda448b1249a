//! The live path as gateways use it: connections that stay open and send slowly, a
//! daemon that restarts, clocks that are wrong, readings that are absurd.

use crate::support::{
    Daemon, Metrics, binary, default_config, eventually, exclusive, export_log, simulate,
};
use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// RFC 3339 for the wall clock moved by `offset_ms`, to the millisecond.
pub fn now_plus(offset_ms: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::milliseconds(offset_ms))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn demand(ts: &str, mw: f64, seq: u64) -> String {
    format!(r#"{{"type":"demand","ts":"{ts}","load":"talco","mw":{mw},"source":"gw","seq":{seq}}}"#)
}

/// Waits until `lines` lines have been received and judged: the outcome counters are
/// kept by later stages than the received one.
pub fn wait_judged(daemon: &Daemon, lines: f64) -> Metrics {
    daemon.wait_for_metrics("lines received and judged", |m| {
        let judged = m.sum("vakhsh_events_accepted_total")
            + m.sum("vakhsh_events_rejected_total")
            + m.sum("vakhsh_events_duplicate_total");
        m.sum("vakhsh_events_received_total") >= lines && judged >= lines
    })
}

/// The accounting every run must keep: nothing received goes unaccounted for.
pub fn assert_balanced(metrics: &Metrics) {
    let received = metrics.sum("vakhsh_events_received_total");
    let outcomes = metrics.sum("vakhsh_events_accepted_total")
        + metrics.sum("vakhsh_events_rejected_total")
        + metrics.sum("vakhsh_events_duplicate_total");
    assert_eq!(
        received, outcomes,
        "received = accepted + rejected + duplicates"
    );
}

/// A gateway that keeps its connection open and sends 10 lines a second: every line is
/// taken while the connection is still open, and each decision is in the decision file
/// within 100 ms of the line that made its tick due — by SPEC's Time section, the first
/// line whose `ts` less the allowed lateness reaches the tick's boundary — as the test
/// sees it and as the daemon's own histogram measures it.
#[test]
fn a_gateway_on_an_open_connection_is_heard_line_by_line() {
    let _alone = exclusive();
    let lateness = chrono::Duration::seconds(2);
    let daemon = Daemon::start(&[("VAKHSH__TIME__ALLOWED_LATENESS", "2s")]);
    let mut gateway = TcpStream::connect(daemon.tcp).unwrap();
    let (mut first, mut due) = (None, None);
    let mut waits = Vec::new();
    for i in 0..40u32 {
        // Talco's demand moves by more than the deadband every line, so every tick
        // has a decision.
        let sent = chrono::Utc::now();
        let ts = sent.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let line = demand(&ts, 200.0 + 10.0 * f64::from(i), u64::from(i) + 1);
        gateway.write_all(format!("{line}\n").as_bytes()).unwrap();
        let written = Instant::now();
        // The 1-second boundary the watermark (this line's ts less the lateness) has
        // reached; a new one after the first line's time is this line's tick.
        let boundary = (sent - lateness).timestamp();
        let first = *first.get_or_insert(sent);
        let after_first = boundary * 1_000_000 > first.timestamp_micros();
        if after_first && due.is_some_and(|earlier| boundary > earlier) {
            let tick = chrono::DateTime::from_timestamp(boundary, 0).unwrap();
            let tick = tick.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let decisions = daemon.path("decisions.jsonl");
            eventually(
                "the decision of the tick made due",
                Duration::from_secs(5),
                || {
                    let text = std::fs::read_to_string(&decisions).unwrap_or_default();
                    match text.contains(&format!(r#""ts":"{tick}""#)) {
                        true => Ok(()),
                        false => Err(format!("no decision at {tick} yet")),
                    }
                },
            );
            waits.push(written.elapsed());
        }
        due = Some(boundary);
        let taken = f64::from(i + 1);
        let seen = wait_judged(&daemon, taken);
        assert_eq!(seen.sum("vakhsh_events_accepted_total"), taken);
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("from a line to the decision of the tick it made due: {waits:?}");
    assert!(waits.len() >= 2, "ticks made due: {}", waits.len());
    assert!(
        waits.iter().all(|w| *w <= Duration::from_millis(100)),
        "from the line to its tick's decision in the file, polled every 20 ms: {waits:?}"
    );
    let metrics = daemon.wait_for_metrics("decisions of the ticks the lines made due", |m| {
        m.sum("vakhsh_ingest_to_decision_seconds_count") >= 2.0
    });
    let all = metrics.sum("vakhsh_ingest_to_decision_seconds_count");
    let within = metrics.sum(r#"vakhsh_ingest_to_decision_seconds_bucket{le="0.1"}"#);
    assert_eq!(
        within, all,
        "every decision within 100 ms of its line:\n{}",
        metrics.0
    );
    assert_balanced(&metrics);
    drop(gateway);
}

/// The built-in simulator restarted on its own log, once after a few seconds (its
/// numbers all still in the duplicate window) and once after a minute: not one of its
/// events counts as a duplicate, and the daemon keeps deciding. The simulator sends no
/// deliberate faults here, so that any duplicate is the restart's.
#[test]
fn a_restarted_daemon_continues_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("VAKHSH__SIMULATOR__ENABLED", "true"),
        ("VAKHSH__SIMULATOR__FAULTS", "0"),
    ];
    let run = |what: &str, done: &dyn Fn(&Metrics) -> bool| {
        let mut daemon = Daemon::start_in(dir.path(), &env);
        let metrics = daemon.wait_for_metrics_within(Duration::from_secs(90), what, |m| {
            done(m) && m.sum("vakhsh_decisions_total") >= 1.0
        });
        assert_eq!(metrics.sum("vakhsh_events_duplicate_total"), 0.0, "{what}");
        assert_eq!(daemon.get("/readyz").0, 200);
        let (exit, log) = daemon.stop("-TERM");
        assert!(exit.success(), "{log:#?}");
    };
    run("a few seconds of simulated events", &|m| {
        m.sum("vakhsh_events_accepted_total") >= 60.0
    });
    let started = Instant::now();
    run("a minute of simulated events", &|m| {
        started.elapsed() >= Duration::from_secs(60)
            && m.sum("vakhsh_events_accepted_total") > 1024.0
    });
    run("events after the second restart", &|m| {
        m.sum("vakhsh_events_accepted_total") >= 60.0
    });
}

/// One line from a clock an hour ahead is refused, and the events after it are not late.
#[test]
fn a_line_from_the_future_is_refused_and_the_rest_are_not_late() {
    let daemon = Daemon::start(&[]);
    let mut gateway = TcpStream::connect(daemon.tcp).unwrap();
    let lines = [
        demand(&now_plus(0), 200.0, 1),
        demand(&now_plus(58 * 60 * 1000), 1e3, 2),
        demand(&now_plus(0), 210.0, 3),
    ];
    for line in &lines {
        gateway.write_all(format!("{line}\n").as_bytes()).unwrap();
    }
    let metrics = wait_judged(&daemon, 3.0);
    assert_eq!(
        metrics.sum(r#"vakhsh_events_rejected_total{type="demand",reason="too_far_ahead"}"#),
        1.0
    );
    assert_eq!(metrics.sum("vakhsh_events_accepted_total"), 2.0);
    assert!(
        metrics.sum("vakhsh_watermark_lag_seconds") >= 0.0,
        "{}",
        metrics.0
    );
}

/// A reading no load can draw is refused as above its capacity; the grid stays as it was.
#[test]
fn an_absurd_reading_is_above_capacity() {
    let daemon = Daemon::start(&[]);
    let lines = [
        demand(&now_plus(0), 1e20, 1),
        demand(&now_plus(0), 1e308, 2),
        format!(
            r#"{{"type":"dc_demand","ts":"{}","site":"darvoz","firm_mw":1e20,"flexible_mw":0}}"#,
            now_plus(0)
        ),
    ];
    daemon.send(&lines);
    let metrics = wait_judged(&daemon, 3.0);
    assert_eq!(
        metrics.sum(r#"vakhsh_events_rejected_total{reason="above_capacity"}"#),
        3.0,
        "{}",
        metrics.0
    );
    assert_eq!(metrics.sum("vakhsh_events_accepted_total"), 0.0);
}

/// In a replay of an event file, one line dated 2099, in the middle or first, is the
/// only line refused, and the decisions are those of the file without it.
#[test]
fn a_replayed_file_survives_one_line_from_a_broken_clock() {
    let dir = tempfile::tempdir().unwrap();
    let clean = dir.path().join("clean.jsonl");
    simulate(
        &[
            "--scenario",
            "winter-shortage",
            "--duration",
            "10m",
            "--seed",
            "5",
        ],
        &clean,
    );
    let replay = |input: &Path| {
        let out = input.with_extension("decisions");
        let dead = input.with_extension("dead");
        let status = binary()
            .arg("replay")
            .arg(input)
            .arg("--config")
            .arg(default_config())
            .arg("--out")
            .arg(&out)
            .arg("--dead-letter")
            .arg(&dead)
            .status()
            .unwrap();
        assert!(status.success());
        let dead = std::fs::read_to_string(dead).unwrap_or_default();
        (std::fs::read(out).unwrap(), dead)
    };
    let (clean_decisions, clean_dead) = replay(&clean);
    assert_eq!(clean_dead, "");
    let text = std::fs::read_to_string(&clean).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let wild = r#"{"type":"demand","ts":"2099-01-01T00:00:00Z","load":"talco","mw":100}"#;
    for at in [lines.len() / 2, 0] {
        let mut with_wild = lines.clone();
        with_wild.insert(at, wild);
        let broken = dir.path().join(format!("broken-{at}.jsonl"));
        std::fs::write(&broken, with_wild.join("\n") + "\n").unwrap();
        let (decisions, dead) = replay(&broken);
        let refused: Vec<&str> = dead.lines().collect();
        assert_eq!(refused.len(), 1, "line {at}: {dead}");
        assert!(refused[0].contains("too_far_ahead") && refused[0].contains("2099"));
        assert!(
            decisions == clean_decisions,
            "line {at}: the same decisions"
        );
    }
}

/// A tick of a microsecond would make one event cost millions of schedules.
#[test]
fn a_tick_shorter_than_ten_milliseconds_is_a_configuration_error() {
    let output = binary()
        .args(["check-config"])
        .arg(default_config())
        .env("VAKHSH__SCHEDULE__INTERVAL", "1us")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("schedule.interval") && stderr.contains("1us"),
        "{stderr}"
    );
}

/// Three gateways flood the daemon for 30 s: memory stays flat, and every accepted
/// event is in the log.
#[test]
fn a_flood_on_three_connections_keeps_memory_flat_and_loses_nothing() {
    let _alone = exclusive();
    let mut daemon = Daemon::start(&[("VAKHSH__LOG__SYNC", "100ms")]);
    let loads = ["talco", "south-industry", "north-industry"];
    let start = Instant::now();
    let flood = Duration::from_secs(30);
    let senders: Vec<_> = loads
        .iter()
        .enumerate()
        .map(|(n, load)| {
            let address = daemon.tcp;
            let load = load.to_string();
            std::thread::spawn(move || {
                let mut stream = std::io::BufWriter::new(TcpStream::connect(address).unwrap());
                let mut seq = 0u64;
                while start.elapsed() < flood {
                    let ts = now_plus(0);
                    for _ in 0..100 {
                        seq += 1;
                        let mw = 100.0 + (seq % 50) as f64;
                        writeln!(
                            stream,
                            r#"{{"type":"demand","ts":"{ts}","load":"{load}","mw":{mw},"source":"gw-{n}","seq":{seq}}}"#
                        )
                        .unwrap();
                    }
                }
                stream.flush().unwrap();
                seq
            })
        })
        .collect();
    let rss = |m: &Metrics| m.sum("process_resident_memory_bytes");
    let early = daemon.wait_for_metrics("10 s of flood", |_| {
        start.elapsed() >= Duration::from_secs(10)
    });
    let sent: u64 = senders.into_iter().map(|s| s.join().unwrap()).sum();
    let late = wait_judged(&daemon, sent as f64);
    eprintln!(
        "flood: {sent} lines in {:.1} s; resident memory {:.1} MB at 10 s, {:.1} MB at the end",
        start.elapsed().as_secs_f64(),
        rss(&early) / 1e6,
        rss(&late) / 1e6
    );
    assert!(
        rss(&late) <= rss(&early) * 1.25 + 16e6,
        "resident memory grew from {} to {} bytes",
        rss(&early),
        rss(&late)
    );
    assert_balanced(&late);
    let accepted = late.sum("vakhsh_events_accepted_total");
    assert_eq!(
        accepted + late.sum("vakhsh_events_rejected_total"),
        sent as f64
    );
    let (exit, log) = daemon.stop("-TERM");
    assert!(exit.success(), "{log:#?}");

    let exported = daemon.path("exported.jsonl");
    export_log(&daemon.path("log"), &exported);
    let logged = std::fs::read_to_string(exported).unwrap().lines().count();
    assert_eq!(logged as f64, accepted, "accepted = logged = exported");
}

/// When the gateways fall silent the watermark stands still and its lag behind the wall
/// clock grows, so the alert on it can fire.
#[test]
fn the_watermark_lag_grows_while_telemetry_has_stopped() {
    let daemon = Daemon::start(&[]);
    daemon.send(&[demand(&now_plus(0), 200.0, 1)]);
    let first = daemon.wait_for_metrics("the lag of the first watermark", |m| {
        m.sum("vakhsh_events_accepted_total") == 1.0 && m.sum("vakhsh_watermark_lag_seconds") > 0.0
    });
    let lag = first.sum("vakhsh_watermark_lag_seconds");
    assert!(
        lag < 10.0,
        "the lag starts near the allowed lateness: {lag}"
    );
    daemon.wait_for_metrics("the lag to grow by two seconds with nothing sent", |m| {
        m.sum("vakhsh_watermark_lag_seconds") >= lag + 2.0
    });
}
