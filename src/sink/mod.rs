//! Where results go: decision lines to files and stdout, refused lines to the
//! dead-letter file. Each sink writes what is queued in one go, through [`retry`], so
//! a record is never torn, a failed write holds ingest back instead of losing it, and
//! nothing is lost on shutdown.

pub mod dead_letter;
pub mod decisions;
pub mod retry;

use async_channel::Receiver;
use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::path::Path;

/// Opens `path` for appending (or, with `truncate`, empty), creating it and its
/// directory.
pub fn open(path: &Path, truncate: bool) -> std::io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    OpenOptions::new()
        .create(true)
        .append(!truncate)
        .write(true)
        .truncate(truncate)
        .open(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot open {}: {e}", path.display())))
}

/// Creates (or truncates) `path` for writing, creating its directory.
pub fn create(path: &Path) -> std::io::Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(1 << 16, open(path, true)?))
}

/// What is already waiting on `rx`, taken without waiting, so that a sink writes it
/// together with the message it woke for.
pub fn queued<T>(rx: &Receiver<T>) -> impl Iterator<Item = T> + '_ {
    let waiting = rx.len();
    std::iter::from_fn(|| rx.try_recv().ok()).take(waiting)
}
