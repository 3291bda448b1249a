//! The tools as a user runs them: a command that fails leaves its output files as they
//! were, `diff` and `replay` agree on energy and refuse what they cannot compare, and a
//! log damaged in the middle has a way out.

use crate::support::{binary, default_config};
use std::path::Path;
use std::process::Output;

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_replay_of_a_missing_file_leaves_the_old_decisions_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("decisions.jsonl");
    std::fs::write(&out, "yesterday's decisions\n").unwrap();
    let output = binary()
        .arg("replay")
        .arg(dir.path().join("missing.jsonl"))
        .arg("--config")
        .arg(default_config())
        .arg("--out")
        .arg(&out)
        .arg("--dead-letter")
        .arg(dir.path().join("dead-letter.jsonl"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("missing.jsonl"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "yesterday's decisions\n"
    );
    assert_eq!(names(dir.path()), ["decisions.jsonl"]);
}

#[test]
fn a_simulation_whose_write_fails_leaves_neither_a_partial_file_nor_a_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("events.jsonl");
    std::fs::write(&out, "last week's events\n").unwrap();
    // The shell caps the size of any file the command writes at 8 KiB, so the write
    // fails part of the way through, as on a full disk.
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"trap "" XFSZ; ulimit -f 16; exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_vakhsh"))
        .args(["simulate", "--scenario", "winter-shortage", "--duration"])
        .args(["10m", "--config"])
        .arg(default_config())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("events.jsonl"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "last week's events\n"
    );
    assert_eq!(names(dir.path()), ["events.jsonl"]);
}
