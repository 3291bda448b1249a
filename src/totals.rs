//! Energy and time totals of a run, integrated from its decisions: MWh per contract
//! (exported, and imported), unserved MWh per tier, spilled MWh, hours in each
//! operating state; and how many decisions had their line ramps relaxed. Where a
//! contract has a tariff, its value is its MWh × the tariff: settlement is energy ×
//! tariff, earned on an export or a transit, paid to the neighbor on an import. A
//! decision file carries neither tariffs nor which contracts are imports, so the
//! configuration supplies them ([`Totals::with_settlement`]); without it every
//! contract's energy is listed as exported.
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
use crate::grid::{ContractKind, Grid};
use crate::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

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
    /// MWh scheduled per contract, exports, transits and imports alike.
    pub contract_mwh: BTreeMap<String, f64>,
    pub unserved_mwh: BTreeMap<u32, f64>,
    pub spill_mwh: f64,
    pub state_hours: BTreeMap<String, f64>,
    /// Decisions inside the window whose line ramps were relaxed.
    pub ramps_relaxed: u64,
    /// The tariffs, and which contracts are imports.
    pub settlement: Settlement,
    /// Only event time inside this window counts; all of it when `None`.
    window: Option<TimeSpan>,
    /// The decision being integrated and when it started.
    open: Option<(i64, Rates)>,
}

/// How a configuration settles its contracts, by contract id: the tariff of each that
/// has one, and the import offers, whose energy is bought from the neighbor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settlement {
    /// USD per MWh of each contract that has a tariff.
    pub tariffs: BTreeMap<String, f64>,
    /// The import offers (neighbor to domestic).
    pub imports: BTreeSet<String>,
}

impl Settlement {
    /// How `grid` settles its contracts.
    pub fn of(grid: &Grid) -> Settlement {
        let contracts = grid.contracts.iter();
        Settlement {
            tariffs: contracts
                .clone()
                .filter_map(|c| Some((c.id.clone(), c.tariff_usd_per_mwh?)))
                .collect(),
            imports: contracts
                .filter(|c| c.kind == ContractKind::Import)
                .map(|c| c.id.clone())
                .collect(),
        }
    }
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

/// The titles of the per-contract sections, which the replay summary and `vakhsh diff`
/// share.
pub const EXPORTED: &str = "exported MWh per contract:";
pub const IMPORTED: &str = "imported MWh per contract:";
pub const REVENUE: &str = "revenue USD per contract:";
pub const IMPORT_COST: &str = "import cost USD per contract (paid to the neighbor):";

impl Totals {
    /// Totals that count only the event time inside `window`.
    pub fn within(window: TimeSpan) -> Totals {
        Totals {
            window: Some(window),
            ..Totals::default()
        }
    }

    /// These totals, settled as `settlement` says.
    pub fn with_settlement(self, settlement: Settlement) -> Totals {
        Totals { settlement, ..self }
    }

    /// MWh per contract that is not an import: exports and transits.
    pub fn exported_mwh(&self) -> BTreeMap<String, f64> {
        self.energy(false)
    }

    /// MWh per import offer.
    pub fn imported_mwh(&self) -> BTreeMap<String, f64> {
        self.energy(true)
    }

    /// MWh per contract that is (or is not) an import; every import offer is listed,
    /// with 0 MWh where no decision took it.
    fn energy(&self, imports: bool) -> BTreeMap<String, f64> {
        let mut energy: BTreeMap<String, f64> = self
            .contract_mwh
            .iter()
            .filter(|(c, _)| self.settlement.imports.contains(*c) == imports)
            .map(|(c, &mwh)| (c.clone(), mwh))
            .collect();
        if imports {
            for c in &self.settlement.imports {
                energy.entry(c.clone()).or_default();
            }
        }
        energy
    }

    /// Revenue in USD of each export or transit that has a tariff: its MWh × its
    /// tariff (0 MWh where no decision scheduled it).
    pub fn revenue_usd(&self) -> BTreeMap<String, f64> {
        self.value(false)
    }

    /// What is paid to the neighbors, in USD, for each import offer that has a tariff:
    /// its MWh × its tariff. A cost, never netted against revenue.
    pub fn import_cost_usd(&self) -> BTreeMap<String, f64> {
        self.value(true)
    }

    fn value(&self, imports: bool) -> BTreeMap<String, f64> {
        self.settlement
            .tariffs
            .iter()
            .filter(|(c, _)| self.settlement.imports.contains(*c) == imports)
            .map(|(contract, usd_per_mwh)| {
                let mwh = self.contract_mwh.get(contract).copied().unwrap_or(0.0);
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
            *self.contract_mwh.entry(contract).or_default() += mw * hours;
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
        let rows = |f: &mut std::fmt::Formatter<'_>, title: &str, rows: BTreeMap<String, f64>| {
            writeln!(f, "{title}")?;
            rows.iter()
                .try_for_each(|(contract, x)| writeln!(f, "  {contract:<24} {x:>14.3}"))
        };
        rows(f, EXPORTED, self.exported_mwh())?;
        let imported = self.imported_mwh();
        if !imported.is_empty() {
            rows(f, IMPORTED, imported)?;
        }
        for (title, usd) in [
            (REVENUE, self.revenue_usd()),
            (IMPORT_COST, self.import_cost_usd()),
        ] {
            if !usd.is_empty() {
                writeln!(f, "{title}")?;
                for (contract, usd) in usd {
                    writeln!(f, "  {contract:<24} {usd:>14.2}")?;
                }
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
        assert_eq!(totals.exported_mwh()["x"], 100.0 * 0.5 + 40.0 * 1.0);
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
        assert_eq!(totals.exported_mwh()["x"], 100.0 * 0.25 + 40.0 * 0.5);
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
        let valued = plain.with_settlement(priced(&[("x", 50.0), ("idle", 20.0)]));
        let revenue = valued.revenue_usd();
        assert_eq!(revenue["x"], 5_000.0, "100 MW for 1 h at 50 USD/MWh");
        assert_eq!(revenue["idle"], 0.0, "a contract no decision scheduled");
        assert!(
            valued.to_string().contains(
                "revenue USD per contract:\n  idle                               0.00\n  x                               5000.00\n"
            ),
            "{valued}"
        );
        // Over a window, the revenue follows the energy inside it.
        let window = TimeSpan {
            from: at("2027-01-11T00:15:00Z"),
            until: at("2027-01-11T00:45:00Z"),
        };
        let half = totals(&lines, Some(window)).with_settlement(priced(&[("x", 50.0)]));
        assert_eq!(half.revenue_usd()["x"], 2_500.0);
    }

    /// A settlement with these tariffs and no imports.
    fn priced(tariffs: &[(&str, f64)]) -> Settlement {
        Settlement {
            tariffs: tariffs
                .iter()
                .map(|&(c, usd)| (c.to_string(), usd))
                .collect(),
            imports: BTreeSet::new(),
        }
    }

    #[test]
    fn an_import_s_energy_is_imported_and_its_tariff_a_cost() {
        let lines = [
            line("2027-01-11T00:00:00Z", "normal", 100.0, 50.0),
            line("2027-01-11T02:00:00Z", "normal", 0.0, 50.0),
        ];
        let mut settlement = priced(&[("x", 40.0), ("sale", 60.0)]);
        settlement.imports.insert("x".into());
        let totals = totals(&lines, None).with_settlement(settlement);
        assert!(
            totals.exported_mwh().is_empty(),
            "an import is not exported"
        );
        assert_eq!(totals.imported_mwh()["x"], 200.0);
        assert_eq!(
            totals.import_cost_usd()["x"],
            8_000.0,
            "200 MWh at 40 USD/MWh"
        );
        assert!(!totals.revenue_usd().contains_key("x"));
        assert_eq!(totals.revenue_usd()["sale"], 0.0);
        let text = totals.to_string();
        assert!(
            text.contains(
                "imported MWh per contract:\n  x                               200.000\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "import cost USD per contract (paid to the neighbor):\n  x                               8000.00\n"
            ),
            "{text}"
        );
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
