//! The command line: `run`, `check-config`, `simulate`, `replay`, `diff`, `log`.
//!
//! Exit codes: 0 ok, 2 usage, 78 bad configuration, 1 any other failure.

use crate::config::{self, Config};
use crate::sink::Replacement;
use crate::source::sim::{self, Scenario};
use crate::time::Timestamp;
use crate::{daemon, replay};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Exit code for a bad configuration (EX_CONFIG from sysexits.h).
pub const EXIT_CONFIG: u8 = 78;

#[derive(Parser)]
#[command(
    name = "vakhsh",
    version,
    about = "Keeps a hydro-dominated power grid in balance in real time.",
    long_about = "Vakhsh ingests grid telemetry (hydro output and water, demand, data-center demand, \
line status, export nominations), schedules exports and curtailments under shortage rules, and \
writes one JSON decision per line. Start with `vakhsh run --config config/default.toml`, which \
balances a reference grid fed by the built-in simulator.\n\n\
Exit codes: 0 ok, 2 usage, 78 bad configuration, 1 other failure.\n\
Logging: set RUST_LOG (for example RUST_LOG=vakhsh=debug to see every decision)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon: read events from the configured sources, write decisions, serve
    /// /metrics. Stops cleanly on Ctrl-C or SIGTERM after flushing everything.
    Run {
        /// Configuration file (TOML). Any key can be overridden with an environment
        /// variable VAKHSH__SECTION__KEY, e.g. VAKHSH__HTTP__ADDRESS=127.0.0.1:9200.
        #[arg(long, short, default_value = "config/default.toml")]
        config: PathBuf,
    },
    /// Check a configuration file and print every problem, each with its key and value.
    /// Exits 0 when valid, 78 when not.
    CheckConfig {
        /// Configuration file (TOML).
        file: PathBuf,
    },
    /// Generate a realistic, reproducible event file (JSON Lines) from the built-in
    /// simulator.
    Simulate {
        /// Scenario: winter-shortage (a January that runs short) or summer-surplus (a
        /// July with the CASA-1000 window open).
        #[arg(long)]
        scenario: String,
        /// Event time to cover, e.g. 30m, 6h, 2days.
        #[arg(long, value_parser = humantime::parse_duration)]
        duration: Duration,
        /// Random seed: the same seed gives the same file.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Grid whose plants, loads and lines the events describe.
        #[arg(long, short, default_value = "config/default.toml")]
        config: PathBuf,
        /// First event time (RFC 3339); defaults to the scenario's own date.
        #[arg(long, value_parser = parse_timestamp)]
        start: Option<Timestamp>,
    },
    /// Replay event files through the same pipeline as the daemon, deterministically:
    /// the same events and configuration always give the same decisions, byte for byte.
    Replay {
        /// JSON Lines event files, read in the order given.
        #[arg(required = true)]
        logs: Vec<PathBuf>,
        /// Configuration file (TOML); its grid is used, its sources are not.
        #[arg(long, short)]
        config: PathBuf,
        /// Decision file to write (replaced); decisions go to stdout when absent.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Where to write refused lines with their reasons (replaced).
        #[arg(long)]
        dead_letter: Option<PathBuf>,
        /// Pace by event time: `max` (as fast as possible), `1x` (real time), `60x`, …
        #[arg(long, default_value = "max", value_parser = parse_speed)]
        speed: Speed,
        /// Replay only events at or after this time (RFC 3339).
        #[arg(long, value_parser = parse_timestamp)]
        from: Option<Timestamp>,
        /// Replay only events before this time (RFC 3339).
        #[arg(long, value_parser = parse_timestamp)]
        to: Option<Timestamp>,
        /// Draw the run (generation, demand, exports, curtailment, state) to this SVG.
        #[arg(long, requires = "out")]
        report: Option<PathBuf>,
        /// Measure nothing beyond the counts the summary reports: no stage latencies,
        /// solve times or grid gauges (to time the pipeline without its metrics).
        #[arg(long)]
        no_metrics: bool,
    },
    /// Compare two decision logs over the event time both cover: energy per contract
    /// and tier, hours per state, and the first and the largest divergence between the
    /// schedules. Files whose windows do not overlap are refused.
    Diff {
        /// Decision file A (e.g. the baseline replay).
        a: PathBuf,
        /// Decision file B (e.g. the what-if replay).
        b: PathBuf,
    },
    /// Inspect the daemon's event log (a log directory or one segment file).
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
}

#[derive(Subcommand)]
enum LogCommand {
    /// Write the logged events as JSON Lines, in the daemon's input format.
    Export {
        /// Log directory (e.g. var/log) or segment file.
        log: PathBuf,
        /// Configuration whose ids the events are written with.
        #[arg(long, short, default_value = "config/default.toml")]
        config: PathBuf,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check every checksum and the order of ingest sequences; report the first bad
    /// byte and the `log truncate` command that gets past it. Exits 0 when the log is
    /// intact, 1 when not.
    Verify {
        /// Log directory (e.g. var/log) or segment file.
        log: PathBuf,
    },
    /// Get past damage: cut a segment at a byte offset and move every later segment,
    /// with the cut segment as it was, into LOG/damaged-<segment>/. Nothing is deleted.
    /// Run it with the daemon stopped, as the daemon's start error or `log verify` says.
    Truncate {
        /// Log directory (e.g. var/log).
        log: PathBuf,
        /// The damaged segment's file name, e.g. 00000000000000052417.vlog.
        #[arg(long)]
        segment: String,
        /// Where its first bad record starts (0 moves the whole segment aside).
        #[arg(long)]
        offset: u64,
    },
}

/// A replay speed: `None` is as fast as possible.
#[derive(Debug, Clone, Copy)]
struct Speed(Option<f64>);

fn parse_speed(text: &str) -> Result<Speed, String> {
    if text == "max" {
        return Ok(Speed(None));
    }
    match text.strip_suffix('x').and_then(|n| n.parse::<f64>().ok()) {
        Some(factor) if factor.is_finite() && factor > 0.0 => Ok(Speed(Some(factor))),
        _ => Err(format!(
            "{text:?} is not a speed; write max, 1x, 60x, 0.5x …"
        )),
    }
}

fn parse_timestamp(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse(text).ok_or_else(|| format!("{text:?} is not an RFC 3339 time"))
}

/// Parses the command line, runs the command and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Run { .. }) {
        "vakhsh=info"
    } else {
        "vakhsh=warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match execute(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Loads a configuration, printing every error; `Err` carries the exit code.
fn load(path: &Path) -> Result<Config, ExitCode> {
    config::load(path).map_err(|errors| {
        eprintln!("{}: {errors}", path.display());
        ExitCode::from(EXIT_CONFIG)
    })
}

fn execute(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::CheckConfig { file } => Ok(match load(&file) {
            Ok(config) => {
                let g = &config.grid;
                println!(
                    "{}: ok ({} areas, {} plants, {} loads, {} data centers, {} lines, {} contracts)",
                    file.display(),
                    g.areas.len(),
                    g.plants.len(),
                    g.loads.len(),
                    g.data_centers.len(),
                    g.lines.len(),
                    g.contracts.len()
                );
                ExitCode::SUCCESS
            }
            Err(code) => code,
        }),
        Command::Run { config } => {
            let config = match load(&config) {
                Ok(config) => config,
                Err(code) => return Ok(code),
            };
            runtime(daemon::run(config))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate {
            scenario,
            duration,
            seed,
            out,
            config,
            start,
        } => {
            let Some(scenario) = Scenario::from_name(&scenario) else {
                eprintln!(
                    "error: unknown scenario {scenario:?}; known: {}",
                    Scenario::NAMES.join(", ")
                );
                return Ok(ExitCode::from(2));
            };
            let config = match load(&config) {
                Ok(config) => config,
                Err(code) => return Ok(code),
            };
            let start = start.unwrap_or_else(|| scenario.default_start());
            let file = Replacement::new(&out)?;
            let events = sim::write_log(
                &config.grid,
                scenario,
                seed,
                start,
                duration,
                &mut file.writer(),
            )
            .with_context(|| format!("writing {}", out.display()))?;
            file.commit()?;
            eprintln!(
                "wrote {events} events ({}, seed {seed}, from {start}) to {}",
                scenario.name(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Log {
            command: LogCommand::Verify { log },
        } => log_verify(&log),
        Command::Log {
            command:
                LogCommand::Truncate {
                    log,
                    segment,
                    offset,
                },
        } => {
            let done = crate::log::repair::truncate(&log, &segment, offset)?;
            println!(
                "{}: kept {segment} up to byte {offset}; moved {} segments (the damaged one as it was, and every later one) to {}",
                log.display(),
                done.moved,
                done.aside.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff { a, b } => {
            let read = |p: &Path| {
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
            };
            let report = crate::diff::diff(&read(&a)?, &read(&b)?)
                .with_context(|| format!("comparing {} with {}", a.display(), b.display()))?;
            println!("A: {}\nB: {}\n{report}", a.display(), b.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Log {
            command: LogCommand::Export { log, config, out },
        } => {
            let config = match load(&config) {
                Ok(config) => config,
                Err(code) => return Ok(code),
            };
            log_export(&log, &config, &out)
        }
        Command::Replay {
            logs,
            config,
            out,
            dead_letter,
            speed,
            from,
            to,
            report,
            no_metrics,
        } => {
            let config = match load(&config) {
                Ok(config) => config,
                Err(code) => return Ok(code),
            };
            let timing = crate::pipeline::Timing {
                live: false,
                speed: speed.0,
                from,
                to,
            };
            let request = replay::Request {
                timing,
                logs,
                out,
                dead_letter,
                report: report.clone(),
                metrics: !no_metrics,
            };
            let summary = runtime(async {
                let shutdown = CancellationToken::new();
                let cancel = shutdown.clone();
                tokio::spawn(async move {
                    if tokio::signal::ctrl_c().await.is_ok() {
                        cancel.cancel();
                    }
                });
                replay::run(config, request, shutdown).await
            })?;
            eprintln!("{summary}");
            if let Some(report) = report {
                eprintln!("report: {}", report.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn log_verify(log: &Path) -> anyhow::Result<ExitCode> {
    let verified =
        crate::log::reader::verify(log).with_context(|| format!("reading {}", log.display()))?;
    let Some((segment, offset, error)) = verified.first_error else {
        println!(
            "{}: ok ({} segments, {} records, last ingest sequence {})",
            log.display(),
            verified.segments,
            verified.records,
            verified.last_seq
        );
        return Ok(ExitCode::SUCCESS);
    };
    println!(
        "{}: bad at byte {offset}: {error} ({} good records before it)",
        segment.display(),
        verified.records
    );
    let dir = if log.is_dir() {
        log
    } else {
        let parent = segment.parent().filter(|p| !p.as_os_str().is_empty());
        parent.unwrap_or(Path::new("."))
    };
    let damage = crate::log::repair::Damage {
        dir: dir.to_path_buf(),
        segment: segment.clone(),
        offset,
        error,
    };
    println!(
        "to keep the events before it and move the rest aside: {}",
        damage.command()
    );
    Ok(ExitCode::FAILURE)
}

fn log_export(log: &Path, config: &Config, out: &Path) -> anyhow::Result<ExitCode> {
    use crate::log::reader::{self, Entry};
    let grid = &config.grid;
    let replacement = Replacement::new(out)?;
    let mut file = replacement.writer();
    let (mut events, mut skipped) = (0u64, 0u64);
    let mut failure = None;
    for segment in reader::segments(log)? {
        reader::read_segment(&segment, grid, |entry| match entry {
            Entry::Event { event, .. } => {
                if failure.is_none() {
                    failure = writeln!(file, "{}", event.to_json(grid)).err();
                }
                events += 1;
            }
            Entry::Unmapped(_) => skipped += 1,
        })?;
    }
    if let Some(e) = failure {
        return Err(e).with_context(|| format!("writing {}", out.display()));
    }
    file.flush()?;
    drop(file);
    replacement.commit()?;
    eprintln!("wrote {events} events to {}", out.display());
    if skipped > 0 {
        eprintln!("skipped {skipped} events for objects this configuration lacks");
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `future` on a multi-threaded runtime and shuts it down without waiting on a
/// blocked stdin reader.
fn runtime<T>(future: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(future);
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}
