//! Appending accepted events to the log: batched writes, a sync policy, segments
//! rotated by size, and repair of a torn tail when a log is reopened. The writer holds
//! the log's lock, and retries a failed write, sync or rotation until it succeeds
//! (see [`crate::sink::retry`]), so a full disk holds ingest back and loses nothing.

use super::format::{self, Dictionary, RecordEncoder};
use super::lock::{self, Lock, LockError};
use super::repair::Damage;
use super::segment;
use crate::event::Event;
use crate::grid::Grid;
use crate::metrics::Metrics;
use crate::sink::retry::{Appender, Retry};
use prometheus::IntGauge;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// When written records are forced to stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// After every batch: nothing acknowledged as accepted is lost to a crash.
    EachBatch,
    /// At most this long after a write: a bounded loss window, much less I/O.
    Every(Duration),
}

/// The log's settings, from the `[log]` section.
#[derive(Debug, Clone)]
pub struct LogSettings {
    pub dir: PathBuf,
    pub sync: SyncPolicy,
    /// A segment is closed and a new one started past this size.
    pub segment_bytes: u64,
}

/// What opening a log found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opened {
    /// The ingest sequence of the last record already in the log (0 when empty).
    pub last_seq: u64,
    /// A torn tail that was cut: the segment, the offset cut at, and why.
    pub cut: Option<(PathBuf, u64, String)>,
}

/// Why a log could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Locked(#[from] LockError),
    #[error("cannot open the event log in {}: {source}", dir.display())]
    Io {
        dir: PathBuf,
        source: std::io::Error,
    },
    /// A bad record in the last segment with more after it: not a torn tail, so not
    /// cut, since cutting would delete the records after it.
    #[error(transparent)]
    Damaged(#[from] Damage),
}

/// `vakhsh_event_log_synced_sequence`: how far the log is on stable storage, as the
/// writer's task last saw it.
#[derive(Clone)]
pub struct SyncedGauge(IntGauge);

impl SyncedGauge {
    pub fn register(metrics: &Metrics) -> Self {
        SyncedGauge(metrics.register(IntGauge::new(
            "vakhsh_event_log_synced_sequence",
            "Ingest sequence of the last event the event log has synced to stable storage.",
        )))
    }

    /// The ingest sequence of the last event synced.
    pub fn set(&self, seq: u64) {
        self.0.set(seq as i64);
    }
}

pub struct LogWriter {
    settings: LogSettings,
    header: Vec<u8>,
    encoder: RecordEncoder,
    segment: Appender,
    retry: Retry,
    /// Held for the writer's life: a second writer would interleave its records.
    _lock: Lock,
    buffer: Vec<u8>,
    last_sync: Instant,
    unsynced: bool,
    /// Ingest sequence of the last record written, and of the last one synced.
    written_seq: u64,
    synced_seq: u64,
}

impl LogWriter {
    /// Locks (creating) the log directory, cuts a torn tail off the last segment, and
    /// starts a new segment for this run's records, whose dictionary is `grid`'s.
    /// `retry` reports the faults of later writes.
    pub fn open(
        settings: LogSettings,
        grid: &Grid,
        retry: Retry,
    ) -> Result<(LogWriter, Opened), OpenError> {
        let lock = lock::acquire(&settings.dir)?;
        let dir = settings.dir.clone();
        let io = |source| OpenError::Io {
            dir: dir.clone(),
            source,
        };
        let mut opened = Opened::default();
        if let Some(last) = segment::list(&settings.dir).map_err(io)?.pop() {
            let bytes = std::fs::read(&last).map_err(io)?;
            let mut last_seq = 0;
            let scan = segment::scan(&bytes, |_, payload, _| {
                if let Some(seq) = format::payload_seq(payload) {
                    last_seq = seq;
                }
            });
            if let Some((offset, error)) = scan.error {
                if !torn_tail(&bytes, offset, &error) {
                    let error = error.to_string();
                    let (dir, segment) = (dir.clone(), last);
                    return Err(Damage {
                        dir,
                        segment,
                        offset,
                        error,
                    }
                    .into());
                }
                tracing::warn!(segment = %last.display(), offset, %error, "cutting a torn tail off the event log");
                segment::cut(&last, scan.good_until).map_err(io)?;
                opened.cut = Some((last.clone(), offset, error.to_string()));
            }
            opened.last_seq = last_seq.max(first_seq_of(&last).saturating_sub(1));
        }
        let header = format::header(&Dictionary::of(grid));
        let segment = create_segment(&settings.dir, opened.last_seq + 1, &header).map_err(io)?;
        let writer = LogWriter {
            settings,
            header,
            encoder: RecordEncoder::default(),
            segment,
            retry,
            _lock: lock,
            buffer: Vec::with_capacity(1 << 16),
            last_sync: Instant::now(),
            unsynced: false,
            written_seq: opened.last_seq,
            synced_seq: opened.last_seq,
        };
        Ok((writer, opened))
    }

    /// Appends a batch of (ingest sequence, event) in one write, then syncs as the
    /// policy says. Blocks until that has succeeded, however many attempts it takes:
    /// the batch is encoded once, and a failed write is cut back and written again.
    pub fn append(&mut self, batch: &[(u64, Event)]) {
        let Some((first, _)) = batch.first() else {
            return;
        };
        if self.segment.end() >= self.settings.segment_bytes {
            self.rotate(*first);
        }
        self.buffer.clear();
        for (seq, event) in batch {
            self.encoder.encode(&mut self.buffer, *seq, event);
        }
        let (segment, buffer) = (&mut self.segment, &self.buffer);
        self.retry.run(|| segment.append(buffer));
        self.unsynced = true;
        self.written_seq = batch.last().map_or(self.written_seq, |(seq, _)| *seq);
        match self.settings.sync {
            SyncPolicy::EachBatch => self.sync(),
            SyncPolicy::Every(period) if self.last_sync.elapsed() >= period => self.sync(),
            SyncPolicy::Every(_) => {}
        }
    }

    /// Closes the current segment and starts one whose first record is `first_seq`.
    fn rotate(&mut self, first_seq: u64) {
        self.sync();
        let (dir, header) = (&self.settings.dir, &self.header);
        self.segment = self.retry.run(|| create_segment(dir, first_seq, header));
        self.encoder.new_segment();
    }

    /// Forces everything written to stable storage, retrying until it succeeds.
    pub fn sync(&mut self) {
        if self.unsynced {
            let segment = &mut self.segment;
            self.retry.run(|| segment.sync());
            self.unsynced = false;
        }
        self.synced_seq = self.written_seq;
        self.last_sync = Instant::now();
    }

    /// The ingest sequence up to which the log is on stable storage.
    pub fn synced_seq(&self) -> u64 {
        self.synced_seq
    }

    /// How long until the periodic policy wants a sync, if anything is unsynced.
    pub fn sync_due_in(&self) -> Option<Duration> {
        match self.settings.sync {
            SyncPolicy::Every(period) if self.unsynced => {
                Some(period.saturating_sub(self.last_sync.elapsed()))
            }
            _ => None,
        }
    }
}

/// Whether a bad record at `offset` is the torn tail a crash in the middle of a write
/// leaves: a header cut short, or a record whose declared length reaches the end of the
/// file, so that no whole record can follow it. Anything else is damage, and cutting
/// there would delete the good records after it.
fn torn_tail(bytes: &[u8], offset: u64, error: &format::FormatError) -> bool {
    if offset == 0 {
        return matches!(error, format::FormatError::Truncated);
    }
    let rest = &bytes[offset as usize..];
    let Some(length) = rest.first_chunk::<4>() else {
        return true;
    };
    let declared = format::RECORD_PREFIX as u64 + u64::from(u32::from_le_bytes(*length));
    declared >= rest.len() as u64
}

fn first_seq_of(path: &Path) -> u64 {
    path.file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// Creates (or, when an earlier attempt failed part-way, starts again) the segment
/// whose first record is `first_seq`, durable with its directory entry.
fn create_segment(dir: &Path, first_seq: u64, header: &[u8]) -> std::io::Result<Appender> {
    let path = segment::path(dir, first_seq);
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)?;
    file.write_all(header)?;
    file.sync_all()?;
    segment::sync_dir(dir)?;
    Ok(Appender::new(file, header.len() as u64))
}
