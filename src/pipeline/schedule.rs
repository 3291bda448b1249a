//! The scheduler stage: each due tick is decided; a decision worth sending goes to the
//! sinks, and every tick's solve time and the grid's gauges are measured here.

use crate::decision::{Decider, Trigger};
use crate::edge::Edge;
use crate::edge::message::{DecisionOut, Tick};
use crate::latency::Stage;
use crate::metrics::Metrics;
use crate::time::Timestamp;
use async_channel::Receiver;
use std::time::Instant;

pub async fn run(
    mut decider: Decider,
    rx: Receiver<Vec<Tick>>,
    tx: Edge<DecisionOut>,
    metrics: Metrics,
) -> anyhow::Result<()> {
    let mut latency = metrics.recorder(&[Stage::Schedule]);
    let mut gauges = metrics.grid_handles(decider.grid());
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
            gauges.observe(&decided.schedule);
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
                "decision"
            )
        };
    }
    match trigger {
        Trigger::Initial | Trigger::StateChange => decision!(info),
        Trigger::Change | Trigger::Heartbeat => decision!(debug),
    }
}
