//! A decision line: one JSON object per line, as the daemon and `vakhsh replay` write
//! it and as the totals, `vakhsh diff` and the replay report read it back. One type
//! both ways, so what is read is exactly what was written.
//!
//! Figures are written in MW rounded to 1e-8 MW (10 mW), so files are stable and
//! diffable: coarse enough that solver noise never shows, fine enough that rounding
//! (5e-9 MW a figure at most) and the scheduler's snapping to bounds (1e-8 MW) cannot
//! put an area of up to 60 figures out of balance by rule 3's 1e-6 MW. The rounded
//! values round-trip through JSON unchanged.

use super::Decided;
use crate::grid::Grid;
use crate::schedule::{Balance, Served};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// One decision in the shape of its line, its figures rounded. Its names are borrowed:
/// from the grid when it is built to be written, from the text when it is read (owned
/// only where the text escapes a character), so neither way copies them.
///
/// A line may lack the fields that lines written by earlier versions, and the lines
/// made up by tests, leave out; read, they are empty, zero or false.
// serde names the type in the errors `diff` and `report` print; the names are the ones
// they have always said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(expecting = "struct Figures")]
pub struct DecisionLine<'a> {
    pub ts: Timestamp,
    pub seq: u64,
    #[serde(borrow)]
    pub state: Cow<'a, str>,
    #[serde(borrow, default)]
    pub trigger: Cow<'a, str>,
    #[serde(default)]
    pub ramps_relaxed: bool,
    #[serde(default)]
    pub reserve_mw: f64,
    #[serde(default)]
    pub reserve_required_mw: f64,
    pub balance: Balance,
    #[serde(borrow, default)]
    pub plants: Vec<PlantSetpoint<'a>>,
    #[serde(borrow, default)]
    pub loads: Vec<LoadServed<'a>>,
    #[serde(borrow)]
    pub contracts: Vec<ContractScheduled<'a>>,
    #[serde(borrow, default)]
    pub lines: Vec<LineFlow<'a>>,
    pub tiers: Vec<TierServed>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(expecting = "struct Plant")]
pub struct PlantSetpoint<'a> {
    #[serde(borrow)]
    pub plant: Cow<'a, str>,
    pub setpoint_mw: f64,
}

/// A load, or one part of a data center (`ID/firm`, `ID/flexible`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(expecting = "struct Load")]
pub struct LoadServed<'a> {
    #[serde(borrow)]
    pub load: Cow<'a, str>,
    pub requested_mw: f64,
    pub served_mw: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(expecting = "struct Contract")]
pub struct ContractScheduled<'a> {
    #[serde(borrow)]
    pub contract: Cow<'a, str>,
    pub requested_mw: f64,
    pub scheduled_mw: f64,
    #[serde(borrow)]
    pub reason: Cow<'a, str>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(expecting = "struct Line")]
pub struct LineFlow<'a> {
    #[serde(borrow)]
    pub line: Cow<'a, str>,
    pub flow_mw: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(expecting = "struct Tier")]
pub struct TierServed {
    pub tier: u32,
    pub requested_mw: f64,
    pub served_mw: f64,
}

/// A decision line that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {source}")]
pub struct LineError {
    pub line: usize,
    source: serde_json::Error,
}

/// MW rounded to 1e-8, with negative zero made positive.
fn mw(value: f64) -> f64 {
    let rounded = (value * 1e8).round() / 1e8;
    if rounded == 0.0 { 0.0 } else { rounded }
}

impl<'a> DecisionLine<'a> {
    /// `decided` laid out as its line: ids named after `grid`, figures rounded.
    pub fn new(grid: &'a Grid, decided: &Decided) -> DecisionLine<'a> {
        fn load<'a>(id: Cow<'a, str>, x: &Served) -> LoadServed<'a> {
            LoadServed {
                load: id,
                requested_mw: mw(x.requested_mw),
                served_mw: mw(x.served_mw),
            }
        }
        let s = &decided.schedule;
        let mut loads: Vec<LoadServed> = grid
            .loads
            .iter()
            .zip(&s.loads)
            .map(|(l, x)| load(l.id.as_str().into(), x))
            .collect();
        for (dc, parts) in grid.data_centers.iter().zip(&s.data_centers) {
            loads.push(load(format!("{}/firm", dc.id).into(), &parts[0]));
            loads.push(load(format!("{}/flexible", dc.id).into(), &parts[1]));
        }
        let b = &s.balance;
        DecisionLine {
            ts: decided.ts,
            seq: decided.seq,
            state: s.state.as_str().into(),
            trigger: decided.trigger.as_str().into(),
            ramps_relaxed: s.ramps_relaxed,
            reserve_mw: mw(s.reserve_mw),
            reserve_required_mw: mw(s.reserve_required_mw),
            balance: Balance {
                generation_mw: mw(b.generation_mw),
                domestic_served_mw: mw(b.domestic_served_mw),
                exports_mw: mw(b.exports_mw),
                transit_mw: mw(b.transit_mw),
                imports_mw: mw(b.imports_mw),
                losses_mw: mw(b.losses_mw),
                spill_mw: mw(b.spill_mw),
                unserved_mw: mw(b.unserved_mw),
            },
            plants: grid
                .plants
                .iter()
                .zip(&s.plants)
                .map(|(p, x)| PlantSetpoint {
                    plant: p.id.as_str().into(),
                    setpoint_mw: mw(*x),
                })
                .collect(),
            loads,
            contracts: grid
                .contracts
                .iter()
                .zip(&s.contracts)
                .map(|(c, x)| ContractScheduled {
                    contract: c.id.as_str().into(),
                    requested_mw: mw(x.requested_mw),
                    scheduled_mw: mw(x.scheduled_mw),
                    reason: x.reason.as_str().into(),
                })
                .collect(),
            lines: grid
                .lines
                .iter()
                .zip(&s.lines)
                .map(|(l, x)| LineFlow {
                    line: l.id.as_str().into(),
                    flow_mw: mw(*x),
                })
                .collect(),
            tiers: s
                .tiers
                .iter()
                .map(|t| TierServed {
                    tier: t.tier,
                    requested_mw: mw(t.requested_mw),
                    served_mw: mw(t.served_mw),
                })
                .collect(),
        }
    }

    /// Every decision of a decision file, in order; blank lines are skipped.
    pub fn parse_lines(text: &'a str) -> Result<Vec<DecisionLine<'a>>, LineError> {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(n, l)| {
                serde_json::from_str(l).map_err(|source| LineError {
                    line: n + 1,
                    source,
                })
            })
            .collect()
    }
}

impl DecisionLine<'_> {
    /// The JSON line in the format of the spec, newline included.
    pub fn to_json(&self) -> Vec<u8> {
        let mut line = Vec::with_capacity(4096);
        self.write_json(&mut line);
        line
    }

    /// Appends the line, newline included, to `out`: a sink writing many decisions
    /// lays them out in one buffer.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        serde_json::to_writer(&mut *out, self).expect("writing to memory cannot fail");
        out.push(b'\n');
    }

    /// Its event time, in microseconds.
    pub fn micros(&self) -> i64 {
        self.ts.as_micros()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Trigger;
    use crate::decision::fixture::{at, grid, schedule};

    fn decided(ramps_relaxed: bool) -> Decided {
        let mut schedule = schedule(1.0 / 3.0);
        schedule.ramps_relaxed = ramps_relaxed;
        Decided {
            ts: at(0),
            seq: 7,
            trigger: Trigger::Change,
            schedule,
        }
    }

    #[test]
    fn reads_back_what_it_wrote() {
        let grid = grid();
        let written = decided(true).line(&grid);
        let json = String::from_utf8(written.to_json()).unwrap();
        assert_eq!(DecisionLine::parse_lines(&json).unwrap(), [written]);
    }

    #[test]
    fn writes_the_documented_format() {
        let out = decided(false).line(&grid()).to_json();
        let golden = include_str!("../../tests/data/decision.golden.json");
        assert_eq!(String::from_utf8(out).unwrap(), golden);
    }
}
