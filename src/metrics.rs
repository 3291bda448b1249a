//! Prometheus metrics: one registry built at start-up, with every labelled handle
//! resolved once so the hot path only bumps atomics.
//!
//! Names, types and meanings are listed in the README; all use base units and the
//! `vakhsh_` prefix. The latency families are read from the stages' HdrHistograms
//! (see [`crate::latency`]).

use crate::decision::Trigger;
use crate::event::EventType;
use crate::grid::Grid;
use crate::latency::collector::LatencyCollector;
use crate::latency::{Latency, Recorder, Stage};
use crate::reject::Reason;
use crate::schedule::{OperatingState, Schedule, Served};
use crate::status::OutputFile;
use prometheus::{
    CounterVec, Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, IntCounter, IntCounterVec,
    IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// `type` label for lines that never got as far as having a known type.
pub const UNKNOWN_TYPE: &str = "unknown";

/// Counters for one event type.
#[derive(Clone)]
pub struct TypeCounters {
    pub received: IntCounter,
    pub accepted: IntCounter,
    pub duplicate: IntCounter,
    rejected: Vec<IntCounter>,
}

impl TypeCounters {
    pub fn rejected(&self, reason: Reason) -> &IntCounter {
        &self.rejected[reason as usize]
    }
}

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    by_type: Vec<TypeCounters>,
    unknown: TypeCounters,
    decisions: Vec<IntCounter>,
    pub ticks: IntCounter,
    /// Ticks whose line ramps left no feasible schedule and were relaxed.
    pub ramps_relaxed: IntCounter,
    /// The ingest sequence up to which the event log is on stable storage.
    pub log_synced: IntGauge,
    /// Stage latencies; `None` when only the counters are kept.
    latency: Option<Latency>,
    /// Wall time the scheduler takes for one tick.
    solve: Histogram,
    /// The grid figures of the latest decision.
    grid: GridGauges,
    /// Messages waiting on each pipeline edge (batches on the batched edges).
    pub channel_depth: IntGaugeVec,
    /// Seconds producers waited on each pipeline edge while it was full.
    pub channel_blocked: CounterVec,
    /// Wall clock minus the watermark, in a live run.
    pub watermark_lag: Gauge,
    /// Failed attempts to write each output file, retries included.
    output_write_errors: IntCounterVec,
    /// 1 while each output file can be written, 0 while its writes fail.
    output_writable: IntGaugeVec,
    /// Connections and requests refused for a missing or wrong token, by listener.
    pub auth_failures: IntCounterVec,
}

/// Gauges with the figures of the latest decision, in watts (Prometheus base units;
/// dashboards show them as MW).
#[derive(Clone)]
struct GridGauges {
    state: GaugeVec,
    reserve_held: Gauge,
    reserve_required: Gauge,
    balance: GaugeVec,
    load_shed: Gauge,
    contract_scheduled: GaugeVec,
    tier_requested: GaugeVec,
    tier_served: GaugeVec,
    tier_unserved: GaugeVec,
    line_flow: GaugeVec,
}

/// MW to watts, to the watt (decisions are rounded the same way).
fn watts(mw: f64) -> f64 {
    (mw * 1e6).round()
}

/// Latency buckets from 10 µs to 10 s: the pipeline's own work is microseconds, a
/// blocked sink or an overloaded host is seconds.
pub const LATENCY_BUCKETS: [f64; 19] = [
    1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0,
];

impl Metrics {
    /// Every metric, stage latencies included.
    pub fn new() -> Self {
        Self::build(Some(Latency::new()))
    }

    /// The event, tick and decision counters alone, which a replay's summary is made
    /// of: no latency, solve time or grid gauge is measured (`replay --no-metrics`).
    pub fn counters_only() -> Self {
        Self::build(None)
    }

    fn build(latency: Option<Latency>) -> Self {
        let registry = Registry::new();
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            let vec = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(vec.clone()))
                .expect("metric registered once");
            vec
        };
        let received = counter_vec(
            "vakhsh_events_received_total",
            "Event lines received, by event type.",
            &["type"],
        );
        let accepted = counter_vec(
            "vakhsh_events_accepted_total",
            "Events accepted into the grid state, by type.",
            &["type"],
        );
        let duplicate = counter_vec(
            "vakhsh_events_duplicate_total",
            "Events dropped because their (source, seq) was already accepted, by type.",
            &["type"],
        );
        let rejected = counter_vec(
            "vakhsh_events_rejected_total",
            "Events rejected and written to the dead-letter file, by type and reason.",
            &["type", "reason"],
        );
        let decisions = counter_vec(
            "vakhsh_decisions_total",
            "Decisions emitted, by what triggered them.",
            &["trigger"],
        );
        let counters = |name: &str| TypeCounters {
            received: received.with_label_values(&[name]),
            accepted: accepted.with_label_values(&[name]),
            duplicate: duplicate.with_label_values(&[name]),
            rejected: Reason::ALL
                .iter()
                .map(|r| rejected.with_label_values(&[name, r.as_str()]))
                .collect(),
        };
        let auth_failures = counter_vec(
            "vakhsh_auth_failures_total",
            "Connections (TCP) and requests (HTTP) refused for a missing or wrong token, by listener.",
            &["listener"],
        );
        for listener in ["tcp", "http"] {
            auth_failures.with_label_values(&[listener]);
        }
        let counter = |name: &str, help: &str| {
            let counter = IntCounter::new(name, help).expect("valid metric");
            registry
                .register(Box::new(counter.clone()))
                .expect("metric registered once");
            counter
        };
        let ticks = counter("vakhsh_ticks_total", "Schedule ticks evaluated.");
        let ramps_relaxed = counter(
            "vakhsh_ramps_relaxed_total",
            "Schedule ticks whose line ramps were relaxed: a derating beyond a ramp's reach, or ramps that left no feasible schedule.",
        );
        let log_synced = IntGauge::new(
            "vakhsh_event_log_synced_sequence",
            "Ingest sequence of the last event the event log has synced to stable storage.",
        )
        .expect("valid metric");
        registry
            .register(Box::new(log_synced.clone()))
            .expect("metric registered once");
        if let Some(latency) = &latency {
            registry
                .register(Box::new(LatencyCollector::new(latency.clone())))
                .expect("metric registered once");
        }
        let gauge_vec = |name: &str, help: &str, labels: &[&str]| {
            let vec = GaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(vec.clone()))
                .expect("metric registered once");
            vec
        };
        let gauge = |name: &str, help: &str| {
            let gauge = Gauge::new(name, help).expect("valid metric");
            registry
                .register(Box::new(gauge.clone()))
                .expect("metric registered once");
            gauge
        };
        let solve = Histogram::with_opts(
            HistogramOpts::new(
                "vakhsh_schedule_solve_seconds",
                "Wall time the scheduler takes for one tick.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
        )
        .expect("valid metric");
        registry
            .register(Box::new(solve.clone()))
            .expect("metric registered once");
        let int_gauge_vec = |name: &str, help: &str, labels: &[&str]| {
            let vec = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(vec.clone()))
                .expect("metric registered once");
            vec
        };
        let channel_depth = int_gauge_vec(
            "vakhsh_channel_depth",
            "Messages waiting on each pipeline edge (batches on batched edges).",
            &["edge"],
        );
        let channel_blocked = CounterVec::new(
            Opts::new(
                "vakhsh_channel_send_blocked_seconds_total",
                "Seconds producers waited to send on each pipeline edge while it was full.",
            ),
            &["edge"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(channel_blocked.clone()))
            .expect("metric registered once");
        let watermark_lag = gauge(
            "vakhsh_watermark_lag_seconds",
            "Wall clock minus the watermark (newest event time minus the allowed lateness), live runs.",
        );
        let output_write_errors = counter_vec(
            "vakhsh_output_write_errors_total",
            "Failed attempts to write an output file (retries included), by file.",
            &["file"],
        );
        let output_writable = int_gauge_vec(
            "vakhsh_output_writable",
            "1 while an output file can be written, 0 while its writes fail and ingest is held back.",
            &["file"],
        );
        for file in OutputFile::ALL {
            output_write_errors.with_label_values(&[file.label()]);
            output_writable.with_label_values(&[file.label()]).set(1);
        }
        // Memory, CPU, open files of this process, as process_* (Linux).
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("metric registered once");
        let build = gauge_vec(
            "vakhsh_build_info",
            "Always 1; the labels name the running build.",
            &["version"],
        );
        build
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1.0);
        let grid = GridGauges {
            state: gauge_vec(
                "vakhsh_grid_state",
                "1 for the operating state of the latest decision, 0 for the others.",
                &["state"],
            ),
            reserve_held: gauge(
                "vakhsh_reserve_held_watts",
                "Reserve held as unused domestic headroom, latest decision.",
            ),
            reserve_required: gauge(
                "vakhsh_reserve_required_watts",
                "Reserve the rules require, latest decision.",
            ),
            balance: gauge_vec(
                "vakhsh_balance_watts",
                "The latest decision's balance: generation, domestic_served, exports, transit, losses, spill, unserved.",
                &["figure"],
            ),
            load_shed: gauge(
                "vakhsh_load_shed_watts",
                "Domestic load and firm data-center demand not served (load shed; flexible data-center demand is not counted), latest decision.",
            ),
            contract_scheduled: gauge_vec(
                "vakhsh_contract_scheduled_watts",
                "Scheduled power per contract, latest decision.",
                &["contract"],
            ),
            tier_requested: gauge_vec(
                "vakhsh_tier_requested_watts",
                "Requested power per tier, latest decision.",
                &["tier"],
            ),
            tier_served: gauge_vec(
                "vakhsh_tier_served_watts",
                "Served power per tier, latest decision.",
                &["tier"],
            ),
            tier_unserved: gauge_vec(
                "vakhsh_tier_unserved_watts",
                "Requested but not served power per tier, latest decision.",
                &["tier"],
            ),
            line_flow: gauge_vec(
                "vakhsh_line_flow_watts",
                "Power sent into each line, negative when it runs to→from, latest decision.",
                &["line"],
            ),
        };
        Metrics {
            by_type: EventType::ALL
                .iter()
                .map(|t| counters(t.as_str()))
                .collect(),
            unknown: counters(UNKNOWN_TYPE),
            decisions: Trigger::ALL
                .iter()
                .map(|t| decisions.with_label_values(&[t.as_str()]))
                .collect(),
            ticks,
            ramps_relaxed,
            solve,
            grid,
            channel_depth,
            channel_blocked,
            watermark_lag,
            auth_failures,
            log_synced,
            output_write_errors,
            output_writable,
            latency,
            registry,
        }
    }

    /// The write-error counter and the writable gauge of `file`.
    pub fn output(&self, file: OutputFile) -> (IntCounter, IntGauge) {
        let label = [file.label()];
        (
            self.output_write_errors.with_label_values(&label),
            self.output_writable.with_label_values(&label),
        )
    }

    /// The counters of `event_type`, or of `unknown` for lines without one.
    pub fn events(&self, event_type: Option<EventType>) -> &TypeCounters {
        match event_type {
            Some(t) => &self.by_type[t as usize],
            None => &self.unknown,
        }
    }

    pub fn decision(&self, trigger: Trigger) -> &IntCounter {
        &self.decisions[trigger as usize]
    }

    /// The stage latencies, unless only counters are kept.
    pub fn latency(&self) -> Option<&Latency> {
        self.latency.as_ref()
    }

    /// A recorder for a stage task that measures `stages`; one that measures nothing
    /// when only counters are kept.
    pub fn recorder(&self, stages: &[Stage]) -> Recorder {
        self.latency
            .as_ref()
            .map_or_else(Recorder::off, |l| l.recorder(stages))
    }

    /// False when only counters are kept: nothing else is measured then.
    fn measures(&self) -> bool {
        self.latency.is_some()
    }

    /// Observes the wall time of one scheduler tick.
    pub fn observe_solve(&self, elapsed: std::time::Duration) {
        if self.measures() {
            self.solve.observe(elapsed.as_secs_f64());
        }
    }

    /// The registry in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding cannot fail");
        String::from_utf8(out).expect("text encoding is UTF-8")
    }
}

impl Metrics {
    /// The grid gauges' handles for `grid`, resolved once by the task that publishes
    /// decisions, so that a decision only stores values.
    pub fn grid_handles(&self, grid: &Grid) -> GridHandles {
        let g = &self.grid;
        let one = |vec: &GaugeVec, label: &str| vec.with_label_values(&[label]);
        GridHandles {
            on: self.measures(),
            state: [
                OperatingState::Normal,
                OperatingState::Alert,
                OperatingState::Emergency,
            ]
            .map(|state| (state, one(&g.state, state.as_str()))),
            reserve_held: g.reserve_held.clone(),
            reserve_required: g.reserve_required.clone(),
            balance: BALANCE_FIGURES.map(|figure| one(&g.balance, figure)),
            load_shed: g.load_shed.clone(),
            contracts: grid
                .contracts
                .iter()
                .map(|c| one(&g.contract_scheduled, &c.id))
                .collect(),
            lines: grid
                .lines
                .iter()
                .map(|l| one(&g.line_flow, &l.id))
                .collect(),
            tiers: Vec::new(),
            tier_families: [&g.tier_requested, &g.tier_served, &g.tier_unserved].map(Clone::clone),
        }
    }
}

/// The `figure` labels of `vakhsh_balance_watts`, in [`GridHandles::observe`]'s order.
const BALANCE_FIGURES: [&str; 7] = [
    "generation",
    "domestic_served",
    "exports",
    "transit",
    "losses",
    "spill",
    "unserved",
];

/// Resolved handles of the grid gauges for one grid; see [`Metrics::grid_handles`].
pub struct GridHandles {
    /// False when only counters are kept: nothing is published.
    on: bool,
    state: [(OperatingState, Gauge); 3],
    reserve_held: Gauge,
    reserve_required: Gauge,
    balance: [Gauge; 7],
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
        for (state, gauge) in &self.state {
            gauge.set(f64::from(u8::from(*state == schedule.state)));
        }
        self.reserve_held.set(watts(schedule.reserve_mw));
        self.reserve_required
            .set(watts(schedule.reserve_required_mw));
        let b = &schedule.balance;
        let figures = [
            b.generation_mw,
            b.domestic_served_mw,
            b.exports_mw,
            b.transit_mw,
            b.losses_mw,
            b.spill_mw,
            b.unserved_mw,
        ];
        for (gauge, mw) in self.balance.iter().zip(figures) {
            gauge.set(watts(mw));
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

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
