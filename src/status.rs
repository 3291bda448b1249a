//! What the daemon shows of itself while it runs: the latest decision, whether each
//! output file can be written, and whether it is draining. `/readyz`, `/v1/schedule`
//! and `POST /v1/events` read it; the sinks and the signal handler set it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The files whose writing holds ingest back; the `file` label of the output metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFile {
    EventLog,
    Decisions,
    DeadLetter,
}

impl OutputFile {
    pub const ALL: [OutputFile; 3] = [
        OutputFile::EventLog,
        OutputFile::Decisions,
        OutputFile::DeadLetter,
    ];

    pub fn label(self) -> &'static str {
        match self {
            OutputFile::EventLog => "event_log",
            OutputFile::Decisions => "decisions",
            OutputFile::DeadLetter => "dead_letter",
        }
    }

    /// How messages to an operator name it.
    pub fn describe(self) -> &'static str {
        match self {
            OutputFile::EventLog => "the event log",
            OutputFile::Decisions => "the decision file",
            OutputFile::DeadLetter => "the dead-letter file",
        }
    }
}

/// What HTTP can see of a running pipeline.
#[derive(Debug, Default)]
pub struct DaemonStatus {
    draining: AtomicBool,
    /// The latest decision line, shared with `/v1/schedule`.
    latest: Mutex<Option<Arc<[u8]>>>,
    /// Per output file (indexed by [`OutputFile`]), set while it cannot be written.
    unwritable: [AtomicBool; OutputFile::ALL.len()],
}

impl DaemonStatus {
    pub fn publish(&self, line: &[u8]) {
        let line: Arc<[u8]> = Arc::from(line.strip_suffix(b"\n").unwrap_or(line));
        *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = Some(line);
    }

    pub fn latest(&self) -> Option<Arc<[u8]>> {
        self.latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Marks `file` as writable again or not; readiness follows.
    pub fn set_writable(&self, file: OutputFile, writable: bool) {
        self.unwritable[file as usize].store(!writable, Ordering::Relaxed);
    }

    /// The output files that cannot be written now.
    pub fn unwritable(&self) -> impl Iterator<Item = OutputFile> + '_ {
        OutputFile::ALL
            .into_iter()
            .filter(|file| self.unwritable[*file as usize].load(Ordering::Relaxed))
    }

    /// True while every output file can be written, so an event offered now can be
    /// recorded.
    pub fn storage_ok(&self) -> bool {
        self.unwritable().next().is_none()
    }

    /// Ready once a decision exists, while every output can be written, and until
    /// shutdown begins.
    pub fn ready(&self) -> bool {
        !self.draining.load(Ordering::Relaxed) && self.latest().is_some() && self.storage_ok()
    }
}
