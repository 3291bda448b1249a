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

/// The sender's sequence: a repeated (`source`, `seq`) is a duplicate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    pub source: Arc<str>,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub ts: Timestamp,
    pub origin: Option<Origin>,
    pub body: Body,
}

/// An event's payload; ids are indices into the [`Grid`](crate::grid::Grid).
#[derive(Debug, Clone, PartialEq)]
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
