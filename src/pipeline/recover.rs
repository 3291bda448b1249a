//! Restart recovery: the daemon's state rebuilt from its own log.
//!
//! Every logged event runs again through the same ingest and decision code, with no
//! wall clock, so the rebuilt watermark, reorder buffer, duplicate windows, grid
//! state, ramps, hysteresis and decision numbering are exactly those of a run that
//! was never interrupted. The decisions come out again as well, and rewrite the
//! decision file: it then holds precisely what the log implies — nothing decided from
//! events a crash kept out of the log, nothing lost that the log can reproduce. A bad
//! record stops recovery with a [`Damage`] that says how to get past it.

use super::order::{Ingest, Verdict};
use crate::decision::Decider;
use crate::grid::Grid;
use crate::log::reader::{self, Entry, ReadError};
use crate::log::repair::Damage;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// The state a restarted daemon continues from.
pub struct Recovered {
    pub ingest: Ingest,
    pub decider: Decider,
    pub events: u64,
    pub decisions: u64,
    /// The last decision line, for `/v1/schedule` and readiness.
    pub last_decision: Option<Vec<u8>>,
}

/// Replays the log at `dir` into fresh state, writing the decisions to `out`.
pub fn recover(grid: &Arc<Grid>, dir: &Path, out: &mut dyn Write) -> anyhow::Result<Recovered> {
    let mut recovered = Recovered {
        ingest: Ingest::new(grid.clone()),
        decider: Decider::new(grid.clone()),
        events: 0,
        decisions: 0,
        last_decision: None,
    };
    let mut failure = None;
    for segment in reader::segments(dir)? {
        reader::read_segment(&segment, grid, |entry| {
            let Entry::Event { seq, event } = entry else {
                tracing::warn!(segment = %segment.display(), "a logged event names an object the configuration lacks");
                return;
            };
            if failure.is_some() {
                return;
            }
            recovered.events += 1;
            if recovered.ingest.offer(&event, None) != Verdict::Accepted {
                tracing::warn!(
                    seq,
                    "a logged event is not accepted again; was the configuration changed?"
                );
                return;
            }
            let Recovered {
                ingest,
                decider,
                decisions,
                last_decision,
                ..
            } = &mut recovered;
            ingest.run_ticks(|ts, state| {
                if let Some(decided) = decider.tick(ts, state) {
                    let line = decided.line(grid).to_json();
                    if failure.is_none() {
                        failure = out.write_all(&line).err();
                    }
                    *decisions += 1;
                    *last_decision = Some(line);
                }
            });
        })
        .map_err(|e| damaged(dir, e))?;
    }
    if let Some(e) = failure {
        return Err(e.into());
    }
    out.flush()?;
    Ok(recovered)
}

/// A record that cannot be read as the [`Damage`] it is; other errors as they are. The
/// writer has cut the last segment's torn tail before recovery reads, so any bad
/// record recovery meets lies before the end of the log.
fn damaged(dir: &Path, error: ReadError) -> anyhow::Error {
    match error {
        ReadError::Format {
            path,
            offset,
            error,
        } => Damage {
            dir: dir.to_path_buf(),
            segment: path,
            offset,
            error: error.to_string(),
        }
        .into(),
        other => other.into(),
    }
}
