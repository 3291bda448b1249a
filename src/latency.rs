//! Latency of each pipeline stage, in HdrHistograms.
//!
//! Every stage task records into histograms it owns (its [`Recorder`]), so the hot
//! path takes no lock and shares no cache line with another task. About once a second,
//! while it waits for input, a task folds what it recorded into the shared [`Latency`]
//! board, and it does so a last time when it ends. The board keeps, for every stage, a
//! cumulative histogram and a sliding window of the last minute; `/v1/latency`, the
//! Prometheus latency families ([`collector`]) and the replay summary all read it.
//!
//! Latencies are wall time in microseconds, to 3 significant digits.

pub mod collector;

use hdrhistogram::Histogram;
use serde::{Serialize, Serializer};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};
use tokio::time::{Interval, MissedTickBehavior};

/// A span of the pipeline whose latency is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// From a line's arrival to the end of the ingest batch that took its event: the
    /// event applied (or refused), accepted events handed to the log, and the ticks it
    /// made due released to the scheduler. Includes decoding and both queues before.
    Ingest,
    /// From a tick's release to its evaluation (a decision built, or none due): the
    /// ticks queue and the solve.
    Schedule,
    /// From a decision being built to its being written to every output: its gauges,
    /// the decisions queue, its JSON line, the write.
    Sink,
    /// From the arrival of the event that made a tick due to the tick's decision being
    /// written: the pipeline end to end, for ticks that gave a decision.
    IngestToDecision,
}

impl Stage {
    pub const ALL: [Stage; 4] = [
        Stage::Ingest,
        Stage::Schedule,
        Stage::Sink,
        Stage::IngestToDecision,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Ingest => "ingest",
            Stage::Schedule => "schedule",
            Stage::Sink => "sink",
            Stage::IngestToDecision => "ingest_to_decision",
        }
    }
}

/// How often a stage task folds its histograms into the board.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);
/// One slot of the sliding window.
const SLOT: Duration = Duration::from_secs(10);
/// Slots in the window: the one filling and the five before it, so the window covers
/// the last 50 to 60 seconds.
const SLOTS: usize = 6;
/// The window's nominal length, as reported.
pub const WINDOW: Duration = Duration::from_secs(SLOT.as_secs() * SLOTS as u64);
/// The quantiles the Prometheus summary and the replay summary show.
pub const QUANTILES: [f64; 4] = [0.5, 0.9, 0.99, 0.999];
/// Latencies above an hour are recorded as an hour (the histograms' sums keep them).
const CEILING_US: u64 = 3_600_000_000;

/// An empty histogram of microseconds. It grows to the largest value recorded, so a
/// histogram of microsecond latencies stays small.
fn histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits are valid")
}

fn add(into: &mut Histogram<u64>, from: &Histogram<u64>) {
    into.add(from)
        .expect("an auto-resizing histogram takes any value");
}

/// The shared board every stage publishes to. Cloning shares it.
#[derive(Clone)]
pub struct Latency {
    board: Arc<Mutex<Board>>,
}

/// One stage's latencies as read from the board.
#[derive(Debug, Clone)]
pub struct StageLatency {
    pub stage: Stage,
    /// Every sample since start.
    pub total: Histogram<u64>,
    /// The exact sum of every sample since start, in microseconds.
    pub total_us: u64,
    /// The samples of the last minute (see [`WINDOW`]).
    pub window: Histogram<u64>,
}

impl Latency {
    pub fn new() -> Self {
        Latency {
            board: Arc::new(Mutex::new(Board::new(Instant::now()))),
        }
    }

    /// A recorder for a task that measures `stages`.
    pub fn recorder(&self, stages: &[Stage]) -> Recorder {
        let mut lanes: [Option<Lane>; Stage::ALL.len()] = Default::default();
        for &stage in stages {
            lanes[stage as usize] = Some(Lane::default());
        }
        let start = tokio::time::Instant::now() + PUBLISH_EVERY;
        let mut timer = tokio::time::interval_at(start, PUBLISH_EVERY);
        timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Recorder {
            lanes,
            publish: Some((self.clone(), timer)),
        }
    }

    /// Every stage's latencies, in [`Stage::ALL`] order.
    pub fn read(&self) -> Vec<StageLatency> {
        self.lock().read(Instant::now())
    }

    /// The `/v1/latency` document: for every stage, in pipeline order, its spectrum
    /// since start and over the window.
    pub fn to_json(&self) -> String {
        let stages = self
            .read()
            .iter()
            .map(|s| {
                let figures = StageFigures {
                    since_start: Spectrum::of(&s.total),
                    window: Spectrum::of(&s.window),
                };
                (s.stage.as_str(), figures)
            })
            .collect();
        let document = Document {
            window_seconds: WINDOW.as_secs(),
            stages,
        };
        serde_json::to_string(&document).expect("serializable")
    }

    fn lock(&self) -> MutexGuard<'_, Board> {
        self.board.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for Latency {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Serialize)]
struct Document<'a> {
    window_seconds: u64,
    #[serde(serialize_with = "in_order")]
    stages: Vec<(&'a str, StageFigures)>,
}

/// A map whose keys keep their order (serde_json's own map would sort them).
fn in_order<S: Serializer>(pairs: &[(&str, StageFigures)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

#[derive(Serialize)]
struct StageFigures {
    since_start: Spectrum,
    window: Spectrum,
}

/// Count, min, mean, the percentile spectrum and max, in microseconds; `null` figures
/// for an empty histogram.
#[derive(Serialize)]
struct Spectrum {
    count: u64,
    min_us: Option<u64>,
    mean_us: Option<f64>,
    p50_us: Option<u64>,
    p75_us: Option<u64>,
    p90_us: Option<u64>,
    p95_us: Option<u64>,
    p99_us: Option<u64>,
    p99_9_us: Option<u64>,
    p99_99_us: Option<u64>,
    max_us: Option<u64>,
}

impl Spectrum {
    fn of(h: &Histogram<u64>) -> Self {
        let some = |value| (!h.is_empty()).then_some(value);
        let at = |q| some(h.value_at_quantile(q));
        Spectrum {
            count: h.len(),
            min_us: some(h.min()),
            mean_us: (!h.is_empty()).then(|| h.mean()),
            p50_us: at(0.5),
            p75_us: at(0.75),
            p90_us: at(0.9),
            p95_us: at(0.95),
            p99_us: at(0.99),
            p99_9_us: at(0.999),
            p99_99_us: at(0.9999),
            max_us: some(h.max()),
        }
    }
}

/// The merged latencies of every stage, cumulative and over the window.
struct Board {
    stages: [Merged; Stage::ALL.len()],
    /// When the window's newest slot began.
    slot_start: Instant,
}

struct Merged {
    total: Histogram<u64>,
    total_us: u64,
    /// The window's slots, oldest first; the last one is filling.
    window: VecDeque<Histogram<u64>>,
}

impl Board {
    fn new(now: Instant) -> Self {
        Board {
            stages: std::array::from_fn(|_| Merged {
                total: histogram(),
                total_us: 0,
                window: (0..SLOTS).map(|_| histogram()).collect(),
            }),
            slot_start: now,
        }
    }

    /// Starts a new slot for every [`SLOT`] since the newest began, emptying the oldest.
    fn advance(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.slot_start);
        let slots = elapsed.as_nanos() / SLOT.as_nanos();
        if slots == 0 {
            return;
        }
        for merged in &mut self.stages {
            for _ in 0..slots.min(SLOTS as u128) {
                let mut oldest = merged.window.pop_front().expect("the window has slots");
                oldest.reset();
                merged.window.push_back(oldest);
            }
        }
        let into_slot = elapsed.as_nanos() % SLOT.as_nanos();
        self.slot_start = now - Duration::from_nanos(into_slot as u64);
    }

    fn fold(&mut self, stage: usize, samples: &Histogram<u64>, sum_us: u64, now: Instant) {
        self.advance(now);
        let merged = &mut self.stages[stage];
        add(&mut merged.total, samples);
        merged.total_us = merged.total_us.saturating_add(sum_us);
        add(
            merged.window.back_mut().expect("the window has slots"),
            samples,
        );
    }

    fn read(&mut self, now: Instant) -> Vec<StageLatency> {
        self.advance(now);
        Stage::ALL
            .iter()
            .zip(&self.stages)
            .map(|(&stage, merged)| {
                let mut window = histogram();
                for slot in &merged.window {
                    add(&mut window, slot);
                }
                StageLatency {
                    stage,
                    total: merged.total.clone(),
                    total_us: merged.total_us,
                    window,
                }
            })
            .collect()
    }
}

/// What one task recorded for one stage since it last published.
struct Lane {
    fresh: Histogram<u64>,
    fresh_us: u64,
}

impl Default for Lane {
    fn default() -> Self {
        Lane {
            fresh: histogram(),
            fresh_us: 0,
        }
    }
}

/// A stage task's own histograms, published to the board every [`PUBLISH_EVERY`]
/// while the task waits for input, and once more when the recorder is dropped.
pub struct Recorder {
    /// By stage; `None` for the stages this task does not measure.
    lanes: [Option<Lane>; Stage::ALL.len()],
    /// The board and the publishing timer; `None` when latency is not measured.
    publish: Option<(Latency, Interval)>,
}

impl Recorder {
    /// A recorder that measures nothing.
    pub fn off() -> Self {
        Recorder {
            lanes: Default::default(),
            publish: None,
        }
    }

    /// Records the time from `since` to `until` for `stage`.
    pub fn record(&mut self, stage: Stage, since: Instant, until: Instant) {
        self.record_n(stage, since, until, 1);
    }

    /// Records the time from `since` to `until` for `stage` as `n` samples: the items
    /// that arrived together, at one go.
    pub fn record_n(&mut self, stage: Stage, since: Instant, until: Instant, n: u64) {
        if let Some(lane) = &mut self.lanes[stage as usize] {
            let us = u64::try_from(until.saturating_duration_since(since).as_micros())
                .unwrap_or(u64::MAX);
            lane.fresh
                .record_n(us.min(CEILING_US), n)
                .expect("an auto-resizing histogram grows to an hour");
            lane.fresh_us = lane.fresh_us.saturating_add(us.saturating_mul(n));
        }
    }

    /// Awaits `next` (the stage's next input), publishing on every timer tick meanwhile.
    /// The timer is polled first, so a stage that never waits still publishes.
    pub async fn wait<T>(&mut self, next: impl Future<Output = T>) -> T {
        let mut next = std::pin::pin!(next);
        loop {
            let Some((_, timer)) = self.publish.as_mut() else {
                return next.await;
            };
            tokio::select! {
                biased;
                _ = timer.tick() => {}
                value = &mut next => return value,
            }
            self.publish();
        }
    }

    /// Folds the fresh samples into the board unless another task or a reader holds
    /// it; they are then kept and published next time, so the stage never blocks.
    fn publish(&mut self) {
        let Some((latency, _)) = &self.publish else {
            return;
        };
        if self
            .lanes
            .iter()
            .flatten()
            .all(|lane| lane.fresh.is_empty())
        {
            return;
        }
        let mut board = match latency.board.try_lock() {
            Ok(board) => board,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        fold(&mut self.lanes, &mut board);
    }
}

fn fold(lanes: &mut [Option<Lane>], board: &mut Board) {
    let now = Instant::now();
    for (stage, lane) in lanes.iter_mut().enumerate() {
        if let Some(lane) = lane.as_mut().filter(|l| !l.fresh.is_empty()) {
            board.fold(stage, &lane.fresh, lane.fresh_us, now);
            lane.fresh.reset();
            lane.fresh_us = 0;
        }
    }
}

impl Drop for Recorder {
    /// The stage has ended: what it recorded last reaches the board, waiting for the
    /// lock if it must, so a finished run's figures are complete.
    fn drop(&mut self) {
        if let Some((latency, _)) = &self.publish {
            fold(&mut self.lanes, &mut latency.lock());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(values: &[u64]) -> Histogram<u64> {
        let mut h = histogram();
        for &v in values {
            h.record(v).unwrap();
        }
        h
    }

    fn window_count(board: &mut Board, now: Instant, stage: Stage) -> u64 {
        board.read(now)[stage as usize].window.len()
    }

    #[test]
    fn samples_leave_the_window_after_a_minute_but_stay_in_the_total() {
        let t0 = Instant::now();
        let mut board = Board::new(t0);
        let sink = Stage::Sink as usize;
        let at = |s: u64| t0 + Duration::from_secs(s);
        board.fold(sink, &samples(&[100, 200, 300]), 600, t0);
        assert_eq!(window_count(&mut board, at(0), Stage::Sink), 3);
        board.fold(sink, &samples(&[5000]), 5000, at(35));
        assert_eq!(window_count(&mut board, at(59), Stage::Sink), 4);
        // The first slot (0–10 s) is out once the window has moved six slots on; the
        // sample of 35 s (slot 30–40 s) stays until 90 s.
        assert_eq!(window_count(&mut board, at(60), Stage::Sink), 1);
        assert_eq!(window_count(&mut board, at(89), Stage::Sink), 1);
        assert_eq!(window_count(&mut board, at(90), Stage::Sink), 0);

        let read = board.read(at(3600));
        let sink = &read[Stage::Sink as usize];
        assert_eq!(sink.window.len(), 0, "a long idle empties the window");
        assert_eq!(sink.total.len(), 4);
        assert_eq!(sink.total_us, 5600);
        assert!(sink.total.equivalent(sink.total.max(), 5000));
        assert_eq!(read[Stage::Ingest as usize].total.len(), 0);
    }

    #[test]
    fn the_window_keeps_its_slot_boundaries_across_idle_time() {
        let t0 = Instant::now();
        let mut board = Board::new(t0);
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        // Read 25 s in: the newest slot began at 20 s, not 25 s.
        board.read(at(25_000));
        board.fold(0, &samples(&[1]), 1, at(29_000));
        assert_eq!(window_count(&mut board, at(79_999), Stage::Ingest), 1);
        assert_eq!(window_count(&mut board, at(80_000), Stage::Ingest), 0);
    }

    #[test]
    fn the_json_names_every_stage_and_unit() {
        let latency = Latency::new();
        latency
            .lock()
            .fold(0, &samples(&[10, 20, 30, 40]), 100, Instant::now());
        let text = latency.to_json();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["window_seconds"], 60);
        let ingest = &json["stages"]["ingest"]["since_start"];
        assert_eq!(ingest["count"], 4);
        assert_eq!(ingest["min_us"], 10);
        assert_eq!(ingest["p50_us"], 20);
        assert_eq!(ingest["p99_99_us"], 40);
        assert_eq!(ingest["max_us"], 40);
        assert_eq!(ingest["mean_us"], 25.0);
        assert_eq!(json["stages"]["ingest"]["window"]["count"], 4);
        let sink = &json["stages"]["sink"]["window"];
        assert_eq!(sink["count"], 0);
        assert!(sink["p99_us"].is_null() && sink["max_us"].is_null());
        let order = [
            "\"ingest\"",
            "\"schedule\"",
            "\"sink\"",
            "\"ingest_to_decision\"",
        ];
        let at: Vec<usize> = order.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(at.is_sorted(), "stages in pipeline order: {text}");
    }

    #[tokio::test]
    async fn a_recorder_publishes_while_it_waits_and_when_dropped() {
        let latency = Latency::new();
        let mut recorder = latency.recorder(&[Stage::Schedule, Stage::Sink]);
        let t0 = Instant::now();
        recorder.record(Stage::Schedule, t0, t0 + Duration::from_micros(250));
        recorder.record(Stage::Ingest, t0, t0 + Duration::from_secs(1));
        assert_eq!(latency.read()[Stage::Schedule as usize].total.len(), 0);

        // Waiting on input that does not come, the recorder publishes on its timer.
        let published = async {
            while latency.read()[Stage::Schedule as usize].total.is_empty() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        let waited = tokio::time::timeout(Duration::from_secs(10), recorder.wait(published));
        waited.await.expect("published within the deadline");

        recorder.record(Stage::Sink, t0, t0 + Duration::from_millis(3));
        drop(recorder);
        let read = latency.read();
        assert_eq!(read[Stage::Schedule as usize].total.max(), 250);
        let sink = &read[Stage::Sink as usize].total;
        assert!(sink.equivalent(sink.max(), 3000), "{}", sink.max());
        assert_eq!(read[Stage::Sink as usize].total_us, 3000);
        assert_eq!(
            read[Stage::Ingest as usize].total.len(),
            0,
            "a stage the recorder does not measure"
        );
    }

    #[tokio::test]
    async fn an_off_recorder_records_nothing_and_waits_plainly() {
        let mut recorder = Recorder::off();
        let t0 = Instant::now();
        recorder.record(Stage::Sink, t0, t0 + Duration::from_millis(1));
        assert_eq!(recorder.wait(async { 7 }).await, 7);
        assert!(recorder.lanes.iter().all(Option::is_none));
    }
}
