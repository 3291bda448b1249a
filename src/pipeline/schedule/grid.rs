//! The grid gauges: the figures of the latest decision, in watts (Prometheus base
//! units; dashboards show them as MW). The scheduler stage resolves their handles for
//! its grid once ([`GridGauges::handles`]), so that a decision only stores values.

use crate::grid::Grid;
use crate::metrics::{ByLabel, Label, Metrics};
use crate::schedule::{Balance, OperatingState, Schedule, Served};
use prometheus::{Gauge, GaugeVec, Opts};

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
const FIGURES: [(&str, BalanceFigure); 7] = [
    ("generation", |b| b.generation_mw),
    ("domestic_served", |b| b.domestic_served_mw),
    ("exports", |b| b.exports_mw),
    ("transit", |b| b.transit_mw),
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

/// MW to watts, to the watt (decisions are rounded the same way).
fn watts(mw: f64) -> f64 {
    (mw * 1e6).round()
}

/// The families; each one's series appear when the scheduler stage resolves them.
#[derive(Clone)]
pub struct GridGauges {
    state: GaugeVec,
    reserve_held: Gauge,
    reserve_required: Gauge,
    balance: GaugeVec,
    load_shed: Gauge,
    contract_scheduled: GaugeVec,
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
                "The latest decision's balance: generation, domestic_served, exports, transit, losses, spill, unserved.",
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
    lines: Vec<Gauge>,
    /// Requested, served and unserved per tier, resolved as each tier first appears.
    tiers: Vec<(u32, [Gauge; 3])>,
    /// The families those come from.
    tier_families: [GaugeVec; 3],
}

impl GridHandles {
    /// Publishes the figures of a decision on the grid gauges.
    pub fn observe(&mut self, schedule: &Schedule) {
        if !self.on {
            return;
        }
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

/// The load a schedule sheds, in watts: the shortfall of every load and of every data
/// center's firm part. Flexible data-center demand is interruptible by contract, so its
/// curtailment is not shed load (rule 8), unlike the `unserved` balance figure.
fn shed_watts(schedule: &Schedule) -> f64 {
    let short = |x: &Served| watts(x.requested_mw) - watts(x.served_mw);
    let firm = schedule.data_centers.iter().map(|[firm, _]| firm);
    schedule.loads.iter().chain(firm).map(short).sum()
}
