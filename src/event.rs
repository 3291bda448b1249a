//! Accepted telemetry events: decoded, with every id resolved to an index and every
//! value checked against the grid model.

use crate::time::Timestamp;
use std::sync::Arc;

/// The `type` tag of an event; also the `type` label of the event counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Generation,
    Demand,
    DcDemand,
    LineStatus,
    Nomination,
    Heartbeat,
}

impl EventType {
    pub const ALL: [EventType; 6] = [
        EventType::Generation,
        EventType::Demand,
        EventType::DcDemand,
        EventType::LineStatus,
        EventType::Nomination,
        EventType::Heartbeat,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Generation => "generation",
            EventType::Demand => "demand",
            EventType::DcDemand => "dc_demand",
            EventType::LineStatus => "line_status",
            EventType::Nomination => "nomination",
            EventType::Heartbeat => "heartbeat",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// The sender's sequence: a repeated (`source`, `epoch`, `seq`) is a duplicate (how
/// numbers from an earlier epoch are judged is said in [`crate::ingest`]).
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

/// An event's payload; ids are indices into the [`Grid`](crate::grid::Grid).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Body {
    Generation {
        plant: usize,
        output_mw: f64,
        available_mw: f64,
        reservoir_level_m: Option<f64>,
        inflow_mw: Option<f64>,
    },
    Demand {
        load: usize,
        mw: f64,
    },
    DcDemand {
        site: usize,
        firm_mw: f64,
        flexible_mw: f64,
    },
    LineStatus {
        line: usize,
        in_service: bool,
        capacity_mw: Option<f64>,
    },
    Nomination {
        contract: usize,
        /// `None`: `max_mw` inside the window.
        mw: Option<f64>,
    },
    Heartbeat,
}

impl Body {
    pub fn event_type(&self) -> EventType {
        match self {
            Body::Generation { .. } => EventType::Generation,
            Body::Demand { .. } => EventType::Demand,
            Body::DcDemand { .. } => EventType::DcDemand,
            Body::LineStatus { .. } => EventType::LineStatus,
            Body::Nomination { .. } => EventType::Nomination,
            Body::Heartbeat => EventType::Heartbeat,
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
        let body = match self.body {
            Body::Generation {
                plant,
                output_mw,
                available_mw,
                reservoir_level_m,
                inflow_mw,
            } => WireBody::Generation {
                plant: &grid.plants[plant].id,
                output_mw,
                available_mw,
                reservoir_level_m,
                inflow_mw,
            },
            Body::Demand { load, mw } => WireBody::Demand {
                load: &grid.loads[load].id,
                mw,
            },
            Body::DcDemand {
                site,
                firm_mw,
                flexible_mw,
            } => WireBody::DcDemand {
                site: &grid.data_centers[site].id,
                firm_mw,
                flexible_mw,
            },
            Body::LineStatus {
                line,
                in_service,
                capacity_mw,
            } => WireBody::LineStatus {
                line: &grid.lines[line].id,
                in_service,
                capacity_mw,
            },
            Body::Nomination { contract, mw } => WireBody::Nomination {
                contract: &grid.contracts[contract].id,
                mw,
            },
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
