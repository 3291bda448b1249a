//! The ingest stage: events are ordered, deduplicated and judged against the
//! watermark by [`Ingest`], accepted ones are recorded to the event log, and the ticks
//! they make due go to the scheduler.

use super::StageMetrics;
use super::order::{Ingest, Verdict};
use super::timing::{Pace, Timing};
use crate::edge::Edge;
use crate::edge::message::{Decoded, Recorded, Tick};
use crate::edge::receipt::{self, Outcome};
use crate::event::RejectReason;
use crate::event::reject::{DeadLetter, Rejection};
use crate::grid::Grid;
use crate::latency::Stage;
use crate::time::Timestamp;
use async_channel::Receiver;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

/// Where the ingest stage records accepted events: the log writer's channel and the
/// ingest sequence of the next event.
pub struct Recording {
    pub tx: Edge<Recorded>,
    pub next_seq: u64,
}

/// What the ingest stage owns: the ordering core, and how it records and paces.
pub struct IngestStage {
    pub ingest: Ingest,
    /// Where a live run publishes its watermark (microseconds) for the lag gauge.
    pub watermark: Option<Arc<AtomicI64>>,
    pub grid: Arc<Grid>,
    pub timing: Timing,
    pub recording: Option<Recording>,
}

/// Sends the ticks an input batch made due as one message, so a replay that makes many
/// ticks per batch wakes the scheduler once per batch, not once per tick.
pub async fn run(
    stage: IngestStage,
    rx: Receiver<Vec<Decoded>>,
    tx: Edge<Vec<Tick>>,
    dead: Edge<DeadLetter>,
    metrics: StageMetrics,
) -> anyhow::Result<()> {
    let IngestStage {
        mut ingest,
        watermark,
        grid,
        timing,
        mut recording,
    } = stage;
    // Ticks made due in a batch (boundary, state, arrival of the event that made it
    // due), released when the batch is done.
    let mut due = Vec::new();
    // Arrivals of the batch's events, counted together while equal: the events of a
    // native log's batch share one.
    let mut arrivals: Vec<(Instant, u64)> = Vec::new();
    let mut latency = metrics.recorder(&[Stage::Ingest]);
    let mut pace = timing.speed.map(Pace::new);
    while let Ok(batch) = latency.wait(rx.recv()).await {
        let wall = timing.live.then(Timestamp::now);
        // Until a replay of event files has accepted an event, the earliest line of the
        // batch stands in for the newest, so that a broken clock on the very first line
        // is judged too.
        let earliest = match (wall, ingest.newest()) {
            (None, None) => batch
                .iter()
                .filter(|d| d.line.is_some())
                .map(|d| d.event.ts)
                .min(),
            _ => None,
        };
        let mut accepted = Recorded {
            events: Vec::new(),
            receipts: Vec::new(),
        };
        for Decoded {
            event,
            origin,
            arrived,
            line,
            receipt,
        } in batch
        {
            if let Some(pace) = pace.as_mut() {
                pace.wait_for(event.ts).await;
            }
            let event_type = event.body.event_type();
            let counters = metrics.events.of(Some(event_type));
            match arrivals.last_mut() {
                Some((at, n)) if *at == arrived => *n += 1,
                _ => arrivals.push((arrived, 1)),
            }
            // Event files have no wall clock: one from a broken clock is judged
            // against the newest event before it. Logged events were judged already.
            let now = match (wall, &line) {
                (Some(wall), _) => Some(wall),
                (None, Some(_)) => ingest.newest().or(earliest),
                (None, None) => None,
            };
            match ingest.offer(&event, now) {
                Verdict::Accepted => {
                    counters.accepted.inc();
                    receipt::count(&receipt, Outcome::Accepted);
                    if let Some(recording) = recording.as_mut() {
                        accepted.events.push((recording.next_seq, event));
                        accepted.hold(&receipt);
                        recording.next_seq += 1;
                    }
                }
                Verdict::Duplicate => {
                    counters.duplicate.inc();
                    receipt::count(&receipt, Outcome::Duplicate);
                }
                Verdict::Rejected(reason) => {
                    let detail = match (reason, wall) {
                        (RejectReason::Late, _) => "older than the watermark",
                        (_, Some(_)) => "further beyond the wall clock than time.max_ahead",
                        (_, None) => "further beyond the newest accepted event than time.max_ahead",
                    };
                    let raw = match &line {
                        Some(line) => String::from_utf8_lossy(line).into_owned(),
                        None => event.to_json(&grid),
                    };
                    let rejection = Rejection {
                        event_type: Some(event_type),
                        reason,
                        detail: detail.into(),
                        origin,
                        raw,
                    };
                    let letter = rejection.letter(&metrics.events);
                    receipt::count(&receipt, Outcome::Rejected);
                    let _ = dead.send(letter).await;
                    continue;
                }
            }
            ingest.run_ticks(|ts, state| due.push((ts, state.clone(), arrived)));
        }
        if let (Some(published), Some(moved)) = (&watermark, ingest.watermark()) {
            published.store(moved.as_micros(), Ordering::Relaxed);
        }
        // The log hears of a batch before the scheduler does.
        if let Some(recording) = &recording
            && !accepted.events.is_empty()
            && recording.tx.send(accepted).await.is_err()
        {
            anyhow::bail!("the event log writer stopped");
        }
        let released = Instant::now();
        for (arrived, n) in arrivals.drain(..) {
            latency.record_n(Stage::Ingest, arrived, released, n);
        }
        let ticks: Vec<Tick> = due
            .drain(..)
            .map(|(ts, state, arrived)| Tick {
                ts,
                state,
                arrived,
                released,
            })
            .collect();
        if !ticks.is_empty() && tx.send(ticks).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}
