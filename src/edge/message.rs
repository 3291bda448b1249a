//! What travels on the pipeline's edges, in order: lines and logged events from the
//! sources, decoded events, ticks due for scheduling, decisions, and accepted events
//! on their way to the event log.

use super::receipt::Receipt;
use crate::decision::Decided;
use crate::event::{Event, EventType};
use crate::grid::Telemetry;
use crate::time::Timestamp;
use std::sync::Arc;
use std::time::Instant;

/// One received line, not yet decoded.
#[derive(Debug)]
pub struct RawLine {
    /// The line without its newline; for an oversized line only its beginning.
    pub bytes: Vec<u8>,
    /// The line exceeded the size limit and was cut.
    pub too_large: bool,
    /// Which source sent it, for the dead-letter file.
    pub origin: Arc<str>,
    /// When it arrived, for the ingest → decision latency.
    pub arrived: Instant,
    /// Where its outcome is counted for the sender that waits to hear it
    /// (`POST /v1/events`); `None` for every other source.
    pub receipt: Option<Arc<Receipt>>,
}

/// What a source hands the pipeline. Lines and logged events share one edge so that a
/// replay of several files keeps their order.
#[derive(Debug)]
pub enum Input {
    /// A line to decode.
    Line(RawLine),
    /// An event read back from the native log: decoded and validated when it was
    /// recorded.
    Logged {
        event: Event,
        origin: Arc<str>,
        arrived: Instant,
    },
    /// A logged event for an object this configuration lacks (a what-if replay with
    /// a smaller grid): refused as `unknown_id`.
    Unmapped {
        event_type: EventType,
        detail: String,
        origin: Arc<str>,
    },
}

pub type Batch = Vec<Input>;

/// A decoded event with where it came from (kept for the dead-letter file).
pub struct Decoded {
    pub event: Event,
    pub origin: Arc<str>,
    pub arrived: Instant,
    /// The line it was decoded from; `None` for an event read from the native log.
    pub line: Option<Vec<u8>>,
    /// Where the ingest stage counts its verdict for the line's sender.
    pub receipt: Option<Arc<Receipt>>,
}

/// A tick due for scheduling.
pub struct Tick {
    pub ts: Timestamp,
    pub state: Telemetry,
    /// When the event that made it due arrived.
    pub arrived: Instant,
    /// When the ingest stage released it to the scheduler.
    pub released: Instant,
}

/// A decision on its way to the sinks.
pub struct DecisionOut {
    /// What it says; the sink writes its line.
    pub decided: Decided,
    /// When the event that made its tick due arrived.
    pub arrived: Instant,
    /// When the scheduler built it.
    pub built: Instant,
}

/// One batch's accepted events on their way to the log, with the receipts of the HTTP
/// requests that sent them. The receipts are let go once the events are written (and
/// synced, as the policy says), so that a sender hears "accepted" only of events the
/// log holds.
pub struct Recorded {
    pub events: Vec<(u64, Event)>,
    pub receipts: Vec<Arc<Receipt>>,
}

impl Recorded {
    /// Keeps `receipt` until the batch is written; a request's lines share one, so a
    /// run of them is kept once.
    pub fn hold(&mut self, receipt: &Option<Arc<Receipt>>) {
        if let Some(receipt) = receipt
            && !self
                .receipts
                .last()
                .is_some_and(|last| Arc::ptr_eq(last, receipt))
        {
            self.receipts.push(receipt.clone());
        }
    }
}
