//! Where events come from: the simulator, JSON Lines files, stdin and TCP.
//!
//! Every source produces batches of [`RawLine`]s on the pipeline's first edge and
//! watches the shutdown token; the later stages end when their input closes.

pub mod file;
pub mod lines;
pub mod sim;
pub mod tcp;

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
}

pub type LineBatch = Vec<RawLine>;
