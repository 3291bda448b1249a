//! The golden determinism promise: the decisions are a pure function of the
//! configuration and the accepted events — whether replayed at full speed, paced,
//! fed live over TCP, or fed live with a restart in the middle.

use crate::support::{Daemon, binary, default_config, replay, simulate};

/// Feeds `lines` to a daemon over TCP and waits until it has counted them all.
fn feed(daemon: &Daemon, lines: &[&str]) {
    daemon.send(lines);
    let total = lines.len() as f64;
    daemon.wait_for_metrics("every line", |m| {
        m.sum("vakhsh_events_received_total") == total
    });
}

#[test]
fn replayed_paced_live_and_restarted_runs_write_identical_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let args = [
        "--scenario",
        "summer-surplus",
        "--duration",
        "2m",
        "--seed",
        "11",
    ];
    simulate(
        &[&args[..], &["--start", "2026-07-12T06:00:00Z"]].concat(),
        &events,
    );
    let text = std::fs::read_to_string(&events).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    let straight = dir.path().join("straight.jsonl");
    replay(&events, &straight);
    let golden = std::fs::read(&straight).unwrap();
    assert!(golden.len() > 1000);

    let paced = dir.path().join("paced.jsonl");
    let status = binary()
        .arg("replay")
        .arg(&events)
        .args(["--speed", "240x", "--config"])
        .arg(default_config())
        .arg("--out")
        .arg(&paced)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        std::fs::read(&paced).unwrap() == golden,
        "a paced replay differs"
    );

    let live_dir = dir.path().join("live");
    std::fs::create_dir(&live_dir).unwrap();
    let mut live = Daemon::start_in(&live_dir, &[]);
    feed(&live, &lines);
    assert!(live.stop("-TERM").0.success());
    assert!(
        std::fs::read(live_dir.join("decisions.jsonl")).unwrap() == golden,
        "the live run differs"
    );

    let resumed_dir = dir.path().join("resumed");
    std::fs::create_dir(&resumed_dir).unwrap();
    let cut = lines.len() * 3 / 7;
    let mut first = Daemon::start_in(&resumed_dir, &[]);
    feed(&first, &lines[..cut]);
    assert!(first.stop("-TERM").0.success());
    let mut second = Daemon::start_in(&resumed_dir, &[]);
    feed(&second, &lines[cut..]);
    assert!(second.stop("-TERM").0.success());
    assert!(
        std::fs::read(resumed_dir.join("decisions.jsonl")).unwrap() == golden,
        "a run cut and resumed from its log differs"
    );
}
