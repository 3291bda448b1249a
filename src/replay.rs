//! `vakhsh replay`: recorded events through the same pipeline, deterministically.
//!
//! A replay never reads the wall clock, so the same events and configuration always
//! give the same decision file, byte for byte.

use crate::config::Config;
use crate::event::RejectReason;
use crate::event::counters::EventCounters;
use crate::latency::{QUANTILES, Stage, StageLatency};
use crate::metrics::Metrics;
use crate::pipeline::{self, Outputs, Plan, Sources, StageMetrics, Timing};
use crate::sink::Replacement;
use crate::status::DaemonStatus;
use crate::totals::Totals;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

pub struct Request {
    pub logs: Vec<PathBuf>,
    /// Pacing and the event-time window; never live.
    pub timing: Timing,
    /// Decision file; stdout when absent.
    pub out: Option<PathBuf>,
    pub dead_letter: Option<PathBuf>,
    /// SVG chart of the run, drawn from the decision file (`out` is needed).
    pub report: Option<PathBuf>,
    /// Measure stage latencies, solve times and grid gauges; without them only the
    /// counters the summary is made of are kept (`--no-metrics`).
    pub metrics: bool,
}

/// Counts of a finished replay.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub received: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: Vec<(RejectReason, u64)>,
    pub decisions: u64,
    pub seconds: f64,
    /// Energy and time totals of the decisions, by the rule of [`crate::totals`], with
    /// imports apart, and the revenue (for an import, the cost) of the contracts the
    /// configuration gives a tariff.
    pub totals: Totals,
    /// Every stage's latency over the run, when measured.
    pub latency: Option<Vec<StageLatency>>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rejected: u64 = self.rejected.iter().map(|(_, n)| n).sum();
        writeln!(
            f,
            "events: {} received, {} accepted, {} rejected, {} duplicates",
            self.received, self.accepted, rejected, self.duplicates
        )?;
        for (reason, n) in &self.rejected {
            writeln!(f, "  rejected {}: {n}", reason.as_str())?;
            if *reason == RejectReason::TooFarAhead {
                writeln!(
                    f,
                    "    (further ahead of the newest event before them than time.max_ahead; \
                     a file with deliberate gaps replays with a larger one, \
                     e.g. VAKHSH__TIME__MAX_AHEAD=1d)"
                )?;
            }
        }
        writeln!(f, "decisions: {}", self.decisions)?;
        writeln!(f, "{}", self.totals)?;
        let rate = self.received as f64 / self.seconds.max(1e-9);
        write!(f, "time: {:.3} s ({:.0} events/s)", self.seconds, rate)?;
        if let Some(stages) = &self.latency {
            write_latency(f, stages)?;
        }
        Ok(())
    }
}

/// A table of every measured stage: quantiles and max in milliseconds, and samples.
fn write_latency(f: &mut std::fmt::Formatter<'_>, stages: &[StageLatency]) -> std::fmt::Result {
    write!(f, "\nlatency (ms)        ")?;
    for q in QUANTILES {
        write!(f, " {:>9}", format!("p{}", q * 100.0))?;
    }
    write!(f, " {:>9} {:>9}", "max", "samples")?;
    for stage in stages.iter().filter(|s| !s.total.is_empty()) {
        let h = &stage.total;
        let ms = |us: u64| us as f64 / 1000.0;
        let name = match stage.stage {
            Stage::IngestToDecision => "ingest → decision",
            other => other.as_str(),
        };
        write!(f, "\n  {name:<18}")?;
        for q in QUANTILES {
            write!(f, " {:>9.3}", ms(h.value_at_quantile(q)))?;
        }
        write!(f, " {:>9.3} {:>9}", ms(h.max()), h.len())?;
    }
    Ok(())
}

pub async fn run(
    config: Config,
    request: Request,
    shutdown: CancellationToken,
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let metrics = if request.metrics {
        Metrics::new()
    } else {
        Metrics::counters_only()
    };
    let stage_metrics = StageMetrics::register(&metrics);
    // Every output replaces its file only when the whole replay has succeeded.
    let replacement = |path: &Option<PathBuf>| path.as_deref().map(Replacement::new).transpose();
    let (out, dead_letter) = (
        replacement(&request.out)?,
        replacement(&request.dead_letter)?,
    );
    let temp_path = |r: &Option<Replacement>| r.as_ref().map(|r| r.path().to_path_buf());
    let settlement = crate::totals::Settlement::of(&config.grid);
    let plan = Plan {
        grid: Arc::new(config.grid),
        sources: Sources {
            files: request.logs,
            ..Sources::default()
        },
        outputs: Outputs {
            stdout: out.is_none(),
            decisions: temp_path(&out),
            truncate: true,
            dead_letter: temp_path(&dead_letter),
        },
        settings: config.daemon.pipeline,
        timing: request.timing,
        log: None,
    };
    let events = stage_metrics.events.clone();
    let progress = progress_bar(&plan.sources.files, events.clone());
    let status = Arc::new(DaemonStatus::default());
    let running = pipeline::start(plan, stage_metrics, status, shutdown.clone()).await?;
    let report = running.finish().await;
    progress.abort();
    let report = report?;
    if shutdown.is_cancelled() {
        anyhow::bail!("interrupted: the output files are left as they were");
    }
    let mut summary = Summary {
        decisions: report.decisions,
        seconds: started.elapsed().as_secs_f64(),
        totals: report
            .totals
            .unwrap_or_default()
            .with_settlement(settlement),
        latency: metrics.latency().map(|l| l.read()),
        ..Summary::default()
    };
    for counters in events.iter() {
        summary.received += counters.received.get();
        summary.accepted += counters.accepted.get();
        summary.duplicates += counters.duplicate.get();
    }
    summary.rejected = RejectReason::ALL
        .into_iter()
        .map(|reason| {
            let n = events.iter().map(|c| c.rejected(reason).get()).sum();
            (reason, n)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    let report = match (&request.report, &out) {
        (Some(path), Some(decisions)) => {
            let report = Replacement::new(path)?;
            std::fs::write(report.path(), crate::report::svg(decisions.path())?)?;
            Some(report)
        }
        _ => None,
    };
    for replacement in [out, dead_letter, report].into_iter().flatten() {
        replacement.commit()?;
    }
    Ok(summary)
}

/// A progress bar on a terminal (hidden otherwise): events processed of the events in
/// the inputs, with events/s and the time left.
fn progress_bar(inputs: &[PathBuf], events: EventCounters) -> tokio::task::JoinHandle<()> {
    let bar = indicatif::ProgressBar::new(0);
    // Counting reads every input an extra time: worth it only for a bar someone sees.
    if !bar.is_hidden() {
        bar.set_length(count_events(inputs));
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} events  {msg}  ETA {eta}",
        )
        .expect("valid template"),
    );
    tokio::spawn(async move {
        let _clear = Finish(bar.clone());
        let started = std::time::Instant::now();
        loop {
            let done = events.received();
            bar.set_position(done);
            bar.set_message(format!(
                "{:.0} events/s",
                done as f64 / started.elapsed().as_secs_f64().max(1e-3)
            ));
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    })
}

/// Clears the bar when its task ends or is aborted.
struct Finish(indicatif::ProgressBar);

impl Drop for Finish {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// Events in the inputs: non-empty lines of JSON files, event records of native logs.
/// Unreadable inputs count 0 here; the replay itself reports them.
fn count_events(inputs: &[PathBuf]) -> u64 {
    use crate::log::{format, reader, segment};
    let mut total = 0;
    for input in inputs {
        if input.is_dir() || segment::is_segment(input) {
            for path in reader::segments(input).unwrap_or_default() {
                let bytes = std::fs::read(&path).unwrap_or_default();
                segment::scan(&bytes, |_, payload, _| {
                    total += u64::from(format::payload_seq(payload).is_some())
                });
            }
        } else if let Ok(file) = std::fs::File::open(input) {
            // Streamed: an event file may be far larger than memory.
            let lines = std::io::BufRead::split(std::io::BufReader::new(file), b'\n');
            total += lines
                .map_while(Result::ok)
                .filter(|l| !l.is_empty())
                .count() as u64;
        }
    }
    total
}
