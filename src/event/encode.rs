//! Event → JSON line, in the daemon's input format: what the simulator and `log
//! export` write, and what dead letters hold for events that arrived without a line.

use super::{Body, Event};
use crate::grid::Grid;

/// The JSON form of an event, as the simulator and `log export` write it and `decode`
/// reads it.
#[derive(serde::Serialize)]
struct EventJson<'a> {
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
    body: BodyJson<'a>,
}

#[derive(serde::Serialize)]
#[serde(untagged)]
enum BodyJson<'a> {
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
struct FigureFormatter;

impl serde_json::ser::Formatter for FigureFormatter {
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
    pub fn to_json(&self, grid: &Grid) -> String {
        let id = self
            .body
            .subject()
            .map(|(subject, at)| subject.id(grid, at));
        let id = id.unwrap_or_default();
        let body = match self.body {
            Body::Generation { reading, .. } => BodyJson::Generation {
                plant: id,
                output_mw: reading.output_mw,
                available_mw: reading.available_mw,
                reservoir_level_m: reading.reservoir_level_m,
                inflow_mw: reading.inflow_mw,
            },
            Body::Demand { mw, .. } => BodyJson::Demand { load: id, mw },
            Body::DcDemand { reading, .. } => BodyJson::DcDemand {
                site: id,
                firm_mw: reading.firm_mw,
                flexible_mw: reading.flexible_mw,
            },
            Body::LineStatus { reading, .. } => BodyJson::LineStatus {
                line: id,
                in_service: reading.in_service,
                capacity_mw: reading.derated_mw,
            },
            Body::Nomination { mw, .. } => BodyJson::Nomination { contract: id, mw },
            Body::Heartbeat => BodyJson::Heartbeat {},
        };
        let source = match (&self.origin, &self.body) {
            (Some(origin), _) => Some(&*origin.source),
            (None, Body::Heartbeat) => Some("unknown"),
            (None, _) => None,
        };
        let wire = EventJson {
            kind: self.body.event_type().as_str(),
            ts: self.ts,
            source,
            epoch: self.origin.as_ref().map(|o| o.epoch).filter(|&e| e != 0),
            seq: self.origin.as_ref().map(|o| o.seq),
            body,
        };
        let mut out = Vec::with_capacity(192);
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, FigureFormatter);
        serde::Serialize::serialize(&wire, &mut serializer).expect("an event always serialises");
        String::from_utf8(out).expect("JSON is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Timestamp;

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
