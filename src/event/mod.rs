//! The event: its variants and what is known of each ([`kind`]), its JSON line in both
//! directions (decoded and checked against the grid model in [`decode`], written by
//! [`Event::to_json`]), and the reading it leaves in the grid state ([`Body::apply_to`]). The
//! native log's binary records are in [`crate::log::format`]. `docs/events.md` is the
//! wire contract.

pub mod decode;
pub mod kind;

pub use kind::{EventType, Subject};

use crate::grid::{DataCenterReading, GridState, LineReading, Nomination, PlantReading};
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
    pub fn apply_to(&self, state: &mut GridState) {
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

/// The JSON form of an event, as `log export` writes it and `decode` reads it.
#[derive(serde::Serialize)]
struct Wire<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    ts: crate::time::Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    epoch: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    #[serde(flatten)]
    body: WireBody<'a>,
}

#[derive(serde::Serialize)]
#[serde(untagged)]
enum WireBody<'a> {
    Generation {
        plant: &'a str,
        output_mw: f64,
        available_mw: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        reservoir_level_m: Option<f64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        inflow_mw: Option<f64>,
    },
    Demand {
        load: &'a str,
        mw: f64,
    },
    DcDemand {
        site: &'a str,
        firm_mw: f64,
        flexible_mw: f64,
    },
    LineStatus {
        line: &'a str,
        in_service: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        capacity_mw: Option<f64>,
    },
    Nomination {
        contract: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        mw: Option<f64>,
    },
    Heartbeat {},
}

impl Event {
    /// One JSON line (without newline) naming objects by their ids in `grid`. A
    /// heartbeat without an origin has lost its sender's name: it is written as
    /// `"source":"unknown"`.
    pub fn to_json(&self, grid: &crate::grid::Grid) -> String {
        let id = self
            .body
            .subject()
            .map(|(subject, at)| subject.id(grid, at));
        let id = id.unwrap_or_default();
        let body = match self.body {
            Body::Generation { reading, .. } => WireBody::Generation {
                plant: id,
                output_mw: reading.output_mw,
                available_mw: reading.available_mw,
                reservoir_level_m: reading.reservoir_level_m,
                inflow_mw: reading.inflow_mw,
            },
            Body::Demand { mw, .. } => WireBody::Demand { load: id, mw },
            Body::DcDemand { reading, .. } => WireBody::DcDemand {
                site: id,
                firm_mw: reading.firm_mw,
                flexible_mw: reading.flexible_mw,
            },
            Body::LineStatus { reading, .. } => WireBody::LineStatus {
                line: id,
                in_service: reading.in_service,
                capacity_mw: reading.derated_mw,
            },
            Body::Nomination { mw, .. } => WireBody::Nomination { contract: id, mw },
            Body::Heartbeat => WireBody::Heartbeat {},
        };
        let source = match (&self.origin, &self.body) {
            (Some(origin), _) => Some(&*origin.source),
            (None, Body::Heartbeat) => Some("unknown"),
            (None, _) => None,
        };
        let wire = Wire {
            kind: self.body.event_type().as_str(),
            ts: self.ts,
            source,
            epoch: self.origin.as_ref().map(|o| o.epoch).filter(|&e| e != 0),
            seq: self.origin.as_ref().map(|o| o.seq),
            body,
        };
        serde_json::to_string(&wire).expect("an event always serialises")
    }
}
