//! Output files that a full disk can neither tear nor silently lose: records go in
//! whole or not at all, and a failed write, sync or segment creation is retried with a
//! capped backoff until it succeeds. While it fails, the file is marked unwritable
//! (`/readyz`, `vakhsh_output_writable`, `vakhsh_output_write_errors_total`) and its
//! writer stops taking from its bounded channel, so ingest stops until writing resumes.

use crate::metrics::{ByLabel, Label, Metrics};
use crate::status::{DaemonStatus, OutputFile};
use prometheus::{IntCounter, IntGauge, IntGaugeVec, Opts};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The pause after the first failed attempt; each further failure doubles it.
const FIRST_PAUSE: Duration = Duration::from_millis(50);
/// The longest pause between attempts: a freed disk is written to within this long.
const LONGEST_PAUSE: Duration = Duration::from_secs(2);

/// The `file` label.
impl Label for OutputFile {
    const NAME: &'static str = "file";

    fn all() -> impl Iterator<Item = Self> {
        OutputFile::ALL.into_iter()
    }

    fn value(self) -> &'static str {
        self.label()
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Each output file's failed attempts (retries included) and whether it can be
/// written: every file shows, writable, from the start.
#[derive(Clone)]
pub struct OutputMetrics {
    errors: ByLabel<OutputFile, IntCounter>,
    writable: ByLabel<OutputFile, IntGauge>,
}

impl OutputMetrics {
    pub fn register(metrics: &Metrics) -> Self {
        let errors = ByLabel::counters(
            metrics,
            "vakhsh_output_write_errors_total",
            "Failed attempts to write an output file (retries included), by file.",
        );
        let writable = metrics.register(IntGaugeVec::new(
            Opts::new(
                "vakhsh_output_writable",
                "1 while an output file can be written, 0 while its writes fail and ingest is held back.",
            ),
            &[OutputFile::NAME],
        ));
        let writable = ByLabel::resolve(&writable);
        writable.iter().for_each(|gauge: &IntGauge| gauge.set(1));
        OutputMetrics { errors, writable }
    }
}

/// Runs one output file's writes until they succeed, reporting each fault episode:
/// every failed attempt is counted, the warning and the recovery are logged once.
pub struct Retry {
    file: OutputFile,
    /// Where the file (or the log's directory) is, for the warning.
    path: PathBuf,
    errors: IntCounter,
    writable: IntGauge,
    status: Arc<DaemonStatus>,
    /// From a failed attempt until the next success.
    failing: bool,
}

impl Retry {
    pub fn new(
        file: OutputFile,
        path: &Path,
        metrics: &OutputMetrics,
        status: Arc<DaemonStatus>,
    ) -> Retry {
        Retry {
            file,
            path: path.to_path_buf(),
            errors: metrics.errors.get(file).clone(),
            writable: metrics.writable.get(file).clone(),
            status,
            failing: false,
        }
    }

    /// Runs `attempt` until it succeeds, pausing 50 ms after the first failure and
    /// twice as long after each further one, up to 2 s. Blocks the thread: call it
    /// off the async threads.
    pub fn run<T>(&mut self, mut attempt: impl FnMut() -> std::io::Result<T>) -> T {
        let mut pause = FIRST_PAUSE;
        loop {
            match attempt() {
                Ok(value) => {
                    self.succeeded();
                    return value;
                }
                Err(error) => {
                    self.failed(&error);
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(LONGEST_PAUSE);
                }
            }
        }
    }

    fn failed(&mut self, error: &std::io::Error) {
        self.errors.inc();
        if self.failing {
            return;
        }
        self.failing = true;
        self.writable.set(0);
        self.status.set_writable(self.file, false);
        tracing::warn!(
            file = self.file.label(), path = %self.path.display(), %error,
            "cannot write {}; ingest is held back and the write retried until it succeeds",
            self.file.describe()
        );
    }

    fn succeeded(&mut self) {
        if !self.failing {
            return;
        }
        self.failing = false;
        self.writable.set(1);
        self.status.set_writable(self.file, true);
        tracing::info!(
            file = self.file.label(), path = %self.path.display(),
            "writing {} resumed", self.file.describe()
        );
    }
}

/// A file that holds whole records only: a write that fails part-way is cut back to
/// the end of the last complete record before anything else is written, so neither a
/// reader nor a crash ever meets half a record.
pub struct Appender {
    file: File,
    /// Just past the last complete record; writes go here.
    end: u64,
    /// A failed write may have left part of a record past `end`.
    torn: bool,
}

impl Appender {
    /// Takes a file open for writing whose complete records end at `end`, where its
    /// position is.
    pub fn new(file: File, end: u64) -> Appender {
        Appender {
            file,
            end,
            torn: false,
        }
    }

    /// Opens `path` for appending (or, with `truncate`, empty), creating it and its
    /// directory.
    pub fn open(path: &Path, truncate: bool) -> std::io::Result<Appender> {
        let file = super::open(path, truncate)?;
        let end = file.metadata()?.len();
        Ok(Appender::new(file, end))
    }

    /// Appends `bytes`, a whole number of records, or leaves the file as it was.
    pub fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.torn {
            self.cut_back()?;
        }
        match self.file.write_all(bytes) {
            Ok(()) => {
                self.end += bytes.len() as u64;
                Ok(())
            }
            Err(error) => {
                self.torn = true;
                // At once when it can; if not, the next append cuts first.
                self.cut_back().ok();
                Err(error)
            }
        }
    }

    /// Forces what was appended to stable storage.
    pub fn sync(&mut self) -> std::io::Result<()> {
        self.file.sync_data()
    }

    /// The length of the complete records.
    pub fn end(&self) -> u64 {
        self.end
    }

    fn cut_back(&mut self) -> std::io::Result<()> {
        self.file.set_len(self.end)?;
        self.file.seek(SeekFrom::Start(self.end))?;
        self.torn = false;
        Ok(())
    }
}

/// A sink's file: whole records, each write retried until it lands when `retry` is
/// set — the daemon, which holds ingest back meanwhile — and failing at once when it is
/// not: a command such as `replay` has no one to wait for and should say it failed.
pub struct RetriedFile {
    appender: Appender,
    retry: Option<Retry>,
}

impl RetriedFile {
    /// Opens `path` as [`Appender::open`] does, retrying failed writes with `retry`.
    pub fn open(path: &Path, truncate: bool, retry: Option<Retry>) -> std::io::Result<Self> {
        Ok(RetriedFile {
            appender: Appender::open(path, truncate)?,
            retry,
        })
    }

    /// Appends whole records, blocking until they are written; without a retry, a
    /// failed write leaves the file as it was and is returned.
    pub fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let appender = &mut self.appender;
        match self.retry.as_mut() {
            Some(retry) => {
                retry.run(|| appender.append(bytes));
                Ok(())
            }
            None => appender.append(bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    #[test]
    fn a_fault_holds_readiness_until_an_attempt_succeeds_and_every_failure_counts() {
        let metrics = OutputMetrics::register(&Metrics::new());
        let status = Arc::new(DaemonStatus::default());
        let mut retry = Retry::new(
            OutputFile::DeadLetter,
            Path::new("dead.jsonl"),
            &metrics,
            status.clone(),
        );
        let errors = metrics.errors.get(OutputFile::DeadLetter);
        let writable = metrics.writable.get(OutputFile::DeadLetter);
        assert_eq!(writable.get(), 1);
        let mut attempts = 0;
        let value = retry.run(|| {
            attempts += 1;
            assert_eq!(status.storage_ok(), attempts == 1);
            assert_eq!(writable.get(), i64::from(attempts == 1));
            match attempts {
                1..=3 => Err(Error::new(ErrorKind::StorageFull, "no space left")),
                _ => Ok(attempts),
            }
        });
        assert_eq!(value, 4);
        assert_eq!(errors.get(), 3);
        assert_eq!(writable.get(), 1);
        assert!(status.storage_ok());
        assert_eq!(metrics.errors.get(OutputFile::EventLog).get(), 0);
    }

    #[test]
    fn a_torn_record_is_cut_before_the_next_append() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        let mut appender = Appender::open(&path, false).unwrap();
        appender.append(b"{\"a\":1}\n").unwrap();
        // Half a record, as a write that ran out of space leaves it.
        appender.file.write_all(b"{\"b\":").unwrap();
        appender.torn = true;
        appender.append(b"{\"b\":2}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"b\":2}\n"
        );
        assert_eq!(appender.end(), 16);
    }
}
