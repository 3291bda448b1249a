//! Reading a log back: every event in order (for replay and export), or a check of
//! every byte (for `vakhsh log verify`).

use super::format::{self, FormatError, Record, RecordDecoder, Unmapped};
use super::segment;
use crate::event::Event;
use crate::grid::Grid;
use std::path::{Path, PathBuf};

/// The segments a path names: the segments of a directory, or the file itself.
pub fn segments(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if path.is_dir() {
        segment::list(path)
    } else {
        Ok(vec![path.to_path_buf()])
    }
}

/// What a record means to the grid reading it.
pub enum Entry {
    Event {
        seq: u64,
        event: Event,
    },
    /// An event for an object the reading grid does not have.
    Unmapped(Unmapped),
}

/// A problem that stops reading: where, and what.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} at byte {offset}: {error}")]
    Format {
        path: PathBuf,
        offset: u64,
        error: FormatError,
    },
}

/// Calls `each` with every entry of the segment at `path`, in order. A torn tail
/// (an incomplete or corrupt last record) ends the segment with an error naming the
/// offset: the daemon cuts such tails when it reopens its log, so a reader meets one
/// only in a log copied from a crashed process.
pub fn read_segment(
    path: &Path,
    grid: &Grid,
    mut each: impl FnMut(Entry),
) -> Result<(), ReadError> {
    let bytes = std::fs::read(path).map_err(|source| ReadError::Io {
        path: path.into(),
        source,
    })?;
    let mut decoder: Option<RecordDecoder> = None;
    let mut failure = None;
    let scan = segment::scan(&bytes, |dictionary, payload, offset| {
        if failure.is_some() {
            return;
        }
        let decoder = decoder.get_or_insert_with(|| RecordDecoder::new(dictionary.clone(), grid));
        match decoder.decode(payload) {
            Ok(Ok(Record::Event { seq, event })) => each(Entry::Event { seq, event }),
            Ok(Ok(Record::Source)) => {}
            Ok(Err(unmapped)) => each(Entry::Unmapped(unmapped)),
            Err(error) => failure = Some((offset, error)),
        }
    });
    match failure.or(scan.error) {
        Some((offset, error)) => Err(ReadError::Format {
            path: path.into(),
            offset,
            error,
        }),
        None => Ok(()),
    }
}

/// The result of verifying a log.
#[derive(Debug, Default)]
pub struct Verified {
    pub segments: usize,
    pub records: u64,
    pub last_seq: u64,
    /// The first bad byte: segment, offset, and what is wrong there.
    pub first_error: Option<(PathBuf, u64, String)>,
}

/// Checks every header and record checksum and that ingest sequences increase.
pub fn verify(path: &Path) -> std::io::Result<Verified> {
    let mut verified = Verified::default();
    for segment_path in segments(path)? {
        verified.segments += 1;
        let bytes = std::fs::read(&segment_path)?;
        let mut out_of_order = None;
        let scan = segment::scan(&bytes, |_, payload, offset| {
            verified.records += 1;
            if let Some(seq) = format::payload_seq(payload) {
                if seq <= verified.last_seq && out_of_order.is_none() {
                    out_of_order = Some((
                        offset,
                        format!("ingest sequence {seq} after {}", verified.last_seq),
                    ));
                }
                verified.last_seq = seq;
            }
        });
        let error = out_of_order.or(scan.error.map(|(offset, e)| (offset, e.to_string())));
        if let Some((offset, message)) = error {
            verified.first_error = Some((segment_path, offset, message));
            break;
        }
    }
    Ok(verified)
}
