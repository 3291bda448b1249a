//! The scheduler stage: each due tick is decided; a decision worth sending goes to the
//! sinks, and every tick's solve time and the grid's gauges ([`grid`]) are measured
//! here.

mod grid;

use super::StageMetrics;
use crate::decision::{Decider, Trigger};
use crate::edge::Edge;
use crate::edge::message::{DecisionOut, Tick};
use crate::latency::Stage;
use crate::latency::collector::LATENCY_BUCKETS;
use crate::metrics::Metrics;
use crate::time::Timestamp;
use async_channel::Receiver;
use grid::GridGauges;
use prometheus::{Histogram, HistogramOpts, IntCounter};
use std::time::{Duration, Instant};

/// The scheduler's families: ticks evaluated and the wall time each took, ticks whose
/// ramps were relaxed, and the grid figures of the latest decision.
#[derive(Clone)]
pub struct SchedulerMetrics {
    ticks: IntCounter,
    ramps_relaxed: IntCounter,
    solve: Histogram,
    grid: GridGauges,
    /// False when only counters are kept: solve times and the grid are not measured.
    measures: bool,
}

impl SchedulerMetrics {
    pub fn register(metrics: &Metrics) -> Self {
        let counter = |name: &str, help: &str| metrics.register(IntCounter::new(name, help));
        SchedulerMetrics {
            ticks: counter("vakhsh_ticks_total", "Schedule ticks evaluated."),
            ramps_relaxed: counter(
                "vakhsh_ramps_relaxed_total",
                "Schedule ticks whose line ramps were relaxed: a derating beyond a ramp's reach, or ramps that left no feasible schedule.",
            ),
            solve: metrics.register(Histogram::with_opts(
                HistogramOpts::new(
                    "vakhsh_schedule_solve_seconds",
                    "Wall time the scheduler takes for one tick.",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
            )),
            grid: GridGauges::register(metrics),
            measures: metrics.measures(),
        }
    }

    fn observe_solve(&self, elapsed: Duration) {
        if self.measures {
            self.solve.observe(elapsed.as_secs_f64());
        }
    }
}

pub async fn run(
    mut decider: Decider,
    rx: Receiver<Vec<Tick>>,
    tx: Edge<DecisionOut>,
    metrics: StageMetrics,
) -> anyhow::Result<()> {
    let mut latency = metrics.recorder(&[Stage::Schedule]);
    let metrics = metrics.scheduler;
    let mut gauges = metrics.grid.handles(decider.grid(), metrics.measures);
    while let Ok(ticks) = latency.wait(rx.recv()).await {
        for tick in ticks {
            metrics.ticks.inc();
            let solving = Instant::now();
            let decided = decider.tick(tick.ts, &tick.state);
            let built = Instant::now();
            metrics.observe_solve(built - solving);
            latency.record(Stage::Schedule, tick.released, built);
            let Some(decided) = decided else {
                continue;
            };
            // Every tick whose ramps were relaxed is a decision (`Emitter::offer`), so
            // this counts them all.
            if decided.schedule.ramps_relaxed {
                metrics.ramps_relaxed.inc();
            }
            log_decision(tick.ts, decided.seq, decided.trigger, &decided.schedule);
            gauges.observe(tick.ts, &decided.schedule);
            let out = DecisionOut {
                decided,
                arrived: tick.arrived,
                built,
            };
            if tx.send(out).await.is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The first decision and every state change at info, the rest at debug: an operator
/// sees the grid's story in the log without one line a second.
fn log_decision(ts: Timestamp, seq: u64, trigger: Trigger, schedule: &crate::schedule::Schedule) {
    let b = &schedule.balance;
    let state = schedule.state.as_str();
    macro_rules! decision {
        ($level:ident) => {
            tracing::$level!(
                %ts, seq, state, trigger = trigger.as_str(),
                generation_mw = b.generation_mw.round(),
                served_mw = b.domestic_served_mw.round(),
                unserved_mw = b.unserved_mw.round(),
                exports_mw = b.exports_mw.round(),
                imports_mw = b.imports_mw.round(),
                "decision"
            )
        };
    }
    match trigger {
        Trigger::Initial | Trigger::StateChange => decision!(info),
        Trigger::Change | Trigger::Heartbeat => decision!(debug),
    }
}
