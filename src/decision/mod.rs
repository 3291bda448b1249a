//! Decisions: which ticks' schedules are emitted ([`Emitter`]), and the line each one
//! is written as and read back from ([`DecisionLine`]).

mod emitter;
#[cfg(test)]
mod fixture;
mod line;

use emitter::Emitter;
pub use emitter::Trigger;
pub use line::{DecisionLine, LineError};

use crate::grid::{Grid, Telemetry};
use crate::schedule::{Schedule, Scheduler};
use crate::time::Timestamp;
use std::sync::Arc;

/// A tick in, perhaps a decision out: the scheduler and the emitter.
/// The daemon's scheduler stage and log recovery both run ticks through this, so a
/// recovered run continues exactly where the interrupted one was.
#[derive(Debug, Clone)]
pub struct Decider {
    grid: Arc<Grid>,
    scheduler: Scheduler,
    emitter: Emitter,
}

/// An emitted decision: what it says. Its line is laid out by whoever outputs it
/// ([`Decided::line`]), so that the scheduler stage spends its time on schedules.
pub struct Decided {
    pub ts: Timestamp,
    pub seq: u64,
    pub trigger: Trigger,
    pub schedule: Schedule,
}

impl Decided {
    /// The decision as its line lays it out: ids named, figures rounded.
    pub fn line<'a>(&self, grid: &'a Grid) -> DecisionLine<'a> {
        DecisionLine::new(grid, self)
    }
}

impl Decider {
    pub fn new(grid: Arc<Grid>) -> Self {
        Decider {
            scheduler: Scheduler::new(grid.clone()),
            grid,
            emitter: Emitter::default(),
        }
    }

    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    pub fn tick(&mut self, ts: Timestamp, state: &Telemetry) -> Option<Decided> {
        let schedule = self.scheduler.schedule(ts, state);
        let (trigger, seq) = self.emitter.offer(&self.grid, ts, &schedule)?;
        Some(Decided {
            ts,
            seq,
            trigger,
            schedule,
        })
    }
}
