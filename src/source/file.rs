//! JSON Lines from files (read once, in order) and from standard input.

use super::LineBatch;
use super::lines::{self, End};
use async_channel::Sender;
use std::path::Path;
use std::sync::Arc;
use tokio::io::BufReader;

/// Reads each file in turn; stops early when the pipeline closes.
pub async fn read_files(
    paths: &[impl AsRef<Path>],
    max_line_bytes: usize,
    batch_size: usize,
    tx: Sender<LineBatch>,
) -> std::io::Result<()> {
    for path in paths {
        let path = path.as_ref();
        let file = tokio::fs::File::open(path).await.map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot open {}: {e}", path.display()))
        })?;
        let origin: Arc<str> = Arc::from(format!("file {}", path.display()));
        let mut reader = BufReader::with_capacity(1 << 16, file);
        if lines::forward(&mut reader, &origin, max_line_bytes, batch_size, &tx).await?
            == End::Closed
        {
            break;
        }
    }
    Ok(())
}

/// Reads standard input until EOF.
pub async fn read_stdin(
    max_line_bytes: usize,
    batch_size: usize,
    tx: Sender<LineBatch>,
) -> std::io::Result<()> {
    let origin: Arc<str> = Arc::from("stdin");
    let mut reader = BufReader::with_capacity(1 << 16, tokio::io::stdin());
    lines::forward(&mut reader, &origin, max_line_bytes, batch_size, &tx).await?;
    Ok(())
}
