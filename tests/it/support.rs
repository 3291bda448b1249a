//! Starting the real binary and talking to it.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Held by a test that floods the machine or measures latency, so that two such tests
/// never run at once and one does not slow the other down.
pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vakhsh"))
}

pub fn default_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml")
}

/// `vakhsh simulate` on the reference grid with `args` (scenario, duration, seed, …).
pub fn simulate(args: &[&str], out: &Path) {
    simulate_with(args, &[], out);
}

/// [`simulate`] with `[simulator]` knobs set through the environment
/// (`VAKHSH__SIMULATOR__…`), as a user overrides the reference configuration.
pub fn simulate_with(args: &[&str], env: &[(&str, &str)], out: &Path) {
    let status = binary()
        .arg("simulate")
        .args(args)
        .arg("--out")
        .arg(out)
        .arg("--config")
        .arg(default_config())
        .envs(env.iter().copied())
        .status()
        .unwrap();
    assert!(status.success(), "simulate {args:?} {env:?}");
}

/// `vakhsh log export LOG --out OUT` on the reference grid: every logged event as a JSON
/// line.
pub fn export_log(log: &Path, out: &Path) {
    let status = binary()
        .args(["log", "export"])
        .arg(log)
        .arg("--config")
        .arg(default_config())
        .arg("--out")
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success(), "log export {}", log.display());
}

/// `vakhsh log verify LOG`: its exit code (0 intact, 1 damaged) and what it printed.
pub fn verify_log(log: &Path) -> (Option<i32>, String) {
    let verify = binary().args(["log", "verify"]).arg(log).output().unwrap();
    let printed = String::from_utf8_lossy(&verify.stdout).into_owned();
    (verify.status.code(), printed)
}

/// `vakhsh replay INPUT --out OUT` on the reference grid; returns its stderr summary.
pub fn replay(input: &Path, out: &Path) -> String {
    replay_with(input, out, &[])
}

/// [`replay`] with more arguments (`--dead-letter FILE`, …).
pub fn replay_with(input: &Path, out: &Path, more: &[&std::ffi::OsStr]) -> String {
    let output = binary()
        .arg("replay")
        .arg(input)
        .arg("--config")
        .arg(default_config())
        .arg("--out")
        .arg(out)
        .args(more)
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "replay {}: {summary}",
        input.display()
    );
    summary
}

/// A daemon on the reference grid, with loopback ports chosen by the OS and its
/// outputs in a temporary directory.
pub struct Daemon {
    child: Child,
    dir: PathBuf,
    /// Owns the directory when the daemon made it.
    _temp: Option<tempfile::TempDir>,
    pub tcp: SocketAddr,
    pub http: SocketAddr,
    log: mpsc::Receiver<String>,
}

impl Daemon {
    /// Starts `vakhsh run` with the given extra environment and waits until it listens.
    pub fn start(env: &[(&str, &str)]) -> Daemon {
        let temp = tempfile::tempdir().unwrap();
        let mut daemon = Daemon::start_in(temp.path(), env);
        daemon._temp = Some(temp);
        daemon
    }

    /// The `vakhsh run` command `start_in` spawns, its stderr piped.
    pub fn command_in(dir: &Path, env: &[(&str, &str)]) -> Command {
        Daemon::configure(binary(), dir, env)
    }

    /// Starts a daemon whose log and outputs live in `dir`, as a restart would.
    pub fn start_in(dir: &Path, env: &[(&str, &str)]) -> Daemon {
        Daemon::launch(Daemon::command_in(dir, env), dir)
    }

    /// Starts a daemon that may hold at most `limit` open file descriptors.
    pub fn start_with_open_files(limit: u32, env: &[(&str, &str)]) -> Daemon {
        let temp = tempfile::tempdir().unwrap();
        let mut shell = Command::new("sh");
        shell
            .arg("-c")
            .arg(format!(r#"ulimit -n {limit} && exec "$0" "$@""#))
            .arg(env!("CARGO_BIN_EXE_vakhsh"));
        let command = Daemon::configure(shell, temp.path(), env);
        let mut daemon = Daemon::launch(command, temp.path());
        daemon._temp = Some(temp);
        daemon
    }

    /// Adds `vakhsh run`'s arguments and environment to `command`: loopback ports
    /// chosen by the OS, outputs in `dir`, then `env`.
    fn configure(mut command: Command, dir: &Path, env: &[(&str, &str)]) -> Command {
        command
            .args(["run", "--config"])
            .arg(default_config())
            .env("RUST_LOG", "vakhsh=info")
            .env("VAKHSH__SIMULATOR__ENABLED", "false")
            .env("VAKHSH__TCP__ADDRESS", "127.0.0.1:0")
            .env("VAKHSH__HTTP__ADDRESS", "127.0.0.1:0")
            .env("VAKHSH__OUTPUT__DECISIONS", dir.join("decisions.jsonl"))
            .env("VAKHSH__OUTPUT__DEAD_LETTER", dir.join("dead-letter.jsonl"))
            .env("VAKHSH__LOG__DIR", dir.join("log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        command
    }

    /// Spawns `command` and waits until the daemon reports where it listens.
    fn launch(mut command: Command, dir: &Path) -> Daemon {
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (mut tcp, mut http) = (None, None);
        let deadline = Instant::now() + Duration::from_secs(30);
        while tcp.is_none() || http.is_none() {
            let line = log
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("daemon did not report its addresses");
            let address = line
                .split("address=")
                .nth(1)
                .map(|a| a.trim().parse::<SocketAddr>().unwrap());
            if line.contains("listening for JSON-line events") {
                tcp = address;
            } else if line.contains("serving /metrics") {
                http = address;
            }
        }
        Daemon {
            child,
            dir: dir.to_path_buf(),
            _temp: None,
            tcp: tcp.unwrap(),
            http: http.unwrap(),
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Sends `lines` over one TCP connection, closed when they are written.
    pub fn send(&self, lines: &[impl AsRef<str>]) {
        let mut stream = TcpStream::connect(self.tcp).unwrap();
        for line in lines {
            stream.write_all(line.as_ref().as_bytes()).unwrap();
            stream.write_all(b"\n").unwrap();
        }
    }

    /// GET a path; returns (status, body).
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut response = agent()
            .get(&format!("http://{}{path}", self.http))
            .call()
            .unwrap();
        let status = response.status().as_u16();
        (status, response.body_mut().read_to_string().unwrap())
    }

    /// Polls `/metrics` until `done` holds for it, failing after a generous timeout.
    pub fn wait_for_metrics(&self, what: &str, done: impl Fn(&Metrics) -> bool) -> Metrics {
        self.wait_for_metrics_within(Duration::from_secs(30), what, done)
    }

    /// Polls `/metrics` until `done` holds for it, failing after `limit`.
    pub fn wait_for_metrics_within(
        &self,
        limit: Duration,
        what: &str,
        done: impl Fn(&Metrics) -> bool,
    ) -> Metrics {
        eventually(what, limit, || {
            let metrics = Metrics(self.get("/metrics").1);
            if done(&metrics) {
                Ok(metrics)
            } else {
                Err(format!("metrics:\n{}", metrics.0))
            }
        })
    }

    /// Waits for a line of the daemon's log for which `found` holds, failing after a
    /// generous timeout.
    pub fn wait_for_log(&self, what: &str, found: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let line = self
                .log
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("timed out waiting for {what} in the log"));
            if found(&line) {
                return line;
            }
        }
    }

    /// Sends a signal with kill(1).
    fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args([signal, &pid]).status().unwrap();
        assert!(sent.success(), "kill {signal} {pid}");
    }

    /// Sends a signal with kill(1) and waits up to `limit` for the process to exit;
    /// `None` if it is still running then.
    pub fn stop_within(&mut self, signal: &str, limit: Duration) -> Option<ExitStatus> {
        self.signal(signal);
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Sends a signal with kill(1) and waits for the process to exit, and for the end of
    /// its log: the reader thread may still hold the last lines when the process is
    /// reaped, so the log is read until the pipe closes.
    pub fn stop(&mut self, signal: &str) -> (ExitStatus, Vec<String>) {
        self.signal(signal);
        let status = self.child.wait().unwrap();
        let log = self.log.iter().collect();
        (status, log)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `/metrics` page.
pub struct Metrics(pub String);

impl Metrics {
    /// The value of the sample whose name and labels start with `selector`, summed
    /// over every sample that matches.
    pub fn sum(&self, selector: &str) -> f64 {
        let (name, labels) = selector.split_once('{').unwrap_or((selector, ""));
        let labels: Vec<&str> = labels
            .trim_end_matches('}')
            .split(',')
            .filter(|l| !l.is_empty())
            .collect();
        self.0
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.rsplit_once(' '))
            .filter(|(series, _)| {
                let (n, l) = series.split_once('{').unwrap_or((series, ""));
                n == name && labels.iter().all(|want| l.contains(want))
            })
            .map(|(_, value)| value.parse::<f64>().unwrap())
            .sum()
    }
}

/// POSTs `body` to `path`, with `Authorization: Bearer <token>` when given; returns
/// (status, body).
pub fn post(http: SocketAddr, path: &str, body: &[u8], token: Option<&str>) -> (u16, String) {
    try_post(http, path, body, token).unwrap()
}

/// [`post`], with a failed exchange as an error: a daemon at its connection limit
/// answers 503 and closes at once, so the request may meet a closed socket instead.
fn try_post(
    http: SocketAddr,
    path: &str,
    body: &[u8],
    token: Option<&str>,
) -> Result<(u16, String), String> {
    let mut request = agent().post(&format!("http://{http}{path}"));
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let mut response = request.send(body).map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string();
    Ok((status, text.map_err(|e| e.to_string())?))
}

/// POSTs `body` to `/v1/events` as [`post`] does, again while the daemon answers 503
/// or closes at its connection limit: it takes events once its pipeline runs, a moment
/// after it starts serving HTTP, and frees a slot once it has seen a connection close.
pub fn post_events(http: SocketAddr, body: &[u8], token: Option<&str>) -> (u16, String) {
    eventually(
        "the daemon to take events",
        Duration::from_secs(30),
        || match try_post(http, "/v1/events", body, token)? {
            (503, why) => Err(format!("503 {why}")),
            answer => Ok(answer),
        },
    )
}

/// Polls `probe` every 20 ms until it gives `Ok`, failing after `limit` with what it
/// last said: the one way the tests wait for something, never a bare sleep.
pub fn eventually<T>(
    what: &str,
    limit: Duration,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        match probe() {
            Ok(done) => return done,
            Err(last) => assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; {last}"
            ),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An HTTP client that hands back every status instead of failing on errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}
