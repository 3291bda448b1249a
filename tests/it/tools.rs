//! The tools as a user runs them: a command that fails leaves its output files as they
//! were, `diff` and `replay` agree on energy and refuse what they cannot compare, and a
//! log damaged in the middle has a way out.

use crate::support::{Daemon, binary, default_config, replay, simulate, verify_log};
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

/// The command failed, exit 1, naming `named`, and left `out` holding `was` and no
/// other file beside it: no partial output, no temporary.
fn failed_leaving_as_it_was(output: &Output, named: &str, out: &Path, was: &str) {
    let said = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains(named), "{named:?} in {said}");
    assert_eq!(std::fs::read_to_string(out).unwrap(), was);
    let dir = out.parent().unwrap();
    let name = out.file_name().unwrap().to_string_lossy();
    assert_eq!(names(dir), [name]);
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
    failed_leaving_as_it_was(&output, "missing.jsonl", &out, "yesterday's decisions\n");
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
    failed_leaving_as_it_was(&output, "events.jsonl", &out, "last week's events\n");
}

/// Ten minutes of a winter shortage replayed: the replay's summary and its decisions.
fn replayed(dir: &Path) -> (String, Vec<String>) {
    let events = dir.join("events.jsonl");
    let args = ["--scenario", "winter-shortage", "--duration", "10m"];
    simulate(&[&args[..], &["--seed", "7"]].concat(), &events);
    let out = dir.join("decisions.jsonl");
    let summary = replay(&events, &out);
    let decisions = std::fs::read_to_string(&out).unwrap();
    (summary, decisions.lines().map(str::to_string).collect())
}

/// `vakhsh diff` of two decision files given as lines.
fn diff(dir: &Path, a: &[String], b: &[String]) -> Output {
    diff_with(dir, a, b, &[])
}

/// `vakhsh diff` of two decision files given as lines, with more arguments.
fn diff_with(dir: &Path, a: &[String], b: &[String], args: &[&std::ffi::OsStr]) -> Output {
    let (path_a, path_b) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
    std::fs::write(&path_a, a.join("\n")).unwrap();
    std::fs::write(&path_b, b.join("\n")).unwrap();
    binary()
        .arg("diff")
        .arg(path_a)
        .arg(path_b)
        .args(args)
        .output()
        .unwrap()
}

/// The `ts` of a decision line.
fn ts(line: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(line).unwrap();
    value["ts"].as_str().unwrap().to_string()
}

/// The MWh rows of a report, from "exported MWh per contract:" up to the hours per
/// state (the revenue rows among them): each row's name and its figure, the
/// `from_end`-th word from the end.
fn mwh_rows(report: &str, from_end: usize) -> Vec<(String, String)> {
    report
        .lines()
        .skip_while(|l| !l.starts_with("exported MWh per contract:"))
        .take_while(|l| !l.starts_with("hours in each state"))
        .map(|l| l.replacen("spilled MWh:", "  spilled MWh", 1))
        .filter(|l| l.starts_with("  "))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let (name, figures) = words.split_at(words.len() - from_end);
            (name.join(" "), figures[0].to_string())
        })
        .collect()
}

#[test]
fn replay_and_diff_agree_on_every_mwh_figure_and_revenue() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, decisions) = replayed(dir.path());
    let config = default_config();
    let output = diff_with(
        dir.path(),
        &decisions,
        &decisions,
        &["--config".as_ref(), config.as_os_str()],
    );
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{}", stderr(&output));
    let replayed = mwh_rows(&summary, 1);
    assert!(
        replayed.iter().any(|(name, _)| name == "tier 6") && replayed.len() > 8,
        "{summary}"
    );
    // The reference grid gives every export a tariff, the transit none.
    let priced: Vec<&str> = report
        .lines()
        .skip_while(|l| *l != "revenue USD per contract:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        priced,
        [
            "af-supply",
            "casa-af",
            "casa-pk",
            "gbao-badakhshan",
            "uz-spot"
        ],
        "{report}"
    );
    assert_eq!(replayed, mwh_rows(&report, 3), "{summary}\n{report}");
    // Without a configuration, diff has no tariffs and shows no revenue.
    let plain = diff(dir.path(), &decisions, &decisions);
    let plain = String::from_utf8_lossy(&plain.stdout).into_owned();
    assert!(!plain.contains("revenue"), "{plain}");
}

#[test]
fn diff_refuses_decision_files_whose_windows_do_not_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let (_, decisions) = replayed(dir.path());
    let third = decisions.len() / 3;
    let (a, b) = (&decisions[..third], &decisions[2 * third..]);
    let output = diff(dir.path(), a, b);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let message = stderr(&output);
    let window = |lines: &[String]| format!("{} to {}", ts(&lines[0]), ts(&lines[lines.len() - 1]));
    assert!(
        message.contains("do not overlap")
            && message.contains(&format!("A {}", window(a)))
            && message.contains(&format!("B {}", window(b))),
        "{message}"
    );
}

#[test]
fn diff_of_windows_that_overlap_in_part_compares_only_the_common_window() {
    let dir = tempfile::tempdir().unwrap();
    let (_, decisions) = replayed(dir.path());
    let third = decisions.len() / 3;
    let (a, b) = (&decisions[..2 * third], &decisions[third..]);
    let output = diff(dir.path(), a, b);
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{}", stderr(&output));
    let (start, end) = (ts(&decisions[third]), ts(&decisions[2 * third - 1]));
    let (first, last) = (ts(&decisions[0]), ts(&decisions[decisions.len() - 1]));
    for expected in [
        format!("A covers {first} to {end}"),
        format!("B covers {start} to {last}"),
        format!("compared: only the window both cover, {start} to {end}"),
        "the schedules are identical".to_string(),
    ] {
        assert!(report.contains(&expected), "{expected:?} in\n{report}");
    }
    let changes = mwh_rows(&report, 1);
    assert!(
        changes.len() > 8 && changes.iter().all(|(_, change)| change == "+0.000"),
        "the same decisions over the same window:\n{report}"
    );
}

#[test]
fn a_log_damaged_in_its_middle_stops_the_start_and_the_command_it_names_gets_past_it() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let args = ["--scenario", "winter-shortage", "--duration", "2m"];
    simulate(
        &[&args[..], &["--start", "2026-01-11T00:00:00Z"]].concat(),
        &events,
    );
    let text = std::fs::read_to_string(&events).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    // Small segments, so that the daemon's batches fill several.
    let env = [("VAKHSH__LOG__SEGMENT_BYTES", "4096")];
    let state = dir.path().join("daemon");
    std::fs::create_dir(&state).unwrap();
    let mut daemon = Daemon::start_in(&state, &env);
    daemon.send(&lines);
    let all = lines.len() as f64;
    daemon.wait_for_metrics("every line to be logged", |m| {
        m.sum("vakhsh_event_log_synced_sequence") == all
    });
    let (exit, _) = daemon.stop("-TERM");
    assert!(exit.success());

    let log = state.join("log");
    let segments: Vec<String> = names(&log)
        .into_iter()
        .filter(|n| n.ends_with(".vlog"))
        .collect();
    assert!(segments.len() > 3, "{segments:?}");
    let first = log.join(&segments[0]);
    let mut bytes = std::fs::read(&first).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&first, &bytes).unwrap();

    // `log verify` finds the damage and names the same way out as the failed start.
    let (code, verified) = verify_log(&log);
    assert_eq!(code, Some(1), "{verified}");
    let offset: u64 = verified
        .split("bad at byte ")
        .nth(1)
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no offset in {verified:?}"));
    assert!(offset > 0 && offset <= middle as u64, "{verified}");
    let command = format!(
        "vakhsh log truncate {} --segment {} --offset {offset}",
        log.display(),
        segments[0]
    );
    assert!(verified.contains(&command), "{command:?} in {verified}");

    let failed = Daemon::command_in(&state, &env).output().unwrap();
    let message = stderr(&failed);
    assert_eq!(failed.status.code(), Some(1), "{message}");
    for expected in [
        format!("segment {} at byte {offset}", first.display()),
        command.clone(),
    ] {
        assert!(message.contains(&expected), "{expected:?} in {message}");
    }

    let words: Vec<&str> = command.split(' ').skip(1).collect();
    let truncate = binary().args(&words).output().unwrap();
    assert!(truncate.status.success(), "{}", stderr(&truncate));
    let aside = log.join(format!("damaged-{}", segments[0].trim_end_matches(".vlog")));
    // The failed start opened a segment of its own after them.
    let moved = names(&aside);
    assert!(
        segments.iter().all(|s| moved.contains(s)),
        "nothing is deleted: {moved:?}"
    );
    assert_eq!(std::fs::read(aside.join(&segments[0])).unwrap(), bytes);

    // The daemon starts on the events before the damage, and its decisions are those
    // of a replay of exactly those events.
    let (code, verified) = verify_log(&log);
    assert_eq!(code, Some(0), "{verified}");
    let kept: usize = verified
        .split("last ingest sequence ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no sequence in {verified:?}"));
    assert!(kept > 0 && kept < lines.len(), "{verified}");
    let mut daemon = Daemon::start_in(&state, &env);
    let recovered = daemon.wait_for_metrics("the log gauge", |_| true);
    assert_eq!(
        recovered.sum("vakhsh_event_log_synced_sequence"),
        kept as f64
    );
    let (exit, _) = daemon.stop("-TERM");
    assert!(exit.success());
    let before = dir.path().join("before.jsonl");
    std::fs::write(&before, lines[..kept].join("\n") + "\n").unwrap();
    let reference = dir.path().join("reference.jsonl");
    replay(&before, &reference);
    assert!(
        std::fs::read(state.join("decisions.jsonl")).unwrap() == std::fs::read(&reference).unwrap(),
        "the recovered decisions are those of the events before the damage"
    );
}

/// A configuration file as the daemon reads it, as a JSON value.
fn config_value(path: &Path) -> serde_json::Value {
    config::Config::builder()
        .add_source(config::File::from(path))
        .build()
        .unwrap()
        .try_deserialize()
        .unwrap()
}

/// Every path at which `a` and `b` differ, with `b`'s value.
fn differences(a: &serde_json::Value, b: &serde_json::Value, at: &str, out: &mut Vec<String>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let (va, vb) = (x.get(k), y.get(k));
                let null = Value::Null;
                differences(
                    va.unwrap_or(&null),
                    vb.unwrap_or(&null),
                    &format!("{at}.{k}"),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                differences(va, vb, &format!("{at}[{i}]"), out);
            }
        }
        _ if a != b => out.push(format!("{at} = {b}")),
        _ => {}
    }
}

/// The README's what-if: `config/what-if.toml` is the reference grid with the N-1
/// reserve turned off and nothing else, and a replay of the same winter with it serves
/// more and holds less, which `diff` shows.
#[test]
fn the_shipped_what_if_changes_one_rule_and_the_diff_shows_what_it_buys() {
    let what_if = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/what-if.toml");
    let mut changed = Vec::new();
    differences(
        &config_value(&default_config()),
        &config_value(&what_if),
        "",
        &mut changed,
    );
    assert_eq!(changed, [".reserve.largest_unit = false"]);

    let dir = tempfile::tempdir().unwrap();
    let (_, base) = replayed(dir.path());
    let out = dir.path().join("what-if.jsonl");
    let replayed = binary()
        .arg("replay")
        .arg(dir.path().join("events.jsonl"))
        .arg("--config")
        .arg(&what_if)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(replayed.status.success(), "{}", stderr(&replayed));
    let decisions = std::fs::read_to_string(&out).unwrap();
    let what_if_lines: Vec<String> = decisions.lines().map(str::to_string).collect();
    let output = diff_with(
        dir.path(),
        &base,
        &what_if_lines,
        &["--config".as_ref(), what_if.as_os_str()],
    );
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(report.contains("schedules differ"), "{report}");
    // Tier 4 (industry, the firm exports) gets what the reserve no longer holds.
    let tier4 = report
        .lines()
        .find(|l| l.trim_start().starts_with("tier 4 "))
        .expect("tier 4 row");
    let change: f64 = tier4.split_whitespace().last().unwrap().parse().unwrap();
    assert!(change < -10.0, "{report}");
}

/// `vakhsh completions bash`, sourced into a real bash, completes subcommand names the
/// way a user's Tab does; `vakhsh man` is a roff page naming every subcommand.
#[test]
fn completions_complete_in_bash_and_the_man_page_names_every_command() {
    let vakhsh = env!("CARGO_BIN_EXE_vakhsh");
    let complete = |typed: &str| {
        let script = format!(
            r#"source <("{vakhsh}" completions bash) || exit 3
COMP_WORDS=(vakhsh {typed}); COMP_CWORD=1; COMP_LINE="vakhsh {typed}"; COMP_POINT=${{#COMP_LINE}}
_vakhsh vakhsh {typed} vakhsh
echo "${{COMPREPLY[@]}}""#
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(complete("re"), "replay");
    assert_eq!(complete("check-"), "check-config");
    assert_eq!(complete("si"), "simulate");

    let man = binary().arg("man").output().unwrap();
    assert!(man.status.success(), "{}", stderr(&man));
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(page.contains(".TH vakhsh 1"), "{page}");
    let subcommands = page.split(".SH SUBCOMMANDS").nth(1).unwrap_or_default();
    for command in ["run", "check\\-config", "simulate", "replay", "diff", "log"] {
        let entry = format!("vakhsh\\-{command}(1)");
        assert!(subcommands.contains(&entry), "{entry}: {page}");
    }
}
