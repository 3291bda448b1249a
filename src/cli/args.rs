//! Stage one of the command line: the arguments as clap parses them, checked only for
//! their own syntax (durations, times, speeds). Stage two is [`super::command`].

use crate::time::Timestamp;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

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
pub(super) struct Args {
    #[command(subcommand)]
    pub(super) command: CommandArgs,
}

#[derive(Subcommand)]
pub(super) enum CommandArgs {
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
        /// Scenario: winter-shortage (a January that runs short), summer-surplus (a July
        /// with the CASA-1000 window open), dc-growth (that January with the data center
        /// growing to its planned size), line-trip (that July with a line tripping at
        /// the midday peak) or drought (a winter after a dry year). Their knobs are the
        /// configuration's [simulator] keys; inflow_share makes any of them wetter or
        /// drier.
        #[arg(long)]
        scenario: String,
        /// Event time to cover, e.g. 30m, 6h, 2days.
        #[arg(long, value_parser = humantime::parse_duration)]
        duration: Duration,
        /// Random seed: the same seed gives the same file.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Fraction of lines (0 to 1) made bad, late or duplicated, as field gateways
        /// send them; drawn from a stream of the seed's own, so the lines that stay
        /// good are those of the fault-free file.
        #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
        faults: f64,
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// Grid whose plants, loads and lines the events describe, and whose [simulator]
        /// keys set the scenario's knobs.
        #[arg(long, short, default_value = "config/default.toml")]
        config: PathBuf,
        /// First event time (RFC 3339); defaults to the scenario's own date.
        #[arg(long, value_parser = parse_timestamp)]
        start: Option<Timestamp>,
    },
    /// Replay event files through the same pipeline as the daemon, deterministically:
    /// the same events and configuration always give the same decisions, byte for byte.
    Replay {
        /// Inputs, read in the order given: JSON Lines event files (as `simulate`, `log
        /// export` or a gateway write them), native event-log directories (the daemon's
        /// `[log] dir`), or single segment files (`*.vlog`).
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
    /// and tier (imports apart and revenue or import cost, given `--config`), hours per state, and the first and the largest divergence between the
    /// schedules. Files whose windows do not overlap are refused.
    Diff {
        /// Decision file A (e.g. the baseline replay).
        a: PathBuf,
        /// Decision file B (e.g. the what-if replay).
        b: PathBuf,
        /// Configuration file (TOML) that settles the energy: with it, import offers'
        /// energy is shown apart, and revenue per contract (for an import, the cost
        /// paid to the neighbor) where a tariff is set.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Inspect the daemon's event log (a log directory or one segment file).
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
    /// Print a shell completion script to standard output, e.g.
    /// `vakhsh completions bash > ~/.local/share/bash-completion/completions/vakhsh`.
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to standard output, e.g.
    /// `vakhsh man > ~/.local/share/man/man1/vakhsh.1`.
    Man,
}

#[derive(Subcommand)]
pub(super) enum LogCommand {
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
pub(super) struct Speed(pub(super) Option<f64>);

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

fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!(
            "{text:?} is not a fraction of lines; write a number from 0 to 1, e.g. 0.01"
        )),
    }
}

fn parse_timestamp(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse(text).ok_or_else(|| format!("{text:?} is not an RFC 3339 time"))
}
