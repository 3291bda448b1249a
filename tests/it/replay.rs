//! `simulate` then `replay`: the same events give the same decisions, byte for byte.

use crate::support::{replay, simulate};

#[test]
fn replaying_a_simulated_log_twice_gives_identical_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    simulate(
        &[
            "--scenario",
            "winter-shortage",
            "--duration",
            "10m",
            "--seed",
            "7",
        ],
        &events,
    );
    let event_count = std::fs::read_to_string(&events).unwrap().lines().count();
    assert!(
        event_count > 600,
        "ten minutes of telemetry, got {event_count} lines"
    );

    let mut outputs = Vec::new();
    for run in ["a", "b"] {
        let out = dir.path().join(format!("decisions-{run}.jsonl"));
        let summary = replay(&events, &out);
        assert!(
            summary.contains(&format!(
                "events: {event_count} received, {event_count} accepted"
            )),
            "{summary}"
        );
        // The reference grid's exports have tariffs: their revenue is summed up.
        assert!(
            summary.contains("revenue USD per contract:\n  af-supply "),
            "{summary}"
        );
        outputs.push(std::fs::read(&out).unwrap());
    }
    assert!(outputs[0].len() > 1000);
    assert!(outputs[0] == outputs[1], "two replays of one log differ");
}

#[test]
fn simulate_is_reproducible_by_seed() {
    let dir = tempfile::tempdir().unwrap();
    let run = |seed: &str, name: &str| {
        let out = dir.path().join(name);
        simulate(
            &[
                "--scenario",
                "summer-surplus",
                "--duration",
                "2m",
                "--seed",
                seed,
            ],
            &out,
        );
        std::fs::read(out).unwrap()
    };
    assert_eq!(run("3", "a"), run("3", "b"));
    assert_ne!(run("3", "a"), run("4", "c"));
}
