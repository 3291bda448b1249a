//! Decisions: when a schedule is worth emitting, and how it is written.
//!
//! A tick's schedule becomes a decision when it is the first, when the operating state
//! changes, when any figure moves by more than `deadband_mw` since the last decision,
//! when its line ramps were relaxed or the tick before it had them relaxed, or when
//! `heartbeat` of event time has passed without one. Figures are written in
//! MW rounded to 1e-8 MW (10 mW), so files are stable and diffable: coarse enough
//! that solver noise never shows, fine enough that rounding (5e-9 MW a figure at most)
//! and the scheduler's snapping to bounds (1e-8 MW) cannot put an area of up to 60
//! figures out of balance by rule 3's 1e-6 MW.

use crate::grid::{Grid, GridState};
use crate::schedule::{Balance, Schedule, Scheduler, Served};
use crate::time::{Timestamp, micros};
use crate::totals::{self, Figures};
use serde::Serialize;
use std::sync::Arc;

/// What made a tick's schedule a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// The first decision of the run.
    Initial,
    /// The operating state changed.
    StateChange,
    /// A figure moved by more than the deadband, or the line ramps were relaxed for
    /// this tick or the one before.
    Change,
    /// Nothing moved for a whole heartbeat.
    Heartbeat,
}

impl Trigger {
    pub const ALL: [Trigger; 4] = [
        Trigger::Initial,
        Trigger::StateChange,
        Trigger::Change,
        Trigger::Heartbeat,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Initial => "initial",
            Trigger::StateChange => "state_change",
            Trigger::Change => "change",
            Trigger::Heartbeat => "heartbeat",
        }
    }
}

/// Decides which schedules are emitted and numbers them.
#[derive(Debug, Clone, Default)]
pub struct Emitter {
    last: Option<(Timestamp, Schedule)>,
    seq: u64,
}

impl Emitter {
    /// Returns the trigger and decision number when `schedule` is to be emitted.
    pub fn offer(
        &mut self,
        grid: &Grid,
        ts: Timestamp,
        schedule: &Schedule,
    ) -> Option<(Trigger, u64)> {
        let trigger = match &self.last {
            None => Trigger::Initial,
            Some((_, last)) if last.state != schedule.state => Trigger::StateChange,
            Some((_, last)) if ramps_relaxed(last, schedule) => Trigger::Change,
            Some((_, last)) if moved(last, schedule, grid.schedule.deadband_mw) => Trigger::Change,
            Some((at, _)) if ts.micros_since(*at) >= micros(grid.schedule.heartbeat) => {
                Trigger::Heartbeat
            }
            Some(_) => return None,
        };
        self.seq += 1;
        self.last = Some((ts, schedule.clone()));
        Some((trigger, self.seq))
    }
}

/// A tick in, perhaps a decision out: the scheduler and the emitter.
/// The daemon's scheduler stage and log recovery both run ticks through this, so a
/// recovered run continues exactly where the interrupted one was.
#[derive(Debug, Clone)]
pub struct Decider {
    grid: Arc<Grid>,
    scheduler: Scheduler,
    emitter: Emitter,
}

/// An emitted decision: what it says. Its line is laid out by whoever outputs it
/// ([`Decided::wire`]), so that the scheduler stage spends its time on schedules.
pub struct Decided {
    pub ts: Timestamp,
    pub seq: u64,
    pub trigger: Trigger,
    pub schedule: Schedule,
}

impl Decided {
    /// The decision as its line lays it out: ids named, figures rounded.
    pub fn wire<'a>(&self, grid: &'a Grid) -> Wire<'a> {
        wire(grid, self.ts, self.seq, self.trigger, &self.schedule)
    }
}

impl Decider {
    pub fn new(grid: Arc<Grid>) -> Self {
        Decider {
            scheduler: Scheduler::new(grid.clone()),
            grid,
            emitter: Emitter::default(),
        }
    }

    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    pub fn tick(&mut self, ts: Timestamp, state: &GridState) -> Option<Decided> {
        let schedule = self.scheduler.schedule(ts, state);
        let (trigger, seq) = self.emitter.offer(&self.grid, ts, &schedule)?;
        Some(Decided {
            ts,
            seq,
            trigger,
            schedule,
        })
    }
}

/// True when the line ramps were relaxed for `schedule`'s tick or for `last`'s. A relaxed
/// tick's flows jumped past the ramps, so each one is on record (rule 3: the decision
/// says so), and so is the tick after, which shows the ramps binding again. Every
/// relaxed tick being emitted, a relaxed `last` is always the tick just before.
fn ramps_relaxed(last: &Schedule, schedule: &Schedule) -> bool {
    last.ramps_relaxed || schedule.ramps_relaxed
}

/// True when any figure differs by more than `deadband` MW.
fn moved(a: &Schedule, b: &Schedule, deadband: f64) -> bool {
    let far = |x: f64, y: f64| (x - y).abs() > deadband;
    let served = |x: &Served, y: &Served| {
        far(x.requested_mw, y.requested_mw) || far(x.served_mw, y.served_mw)
    };
    let (ab, bb) = (&a.balance, &b.balance);
    far(a.reserve_mw, b.reserve_mw)
        || far(a.reserve_required_mw, b.reserve_required_mw)
        || far(ab.generation_mw, bb.generation_mw)
        || far(ab.domestic_served_mw, bb.domestic_served_mw)
        || far(ab.exports_mw, bb.exports_mw)
        || far(ab.transit_mw, bb.transit_mw)
        || far(ab.losses_mw, bb.losses_mw)
        || far(ab.spill_mw, bb.spill_mw)
        || far(ab.unserved_mw, bb.unserved_mw)
        || a.plants.iter().zip(&b.plants).any(|(x, y)| far(*x, *y))
        || a.lines.iter().zip(&b.lines).any(|(x, y)| far(*x, *y))
        || a.loads.iter().zip(&b.loads).any(|(x, y)| served(x, y))
        || a.data_centers
            .iter()
            .zip(&b.data_centers)
            .any(|(x, y)| served(&x[0], &y[0]) || served(&x[1], &y[1]))
        || a.contracts.iter().zip(&b.contracts).any(|(x, y)| {
            far(x.requested_mw, y.requested_mw)
                || far(x.scheduled_mw, y.scheduled_mw)
                || x.reason != y.reason
        })
        || a.tiers
            .iter()
            .zip(&b.tiers)
            .any(|(x, y)| far(x.requested_mw, y.requested_mw) || far(x.served_mw, y.served_mw))
}

/// MW rounded to 1e-8, with negative zero made positive.
fn mw(value: f64) -> f64 {
    let rounded = (value * 1e8).round() / 1e8;
    if rounded == 0.0 { 0.0 } else { rounded }
}

/// A decision in the shape of its line, its figures rounded: what is written, and
/// what a replay's totals integrate.
#[derive(Serialize)]
pub struct Wire<'a> {
    ts: Timestamp,
    seq: u64,
    state: &'static str,
    trigger: &'static str,
    ramps_relaxed: bool,
    reserve_mw: f64,
    reserve_required_mw: f64,
    balance: Balance,
    plants: Vec<WirePlant<'a>>,
    loads: Vec<WireLoad<'a>>,
    contracts: Vec<WireContract<'a>>,
    lines: Vec<WireLine<'a>>,
    tiers: Vec<WireTier>,
}

#[derive(Serialize)]
struct WirePlant<'a> {
    plant: &'a str,
    setpoint_mw: f64,
}

#[derive(Serialize)]
struct WireLoad<'a> {
    load: std::borrow::Cow<'a, str>,
    requested_mw: f64,
    served_mw: f64,
}

#[derive(Serialize)]
struct WireContract<'a> {
    contract: &'a str,
    requested_mw: f64,
    scheduled_mw: f64,
    reason: &'static str,
}

#[derive(Serialize)]
struct WireLine<'a> {
    line: &'a str,
    flow_mw: f64,
}

#[derive(Serialize)]
struct WireTier {
    tier: u32,
    requested_mw: f64,
    served_mw: f64,
}

impl Wire<'_> {
    /// The JSON line in the format of the spec, newline included.
    pub fn line(&self) -> Vec<u8> {
        let mut line = Vec::with_capacity(4096);
        self.write_line(&mut line);
        line
    }

    /// Appends the line, newline included, to `out`: a sink writing many decisions
    /// lays them out in one buffer.
    pub fn write_line(&self, out: &mut Vec<u8>) {
        serde_json::to_writer(&mut *out, self).expect("writing to memory cannot fail");
        out.push(b'\n');
    }

    /// The figures exactly as [`Figures::parse`] reads them from the line (the rounded
    /// values round-trip through JSON unchanged), without writing and reparsing it.
    pub fn figures(self) -> Figures {
        Figures {
            ts: self.ts,
            seq: self.seq,
            state: self.state.to_string(),
            ramps_relaxed: self.ramps_relaxed,
            balance: self.balance,
            contracts: self
                .contracts
                .iter()
                .map(|c| totals::Contract {
                    contract: c.contract.to_string(),
                    requested_mw: c.requested_mw,
                    scheduled_mw: c.scheduled_mw,
                    reason: c.reason.to_string(),
                })
                .collect(),
            tiers: self
                .tiers
                .iter()
                .map(|t| totals::Tier {
                    tier: t.tier,
                    requested_mw: t.requested_mw,
                    served_mw: t.served_mw,
                })
                .collect(),
            loads: self
                .loads
                .into_iter()
                .map(|l| totals::Load {
                    load: l.load.into_owned(),
                    requested_mw: l.requested_mw,
                    served_mw: l.served_mw,
                })
                .collect(),
            plants: self
                .plants
                .iter()
                .map(|p| totals::Plant {
                    plant: p.plant.to_string(),
                    setpoint_mw: p.setpoint_mw,
                })
                .collect(),
            lines: self
                .lines
                .iter()
                .map(|l| totals::Line {
                    line: l.line.to_string(),
                    flow_mw: l.flow_mw,
                })
                .collect(),
            reserve_mw: self.reserve_mw,
        }
    }
}

fn wire<'a>(grid: &'a Grid, ts: Timestamp, seq: u64, trigger: Trigger, s: &Schedule) -> Wire<'a> {
    fn load<'a>(id: std::borrow::Cow<'a, str>, x: &Served) -> WireLoad<'a> {
        WireLoad {
            load: id,
            requested_mw: mw(x.requested_mw),
            served_mw: mw(x.served_mw),
        }
    }
    let mut loads: Vec<WireLoad> = grid
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
    Wire {
        ts,
        seq,
        state: s.state.as_str(),
        trigger: trigger.as_str(),
        ramps_relaxed: s.ramps_relaxed,
        reserve_mw: mw(s.reserve_mw),
        reserve_required_mw: mw(s.reserve_required_mw),
        balance: Balance {
            generation_mw: mw(b.generation_mw),
            domestic_served_mw: mw(b.domestic_served_mw),
            exports_mw: mw(b.exports_mw),
            transit_mw: mw(b.transit_mw),
            losses_mw: mw(b.losses_mw),
            spill_mw: mw(b.spill_mw),
            unserved_mw: mw(b.unserved_mw),
        },
        plants: grid
            .plants
            .iter()
            .zip(&s.plants)
            .map(|(p, x)| WirePlant {
                plant: &p.id,
                setpoint_mw: mw(*x),
            })
            .collect(),
        loads,
        contracts: grid
            .contracts
            .iter()
            .zip(&s.contracts)
            .map(|(c, x)| WireContract {
                contract: &c.id,
                requested_mw: mw(x.requested_mw),
                scheduled_mw: mw(x.scheduled_mw),
                reason: x.reason.as_str(),
            })
            .collect(),
        lines: grid
            .lines
            .iter()
            .zip(&s.lines)
            .map(|(l, x)| WireLine {
                line: &l.id,
                flow_mw: mw(*x),
            })
            .collect(),
        tiers: s
            .tiers
            .iter()
            .map(|t| WireTier {
                tier: t.tier,
                requested_mw: mw(t.requested_mw),
                served_mw: mw(t.served_mw),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{Balance, ContractSchedule, OperatingState, Reason, TierOutcome};
    use serde_json::json;

    fn grid() -> Grid {
        let tree = json!({
            "areas": [{"id": "a", "kind": "domestic"}, {"id": "n", "kind": "neighbor"}],
            "plants": [{"id": "p", "area": "a", "capacity_mw": 100, "unit_mw": 50}],
            "loads": [{"id": "l", "area": "a", "tier": 1, "class": "essential"}],
            "data_centers": [{"id": "dc", "area": "a", "firm_tier": 2, "flexible_tier": 3}],
            "lines": [{"id": "a-n", "from": "a", "to": "n", "capacity_mw": 40}],
            "contracts": [{"id": "x", "from": "a", "to": "n", "firmness": "firm", "tier": 2, "max_mw": 30}],
            "schedule": {"interval": "1s", "deadband_mw": 1.0, "heartbeat": "10s"},
        });
        crate::config::from_value(&tree).unwrap().grid
    }

    fn schedule(load_mw: f64) -> Schedule {
        let served = |mw| Served {
            requested_mw: mw,
            served_mw: mw,
        };
        Schedule {
            state: OperatingState::Normal,
            reserve_required_mw: 0.0,
            reserve_mw: 0.0,
            balance: Balance {
                generation_mw: load_mw + 20.4,
                domestic_served_mw: load_mw + 0.4,
                exports_mw: 20.0,
                ..Balance::default()
            },
            plants: vec![load_mw + 20.4],
            loads: vec![served(load_mw)],
            data_centers: vec![[served(0.25), served(0.15)]],
            contracts: vec![ContractSchedule {
                requested_mw: 30.0,
                scheduled_mw: 20.0,
                reason: Reason::LineCapacity,
            }],
            lines: vec![-0.0],
            tiers: vec![TierOutcome {
                tier: 1,
                requested_mw: load_mw,
                served_mw: load_mw,
            }],
            ramps_relaxed: false,
        }
    }

    fn at(second: i64) -> Timestamp {
        Timestamp::from_micros(1_800_000_000_000_000 + second * 1_000_000)
    }

    #[test]
    fn emits_first_on_change_beyond_deadband_on_state_change_and_on_heartbeat() {
        let grid = grid();
        let mut emitter = Emitter::default();
        assert_eq!(
            emitter.offer(&grid, at(0), &schedule(50.0)),
            Some((Trigger::Initial, 1))
        );
        assert_eq!(
            emitter.offer(&grid, at(1), &schedule(50.9)),
            None,
            "within the deadband"
        );
        assert_eq!(
            emitter.offer(&grid, at(2), &schedule(51.1)),
            Some((Trigger::Change, 2))
        );
        let mut alert = schedule(51.1);
        alert.state = OperatingState::Alert;
        assert_eq!(
            emitter.offer(&grid, at(3), &alert),
            Some((Trigger::StateChange, 3))
        );
        assert_eq!(emitter.offer(&grid, at(12), &alert), None);
        assert_eq!(
            emitter.offer(&grid, at(13), &alert),
            Some((Trigger::Heartbeat, 4))
        );
    }

    #[test]
    fn emits_every_tick_whose_ramps_were_relaxed_and_the_tick_after() {
        let grid = grid();
        let mut emitter = Emitter::default();
        let mut relaxed = schedule(50.0);
        relaxed.ramps_relaxed = true;
        assert_eq!(
            emitter.offer(&grid, at(0), &schedule(50.0)),
            Some((Trigger::Initial, 1))
        );
        assert_eq!(
            emitter.offer(&grid, at(1), &relaxed),
            Some((Trigger::Change, 2))
        );
        assert_eq!(
            emitter.offer(&grid, at(2), &relaxed),
            Some((Trigger::Change, 3)),
            "relaxed again, though no figure moved"
        );
        assert_eq!(
            emitter.offer(&grid, at(3), &schedule(50.0)),
            Some((Trigger::Change, 4)),
            "the ramps bind again"
        );
        assert_eq!(emitter.offer(&grid, at(4), &schedule(50.0)), None);
        relaxed.state = OperatingState::Alert;
        assert_eq!(
            emitter.offer(&grid, at(5), &relaxed),
            Some((Trigger::StateChange, 5)),
            "a state change says more than a change"
        );
    }

    #[test]
    fn figures_are_what_the_line_reads_back() {
        let grid = grid();
        let mut schedule = schedule(1.0 / 3.0);
        schedule.ramps_relaxed = true;
        let decided = Decided {
            ts: at(0),
            seq: 7,
            trigger: Trigger::Change,
            schedule,
        };
        let line = decided.wire(&grid).line();
        assert_eq!(
            decided.wire(&grid).figures(),
            Figures::parse(&line).unwrap()
        );
    }

    #[test]
    fn writes_the_documented_format() {
        let out = wire(&grid(), at(0), 7, Trigger::Change, &schedule(1.0 / 3.0)).line();
        let golden = include_str!("../tests/data/decision.golden.json");
        assert_eq!(String::from_utf8(out).unwrap(), golden);
    }
}
