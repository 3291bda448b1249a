//! One log, one writer: an exclusive lock on `<dir>/LOCK`, held for the writer's life,
//! with the holder's pid in the file so that a second daemon can say who holds it.
//!
//! The lock is the operating system's (`flock`), so it goes with the process: a killed
//! daemon leaves a `LOCK` file behind but no lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The lock file's name in a log directory; segment listing skips it.
pub const FILE_NAME: &str = "LOCK";

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("the event log in {} is in use by another vakhsh process (pid {pid})", dir.display())]
    InUse { dir: PathBuf, pid: String },
    #[error("cannot lock the event log in {}: {source}", dir.display())]
    Io {
        dir: PathBuf,
        source: std::io::Error,
    },
}

/// A held lock on a log directory; dropping it releases the lock.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// Locks the log directory `dir` (creating it) for this process, or says which
/// process holds it.
pub fn acquire(dir: &Path) -> Result<Lock, LockError> {
    let io = |source| LockError::Io {
        dir: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(FILE_NAME))
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut pid = String::new();
            file.read_to_string(&mut pid).map_err(io)?;
            let pid = pid.trim();
            return Err(LockError::InUse {
                dir: dir.to_path_buf(),
                pid: if pid.is_empty() { "unknown" } else { pid }.to_string(),
            });
        }
        Err(TryLockError::Error(e)) => return Err(io(e)),
    }
    file.set_len(0).map_err(io)?;
    writeln!(file, "{}", std::process::id()).map_err(io)?;
    Ok(Lock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_holder_and_a_released_one_is_taken_again() {
        let dir = tempfile::tempdir().unwrap();
        let held = acquire(dir.path()).unwrap();
        let refused = acquire(dir.path()).unwrap_err().to_string();
        let expected = format!(
            "the event log in {} is in use by another vakhsh process (pid {})",
            dir.path().display(),
            std::process::id()
        );
        assert_eq!(refused, expected);
        assert!(super::super::segment::list(dir.path()).unwrap().is_empty());
        drop(held);
        acquire(dir.path()).unwrap();
    }
}
