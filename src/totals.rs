//! Energy and time totals of a run, integrated from its decisions: MWh per contract,
//! unserved MWh per tier, spilled MWh, hours in each operating state; and how many
//! decisions had their line ramps relaxed. Where a contract has a tariff, its revenue
//! is its MWh × the tariff: settlement is energy × tariff, and a decision file does not
//! carry tariffs, so the configuration supplies them ([`Totals::with_tariffs`]).
//!
//! One rule, which replay summaries and `vakhsh diff` both use, so their numbers agree
//! exactly: a decision's figures, as its line has them (MW rounded to 1e-8), hold from
//! its `ts` until the next decision's (that is what the deadband promises: nothing
//! moved by more than it in between); the last decision ends the window and adds
//! nothing, because a decision file does not say how long its last decision held.
//! Each span adds MW × hours, in decision order. Every tick whose ramps were relaxed is
//! a decision (see [`crate::decision`]), so the relaxed decisions inside the window are
//! counted, not integrated: they are the relaxed ticks.

use crate::decision::DecisionLine;
use crate::grid::Grid;
use crate::time::Timestamp;
use std::collections::BTreeMap;

/// A span of event time, in microseconds, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSpan {
    pub from: i64,
    pub until: i64,
}

impl TimeSpan {
    /// From the first decision to the last; `None` without decisions.
    pub fn of(decisions: &[DecisionLine]) -> Option<TimeSpan> {
        Some(TimeSpan {
            from: decisions.first()?.micros(),
            until: decisions.last()?.micros(),
        })
    }

    /// The span both windows cover, if it has a length.
    pub fn overlap(self, other: TimeSpan) -> Option<TimeSpan> {
        let common = TimeSpan {
            from: self.from.max(other.from),
            until: self.until.min(other.until),
        };
        (common.from < common.until).then_some(common)
    }
}

impl std::fmt::Display for TimeSpan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = Timestamp::from_micros;
        write!(f, "{} to {}", at(self.from), at(self.until))
    }
}

/// Integrated totals of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub decisions: u64,
    /// Generation of the domestic plants, spill included.
    pub generated_mwh: f64,
    pub exported_mwh: BTreeMap<String, f64>,
    pub unserved_mwh: BTreeMap<u32, f64>,
    pub spill_mwh: f64,
    pub state_hours: BTreeMap<String, f64>,
    /// Decisions inside the window whose line ramps were relaxed.
    pub ramps_relaxed: u64,
    /// USD per MWh of each contract that has a tariff.
    pub tariffs: Tariffs,
    /// Only event time inside this window counts; all of it when `None`.
    window: Option<TimeSpan>,
    /// The decision being integrated and when it started.
    open: Option<(i64, Rates)>,
}

/// USD per MWh, by contract id, of the contracts that have a tariff.
pub type Tariffs = BTreeMap<String, f64>;

/// The tariffs of `grid`'s contracts.
pub fn tariffs(grid: &Grid) -> Tariffs {
    grid.contracts
        .iter()
        .filter_map(|c| Some((c.id.clone(), c.tariff_usd_per_mwh?)))
        .collect()
}

/// What the open decision adds for each hour it holds: the figures of its line that
/// the totals integrate, owned, because totals outlive the lines they read.
#[derive(Debug, Clone, PartialEq)]
struct Rates {
    state: String,
    generation_mw: f64,
    spill_mw: f64,
    /// Scheduled MW per contract.
    scheduled_mw: Vec<(String, f64)>,
    /// Unserved MW per tier: requested less served, never below zero.
    unserved_mw: Vec<(u32, f64)>,
}

impl Rates {
    fn of(line: &DecisionLine) -> Rates {
        Rates {
            state: line.state.to_string(),
            generation_mw: line.balance.generation_mw,
            spill_mw: line.balance.spill_mw,
            scheduled_mw: line
                .contracts
                .iter()
                .map(|c| (c.contract.to_string(), c.scheduled_mw))
                .collect(),
            unserved_mw: line
                .tiers
                .iter()
                .map(|t| (t.tier, (t.requested_mw - t.served_mw).max(0.0)))
                .collect(),
        }
    }
}

const MICROS_PER_HOUR: f64 = 3.6e9;

impl Totals {
    /// Totals that count only the event time inside `window`.
    pub fn within(window: TimeSpan) -> Totals {
        Totals {
            window: Some(window),
            ..Totals::default()
        }
    }

    /// These totals, valuing each contract's energy at `tariffs`.
    pub fn with_tariffs(self, tariffs: Tariffs) -> Totals {
        Totals { tariffs, ..self }
    }

    /// Revenue in USD of each contract that has a tariff: its MWh × its tariff (0 MWh
    /// where no decision scheduled it).
    pub fn revenue_usd(&self) -> BTreeMap<String, f64> {
        self.tariffs
            .iter()
            .map(|(contract, usd_per_mwh)| {
                let mwh = self.exported_mwh.get(contract).copied().unwrap_or(0.0);
                (contract.clone(), mwh * usd_per_mwh)
            })
            .collect()
    }

    /// Adds a decision: the previous one held until its time.
    pub fn add(&mut self, line: &DecisionLine) {
        let at = line.micros();
        self.close(at);
        self.decisions += 1;
        if line.ramps_relaxed && self.window.is_none_or(|w| w.from <= at && at <= w.until) {
            self.ramps_relaxed += 1;
        }
        self.open = Some((at, Rates::of(line)));
    }

    /// Integrates the open decision from its start until `until`, inside the window.
    fn close(&mut self, until: i64) {
        let Some((from, rates)) = self.open.take() else {
            return;
        };
        let (from, until) = match self.window {
            Some(w) => (from.max(w.from), until.min(w.until)),
            None => (from, until),
        };
        let hours = (until - from).max(0) as f64 / MICROS_PER_HOUR;
        for (contract, mw) in rates.scheduled_mw {
            *self.exported_mwh.entry(contract).or_default() += mw * hours;
        }
        for (tier, mw) in rates.unserved_mw {
            *self.unserved_mwh.entry(tier).or_default() += mw * hours;
        }
        self.generated_mwh += rates.generation_mw * hours;
        self.spill_mwh += rates.spill_mw * hours;
        *self.state_hours.entry(rates.state).or_default() += hours;
    }
}

impl std::fmt::Display for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "generated MWh: {:.3}", self.generated_mwh)?;
        writeln!(f, "exported MWh per contract:")?;
        for (contract, mwh) in &self.exported_mwh {
            writeln!(f, "  {contract:<24} {mwh:>14.3}")?;
        }
        if !self.tariffs.is_empty() {
            writeln!(f, "revenue USD per contract:")?;
            for (contract, usd) in self.revenue_usd() {
                writeln!(f, "  {contract:<24} {usd:>14.2}")?;
            }
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
        write!(f, "\ndecisions with relaxed ramps: {}", self.ramps_relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(ts: &str, state: &str, scheduled: f64, served: f64) -> String {
        let generation = scheduled + served;
        format!(
            r#"{{"ts":"{ts}","seq":1,"state":"{state}","balance":{{"generation_mw":{generation},"domestic_served_mw":0,"exports_mw":0,"transit_mw":0,"losses_mw":0,"spill_mw":10,"unserved_mw":0}},"contracts":[{{"contract":"x","requested_mw":100,"scheduled_mw":{scheduled},"reason":"ok"}}],"tiers":[{{"tier":2,"requested_mw":50,"served_mw":{served}}}]}}"#
        )
    }

    /// `line` with its line ramps relaxed.
    fn relaxed(line: String) -> String {
        line.replacen(r#""balance""#, r#""ramps_relaxed":true,"balance""#, 1)
    }

    fn totals(lines: &[String], window: Option<TimeSpan>) -> Totals {
        let text = lines.join("\n");
        let mut totals = window.map_or_else(Totals::default, Totals::within);
        for line in DecisionLine::parse_lines(&text).unwrap() {
            totals.add(&line);
        }
        totals
    }

    fn at(ts: &str) -> i64 {
        Timestamp::parse(ts).unwrap().as_micros()
    }

    #[test]
    fn each_decision_holds_until_the_next_and_the_last_ends_the_run() {
        let lines = [
            line("2027-01-11T00:00:00Z", "normal", 100.0, 50.0),
            line("2027-01-11T00:30:00Z", "alert", 40.0, 20.0),
            line("2027-01-11T01:30:00Z", "normal", 1000.0, 0.0),
        ];
        let totals = totals(&lines, None);
        assert_eq!(totals.decisions, 3);
        assert_eq!(totals.exported_mwh["x"], 100.0 * 0.5 + 40.0 * 1.0);
        assert_eq!(totals.unserved_mwh[&2], 30.0 * 1.0);
        assert_eq!(totals.generated_mwh, 150.0 * 0.5 + 60.0 * 1.0);
        assert_eq!(totals.spill_mwh, 15.0);
        assert_eq!(totals.state_hours["normal"], 0.5);
        assert_eq!(totals.state_hours["alert"], 1.0);
    }

    #[test]
    fn a_window_counts_only_the_time_inside_it() {
        let lines = [
            line("2027-01-11T00:00:00Z", "normal", 100.0, 50.0),
            line("2027-01-11T00:30:00Z", "alert", 40.0, 20.0),
            line("2027-01-11T01:30:00Z", "normal", 1000.0, 0.0),
        ];
        let window = TimeSpan {
            from: at("2027-01-11T00:15:00Z"),
            until: at("2027-01-11T01:00:00Z"),
        };
        let totals = totals(&lines, Some(window));
        assert_eq!(totals.exported_mwh["x"], 100.0 * 0.25 + 40.0 * 0.5);
        assert_eq!(totals.state_hours["normal"], 0.25);
        assert_eq!(totals.state_hours["alert"], 0.5);
    }

    #[test]
    fn decisions_with_relaxed_ramps_are_counted_inside_the_window() {
        let lines = [
            line("2027-01-11T00:00:00Z", "normal", 100.0, 50.0),
            relaxed(line("2027-01-11T00:30:00Z", "normal", 40.0, 20.0)),
            relaxed(line("2027-01-11T01:30:00Z", "normal", 1000.0, 0.0)),
        ];
        assert_eq!(
            totals(&lines[..1], None).ramps_relaxed,
            0,
            "a line without the field had its ramps bound"
        );
        assert_eq!(totals(&lines, None).ramps_relaxed, 2);
        let window = TimeSpan {
            from: at("2027-01-11T00:15:00Z"),
            until: at("2027-01-11T01:00:00Z"),
        };
        let totals = totals(&lines, Some(window));
        assert_eq!(totals.ramps_relaxed, 1);
        assert!(
            totals
                .to_string()
                .ends_with("\ndecisions with relaxed ramps: 1"),
            "{totals}"
        );
    }

    #[test]
    fn revenue_is_the_energy_of_a_contract_times_its_tariff() {
        let lines = [
            line("2027-01-11T00:00:00Z", "normal", 100.0, 50.0),
            line("2027-01-11T01:00:00Z", "normal", 100.0, 50.0),
        ];
        let plain = totals(&lines, None);
        assert!(plain.revenue_usd().is_empty());
        assert!(!plain.to_string().contains("revenue"), "{plain}");
        let priced = plain.with_tariffs(Tariffs::from([
            ("x".to_string(), 50.0),
            ("idle".to_string(), 20.0),
        ]));
        let revenue = priced.revenue_usd();
        assert_eq!(revenue["x"], 5_000.0, "100 MW for 1 h at 50 USD/MWh");
        assert_eq!(revenue["idle"], 0.0, "a contract no decision scheduled");
        assert!(
            priced.to_string().contains(
                "revenue USD per contract:\n  idle                               0.00\n  x                               5000.00\n"
            ),
            "{priced}"
        );
        // Over a window, the revenue follows the energy inside it.
        let window = TimeSpan {
            from: at("2027-01-11T00:15:00Z"),
            until: at("2027-01-11T00:45:00Z"),
        };
        let half = totals(&lines, Some(window)).with_tariffs(Tariffs::from([("x".into(), 50.0)]));
        assert_eq!(half.revenue_usd()["x"], 2_500.0);
    }

    #[test]
    fn windows_overlap_only_over_a_length_of_time() {
        let w = |from: &str, until: &str| TimeSpan {
            from: at(from),
            until: at(until),
        };
        let a = w("2027-01-11T00:00:00Z", "2027-01-11T01:00:00Z");
        let b = w("2027-01-11T00:40:00Z", "2027-01-11T02:00:00Z");
        let c = w("2027-01-11T01:00:00Z", "2027-01-11T02:00:00Z");
        assert_eq!(
            a.overlap(b),
            Some(w("2027-01-11T00:40:00Z", "2027-01-11T01:00:00Z"))
        );
        assert_eq!(a.overlap(c), None);
        assert_eq!(
            a.to_string(),
            "2027-01-11T00:00:00Z to 2027-01-11T01:00:00Z"
        );
    }
}
