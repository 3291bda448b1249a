//! Seeded random grids and snapshots, shared by the property tests and the benches.
//!
//! A tiny self-contained generator (SplitMix64) keeps the networks identical across
//! versions of any random-number crate, so a failing seed stays a failing seed.

use serde_json::{Value, json};
use std::sync::Arc;
use vakhsh::grid::{ContractKind, Grid, LineReading, Nomination, PlantReading, Telemetry};
use vakhsh::time::Timestamp;

/// SplitMix64: small, fast and good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5851_f42d_4c95_7f2d)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi), rounded to 0.1 MW so failures read easily.
    pub fn mw(&mut self, lo: f64, hi: f64) -> f64 {
        ((lo + (hi - lo) * self.unit()) * 10.0).round() / 10.0
    }

    /// Uniform integer in [lo, hi].
    pub fn int(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.int(0, items.len() - 1)]
    }
}

/// How big a random grid is.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub domestic: usize,
    pub neighbors: usize,
    /// Lines beyond the ones that tie every area to an earlier one.
    pub extra_lines: usize,
    pub loads: usize,
    pub plants: usize,
    pub contracts: usize,
    pub data_centers: usize,
}

const CLASSES: [&str; 4] = ["essential", "residential", "industrial", "other"];

fn area_id(domestic: usize, a: usize) -> String {
    if a < domestic {
        format!("d{a}")
    } else {
        format!("n{}", a - domestic)
    }
}

/// A random grid as a configuration tree for `vakhsh::config::from_value`: every
/// feature of the model, with loss fractions 0–0.1, one-way lines, ramps (some 0),
/// reservoirs, windows, floors and a reserve.
pub fn random_grid(rng: &mut Rng, sizes: Sizes) -> Value {
    let (nd, nn) = (sizes.domestic, sizes.neighbors);
    let areas: Vec<Value> = (0..nd + nn)
        .map(
            |a| json!({"id": area_id(nd, a), "kind": if a < nd { "domestic" } else { "neighbor" }}),
        )
        .collect();
    let plants: Vec<Value> = (0..sizes.plants)
        .map(|p| {
            let capacity = rng.mw(10.0, 500.0);
            let mut plant = json!({
                "id": format!("p{p}"),
                "area": area_id(nd, rng.int(0, nd - 1)),
                "capacity_mw": capacity,
                "unit_mw": rng.mw(0.0, capacity),
                "min_mw": if rng.chance(0.5) { rng.mw(0.0, 0.3 * capacity) } else { 0.0 },
            });
            if rng.chance(0.5) {
                let curve: Vec<f64> = (0..12).map(|_| rng.mw(100.0, 200.0)).collect();
                plant["reservoir"] = json!({"floor_m": rng.mw(80.0, 120.0), "rule_curve_m": curve});
            }
            plant
        })
        .collect();
    let loads: Vec<Value> = (0..sizes.loads)
        .map(|l| {
            json!({
                "id": format!("l{l}"),
                "area": area_id(nd, rng.int(0, nd - 1)),
                "tier": rng.int(1, 6),
                "class": rng.pick(&CLASSES),
            })
        })
        .collect();
    let data_centers: Vec<Value> = (0..sizes.data_centers)
        .map(|d| {
            json!({
                "id": format!("dc{d}"),
                "area": area_id(nd, rng.int(0, nd - 1)),
                "firm_tier": rng.int(1, 6),
                "flexible_tier": rng.int(1, 6),
            })
        })
        .collect();
    let mut ends = Vec::new();
    for a in 1..nd + nn {
        if rng.chance(0.85) {
            ends.push((rng.int(0, a - 1), a));
        }
    }
    for _ in 0..sizes.extra_lines {
        let a = rng.int(0, nd + nn - 1);
        let b = rng.int(0, nd + nn - 1);
        if a != b {
            ends.push((a, b));
        }
    }
    let lines: Vec<Value> = ends
        .iter()
        .enumerate()
        .map(|(l, &(a, b))| {
            let (from, to) = if rng.chance(0.5) { (a, b) } else { (b, a) };
            let capacity = rng.mw(5.0, 400.0);
            json!({
                "id": format!("x{l}"),
                "from": area_id(nd, from),
                "to": area_id(nd, to),
                "capacity_mw": capacity,
                "reverse_capacity_mw": if rng.chance(0.3) { 0.0 } else { rng.mw(5.0, 400.0) },
                "loss_fraction": if rng.chance(0.2) { 0.0 } else { rng.mw(0.0, 100.0) / 1000.0 },
                "ramp_mw_per_min": if rng.chance(0.4) { 0.0 } else { rng.mw(1.0, 100.0) },
            })
        })
        .collect();
    let mut contracts = Vec::new();
    for k in 0..sizes.contracts {
        let transit = nn >= 2 && rng.chance(0.35);
        let (from, to) = if transit {
            let a = rng.int(0, nn - 1);
            let b = (a + rng.int(1, nn - 1)) % nn;
            (area_id(nd, nd + a), area_id(nd, nd + b))
        } else {
            (
                area_id(nd, rng.int(0, nd - 1)),
                area_id(nd, nd + rng.int(0, nn - 1)),
            )
        };
        let max = rng.mw(5.0, 300.0);
        let mut contract = json!({
            "id": format!("k{k}"),
            "from": from,
            "to": to,
            "firmness": if rng.chance(0.5) { "firm" } else { "non_firm" },
            "tier": rng.int(1, 6),
            "max_mw": max,
        });
        if rng.chance(0.4) {
            contract["floor_mw"] = json!(rng.mw(0.0, max));
            contract["floor_tier"] = json!(rng.int(1, 6));
        }
        if rng.chance(0.5) {
            let day = |rng: &mut Rng| format!("{:02}-{:02}", rng.int(1, 12), rng.int(1, 28));
            contract["window"] = json!({"start": day(rng), "end": day(rng)});
        }
        contracts.push(contract);
    }
    let mut tree = json!({
        "areas": areas,
        "plants": plants,
        "loads": loads,
        "data_centers": data_centers,
        "lines": lines,
        "contracts": contracts,
        "states": {"alert_margin_mw": if rng.chance(0.5) { rng.mw(0.0, 100.0) } else { 0.0 }, "hold": "15m"},
    });
    if rng.chance(0.7) {
        tree["reserve"] = json!({
            "tier": rng.int(1, 6),
            "min_mw": if rng.chance(0.5) { rng.mw(0.0, 100.0) } else { 0.0 },
            "largest_unit": rng.chance(0.5),
            "fraction_of_demand": if rng.chance(0.5) { rng.mw(0.0, 100.0) / 1000.0 } else { 0.0 },
        });
    }
    tree
}

/// Gives some reservoirs of a random grid a `full_m` (normal retaining level) above
/// their floor and every month's curve, drawing from `rng` alone, so that a case's
/// other draws stay what they were.
pub fn random_full_levels(rng: &mut Rng, tree: &mut Value) {
    let Some(plants) = tree["plants"].as_array_mut() else {
        return;
    };
    for plant in plants {
        let reservoir = &mut plant["reservoir"];
        if reservoir.is_null() || !rng.chance(0.6) {
            continue;
        }
        let floor = reservoir["floor_m"].as_f64().unwrap_or(0.0);
        let highest = reservoir["rule_curve_m"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_f64)
            .fold(floor, f64::max);
        reservoir["full_m"] = json!(highest + rng.mw(0.1, 25.0));
    }
}

/// Puts some reservoirs that have a `full_m` and a reported level at or above it: at
/// it exactly, or up to 20 m over. Draws from `rng` alone, like [`random_full_levels`].
pub fn fill_reservoirs(grid: &Grid, state: &mut Telemetry, rng: &mut Rng) {
    for (p, plant) in grid.plants.iter().enumerate() {
        let Some(full_m) = plant.reservoir.as_ref().and_then(|r| r.full_m) else {
            continue;
        };
        let reading = &mut state.plants[p];
        if reading.reservoir_level_m.is_some() && rng.chance(0.6) {
            let over = if rng.chance(0.5) {
                0.0
            } else {
                rng.mw(0.0, 20.0)
            };
            reading.reservoir_level_m = Some(full_m + over);
        }
    }
}

/// Gives half the random grids one to three import offers (neighbor to domestic),
/// appended after their other contracts: any tier, windows, tariffs, no floor (an
/// import has none). Draws from `rng` alone, like [`random_full_levels`].
pub fn random_import_offers(rng: &mut Rng, tree: &mut Value) {
    let ids = |kind: &str| -> Vec<String> {
        let areas = tree["areas"].as_array().into_iter().flatten();
        areas
            .filter(|a| a["kind"] == kind)
            .filter_map(|a| a["id"].as_str().map(str::to_string))
            .collect()
    };
    let (domestic, neighbors) = (ids("domestic"), ids("neighbor"));
    if domestic.is_empty() || neighbors.is_empty() || !rng.chance(0.5) {
        return;
    }
    let offers: Vec<Value> = (0..rng.int(1, 3))
        .map(|i| {
            let mut offer = json!({
                "id": format!("i{i}"),
                "from": rng.pick(&neighbors),
                "to": rng.pick(&domestic),
                "firmness": if rng.chance(0.5) { "firm" } else { "non_firm" },
                "tier": rng.int(1, 3),
                "max_mw": rng.mw(5.0, 300.0),
            });
            if rng.chance(0.3) {
                let day = |rng: &mut Rng| format!("{:02}-{:02}", rng.int(1, 12), rng.int(1, 28));
                offer["window"] = json!({"start": day(rng), "end": day(rng)});
            }
            offer
        })
        .collect();
    if let Some(contracts) = tree["contracts"].as_array_mut() {
        contracts.extend(offers);
    }
}

/// Nominates every import offer, as [`random_state`] does the other contracts, from
/// `rng` alone; with `drift`, as [`drift`] does (a new figure three times in ten).
pub fn nominate_imports(grid: &Grid, state: &mut Telemetry, rng: &mut Rng, drift: bool) {
    for (c, contract) in grid.contracts.iter().enumerate() {
        if contract.kind != ContractKind::Import {
            continue;
        }
        state.nominations[c] = match (drift, rng.int(0, 9)) {
            (true, 3..) => continue,
            (false, 0..=2) => Nomination::None,
            (false, 3..=5) => Nomination::Max,
            _ => Nomination::Mw(rng.mw(0.0, contract.max_mw)),
        };
    }
}

/// Builds a grid from a configuration tree, panicking with every error.
pub fn build(tree: &Value) -> Arc<Grid> {
    match vakhsh::config::from_value(tree) {
        Ok(config) => Arc::new(config.grid),
        Err(e) => panic!("{e}\n{tree:#}"),
    }
}

/// A random instant in 2027.
pub fn random_ts(rng: &mut Rng) -> Timestamp {
    let text = format!(
        "2027-{:02}-{:02}T{:02}:{:02}:00Z",
        rng.int(1, 12),
        rng.int(1, 28),
        rng.int(0, 23),
        rng.int(0, 59)
    );
    Timestamp::parse(&text).expect("a valid instant")
}

/// A random snapshot: levels below and above the curves, inflows or none, outages,
/// deratings, every kind of nomination.
pub fn random_state(grid: &Grid, rng: &mut Rng) -> Telemetry {
    let mut state = Telemetry::new(grid);
    for (p, plant) in grid.plants.iter().enumerate() {
        state.plants[p] = PlantReading {
            output_mw: 0.0,
            available_mw: if rng.chance(0.1) {
                0.0
            } else {
                rng.mw(0.0, plant.capacity_mw)
            },
            reservoir_level_m: rng.chance(0.7).then(|| rng.mw(70.0, 230.0)),
            inflow_mw: rng.chance(0.6).then(|| rng.mw(0.0, plant.capacity_mw)),
        };
    }
    for l in 0..grid.loads.len() {
        state.loads[l] = if rng.chance(0.1) {
            0.0
        } else {
            rng.mw(0.0, 300.0)
        };
    }
    for d in 0..grid.data_centers.len() {
        state.data_centers[d].firm_mw = rng.mw(0.0, 200.0);
        state.data_centers[d].flexible_mw = rng.mw(0.0, 200.0);
    }
    for (l, line) in grid.lines.iter().enumerate() {
        state.lines[l] = random_line(rng, line.capacity_mw.max(line.reverse_capacity_mw));
    }
    // Import offers are nominated by `nominate_imports`, from a generator of their own.
    let others = grid.contracts.iter().enumerate();
    for (c, contract) in others.filter(|(_, k)| k.kind != ContractKind::Import) {
        state.nominations[c] = match rng.int(0, 3) {
            0 => Nomination::None,
            1 => Nomination::Max,
            _ => Nomination::Mw(rng.mw(0.0, contract.max_mw)),
        };
    }
    state
}

fn random_line(rng: &mut Rng, capacity: f64) -> LineReading {
    LineReading {
        in_service: !rng.chance(0.1),
        derated_mw: rng.chance(0.2).then(|| rng.mw(0.0, capacity)),
    }
}

/// The next snapshot: demand and availability drift, and a few lines change status.
pub fn drift(grid: &Grid, state: &Telemetry, rng: &mut Rng) -> Telemetry {
    let mut next = state.clone();
    for (p, plant) in grid.plants.iter().enumerate() {
        if rng.chance(0.5) {
            next.plants[p].available_mw = rng.mw(0.0, plant.capacity_mw);
        }
    }
    for l in 0..grid.loads.len() {
        if rng.chance(0.5) {
            next.loads[l] = rng.mw(0.0, 300.0);
        }
    }
    for d in 0..grid.data_centers.len() {
        if rng.chance(0.5) {
            next.data_centers[d].firm_mw = rng.mw(0.0, 200.0);
            next.data_centers[d].flexible_mw = rng.mw(0.0, 200.0);
        }
    }
    for (l, line) in grid.lines.iter().enumerate() {
        if rng.chance(0.2) {
            next.lines[l] = random_line(rng, line.capacity_mw.max(line.reverse_capacity_mw));
        }
    }
    let others = grid.contracts.iter().enumerate();
    for (c, contract) in others.filter(|(_, k)| k.kind != ContractKind::Import) {
        if rng.chance(0.3) {
            next.nominations[c] = Nomination::Mw(rng.mw(0.0, contract.max_mw));
        }
    }
    next
}

/// A deterministic large network for the benches: 80 domestic areas and 20
/// neighbors, 300 lines, 500 loads, 160 plants, 30 contracts and 8 data centers, on a
/// January evening where demand runs slightly ahead of what the plants offer.
pub fn large(seed: u64) -> (Arc<Grid>, Telemetry, Timestamp) {
    let mut rng = Rng::new(seed);
    let (nd, nn) = (80, 20);
    let areas: Vec<Value> = (0..nd + nn)
        .map(
            |a| json!({"id": area_id(nd, a), "kind": if a < nd { "domestic" } else { "neighbor" }}),
        )
        .collect();
    let plants: Vec<Value> = (0..160)
        .map(|p| {
            let capacity = rng.mw(50.0, 600.0);
            let mut plant = json!({
                "id": format!("p{p}"),
                "area": area_id(nd, p % nd),
                "capacity_mw": capacity,
                "unit_mw": (capacity / 4.0).round(),
                "min_mw": (capacity / 20.0).round(),
            });
            if p % 3 == 0 {
                let curve: Vec<f64> = (0..12).map(|_| rng.mw(140.0, 160.0)).collect();
                plant["reservoir"] = json!({"floor_m": 120.0, "rule_curve_m": curve});
            }
            plant
        })
        .collect();
    let loads: Vec<Value> = (0..500)
        .map(|l| {
            let class = match l % 10 {
                0 => "essential",
                1..=5 => "residential",
                6..=8 => "industrial",
                _ => "other",
            };
            let tier = match class {
                "essential" => 1,
                "residential" => 2,
                "industrial" => rng.int(4, 5),
                _ => 6,
            };
            json!({"id": format!("l{l}"), "area": area_id(nd, rng.int(0, nd - 1)),
                   "tier": tier, "class": class})
        })
        .collect();
    let data_centers: Vec<Value> = (0..8)
        .map(|d| {
            json!({"id": format!("dc{d}"), "area": area_id(nd, rng.int(0, nd - 1)),
                        "firm_tier": 4, "flexible_tier": 6})
        })
        .collect();
    let mut ends = Vec::new();
    for a in 1..nd {
        ends.push((rng.int(0, a - 1), a));
    }
    for n in nd..nd + nn {
        ends.push((rng.int(0, nd - 1), n));
    }
    while ends.len() < 300 {
        let a = rng.int(0, nd - 1);
        let b = rng.int(0, nd + nn - 1);
        if a != b {
            ends.push((a, b));
        }
    }
    let lines: Vec<Value> = ends
        .iter()
        .enumerate()
        .map(|(l, &(a, b))| {
            let capacity = rng.mw(200.0, 1500.0);
            json!({
                "id": format!("x{l}"),
                "from": area_id(nd, a),
                "to": area_id(nd, b),
                "capacity_mw": capacity,
                "reverse_capacity_mw": if b >= nd && l % 2 == 0 { 0.0 } else { capacity },
                "loss_fraction": rng.mw(5.0, 50.0) / 1000.0,
                "ramp_mw_per_min": if l % 4 == 0 { 0.0 } else { rng.mw(20.0, 300.0) },
            })
        })
        .collect();
    let contracts: Vec<Value> = (0..30)
        .map(|k| {
            let to = nd + rng.int(0, nn - 1);
            let from = if k % 5 == 4 {
                nd + (to - nd + 1 + rng.int(0, nn - 2)) % nn
            } else {
                rng.int(0, nd - 1)
            };
            let max = rng.mw(50.0, 400.0);
            let mut contract = json!({
                "id": format!("k{k}"), "from": area_id(nd, from), "to": area_id(nd, to),
                "firmness": if k % 2 == 0 { "firm" } else { "non_firm" },
                "tier": if k % 2 == 0 { 4 } else { 6 }, "max_mw": max,
            });
            if k % 6 == 0 {
                contract["floor_mw"] = json!((max / 5.0).round());
                contract["floor_tier"] = json!(1);
            }
            if k % 7 == 3 {
                contract["window"] = json!({"start": "05-01", "end": "09-30"});
            }
            contract
        })
        .collect();
    let tree = json!({
        "areas": areas, "plants": plants, "loads": loads, "data_centers": data_centers,
        "lines": lines, "contracts": contracts,
        "reserve": {"tier": 3, "min_mw": 300, "largest_unit": true, "fraction_of_demand": 0.05},
        "states": {"alert_margin_mw": 200, "hold": "15m"},
    });
    let grid = build(&tree);
    let mut state = Telemetry::new(&grid);
    for (p, plant) in grid.plants.iter().enumerate() {
        state.plants[p] = PlantReading {
            output_mw: 0.0,
            available_mw: rng.mw(0.6, 0.95) * plant.capacity_mw,
            reservoir_level_m: plant.reservoir.as_ref().map(|_| rng.mw(130.0, 170.0)),
            inflow_mw: plant
                .reservoir
                .as_ref()
                .map(|_| rng.mw(0.1, 0.4) * plant.capacity_mw),
        };
    }
    for l in 0..grid.loads.len() {
        state.loads[l] = rng.mw(20.0, 80.0);
    }
    for d in 0..grid.data_centers.len() {
        state.data_centers[d].firm_mw = rng.mw(50.0, 150.0);
        state.data_centers[d].flexible_mw = rng.mw(20.0, 100.0);
    }
    for l in 0..grid.lines.len() {
        if l % 50 == 7 {
            state.lines[l].in_service = false;
        } else if l % 20 == 3 {
            state.lines[l].derated_mw = Some(150.0);
        }
    }
    for c in 0..grid.contracts.len() {
        state.nominations[c] = if c % 3 == 0 {
            Nomination::Max
        } else {
            Nomination::Mw((grid.contracts[c].max_mw * 0.6).round())
        };
    }
    let ts = Timestamp::parse("2027-01-15T17:00:00Z").expect("a valid instant");
    (grid, state, ts)
}
