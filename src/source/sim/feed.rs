//! The simulator as a source: paced by the wall clock for the daemon, or written
//! as fast as possible to an event file for `vakhsh simulate`.

use super::faults::FaultInjector;
use super::{Knobs, Scenario, Simulator};
use crate::edge::message::{Batch, Input, RawLine};
use crate::grid::Grid;
use crate::source::{Source, SourceContext};
use crate::time::Timestamp;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `[simulator]`: whether the daemon runs the live simulator, the scenario it plays,
/// its seed, the fraction of its lines made bad, late or duplicated (see
/// [`super::faults`]), and the scenarios' knobs, which `vakhsh simulate` reads too.
#[derive(Debug, Clone)]
pub struct SimulatorSettings {
    pub enabled: bool,
    pub scenario: Scenario,
    pub seed: u64,
    pub faults: f64,
    pub knobs: Knobs,
}

/// The simulator as a live source: its clock starts at the current wall-clock second
/// and each step is released when the wall clock reaches it, so its events pass the
/// daemon's checks against the wall clock like a real feed's. It numbers its events
/// from 1 in the epoch of its start second, as a sender that restarts says so.
pub struct LiveSimulator {
    pub settings: SimulatorSettings,
}

impl Source for LiveSimulator {
    const NAME: &'static str = "simulator";

    async fn run(self, ctx: SourceContext) -> anyhow::Result<()> {
        let settings = &self.settings;
        let SourceContext {
            out: tx,
            shutdown,
            grid,
            ..
        } = ctx;
        let scenario = settings.scenario;
        let now = Timestamp::now();
        let start = Timestamp::from_micros(now.as_micros().div_euclid(1_000_000) * 1_000_000);
        let origin: Arc<str> = Arc::from(format!("simulator {}", scenario.name()));
        let mut simulator = Simulator::new(&grid, scenario, &settings.knobs, settings.seed, start);
        simulator.number_in_epoch((start.as_micros() / 1_000_000).max(0) as u64);
        let epoch = tokio::time::Instant::now()
            - Duration::from_micros(now.micros_since(start).max(0) as u64);
        let mut faults = FaultInjector::new(&grid, settings.seed, settings.faults);
        tracing::info!(scenario = scenario.name(), seed = settings.seed, faults = settings.faults, %start, "simulator started");
        let (mut events, mut lines) = (Vec::new(), Vec::new());
        loop {
            let ts = simulator.next_step(&mut events);
            for event in events.drain(..) {
                faults.pass(&event, &grid, &mut lines);
            }
            let due = epoch + Duration::from_micros(ts.micros_since(start).max(0) as u64);
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep_until(due) => {}
            }
            let arrived = Instant::now();
            let batch: Batch = lines
                .drain(..)
                .map(|line| {
                    Input::Line(RawLine {
                        bytes: line.into_bytes(),
                        too_large: false,
                        origin: origin.clone(),
                        arrived,
                        receipt: None,
                    })
                })
                .collect();
            if tx.send(batch).await.is_err() {
                return Ok(());
            }
        }
    }
}

/// What [`write_log`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Lines in the file, faults included.
    pub lines: u64,
    /// Lines of the fault-free stream made into a fault (a duplicated line counts
    /// once, a late line still held at the end too).
    pub faults: u64,
}

/// Writes `duration` of `settings`' scenario from `start` as JSON Lines, its fraction
/// of faults made bad, late or duplicated (see [`super::faults`]).
pub fn write_log(
    grid: &Grid,
    settings: &SimulatorSettings,
    start: Timestamp,
    duration: Duration,
    out: &mut impl std::io::Write,
) -> std::io::Result<Written> {
    let end = start.saturating_add(duration);
    let (seed, faults) = (settings.seed, settings.faults);
    let mut simulator = Simulator::new(grid, settings.scenario, &settings.knobs, seed, start);
    let mut injector = FaultInjector::new(grid, seed, faults);
    let (mut events, mut lines) = (Vec::new(), Vec::new());
    let mut written = Written {
        lines: 0,
        faults: 0,
    };
    while simulator.next_step(&mut events) < end {
        for event in events.drain(..) {
            if injector.pass(&event, grid, &mut lines).is_some() {
                written.faults += 1;
            }
        }
        for line in lines.drain(..) {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
            written.lines += 1;
        }
    }
    out.flush()?;
    Ok(written)
}
