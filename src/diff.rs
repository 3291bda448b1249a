//! `vakhsh diff A B`: what changed between two decision logs — energy per contract
//! and per tier, hours per state, and when and where the schedules first and most
//! diverged.
//!
//! Decisions are compared as step functions of event time: at every instant at which
//! either log has a decision, the decisions in force in A and in B are compared figure
//! by figure (state, balance, each plant, load, contract, line and tier).

use crate::totals::{Figures, Totals};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Figures closer than this (MW) are equal: the logs are rounded to 1e-6.
const EQUAL: f64 = 1e-6;

/// One figure that differs at one instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Divergence {
    pub ts: String,
    pub figure: String,
    pub a: String,
    pub b: String,
    /// |a − b| in MW, or infinity for a different state or a figure only one side has.
    pub size: f64,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub a: Totals,
    pub b: Totals,
    pub first: Option<Divergence>,
    pub largest: Option<Divergence>,
    /// Instants compared, and how many of them differ.
    pub instants: usize,
    pub differing: usize,
}

/// Compares two decision logs over the same span: both end `tail_micros` after the
/// later of their last decisions.
pub fn diff(a: &str, b: &str, tail_micros: i64) -> Result<Report, String> {
    let last = |text: &str| -> Result<i64, String> {
        let line = text.lines().rfind(|l| !l.trim().is_empty());
        line.map_or(Ok(0), |l| {
            Figures::parse(l.as_bytes())
                .map(|f| f.micros())
                .map_err(|e| e.to_string())
        })
    };
    let end = Some(
        last(a)
            .map_err(|e| format!("A: {e}"))?
            .max(last(b).map_err(|e| format!("B: {e}"))?)
            + tail_micros,
    );
    let (totals_a, a) = Totals::of_lines(a, end).map_err(|e| format!("A: {e}"))?;
    let (totals_b, b) = Totals::of_lines(b, end).map_err(|e| format!("B: {e}"))?;
    let mut instants: Vec<i64> = a.iter().chain(&b).map(Figures::micros).collect();
    instants.sort_unstable();
    instants.dedup();
    let mut report = Report {
        a: totals_a,
        b: totals_b,
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
        let found = compare(in_force(&a, ia, at), in_force(&b, ib, at));
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

/// The decision at `i` if it has begun by `at`.
fn in_force(decisions: &[Figures], i: usize, at: i64) -> Option<&Figures> {
    decisions.get(i).filter(|f| f.micros() <= at)
}

type Found = Vec<(String, String, String, f64)>;

fn compare(a: Option<&Figures>, b: Option<&Figures>) -> Found {
    let mut found = Found::new();
    let (a, b) = match (a, b) {
        (None, None) => return found,
        (Some(a), None) => {
            return vec![(
                "decision".into(),
                format!("seq {}", a.seq),
                "none yet".into(),
                f64::INFINITY,
            )];
        }
        (None, Some(b)) => {
            return vec![(
                "decision".into(),
                "none yet".into(),
                format!("seq {}", b.seq),
                f64::INFINITY,
            )];
        }
        (Some(a), Some(b)) => (a, b),
    };
    if a.state != b.state {
        found.push((
            "state".into(),
            a.state.clone(),
            b.state.clone(),
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
fn keyed(f: &Figures) -> [(&'static str, BTreeMap<String, f64>); 5] {
    [
        (
            "contract",
            f.contracts
                .iter()
                .map(|c| (c.contract.clone(), c.scheduled_mw))
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
                .map(|l| (l.load.clone(), l.served_mw))
                .collect(),
        ),
        (
            "plant",
            f.plants
                .iter()
                .map(|p| (p.plant.clone(), p.setpoint_mw))
                .collect(),
        ),
        (
            "line",
            f.lines
                .iter()
                .map(|l| (l.line.clone(), l.flow_mw))
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
        let _ = writeln!(out, "{:<28} {:>14} {:>14} {:>14}", "", "A", "B", "B - A");
        let _ = writeln!(out, "exported MWh per contract:");
        for (c, a, b) in paired(&self.a.exported_mwh, &self.b.exported_mwh) {
            row(&mut out, c, a, b);
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
        let report = diff(&a, &b, 1_800_000_000).unwrap();
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
            report.b.exported_mwh["casa"] - report.a.exported_mwh["casa"],
            0.5 * 100.0 + 0.5 * 300.0
        );
        assert!(diff(&a, &a, 0).unwrap().first.is_none());
    }
}
