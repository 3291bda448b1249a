//! Segment files: naming, listing, and scanning one segment's records up to the first
//! bad byte — the shared ground of writing, recovery, verification and replay.

use super::format::{self, Dictionary, FormatError};
use std::path::{Path, PathBuf};

pub const EXTENSION: &str = "vlog";

/// `<dir>/<first ingest sequence, 20 digits>.vlog`, so names sort in log order.
pub fn path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(format!("{first_seq:020}.{EXTENSION}"))
}

/// The segments of a log directory, in order.
pub fn list(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut segments: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == EXTENSION))
        .collect();
    segments.sort();
    Ok(segments)
}

/// Cuts the segment at `path` to `length` bytes, durably.
pub fn cut(path: &Path, length: u64) -> std::io::Result<()> {
    let file = std::fs::OpenOptions::new().write(true).open(path)?;
    file.set_len(length)?;
    file.sync_all()
}

/// Makes new entries and renames in the log directory `dir` durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// True when the file starts like a native log segment.
pub fn is_segment(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == format::MAGIC
}

/// What a scan of one segment found.
#[derive(Debug)]
pub struct Scan {
    pub dictionary: Option<Dictionary>,
    /// Byte offset just past the last good record (or the header).
    pub good_until: u64,
    /// The first problem and its offset, if the segment does not end cleanly.
    pub error: Option<(u64, FormatError)>,
}

/// Walks a segment's bytes, calling `payload` with every good record's payload and the
/// offset at which it starts; stops at the first bad byte.
pub fn scan(bytes: &[u8], mut payload: impl FnMut(&Dictionary, &[u8], u64)) -> Scan {
    let (dictionary, mut at) = match format::read_header(bytes) {
        Ok(header) => header,
        Err(error) => {
            return Scan {
                dictionary: None,
                good_until: 0,
                error: Some((0, error)),
            };
        }
    };
    loop {
        match format::next_payload(&bytes[at..]) {
            Ok(None) => {
                return Scan {
                    dictionary: Some(dictionary),
                    good_until: at as u64,
                    error: None,
                };
            }
            Ok(Some((record, length))) => {
                payload(&dictionary, record, at as u64);
                at += length;
            }
            Err(error) => {
                return Scan {
                    dictionary: Some(dictionary),
                    good_until: at as u64,
                    error: Some((at as u64, error)),
                };
            }
        }
    }
}
