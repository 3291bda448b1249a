//! The grid gauges: the figures of the latest decision, in watts (Prometheus base
//! units; dashboards show them as MW). The scheduler stage resolves their handles for
//! its grid once ([`GridGauges::handles`]), so that a decision only stores values.
//!
//! Beside them, two counters per contract settle the decisions as [`crate::totals`]
//! does: a decision's scheduled power holds from its event time until the next
//! decision's, and adds its energy (joules) and, for a contract with a tariff, its
//! value (USD, energy × tariff) when that next decision comes. Their `kind` label says
//! which way the energy and the money go: an `import`'s value is paid to the
//! neighbor, an `export`'s or a `transit`'s is earned.

use crate::grid::{ContractKind, Grid};
use crate::metrics::{ByLabel, Label, Metrics};
use crate::schedule::{Balance, OperatingState, Schedule, Served};
use crate::time::Timestamp;
use prometheus::{Counter, CounterVec, Gauge, GaugeVec, Opts};

/// The `state` label.
impl Label for OperatingState {
    const NAME: &'static str = "state";

    fn all() -> impl Iterator<Item = Self> {
        use OperatingState::*;
        [Normal, Alert, Emergency].into_iter()
    }

    fn value(self) -> &'static str {
        self.as_str()
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Reads one figure of a balance.
type BalanceFigure = fn(&Balance) -> f64;

/// The figures of a decision's balance, by their `figure` label on
/// `vakhsh_balance_watts`.
const FIGURES: [(&str, BalanceFigure); 8] = [
    ("generation", |b| b.generation_mw),
    ("domestic_served", |b| b.domestic_served_mw),
    ("exports", |b| b.exports_mw),
    ("transit", |b| b.transit_mw),
    ("imports", |b| b.imports_mw),
    ("losses", |b| b.losses_mw),
    ("spill", |b| b.spill_mw),
    ("unserved", |b| b.unserved_mw),
];

/// One of [`FIGURES`], by its place there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Figure(usize);

impl Figure {
    fn of(self, b: &Balance) -> f64 {
        (FIGURES[self.0].1)(b)
    }
}

impl Label for Figure {
    const NAME: &'static str = "figure";

    fn all() -> impl Iterator<Item = Self> {
        (0..FIGURES.len()).map(Figure)
    }

    fn value(self) -> &'static str {
        FIGURES[self.0].0
    }

    fn index(self) -> usize {
        self.0
    }
}

/// The `kind` label of a contract's counters.
fn kind(kind: ContractKind) -> &'static str {
    match kind {
        ContractKind::Export => "export",
        ContractKind::Transit => "transit",
        ContractKind::Import => "import",
    }
}

/// MW to watts, to the watt (decisions are rounded the same way).
fn watts(mw: f64) -> f64 {
    (mw * 1e6).round()
}

/// Joules in a megawatt-hour.
const JOULES_PER_MWH: f64 = 3.6e9;

/// The families; each one's series appear when the scheduler stage resolves them.
#[derive(Clone)]
pub struct GridGauges {
    state: GaugeVec,
    reserve_held: Gauge,
    reserve_required: Gauge,
    balance: GaugeVec,
    load_shed: Gauge,
    contract_scheduled: GaugeVec,
    /// Energy and value per contract, settled decision by decision.
    contract_energy: CounterVec,
    contract_value: CounterVec,
    /// Requested, served and unserved power per tier.
    tiers: [GaugeVec; 3],
    line_flow: GaugeVec,
}

impl GridGauges {
    pub fn register(metrics: &Metrics) -> Self {
        let family = |name: &str, help: &str, label: &str| {
            metrics.register(GaugeVec::new(Opts::new(name, help), &[label]))
        };
        let gauge = |name: &str, help: &str| metrics.register(Gauge::new(name, help));
        let counters = |name: &str, help: &str| {
            metrics.register(CounterVec::new(
                Opts::new(name, help),
                &["contract", "kind"],
            ))
        };
        GridGauges {
            state: family(
                "vakhsh_grid_state",
                "1 for the operating state of the latest decision, 0 for the others.",
                OperatingState::NAME,
            ),
            reserve_held: gauge(
                "vakhsh_reserve_held_watts",
                "Reserve held as unused domestic headroom, latest decision.",
            ),
            reserve_required: gauge(
                "vakhsh_reserve_required_watts",
                "Reserve the rules require, latest decision.",
            ),
            balance: family(
                "vakhsh_balance_watts",
                "The latest decision's balance: generation, domestic_served, exports, transit, imports, losses, spill, unserved.",
                Figure::NAME,
            ),
            load_shed: gauge(
                "vakhsh_load_shed_watts",
                "Domestic load and firm data-center demand not served (load shed; flexible data-center demand is not counted), latest decision.",
            ),
            contract_scheduled: family(
                "vakhsh_contract_scheduled_watts",
                "Scheduled power per contract, latest decision.",
                "contract",
            ),
            contract_energy: counters(
                "vakhsh_contract_energy_joules_total",
                "Energy scheduled per contract (kind: export, transit, or import, taken from the neighbor): each decision's power over the event time until the next decision.",
            ),
            contract_value: counters(
                "vakhsh_contract_value_usd_total",
                "Value of the energy scheduled per contract at its tariff (energy × tariff), for contracts with a tariff: earned on an export or transit, paid to the neighbor (a cost) on an import (kind label).",
            ),
            tiers: [
                family(
                    "vakhsh_tier_requested_watts",
                    "Requested power per tier, latest decision.",
                    "tier",
                ),
                family(
                    "vakhsh_tier_served_watts",
                    "Served power per tier, latest decision.",
                    "tier",
                ),
                family(
                    "vakhsh_tier_unserved_watts",
                    "Requested but not served power per tier, latest decision.",
                    "tier",
                ),
            ],
            line_flow: family(
                "vakhsh_line_flow_watts",
                "Power sent into each line, negative when it runs to→from, latest decision.",
                "line",
            ),
        }
    }

    /// The handles for `grid`'s contracts and lines; with `on` false (only counters
    /// are kept), they publish nothing.
    pub fn handles(&self, grid: &Grid, on: bool) -> GridHandles {
        let one = |vec: &GaugeVec, label: &str| vec.with_label_values(&[label]);
        GridHandles {
            on,
            state: ByLabel::resolve(&self.state),
            reserve_held: self.reserve_held.clone(),
            reserve_required: self.reserve_required.clone(),
            balance: ByLabel::resolve(&self.balance),
            load_shed: self.load_shed.clone(),
            contracts: grid
                .contracts
                .iter()
                .map(|c| one(&self.contract_scheduled, &c.id))
                .collect(),
            settled: grid
                .contracts
                .iter()
                .map(|c| {
                    let labels = [c.id.as_str(), kind(c.kind)];
                    Settled {
                        energy: self.contract_energy.with_label_values(&labels),
                        value: c.tariff_usd_per_mwh.map(|usd_per_mwh| {
                            (self.contract_value.with_label_values(&labels), usd_per_mwh)
                        }),
                    }
                })
                .collect(),
            held: None,
            lines: grid
                .lines
                .iter()
                .map(|l| one(&self.line_flow, &l.id))
                .collect(),
            tiers: Vec::new(),
            tier_families: self.tiers.clone(),
        }
    }
}

/// Resolved handles of the grid gauges for one grid; see [`GridGauges::handles`].
pub struct GridHandles {
    /// False when only counters are kept: nothing is published.
    on: bool,
    state: ByLabel<OperatingState, Gauge>,
    reserve_held: Gauge,
    reserve_required: Gauge,
    balance: ByLabel<Figure, Gauge>,
    load_shed: Gauge,
    contracts: Vec<Gauge>,
    /// The counters of each contract, in the grid's order.
    settled: Vec<Settled>,
    /// The latest decision's event time (µs) and scheduled watts per contract: what
    /// the next decision settles.
    held: Option<(i64, Vec<f64>)>,
    lines: Vec<Gauge>,
    /// Requested, served and unserved per tier, resolved as each tier first appears.
    tiers: Vec<(u32, [Gauge; 3])>,
    /// The families those come from.
    tier_families: [GaugeVec; 3],
}

/// One contract's counters: energy, and value with the tariff when it has one.
struct Settled {
    energy: Counter,
    value: Option<(Counter, f64)>,
}

impl GridHandles {
    /// Publishes the figures of a decision, made at event time `ts`, on the grid
    /// gauges, and settles the decision before it on the contract counters.
    pub fn observe(&mut self, ts: Timestamp, schedule: &Schedule) {
        if !self.on {
            return;
        }
        self.settle(ts.as_micros(), schedule);
        for state in OperatingState::all() {
            let latest = state == schedule.state;
            self.state.get(state).set(f64::from(u8::from(latest)));
        }
        self.reserve_held.set(watts(schedule.reserve_mw));
        self.reserve_required
            .set(watts(schedule.reserve_required_mw));
        for figure in Figure::all() {
            let mw = figure.of(&schedule.balance);
            self.balance.get(figure).set(watts(mw));
        }
        self.load_shed.set(shed_watts(schedule));
        for (gauge, c) in self.contracts.iter().zip(&schedule.contracts) {
            gauge.set(watts(c.scheduled_mw));
        }
        for tier in &schedule.tiers {
            let at = match self.tiers.iter().position(|(t, _)| *t == tier.tier) {
                Some(at) => at,
                None => {
                    let label = tier.tier.to_string();
                    let gauges = self
                        .tier_families
                        .each_ref()
                        .map(|family| family.with_label_values(&[label.as_str()]));
                    self.tiers.push((tier.tier, gauges));
                    self.tiers.len() - 1
                }
            };
            let [requested, served, unserved] = &self.tiers[at].1;
            requested.set(watts(tier.requested_mw));
            served.set(watts(tier.served_mw));
            unserved.set(watts(tier.requested_mw) - watts(tier.served_mw));
        }
        for (gauge, flow) in self.lines.iter().zip(&schedule.lines) {
            gauge.set(watts(*flow));
        }
    }
}

impl GridHandles {
    /// Adds the energy and value of the held decision from its time until `at`, and
    /// holds `schedule` from `at`.
    fn settle(&mut self, at: i64, schedule: &Schedule) {
        let scheduled = schedule
            .contracts
            .iter()
            .map(|c| watts(c.scheduled_mw).max(0.0))
            .collect();
        if let Some((since, held)) = self.held.replace((at, scheduled)) {
            let seconds = (at - since).max(0) as f64 / 1e6;
            for (counters, w) in self.settled.iter().zip(held) {
                let joules = w * seconds;
                counters.energy.inc_by(joules);
                if let Some((value, usd_per_mwh)) = &counters.value {
                    value.inc_by(joules / JOULES_PER_MWH * usd_per_mwh);
                }
            }
        }
    }
}

/// The load a schedule sheds, in watts: the shortfall of every load and of every data
/// center's firm part. Flexible data-center demand is interruptible by contract, so its
/// curtailment is not shed load (rule 8), unlike the `unserved` balance figure.
fn shed_watts(schedule: &Schedule) -> f64 {
    let short = |x: &Served| watts(x.requested_mw) - watts(x.served_mw);
    let firm = schedule.data_centers.iter().map(|[firm, _]| firm);
    schedule.loads.iter().chain(firm).map(short).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{ContractReason, ContractSchedule};

    /// A schedule with `casa_mw` and `tajik_mw` on the first two contracts and twice
    /// `tajik_mw` on the third.
    fn schedule(casa_mw: f64, tajik_mw: f64) -> Schedule {
        let contract = |mw| ContractSchedule {
            requested_mw: mw,
            scheduled_mw: mw,
            reason: ContractReason::Ok,
        };
        Schedule {
            state: OperatingState::Normal,
            reserve_required_mw: 0.0,
            reserve_mw: 0.0,
            balance: Balance::default(),
            plants: Vec::new(),
            loads: Vec::new(),
            data_centers: Vec::new(),
            contracts: vec![
                contract(casa_mw),
                contract(tajik_mw),
                contract(2.0 * tajik_mw),
            ],
            lines: Vec::new(),
            tiers: Vec::new(),
            ramps_relaxed: false,
        }
    }

    #[test]
    fn each_decision_s_energy_and_value_are_counted_until_the_next() {
        let contract = |id: &str, tariff: Option<f64>| {
            let mut c = serde_json::json!({"id": id, "from": "a", "to": "n",
                "firmness": "firm", "tier": 3, "max_mw": 1000.0});
            if let Some(tariff) = tariff {
                c["tariff_usd_per_mwh"] = tariff.into();
            }
            c
        };
        let mut bought = contract("tashkent-in", Some(30.0));
        (bought["from"], bought["to"]) = ("n".into(), "a".into());
        let tree = serde_json::json!({
            "areas": [{"id": "a", "kind": "domestic"}, {"id": "n", "kind": "neighbor"}],
            "contracts": [contract("casa", Some(50.0)), contract("plain", None), bought],
        });
        let grid = crate::config::from_value(&tree).unwrap().grid;
        let metrics = Metrics::new();
        let mut handles = GridGauges::register(&metrics).handles(&grid, true);
        let at = |ts: &str| Timestamp::parse(ts).unwrap();
        handles.observe(at("2027-07-01T00:00:00Z"), &schedule(100.0, 10.0));
        assert_eq!(handles.settled[0].energy.get(), 0.0, "nothing has held yet");
        handles.observe(at("2027-07-01T01:00:00Z"), &schedule(200.0, 0.0));
        handles.observe(at("2027-07-01T01:30:00Z"), &schedule(0.0, 0.0));
        let [casa, plain, bought] = &handles.settled[..] else {
            panic!("three contracts");
        };
        assert_eq!(bought.energy.get(), 20.0 * 3.6e9);
        assert_eq!(bought.value.as_ref().unwrap().0.get(), 20.0 * 30.0);
        assert_eq!(casa.energy.get(), (100.0 + 100.0) * 3.6e9);
        assert_eq!(casa.value.as_ref().unwrap().0.get(), 200.0 * 50.0);
        assert_eq!(plain.energy.get(), 10.0 * 3.6e9);
        assert!(plain.value.is_none(), "no tariff, no value");
        let page = metrics.render();
        assert!(
            page.contains(
                r#"vakhsh_contract_value_usd_total{contract="casa",kind="export"} 10000"#
            )
        );
        assert!(page.contains(
            r#"vakhsh_contract_value_usd_total{contract="tashkent-in",kind="import"} 600"#
        ));
        assert!(!page.contains(r#"vakhsh_contract_value_usd_total{contract="plain""#));
    }
}
