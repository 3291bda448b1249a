//! The hostile corpus of `tests/data/hostile.tsv`: every kind of bad line a broken or
//! hostile sender writes, each with the outcome SPEC gives it, sent as a gateway sends.

use crate::live::{assert_balanced, now_plus, wait_judged};
use crate::support::{Daemon, eventually, post_events};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

/// (outcome, line) for every case of the corpus, its placeholders filled in for now.
pub fn corpus() -> Vec<(String, Vec<u8>)> {
    let text = include_str!("../data/hostile.tsv");
    let (now, later) = (now_plus(0), now_plus(1000));
    let (future, past) = (now_plus(58 * 60_000), now_plus(-3_600_000));
    let long_source = "s".repeat(300);
    let huge = "x".repeat(70_000);
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (outcome, line) = l.split_once('\t').expect("outcome<TAB>line");
            let line = line
                .replace("{now}", &now)
                .replace("{later}", &later)
                .replace("{future}", &future)
                .replace("{past}", &past)
                .replace("{long_source}", &long_source)
                .replace("{huge}", &huge);
            let mut bytes = Vec::new();
            for (i, part) in line.split("{xff}").enumerate() {
                if i > 0 {
                    bytes.push(0xff);
                }
                bytes.extend_from_slice(part.as_bytes());
            }
            (outcome.to_string(), bytes)
        })
        .collect()
}

/// How many cases expect each outcome.
pub fn expected(cases: &[(String, Vec<u8>)]) -> BTreeMap<&str, f64> {
    let mut counts = BTreeMap::new();
    for (outcome, _) in cases {
        *counts.entry(outcome.as_str()).or_insert(0.0) += 1.0;
    }
    counts
}

/// Every outcome counted as the corpus says, and every refused line in the dead-letter
/// file with its reason, in order.
pub fn assert_judged_as_the_corpus_says(daemon: &Daemon, cases: &[(String, Vec<u8>)]) {
    let metrics = wait_judged(daemon, cases.len() as f64);
    assert_balanced(&metrics);
    let expected = expected(cases);
    for (outcome, count) in &expected {
        let got = match *outcome {
            "accepted" => metrics.sum("vakhsh_events_accepted_total"),
            "duplicate" => metrics.sum("vakhsh_events_duplicate_total"),
            reason => metrics.sum(&format!(
                r#"vakhsh_events_rejected_total{{reason="{reason}"}}"#
            )),
        };
        assert_eq!(got, *count, "{outcome}:\n{}", metrics.0);
    }
    let refused: Vec<&str> = cases
        .iter()
        .map(|(outcome, _)| outcome.as_str())
        .filter(|o| *o != "accepted" && *o != "duplicate")
        .collect();
    let path = daemon.path("dead-letter.jsonl");
    let letters = eventually(
        "a dead letter per refused line",
        Duration::from_secs(30),
        || {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let letters: Vec<serde_json::Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            match letters.len() >= refused.len() {
                true => Ok(letters),
                false => Err(format!("{} of {} so far", letters.len(), refused.len())),
            }
        },
    );
    // Decoding and ingest refuse at different stages, so the file's order is not the
    // corpus's: each letter is matched to its line instead.
    let mut reasons: Vec<&str> = letters
        .iter()
        .map(|l| l["reason"].as_str().unwrap())
        .collect();
    reasons.sort();
    let mut refused = refused;
    refused.sort();
    assert_eq!(reasons, refused, "one dead letter per refused line");
    for letter in &letters {
        let raw = letter["raw"].as_str().unwrap();
        let reason = letter["reason"].as_str().unwrap();
        let case = cases
            .iter()
            .find(|(_, line)| String::from_utf8_lossy(line).starts_with(raw) && !raw.is_empty());
        assert_eq!(case.map(|(o, _)| o.as_str()), Some(reason), "{letter}");
    }
}

#[test]
fn the_hostile_corpus_over_one_open_tcp_connection() {
    let daemon = Daemon::start(&[]);
    let cases = corpus();
    let mut gateway = TcpStream::connect(daemon.tcp).unwrap();
    for (_, line) in &cases {
        gateway.write_all(line).unwrap();
        gateway.write_all(b"\n").unwrap();
    }
    assert_judged_as_the_corpus_says(&daemon, &cases);
    drop(gateway);
}

#[test]
fn the_hostile_corpus_in_one_http_request() {
    let daemon = Daemon::start(&[]);
    let cases = corpus();
    let mut body = Vec::new();
    for (_, line) in &cases {
        body.extend_from_slice(line);
        body.push(b'\n');
    }
    let (status, answer) = post_events(daemon.http, &body, None);
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    let expected = expected(&cases);
    let count = |outcome: &str| expected.get(outcome).copied().unwrap_or(0.0);
    let rejected = cases.len() as f64 - count("accepted") - count("duplicate");
    assert_eq!(answer["received"], cases.len() as u64, "{answer}");
    assert_eq!(
        answer["accepted"].as_f64(),
        Some(count("accepted")),
        "{answer}"
    );
    assert_eq!(
        answer["duplicate"].as_f64(),
        Some(count("duplicate")),
        "{answer}"
    );
    assert_eq!(answer["rejected"].as_f64(), Some(rejected), "{answer}");
    assert_judged_as_the_corpus_says(&daemon, &cases);
}

/// Thousands of senders with the longest names a line can carry: the names are
/// refused, and memory does not grow with them. The pipeline's edges may hold about
/// 64 MiB of such lines at once (batches close at 256 KiB, dead letters wait 256 at a
/// time), so that is what memory may grow by; 5,000 lines of 60 KB are 300 MB.
#[test]
fn unique_sender_names_do_not_grow_memory() {
    let _alone = crate::support::exclusive();
    let daemon = Daemon::start(&[]);
    let before = daemon.get("/metrics").1;
    let rss =
        |text: &str| crate::support::Metrics(text.to_string()).sum("process_resident_memory_bytes");
    let mut gateway = std::io::BufWriter::new(TcpStream::connect(daemon.tcp).unwrap());
    let now = now_plus(0);
    let lines = 5_000;
    for i in 0..lines {
        let name = format!("{i:06}{}", "n".repeat(60_000));
        writeln!(
            gateway,
            r#"{{"type":"heartbeat","ts":"{now}","source":"{name}","seq":1}}"#
        )
        .unwrap();
    }
    gateway.flush().unwrap();
    let after = wait_judged(&daemon, f64::from(lines));
    assert_eq!(
        after.sum(r#"vakhsh_events_rejected_total{reason="invalid_value"}"#),
        f64::from(lines)
    );
    eprintln!(
        "5,000 lines with 60 KB sender names: resident memory {:.1} MB before, {:.1} MB after",
        rss(&before) / 1e6,
        after.sum("process_resident_memory_bytes") / 1e6
    );
    assert!(
        after.sum("process_resident_memory_bytes") < rss(&before) + 128e6,
        "resident memory grew from {} to {} bytes",
        rss(&before),
        after.sum("process_resident_memory_bytes")
    );
    drop(gateway);
}
