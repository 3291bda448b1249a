//! Rule 10 against an independent oracle: on random networks and snapshots, the
//! scheduler's served MW per tier equals the lexicographic programme's optimum, its
//! first-tick state is the state the docs judge, and every decision is feasible.

use crate::oracle::network::{self, Rng, Sizes};
use crate::oracle::{self, Outcome};
use proptest::prelude::*;
use std::time::Duration;
use vakhsh::grid::{ContractKind, Grid, GridState};
use vakhsh::schedule::{Schedule, Scheduler};

/// Rule 10's tolerance: 1e-6 relative, with a 1e-6 MW floor.
fn tol(x: f64) -> f64 {
    1e-6_f64.max(1e-6 * x.abs())
}

/// The MW a later tier can gain from what the oracle gives up when it fixes an earlier
/// tier: its 1e-9 MW fixing slack, or its solver's feasibility tolerance (about 1e-7
/// MW), or with loose fixings 1e-7 MW + 1e-9 relative. A transit costs the domestic
/// side only its losses, so each MW given up can buy up to 1 / loss_fraction MW of
/// transit: with a 2% line, 1e-7 MW becomes 5e-6 MW, above rule 10's 1e-6 MW floor
/// for a tier whose optimum is 0. The scheduler keeps its optima exactly (it pins
/// optimal faces), so the allowance is the oracle's alone.
fn amplified_slack(grid: &Grid, o: &Outcome) -> f64 {
    let cheapest = grid
        .lines
        .iter()
        .map(|l| l.loss_fraction)
        .filter(|&l| l > 0.0)
        .fold(1.0, f64::min);
    let given_up = if o.loose { 1e-6 } else { 2e-7 };
    given_up / cheapest
}

/// Served and requested MW per tier agree with the oracle.
fn assert_tiers(grid: &Grid, s: &Schedule, o: &Outcome, what: &str) {
    let extra = amplified_slack(grid, o);
    for (&tier, want) in &o.tiers {
        let got = s.tiers.iter().find(|t| t.tier == tier);
        let (requested, served) = got.map_or((0.0, 0.0), |t| (t.requested_mw, t.served_mw));
        assert!(
            (served - want.served_mw).abs() <= tol(want.served_mw) + extra,
            "{what}: tier {tier} served {served}, oracle {}",
            want.served_mw
        );
        assert!(
            (requested - want.requested_mw).abs() <= tol(want.requested_mw),
            "{what}: tier {tier} requested {requested}, oracle {}",
            want.requested_mw
        );
    }
    for t in &s.tiers {
        assert!(
            o.tiers.contains_key(&t.tier) || t.requested_mw == 0.0,
            "{what}: tier {} not in the oracle",
            t.tier
        );
    }
}

/// The decision is physically and contractually feasible.
fn assert_feasible(grid: &Grid, state: &GridState, s: &Schedule, o: &Outcome, what: &str) {
    let mut balance = vec![0.0; grid.areas.len()];
    for (p, plant) in grid.plants.iter().enumerate() {
        let g = s.plants[p];
        assert!(
            (-1e-9..=o.avail[p] + 1e-9).contains(&g),
            "{what}: plant {} setpoint {g} outside [0, {}]",
            plant.id,
            o.avail[p]
        );
        balance[plant.area] += g;
    }
    let mut losses = 0.0;
    for (l, line) in grid.lines.iter().enumerate() {
        let net = s.lines[l];
        let (lo, hi) = o.line_range[l];
        assert!(
            net >= lo - tol(lo) && net <= hi + tol(hi),
            "{what}: line {} flow {net} outside [{lo}, {hi}] ({:?}, ramps dropped: {})",
            line.id,
            state.lines[l],
            o.ramps_dropped
        );
        let (f, r) = (net.max(0.0), (-net).max(0.0));
        let keep = 1.0 - line.loss_fraction;
        balance[line.from] += r * keep - f;
        balance[line.to] += f * keep - r;
        losses += (f + r) * line.loss_fraction;
    }
    let mut domestic = 0.0;
    for (i, load) in grid.loads.iter().enumerate() {
        let x = s.loads[i];
        assert!(x.served_mw >= -1e-9 && x.served_mw <= x.requested_mw + 1e-9);
        balance[load.area] -= x.served_mw;
        domestic += x.served_mw;
    }
    for (i, dc) in grid.data_centers.iter().enumerate() {
        for x in s.data_centers[i] {
            assert!(x.served_mw >= -1e-9 && x.served_mw <= x.requested_mw + 1e-9);
            balance[dc.area] -= x.served_mw;
            domestic += x.served_mw;
        }
    }
    let mut exports = 0.0;
    for (c, contract) in grid.contracts.iter().enumerate() {
        let x = s.contracts[c];
        assert!(
            x.scheduled_mw >= -1e-9 && x.scheduled_mw <= x.requested_mw + 1e-9,
            "{what}: contract {} scheduled {} of {}",
            contract.id,
            x.scheduled_mw,
            x.requested_mw
        );
        assert!(
            (x.requested_mw - o.contract_requests[c]).abs() <= tol(x.requested_mw),
            "{what}: contract {} requested {}, oracle {}",
            contract.id,
            x.requested_mw,
            o.contract_requests[c]
        );
        balance[contract.to] -= x.scheduled_mw;
        match contract.kind {
            ContractKind::Transit => balance[contract.from] += x.scheduled_mw,
            ContractKind::Export => exports += x.scheduled_mw,
        }
    }
    // When the documented programme itself can only reach these tiers by sending MW
    // both ways on a lossy line (see the oracle's `two_way`), the net flows of a
    // decision cannot balance; that gap is the product's, not the scheduler's.
    let two_way = o.two_way;
    for (a, net) in balance.iter().enumerate().filter(|_| !two_way) {
        assert!(
            net.abs() <= 1e-6 * (1.0 + s.balance.generation_mw),
            "{what}: area {} out of balance by {net}",
            grid.areas[a].id
        );
    }
    let b = s.balance;
    let generation: f64 = s.plants.iter().sum();
    assert!(
        (b.generation_mw - generation).abs() <= tol(generation),
        "{what}"
    );
    assert!(
        (b.domestic_served_mw - domestic).abs() <= tol(domestic),
        "{what}"
    );
    assert!((b.exports_mw - exports).abs() <= tol(exports), "{what}");
    assert!(
        two_way || (b.losses_mw - losses).abs() <= tol(losses),
        "{what}"
    );
    let sum = b.domestic_served_mw + b.exports_mw + b.losses_mw;
    assert!(
        (b.generation_mw - sum).abs() <= tol(sum),
        "{what}: generation {} ≠ served {} + exports {} + losses {}",
        b.generation_mw,
        b.domestic_served_mw,
        b.exports_mw,
        b.losses_mw
    );
    assert!(
        (s.reserve_required_mw - o.reserve_required_mw).abs() <= tol(o.reserve_required_mw),
        "{what}: reserve required {}, oracle {}",
        s.reserve_required_mw,
        o.reserve_required_mw
    );
}

/// What a case ran into, for the sweep's tally.
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    two_way: u32,
    ramps_dropped: u32,
    restricted: u32,
}

/// One case: a fresh scheduler, a first tick and a second one `gap` seconds later.
fn check(sizes: Sizes, seed: u64, gap: u64) -> Seen {
    let mut rng = Rng::new(seed);
    let grid = network::build(&network::random_grid(&mut rng, sizes));
    let ts = network::random_ts(&mut rng);
    let first = network::random_state(&grid, &mut rng);
    let second = network::drift(&grid, &first, &mut rng);
    let mut scheduler = Scheduler::new(grid.clone());

    let s1 = scheduler.schedule(ts, &first);
    let o1 = oracle::solve(&grid, &first, ts, None, s1.state);
    assert_eq!(s1.state, o1.judged, "tick 1: emitted state vs judged");
    assert_tiers(&grid, &s1, &o1, "tick 1");
    assert_feasible(&grid, &first, &s1, &o1, "tick 1");

    let ts2 = ts.saturating_add(Duration::from_secs(gap));
    let s2 = scheduler.schedule(ts2, &second);
    let previous = Some((ts, s1.lines.clone()));
    let o2 = oracle::solve(&grid, &second, ts2, previous, s2.state);
    assert_eq!(s2.state, s1.state.max(o2.judged), "tick 2: escalation only");
    assert_tiers(&grid, &s2, &o2, "tick 2");
    assert_feasible(&grid, &second, &s2, &o2, "tick 2");
    let mut seen = Seen::default();
    for (s, o) in [(&s1, &o1), (&s2, &o2)] {
        seen.two_way += u32::from(o.two_way);
        seen.ramps_dropped += u32::from(o.ramps_dropped);
        seen.restricted += u32::from(s.state != vakhsh::schedule::OperatingState::Normal);
    }
    seen
}

fn sizes() -> impl Strategy<Value = Sizes> {
    (
        1usize..=6,
        1usize..=4,
        0usize..=4,
        0usize..=8,
        1usize..=6,
        0usize..=4,
        0usize..=2,
    )
        .prop_map(sizes_of)
}

/// Sizes from (domestic, neighbors, extra lines, loads, plants, contracts, data centers).
fn sizes_of(
    (domestic, neighbors, extra_lines, loads, plants, contracts, data_centers): (
        usize,
        usize,
        usize,
        usize,
        usize,
        usize,
        usize,
    ),
) -> Sizes {
    Sizes {
        domestic,
        neighbors,
        extra_lines,
        loads,
        plants,
        contracts,
        data_centers,
    }
}

proptest! {
    // A fixed seed: the same 2,000 networks on every run, so CI is repeatable; set
    // PROPTEST_RNG_SEED to explore other draws (the `sweep` test below runs thousands
    // more), and keep what they find in `kept_cases`.
    #![proptest_config(ProptestConfig {
        cases: 2000,
        rng_seed: match std::env::var_os("PROPTEST_RNG_SEED") {
            Some(_) => ProptestConfig::default().rng_seed,
            None => proptest::test_runner::RngSeed::Fixed(0x7a6b_5a4e),
        },
        ..ProptestConfig::default()
    })]

    #[test]
    fn scheduler_matches_the_oracle(sizes in sizes(), seed in any::<u64>(), gap in 1u64..=120) {
        check(sizes, seed, gap);
    }
}

/// Cases earlier runs failed on, kept as regressions; each says what it caught.
#[test]
fn kept_cases() {
    // A tier whose optimum is 0, which the oracle serves 5e-6 MW through its solver's
    // tolerance amplified by a transit.
    check(sizes_of((6, 3, 2, 0, 4, 3, 2)), 7016205473813366339, 1);
    // A transit out of a dead-end neighbor: the programme burns its MW both ways on a
    // ramped line unless each direction stays within the ramp's reach.
    check(sizes_of((4, 3, 1, 4, 6, 2, 2)), 10965423963860245527, 35);
}

/// Prints one case: `ORACLE_CASE="d n e l p c dc seed gap" cargo test --test it
/// print_case -- --ignored --nocapture`.
#[test]
#[ignore]
fn print_case() {
    let text = std::env::var("ORACLE_CASE").expect("ORACLE_CASE");
    let v: Vec<u64> = text
        .split_whitespace()
        .map(|x| x.parse().unwrap())
        .collect();
    let sizes = Sizes {
        domestic: v[0] as usize,
        neighbors: v[1] as usize,
        extra_lines: v[2] as usize,
        loads: v[3] as usize,
        plants: v[4] as usize,
        contracts: v[5] as usize,
        data_centers: v[6] as usize,
    };
    let mut rng = Rng::new(v[7]);
    let tree = network::random_grid(&mut rng, sizes);
    println!("{tree:#}");
    let grid = network::build(&tree);
    let ts = network::random_ts(&mut rng);
    let first = network::random_state(&grid, &mut rng);
    println!("{ts:?}\n{first:#?}");
    let second = network::drift(&grid, &first, &mut rng);
    let mut scheduler = Scheduler::new(grid.clone());
    let s1 = scheduler.schedule(ts, &first);
    println!("{s1:#?}");
    let o1 = oracle::solve(&grid, &first, ts, None, s1.state);
    println!("{o1:#?}");
    let ts2 = ts.saturating_add(Duration::from_secs(v[8]));
    let s2 = scheduler.schedule(ts2, &second);
    println!("TICK2 {second:#?}\n{s2:#?}");
    let o2 = oracle::solve(&grid, &second, ts2, Some((ts, s1.lines.clone())), s2.state);
    println!("{o2:#?}");
    check(sizes, v[7], v[8]);
}

/// Runs many seeds and prints every failure instead of stopping at the first:
/// `ORACLE_SWEEP=500 cargo test --test it sweep -- --ignored --nocapture`.
#[test]
#[ignore]
fn sweep() {
    let n: u64 = std::env::var("ORACLE_SWEEP").map_or(200, |v| v.parse().unwrap());
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = 0;
    let mut total = Seen::default();
    for seed in 0..n {
        let mut rng = Rng::new(seed.wrapping_mul(7919));
        let sizes = Sizes {
            domestic: rng.int(1, 6),
            neighbors: rng.int(1, 4),
            extra_lines: rng.int(0, 4),
            loads: rng.int(0, 8),
            plants: rng.int(1, 6),
            contracts: rng.int(0, 4),
            data_centers: rng.int(0, 2),
        };
        let gap = rng.int(1, 120) as u64;
        let case_seed = rng.next_u64();
        let outcome = std::panic::catch_unwind(|| check(sizes, case_seed, gap));
        if let Ok(seen) = outcome {
            total.two_way += seen.two_way;
            total.ramps_dropped += seen.ramps_dropped;
            total.restricted += seen.restricted;
        }
        if let Err(e) = outcome {
            failures += 1;
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            println!(
                "FAIL {} {} {} {} {} {} {} {case_seed} {gap}: {msg}",
                sizes.domestic,
                sizes.neighbors,
                sizes.extra_lines,
                sizes.loads,
                sizes.plants,
                sizes.contracts,
                sizes.data_centers
            );
        }
    }
    println!("{failures} of {n} failed; ticks seen: {total:?}");
}
