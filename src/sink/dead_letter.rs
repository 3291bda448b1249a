//! The dead-letter file: one JSON line per refused event, with its reason and raw text.

use crate::reject::DeadLetter;
use async_channel::Receiver;
use std::io::Write;

/// Writes every dead letter to `out` (or only drains them when there is no file).
pub async fn run(
    rx: Receiver<DeadLetter>,
    mut out: Option<Box<dyn Write + Send>>,
) -> std::io::Result<()> {
    while let Ok(letter) = rx.recv().await {
        if let Some(out) = out.as_mut() {
            serde_json::to_writer(&mut *out, &letter)?;
            out.write_all(b"\n")?;
            if rx.is_empty() {
                out.flush()?;
            }
        }
    }
    if let Some(out) = out.as_mut() {
        out.flush()?;
    }
    Ok(())
}
