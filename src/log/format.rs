//! The native event-log format, version 1: a segment header with the id dictionary,
//! then length-prefixed, checksummed records. Pure encoding and decoding; the file
//! handling lives in [`super::writer`] and [`super::reader`]. `docs/event-log.md`
//! describes the bytes.

use crate::event::{Body, Event, EventType, Origin, Subject};
use crate::grid::{DataCenterReading, Grid, LineReading, PlantReading};
use crate::time::Timestamp;
use std::sync::Arc;

pub const MAGIC: &[u8; 8] = b"VAKHSHEL";
pub const VERSION: u16 = 1;
/// Length and checksum before every record's payload.
pub const RECORD_PREFIX: usize = 8;
/// A record longer than this is corruption, not data: no event comes close.
pub const MAX_RECORD: u32 = 1 << 20;

/// Not an event: names a sender for the `origin` of later records in the segment.
const TAG_SOURCE: u8 = 16;

const HAS_ORIGIN: u8 = 1;
const HAS_FIRST: u8 = 2;
const HAS_SECOND: u8 = 4;
/// The origin carries a non-zero epoch, written after its `seq`.
const HAS_EPOCH: u8 = 8;

/// The ids a segment's records refer to by position, per kind of object, in the
/// order of [`Subject::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dictionary(pub [Vec<String>; 5]);

impl Dictionary {
    pub fn of(grid: &Grid) -> Self {
        Dictionary(Subject::ALL.map(|subject| {
            let count = subject.positions(grid).len();
            (0..count)
                .map(|at| subject.id(grid, at).to_string())
                .collect()
        }))
    }
}

/// Encodes a segment header: magic, version, dictionary, CRC-32 of all before it.
pub fn header(dictionary: &Dictionary) -> Vec<u8> {
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    let length_at = out.len();
    out.extend_from_slice(&0u32.to_le_bytes());
    for ids in &dictionary.0 {
        out.extend_from_slice(&(ids.len() as u32).to_le_bytes());
        for id in ids {
            out.extend_from_slice(&(id.len() as u16).to_le_bytes());
            out.extend_from_slice(id.as_bytes());
        }
    }
    let total = (out.len() + 4) as u32;
    out[length_at..length_at + 4].copy_from_slice(&total.to_le_bytes());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// What is wrong with a segment or a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("not a Vakhsh event log (bad magic)")]
    Magic,
    #[error("log format version {0} is not supported (this build reads version 1)")]
    Version(u16),
    #[error("truncated")]
    Truncated,
    #[error("checksum mismatch")]
    Checksum,
    #[error("record length {0} is impossible")]
    Length(u32),
    #[error("unknown record tag {0}")]
    Tag(u8),
    #[error("record refers to {kind} #{index}, which the segment's dictionary does not list")]
    Index { kind: &'static str, index: u32 },
    #[error("record refers to sender #{0}, which the segment never named")]
    Source(u32),
    #[error("bad dictionary entry")]
    Dictionary,
}

/// Decodes a header; returns the dictionary and the header's length.
pub fn read_header(bytes: &[u8]) -> Result<(Dictionary, usize), FormatError> {
    if bytes.len() < 14 {
        return Err(FormatError::Truncated);
    }
    if &bytes[..8] != MAGIC {
        return Err(FormatError::Magic);
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != VERSION {
        return Err(FormatError::Version(version));
    }
    let total = u32::from_le_bytes(bytes[10..14].try_into().expect("4 bytes")) as usize;
    if total < 18 || total > bytes.len() {
        return Err(FormatError::Truncated);
    }
    let stored = u32::from_le_bytes(bytes[total - 4..total].try_into().expect("4 bytes"));
    if crc32fast::hash(&bytes[..total - 4]) != stored {
        return Err(FormatError::Checksum);
    }
    let mut cursor = Cursor {
        bytes: &bytes[14..total - 4],
    };
    let mut dictionary = Dictionary::default();
    for ids in &mut dictionary.0 {
        let count = cursor.u32()?;
        for _ in 0..count {
            let len = cursor.u16()? as usize;
            let id = std::str::from_utf8(cursor.take(len)?).map_err(|_| FormatError::Dictionary)?;
            ids.push(id.to_string());
        }
    }
    Ok((dictionary, total))
}

/// Appends one record (prefix included) to `out`.
fn record(out: &mut Vec<u8>, payload: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0; RECORD_PREFIX]);
    payload(out);
    let length = (out.len() - start - RECORD_PREFIX) as u32;
    let crc = crc32fast::hash(&out[start + RECORD_PREFIX..]);
    out[start..start + 4].copy_from_slice(&length.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// Encodes events into records, naming each sender once per segment.
#[derive(Debug, Default)]
pub struct RecordEncoder {
    sources: std::collections::HashMap<Arc<str>, u32>,
}

impl RecordEncoder {
    /// Forgets the sender names: a new segment names them again.
    pub fn new_segment(&mut self) {
        self.sources.clear();
    }

    pub fn encode(&mut self, out: &mut Vec<u8>, seq: u64, event: &Event) {
        let origin = event
            .origin
            .as_ref()
            .map(|o| (self.source(out, &o.source), o.epoch, o.seq));
        record(out, |p| {
            let tag = event.body.event_type().log_tag();
            let (first, second) = match event.body {
                Body::Generation { reading, .. } => (reading.reservoir_level_m, reading.inflow_mw),
                Body::LineStatus { reading, .. } => (reading.derated_mw, None),
                Body::Nomination { mw, .. } => (mw, None),
                Body::Demand { .. } | Body::DcDemand { .. } | Body::Heartbeat => (None, None),
            };
            let epoch = origin.map_or(0, |(_, epoch, _)| epoch);
            let flags = if origin.is_some() { HAS_ORIGIN } else { 0 }
                | if epoch != 0 { HAS_EPOCH } else { 0 }
                | if first.is_some() { HAS_FIRST } else { 0 }
                | if second.is_some() { HAS_SECOND } else { 0 };
            p.extend_from_slice(&[tag, flags]);
            p.extend_from_slice(&seq.to_le_bytes());
            p.extend_from_slice(&event.ts.as_micros().to_le_bytes());
            if let Some((index, _, seq)) = origin {
                p.extend_from_slice(&index.to_le_bytes());
                p.extend_from_slice(&seq.to_le_bytes());
                if epoch != 0 {
                    p.extend_from_slice(&epoch.to_le_bytes());
                }
            }
            let index = |p: &mut Vec<u8>, i: usize| p.extend_from_slice(&(i as u32).to_le_bytes());
            let mw = |p: &mut Vec<u8>, v: f64| p.extend_from_slice(&v.to_le_bytes());
            if let Some((_, at)) = event.body.subject() {
                index(p, at);
            }
            match event.body {
                Body::Generation { reading, .. } => {
                    mw(p, reading.output_mw);
                    mw(p, reading.available_mw);
                }
                Body::Demand { mw: value, .. } => mw(p, value),
                Body::DcDemand { reading, .. } => {
                    mw(p, reading.firm_mw);
                    mw(p, reading.flexible_mw);
                }
                Body::LineStatus { reading, .. } => p.push(u8::from(reading.in_service)),
                Body::Nomination { .. } | Body::Heartbeat => {}
            }
            for value in [first, second].into_iter().flatten() {
                mw(p, value);
            }
        });
    }

    fn source(&mut self, out: &mut Vec<u8>, name: &Arc<str>) -> u32 {
        if let Some(index) = self.sources.get(name) {
            return *index;
        }
        let index = self.sources.len() as u32;
        self.sources.insert(name.clone(), index);
        record(out, |p| {
            p.push(TAG_SOURCE);
            p.extend_from_slice(&index.to_le_bytes());
            p.extend_from_slice(&(name.len() as u16).to_le_bytes());
            p.extend_from_slice(name.as_bytes());
        });
        index
    }
}

/// One decoded record.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Event {
        seq: u64,
        event: Event,
    },
    /// A sender named for later records; nothing to replay.
    Source,
}

/// Splits the next record off `bytes`: `Ok(None)` at the clean end, the payload and the
/// length consumed otherwise.
pub fn next_payload(bytes: &[u8]) -> Result<Option<(&[u8], usize)>, FormatError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    if bytes.len() < RECORD_PREFIX {
        return Err(FormatError::Truncated);
    }
    let length = u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes"));
    if length > MAX_RECORD {
        return Err(FormatError::Length(length));
    }
    let end = RECORD_PREFIX + length as usize;
    if bytes.len() < end {
        return Err(FormatError::Truncated);
    }
    let stored = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes"));
    let payload = &bytes[RECORD_PREFIX..end];
    if crc32fast::hash(payload) != stored {
        return Err(FormatError::Checksum);
    }
    Ok(Some((payload, end)))
}

/// Decodes payloads of one segment, translating dictionary positions into positions
/// of the grid being replayed (which may differ: a what-if configuration).
pub struct RecordDecoder {
    /// Per kind: dictionary position → grid index (`None`: not in this grid).
    map: [Vec<Option<usize>>; 5],
    names: Dictionary,
    sources: Vec<Arc<str>>,
}

/// A record naming an object the replaying grid does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmapped {
    pub kind: Subject,
    pub id: String,
}

impl RecordDecoder {
    pub fn new(dictionary: Dictionary, grid: &Grid) -> Self {
        let map = std::array::from_fn(|k| {
            let index = Subject::ALL[k].positions(grid);
            dictionary.0[k]
                .iter()
                .map(|id| index.get(id).copied())
                .collect()
        });
        RecordDecoder {
            map,
            names: dictionary,
            sources: Vec::new(),
        }
    }

    /// Decodes a payload. The inner `Err` is an event for an object the replaying grid
    /// lacks: not corruption, but not replayable either.
    pub fn decode(&mut self, payload: &[u8]) -> Result<Result<Record, Unmapped>, FormatError> {
        let mut c = Cursor { bytes: payload };
        if payload.first() == Some(&TAG_SOURCE) {
            c.take(1)?;
            let index = c.u32()?;
            let len = c.u16()? as usize;
            let name = String::from_utf8_lossy(c.take(len)?);
            if index as usize != self.sources.len() {
                return Err(FormatError::Source(index));
            }
            self.sources.push(Arc::from(name.as_ref()));
            return Ok(Ok(Record::Source));
        }
        let tag = c.u8()?;
        let flags = c.u8()?;
        let seq = c.u64()?;
        let ts = Timestamp::from_micros(c.u64()? as i64);
        let origin = if flags & HAS_ORIGIN != 0 {
            let index = c.u32()?;
            let source = self
                .sources
                .get(index as usize)
                .cloned()
                .ok_or(FormatError::Source(index))?;
            let seq = c.u64()?;
            let epoch = if flags & HAS_EPOCH != 0 { c.u64()? } else { 0 };
            Some(Origin { source, epoch, seq })
        } else {
            None
        };
        let event_type = EventType::from_log_tag(tag).ok_or(FormatError::Tag(tag))?;
        // The object's position in the replaying grid, or the id it lacks.
        let subject = match event_type.subject() {
            Some(kind) => {
                let k = kind.position();
                let at = c.u32()?;
                let mapped = self.map[k].get(at as usize).ok_or(FormatError::Index {
                    kind: kind.name(),
                    index: at,
                })?;
                mapped.ok_or_else(|| Unmapped {
                    kind,
                    id: self.names.0[k][at as usize].clone(),
                })
            }
            None => Ok(0),
        };
        let body = match event_type {
            EventType::Generation => {
                let (output_mw, available_mw) = (c.f64()?, c.f64()?);
                let reading = PlantReading {
                    output_mw,
                    available_mw,
                    reservoir_level_m: c.optional(flags & HAS_FIRST)?,
                    inflow_mw: c.optional(flags & HAS_SECOND)?,
                };
                subject.map(|plant| Body::Generation { plant, reading })
            }
            EventType::Demand => {
                let mw = c.f64()?;
                subject.map(|load| Body::Demand { load, mw })
            }
            EventType::DcDemand => {
                let (firm_mw, flexible_mw) = (c.f64()?, c.f64()?);
                let reading = DataCenterReading {
                    firm_mw,
                    flexible_mw,
                };
                subject.map(|site| Body::DcDemand { site, reading })
            }
            EventType::LineStatus => {
                let reading = LineReading {
                    in_service: c.u8()? != 0,
                    derated_mw: c.optional(flags & HAS_FIRST)?,
                };
                subject.map(|line| Body::LineStatus { line, reading })
            }
            EventType::Nomination => {
                let mw = c.optional(flags & HAS_FIRST)?;
                subject.map(|contract| Body::Nomination { contract, mw })
            }
            EventType::Heartbeat => Ok(Body::Heartbeat),
        };
        Ok(body.map(|body| Record::Event {
            seq,
            event: Event { ts, origin, body },
        }))
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        if self.bytes.len() < n {
            return Err(FormatError::Truncated);
        }
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, FormatError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, FormatError> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }
    fn u32(&mut self) -> Result<u32, FormatError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn f64(&mut self) -> Result<f64, FormatError> {
        Ok(f64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn optional(&mut self, present: u8) -> Result<Option<f64>, FormatError> {
        if present != 0 {
            self.f64().map(Some)
        } else {
            Ok(None)
        }
    }
}

/// The ingest sequence of an event record (`None` for a source record).
pub fn payload_seq(payload: &[u8]) -> Option<u64> {
    if payload.first() == Some(&TAG_SOURCE) || payload.len() < 10 {
        return None;
    }
    Some(u64::from_le_bytes(
        payload[2..10].try_into().expect("8 bytes"),
    ))
}
