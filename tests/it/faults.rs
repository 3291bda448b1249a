//! `vakhsh simulate --faults P`: a fraction P of the lines bad, late or duplicated, each
//! refused (or counted as a duplicate) by a replay with its own reason, at the rate
//! asked; the same seed and rate give the same bytes, and P = 0 is the fault-free file.

use crate::support::{Daemon, exclusive, replay_with, simulate};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

const RATE: f64 = 0.05;

/// `vakhsh replay INPUT` on the reference grid, refused lines to a dead-letter file;
/// returns the summary's counts by name ("received", "accepted", "duplicates", and
/// each rejection reason).
fn replay_counts(input: &Path, dead_letter: &Path) -> BTreeMap<String, f64> {
    let summary = replay_with(
        input,
        &input.with_extension("decisions"),
        &["--dead-letter".as_ref(), dead_letter.as_os_str()],
    );
    let mut counts = BTreeMap::new();
    for line in summary.lines() {
        if let Some(events) = line.strip_prefix("events: ") {
            for part in events.split(", ") {
                let (n, name) = part.split_once(' ').unwrap();
                counts.insert(name.to_string(), n.parse().unwrap());
            }
        } else if let Some(reason) = line.strip_prefix("  rejected ") {
            let (name, n) = reason.split_once(": ").unwrap();
            counts.insert(name.to_string(), n.parse().unwrap());
        }
    }
    assert!(counts.contains_key("received"), "{summary}");
    counts
}

/// Within four standard deviations of a binomial count of `n` trials at `p`; `slack`
/// more below it, for lines a count can lose.
fn assert_binomial(what: &str, observed: f64, n: f64, p: f64, slack: f64) {
    let (mean, sd) = (n * p, (n * p * (1.0 - p)).sqrt());
    eprintln!(
        "{what}: {observed} (expected {mean:.1} ± {sd:.1}, rate {:.5} of {p:.5})",
        observed / n
    );
    assert!(
        observed <= mean + 4.0 * sd && observed >= mean - 4.0 * sd - slack,
        "{what}: {observed} lines, expected {mean:.1} ± 4 × {sd:.1}"
    );
}

#[test]
fn an_hour_at_five_percent_has_each_fault_at_its_rate_and_a_replay_refuses_them() {
    let _alone = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name);
    let base = ["--scenario", "winter-shortage", "--duration", "1h"];
    let with = |seed: &str, faults: &str, name: &str| {
        let mut args = base.to_vec();
        args.extend(["--seed", seed, "--faults", faults]);
        simulate(&args, &path(name));
    };
    simulate(&base, &path("plain.jsonl"));
    with("1", "0", "zero.jsonl");
    with("1", "0.05", "faulty.jsonl");
    with("1", "0.05", "again.jsonl");
    with("2", "0.05", "other.jsonl");
    let read = |name: &str| std::fs::read(path(name)).unwrap();

    // P = 0 is the fault-free file; a seed and a rate always give the same bytes.
    assert_eq!(read("zero.jsonl"), read("plain.jsonl"));
    assert_eq!(read("faulty.jsonl"), read("again.jsonl"));
    assert_ne!(read("faulty.jsonl"), read("other.jsonl"));

    let clean = String::from_utf8(read("plain.jsonl")).unwrap();
    let faulty = String::from_utf8_lossy(&read("faulty.jsonl")).into_owned();
    let n = clean.lines().count() as f64;
    let lines = faulty.lines().count() as f64;

    let counts = replay_counts(&path("faulty.jsonl"), &path("dead.jsonl"));
    let count = |name: &str| counts.get(name).copied().unwrap_or(0.0);
    assert_eq!(count("received"), lines, "{counts:?}");
    let rejected = count("rejected");
    let duplicates = count("duplicates");
    // A late line still held back when the hour ends is never written: a few at most.
    // Each bad line stands for its reading, a duplicated one is two lines, a late one
    // is moved: the file has n + duplicates − held lines.
    let held = n + duplicates - lines;
    assert!(
        (0.0..=5.0).contains(&held),
        "{held} late lines held: {counts:?}"
    );

    assert_binomial("faults", rejected + duplicates, n, RATE, 5.0);
    assert_binomial("duplicates", duplicates, n, RATE / 3.0, 0.0);
    assert_binomial("late", count("late"), n, RATE / 3.0, 5.0);
    assert_binomial("malformed", count("malformed"), n, RATE / 9.0, 0.0);
    for reason in [
        "unknown_type",
        "unknown_id",
        "invalid_value",
        "bad_timestamp",
    ] {
        assert_binomial(reason, count(reason), n, RATE / 18.0, 0.0);
    }
    let known = ["late", "malformed", "unknown_type", "unknown_id"]
        .into_iter()
        .chain(["invalid_value", "bad_timestamp"])
        .map(count)
        .sum::<f64>();
    assert_eq!(known, rejected, "no other reason: {counts:?}");
    let dead = std::fs::read_to_string(path("dead.jsonl")).unwrap();
    assert_eq!(dead.lines().count() as f64, rejected);
}

/// The daemon's own simulator at a high fault rate, as an operator runs it: live, over
/// the wall clock, watched through `/metrics`. Every kind of fault reaches the reject
/// path (bad lines by their reasons, held-back lines as `late`, repeats as duplicates),
/// the dead-letter file records the refusals, and the daemon stays ready and stops
/// cleanly.
#[test]
fn the_live_simulator_sends_every_kind_of_fault_and_the_daemon_refuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("VAKHSH__SIMULATOR__ENABLED", "true"),
        ("VAKHSH__SIMULATOR__FAULTS", "0.2"),
    ];
    let mut daemon = Daemon::start_in(dir.path(), &env);
    let metrics = daemon.wait_for_metrics_within(
        Duration::from_secs(60),
        "malformed, late and duplicate lines from the simulator",
        |m| {
            m.sum(r#"vakhsh_events_rejected_total{reason="malformed""#) > 0.0
                && m.sum(r#"vakhsh_events_rejected_total{reason="late""#) > 0.0
                && m.sum("vakhsh_events_duplicate_total") > 0.0
                && m.sum("vakhsh_decisions_total") >= 1.0
        },
    );
    assert!(metrics.sum("vakhsh_events_accepted_total") > 0.0);
    assert_eq!(
        daemon.get("/readyz").0,
        200,
        "faulty lines do not unready it"
    );
    let (exit, log) = daemon.stop("-TERM");
    assert!(exit.success(), "{log:#?}");
    let rejected = metrics.sum("vakhsh_events_rejected_total");
    let letters = std::fs::read_to_string(daemon.path("dead-letter.jsonl")).unwrap();
    assert!(
        letters.lines().count() as f64 >= rejected,
        "every refusal counted before the scrape is in the dead-letter file"
    );
}
