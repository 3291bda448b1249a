//! The product contract's rule 3, checked from outside on what decisions report: at every area,
//! setpoints + what its lines deliver in − what they take out − served loads and
//! data-center parts − scheduled contracts leaving there + transits and imports entering
//! there = 0, within 1e-6 MW, with one net flow per line.
//!
//! Each scenario is simulated for six hours and replayed by the real binary, and every
//! decision line is read back as plain JSON. The arithmetic is this test's own, from
//! the contract's words, and exact (see [`Exact`]): figures are printed in decimals, and
//! a floating-point sum of them carries noise of its own that would pass or fail a
//! residual near the tolerance by the order of its terms. The worst residual of each scenario is printed:
//! `cargo test --test it area_balance -- --nocapture`.

use crate::support::{binary, default_config, exclusive, replay, simulate};
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use vakhsh::grid::{AreaKind, ContractKind, Grid};

/// Six hours of each scenario, every decision checked. With the debug build both take about
/// 40 s of test time on two shared cores: simulating 2–3 s, replaying 8–12 s each.
const DURATION: &str = "6h";

/// Rule 3's tolerance, in the units of [`Exact`].
const TOLERANCE: Exact = Exact(ONE_MW / 1_000_000);

/// One MW in the units of [`Exact`]: 1e-18 MW.
const ONE_MW: i128 = 1_000_000_000_000_000_000;

#[test]
fn winter_shortage_balances_at_every_area_in_every_decision() {
    check_scenario("winter-shortage");
}

#[test]
fn summer_surplus_balances_at_every_area_in_every_decision() {
    check_scenario("summer-surplus");
}

/// The reference grid with an import offer from Kyrgyzstan into the north, open in
/// winter and priced (the shipped configuration has none).
const KG_IMPORT: &str = r#"
[[contracts]]
id = "kg-import"
from = "kg"
to = "north"
firmness = "firm"
tier = 1
max_mw = 300
window = { start = "10-01", end = "03-31" }
tariff_usd_per_mwh = 55.0
"#;

/// A winter hour on the reference grid with an import offer: the simulator nominates
/// it, the grid short of its own supply takes it, every area balances with its MW
/// entering at `kg`, the balance reports them as imports and never as exports, and the
/// replay summary lists the offer's energy and its cost apart.
#[test]
fn a_winter_hour_with_an_import_offer_imports_and_balances() {
    let _alone = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("with-import.toml");
    let reference = std::fs::read_to_string(default_config()).unwrap();
    std::fs::write(&config, reference + KG_IMPORT).unwrap();
    let (events, decisions) = (dir.path().join("events.jsonl"), dir.path().join("d.jsonl"));
    let run = |args: &[&std::ffi::OsStr]| {
        let output = binary()
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{args:?}: {stderr}");
        stderr
    };
    let simulated = [
        "simulate",
        "--scenario",
        "winter-shortage",
        "--duration",
        "1h",
    ];
    let mut args: Vec<&std::ffi::OsStr> = simulated.iter().map(|a| a.as_ref()).collect();
    args.extend([
        "--seed".as_ref(),
        "1".as_ref(),
        "--out".as_ref(),
        events.as_os_str(),
    ]);
    run(&args);
    let summary = run(&[
        "replay".as_ref(),
        events.as_os_str(),
        "--out".as_ref(),
        decisions.as_os_str(),
    ]);
    let grid = vakhsh::config::load(&config).unwrap().grid;
    let areas = Areas::of(&grid);
    let mut verdict = Verdict::default();
    let mut imported = 0;
    for line in std::fs::read_to_string(&decisions).unwrap().lines() {
        let decision: Value = serde_json::from_str(line).unwrap();
        verdict.add(&areas, &decision);
        let (mut exports, mut imports) = (Exact(0), Exact(0));
        for contract in entries(&decision, "contracts") {
            let mw = figure(contract, "scheduled_mw");
            let id = name(contract, "contract");
            match grid.contracts[grid.index.contracts[id]].kind {
                ContractKind::Import => imports += mw,
                ContractKind::Transit => {}
                ContractKind::Export => exports += mw,
            }
        }
        let balance = &decision["balance"];
        assert!(figure(balance, "exports_mw") == exports, "{balance}");
        assert!(figure(balance, "imports_mw") == imports, "{balance}");
        imported += u32::from(imports > Exact(0));
    }
    println!("winter-shortage with kg-import, 1h: {verdict}; {imported} decisions import");
    assert_eq!(verdict.unbalanced, 0, "{verdict}");
    assert!(imported > 0, "a winter short of supply takes the offer");
    for section in [
        "imported MWh per contract:\n  kg-import ",
        "import cost USD per contract (paid to the neighbor):\n  kg-import ",
    ] {
        assert!(summary.contains(section), "{summary}");
    }
    let exported = summary.split("imported MWh").next().unwrap_or_default();
    assert!(!exported.contains("kg-import"), "{summary}");
}

/// Simulates and replays [`DURATION`] of `scenario`, then fails with the worst residual
/// when any area of any decision is out of balance by more than the tolerance.
fn check_scenario(scenario: &str) {
    let decisions = replayed_decisions(scenario, DURATION);
    let areas = Areas::of(&vakhsh::config::load(&default_config()).unwrap().grid);
    let mut verdict = Verdict::default();
    for line in decisions.lines() {
        let decision: Value = serde_json::from_str(line).unwrap();
        verdict.add(&areas, &decision);
    }
    println!("{scenario}, {DURATION}: {verdict}");
    assert!(verdict.decisions > 0, "{scenario}: no decisions");
    assert_eq!(verdict.unbalanced, 0, "{scenario}: {verdict}");
}

/// The decision file of a replay of `duration` of `scenario` (seed 1) on the reference
/// grid. The replays are CPU-bound for seconds, so they do not overlap the tests that
/// measure latency.
fn replayed_decisions(scenario: &str, duration: &str) -> String {
    let _alone = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let (events, decisions) = (dir.path().join("events.jsonl"), dir.path().join("d.jsonl"));
    let args = [
        "--scenario",
        scenario,
        "--duration",
        duration,
        "--seed",
        "1",
    ];
    simulate(&args, &events);
    replay(&events, &decisions);
    std::fs::read_to_string(&decisions).unwrap()
}

/// What the decisions of a run came to: how many there were, how many had an area out
/// of balance, and the worst residual seen.
#[derive(Default)]
struct Verdict {
    decisions: u64,
    unbalanced: u64,
    worst: Option<Residual>,
}

/// One area's residual in one decision.
struct Residual {
    area: String,
    seq: u64,
    mw: Exact,
}

impl Verdict {
    fn add(&mut self, areas: &Areas, decision: &Value) {
        let seq = decision["seq"].as_u64().unwrap();
        areas.assert_one_flow_per_line(seq, decision);
        let residuals = areas.residuals(decision);
        self.decisions += 1;
        if residuals.iter().any(|r| r.abs() > TOLERANCE) {
            self.unbalanced += 1;
        }
        for (area, &mw) in areas.ids.iter().zip(&residuals) {
            if self.worst.as_ref().is_none_or(|w| mw.abs() > w.mw.abs()) {
                let area = area.clone();
                self.worst = Some(Residual { area, seq, mw });
            }
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} decisions, {} with an area out of balance by more than {TOLERANCE} MW",
            self.decisions, self.unbalanced
        )?;
        if let Some(w) = &self.worst {
            write!(
                f,
                "; worst: area {} in decision {}, {} MW",
                w.area, w.seq, w.mw
            )?;
        }
        Ok(())
    }
}

/// Where each figure of a decision enters or leaves, by id, from the grid's
/// configuration: the only thing this test takes from the crate.
struct Areas {
    ids: Vec<String>,
    plants: HashMap<String, usize>,
    /// Loads, and data-center parts as `<site>/firm` and `<site>/flexible`.
    loads: HashMap<String, usize>,
    lines: HashMap<String, Line>,
    contracts: HashMap<String, Contract>,
}

struct Line {
    from: usize,
    to: usize,
    /// 1 − loss_fraction: the share of what is sent that arrives.
    kept: Share,
}

/// A contract's MW enter the grid at `from` when it is a neighbor (a transit or an
/// import) and leave it at `to` when that is a neighbor (an export or a transit).
struct Contract {
    enters: Option<usize>,
    leaves: Option<usize>,
}

impl Areas {
    fn of(grid: &Grid) -> Areas {
        let neighbor = |a: usize| grid.areas[a].kind == AreaKind::Neighbor;
        let mut loads: HashMap<String, usize> =
            grid.loads.iter().map(|l| (l.id.clone(), l.area)).collect();
        for dc in &grid.data_centers {
            loads.insert(format!("{}/firm", dc.id), dc.area);
            loads.insert(format!("{}/flexible", dc.id), dc.area);
        }
        let line = |l: &vakhsh::grid::Line| Line {
            from: l.from,
            to: l.to,
            kept: Share::of(l.loss_fraction).complement(),
        };
        let contract = |c: &vakhsh::grid::Contract| Contract {
            enters: Some(c.from).filter(|&a| neighbor(a)),
            leaves: Some(c.to).filter(|&a| neighbor(a)),
        };
        Areas {
            ids: grid.areas.iter().map(|a| a.id.clone()).collect(),
            plants: grid.plants.iter().map(|p| (p.id.clone(), p.area)).collect(),
            loads,
            lines: grid.lines.iter().map(|l| (l.id.clone(), line(l))).collect(),
            contracts: grid
                .contracts
                .iter()
                .map(|c| (c.id.clone(), contract(c)))
                .collect(),
        }
    }

    /// Rule 3 balances with one net flow per line: each configured line, once.
    fn assert_one_flow_per_line(&self, seq: u64, decision: &Value) {
        let mut reported: Vec<&str> = entries(decision, "lines")
            .iter()
            .map(|l| name(l, "line"))
            .collect();
        let mut configured: Vec<&str> = self.lines.keys().map(String::as_str).collect();
        reported.sort_unstable();
        configured.sort_unstable();
        assert_eq!(reported, configured, "decision {seq}: one flow per line");
    }

    /// Each area's supply less its withdrawals, as the decision reports them.
    fn residuals(&self, decision: &Value) -> Vec<Exact> {
        let mut at = vec![Exact(0); self.ids.len()];
        for plant in entries(decision, "plants") {
            at[self.plants[name(plant, "plant")]] += figure(plant, "setpoint_mw");
        }
        for load in entries(decision, "loads") {
            at[self.loads[name(load, "load")]] -= figure(load, "served_mw");
        }
        for contract in entries(decision, "contracts") {
            let c = &self.contracts[name(contract, "contract")];
            let mw = figure(contract, "scheduled_mw");
            if let Some(a) = c.enters {
                at[a] += mw;
            }
            if let Some(a) = c.leaves {
                at[a] -= mw;
            }
        }
        for line in entries(decision, "lines") {
            let l = &self.lines[name(line, "line")];
            let flow = figure(line, "flow_mw");
            let (sender, receiver) = if flow >= Exact(0) {
                (l.from, l.to)
            } else {
                (l.to, l.from)
            };
            at[sender] -= flow.abs();
            at[receiver] += flow.abs().times(l.kept);
        }
        at
    }
}

fn entries<'a>(decision: &'a Value, key: &str) -> &'a [Value] {
    decision[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key}"))
}

fn name<'a>(entry: &'a Value, key: &str) -> &'a str {
    entry[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {entry}"))
}

fn figure(entry: &Value, key: &str) -> Exact {
    let mw = entry[key]
        .as_f64()
        .unwrap_or_else(|| panic!("no {key} in {entry}"));
    Exact::of(mw)
}

/// MW in units of 1e-18 MW. A decision's figure is the decimal its line prints (the
/// shortest that reads back as the same number), and every such decimal with up to 18
/// places is a whole number of these units, so sums and differences are exact; so is a
/// product with a [`Share`] whose places and the figure's add up to 18 at most.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Exact(i128);

impl Exact {
    fn of(mw: f64) -> Exact {
        let (digits, places) = decimal(mw);
        assert!(places <= 18, "{mw} has more than 18 decimal places");
        Exact(digits * 10_i128.pow(18 - places))
    }

    fn abs(self) -> Exact {
        Exact(self.0.abs())
    }

    fn times(self, share: Share) -> Exact {
        let product = self.0.checked_mul(share.digits).expect("overflow");
        let scale = 10_i128.pow(share.places);
        assert_eq!(product % scale, 0, "not exact in 1e-18 MW");
        Exact(product / scale)
    }
}

impl std::ops::AddAssign for Exact {
    fn add_assign(&mut self, other: Exact) {
        self.0 += other.0;
    }
}

impl std::ops::SubAssign for Exact {
    fn sub_assign(&mut self, other: Exact) {
        self.0 -= other.0;
    }
}

/// The exact decimal, trailing zeros dropped.
impl fmt::Display for Exact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let (whole, part) = (self.0.abs() / ONE_MW, self.0.abs() % ONE_MW);
        let part = format!("{part:018}");
        let part = part.trim_end_matches('0');
        match part {
            "" => write!(f, "{sign}{whole}"),
            _ => write!(f, "{sign}{whole}.{part}"),
        }
    }
}

/// A share between 0 and 1, exactly as its decimal: `digits / 10^places`.
#[derive(Clone, Copy)]
struct Share {
    digits: i128,
    places: u32,
}

impl Share {
    fn of(fraction: f64) -> Share {
        let (digits, places) = decimal(fraction);
        Share { digits, places }
    }

    /// 1 − self.
    fn complement(self) -> Share {
        Share {
            digits: 10_i128.pow(self.places) - self.digits,
            places: self.places,
        }
    }
}

/// `x` as the shortest decimal that reads back as `x` — what a JSON or TOML file holds
/// — split into its digits and its number of decimal places.
fn decimal(x: f64) -> (i128, u32) {
    let text = format!("{x}");
    let (whole, part) = text.split_once('.').unwrap_or((&text, ""));
    let digits: i128 = format!("{whole}{part}").parse().unwrap();
    (digits, part.len() as u32)
}
