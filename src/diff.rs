//! `vakhsh diff A B`: what changed between two decision logs — energy per contract
//! (exported, and imported where a configuration says which contracts are import
//! offers; revenue, or for an import the cost paid to the neighbor, where it gives the
//! contract a tariff) and per tier, hours per state, decisions with relaxed line ramps, and when and where
//! the schedules first and most diverged.
//!
//! Decisions are compared as step functions of event time, over the window both files
//! cover (each covers its first decision to its last): at every instant of that window
//! at which either log has a decision, the decisions in force in A and in B are compared
//! figure by figure (state, balance, each plant, load, contract, line and tier). Energy
//! is totalled by the rule of [`crate::totals`] over the same window, so that a file
//! compared with itself shows the MWh its replay printed. Relaxed ramps are counted per
//! side over that window, not compared instant by instant: a relaxed tick's flows
//! already differ wherever they matter, and the count says which configuration needed
//! the relaxation how often.

use crate::decision::{DecisionLine, LineError};
use crate::totals::{self, Settlement, TimeSpan, Totals};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Figures closer than this (MW) are equal: a difference of less than a watt is not
/// one an operator acts on (the logs are rounded to 1e-8).
const EQUAL: f64 = 1e-6;

/// Why two decision files cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("{side}: {source}")]
    Line {
        side: &'static str,
        source: LineError,
    },
    #[error("{side} has no decisions")]
    Empty { side: &'static str },
    #[error("the decision files cover windows of event time that do not overlap: A {a}, B {b}")]
    Disjoint { a: TimeSpan, b: TimeSpan },
}

/// One figure that differs at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Divergence {
    pub ts: String,
    pub figure: String,
    pub a: String,
    pub b: String,
    /// |a − b| in MW, or infinity for a different state.
    pub size: f64,
}

#[derive(Debug, Clone)]
pub struct Report {
    /// The event time each file covers, and the part of it compared.
    pub window_a: TimeSpan,
    pub window_b: TimeSpan,
    pub compared: TimeSpan,
    /// Totals over the compared window.
    pub a: Totals,
    pub b: Totals,
    pub first: Option<Divergence>,
    pub largest: Option<Divergence>,
    /// Instants compared, and how many of them differ.
    pub instants: usize,
    pub differing: usize,
}

/// The decisions of one side, and the window they cover.
fn decisions<'a>(
    side: &'static str,
    text: &'a str,
) -> Result<(Vec<DecisionLine<'a>>, TimeSpan), DiffError> {
    let decisions =
        DecisionLine::parse_lines(text).map_err(|source| DiffError::Line { side, source })?;
    let window = TimeSpan::of(&decisions).ok_or(DiffError::Empty { side })?;
    Ok((decisions, window))
}

/// Compares two decision logs over the window of event time both cover; refuses two
/// that share no length of time.
pub fn diff(a: &str, b: &str) -> Result<Report, DiffError> {
    let (a, window_a) = decisions("A", a)?;
    let (b, window_b) = decisions("B", b)?;
    let compared = window_a.overlap(window_b).ok_or(DiffError::Disjoint {
        a: window_a,
        b: window_b,
    })?;
    let totals = |decisions: &[DecisionLine]| {
        let mut totals = Totals::within(compared);
        for line in decisions {
            totals.add(line);
        }
        totals
    };
    let mut instants: Vec<i64> = a
        .iter()
        .chain(&b)
        .map(DecisionLine::micros)
        .filter(|&t| compared.from < t && t <= compared.until)
        .chain([compared.from])
        .collect();
    instants.sort_unstable();
    instants.dedup();
    let mut report = Report {
        window_a,
        window_b,
        compared,
        a: totals(&a),
        b: totals(&b),
        first: None,
        largest: None,
        instants: instants.len(),
        differing: 0,
    };
    let (mut ia, mut ib) = (0, 0);
    for &at in &instants {
        while ia + 1 < a.len() && a[ia + 1].micros() <= at {
            ia += 1;
        }
        while ib + 1 < b.len() && b[ib + 1].micros() <= at {
            ib += 1;
        }
        let found = compare(&a[ia], &b[ib]);
        if found.is_empty() {
            continue;
        }
        report.differing += 1;
        let ts = crate::time::Timestamp::from_micros(at).to_string();
        for (figure, va, vb, size) in found {
            let divergence = Divergence {
                ts: ts.clone(),
                figure,
                a: va,
                b: vb,
                size,
            };
            if report.first.is_none() {
                report.first = Some(divergence.clone());
            }
            if report
                .largest
                .as_ref()
                .is_none_or(|l| divergence.size > l.size)
            {
                report.largest = Some(divergence);
            }
        }
    }
    Ok(report)
}

impl Report {
    /// This report, settling each side's energy as `settlement` says (decision files
    /// carry neither tariffs nor which contracts are imports; a configuration does).
    pub fn with_settlement(mut self, settlement: Settlement) -> Report {
        self.a = self.a.with_settlement(settlement.clone());
        self.b = self.b.with_settlement(settlement);
        self
    }
}

type Found = Vec<(String, String, String, f64)>;

/// Every figure in which two decisions in force at the same instant differ.
fn compare(a: &DecisionLine, b: &DecisionLine) -> Found {
    let mut found = Found::new();
    if a.state != b.state {
        found.push((
            "state".into(),
            a.state.to_string(),
            b.state.to_string(),
            f64::INFINITY,
        ));
    }
    let mut number = |name: String, x: f64, y: f64| {
        if (x - y).abs() > EQUAL {
            found.push((name, format!("{x}"), format!("{y}"), (x - y).abs()));
        }
    };
    let (ba, bb) = (&a.balance, &b.balance);
    for (name, x, y) in [
        ("generation_mw", ba.generation_mw, bb.generation_mw),
        (
            "domestic_served_mw",
            ba.domestic_served_mw,
            bb.domestic_served_mw,
        ),
        ("exports_mw", ba.exports_mw, bb.exports_mw),
        ("transit_mw", ba.transit_mw, bb.transit_mw),
        ("imports_mw", ba.imports_mw, bb.imports_mw),
        ("losses_mw", ba.losses_mw, bb.losses_mw),
        ("spill_mw", ba.spill_mw, bb.spill_mw),
        ("unserved_mw", ba.unserved_mw, bb.unserved_mw),
        ("reserve_mw", a.reserve_mw, b.reserve_mw),
    ] {
        number(format!("balance.{name}"), x, y);
    }
    for ((kind, xs), (_, ys)) in keyed(a).into_iter().zip(keyed(b)) {
        for (key, x, y) in paired(&xs, &ys) {
            number(format!("{kind} {key}"), x, y);
        }
    }
    found
}

/// A decision's figures that are named by an id, by kind: contracts' schedules,
/// tiers', loads' served MW, plants' setpoints, lines' flows.
fn keyed(f: &DecisionLine) -> [(&'static str, BTreeMap<String, f64>); 5] {
    [
        (
            "contract",
            f.contracts
                .iter()
                .map(|c| (c.contract.to_string(), c.scheduled_mw))
                .collect(),
        ),
        (
            "tier",
            f.tiers
                .iter()
                .map(|t| (t.tier.to_string(), t.served_mw))
                .collect(),
        ),
        (
            "load",
            f.loads
                .iter()
                .map(|l| (l.load.to_string(), l.served_mw))
                .collect(),
        ),
        (
            "plant",
            f.plants
                .iter()
                .map(|p| (p.plant.to_string(), p.setpoint_mw))
                .collect(),
        ),
        (
            "line",
            f.lines
                .iter()
                .map(|l| (l.line.to_string(), l.flow_mw))
                .collect(),
        ),
    ]
}

/// Every key of either map, in order, with both values (0 where a map lacks it).
fn paired<'a, K: Ord>(
    a: &'a BTreeMap<K, f64>,
    b: &'a BTreeMap<K, f64>,
) -> impl Iterator<Item = (&'a K, f64, f64)> {
    let keys: BTreeSet<&K> = a.keys().chain(b.keys()).collect();
    keys.into_iter().map(|k| {
        let value = |m: &BTreeMap<K, f64>| m.get(k).copied().unwrap_or(0.0);
        (k, value(a), value(b))
    })
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        let row = |out: &mut String, name: &str, a: f64, b: f64| {
            let _ = writeln!(out, "  {name:<26} {a:>14.3} {b:>14.3} {:>+14.3}", b - a);
        };
        let _ = writeln!(out, "A covers {}", self.window_a);
        let _ = writeln!(out, "B covers {}", self.window_b);
        if self.compared == self.window_a && self.compared == self.window_b {
            let _ = writeln!(out, "compared: all of both, {}", self.compared);
        } else {
            let _ = writeln!(
                out,
                "compared: only the window both cover, {}; the rest of either file is left out",
                self.compared
            );
        }
        let _ = writeln!(out, "{:<28} {:>14} {:>14} {:>14}", "", "A", "B", "B - A");
        let _ = writeln!(out, "{}", totals::EXPORTED);
        for (c, a, b) in paired(&self.a.exported_mwh(), &self.b.exported_mwh()) {
            row(&mut out, c, a, b);
        }
        let imported = (self.a.imported_mwh(), self.b.imported_mwh());
        if !imported.0.is_empty() {
            let _ = writeln!(out, "{}", totals::IMPORTED);
            for (c, a, b) in paired(&imported.0, &imported.1) {
                row(&mut out, c, a, b);
            }
        }
        for (title, a, b) in [
            (totals::REVENUE, self.a.revenue_usd(), self.b.revenue_usd()),
            (
                totals::IMPORT_COST,
                self.a.import_cost_usd(),
                self.b.import_cost_usd(),
            ),
        ] {
            if !a.is_empty() {
                let _ = writeln!(out, "{title}");
                for (c, a, b) in paired(&a, &b) {
                    let _ = writeln!(out, "  {c:<26} {a:>14.2} {b:>14.2} {:>+14.2}", b - a);
                }
            }
        }
        let _ = writeln!(out, "unserved MWh per tier:");
        for (t, a, b) in paired(&self.a.unserved_mwh, &self.b.unserved_mwh) {
            row(&mut out, &format!("tier {t}"), a, b);
        }
        row(&mut out, "spilled MWh", self.a.spill_mwh, self.b.spill_mwh);
        let _ = writeln!(out, "hours in each state:");
        for (s, a, b) in paired(&self.a.state_hours, &self.b.state_hours) {
            row(&mut out, s, a, b);
        }
        let _ = writeln!(
            out,
            "decisions: A {}, B {}",
            self.a.decisions, self.b.decisions
        );
        let _ = writeln!(
            out,
            "decisions with relaxed ramps: A {}, B {}",
            self.a.ramps_relaxed, self.b.ramps_relaxed
        );
        match (&self.first, &self.largest) {
            (Some(first), Some(largest)) => {
                let _ = writeln!(
                    out,
                    "schedules differ at {} of {} instants",
                    self.differing, self.instants
                );
                let _ = writeln!(
                    out,
                    "first divergence:   {} {}: A {} B {}",
                    first.ts, first.figure, first.a, first.b
                );
                let _ = write!(
                    out,
                    "largest divergence: {} {}: A {} B {}",
                    largest.ts, largest.figure, largest.a, largest.b
                );
            }
            _ => {
                let _ = write!(out, "the schedules are identical");
            }
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(ts: &str, state: &str, casa: f64) -> String {
        format!(
            r#"{{"ts":"{ts}","seq":1,"state":"{state}","balance":{{"generation_mw":0,"domestic_served_mw":0,"exports_mw":{casa},"transit_mw":0,"losses_mw":0,"spill_mw":0,"unserved_mw":0}},"contracts":[{{"contract":"casa","requested_mw":1300,"scheduled_mw":{casa},"reason":"ok"}}],"tiers":[]}}"#
        )
    }

    #[test]
    fn finds_the_first_and_the_largest_divergence() {
        let a = [
            line("2027-07-01T00:00:00Z", "normal", 1000.0),
            line("2027-07-01T01:00:00Z", "normal", 1000.0),
        ]
        .join("\n");
        let b = [
            line("2027-07-01T00:00:00Z", "normal", 1000.0),
            line("2027-07-01T00:30:00Z", "normal", 1100.0),
            line("2027-07-01T01:00:00Z", "normal", 1300.0),
        ]
        .join("\n");
        let report = diff(&a, &b).unwrap();
        let first = report.first.unwrap();
        assert_eq!(
            (first.ts.as_str(), first.figure.as_str()),
            ("2027-07-01T00:30:00Z", "balance.exports_mw")
        );
        let largest = report.largest.unwrap();
        assert_eq!(largest.ts, "2027-07-01T01:00:00Z");
        assert_eq!(largest.size, 300.0);
        assert_eq!(report.differing, 2);
        assert_eq!(
            report.b.exported_mwh()["casa"] - report.a.exported_mwh()["casa"],
            0.5 * 100.0
        );
        assert!(diff(&a, &a).unwrap().first.is_none());
    }

    #[test]
    fn with_tariffs_shows_the_revenue_of_both_sides_and_the_change() {
        let a = [
            line("2027-07-01T00:00:00Z", "normal", 100.0),
            line("2027-07-01T01:00:00Z", "normal", 100.0),
        ]
        .join("\n");
        let b = [
            line("2027-07-01T00:00:00Z", "normal", 100.0),
            line("2027-07-01T00:30:00Z", "normal", 200.0),
            line("2027-07-01T01:00:00Z", "normal", 200.0),
        ]
        .join("\n");
        let plain = diff(&a, &b).unwrap().to_string();
        assert!(!plain.contains("revenue"), "{plain}");
        let report = diff(&a, &b).unwrap().with_settlement(Settlement {
            tariffs: [("casa".to_string(), 50.0)].into(),
            ..Settlement::default()
        });
        assert_eq!(report.a.revenue_usd()["casa"], 5_000.0);
        assert_eq!(report.b.revenue_usd()["casa"], 7_500.0);
        let text = report.to_string();
        let expected = format!(
            "revenue USD per contract:\n  {:<26} {:>14} {:>14} {:>14}\nunserved MWh per tier:",
            "casa", "5000.00", "7500.00", "+2500.00"
        );
        assert!(text.contains(&expected), "{text}");
        assert_eq!(
            text.replace(&expected, "unserved MWh per tier:"),
            plain,
            "the rest is as without tariffs"
        );
    }

    /// `line` for an import offer `casa`: its MW are imports, not exports.
    fn imported(ts: &str, mw: f64) -> String {
        line(ts, "normal", mw).replacen(
            &format!(r#""exports_mw":{mw},"transit_mw":0"#),
            &format!(r#""exports_mw":0,"transit_mw":0,"imports_mw":{mw}"#),
            1,
        )
    }

    #[test]
    fn an_import_s_energy_and_cost_are_compared_apart_from_exports() {
        let a = [
            imported("2027-01-11T00:00:00Z", 100.0),
            imported("2027-01-11T01:00:00Z", 100.0),
        ]
        .join("\n");
        let b = [
            imported("2027-01-11T00:00:00Z", 40.0),
            imported("2027-01-11T01:00:00Z", 40.0),
        ]
        .join("\n");
        let plain = diff(&a, &b).unwrap();
        let first = plain.first.as_ref().unwrap();
        assert_eq!(
            (first.figure.as_str(), first.a.as_str(), first.b.as_str()),
            ("balance.imports_mw", "100", "40")
        );
        let mut settlement = Settlement::default();
        settlement.tariffs.insert("casa".into(), 30.0);
        settlement.imports.insert("casa".into());
        let text = plain.with_settlement(settlement).to_string();
        let expected = format!(
            "exported MWh per contract:\nimported MWh per contract:\n  {:<26} {:>14} {:>14} {:>14}\n\
             import cost USD per contract (paid to the neighbor):\n  {:<26} {:>14} {:>14} {:>14}\n\
             unserved MWh per tier:",
            "casa", "100.000", "40.000", "-60.000", "casa", "3000.00", "1200.00", "-1800.00"
        );
        assert!(text.contains(&expected), "{text}");
        assert!(!text.contains("revenue"), "an import earns nothing: {text}");
    }

    #[test]
    fn counts_each_side_s_decisions_with_relaxed_ramps() {
        let a = [
            line("2027-07-01T00:00:00Z", "normal", 1000.0),
            line("2027-07-01T01:00:00Z", "normal", 1000.0),
        ]
        .join("\n");
        let relaxed = line("2027-07-01T00:30:00Z", "normal", 1000.0).replacen(
            r#""balance""#,
            r#""ramps_relaxed":true,"balance""#,
            1,
        );
        let b = [
            line("2027-07-01T00:00:00Z", "normal", 1000.0),
            relaxed,
            line("2027-07-01T01:00:00Z", "normal", 1000.0),
        ]
        .join("\n");
        let report = diff(&a, &b).unwrap();
        assert_eq!((report.a.ramps_relaxed, report.b.ramps_relaxed), (0, 1));
        assert!(
            report
                .to_string()
                .contains("decisions with relaxed ramps: A 0, B 1\n"),
            "{report}"
        );
    }

    #[test]
    fn windows_that_do_not_overlap_are_refused() {
        let a = [
            line("2027-07-01T00:00:00Z", "normal", 1000.0),
            line("2027-07-01T01:00:00Z", "normal", 1000.0),
        ]
        .join("\n");
        let b = [
            line("2027-07-01T01:00:00Z", "normal", 1000.0),
            line("2027-07-01T02:00:00Z", "normal", 1000.0),
        ]
        .join("\n");
        let error = diff(&a, &b).unwrap_err().to_string();
        assert_eq!(
            error,
            "the decision files cover windows of event time that do not overlap: \
             A 2027-07-01T00:00:00Z to 2027-07-01T01:00:00Z, \
             B 2027-07-01T01:00:00Z to 2027-07-01T02:00:00Z"
        );
        assert_eq!(diff("", &b).unwrap_err().to_string(), "A has no decisions");
    }

    #[test]
    fn a_decision_with_a_bad_time_is_reported_with_its_line() {
        let a = [
            line("2027-07-01T00:00:00Z", "normal", 1000.0),
            line("yesterday", "normal", 1000.0),
        ]
        .join("\n");
        let error = diff(&a, &a).unwrap_err().to_string();
        assert!(
            error.contains("line 2") && error.contains("yesterday"),
            "{error}"
        );
    }

    #[test]
    fn windows_that_overlap_in_part_are_compared_where_they_overlap() {
        let a = [
            line("2027-07-01T00:00:00Z", "normal", 1000.0),
            line("2027-07-01T01:00:00Z", "normal", 900.0),
            line("2027-07-01T02:00:00Z", "normal", 900.0),
        ]
        .join("\n");
        let b = [
            line("2027-07-01T01:30:00Z", "normal", 900.0),
            line("2027-07-01T03:00:00Z", "normal", 500.0),
        ]
        .join("\n");
        let report = diff(&a, &b).unwrap();
        assert_eq!(
            report.compared.to_string(),
            "2027-07-01T01:30:00Z to 2027-07-01T02:00:00Z"
        );
        assert_eq!(report.a.exported_mwh()["casa"], 450.0);
        assert_eq!(report.b.exported_mwh()["casa"], 450.0);
        assert!(report.first.is_none(), "{report}");
        assert!(report.to_string().contains(
            "compared: only the window both cover, 2027-07-01T01:30:00Z to 2027-07-01T02:00:00Z"
        ));
    }
}
