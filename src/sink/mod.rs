//! Where results go: decision lines to files and stdout, refused lines to the
//! dead-letter file. Each sink drains its channel and flushes whenever it runs dry, so
//! what is on disk is current and nothing is lost on shutdown.

pub mod dead_letter;
pub mod decisions;

use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::path::Path;

/// Opens `path` for appending, creating it and its directory.
pub fn append(path: &Path) -> std::io::Result<BufWriter<File>> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot open {}: {e}", path.display()))
        })?;
    Ok(BufWriter::with_capacity(1 << 16, file))
}

/// Creates (or truncates) `path` for writing, creating its directory.
pub fn create(path: &Path) -> std::io::Result<BufWriter<File>> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let file = File::create(path).map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display()))
    })?;
    Ok(BufWriter::with_capacity(1 << 16, file))
}
