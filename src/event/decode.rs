//! JSON line → validated [`Event`]: parses the wire format and checks every id and
//! figure against the grid model. Time checks that need the stream's history (late,
//! too far ahead, duplicate) are made later, in [`crate::pipeline::order`].

use super::{Body, Event, EventType, Origin, Subject};
use crate::event::RejectReason;
use crate::grid::{DataCenterReading, Grid, LineReading, PlantReading};
use crate::time::Timestamp;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

/// Why a line was refused: a cheap reason plus the detail a person needs.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    pub reason: RejectReason,
    /// The event type, when the line got far enough to have one.
    pub event_type: Option<EventType>,
    pub detail: String,
}

/// The wire format: every field of every event type, all optional, so that a missing
/// field is reported by name instead of as a serde error deep in an enum.
#[derive(Deserialize)]
#[serde(expecting = "struct Wire")] // the name serde gives in its errors, as dead letters have said it
struct JsonFields<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    ts: Option<Cow<'a, str>>,
    #[serde(borrow)]
    source: Option<Cow<'a, str>>,
    seq: Option<u64>,
    epoch: Option<u64>,
    #[serde(borrow)]
    plant: Option<Cow<'a, str>>,
    output_mw: Option<f64>,
    available_mw: Option<f64>,
    reservoir_level_m: Option<f64>,
    inflow_mw: Option<f64>,
    #[serde(borrow)]
    load: Option<Cow<'a, str>>,
    mw: Option<f64>,
    #[serde(borrow)]
    site: Option<Cow<'a, str>>,
    firm_mw: Option<f64>,
    flexible_mw: Option<f64>,
    #[serde(borrow)]
    line: Option<Cow<'a, str>>,
    in_service: Option<bool>,
    capacity_mw: Option<f64>,
    #[serde(borrow)]
    contract: Option<Cow<'a, str>>,
}

/// Decodes and validates lines against one grid.
pub struct EventDecoder {
    grid: Arc<Grid>,
    /// Interned sender names, so that an event's origin is a refcount, not a string copy.
    sources: HashMap<String, Arc<str>>,
}

/// Senders beyond this many distinct names are not interned (still decoded).
const MAX_INTERNED_SOURCES: usize = 4096;
/// The longest sender name taken: a name identifies a gateway, and the tables keyed by
/// it are bounded in count, so a bound on length bounds their memory.
const MAX_SOURCE_BYTES: usize = 256;

impl EventDecoder {
    pub fn new(grid: Arc<Grid>) -> Self {
        EventDecoder {
            grid,
            sources: Default::default(),
        }
    }

    pub fn decode(&mut self, line: &[u8]) -> Result<Event, DecodeError> {
        let fail = |reason, event_type, detail: String| DecodeError {
            reason,
            event_type,
            detail,
        };
        let text = std::str::from_utf8(line)
            .map_err(|e| fail(RejectReason::Malformed, None, format!("not UTF-8: {e}")))?;
        let wire: JsonFields = serde_json::from_str(text).map_err(|e| {
            fail(
                RejectReason::Malformed,
                None,
                format!("not an event object: {e}"),
            )
        })?;
        let Some(kind) = wire.kind.as_deref() else {
            return Err(fail(
                RejectReason::Malformed,
                None,
                "missing field `type`".into(),
            ));
        };
        let Some(event_type) = EventType::from_name(kind) else {
            return Err(fail(
                RejectReason::UnknownType,
                None,
                format!("unknown event type {kind:?}"),
            ));
        };
        let mut check = Check {
            event_type,
            grid: &self.grid,
        };
        let ts = match wire.ts.as_deref() {
            None => return Err(check.error(RejectReason::Malformed, "missing field `ts`".into())),
            Some(text) => Timestamp::parse(text).ok_or_else(|| {
                check.error(
                    RejectReason::BadTimestamp,
                    format!("ts {text:?} is not an RFC 3339 time"),
                )
            })?,
        };
        let body = check.body(&wire)?;
        if let Some(source) = wire.source.as_deref()
            && source.len() > MAX_SOURCE_BYTES
        {
            return Err(check.error(
                RejectReason::InvalidValue,
                format!(
                    "source is {} bytes long, more than {MAX_SOURCE_BYTES}",
                    source.len()
                ),
            ));
        }
        let origin = match (wire.source.as_deref(), wire.seq) {
            (Some(source), Some(seq)) => Some(Origin {
                source: intern(&mut self.sources, source),
                epoch: wire.epoch.unwrap_or(0),
                seq,
            }),
            _ => None,
        };
        if event_type == EventType::Heartbeat && wire.source.is_none() {
            return Err(check.error(RejectReason::Malformed, "missing field `source`".into()));
        }
        Ok(Event { ts, origin, body })
    }
}

/// The shared name of a sender, so that an event's origin is a refcount, not a copy.
fn intern(sources: &mut HashMap<String, Arc<str>>, source: &str) -> Arc<str> {
    if let Some(name) = sources.get(source) {
        return name.clone();
    }
    let name: Arc<str> = Arc::from(source);
    if sources.len() < MAX_INTERNED_SOURCES {
        sources.insert(source.to_string(), name.clone());
    }
    name
}

struct Check<'g> {
    event_type: EventType,
    grid: &'g Grid,
}

impl Check<'_> {
    fn error(&self, reason: RejectReason, detail: String) -> DecodeError {
        DecodeError {
            reason,
            event_type: Some(self.event_type),
            detail,
        }
    }

    fn required<T: Copy>(&self, value: Option<T>, name: &str) -> Result<T, DecodeError> {
        value.ok_or_else(|| self.error(RejectReason::Malformed, format!("missing field `{name}`")))
    }

    /// A MW figure: finite, not negative, and at most `limit` when there is one.
    fn mw(&self, value: f64, field: &str, limit: Option<f64>) -> Result<f64, DecodeError> {
        if !value.is_finite() || value < 0.0 {
            return Err(self.error(
                RejectReason::InvalidValue,
                format!("{field} {value} is not a MW figure ≥ 0"),
            ));
        }
        match limit {
            Some(limit) if value > limit => Err(self.error(
                RejectReason::AboveCapacity,
                format!("{field} {value} is above the configured {limit}"),
            )),
            _ => Ok(value),
        }
    }

    fn finite(&self, value: Option<f64>, field: &str) -> Result<Option<f64>, DecodeError> {
        match value {
            Some(v) if !v.is_finite() => Err(self.error(
                RejectReason::InvalidValue,
                format!("{field} {v} is not finite"),
            )),
            _ => Ok(value),
        }
    }

    /// An optional MW figure, checked as [`Check::mw`] when present.
    fn optional_mw(
        &self,
        value: Option<f64>,
        field: &str,
        limit: Option<f64>,
    ) -> Result<Option<f64>, DecodeError> {
        value.map(|v| self.mw(v, field, limit)).transpose()
    }

    /// The position of the object the event reports on, from the id in its field.
    fn subject(&self, subject: Subject, value: &Option<Cow<str>>) -> Result<usize, DecodeError> {
        let field = subject.id_field();
        let id = value.as_deref().ok_or_else(|| {
            self.error(RejectReason::Malformed, format!("missing field `{field}`"))
        })?;
        subject
            .positions(self.grid)
            .get(id)
            .copied()
            .ok_or_else(|| self.error(RejectReason::UnknownId, format!("unknown {field} {id:?}")))
    }

    fn body(&mut self, w: &JsonFields) -> Result<Body, DecodeError> {
        let grid = self.grid;
        Ok(match self.event_type {
            EventType::Generation => {
                let plant = self.subject(Subject::Plant, &w.plant)?;
                let capacity = Some(grid.plants[plant].capacity_mw);
                let output_mw = self.mw(
                    self.required(w.output_mw, "output_mw")?,
                    "output_mw",
                    capacity,
                )?;
                let available_mw = self.mw(
                    self.required(w.available_mw, "available_mw")?,
                    "available_mw",
                    capacity,
                )?;
                // More water than a plant can turn is spilled, so a flood reading may
                // pass its capacity; never the whole fleet's.
                let inflow_mw =
                    self.optional_mw(w.inflow_mw, "inflow_mw", Some(grid.installed_mw))?;
                let reservoir_level_m = self.finite(w.reservoir_level_m, "reservoir_level_m")?;
                let reading = PlantReading {
                    output_mw,
                    available_mw,
                    reservoir_level_m,
                    inflow_mw,
                };
                Body::Generation { plant, reading }
            }
            EventType::Demand => {
                let load = self.subject(Subject::Load, &w.load)?;
                let limit = Some(grid.loads[load].max_mw);
                let mw = self.mw(self.required(w.mw, "mw")?, "mw", limit)?;
                Body::Demand { load, mw }
            }
            EventType::DcDemand => {
                let site = self.subject(Subject::DataCenter, &w.site)?;
                let limit = Some(
                    grid.data_centers[site]
                        .capacity_mw
                        .unwrap_or(grid.installed_mw),
                );
                let firm_mw = self.mw(self.required(w.firm_mw, "firm_mw")?, "firm_mw", limit)?;
                let flexible_mw = self.mw(
                    self.required(w.flexible_mw, "flexible_mw")?,
                    "flexible_mw",
                    limit,
                )?;
                self.mw(firm_mw + flexible_mw, "firm_mw + flexible_mw", limit)?;
                let reading = DataCenterReading {
                    firm_mw,
                    flexible_mw,
                };
                Body::DcDemand { site, reading }
            }
            EventType::LineStatus => {
                let line = self.subject(Subject::Line, &w.line)?;
                let configured = &grid.lines[line];
                let limit = Some(configured.capacity_mw.max(configured.reverse_capacity_mw));
                let reading = LineReading {
                    in_service: self.required(w.in_service, "in_service")?,
                    derated_mw: self.optional_mw(w.capacity_mw, "capacity_mw", limit)?,
                };
                Body::LineStatus { line, reading }
            }
            EventType::Nomination => {
                let contract = self.subject(Subject::Contract, &w.contract)?;
                let limit = Some(grid.contracts[contract].max_mw);
                let mw = self.optional_mw(w.mw, "mw", limit)?;
                Body::Nomination { contract, mw }
            }
            EventType::Heartbeat => Body::Heartbeat,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn decoder() -> EventDecoder {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml");
        EventDecoder::new(Arc::new(crate::config::load(&path).unwrap().grid))
    }

    fn reason(line: &str) -> RejectReason {
        decoder().decode(line.as_bytes()).unwrap_err().reason
    }

    #[test]
    fn decodes_every_event_type() {
        let mut d = decoder();
        let lines = [
            r#"{"type":"generation","ts":"2027-01-11T00:00:00Z","plant":"nurek","output_mw":1500,"available_mw":2000,"reservoir_level_m":880.5,"inflow_mw":300}"#,
            r#"{"type":"demand","ts":"2027-01-11T00:00:00Z","load":"talco","mw":420.5}"#,
            r#"{"type":"dc_demand","ts":"2027-01-11T00:00:00Z","site":"darvoz","firm_mw":60,"flexible_mw":30}"#,
            r#"{"type":"line_status","ts":"2027-01-11T00:00:00Z","line":"casa-1000","in_service":true,"capacity_mw":900}"#,
            r#"{"type":"nomination","ts":"2027-01-11T00:00:00Z","contract":"af-supply"}"#,
            r#"{"type":"heartbeat","ts":"2027-01-11T00:00:00Z","source":"scada-1","seq":7,"extra":"ignored"}"#,
        ];
        let types: Vec<_> = lines
            .iter()
            .map(|l| d.decode(l.as_bytes()).unwrap().body.event_type())
            .collect();
        assert_eq!(types, EventType::ALL);
        let hb = d.decode(lines[5].as_bytes()).unwrap();
        assert_eq!(hb.origin.unwrap().seq, 7);
        let nom = d.decode(lines[4].as_bytes()).unwrap();
        assert_eq!(
            nom.body,
            Body::Nomination {
                contract: 0,
                mw: None
            }
        );
    }

    #[test]
    fn every_bad_line_gets_its_reason() {
        let cases = [
            ("{not json", RejectReason::Malformed),
            ("[1,2,3]", RejectReason::Malformed),
            (r#"{"ts":"2027-01-11T00:00:00Z"}"#, RejectReason::Malformed),
            (
                r#"{"type":"weather","ts":"2027-01-11T00:00:00Z"}"#,
                RejectReason::UnknownType,
            ),
            (
                r#"{"type":"demand","ts":"2027-01-11T00:00:00Z","load":"atlantis","mw":1}"#,
                RejectReason::UnknownId,
            ),
            (
                r#"{"type":"demand","ts":"tomorrow","load":"talco","mw":1}"#,
                RejectReason::BadTimestamp,
            ),
            (
                r#"{"type":"demand","load":"talco","mw":1}"#,
                RejectReason::Malformed,
            ),
            (
                r#"{"type":"demand","ts":"2027-01-11T00:00:00Z","load":"talco","mw":-5}"#,
                RejectReason::InvalidValue,
            ),
            (
                r#"{"type":"demand","ts":"2027-01-11T00:00:00Z","load":"talco","mw":"5"}"#,
                RejectReason::Malformed,
            ),
            (
                r#"{"type":"demand","ts":"2027-01-11T00:00:00Z","load":"talco"}"#,
                RejectReason::Malformed,
            ),
            (
                r#"{"type":"generation","ts":"2027-01-11T00:00:00Z","plant":"nurek","output_mw":3500,"available_mw":3000}"#,
                RejectReason::AboveCapacity,
            ),
            (
                r#"{"type":"nomination","ts":"2027-01-11T00:00:00Z","contract":"af-supply","mw":401}"#,
                RejectReason::AboveCapacity,
            ),
            (
                r#"{"type":"dc_demand","ts":"2027-01-11T00:00:00Z","site":"darvoz","firm_mw":250,"flexible_mw":100}"#,
                RejectReason::AboveCapacity,
            ),
            (
                r#"{"type":"heartbeat","ts":"2027-01-11T00:00:00Z"}"#,
                RejectReason::Malformed,
            ),
            // No load is bigger than the whole fleet; a figure that would be is a fault.
            (
                r#"{"type":"demand","ts":"2027-01-11T00:00:00Z","load":"talco","mw":1e20}"#,
                RejectReason::AboveCapacity,
            ),
            (
                r#"{"type":"demand","ts":"2027-01-11T00:00:00Z","load":"talco","mw":1e308}"#,
                RejectReason::AboveCapacity,
            ),
            (
                r#"{"type":"dc_demand","ts":"2027-01-11T00:00:00Z","site":"darvoz","firm_mw":1e308,"flexible_mw":1e308}"#,
                RejectReason::AboveCapacity,
            ),
            (
                r#"{"type":"line_status","ts":"2027-01-11T00:00:00Z","line":"casa-1000","in_service":true,"capacity_mw":1e20}"#,
                RejectReason::AboveCapacity,
            ),
            (
                r#"{"type":"generation","ts":"2027-01-11T00:00:00Z","plant":"nurek","output_mw":1500,"available_mw":2000,"inflow_mw":1e20}"#,
                RejectReason::AboveCapacity,
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(reason(line), expected, "{line}");
        }
        assert_eq!(
            decoder().decode(b"\xff\xfe").unwrap_err().reason,
            RejectReason::Malformed
        );
        let long = format!(
            r#"{{"type":"heartbeat","ts":"2027-01-11T00:00:00Z","source":"{}","seq":1}}"#,
            "x".repeat(MAX_SOURCE_BYTES + 1)
        );
        assert_eq!(
            reason(&long),
            RejectReason::InvalidValue,
            "a source name is bounded"
        );
    }

    #[test]
    fn a_sender_epoch_is_part_of_its_origin() {
        let line =
            r#"{"type":"heartbeat","ts":"2027-01-11T00:00:00Z","source":"gw","epoch":3,"seq":0}"#;
        let mut d = decoder();
        let event = d.decode(line.as_bytes()).unwrap();
        let origin = event.origin.as_ref().unwrap();
        assert_eq!((&*origin.source, origin.epoch, origin.seq), ("gw", 3, 0));
        assert_eq!(event.to_json(&d.grid), line);
    }
}
