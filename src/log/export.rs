//! `vakhsh log export`: the logged events as JSON Lines, in the daemon's input format,
//! so that a recorded log can be replayed, edited or fed to another daemon.

use super::reader::{self, Entry};
use crate::grid::Grid;
use crate::sink::Replacement;
use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// What [`write`] wrote.
#[derive(Debug)]
pub struct Exported {
    pub events: u64,
    /// Events for objects `grid` lacks, which JSON cannot name.
    pub skipped: u64,
}

/// Writes every event of `log` (a log directory or one segment) to `out`, named with
/// `grid`'s ids. `out` is replaced only once everything is written.
pub fn write(log: &Path, grid: &Grid, out: &Path) -> anyhow::Result<Exported> {
    let replacement = Replacement::new(out)?;
    let mut file = replacement.writer();
    let mut exported = Exported {
        events: 0,
        skipped: 0,
    };
    // The reader's callback cannot fail: the first failed write waits here until the
    // reading is done.
    let mut failure = None;
    for segment in reader::segments(log)? {
        reader::read_segment(&segment, grid, |entry| match entry {
            Entry::Event { event, .. } => {
                if failure.is_none() {
                    failure = writeln!(file, "{}", event.to_json(grid)).err();
                }
                exported.events += 1;
            }
            Entry::Unmapped(_) => exported.skipped += 1,
        })?;
    }
    if let Some(e) = failure {
        return Err(e).with_context(|| format!("writing {}", out.display()));
    }
    file.flush()?;
    drop(file);
    replacement.commit()?;
    Ok(exported)
}
