//! Faults as field gateways make them: `vakhsh simulate --faults P` and the live
//! simulator's `[simulator] faults`.
//!
//! Each line of the fault-free stream is, with probability P, made into a fault, one
//! kind in three each:
//!
//! - **bad**: the line is garbled in place of the reading it carried, one of six ways
//!   in equal parts, each refused by the daemon with its own reason: cut short
//!   (`malformed`), its `seq` written as a string (`malformed`), an event type the
//!   daemon does not know (`unknown_type`), an id the configuration lacks
//!   (`unknown_id`), a negative MW figure (`invalid_value`; JSON has no way to write a
//!   non-finite number, so a gateway cannot send one), or a time that is not RFC 3339
//!   (`bad_timestamp`);
//! - **late**: the line is held back, as in a gateway's store-and-forward buffer, and
//!   sent once a line more than `[time] allowed_lateness` newer has gone out, so the
//!   watermark has passed it (`late`). It keeps its `source` and `seq`, which the
//!   daemon has not seen. One still held when a file ends is not written;
//! - **duplicate**: the line is sent, then sent again, same `source` and `seq` (a
//!   retry after a lost acknowledgement), which the daemon counts as a duplicate.
//!
//! Faults are substituted for lines, never generated in place of the simulation:
//! they draw from their own ChaCha8 stream of the same seed, so the simulated grid is
//! the same at every rate, every line the daemon accepts is byte for byte a line of
//! the fault-free stream, in the same order, and at P = 0 no draw is made and the
//! output is the fault-free stream itself. A bad or late line's reading is lost to the
//! daemon, as it would be in the field. The same seed and P give the same bytes.

use super::shape::{index, stream, uniform};
use crate::event::{Body, Event, Subject};
use crate::grid::Grid;
use crate::time::Timestamp;
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;
use std::time::Duration;

/// The ChaCha8 stream faults draw from; the simulation draws from stream 0.
const FAULT_STREAM: u64 = 1;

/// What became of one line: the fault kinds in the order they are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Truncated,
    SeqAsString,
    UnknownType,
    UnknownId,
    NegativeMw,
    BadTimestamp,
    Late,
    Duplicate,
}

impl Fault {
    /// The six ways a line is garbled, drawn in equal parts.
    pub const BAD: [Fault; 6] = [
        Fault::Truncated,
        Fault::SeqAsString,
        Fault::UnknownType,
        Fault::UnknownId,
        Fault::NegativeMw,
        Fault::BadTimestamp,
    ];
}

/// Turns the fault-free stream's events into lines, with faults at the configured rate.
pub struct FaultInjector {
    rate: f64,
    rng: ChaCha8Rng,
    lateness: Duration,
    /// Late lines waiting for the watermark to pass them, oldest first.
    held: VecDeque<(Timestamp, String)>,
}

impl FaultInjector {
    /// Faults at `rate` (a fraction of lines, 0 to 1) drawn from `seed`'s own stream;
    /// late lines are held past `grid`'s allowed lateness.
    pub fn new(grid: &Grid, seed: u64, rate: f64) -> Self {
        FaultInjector {
            rate,
            rng: stream(seed, FAULT_STREAM),
            lateness: grid.time.allowed_lateness,
            held: VecDeque::new(),
        }
    }

    /// Appends the lines `event` becomes to `out` (none, when it is held back to be
    /// sent late; two, when it is duplicated; with any held lines now due after it)
    /// and says what fault it was made into, if any.
    pub fn pass(&mut self, event: &Event, grid: &Grid, out: &mut Vec<String>) -> Option<Fault> {
        let line = event.to_json(grid);
        if self.rate <= 0.0 || uniform(&mut self.rng) >= self.rate {
            out.push(line);
            self.release(event.ts, out);
            return None;
        }
        let fault = match (uniform(&mut self.rng) * 3.0) as usize {
            0 => Fault::BAD[index(&mut self.rng, Fault::BAD.len())],
            1 => Fault::Late,
            _ => Fault::Duplicate,
        };
        match fault {
            Fault::Late => self.held.push_back((event.ts, line)),
            Fault::Duplicate => {
                out.push(line.clone());
                out.push(line);
                self.release(event.ts, out);
            }
            bad => {
                let garbled = self.garble(bad, event, grid, line);
                out.push(garbled);
            }
        }
        Some(fault)
    }

    /// Sends every held line that the watermark has passed once a line of `ts` has
    /// been accepted: those more than the allowed lateness older.
    fn release(&mut self, ts: Timestamp, out: &mut Vec<String>) {
        while let Some((held, _)) = self.held.front()
            && held.saturating_add(self.lateness) < ts
        {
            let (_, line) = self.held.pop_front().expect("a front");
            out.push(line);
        }
    }

    /// `line`, the JSON of `event`, garbled the way `fault` says.
    fn garble(&mut self, fault: Fault, event: &Event, grid: &Grid, line: String) -> String {
        let garbled = match fault {
            Fault::SeqAsString => event.origin.as_ref().map(|origin| {
                let seq = origin.seq;
                line.replacen(
                    &format!("\"seq\":{seq},"),
                    &format!("\"seq\":\"{seq}\","),
                    1,
                )
            }),
            Fault::UnknownType => {
                let name = event.body.event_type().as_str();
                let typed = format!("\"type\":\"{name}\"");
                Some(line.replacen(&typed, &format!("\"type\":\"{name}_v2\""), 1))
            }
            Fault::UnknownId => event.body.subject().map(|(subject, at)| {
                let id = subject.id(grid, at);
                let unknown = unknown_id(subject, id, grid);
                let field = subject.id_field();
                line.replacen(
                    &format!("\"{field}\":{}", json_string(id)),
                    &format!("\"{field}\":{}", json_string(&unknown)),
                    1,
                )
            }),
            Fault::NegativeMw => negative(event.body).map(|body| {
                let event = Event {
                    body,
                    ..event.clone()
                };
                event.to_json(grid)
            }),
            Fault::BadTimestamp => {
                let good = event.ts.to_string();
                let bad = bad_timestamp(&good, event.ts, uniform(&mut self.rng));
                Some(line.replacen(
                    &format!("\"ts\":\"{good}\""),
                    &format!("\"ts\":\"{bad}\""),
                    1,
                ))
            }
            _ => None,
        };
        match garbled {
            Some(garbled) if garbled != line => garbled,
            // Cut short: a strict prefix of a JSON object is never one.
            _ => {
                let mut cut = 1 + ((line.len() - 1) as f64 * uniform(&mut self.rng)) as usize;
                cut = cut.clamp(1, line.len() - 1);
                while !line.is_char_boundary(cut) {
                    cut -= 1;
                }
                line[..cut].to_string()
            }
        }
    }
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serialises")
}

/// `id` with a suffix that makes it one the configuration lacks, as a gateway
/// configured for a newer grid would send.
fn unknown_id(subject: Subject, id: &str, grid: &Grid) -> String {
    let known = subject.positions(grid);
    (2..)
        .map(|n| format!("{id}-{n}"))
        .find(|candidate| !known.contains_key(candidate))
        .expect("some suffix is free")
}

/// `body` with its first MW figure negative, as a sign error in a gateway makes it.
fn negative(body: Body) -> Option<Body> {
    let flip = |mw: f64| -mw.max(0.001);
    Some(match body {
        Body::Generation { plant, mut reading } => {
            reading.output_mw = flip(reading.output_mw);
            Body::Generation { plant, reading }
        }
        Body::Demand { load, mw } => Body::Demand { load, mw: flip(mw) },
        Body::DcDemand { site, mut reading } => {
            reading.firm_mw = flip(reading.firm_mw);
            Body::DcDemand { site, reading }
        }
        Body::LineStatus { line, mut reading } => {
            reading.derated_mw = Some(flip(reading.derated_mw.unwrap_or(0.0)));
            Body::LineStatus { line, reading }
        }
        Body::Nomination { contract, mw } => Body::Nomination {
            contract,
            mw: Some(flip(mw.unwrap_or(0.0))),
        },
        Body::Heartbeat => return None,
    })
}

/// `good` (RFC 3339, UTC) written as gateways get it wrong: without its zone, in
/// seconds since the epoch, or in a local day-first form.
pub(super) fn bad_timestamp(good: &str, ts: Timestamp, draw: f64) -> String {
    match (draw * 3.0) as usize {
        0 => good.trim_end_matches('Z').to_string(),
        1 => ts.as_micros().div_euclid(1_000_000).to_string(),
        _ => match (
            good.get(0..4),
            good.get(5..7),
            good.get(8..10),
            good.get(11..19),
        ) {
            (Some(year), Some(month), Some(day), Some(time)) => {
                format!("{day}.{month}.{year} {time}")
            }
            _ => format!("{good} UTC"),
        },
    }
}
