//! A full disk under each output file: ingest stops, `/readyz` names the file, an error
//! counter rises, and once space is back writing resumes with nothing lost or torn. And
//! one event log has one writer.
//!
//! The full-disk tests mount a small tmpfs, so they need root (CI runs them as root);
//! elsewhere they say they are skipped and pass.

use crate::support::{Daemon, Metrics, binary, eventually, export_log, replay, simulate};
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A 2 MiB tmpfs, unmounted when dropped (a failing test included).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts it, or says why not and gives `None` when not running as root.
    fn mount() -> Option<Tmpfs> {
        let uid = Command::new("id").arg("-u").output().unwrap();
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            eprintln!("skipped: mounting a tmpfs to fill needs root");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(
            mounted.success(),
            "mount a tmpfs on {}",
            dir.path().display()
        );
        Some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the filesystem to the last byte with a filler file, and returns its path.
    fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut filler = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while filler.write_all(&chunk).is_ok() {}
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount").arg(self.path()).status();
        if !unmounted.is_ok_and(|s| s.success()) {
            let _ = Command::new("umount").arg("-l").arg(self.path()).status();
        }
    }
}

/// Five minutes of simulated telemetry with a malformed line after every second one,
/// so that every output file has something to write.
fn telemetry(dir: &Path) -> Vec<String> {
    let events = dir.join("events.jsonl");
    simulate(
        &[
            "--scenario",
            "winter-shortage",
            "--duration",
            "5m",
            "--seed",
            "7",
            "--start",
            "2026-01-11T00:00:00Z",
        ],
        &events,
    );
    let text = std::fs::read_to_string(&events).unwrap();
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        lines.push(line.to_string());
        if i % 2 == 1 {
            lines.push(format!("not json, line {i}"));
        }
    }
    lines
}

/// Sends `lines` over one connection from a thread of its own: a daemon holding ingest
/// back stops reading, and the writes wait.
fn send_in_background(daemon: &Daemon, lines: &[String]) -> JoinHandle<std::io::Result<()>> {
    let mut text = lines.join("\n");
    text.push('\n');
    let mut stream = TcpStream::connect(daemon.tcp).unwrap();
    std::thread::spawn(move || stream.write_all(text.as_bytes()))
}

/// Polls `/readyz` until `done` holds for its status and body.
fn wait_for_readyz(daemon: &Daemon, what: &str, done: impl Fn(u16, &str) -> bool) {
    eventually(what, Duration::from_secs(60), || {
        let (status, body) = daemon.get("/readyz");
        match done(status, &body) {
            true => Ok(()),
            false => Err(format!("/readyz: {status} {body}")),
        }
    })
}

/// Complete lines in `path` so far (a write may be under way).
fn complete_lines(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes.iter().filter(|&&b| b == b'\n').count()
}

/// Every line of `path` is whole JSON; returns how many there are.
fn json_lines(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "{} ends in a torn line",
        path.display()
    );
    let lines: Vec<&str> = text.lines().collect();
    for (n, line) in lines.iter().enumerate() {
        if let Err(e) = serde_json::from_str::<serde_json::Value>(line) {
            panic!("{} line {}: {e}: {line:?}", path.display(), n + 1);
        }
    }
    lines.len()
}

/// The events `vakhsh log export` finds in the log at `dir`.
fn logged_events(dir: &Path, scratch: &Path) -> usize {
    let out = scratch.join("exported.jsonl");
    export_log(dir, &out);
    json_lines(&out)
}

/// One output file: its metric label, how `/readyz` names it, the environment
/// variable that places it, and its name on the tmpfs.
struct Output {
    file: &'static str,
    described: &'static str,
    key: &'static str,
    name: &'static str,
}

const EVENT_LOG: Output = Output {
    file: "event_log",
    described: "the event log",
    key: "VAKHSH__LOG__DIR",
    name: "log",
};

const DECISIONS: Output = Output {
    file: "decisions",
    described: "the decision file",
    key: "VAKHSH__OUTPUT__DECISIONS",
    name: "decisions.jsonl",
};

const DEAD_LETTER: Output = Output {
    file: "dead_letter",
    described: "the dead-letter file",
    key: "VAKHSH__OUTPUT__DEAD_LETTER",
    name: "dead-letter.jsonl",
};

/// A daemon with one output on a tmpfs that filled while telemetry was sent:
/// `/readyz` names the output and its failed writes are counted.
struct Filled {
    /// Declared first, so dropped (killed) before the tmpfs is unmounted.
    daemon: Daemon,
    tmpfs: Tmpfs,
    scratch: tempfile::TempDir,
    /// The output's name on the tmpfs.
    name: &'static str,
    filler: PathBuf,
    lines: Vec<String>,
    sender: JoinHandle<std::io::Result<()>>,
}

impl Filled {
    /// `None` when not running as root.
    fn new(output: &Output, env: &[(&str, &str)]) -> Option<Filled> {
        let tmpfs = Tmpfs::mount()?;
        let scratch = tempfile::tempdir().unwrap();
        let lines = telemetry(scratch.path());
        let path = tmpfs.path().join(output.name);
        let mut env = env.to_vec();
        env.push((output.key, path.to_str().unwrap()));
        let daemon = Daemon::start_in(scratch.path(), &env);
        let filler = tmpfs.fill();
        let sender = send_in_background(&daemon, &lines);
        wait_for_readyz(&daemon, "503 naming the full file", |status, body| {
            status == 503 && body.contains(output.described)
        });
        daemon.wait_for_metrics("the write errors counted", |m| {
            m.sum(&errors(output)) > 0.0 && m.sum(&writable(output)) == 0.0
        });
        Some(Filled {
            daemon,
            tmpfs,
            scratch,
            name: output.name,
            filler,
            lines,
            sender,
        })
    }

    /// Where the daemon writes `name`: on the tmpfs or beside it.
    fn output(&self, name: &str) -> PathBuf {
        if name == self.name {
            self.tmpfs.path().join(name)
        } else {
            self.scratch.path().join(name)
        }
    }
}

fn errors(output: &Output) -> String {
    format!(
        "vakhsh_output_write_errors_total{{file=\"{}\"}}",
        output.file
    )
}

fn writable(output: &Output) -> String {
    format!("vakhsh_output_writable{{file=\"{}\"}}", output.file)
}

/// Fills the tmpfs under `output` while the daemon is fed, then frees it, and checks
/// that every output holds exactly what was counted, with no torn line.
fn fill_and_free(output: &Output) {
    let Some(mut filled) = Filled::new(output, &[]) else {
        return;
    };
    std::fs::remove_file(&filled.filler).unwrap();
    let daemon = &filled.daemon;
    wait_for_readyz(daemon, "ready again", |status, _| status == 200);
    let total = filled.lines.len() as f64;
    let dead_letters = filled.output(DEAD_LETTER.name);
    let decisions = filled.output(DECISIONS.name);
    let settled = |m: &Metrics| {
        let outcomes = m.sum("vakhsh_events_accepted_total")
            + m.sum("vakhsh_events_rejected_total")
            + m.sum("vakhsh_events_duplicate_total");
        m.sum("vakhsh_events_received_total") == total
            && outcomes == total
            && m.sum(&writable(output)) == 1.0
            && complete_lines(&dead_letters) as f64 == m.sum("vakhsh_events_rejected_total")
    };
    let metrics = daemon.wait_for_metrics("every line taken and written", settled);
    let (exit, log) = filled.daemon.stop("-TERM");
    assert!(exit.success(), "daemon exit {exit:?}:\n{}", log.join("\n"));

    assert!(metrics.sum("vakhsh_events_rejected_total") > 0.0);
    assert_eq!(
        json_lines(&dead_letters) as f64,
        metrics.sum("vakhsh_events_rejected_total")
    );
    let log = filled.output(EVENT_LOG.name);
    assert_eq!(
        logged_events(&log, filled.scratch.path()) as f64,
        metrics.sum("vakhsh_events_accepted_total"),
        "accepted events missing from the log"
    );
    // The decisions still being made when the counters settled are written by the
    // drain: the file then holds exactly the decisions the log implies.
    assert!(json_lines(&decisions) > 0);
    let replayed = filled.scratch.path().join("replayed.jsonl");
    replay(&log, &replayed);
    assert!(
        std::fs::read(&replayed).unwrap() == std::fs::read(&decisions).unwrap(),
        "the decision file differs from a replay of the log"
    );
    filled.sender.join().unwrap().unwrap();
}

#[test]
fn a_full_event_log_holds_ingest_back_and_loses_nothing() {
    fill_and_free(&EVENT_LOG);
}

#[test]
fn a_full_decision_file_holds_ingest_back_and_tears_no_line() {
    fill_and_free(&DECISIONS);
}

#[test]
fn a_full_dead_letter_file_holds_ingest_back_and_loses_no_reject() {
    fill_and_free(&DEAD_LETTER);
}

#[test]
fn a_shutdown_on_a_full_disk_retries_until_the_grace_period_then_exits_non_zero() {
    let grace = [("VAKHSH__PIPELINE__SHUTDOWN_GRACE", "2s")];
    let Some(mut filled) = Filled::new(&DECISIONS, &grace) else {
        return;
    };
    let (exit, log) = filled.daemon.stop("-TERM");
    assert_eq!(exit.code(), Some(1), "{}", log.join("\n"));
    assert!(
        log.iter().any(|l| l.contains("draining took longer")),
        "{}",
        log.join("\n")
    );
    json_lines(&filled.output(DECISIONS.name));
}

#[test]
fn a_second_daemon_on_the_same_log_exits_1_and_the_first_runs_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut first = Daemon::start_in(dir.path(), &[]);
    let mut second = Daemon::command_in(dir.path(), &[]).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while second.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            second.kill().unwrap();
            panic!("a second daemon on the same event log kept running");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = second.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let expected = format!(
        "error: the event log in {} is in use by another vakhsh process (pid {})",
        dir.path().join("log").display(),
        first.pid()
    );
    assert!(stderr.contains(&expected), "{stderr}");

    let lines = telemetry(dir.path());
    first.send(&lines[..200]);
    first.wait_for_metrics("the first daemon to take its lines", |m| {
        m.sum("vakhsh_events_received_total") == 200.0
    });
    let (exit, _) = first.stop("-TERM");
    assert!(exit.success());
    let verify = binary()
        .args(["log", "verify"])
        .arg(dir.path().join("log"))
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

/// A replay has no one to hold back for: on a full disk it fails at once, exit 1, and
/// the decision file it was to replace is left as it was.
#[test]
fn a_replay_onto_a_full_disk_fails_instead_of_waiting() {
    let Some(tmpfs) = Tmpfs::mount() else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let events = scratch.path().join("events.jsonl");
    simulate(
        &[
            "--scenario",
            "winter-shortage",
            "--duration",
            "2h",
            "--seed",
            "3",
        ],
        &events,
    );
    let out = tmpfs.path().join("decisions.jsonl");
    std::fs::write(&out, "the previous decisions\n").unwrap();
    tmpfs.fill();
    let replayed = binary()
        .arg("replay")
        .arg(&events)
        .arg("--config")
        .arg(crate::support::default_config())
        .arg("--out")
        .arg(&out)
        .env("VAKHSH__SCHEDULE__INTERVAL", "0s")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&replayed.stderr);
    assert_eq!(replayed.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("No space left"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "the previous decisions\n"
    );
}

/// `POST /v1/events` answers "accepted" only of events the log holds: while the log's
/// disk is full the answer waits, and it comes once the events are written.
#[test]
fn an_http_sender_hears_accepted_only_once_its_events_are_logged() {
    let Some(tmpfs) = Tmpfs::mount() else {
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    let log = tmpfs.path().join("log");
    let daemon = Daemon::start_in(
        scratch.path(),
        &[("VAKHSH__LOG__DIR", log.to_str().unwrap())],
    );
    let filler = tmpfs.fill();
    // More records than the page the segment already has room in.
    let ts = crate::live::now_plus(0);
    let body: String = (1..=200)
        .map(|seq| {
            format!(
                "{{\"type\":\"demand\",\"ts\":\"{ts}\",\"load\":\"talco\",\"mw\":300,\"source\":\"gw\",\"seq\":{seq}}}\n"
            )
        })
        .collect();
    let http = daemon.http;
    let answer =
        std::thread::spawn(move || crate::support::post_events(http, body.as_bytes(), None));
    wait_for_readyz(&daemon, "503 naming the event log", |status, body| {
        status == 503 && body.contains("the event log")
    });
    assert!(
        !answer.is_finished(),
        "answered while the event could not be logged"
    );
    std::fs::remove_file(filler).unwrap();
    let (status, counts) = answer.join().unwrap();
    assert_eq!(status, 200, "{counts}");
    assert!(counts.contains(r#""accepted":200"#), "{counts}");
    let synced = daemon.wait_for_metrics("the events synced", |m| {
        m.sum("vakhsh_event_log_synced_sequence") >= 200.0
    });
    assert_eq!(synced.sum("vakhsh_events_accepted_total"), 200.0);
}
