//! Where results go: decision lines to files and stdout, refused lines to the
//! dead-letter file. Each sink writes what is queued in one go, through [`retry`], so
//! a record is never torn, a failed write holds ingest back instead of losing it, and
//! nothing is lost on shutdown. A command's output file is a [`Replacement`]: complete
//! or not there at all.

pub mod dead_letter;
pub mod decisions;
pub mod retry;

use async_channel::Receiver;
use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

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

/// A file that takes the place of its target only once it is complete: it is written
/// under a temporary name in the target's directory and renamed over the target by
/// [`Replacement::commit`]. Dropped uncommitted (the command failed), it is removed and
/// the target is untouched, so a failed command never leaves a truncated or partial
/// output behind.
pub struct Replacement {
    temp: NamedTempFile,
    target: PathBuf,
}

impl Replacement {
    /// Starts a replacement of `target`, creating its directory.
    pub fn new(target: &Path) -> std::io::Result<Replacement> {
        let dir = target
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let temp = tempfile::Builder::new()
            .prefix(".vakhsh-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .tempfile_in(dir)
            .map_err(|e| {
                let message = format!("cannot create a file beside {}: {e}", target.display());
                std::io::Error::new(e.kind(), message)
            })?;
        Ok(Replacement {
            temp,
            target: target.to_path_buf(),
        })
    }

    /// Where the content goes until it is committed.
    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    /// A buffered writer into the temporary file.
    pub fn writer(&self) -> BufWriter<&File> {
        BufWriter::with_capacity(1 << 16, self.temp.as_file())
    }

    /// Makes the content durable and renames it over the target.
    pub fn commit(self) -> std::io::Result<()> {
        self.temp.as_file().sync_all()?;
        self.temp.persist(&self.target).map_err(|e| {
            let message = format!("cannot replace {}: {}", self.target.display(), e.error);
            std::io::Error::new(e.error.kind(), message)
        })?;
        Ok(())
    }
}
