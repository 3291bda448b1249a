//! The dead-letter file: one JSON line per refused event, with its reason and raw text.
//!
//! In the daemon the sink never gives up on a letter: a failed write is retried until it
//! lands, and meanwhile the letters queue up and hold the decoder and ingest back. In a
//! replay a failed write fails the run.

use super::retry::RetriedFile;
use crate::event::reject::DeadLetter;
use async_channel::Receiver;

/// Writes every dead letter to `file` (or only drains them when there is no file),
/// what is queued in one write, off the async threads.
pub async fn run(rx: Receiver<DeadLetter>, file: Option<RetriedFile>) -> std::io::Result<()> {
    let Some(mut file) = file else {
        while rx.recv().await.is_ok() {}
        return Ok(());
    };
    // Reused from batch to batch, travelling with the file to the blocking thread.
    let mut lines = Vec::new();
    while let Ok(first) = rx.recv().await {
        lines.clear();
        for letter in std::iter::once(first).chain(super::queued(&rx)) {
            serde_json::to_writer(&mut lines, &letter).expect("writing to memory cannot fail");
            lines.push(b'\n');
        }
        (file, lines) = tokio::task::spawn_blocking(move || {
            file.append(&lines)?;
            Ok::<_, std::io::Error>((file, lines))
        })
        .await??;
    }
    Ok(())
}
