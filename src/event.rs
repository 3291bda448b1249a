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

/// The JSON form of an event, as the simulator and `log export` write it and `decode`
/// reads it.
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

/// Writes the wire's figures. A whole number of thousandths, which is what meters,
/// gateways and the simulator send, gets exactly three decimals, so that an exported
/// log repeats the simulator's bytes; any other figure its shortest exact form. Either
/// reads back as the same `f64`.
struct WireFormatter;

impl serde_json::ser::Formatter for WireFormatter {
    fn write_f64<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        value: f64,
    ) -> std::io::Result<()> {
        // Below 1e12 a count of thousandths is exact, and dividing it by 1000 rounds as
        // reading its decimal text does: equal means the text reads back as `value`.
        let millis = (value * 1000.0).round();
        if value.is_sign_positive() && value < 1e12 && millis / 1000.0 == value {
            let millis = millis as u64;
            write!(writer, "{}.{:03}", millis / 1000, millis % 1000)
        } else {
            serde_json::ser::CompactFormatter.write_f64(writer, value)
        }
    }
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
        let mut out = Vec::with_capacity(192);
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, WireFormatter);
        serde::Serialize::serialize(&wire, &mut serializer).expect("an event always serialises");
        String::from_utf8(out).expect("JSON is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whole thousandths get three decimals, as the simulator has always written them;
    /// every other figure its shortest form; each reads back exactly.
    #[test]
    fn figures_are_written_to_read_back_exactly() {
        let tree = serde_json::json!({
            "areas": [{"id": "a", "kind": "domestic"}],
            "loads": [{"id": "l", "area": "a", "tier": 1, "class": "other"}]
        });
        let grid = crate::config::from_value(&tree).expect("grid").grid;
        let cases = [
            (18.0, "18.000"),
            (238.412, "238.412"),
            (0.001, "0.001"),
            (0.0, "0.000"),
            (0.1234, "0.1234"),
            (1.0 / 3.0, "0.3333333333333333"),
            (-0.0, "-0.0"),
            (1e12, "1000000000000.0"),
        ];
        for (mw, text) in cases {
            let event = Event {
                ts: Timestamp::from_micros(0),
                origin: None,
                body: Body::Demand { load: 0, mw },
            };
            let line = event.to_json(&grid);
            let expected = format!(
                r#"{{"type":"demand","ts":"1970-01-01T00:00:00Z","load":"l","mw":{text}}}"#
            );
            assert_eq!(line, expected);
            let back: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(
                back["mw"].as_f64().unwrap().to_bits(),
                mw.to_bits(),
                "{line}"
            );
        }
    }
}
