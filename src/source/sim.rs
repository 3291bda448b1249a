//! The built-in simulator: a deterministic, seeded generator of realistic telemetry.

use super::{LineBatch, RawLine};
use crate::config::SimulatorSource;
use crate::grid::Grid;
use crate::time::Timestamp;
use async_channel::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// A named set of conditions the simulator reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// A January in which river flow is a tenth of summer's and the country runs short.
    WinterShortage,
    /// A July of surplus water with the CASA-1000 window open.
    SummerSurplus,
}

impl Scenario {
    pub fn default_start(self) -> Timestamp {
        Timestamp::parse(match self {
            Scenario::WinterShortage => "2027-01-11T00:00:00Z",
            Scenario::SummerSurplus => "2027-07-12T00:00:00Z",
        })
        .unwrap_or_default()
    }

    pub fn name(self) -> &'static str {
        match self {
            Scenario::WinterShortage => "winter-shortage",
            Scenario::SummerSurplus => "summer-surplus",
        }
    }

    pub const NAMES: [&str; 2] = ["winter-shortage", "summer-surplus"];

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "winter-shortage" => Some(Scenario::WinterShortage),
            "summer-surplus" => Some(Scenario::SummerSurplus),
            _ => None,
        }
    }
}

/// Placeholder until the generator lands.
pub struct Simulator {
    ts: crate::time::Timestamp,
}

impl Simulator {
    pub fn new(
        _grid: &crate::grid::Grid,
        _scenario: Scenario,
        _seed: u64,
        start: crate::time::Timestamp,
    ) -> Self {
        Simulator { ts: start }
    }

    pub fn next_step(&mut self, out: &mut Vec<String>) -> crate::time::Timestamp {
        self.ts = self.ts.saturating_add(std::time::Duration::from_secs(1));
        out.push(format!(
            r#"{{"type":"heartbeat","ts":"{}","source":"sim"}}"#,
            self.ts
        ));
        self.ts
    }
}

/// Runs the simulator as a live source: its clock starts at the current wall-clock
/// second and each step is released when the wall clock reaches it, so its events
/// pass the daemon's checks against the wall clock like a real feed's.
pub async fn live(
    grid: &Grid,
    settings: &SimulatorSource,
    tx: Sender<LineBatch>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let scenario = Scenario::from_name(&settings.scenario)
        .ok_or_else(|| anyhow::anyhow!("unknown scenario {:?}", settings.scenario))?;
    let now = Timestamp::now();
    let start = Timestamp::from_micros(now.as_micros().div_euclid(1_000_000) * 1_000_000);
    let origin: Arc<str> = Arc::from(format!("simulator {}", scenario.name()));
    let mut simulator = Simulator::new(grid, scenario, settings.seed, start);
    let epoch =
        tokio::time::Instant::now() - Duration::from_micros(now.micros_since(start).max(0) as u64);
    tracing::info!(scenario = scenario.name(), seed = settings.seed, %start, "simulator started");
    let mut lines = Vec::new();
    loop {
        let ts = simulator.next_step(&mut lines);
        let due = epoch + Duration::from_micros(ts.micros_since(start).max(0) as u64);
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep_until(due) => {}
        }
        let arrived = Instant::now();
        let batch: LineBatch = lines
            .drain(..)
            .map(|line| RawLine {
                bytes: line.into_bytes(),
                too_large: false,
                origin: origin.clone(),
                arrived,
            })
            .collect();
        if tx.send(batch).await.is_err() {
            return Ok(());
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
    let (mut lines, mut written) = (Vec::new(), 0);
    while simulator.next_step(&mut lines) < end {
        for line in lines.drain(..) {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
            written += 1;
        }
    }
    out.flush()?;
    Ok(written)
}
