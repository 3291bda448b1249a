//! The simulator as a source: paced by the wall clock for the daemon, or written
//! as fast as possible to an event file for `vakhsh simulate`.

use super::{Scenario, Simulator};
use crate::edge::message::{Batch, Input, RawLine};
use crate::grid::Grid;
use crate::source::{Source, SourceContext};
use crate::time::Timestamp;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `[simulator]`: the scenario the live simulator plays, and its seed.
#[derive(Debug, Clone)]
pub struct SimulatorSettings {
    pub scenario: String,
    pub seed: u64,
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
        let scenario = Scenario::from_name(&settings.scenario)
            .ok_or_else(|| anyhow::anyhow!("unknown scenario {:?}", settings.scenario))?;
        let now = Timestamp::now();
        let start = Timestamp::from_micros(now.as_micros().div_euclid(1_000_000) * 1_000_000);
        let origin: Arc<str> = Arc::from(format!("simulator {}", scenario.name()));
        let mut simulator = Simulator::new(&grid, scenario, settings.seed, start);
        simulator.number_in_epoch((start.as_micros() / 1_000_000).max(0) as u64);
        let epoch = tokio::time::Instant::now()
            - Duration::from_micros(now.micros_since(start).max(0) as u64);
        tracing::info!(scenario = scenario.name(), seed = settings.seed, %start, "simulator started");
        let mut events = Vec::new();
        loop {
            let ts = simulator.next_step(&mut events);
            let due = epoch + Duration::from_micros(ts.micros_since(start).max(0) as u64);
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep_until(due) => {}
            }
            let arrived = Instant::now();
            let batch: Batch = events
                .drain(..)
                .map(|event| {
                    Input::Line(RawLine {
                        bytes: event.to_json(&grid).into_bytes(),
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

/// Writes `duration` of simulated events from `start` as JSON Lines; returns the
/// number of events written.
pub fn write_log(
    grid: &Grid,
    scenario: Scenario,
    seed: u64,
    start: Timestamp,
    duration: Duration,
    out: &mut impl std::io::Write,
) -> std::io::Result<u64> {
    let end = start.saturating_add(duration);
    let mut simulator = Simulator::new(grid, scenario, seed, start);
    let (mut events, mut written) = (Vec::new(), 0);
    while simulator.next_step(&mut events) < end {
        for event in events.drain(..) {
            out.write_all(event.to_json(grid).as_bytes())?;
            out.write_all(b"\n")?;
            written += 1;
        }
    }
    out.flush()?;
    Ok(written)
}
