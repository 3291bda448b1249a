//! What is known of each kind of event, in one place: its wire name, the grid object
//! it reports on and the field that names that object, and its tag in the native log.

use super::Body;
use crate::grid::Grid;
use std::collections::HashMap;

/// The `type` of an event; also the `type` label of the event counters.
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

    /// The `type` field of its JSON line.
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

    /// The grid object its events report on; a heartbeat reports on none.
    pub fn subject(self) -> Option<Subject> {
        Subject::ALL.into_iter().find(|s| s.event_type() == self)
    }

    /// Its place in [`EventType::ALL`].
    pub fn position(self) -> usize {
        self as usize
    }

    /// Its tag in the native log (format version 1): never renumber.
    pub fn log_tag(self) -> u8 {
        match self {
            EventType::Generation => 1,
            EventType::Demand => 2,
            EventType::DcDemand => 3,
            EventType::LineStatus => 4,
            EventType::Nomination => 5,
            EventType::Heartbeat => 6,
        }
    }

    pub fn from_log_tag(tag: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.log_tag() == tag)
    }
}

/// A kind of grid object that events report on, one per event type but the
/// heartbeat. [`Subject::ALL`] is the order in which the native log's dictionary lists
/// their ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    Plant,
    Load,
    DataCenter,
    Line,
    Contract,
}

impl Subject {
    pub const ALL: [Subject; 5] = [
        Subject::Plant,
        Subject::Load,
        Subject::DataCenter,
        Subject::Line,
        Subject::Contract,
    ];

    /// Its place in [`Subject::ALL`], which is the native log dictionary's order.
    pub fn position(self) -> usize {
        self as usize
    }

    /// How the native log and its errors name the kind.
    pub fn name(self) -> &'static str {
        match self {
            Subject::Plant => "plant",
            Subject::Load => "load",
            Subject::DataCenter => "data_center",
            Subject::Line => "line",
            Subject::Contract => "contract",
        }
    }

    /// The field of the event's JSON line that holds the object's id.
    pub fn id_field(self) -> &'static str {
        match self {
            Subject::DataCenter => "site",
            other => other.name(),
        }
    }

    pub fn event_type(self) -> EventType {
        match self {
            Subject::Plant => EventType::Generation,
            Subject::Load => EventType::Demand,
            Subject::DataCenter => EventType::DcDemand,
            Subject::Line => EventType::LineStatus,
            Subject::Contract => EventType::Nomination,
        }
    }

    /// The id of the object at `position` in the configuration.
    pub fn id(self, grid: &Grid, position: usize) -> &str {
        match self {
            Subject::Plant => &grid.plants[position].id,
            Subject::Load => &grid.loads[position].id,
            Subject::DataCenter => &grid.data_centers[position].id,
            Subject::Line => &grid.lines[position].id,
            Subject::Contract => &grid.contracts[position].id,
        }
    }

    /// Id → position in the configuration.
    pub fn positions(self, grid: &Grid) -> &HashMap<String, usize> {
        let index = &grid.index;
        match self {
            Subject::Plant => &index.plants,
            Subject::Load => &index.loads,
            Subject::DataCenter => &index.data_centers,
            Subject::Line => &index.lines,
            Subject::Contract => &index.contracts,
        }
    }
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

    /// The object it reports on, as its kind and its position in the grid.
    pub fn subject(&self) -> Option<(Subject, usize)> {
        // Every accepted event and every logged record asks this: one match, no search.
        Some(match *self {
            Body::Generation { plant, .. } => (Subject::Plant, plant),
            Body::Demand { load, .. } => (Subject::Load, load),
            Body::DcDemand { site, .. } => (Subject::DataCenter, site),
            Body::LineStatus { line, .. } => (Subject::Line, line),
            Body::Nomination { contract, .. } => (Subject::Contract, contract),
            Body::Heartbeat => return None,
        })
    }
}
