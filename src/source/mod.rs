//! Where events come from: the simulator, JSON Lines files, stdin and TCP.
//!
//! Every source produces batches of [`Input`]s on the pipeline's first edge and
//! watches the shutdown token; the later stages end when their input closes.

pub mod file;
pub mod lines;
pub mod receipt;
pub mod sim;
pub mod tcp;

use crate::event::Event;
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
    pub receipt: Option<Arc<receipt::Receipt>>,
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
        event_type: crate::event::EventType,
        detail: String,
        origin: Arc<str>,
    },
}

pub type Batch = Vec<Input>;
