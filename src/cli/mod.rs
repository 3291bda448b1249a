//! The command line: `run`, `check-config`, `simulate`, `replay`, `diff`, `log`.
//!
//! In two stages: [`args`] is what clap parses, [`command`] what that resolves to once
//! configurations are loaded and defaults settled; [`execute`] then hands each command
//! to the module that does it and reports the result.
//!
//! Exit codes: 0 ok, 2 usage, 78 bad configuration, 1 any other failure.

mod args;
mod command;

use crate::config::Config;
use crate::sink::Replacement;
use crate::totals::Settlement;
use crate::{daemon, diff, log, replay, source::sim};
use anyhow::Context;
use args::Args;
use clap::Parser;
use command::{Command, Simulation};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Exit code for a bad configuration (EX_CONFIG from sysexits.h).
pub const EXIT_CONFIG: u8 = 78;

/// Exit code for a command line that cannot be carried out as written, as clap's own.
const EXIT_USAGE: u8 = 2;

/// Parses the command line, runs the command and returns the process exit code.
pub fn main() -> ExitCode {
    let args = Args::parse();
    let default_level = if matches!(args.command, args::CommandArgs::Run { .. }) {
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
    let command = match Command::resolve(args.command) {
        Ok(command) => command,
        Err(code) => return code,
    };
    match execute(command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Hands the command to the module that does it; every arm is one call.
fn execute(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(config) => runtime(daemon::run(config)).map(|()| ExitCode::SUCCESS),
        Command::CheckConfig { file, config } => Ok(check_config(&file, &config)),
        Command::Simulate(simulation) => simulate(simulation),
        Command::Replay { config, request } => replay(config, request),
        Command::Diff { a, b, settlement } => compare(&a, &b, settlement),
        Command::LogExport { log, config, out } => log_export(&log, &config, &out),
        Command::LogVerify { log } => log_verify(&log),
        Command::LogTruncate {
            log,
            segment,
            offset,
        } => log_truncate(&log, &segment, offset),
        Command::Completions(shell) => {
            // Into memory first: the generator panics on a write error (a closed pipe),
            // where a write of our own reports it.
            let mut script = Vec::new();
            let mut cli = <Args as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cli, "vakhsh", &mut script);
            std::io::Write::write_all(&mut std::io::stdout(), &script)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let cli = <Args as clap::CommandFactory>::command();
            clap_mangen::Man::new(cli).render(&mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check_config(file: &Path, config: &Config) -> ExitCode {
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

fn simulate(s: Simulation) -> anyhow::Result<ExitCode> {
    let file = Replacement::new(&s.out)?;
    let settings = sim::SimulatorSettings {
        scenario: s.scenario,
        seed: s.seed,
        faults: s.faults,
        ..s.config.daemon.simulator
    };
    let written = sim::write_log(
        &s.config.grid,
        &settings,
        s.start,
        s.duration,
        &mut file.writer(),
    )
    .with_context(|| format!("writing {}", s.out.display()))?;
    file.commit()?;
    let faults = if s.faults > 0.0 {
        format!(
            ", {} lines made faults at rate {}",
            written.faults, s.faults
        )
    } else {
        String::new()
    };
    eprintln!(
        "wrote {} lines ({}, seed {}, from {}{faults}) to {}",
        written.lines,
        s.scenario.name(),
        s.seed,
        s.start,
        s.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Replays until the logs end or Ctrl-C, which stops it cleanly with what was done.
fn replay(config: Config, request: replay::Request) -> anyhow::Result<ExitCode> {
    let report = request.report.clone();
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

fn compare(a: &Path, b: &Path, settlement: Settlement) -> anyhow::Result<ExitCode> {
    let read =
        |p: &Path| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
    let report = diff::diff(&read(a)?, &read(b)?)
        .with_context(|| format!("comparing {} with {}", a.display(), b.display()))?
        .with_settlement(settlement);
    println!("A: {}\nB: {}\n{report}", a.display(), b.display());
    Ok(ExitCode::SUCCESS)
}

fn log_export(log: &Path, config: &Config, out: &Path) -> anyhow::Result<ExitCode> {
    let exported = log::export::write(log, &config.grid, out)?;
    eprintln!("wrote {} events to {}", exported.events, out.display());
    if exported.skipped > 0 {
        eprintln!(
            "skipped {} events for objects this configuration lacks",
            exported.skipped
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Exits 1 on damage, so that scripts can tell an intact log without parsing.
fn log_verify(log: &Path) -> anyhow::Result<ExitCode> {
    let verdict = log::verify::verdict(log)?;
    println!("{verdict}");
    Ok(if verdict.is_intact() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn log_truncate(dir: &Path, segment: &str, offset: u64) -> anyhow::Result<ExitCode> {
    let done = log::repair::truncate(dir, segment, offset)?;
    println!(
        "{}: kept {segment} up to byte {offset}; moved {} segments (the damaged one as it was, and every later one) to {}",
        dir.display(),
        done.moved,
        done.aside.display()
    );
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
