//! Energy and time totals of a run, integrated from its decisions: MWh per contract,
//! unserved MWh per tier, spilled MWh, hours in each operating state.
//!
//! A decision's figures hold from its `ts` until the next decision (that is what the
//! deadband promises: nothing moved by more than it in between), and the last one
//! until the end of the run. Replay summaries and `vakhsh diff` both use this, so
//! their numbers agree.

use crate::schedule::Balance;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The figures of one decision that the totals integrate, as read from its line.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Figures {
    pub ts: String,
    pub seq: u64,
    pub state: String,
    pub balance: Balance,
    pub contracts: Vec<Contract>,
    pub tiers: Vec<Tier>,
    #[serde(default)]
    pub loads: Vec<Load>,
    #[serde(default)]
    pub plants: Vec<Plant>,
    #[serde(default)]
    pub lines: Vec<Line>,
    #[serde(default)]
    pub reserve_mw: f64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Contract {
    pub contract: String,
    pub requested_mw: f64,
    pub scheduled_mw: f64,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Tier {
    pub tier: u32,
    pub requested_mw: f64,
    pub served_mw: f64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Load {
    pub load: String,
    pub requested_mw: f64,
    pub served_mw: f64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Plant {
    pub plant: String,
    pub setpoint_mw: f64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Line {
    pub line: String,
    pub flow_mw: f64,
}

impl Figures {
    pub fn parse(line: &[u8]) -> Result<Figures, serde_json::Error> {
        serde_json::from_slice(line)
    }

    pub fn micros(&self) -> i64 {
        crate::time::Timestamp::parse(&self.ts).map_or(0, |t| t.as_micros())
    }
}

/// Integrated totals of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub decisions: u64,
    pub exported_mwh: BTreeMap<String, f64>,
    pub unserved_mwh: BTreeMap<u32, f64>,
    pub spill_mwh: f64,
    pub state_hours: BTreeMap<String, f64>,
    /// The decision being integrated and when it started.
    open: Option<(i64, Figures)>,
}

const MICROS_PER_HOUR: f64 = 3.6e9;

impl Totals {
    /// Adds a decision: closes the previous one at its time.
    pub fn add(&mut self, figures: Figures) {
        let at = figures.micros();
        self.close(at);
        self.decisions += 1;
        self.open = Some((at, figures));
    }

    /// Ends the run at `end` (event time in microseconds), integrating the last decision.
    pub fn finish(&mut self, end: i64) {
        self.close(end);
        self.open = None;
    }

    fn close(&mut self, until: i64) {
        let Some((from, figures)) = &self.open else {
            return;
        };
        let hours = (until - from).max(0) as f64 / MICROS_PER_HOUR;
        for c in &figures.contracts {
            *self.exported_mwh.entry(c.contract.clone()).or_default() += c.scheduled_mw * hours;
        }
        for t in &figures.tiers {
            *self.unserved_mwh.entry(t.tier).or_default() +=
                (t.requested_mw - t.served_mw).max(0.0) * hours;
        }
        self.spill_mwh += figures.balance.spill_mw * hours;
        *self.state_hours.entry(figures.state.clone()).or_default() += hours;
    }

    /// Totals of a decision file up to `end` (event time, microseconds; the last
    /// decision's own time when `None`).
    pub fn of_lines(text: &str, end: Option<i64>) -> Result<(Totals, Vec<Figures>), String> {
        let mut totals = Totals::default();
        let mut all = Vec::new();
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let figures =
                Figures::parse(line.as_bytes()).map_err(|e| format!("line {}: {e}", n + 1))?;
            totals.add(figures.clone());
            all.push(figures);
        }
        totals.finish(end.unwrap_or_else(|| all.last().map_or(0, Figures::micros)));
        Ok((totals, all))
    }
}

impl std::fmt::Display for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "exported MWh per contract:")?;
        for (contract, mwh) in &self.exported_mwh {
            writeln!(f, "  {contract:<24} {mwh:>14.3}")?;
        }
        writeln!(f, "unserved MWh per tier:")?;
        for (tier, mwh) in &self.unserved_mwh {
            writeln!(f, "  tier {tier:<19} {mwh:>14.3}")?;
        }
        writeln!(f, "spilled MWh: {:.3}", self.spill_mwh)?;
        write!(f, "hours in each state:")?;
        for (state, hours) in &self.state_hours {
            write!(f, " {state} {hours:.3}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(ts: &str, state: &str, scheduled: f64, served: f64) -> String {
        format!(
            r#"{{"ts":"{ts}","seq":1,"state":"{state}","balance":{{"generation_mw":0,"domestic_served_mw":0,"exports_mw":0,"transit_mw":0,"losses_mw":0,"spill_mw":10,"unserved_mw":0}},"contracts":[{{"contract":"x","requested_mw":100,"scheduled_mw":{scheduled},"reason":"ok"}}],"tiers":[{{"tier":2,"requested_mw":50,"served_mw":{served}}}]}}"#
        )
    }

    #[test]
    fn each_decision_holds_until_the_next() {
        let text = [
            line("2027-01-11T00:00:00Z", "normal", 100.0, 50.0),
            line("2027-01-11T00:30:00Z", "alert", 40.0, 20.0),
        ]
        .join("\n");
        let end = crate::time::Timestamp::parse("2027-01-11T01:30:00Z").map(|t| t.as_micros());
        let (totals, figures) = Totals::of_lines(&text, end).unwrap();
        assert_eq!(figures.len(), 2);
        assert_eq!(totals.exported_mwh["x"], 100.0 * 0.5 + 40.0 * 1.0);
        assert_eq!(totals.unserved_mwh[&2], 30.0 * 1.0);
        assert_eq!(totals.spill_mwh, 15.0);
        assert_eq!(totals.state_hours["normal"], 0.5);
        assert_eq!(totals.state_hours["alert"], 1.0);
    }
}
