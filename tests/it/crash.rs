//! Crash safety: the daemon killed with SIGKILL at random moments during ingest,
//! restarted each time, ends with the decisions of a run that was never interrupted.

use crate::support::{Daemon, binary, replay, simulate};
use std::time::Duration;

/// A small deterministic generator, so that a failure can be run again as it was.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn synced(daemon: &Daemon) -> u64 {
    daemon
        .wait_for_metrics("the log gauge", |_| true)
        .sum("vakhsh_event_log_synced_sequence") as u64
}

#[test]
fn killed_twenty_times_during_ingest_the_daemon_ends_where_an_uninterrupted_run_does() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let args = [
        "--scenario",
        "winter-shortage",
        "--duration",
        "5m",
        "--seed",
        "3",
    ];
    simulate(
        &[&args[..], &["--start", "2026-01-11T00:00:00Z"]].concat(),
        &events,
    );
    let text = std::fs::read_to_string(&events).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    let reference = dir.path().join("reference.jsonl");
    replay(&events, &reference);

    let state = dir.path().join("daemon");
    std::fs::create_dir(&state).unwrap();
    let mut rng = Lcg(0x5eed_0f7a_3b00);
    let (mut sent, mut synced_before_kill) = (0usize, 0u64);
    for kill in 0..20 {
        let mut daemon = Daemon::start_in(&state, &[]);
        let recovered = synced(&daemon);
        assert!(
            recovered >= synced_before_kill,
            "kill {kill}: the log lost synced events: {recovered} < {synced_before_kill}"
        );
        // Resend from the first line, as a gateway that does not know what arrived
        // would: what the log holds comes back as duplicates.
        sent = (sent + 1 + rng.below(lines.len() as u64 / 12) as usize).min(lines.len());
        daemon.send(&lines[..sent]);
        std::thread::sleep(Duration::from_millis(rng.below(40)));
        synced_before_kill = synced(&daemon);
        let (exit, _) = daemon.stop("-KILL");
        assert!(!exit.success());
    }

    let mut daemon = Daemon::start_in(&state, &[]);
    assert!(synced(&daemon) >= synced_before_kill);
    daemon.send(&lines);
    let all = lines.len() as f64;
    daemon.wait_for_metrics("the last run to take every line", |m| {
        m.sum("vakhsh_events_received_total") == all
    });
    let (exit, _) = daemon.stop("-TERM");
    assert!(exit.success());

    let verify = binary()
        .args(["log", "verify"])
        .arg(state.join("log"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&verify.stdout).to_string();
    assert!(verify.status.success(), "{report}");
    assert!(
        report.contains(&format!("last ingest sequence {}", lines.len())),
        "every event once: {report}"
    );
    let decisions = std::fs::read(state.join("decisions.jsonl")).unwrap();
    assert!(
        decisions == std::fs::read(&reference).unwrap(),
        "decisions after 20 crashes differ from an uninterrupted run"
    );
}
