//! Event files, read once and in order — JSON Lines or the native event log (a
//! segment file or a log directory) — and standard input.

use super::lines::{self, End};
use super::{Source, SourceContext};
use crate::edge::Edge;
use crate::edge::message::{Batch, Input};
use crate::grid::Grid;
use crate::log::{reader, segment};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::BufReader;

/// Event files read in turn (JSON Lines, native log segments or log directories),
/// then standard input when asked for.
pub struct EventFiles {
    pub paths: Vec<PathBuf>,
    pub stdin: bool,
}

impl Source for EventFiles {
    const NAME: &'static str = "file source";

    /// Stops at once on shutdown: a file can be read again, so nothing read is kept
    /// back from a later run.
    async fn run(self, ctx: SourceContext) -> anyhow::Result<()> {
        tokio::select! {
            _ = ctx.shutdown.cancelled() => Ok(()),
            result = async {
                if read_files(&self.paths, &ctx).await? == End::Eof && self.stdin {
                    read_stdin(&ctx).await?;
                }
                Ok(())
            } => result,
        }
    }
}

/// Reads each path in turn; stops early when the pipeline closes.
async fn read_files(paths: &[PathBuf], ctx: &SourceContext) -> anyhow::Result<End> {
    for path in paths {
        let path = path.clone();
        if path.is_dir() || segment::is_segment(&path) {
            let (grid, sender) = (ctx.grid.clone(), ctx.out.clone());
            let batch_size = ctx.limits.batch_size;
            let end =
                tokio::task::spawn_blocking(move || read_log(&path, &grid, batch_size, &sender))
                    .await??;
            if end == End::Closed {
                return Ok(End::Closed);
            }
            continue;
        }
        let file = tokio::fs::File::open(&path).await.map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot open {}: {e}", path.display()))
        })?;
        let origin: Arc<str> = Arc::from(format!("file {}", path.display()));
        let mut reader = BufReader::with_capacity(1 << 16, file);
        if lines::forward(&mut reader, &origin, ctx.limits, &ctx.out, None).await? == End::Closed {
            return Ok(End::Closed);
        }
    }
    Ok(End::Eof)
}

/// Sends the events of a native log, in batches, from a blocking thread. The events of
/// a batch are read from memory in one go, so they share one arrival time.
fn read_log(path: &Path, grid: &Grid, batch_size: usize, tx: &Edge<Batch>) -> anyhow::Result<End> {
    for segment in reader::segments(path)? {
        let origin: Arc<str> = Arc::from(format!("log {}", segment.display()));
        let mut batch = Vec::with_capacity(batch_size);
        let mut arrived = Instant::now();
        let mut closed = false;
        let read = reader::read_segment(&segment, grid, |entry| {
            if closed {
                return;
            }
            batch.push(match entry {
                reader::Entry::Event { event, .. } => Input::Logged {
                    event,
                    origin: origin.clone(),
                    arrived,
                },
                reader::Entry::Unmapped(unmapped) => Input::Unmapped {
                    event_type: unmapped.kind.event_type(),
                    detail: format!(
                        "logged {} {:?} is not in this configuration",
                        unmapped.kind.name(),
                        unmapped.id
                    ),
                    origin: origin.clone(),
                },
            });
            if batch.len() >= batch_size {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                closed = tx.send_blocking(full).is_err();
                arrived = Instant::now();
            }
        });
        match read {
            Err(reader::ReadError::Format {
                path,
                offset,
                error,
            }) => {
                tracing::warn!(segment = %path.display(), offset, %error, "event log ends early here; replaying what precedes it");
            }
            other => other?,
        }
        if closed || (!batch.is_empty() && tx.send_blocking(batch).is_err()) {
            return Ok(End::Closed);
        }
    }
    Ok(End::Eof)
}

/// Reads standard input until EOF.
async fn read_stdin(ctx: &SourceContext) -> std::io::Result<()> {
    let origin: Arc<str> = Arc::from("stdin");
    let mut reader = BufReader::with_capacity(1 << 16, tokio::io::stdin());
    lines::forward(&mut reader, &origin, ctx.limits, &ctx.out, None).await?;
    Ok(())
}
