//! Rules 1–10 against an independent oracle: on random networks and snapshots, every
//! figure a decision reports — each load's, data-center part's and contract's MW (an
//! import offer's included), the reserve, the tier totals, the imported MW, the state,
//! whether ramps were relaxed, the waste — equals the programme's, and the decision is
//! feasible as it reports it: every area balances on the net flows (imports entering
//! at their neighbor), every line is within its range, the reserve is headroom.

use crate::oracle::network::{self, Rng, Sizes};
use crate::oracle::{self, Outcome, Short};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use vakhsh::grid::{ContractKind, Grid, Telemetry};
use vakhsh::schedule::{OperatingState, Schedule, Scheduler};
use vakhsh::time::Timestamp;

/// Rule 10's tolerance: 1e-6 relative, with a 1e-6 MW floor.
fn tol(x: f64) -> f64 {
    oracle::met(x)
}

/// What the oracle's own figures may be off by, on top of rule 10's tolerance. It holds
/// every optimum exactly, so they carry only its LP solver's rounding: over 10,000
/// sweep cases the largest difference on a figure that agreed was 2.7e-9 MW, 0.3% of
/// rule 10's 1e-6 MW floor. When the rounding leaves a step no solution, that step
/// gives up `o.slack` of each optimum held before it (1e-13 to 1e-7 MW, plus 1% of
/// that per MW), and a later step can buy it back amplified: a transit netting against
/// domestic flow cost the domestic side 1/2,200 of its MW in one sweep case, and a
/// load 0.03% dearer to reach than its tier-mate can be given 3,300 MW of the tier's
/// share per MW given up. Hence 10,000 times the slack of a 1,000 MW figure.
fn oracle_slack(o: &Outcome) -> f64 {
    1e4 * o.slack.of(1000.0)
}

/// A figure compared with the oracle's: rule 10's tolerance plus the oracle's own.
fn near(got: f64, want: f64, o: &Outcome) -> bool {
    (got - want).abs() <= tol(want) + oracle_slack(o)
}

/// What a case found wrong: a kind, for the sweep's tally, and what exactly.
#[derive(Debug, Clone)]
struct Finding {
    kind: String,
    message: String,
}

/// Collects the findings of one tick.
struct Findings<'a> {
    grid: &'a Grid,
    tick: &'static str,
    found: Vec<Finding>,
}

impl Findings<'_> {
    fn expect(&mut self, ok: bool, kind: &str, message: impl FnOnce() -> String) {
        if !ok {
            self.found.push(Finding {
                kind: kind.to_string(),
                message: format!("{}: {}", self.tick, message()),
            });
        }
    }

    /// One figure against the oracle's.
    fn figure(&mut self, kind: &str, id: &str, got: f64, want: f64, o: &Outcome) {
        self.expect(near(got, want, o), kind, || {
            format!("{kind} {id}: {got}, oracle {want}")
        });
    }

    /// The state emitted against the state the oracle judges, escalation being
    /// immediate and `hold` (15 min) longer than any case.
    fn state(&mut self, s: &Schedule, o: &Outcome, before: Option<OperatingState>) {
        let want = before.map_or(o.judged, |b| b.max(o.judged));
        let mut why: Vec<&str> = o.shorts.iter().map(short_kind).collect();
        why.dedup();
        self.expect(
            s.state == want,
            &format!(
                "state {} where oracle {} {why:?}",
                s.state.as_str(),
                want.as_str()
            ),
            || format!("state {:?}, oracle {want:?} ({:?})", s.state, o.shorts),
        );
    }

    /// Rules 2, 4 and 10: tier totals and every consumer's MW.
    fn consumers(&mut self, s: &Schedule, o: &Outcome) {
        let grid = self.grid;
        for (&tier, want) in &o.tiers {
            let got = s.tiers.iter().find(|t| t.tier == tier);
            let (requested, served) = got.map_or((0.0, 0.0), |t| (t.requested_mw, t.served_mw));
            self.figure("tier served", &tier.to_string(), served, want.served_mw, o);
            let ok = (requested - want.requested_mw).abs() <= tol(want.requested_mw);
            self.expect(ok, "tier requested", || {
                format!(
                    "tier {tier} requested {requested}, oracle {}",
                    want.requested_mw
                )
            });
        }
        for t in &s.tiers {
            let ok = o.tiers.contains_key(&t.tier) || t.requested_mw == 0.0;
            self.expect(ok, "tier unknown", || {
                format!("tier {} not in the oracle", t.tier)
            });
        }
        for (i, load) in grid.loads.iter().enumerate() {
            self.figure("load", &load.id, s.loads[i].served_mw, o.loads[i], o);
        }
        for (i, dc) in grid.data_centers.iter().enumerate() {
            let [firm, flexible] = s.data_centers[i];
            self.figure("dc firm", &dc.id, firm.served_mw, o.data_centers[i][0], o);
            self.figure(
                "dc flexible",
                &dc.id,
                flexible.served_mw,
                o.data_centers[i][1],
                o,
            );
        }
        for (c, contract) in grid.contracts.iter().enumerate() {
            let got = s.contracts[c].scheduled_mw;
            let (least, spread) = (o.contracts[c], o.contract_spread[c]);
            if spread == 0.0 {
                self.figure("contract", &contract.id, got, least, o);
            } else {
                // Import offers of one tier that no rule tells apart: any split of
                // the tier's least imports that keeps every optimum.
                let ok = near(got, got.clamp(least, least + spread), o);
                self.expect(ok, "contract", || {
                    let most = least + spread;
                    format!("contract {}: {got}, oracle [{least}, {most}]", contract.id)
                });
            }
        }
        self.figure("imports", "total", s.balance.imports_mw, o.imported_mw, o);
        self.figure("reserve", "held", s.reserve_mw, o.reserve_mw, o);
        let waste = s.balance.spill_mw + s.balance.losses_mw;
        self.figure("waste", "spill + losses", waste, o.waste_mw, o);
        self.expect(s.ramps_relaxed == o.ramps_relaxed, "ramps_relaxed", || {
            format!(
                "ramps relaxed {}, oracle {}",
                s.ramps_relaxed, o.ramps_relaxed
            )
        });
    }

    /// What was asked for is reported as asked.
    fn requests(&mut self, state: &Telemetry, s: &Schedule, o: &Outcome) {
        let grid = self.grid;
        for (i, load) in grid.loads.iter().enumerate() {
            let (got, want) = (s.loads[i].requested_mw, state.loads[i]);
            self.expect((got - want).abs() <= tol(want), "request", || {
                format!("load {} requested {got}, read {want}", load.id)
            });
        }
        for (i, dc) in grid.data_centers.iter().enumerate() {
            let reading = state.data_centers[i];
            for (part, want) in s.data_centers[i]
                .iter()
                .zip([reading.firm_mw, reading.flexible_mw])
            {
                self.expect(
                    (part.requested_mw - want).abs() <= tol(want),
                    "request",
                    || {
                        format!(
                            "data center {} requested {}, read {want}",
                            dc.id, part.requested_mw
                        )
                    },
                );
            }
        }
        for (c, contract) in grid.contracts.iter().enumerate() {
            let (got, want) = (s.contracts[c].requested_mw, o.contract_requests[c]);
            self.expect((got - want).abs() <= tol(want), "request", || {
                format!("contract {} requested {got}, oracle {want}", contract.id)
            });
        }
        let (got, want) = (s.reserve_required_mw, o.reserve_required_mw);
        self.expect((got - want).abs() <= tol(want), "reserve required", || {
            format!("reserve required {got}, oracle {want}")
        });
    }

    /// Rules 1 and 5 on what the decision reports: setpoints within availability,
    /// every shortfall below must-run spilled, and the reserve within the headroom
    /// left by output (setpoints plus spill).
    fn plants(&mut self, s: &Schedule, o: &Outcome) {
        let grid = self.grid;
        let mut below_must_run = 0.0;
        for (p, plant) in grid.plants.iter().enumerate() {
            let g = s.plants[p];
            let ok = (-tol(0.0)..=o.avail[p] + tol(o.avail[p])).contains(&g);
            self.expect(ok, "setpoint", || {
                format!(
                    "plant {} setpoint {g} outside [0, {}]",
                    plant.id, o.avail[p]
                )
            });
            below_must_run += (o.must_run[p] - g).max(0.0);
        }
        let spill = s.balance.spill_mw;
        let most: f64 = o.must_run.iter().sum();
        let ok = spill >= below_must_run - tol(below_must_run) && spill <= most + tol(most);
        self.expect(ok, "spill", || {
            format!("spill {spill}, must-run shortfall {below_must_run}, must-run {most}")
        });
        let output = s.plants.iter().sum::<f64>() + spill;
        let headroom = o.avail.iter().sum::<f64>() - output;
        self.expect(
            s.reserve_mw <= headroom + tol(headroom),
            "reserve above headroom",
            || {
                format!(
                    "reserve {} above availability less output {headroom}",
                    s.reserve_mw
                )
            },
        );
    }

    /// Rule 3 on what the decision reports: every line within its range, every area
    /// balanced on the net flows within 1e-6 MW, and the balance totals adding up.
    fn network(&mut self, s: &Schedule, o: &Outcome) {
        let grid = self.grid;
        let mut areas = vec![0.0; grid.areas.len()];
        for (p, plant) in grid.plants.iter().enumerate() {
            areas[plant.area] += s.plants[p];
        }
        let losses = self.lines(s, o, &mut areas);
        let (domestic, unserved) = self.domestic(s, &mut areas);
        let (exports, transit, imports) = self.contracts(s, &mut areas);
        for (a, net) in areas.iter().enumerate() {
            self.expect(net.abs() <= 1e-6, "area balance", || {
                let id = &grid.areas[a].id;
                format!("area {id} out of balance by {net} on the reported net flows")
            });
        }
        let b = s.balance;
        let generation: f64 = s.plants.iter().sum();
        let totals = [
            ("generation", b.generation_mw, generation),
            ("domestic served", b.domestic_served_mw, domestic),
            ("unserved", b.unserved_mw, unserved),
            ("exports", b.exports_mw, exports),
            ("transit", b.transit_mw, transit),
            ("imports", b.imports_mw, imports),
            ("losses", b.losses_mw, losses),
            (
                "generation less uses",
                b.generation_mw + imports,
                domestic + exports + losses,
            ),
        ];
        for (name, got, want) in totals {
            self.expect((got - want).abs() <= tol(want), "balance totals", || {
                format!("balance {name} {got}, from the decision's figures {want}")
            });
        }
    }

    /// Each line's net flow within its range, taken out at one end and delivered less
    /// its losses at the other; returns the losses.
    fn lines(&mut self, s: &Schedule, o: &Outcome, areas: &mut [f64]) -> f64 {
        let mut losses = 0.0;
        for (l, line) in self.grid.lines.iter().enumerate() {
            let net = s.lines[l];
            let (lo, hi) = o.line_range[l];
            let ok = net >= lo - tol(lo) && net <= hi + tol(hi);
            self.expect(ok, "line range", || {
                format!("line {} flow {net} outside [{lo}, {hi}]", line.id)
            });
            let (f, r) = (net.max(0.0), (-net).max(0.0));
            let kept = 1.0 - line.loss_fraction;
            areas[line.from] += r * kept - f;
            areas[line.to] += f * kept - r;
            losses += (f + r) * line.loss_fraction;
        }
        losses
    }

    /// Loads and data-center parts withdrawn in their areas, within their requests;
    /// returns the MW served and unserved.
    fn domestic(&mut self, s: &Schedule, areas: &mut [f64]) -> (f64, f64) {
        let grid = self.grid;
        let loads = grid.loads.iter().map(|l| l.area).zip(&s.loads);
        let sites = grid.data_centers.iter().zip(&s.data_centers);
        let parts = sites.flat_map(|(dc, parts)| parts.iter().map(|x| (dc.area, x)));
        let (mut served, mut unserved) = (0.0, 0.0);
        for (area, x) in loads.chain(parts) {
            let ok =
                x.served_mw >= -tol(0.0) && x.served_mw <= x.requested_mw + tol(x.requested_mw);
            self.expect(ok, "served bounds", || {
                format!("served {} of {}", x.served_mw, x.requested_mw)
            });
            areas[area] -= x.served_mw;
            served += x.served_mw;
            unserved += x.requested_mw - x.served_mw;
        }
        (served, unserved)
    }

    /// Exports and transits withdrawn at `to` (and a transit injected at `from`),
    /// imports injected at `from`, all within their requests; returns the MW exported,
    /// carried in transit and imported.
    fn contracts(&mut self, s: &Schedule, areas: &mut [f64]) -> (f64, f64, f64) {
        let (mut exports, mut transit, mut imports) = (0.0, 0.0, 0.0);
        for (c, contract) in self.grid.contracts.iter().enumerate() {
            let x = s.contracts[c];
            let ok = x.scheduled_mw >= -tol(0.0)
                && x.scheduled_mw <= x.requested_mw + tol(x.requested_mw);
            self.expect(ok, "served bounds", || {
                let id = &contract.id;
                format!(
                    "contract {id} scheduled {} of {}",
                    x.scheduled_mw, x.requested_mw
                )
            });
            match contract.kind {
                ContractKind::Transit => {
                    areas[contract.to] -= x.scheduled_mw;
                    areas[contract.from] += x.scheduled_mw;
                    transit += x.scheduled_mw;
                }
                ContractKind::Export => {
                    areas[contract.to] -= x.scheduled_mw;
                    exports += x.scheduled_mw;
                }
                ContractKind::Import => {
                    areas[contract.from] += x.scheduled_mw;
                    imports += x.scheduled_mw;
                }
            }
        }
        (exports, transit, imports)
    }
}

/// A short's kind, without which consumer it was.
fn short_kind(short: &Short) -> &'static str {
    match short {
        Short::Essential(_) => "essential",
        Short::Load(_) => "load",
        Short::FirmDc(_) => "firm dc",
        Short::Reserve => "reserve",
        Short::Margin => "margin",
    }
}

/// Every check of one tick; `before` is the state emitted on the tick before.
fn check_tick(
    grid: &Grid,
    tick: &'static str,
    (state, s, o): (&Telemetry, &Schedule, &Outcome),
    before: Option<OperatingState>,
) -> Vec<Finding> {
    let mut findings = Findings {
        grid,
        tick,
        found: Vec::new(),
    };
    findings.expect(!o.undefined, "oracle: fair shares undefined", || {
        "progressive filling found no member that cannot rise".into()
    });
    findings.state(s, o, before);
    findings.consumers(s, o);
    findings.requests(state, s, o);
    findings.plants(s, o);
    findings.network(s, o);
    findings.found
}

/// What a case ran into, for the sweep's tally.
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    ramps_relaxed: u32,
    restricted: u32,
    /// Ticks in which the oracle gave up some slack (see `oracle_slack`).
    slackened: u32,
    /// Ticks in which a full reservoir's inflow raised some plant's must-run output
    /// above `min(min_mw, availability)` (rule 1).
    passing_inflow: u32,
    /// Ticks on a grid with import offers, and those that took some import.
    offered: u32,
    importing: u32,
}

impl Seen {
    fn add(&mut self, other: Seen) {
        self.ramps_relaxed += other.ramps_relaxed;
        self.restricted += other.restricted;
        self.slackened += other.slackened;
        self.passing_inflow += other.passing_inflow;
        self.offered += other.offered;
        self.importing += other.importing;
    }
}

/// Names of the ticks of a case, for findings.
const TICKS: [&str; 8] = [
    "tick 1", "tick 2", "tick 3", "tick 4", "tick 5", "tick 6", "tick 7", "tick 8",
];

/// One case: a fresh scheduler and `ticks` ticks `gap` seconds apart, each snapshot
/// drifted from the one before; every finding of every tick. Eight ticks at most two
/// minutes apart stay within the random grids' 15-minute `hold`, so the emitted state
/// only escalates (rule 8), and later ticks run on the scheduler's warm starts,
/// checkpoints and restricted states as a daemon's do.
fn findings(sizes: Sizes, seed: u64, gap: u64, ticks: usize) -> (Vec<Finding>, Seen) {
    findings_of(case(sizes, seed, true), gap, ticks)
}

/// A case: its grid (and the configuration it was built from), first instant, first
/// snapshot and the generators its later snapshots drift with.
struct Case {
    tree: serde_json::Value,
    grid: Arc<Grid>,
    ts: Timestamp,
    state: Telemetry,
    rng: Rng,
    /// The import offers' own generator.
    offers: Rng,
}

impl Case {
    /// The next snapshot.
    fn drift(&mut self, state: &Telemetry) -> Telemetry {
        let mut next = network::drift(&self.grid, state, &mut self.rng);
        network::nominate_imports(&self.grid, &mut next, &mut self.offers, true);
        next
    }
}

/// The case a seed gives. With `later`, the features added since the first cases were
/// kept, each drawn from a generator of its own, so that the rest of the case is the
/// one its seed gave before: some reservoirs get a `full_m` and some of their levels
/// reach it (rule 1), and half the grids get import offers.
fn case(sizes: Sizes, seed: u64, later: bool) -> Case {
    let mut rng = Rng::new(seed);
    let mut fills = Rng::new(seed ^ 0xf011_f011_f011_f011);
    let mut offers = Rng::new(seed ^ 0x1390_1390_1390_1390);
    let mut tree = network::random_grid(&mut rng, sizes);
    if later {
        network::random_full_levels(&mut fills, &mut tree);
        network::random_import_offers(&mut offers, &mut tree);
    }
    let grid = network::build(&tree);
    let ts = network::random_ts(&mut rng);
    let mut state = network::random_state(&grid, &mut rng);
    if later {
        network::fill_reservoirs(&grid, &mut state, &mut fills);
        network::nominate_imports(&grid, &mut state, &mut offers, false);
    }
    Case {
        tree,
        grid,
        ts,
        state,
        rng,
        offers,
    }
}

fn findings_of(mut case: Case, gap: u64, ticks: usize) -> (Vec<Finding>, Seen) {
    let grid = case.grid.clone();
    let (mut ts, mut state) = (case.ts, case.state.clone());
    let mut scheduler = Scheduler::new(grid.clone());
    let mut before: Option<(Timestamp, Schedule)> = None;
    let (mut found, mut seen) = (Vec::new(), Seen::default());
    for tick in TICKS.iter().take(ticks) {
        let s = scheduler.schedule(ts, &state);
        let previous = before.as_ref().map(|(at, b)| (*at, b.lines.clone()));
        let o = oracle::solve(&grid, &state, ts, previous, s.state);
        let emitted = before.as_ref().map(|(_, b)| b.state);
        found.extend(check_tick(&grid, tick, (&state, &s, &o), emitted));
        seen.add(Seen {
            ramps_relaxed: u32::from(o.ramps_relaxed),
            restricted: u32::from(s.state != OperatingState::Normal),
            slackened: u32::from(o.slack.0 > 0.0),
            passing_inflow: u32::from(grid.plants.iter().enumerate().any(|(p, plant)| {
                o.must_run[p] > plant.min_mw.min(o.avail[p]) + tol(o.must_run[p])
            })),
            offered: u32::from(
                grid.contracts
                    .iter()
                    .any(|k| k.kind == ContractKind::Import),
            ),
            importing: u32::from(s.balance.imports_mw > tol(0.0)),
        });
        before = Some((ts, s));
        ts = ts.saturating_add(Duration::from_secs(gap));
        state = case.drift(&state);
    }
    (found, seen)
}

/// One case, failing with every finding.
fn check(sizes: Sizes, seed: u64, gap: u64) {
    check_ticks(sizes, seed, gap, 2);
}

/// One case as it was drawn when it was kept, before any reservoir had a `full_m`.
fn kept(sizes: Sizes, seed: u64, gap: u64) {
    let (found, _) = findings_of(case(sizes, seed, false), gap, 2);
    let messages: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
    assert!(found.is_empty(), "{}", messages.join("\n"));
}

/// One case of `ticks` ticks, failing with every finding.
fn check_ticks(sizes: Sizes, seed: u64, gap: u64, ticks: usize) {
    let (found, _) = findings(sizes, seed, gap, ticks);
    let messages: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
    assert!(found.is_empty(), "{}", messages.join("\n"));
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

proptest! {
    // 250 runs of eight ticks: what two ticks on a fresh scheduler cannot reach, a
    // restricted state resumed from a checkpoint and starts warmed by earlier ticks.
    #![proptest_config(ProptestConfig {
        cases: 250,
        rng_seed: match std::env::var_os("PROPTEST_RNG_SEED") {
            Some(_) => ProptestConfig::default().rng_seed,
            None => proptest::test_runner::RngSeed::Fixed(0x7a6b_5a4f),
        },
        ..ProptestConfig::default()
    })]

    #[test]
    fn scheduler_matches_the_oracle_tick_after_tick(
        sizes in sizes(), seed in any::<u64>(), gap in 1u64..=120,
    ) {
        check_ticks(sizes, seed, gap, TICKS.len());
    }
}

/// Cases earlier runs failed on, kept as regressions; each says what it caught. The
/// oracle's own come first.
#[test]
fn kept_cases() {
    // Fair shares held at λ × request, with λ only as exact as the solver: a member
    // held a few 1e-11 MW above what it could get left the next step no solution, and
    // the loose fixings the oracle fell back to gave contract k2 6.3e-6 MW, not 0.
    kept(sizes_of((6, 4, 2, 8, 6, 3, 0)), 1602730849425671069, 90);
    // Shares held tighter than the tier total the later optima were found with left a
    // step no solution at any slack, and the oracle panicked.
    kept(sizes_of((3, 3, 4, 0, 1, 4, 1)), 16426411113070057292, 111);
    // On tick 2 load l2 sits behind a line losing 0.09% and costs its tier that much
    // more than l5: 1e-9 MW of slack on a held optimum moved 1.1e-6 MW of the tier to
    // it, whose share is 0.
    kept(sizes_of((3, 4, 0, 7, 3, 0, 0)), 12567581684212055630, 12);
    // Rule 5: spilled output is never headroom. Storage plant p0 is held to its inflow,
    // 41.7 MW, by its rule curve, and its min_mw (103.7) makes all of it must-run;
    // nothing consumes it, so it is spilled. Availability 329.1 MW less output 41.7
    // leaves 287.4 MW of headroom for a reserve of 318.6 (the largest unit): the reserve
    // is short and the grid on alert. Counting the spill as headroom holds 318.6, normal.
    kept(sizes_of((2, 2, 0, 0, 3, 0, 0)), 277301433173583049, 25);
    // Rule 8: unused domestic generation is availability less output. On tick 2, 114.5
    // MW available, 45.1 of it must-run and spilled, leaves 69.4 MW unused, below the
    // 93.5 MW margin: alert. Counting the spill as unused leaves the grid normal.
    kept(sizes_of((4, 2, 3, 0, 2, 0, 0)), 7798309489146778952, 24);
    // Rules 3 and 7: a transit n0→n1 whose MW can only loop back from a dead-end d1.
    // Burning them by sending MW both ways on the lossy line n0–d1 leaves n0 and d1
    // out of balance by 4.1 MW on the net flows a decision reports; one-way flow loops
    // them through the lossless line instead.
    kept(sizes_of((5, 2, 3, 0, 2, 1, 0)), 2588756385162765539, 39);
    // Rule 3: with one-way flow the ramps of tick 2 leave no feasible schedule, so they
    // are relaxed and the decision says so. Keeping them by running d2–d0 both ways
    // leaves d0 and d2 out of balance by 2.4 MW.
    kept(sizes_of((4, 3, 4, 0, 4, 4, 0)), 13872539544006391282, 19);
    // Rule 7: a transit out of a dead-end neighbor can only be served by burning its
    // MW both ways on a lossy line: one-way, its tier gets 0, not 17.1 MW, and n0 and
    // n1 balance.
    kept(sizes_of((4, 3, 1, 4, 6, 2, 2)), 10965423963860245527, 35);
    // Rule 8: shed load is never normal. Two residential loads of 132.4 and 178.8 MW
    // behind one line derated to 66.2 MW get 59.7 MW between them: alert.
    kept(sizes_of((3, 1, 0, 2, 1, 0, 0)), 14183906700015377191, 74);
    // Rule 1: output below min_mw is impossible. On tick 2 storage plants p0 (95.3 MW
    // available) and p1 (82.3 MW, min_mw 36.9) share a 50.5 MW load; in proportion to
    // availability p1 would deliver 23.4 MW and spill nothing. It must output 36.9.
    kept(sizes_of((2, 3, 1, 1, 2, 0, 0)), 1307365888596740416, 111);
    // Rule 7 before rule 6: 91.6 MW of must-run output for a 67.9 MW load wastes 23.7
    // MW at least; sharing the storage plants' output in proportion to availability
    // raises p1 above its must-run while p2 and p3 spill, 25.7 MW.
    kept(sizes_of((1, 3, 0, 1, 5, 1, 0)), 14623221595933207632, 72);
    // The oracle holds every optimum exactly: held 2.3e-9 MW below tier 1's optimum, a
    // transit netting against domestic flow (it costs 1/2,200 of its MW) served 5e-6
    // MW in tier 2, whose optimum is 0. (Rule 8 fails here too: firm data-center
    // demand is shed without an alert.)
    kept(sizes_of((6, 3, 2, 0, 4, 3, 2)), 7016205473813366339, 1);
    // Both essential loads of tier 2 seemed to rise above the common fraction, l2 by
    // 5e-8 MW that 1e-9 MW of slack (needed for the solver's rounding) bought across
    // a 0.03% line, and the oracle froze both there, l0 at 1.8e-9 MW instead of 58.9:
    // the one rising least is frozen. (Rule 5 fails here too on tick 2.)
    kept(sizes_of((3, 1, 1, 4, 4, 0, 1)), 1752851106155281217, 50);
}

/// Sizes from the first seven numbers of a case line.
fn sizes_from(v: &[u64]) -> Sizes {
    let n = |i: usize| v[i] as usize;
    sizes_of((n(0), n(1), n(2), n(3), n(4), n(5), n(6)))
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
    let sizes = sizes_from(&v);
    let mut case = case(sizes, v[7], true);
    let (grid, ts, first) = (case.grid.clone(), case.ts, case.state.clone());
    println!("{:#}", case.tree);
    println!("{ts:?}\n{first:#?}");
    let second = case.drift(&first);
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

/// Runs many seeds and prints every failing case with its findings, then a tally of
/// cases per kind of finding: `ORACLE_SWEEP=10000 cargo test --release --test it sweep
/// -- --ignored --nocapture`.
#[test]
#[ignore]
fn sweep() {
    let n: u64 = std::env::var("ORACLE_SWEEP").map_or(200, |v| v.parse().unwrap());
    let started = std::time::Instant::now();
    let branchings = oracle::branchings();
    let mut failures = 0;
    let mut total = Seen::default();
    let mut tally: BTreeMap<String, u32> = BTreeMap::new();
    for seed in 0..n {
        let mut rng = Rng::new(seed.wrapping_mul(7919));
        let v: Vec<u64> = [(1, 6), (1, 4), (0, 4), (0, 8), (1, 6), (0, 4), (0, 2)]
            .iter()
            .map(|&(lo, hi)| rng.int(lo, hi) as u64)
            .collect();
        let gap = rng.int(1, 120) as u64;
        let case_seed = rng.next_u64();
        let case: Vec<String> = v.iter().map(u64::to_string).collect();
        let case = format!("{} {case_seed} {gap}", case.join(" "));
        let Ok((found, seen)) =
            std::panic::catch_unwind(|| findings(sizes_from(&v), case_seed, gap, 2))
        else {
            failures += 1;
            *tally.entry("panic".into()).or_default() += 1;
            println!("PANIC {case}");
            continue;
        };
        total.add(seen);
        if found.is_empty() {
            continue;
        }
        failures += 1;
        let mut kinds: Vec<&str> = found.iter().map(|f| f.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        for kind in &kinds {
            *tally.entry(kind.to_string()).or_default() += 1;
        }
        println!("FAIL {case}: {kinds:?}");
        for f in found.iter().take(6) {
            println!("    {}", f.message);
        }
    }
    println!(
        "{failures} of {n} cases failed in {:?}; ticks seen: {total:?}",
        started.elapsed()
    );
    println!(
        "oracle branchings on two-way relaxations: {}",
        oracle::branchings() - branchings
    );
    for (kind, count) in &tally {
        println!("{count:6}  {kind}");
    }
}
