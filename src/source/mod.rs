//! Where events come from: the simulator, JSON Lines files and stdin, the native log,
//! TCP, and `POST /v1/events` (in [`crate::http`]).
//!
//! Every source is a [`Source`], started with a [`SourceContext`]. The context is the
//! only way the shutdown signal enters the pipeline: sources stop reading when it
//! fires and hand over what they have read, and every later stage ends when its input
//! edge closes and drains, so a shutdown flushes in order and loses nothing accepted.

pub mod file;
pub mod lines;
pub mod sim;
pub mod tcp;

use crate::edge::Edge;
use crate::edge::message::Batch;
use crate::grid::Grid;
use std::future::Future;
use std::sync::Arc;
use tcp::TcpSettings;
use tokio_util::sync::CancellationToken;

/// What a source is given when it starts.
#[derive(Clone)]
pub struct SourceContext {
    /// The pipeline's first edge: lines to decode and events read from the native log.
    pub out: Edge<Batch>,
    /// Cancelled when the daemon begins to stop.
    pub shutdown: CancellationToken,
    pub limits: Limits,
    /// The grid the events name, for sources that resolve ids themselves (the native
    /// log) or make events up (the simulator).
    pub grid: Arc<Grid>,
}

/// The bounds every source keeps.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Inputs per batch on the first edge.
    pub batch_size: usize,
    /// The longest line taken whole.
    pub max_line_bytes: usize,
}

/// The line-size limit of sources that have no `max_line_bytes` of their own (files,
/// stdin, and HTTP when TCP is off): the 64 KiB events are promised.
const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024;

impl Limits {
    /// Every source keeps the TCP listener's line-size limit (`[tcp] max_line_bytes`),
    /// or 64 KiB without one.
    pub fn new(batch_size: usize, tcp: Option<&TcpSettings>) -> Self {
        Limits {
            batch_size,
            max_line_bytes: tcp.map_or(DEFAULT_MAX_LINE_BYTES, |t| t.max_line_bytes),
        }
    }
}

/// A source of events.
pub trait Source: Send + 'static {
    /// Names its task in errors and logs.
    const NAME: &'static str;

    /// Sends events to `ctx.out` until the input ends, the pipeline closes, or
    /// `ctx.shutdown` fires; then hands over what it has read and returns.
    fn run(self, ctx: SourceContext) -> impl Future<Output = anyhow::Result<()>> + Send;
}
