//! Stage two of the command line: the parsed [`args`] resolved into a command that is
//! ready to run, its configuration loaded and validated, its times and requests filled
//! in; or the exit code that stops it before anything starts.

use super::args::{self, LogCommand};
use super::{EXIT_CONFIG, EXIT_USAGE};
use crate::config::{self, Config};
use crate::pipeline::Timing;
use crate::replay;
use crate::source::sim::Scenario;
use crate::time::Timestamp;
use crate::totals::Settlement;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// A command ready to run.
pub(super) enum Command {
    Run(Config),
    CheckConfig {
        file: PathBuf,
        config: Config,
    },
    Simulate(Simulation),
    Replay {
        config: Config,
        request: replay::Request,
    },
    Diff {
        a: PathBuf,
        b: PathBuf,
        /// How `--config` settles the contracts; no tariffs and no imports without it.
        settlement: Settlement,
    },
    LogExport {
        log: PathBuf,
        config: Config,
        out: PathBuf,
    },
    LogVerify {
        log: PathBuf,
    },
    LogTruncate {
        log: PathBuf,
        segment: String,
        offset: u64,
    },
    Completions(clap_complete::Shell),
    Man,
}

/// `simulate`, its first event time settled.
pub(super) struct Simulation {
    pub(super) config: Config,
    pub(super) scenario: Scenario,
    pub(super) seed: u64,
    pub(super) faults: f64,
    pub(super) start: Timestamp,
    pub(super) duration: Duration,
    pub(super) out: PathBuf,
}

impl Command {
    /// Resolves `args`, printing why when it cannot: an unknown scenario is a usage
    /// error, and is reported before the configuration is read.
    pub(super) fn resolve(args: args::CommandArgs) -> Result<Command, ExitCode> {
        Ok(match args {
            args::CommandArgs::Run { config } => Command::Run(load(&config)?),
            args::CommandArgs::CheckConfig { file } => Command::CheckConfig {
                config: load(&file)?,
                file,
            },
            args::CommandArgs::Simulate {
                scenario,
                duration,
                seed,
                faults,
                out,
                config,
                start,
            } => {
                let Some(scenario) = Scenario::from_name(&scenario) else {
                    eprintln!(
                        "error: unknown scenario {scenario:?}; known: {}",
                        Scenario::NAMES.join(", ")
                    );
                    return Err(ExitCode::from(EXIT_USAGE));
                };
                Command::Simulate(Simulation {
                    config: load(&config)?,
                    scenario,
                    seed,
                    faults,
                    start: start.unwrap_or_else(|| scenario.default_start()),
                    duration,
                    out,
                })
            }
            args::CommandArgs::Replay {
                logs,
                config,
                out,
                dead_letter,
                speed,
                from,
                to,
                report,
                no_metrics,
            } => Command::Replay {
                config: load(&config)?,
                request: replay::Request {
                    timing: Timing {
                        live: false,
                        speed: speed.0,
                        from,
                        to,
                    },
                    logs,
                    out,
                    dead_letter,
                    report,
                    metrics: !no_metrics,
                },
            },
            args::CommandArgs::Diff { a, b, config } => Command::Diff {
                a,
                b,
                settlement: match config {
                    Some(path) => Settlement::of(&load(&path)?.grid),
                    None => Settlement::default(),
                },
            },
            args::CommandArgs::Log { command } => match command {
                LogCommand::Export { log, config, out } => Command::LogExport {
                    log,
                    config: load(&config)?,
                    out,
                },
                LogCommand::Verify { log } => Command::LogVerify { log },
                LogCommand::Truncate {
                    log,
                    segment,
                    offset,
                } => Command::LogTruncate {
                    log,
                    segment,
                    offset,
                },
            },
            args::CommandArgs::Completions { shell } => Command::Completions(shell),
            args::CommandArgs::Man => Command::Man,
        })
    }
}

/// Loads a configuration, printing every error; `Err` carries the exit code.
fn load(path: &Path) -> Result<Config, ExitCode> {
    config::load(path).map_err(|errors| {
        eprintln!("{}: {errors}", path.display());
        ExitCode::from(EXIT_CONFIG)
    })
}
