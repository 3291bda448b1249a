//! `vakhsh log verify`: the verdict on a log, with the way past its first damage.

use super::reader;
use super::repair::Damage;
use anyhow::Context;
use std::fmt;
use std::path::{Path, PathBuf};

/// What [`verdict`] found.
#[derive(Debug)]
pub enum Integrity {
    /// Every checksum holds and ingest sequences increase.
    Intact {
        log: PathBuf,
        segments: usize,
        records: u64,
        last_seq: u64,
    },
    /// The first bad byte, after `records` good records.
    Damaged { records: u64, damage: Damage },
}

impl Integrity {
    pub fn is_intact(&self) -> bool {
        matches!(self, Integrity::Intact { .. })
    }
}

impl fmt::Display for Integrity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Integrity::Intact {
                log,
                segments,
                records,
                last_seq,
            } => write!(
                f,
                "{}: ok ({segments} segments, {records} records, last ingest sequence {last_seq})",
                log.display()
            ),
            Integrity::Damaged { records, damage } => write!(
                f,
                "{}: bad at byte {}: {} ({records} good records before it)\n\
                 to keep the events before it and move the rest aside: {}",
                damage.segment.display(),
                damage.offset,
                damage.error,
                damage.command()
            ),
        }
    }
}

/// Verifies `log`, a log directory or one segment file.
pub fn verdict(log: &Path) -> anyhow::Result<Integrity> {
    let verified = reader::verify(log).with_context(|| format!("reading {}", log.display()))?;
    let Some((segment, offset, error)) = verified.first_error else {
        return Ok(Integrity::Intact {
            log: log.to_path_buf(),
            segments: verified.segments,
            records: verified.records,
            last_seq: verified.last_seq,
        });
    };
    // `log truncate` takes the directory: the one named, or the segment's own.
    let dir = if log.is_dir() {
        log
    } else {
        let parent = segment.parent().filter(|p| !p.as_os_str().is_empty());
        parent.unwrap_or(Path::new("."))
    };
    let damage = Damage {
        dir: dir.to_path_buf(),
        segment,
        offset,
        error,
    };
    Ok(Integrity::Damaged {
        records: verified.records,
        damage,
    })
}
