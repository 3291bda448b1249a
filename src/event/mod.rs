//! The event: its variants and what is known of each ([`kind`]), its JSON line in both
//! directions ([`decode`] checks it against the grid model, `encode` writes it), the
//! reading it leaves in the grid's telemetry ([`Body::apply_to`]), and what becomes of
//! it: why it may be refused ([`RejectReason`], [`reject`]) and its [`counters`]. The
//! native log's records are in [`crate::log::format`]; the README's "Events" section
//! is the wire format.

pub mod counters;
pub mod decode;
mod encode;
mod kind;
mod reason;
pub mod reject;

pub use kind::{EventType, Subject};
pub use reason::RejectReason;

use crate::grid::{DataCenterReading, LineReading, Nomination, PlantReading, Telemetry};
use crate::time::Timestamp;
use std::sync::Arc;

/// The sender's sequence: a repeated (`source`, `epoch`, `seq`) is a duplicate (how
/// numbers from an earlier epoch are judged is said in [`crate::pipeline::order`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    pub source: Arc<str>,
    /// The sender's numbering: a sender that restarts its `seq` raises its epoch. 0
    /// when the line has none.
    pub epoch: u64,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub ts: Timestamp,
    pub origin: Option<Origin>,
    pub body: Body,
}

/// An event's payload; ids are indices into the [`Grid`](crate::grid::Grid). A
/// reading is carried as the grid state keeps it, replacing the previous one whole.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Body {
    Generation {
        plant: usize,
        reading: PlantReading,
    },
    Demand {
        load: usize,
        mw: f64,
    },
    DcDemand {
        site: usize,
        reading: DataCenterReading,
    },
    LineStatus {
        line: usize,
        reading: LineReading,
    },
    Nomination {
        contract: usize,
        /// `None`: `max_mw` inside the window.
        mw: Option<f64>,
    },
    Heartbeat,
}

impl Body {
    /// Leaves the reading in `state`.
    pub fn apply_to(&self, state: &mut Telemetry) {
        match *self {
            Body::Generation { plant, reading } => state.plants[plant] = reading,
            Body::Demand { load, mw } => state.loads[load] = mw,
            Body::DcDemand { site, reading } => state.data_centers[site] = reading,
            Body::LineStatus { line, reading } => state.lines[line] = reading,
            Body::Nomination { contract, mw } => {
                state.nominations[contract] = mw.map_or(Nomination::Max, Nomination::Mw);
            }
            Body::Heartbeat => {}
        }
    }
}
