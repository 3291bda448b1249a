//! The way out of a log damaged before its end: keep what precedes the damage and move
//! the rest aside, never deleting it, so that the daemon can start again.
//!
//! The torn tail of the last segment is cut when the writer opens the log; damage
//! anywhere else stops the start with a [`Damage`], which names the segment, the byte
//! and the `vakhsh log truncate` command that [`truncate`] carries out.

use super::segment;
use std::fs::File;
use std::path::{Path, PathBuf};

/// A bad record before the end of the log.
#[derive(Debug, Clone)]
pub struct Damage {
    /// The log directory, as the configuration or the command line gave it.
    pub dir: PathBuf,
    pub segment: PathBuf,
    pub offset: u64,
    pub error: String,
}

impl Damage {
    /// The command that keeps the records before the damage and moves the rest aside.
    pub fn command(&self) -> String {
        let name = self.segment.file_name().unwrap_or_default();
        format!(
            "vakhsh log truncate {} --segment {} --offset {}",
            quote(self.dir.as_os_str()),
            quote(name),
            self.offset
        )
    }
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the event log is damaged in segment {} at byte {}: {}; to start from the \
             events before it, moving the rest of the log into a damaged-* folder of the \
             log directory, run: {}",
            self.segment.display(),
            self.offset,
            self.error,
            self.command()
        )
    }
}

impl std::error::Error for Damage {}

/// Why a log could not be truncated.
#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    #[error("{dir}: no segment named {name:?} in the log")]
    NoSegment { dir: PathBuf, name: String },
    #[error(
        "{segment}: byte {offset} is not where a record starts (its good records end at byte {good_until})"
    )]
    NotABoundary {
        segment: PathBuf,
        offset: u64,
        good_until: u64,
    },
    #[error("{0} already exists: move it out of the log directory first")]
    AsideExists(PathBuf),
    /// A daemon is writing the log: it must be stopped first.
    #[error(transparent)]
    Locked(#[from] super::lock::LockError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What [`truncate`] did.
#[derive(Debug)]
pub struct Truncated {
    /// The folder that now holds the damaged segment as it was and every later one.
    pub aside: PathBuf,
    /// Segments moved or copied there.
    pub moved: usize,
}

/// Cuts segment `name` of the log in `dir` at `offset` (a record boundary; 0 moves the
/// whole segment) and moves every later segment into `dir/damaged-<first sequence of
/// the damaged segment>/`, with a copy of the damaged segment as it was: nothing is
/// deleted. Later segments are moved first, so a crash part-way leaves the damaged
/// segment last, where the writer cuts it on open. It takes the log's lock, so it
/// refuses to run beside a daemon writing the log.
pub fn truncate(dir: &Path, name: &str, offset: u64) -> Result<Truncated, RepairError> {
    let _writer = super::lock::acquire(dir)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RepairError::Io { path, source }
    };
    let segments = segment::list(dir).map_err(io(dir))?;
    let at = segments
        .iter()
        .position(|p| p.file_name().is_some_and(|n| n == name))
        .ok_or_else(|| RepairError::NoSegment {
            dir: dir.to_path_buf(),
            name: name.to_string(),
        })?;
    let damaged = &segments[at];
    let bytes = std::fs::read(damaged).map_err(io(damaged))?;
    let mut starts = Vec::new();
    let scan = segment::scan(&bytes, |_, _, start| starts.push(start));
    if offset != 0 && offset != scan.good_until && !starts.contains(&offset) {
        return Err(RepairError::NotABoundary {
            segment: damaged.clone(),
            offset,
            good_until: scan.good_until,
        });
    }
    let stem = damaged.file_stem().unwrap_or_default().to_string_lossy();
    let aside = dir.join(format!("damaged-{stem}"));
    if aside.exists() {
        return Err(RepairError::AsideExists(aside));
    }
    std::fs::create_dir(&aside).map_err(io(&aside))?;
    let keep_part = offset > 0;
    for path in &segments[at + usize::from(keep_part)..] {
        let to = aside.join(path.file_name().unwrap_or_default());
        std::fs::rename(path, &to).map_err(io(path))?;
    }
    sync_dir(&aside)?;
    sync_dir(dir)?;
    if keep_part {
        let copy = aside.join(name);
        std::fs::copy(damaged, &copy).map_err(io(&copy))?;
        File::open(&copy)
            .and_then(|f| f.sync_all())
            .map_err(io(&copy))?;
        sync_dir(&aside)?;
        segment::cut(damaged, offset).map_err(io(damaged))?;
    }
    Ok(Truncated {
        moved: segments.len() - at,
        aside,
    })
}

/// Makes renames and new entries in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), RepairError> {
    segment::sync_dir(dir).map_err(|source| RepairError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

/// `text` as one shell word: as it is when it needs no quoting, else in single quotes.
fn quote(text: &std::ffi::OsStr) -> String {
    let text = text.to_string_lossy();
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:=@%,".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Body, Event};
    use crate::log::{LogSettings, LogWriter, SyncPolicy, reader};
    use crate::time::Timestamp;

    /// A log of 200 heartbeats in 1 KiB segments, with a lock file beside them.
    fn log(dir: &Path) -> Vec<PathBuf> {
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml");
        let grid = crate::config::load(&config).unwrap().grid;
        let settings = LogSettings {
            dir: dir.to_path_buf(),
            sync: SyncPolicy::EachBatch,
            segment_bytes: 1024,
        };
        let retry = crate::log::tests::retry(dir);
        let (mut writer, _) = LogWriter::open(settings, &grid, retry).unwrap();
        let events: Vec<(u64, Event)> = (1..=200)
            .map(|i| {
                let ts = Timestamp::from_micros(i as i64);
                let event = Event {
                    ts,
                    origin: None,
                    body: Body::Heartbeat,
                };
                (i, event)
            })
            .collect();
        for chunk in events.chunks(20) {
            writer.append(chunk);
        }
        std::fs::write(dir.join("LOCK"), "").unwrap();
        segment::list(dir).unwrap()
    }

    #[test]
    fn cuts_at_a_record_and_moves_every_later_segment_aside() {
        let dir = tempfile::tempdir().unwrap();
        let segments = log(dir.path());
        assert!(segments.len() > 2, "{segments:?}");
        let name = segments[1].file_name().unwrap().to_str().unwrap();
        let original = std::fs::read(&segments[1]).unwrap();
        let mut starts = Vec::new();
        segment::scan(&original, |_, _, start| starts.push(start));

        let refused = truncate(dir.path(), name, starts[2] + 1).unwrap_err();
        assert!(
            matches!(refused, RepairError::NotABoundary { .. }),
            "{refused}"
        );
        let done = truncate(dir.path(), name, starts[2]).unwrap();

        assert_eq!(done.moved, segments.len() - 1);
        assert_eq!(std::fs::metadata(&segments[1]).unwrap().len(), starts[2]);
        let aside: Vec<PathBuf> = segments[1..]
            .iter()
            .map(|s| done.aside.join(s.file_name().unwrap()))
            .collect();
        assert_eq!(segment::list(&done.aside).unwrap(), aside);
        assert_eq!(std::fs::read(&aside[0]).unwrap(), original);
        assert_eq!(segment::list(dir.path()).unwrap(), segments[..2]);
        assert!(dir.path().join("LOCK").exists());
        assert!(reader::verify(dir.path()).unwrap().first_error.is_none());

        let again = truncate(dir.path(), name, starts[1]).unwrap_err();
        assert!(matches!(again, RepairError::AsideExists(_)), "{again}");
        let missing = truncate(dir.path(), "LOCK", 0).unwrap_err();
        assert!(
            matches!(missing, RepairError::NoSegment { .. }),
            "{missing}"
        );
    }

    #[test]
    fn the_command_is_one_shell_word_per_argument() {
        let damage = Damage {
            dir: PathBuf::from("/srv/grid's log"),
            segment: PathBuf::from("/srv/grid's log/00000000000000000001.vlog"),
            offset: 7582,
            error: "checksum mismatch".into(),
        };
        assert_eq!(
            damage.command(),
            r"vakhsh log truncate '/srv/grid'\''s log' --segment 00000000000000000001.vlog --offset 7582"
        );
    }
}
