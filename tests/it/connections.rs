//! The listeners against hostile and careless clients: silent sockets, missing and
//! wrong tokens, file-descriptor exhaustion, HTTP ingest, slow clients at shutdown.

use crate::daemon::{at, snapshot};
use crate::support::{Daemon, Metrics, agent, binary, default_config, post, post_events};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Everything the server says until it closes the connection; fails if it keeps the
/// connection open for longer than a generous timeout.
fn until_closed(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut said = Vec::new();
    stream
        .read_to_end(&mut said)
        .expect("the server closes the connection");
    String::from_utf8(said).unwrap()
}

/// GETs `path` with a bearer token; returns the status.
fn get_with_token(http: SocketAddr, path: &str, token: &str) -> u16 {
    agent()
        .get(&format!("http://{http}{path}"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap()
        .status()
        .as_u16()
}

fn accepted(metrics: &Metrics) -> f64 {
    metrics.sum("vakhsh_events_accepted_total")
}

#[test]
fn silent_sockets_are_reclaimed_and_a_gateway_then_gets_in() {
    let daemon = Daemon::start(&[("VAKHSH__TCP__IDLE_TIMEOUT", "3s")]);
    let mut silent: Vec<TcpStream> = (0..64)
        .map(|_| TcpStream::connect(daemon.tcp).unwrap())
        .collect();
    let mut locked_out = TcpStream::connect(daemon.tcp).unwrap();
    assert_eq!(
        until_closed(&mut locked_out),
        "ERR too many connections\n",
        "64 silent sockets hold every slot"
    );
    for stream in &mut silent {
        assert_eq!(until_closed(stream), "ERR idle timeout\n");
    }

    let mut gateway = TcpStream::connect(daemon.tcp).unwrap();
    let line = format!(
        r#"{{"type":"demand","ts":"{}","load":"talco","mw":400}}"#,
        at(0)
    );
    gateway.write_all(format!("{line}\n").as_bytes()).unwrap();
    daemon.wait_for_metrics("the gateway's line", |m| accepted(m) == 1.0);
}

#[test]
fn a_connection_that_never_sends_auth_is_closed_after_the_auth_timeout() {
    let daemon = Daemon::start(&[
        ("VAKHSH__TCP__TOKEN", "s3cret"),
        ("VAKHSH__TCP__AUTH_TIMEOUT", "1s"),
    ]);
    let mut stream = TcpStream::connect(daemon.tcp).unwrap();
    assert_eq!(until_closed(&mut stream), "ERR unauthorized\n");
    daemon.wait_for_metrics("the missing AUTH to be counted", |m| {
        m.sum(r#"vakhsh_auth_failures_total{listener="tcp"}"#) == 1.0
    });
}

#[test]
fn a_wrong_token_is_refused_and_counted_and_the_right_one_let_in() {
    let daemon = Daemon::start(&[("VAKHSH__TCP__TOKEN", "s3cret")]);
    let mut wrong = TcpStream::connect(daemon.tcp).unwrap();
    wrong.write_all(b"AUTH s3creT\n").unwrap();
    assert_eq!(until_closed(&mut wrong), "ERR unauthorized\n");
    let metrics = Metrics(daemon.get("/metrics").1);
    assert_eq!(
        metrics.sum(r#"vakhsh_auth_failures_total{listener="tcp"}"#),
        1.0
    );

    let mut lines = vec!["AUTH s3cret".to_string()];
    lines.extend(snapshot(0, 100.0));
    daemon.send(&lines);
    let expected = (lines.len() - 1) as f64;
    daemon.wait_for_metrics("the authorised lines", |m| accepted(m) == expected);
    let metrics = Metrics(daemon.get("/metrics").1);
    assert_eq!(metrics.sum("vakhsh_auth_failures_total"), 1.0);
}

#[test]
fn an_empty_token_is_a_configuration_error() {
    let dir = tempfile::tempdir().unwrap();
    let reference = std::fs::read_to_string(default_config()).unwrap();
    for section in ["tcp", "http"] {
        let header = format!("[{section}]\n");
        assert!(reference.contains(&header), "{header:?}");
        let config = dir.path().join(format!("{section}.toml"));
        let text = reference.replacen(&header, &format!("{header}token = \"\"\n"), 1);
        std::fs::write(&config, text).unwrap();
        let output = binary().arg("check-config").arg(&config).output().unwrap();
        assert_eq!(output.status.code(), Some(78), "[{section}] token = \"\"");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let want = format!(r#"{section}.token = "": an empty token is not allowed"#);
        assert!(stderr.contains(&want), "missing {want:?} in:\n{stderr}");
    }
}

#[test]
fn a_zero_timeout_is_a_configuration_error() {
    for key in [
        "tcp.idle_timeout",
        "tcp.auth_timeout",
        "http.idle_timeout",
        "http.auth_timeout",
    ] {
        let variable = format!("VAKHSH__{}", key.replace('.', "__").to_uppercase());
        let output = binary()
            .arg("check-config")
            .arg(default_config())
            .env(&variable, "0s")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(78), "{variable}=0s");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let want = format!(r#"{key} = "0s": must be longer than 0s"#);
        assert!(stderr.contains(&want), "missing {want:?} in:\n{stderr}");
    }
}

#[test]
fn out_of_file_descriptors_the_listener_waits_instead_of_spinning() {
    let daemon = Daemon::start_with_open_files(40, &[]);
    let before = Metrics(daemon.get("/metrics").1);
    // Far more connections than the process has descriptors left: the last ones
    // stay in the listen backlog while every accept fails.
    let held: Vec<TcpStream> = (0..60)
        .map(|_| TcpStream::connect(daemon.tcp).unwrap())
        .collect();
    daemon.wait_for_log("an accept to fail", |line| {
        line.contains("accepting a") && line.contains("failed")
    });
    let holding = Instant::now();
    while holding.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(held);
    let after = Metrics(daemon.get("/metrics").1);
    let cpu = after.sum("process_cpu_seconds_total") - before.sum("process_cpu_seconds_total");
    assert!(
        cpu < 0.5,
        "{cpu} s of CPU while accepts failed for 3 s: the accept loop spins"
    );

    let line = format!(
        r#"{{"type":"demand","ts":"{}","load":"talco","mw":400}}"#,
        at(0)
    );
    daemon.send(&[line]);
    daemon.wait_for_metrics("a line on a new connection", |m| accepted(m) == 1.0);
}

#[test]
fn events_posted_over_http_are_judged_like_tcp_lines_and_answered_with_counts() {
    let daemon = Daemon::start(&[]);
    let event = |load: &str, second: u32, seq: u32| {
        format!(
            r#"{{"type":"demand","ts":"{}","load":"{load}","mw":400,"source":"gw","seq":{seq}}}"#,
            at(second)
        )
    };
    let body = [
        event("talco", 100, 1),
        event("south-households", 100, 2),
        event("south-households", 100, 2),
        "{not json".to_string(),
        String::new(),
        format!(
            r#"{{"type":"demand","ts":"{}","load":"talco","mw":1}}"#,
            at(0)
        ),
        format!(r#"{{"type":"demand","x":"{}"}}"#, "y".repeat(70_000)),
    ]
    .join("\n");
    let (status, answer) = post_events(daemon.http, body.as_bytes(), None);
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        answer,
        serde_json::json!({"received": 6, "accepted": 2, "rejected": 3, "duplicate": 1})
    );

    let metrics = Metrics(daemon.get("/metrics").1);
    let received = metrics.sum("vakhsh_events_received_total");
    assert_eq!(received, 6.0);
    assert_eq!(
        received,
        metrics.sum("vakhsh_events_accepted_total")
            + metrics.sum("vakhsh_events_rejected_total")
            + metrics.sum("vakhsh_events_duplicate_total")
    );
    for reason in ["malformed", "late", "too_large"] {
        let series = format!(r#"vakhsh_events_rejected_total{{reason="{reason}"}}"#);
        assert_eq!(metrics.sum(&series), 1.0, "{series}");
    }
}

#[test]
fn http_has_a_connection_limit_and_a_body_limit() {
    let daemon = Daemon::start(&[
        ("VAKHSH__HTTP__MAX_CONNECTIONS", "2"),
        ("VAKHSH__HTTP__MAX_BODY_BYTES", "1000"),
    ]);
    let holding: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(daemon.http).unwrap())
        .collect();
    let mut refused = TcpStream::connect(daemon.http).unwrap();
    let answer = until_closed(&mut refused);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    drop(holding);

    let line = format!(
        r#"{{"type":"demand","ts":"{}","load":"talco","mw":400}}"#,
        at(0)
    );
    let body = vec![line; 20].join("\n");
    // The daemon frees the two slots once it has seen the connections close.
    assert_eq!(post_events(daemon.http, body.as_bytes(), None).0, 413);
    let metrics = Metrics(daemon.get("/metrics").1);
    assert_eq!(metrics.sum("vakhsh_events_received_total"), 0.0);
}

#[test]
fn silent_and_idle_keep_alive_http_connections_are_closed_after_the_auth_timeout() {
    let daemon = Daemon::start(&[("VAKHSH__HTTP__AUTH_TIMEOUT", "1s")]);
    let mut silent = TcpStream::connect(daemon.http).unwrap();
    assert_eq!(until_closed(&mut silent), "");
    let mut idle = TcpStream::connect(daemon.http).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: vakhsh\r\n\r\n")
        .unwrap();
    let answer = until_closed(&mut idle);
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.ends_with("\r\n\r\nok\n"),
        "{answer}"
    );
}

#[test]
fn the_http_token_guards_the_api_but_not_metrics_or_health() {
    let daemon = Daemon::start(&[("VAKHSH__HTTP__TOKEN", "s3cret")]);
    assert_eq!(daemon.get("/v1/latency").0, 401);
    assert_eq!(get_with_token(daemon.http, "/v1/latency", "wrong"), 401);
    assert_eq!(get_with_token(daemon.http, "/v1/latency", "s3cret"), 200);
    let line = format!(
        r#"{{"type":"demand","ts":"{}","load":"talco","mw":400}}"#,
        at(0)
    );
    assert_eq!(
        post(daemon.http, "/v1/events", line.as_bytes(), None).0,
        401
    );
    let (status, answer) = post_events(daemon.http, line.as_bytes(), Some("s3cret"));
    assert_eq!((status, answer.contains(r#""accepted":1"#)), (200, true));
    assert_eq!(daemon.get("/healthz").0, 200);
    let (status, metrics) = daemon.get("/metrics");
    assert_eq!(status, 200);
    assert_eq!(
        Metrics(metrics).sum(r#"vakhsh_auth_failures_total{listener="http"}"#),
        3.0
    );
}

#[test]
fn sigterm_does_not_wait_for_a_half_sent_http_request_beyond_the_grace() {
    let mut daemon = Daemon::start(&[("VAKHSH__PIPELINE__SHUTDOWN_GRACE", "2s")]);
    let mut slow = TcpStream::connect(daemon.http).unwrap();
    slow.write_all(
        b"POST /v1/events HTTP/1.1\r\nHost: vakhsh\r\nContent-Length: 1000\r\n\r\n{\"type\":",
    )
    .unwrap();
    let mut head_only = TcpStream::connect(daemon.http).unwrap();
    head_only
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: vakh")
        .unwrap();
    // The server is serving: both requests above are in its hands.
    assert_eq!(daemon.get("/healthz").0, 200);

    // The daemon exits when the grace is over, not before: allow it a little more.
    let grace = Duration::from_secs(2);
    let exit = daemon.stop_within("-TERM", grace + Duration::from_secs(3));
    let exit = exit.expect("the daemon still runs after the shutdown grace");
    assert!(exit.success(), "{exit:?}");
    drop((slow, head_only));
}
