//! Appending accepted events to the log: batched writes, a sync policy, segments
//! rotated by size, and repair of a torn tail when a log is reopened.

use super::format::{self, Dictionary, Encoder};
use super::segment;
use crate::event::Event;
use crate::grid::Grid;
use std::fs::{File, OpenOptions};
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

pub struct LogWriter {
    settings: LogSettings,
    header: Vec<u8>,
    encoder: Encoder,
    file: File,
    segment_len: u64,
    buffer: Vec<u8>,
    last_sync: Instant,
    unsynced: bool,
    /// Ingest sequence of the last record written, and of the last one synced.
    written_seq: u64,
    synced_seq: u64,
}

impl LogWriter {
    /// Opens (creating) the log directory, cuts a torn tail off the last segment, and
    /// starts a new segment for this run's records, whose dictionary is `grid`'s.
    pub fn open(settings: LogSettings, grid: &Grid) -> std::io::Result<(LogWriter, Opened)> {
        std::fs::create_dir_all(&settings.dir)?;
        let mut opened = Opened::default();
        if let Some(last) = segment::list(&settings.dir)?.pop() {
            let bytes = std::fs::read(&last)?;
            let mut last_seq = 0;
            let scan = segment::scan(&bytes, |_, payload, _| {
                if let Some(seq) = format::payload_seq(payload) {
                    last_seq = seq;
                }
            });
            if let Some((offset, error)) = scan.error {
                tracing::warn!(segment = %last.display(), offset, %error, "cutting a torn tail off the event log");
                let file = OpenOptions::new().write(true).open(&last)?;
                file.set_len(scan.good_until)?;
                file.sync_all()?;
                opened.cut = Some((last.clone(), offset, error.to_string()));
            }
            opened.last_seq = last_seq.max(first_seq_of(&last).saturating_sub(1));
        }
        let header = format::header(&Dictionary::of(grid));
        let (file, segment_len) = create_segment(&settings.dir, opened.last_seq + 1, &header)?;
        sync_dir(&settings.dir)?;
        let writer = LogWriter {
            settings,
            header,
            encoder: Encoder::default(),
            file,
            segment_len,
            buffer: Vec::with_capacity(1 << 16),
            last_sync: Instant::now(),
            unsynced: false,
            written_seq: opened.last_seq,
            synced_seq: opened.last_seq,
        };
        Ok((writer, opened))
    }

    /// Appends a batch of (ingest sequence, event) in one write, then syncs as the
    /// policy says.
    pub fn append(&mut self, batch: &[(u64, Event)]) -> std::io::Result<()> {
        let Some((first, _)) = batch.first() else {
            return Ok(());
        };
        if self.segment_len >= self.settings.segment_bytes {
            self.sync()?;
            let (file, len) = create_segment(&self.settings.dir, *first, &self.header)?;
            sync_dir(&self.settings.dir)?;
            self.file = file;
            self.segment_len = len;
            self.encoder.new_segment();
        }
        self.buffer.clear();
        for (seq, event) in batch {
            self.encoder.encode(&mut self.buffer, *seq, event);
        }
        self.file.write_all(&self.buffer)?;
        self.segment_len += self.buffer.len() as u64;
        self.unsynced = true;
        self.written_seq = batch.last().map_or(self.written_seq, |(seq, _)| *seq);
        match self.settings.sync {
            SyncPolicy::EachBatch => self.sync(),
            SyncPolicy::Every(period) if self.last_sync.elapsed() >= period => self.sync(),
            SyncPolicy::Every(_) => Ok(()),
        }
    }

    /// Forces everything written to stable storage.
    pub fn sync(&mut self) -> std::io::Result<()> {
        if self.unsynced {
            self.file.sync_data()?;
            self.unsynced = false;
        }
        self.synced_seq = self.written_seq;
        self.last_sync = Instant::now();
        Ok(())
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

fn first_seq_of(path: &Path) -> u64 {
    path.file_stem()
        .and_then(|s| s.to_str())
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

fn create_segment(dir: &Path, first_seq: u64, header: &[u8]) -> std::io::Result<(File, u64)> {
    let path = segment::path(dir, first_seq);
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)?;
    file.write_all(header)?;
    file.sync_all()?;
    Ok((file, header.len() as u64))
}

/// Makes a new segment's directory entry durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}
