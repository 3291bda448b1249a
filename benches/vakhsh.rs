//! Criterion benches, one group per pipeline stage, and the reference LP oracle on the
//! same snapshots as the scheduler so the ratio reads from one run.

#[path = "../tests/oracle/mod.rs"]
mod oracle;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use vakhsh::event::decode::EventDecoder;
use vakhsh::grid::Grid;
use vakhsh::pipeline::order::Ingest;
use vakhsh::schedule::{OperatingState, Scheduler};

fn config() -> vakhsh::config::Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml");
    vakhsh::config::load(&path).expect("reference grid loads")
}

fn grid() -> Arc<Grid> {
    Arc::new(config().grid)
}

/// One simulated hour of winter telemetry on the reference grid.
fn hour_of_events(grid: &Grid) -> Vec<String> {
    let scenario = vakhsh::source::sim::Scenario::WinterShortage;
    let settings = vakhsh::source::sim::SimulatorSettings {
        scenario,
        seed: 1,
        faults: 0.0,
        ..config().daemon.simulator
    };
    let mut out = Vec::new();
    vakhsh::source::sim::write_log(
        grid,
        &settings,
        scenario.default_start(),
        std::time::Duration::from_secs(3600),
        &mut out,
    )
    .expect("writing to memory");
    String::from_utf8(out)
        .expect("UTF-8")
        .lines()
        .map(str::to_string)
        .collect()
}

/// The same hour, decoded.
fn decoded_hour(grid: &Arc<Grid>) -> Vec<vakhsh::event::Event> {
    let mut decoder = EventDecoder::new(grid.clone());
    hour_of_events(grid)
        .iter()
        .filter_map(|l| decoder.decode(l.as_bytes()).ok())
        .collect()
}

fn decode(c: &mut Criterion) {
    let grid = grid();
    let lines = hour_of_events(&grid);
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("simulated_hour", |b| {
        let mut decoder = EventDecoder::new(grid.clone());
        b.iter(|| {
            for line in &lines {
                black_box(decoder.decode(line.as_bytes()).ok());
            }
        })
    });
    group.finish();
}

fn ingest(c: &mut Criterion) {
    let grid = grid();
    let events = decoded_hour(&grid);
    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("simulated_hour", |b| {
        b.iter(|| {
            let mut ingest = Ingest::new(grid.clone());
            let mut ticks = 0u64;
            for event in &events {
                ingest.offer(event, None);
                ingest.run_ticks(|_, _| ticks += 1);
            }
            black_box(ticks)
        })
    });
    group.finish();
}

/// Every tick of an hour of winter telemetry on the reference grid, in order.
fn winter_ticks(grid: &Arc<Grid>) -> Vec<(vakhsh::time::Timestamp, vakhsh::grid::Telemetry)> {
    let mut ingest = Ingest::new(grid.clone());
    let mut ticks = Vec::new();
    for event in decoded_hour(grid) {
        ingest.offer(&event, None);
        ingest.run_ticks(|ts, state| ticks.push((ts, state.clone())));
    }
    ticks
}

/// `reference`: the ticks of an hour of winter telemetry in order on one scheduler, as
/// the daemon runs them (ramps, hysteresis, restricted states), one tick per iteration.
/// `reference_first`: the hour's last tick on a fresh scheduler, a daemon's first
/// tick. `large`: one tick of the seeded 100-area network (`tests/oracle/network.rs`).
fn schedule(c: &mut Criterion) {
    let grid = grid();
    let ticks = winter_ticks(&grid);
    let mut group = c.benchmark_group("schedule");
    let mut running = Scheduler::new(grid.clone());
    let mut next = 0;
    group.bench_function("reference", |b| {
        b.iter(|| {
            if next == ticks.len() {
                next = 0;
                running = Scheduler::new(grid.clone());
            }
            let (ts, state) = &ticks[next];
            next += 1;
            black_box(running.schedule(*ts, state))
        })
    });
    let (ts, state) = ticks.last().expect("an hour of events makes ticks");
    let fresh = Scheduler::new(grid.clone());
    group.bench_function("reference_first", |b| {
        b.iter(|| black_box(fresh.clone().schedule(*ts, state)))
    });
    let (large, large_state, large_ts) = oracle::network::large(1);
    let scheduler = Scheduler::new(large);
    group.sample_size(10);
    group.bench_function("large", |b| {
        b.iter(|| black_box(scheduler.clone().schedule(large_ts, &large_state)))
    });
    group.finish();
}

/// The same hour read back from a native log segment, against decoding its JSON.
fn log(c: &mut Criterion) {
    use vakhsh::log::format::{self, Dictionary, RecordEncoder};
    let grid = grid();
    let events = decoded_hour(&grid);
    let mut segment = format::header(&Dictionary::of(&grid));
    let mut encoder = RecordEncoder::default();
    for (seq, event) in (1..).zip(&events) {
        encoder.encode(&mut segment, seq, event);
    }
    let mut group = c.benchmark_group("log");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("read_simulated_hour", |b| {
        b.iter(|| {
            let mut records = format::RecordDecoder::new(Dictionary::of(&grid), &grid);
            let mut count = 0u64;
            vakhsh::log::segment::scan(&segment, |_, payload, _| {
                count += u64::from(records.decode(payload).is_ok());
            });
            black_box(count)
        })
    });
    group.finish();
}

/// The reference programme solved by the oracle on the same snapshots as `schedule`:
/// what a plain re-solve of every objective costs next to the scheduler. `reference`
/// takes the hour's snapshots in order, one per iteration, each from scratch (ramps
/// left out: the oracle keeps no previous flows).
fn oracle(c: &mut Criterion) {
    let grid = grid();
    let ticks = winter_ticks(&grid);
    let (large, large_state, large_ts) = oracle::network::large(1);
    let mut group = c.benchmark_group("oracle");
    group.sample_size(10);
    let mut next = 0;
    group.bench_function("reference", |b| {
        b.iter(|| {
            let (ts, state) = &ticks[next % ticks.len()];
            next += 1;
            black_box(oracle::solve(
                &grid,
                state,
                *ts,
                None,
                OperatingState::Normal,
            ))
        })
    });
    group.bench_function("large", |b| {
        b.iter(|| {
            black_box(oracle::solve(
                &large,
                &large_state,
                large_ts,
                None,
                OperatingState::Normal,
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, decode, ingest, schedule, oracle, log);
criterion_main!(benches);
