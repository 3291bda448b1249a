//! The built-in simulator: a deterministic, seeded generator of realistic telemetry.
//!
//! `vakhsh simulate` and the quick-start daemon both read it, so a new user sees the
//! scheduler work with no SCADA behind it, and an engineer can reproduce a day
//! exactly from (configuration, scenario, seed, start). It is generic over any
//! configured grid: behaviour is derived from attributes (reservoir or not, load
//! class, data-center capacity, contract firmness and window), never from ids.
//!
//! Determinism: one ChaCha8 stream drawn in a fixed order, no hash-map iteration, no
//! wall clock, only exactly-rounded arithmetic (see [`shape`]), and figures printed
//! as fixed three-decimal numbers. The scenario design and its figures are written
//! down in `docs/reference-grid.md`.

mod datacenter;
mod feed;
mod shape;

pub use feed::{live, write_log};

use crate::grid::{ContractKind, Firmness, Grid, LoadClass, Window};
use crate::time::Timestamp;
use datacenter::DataCenterSim;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use shape::{Ar1, Profile, between, bound_millis, millis, push_fixed, uniform};
use std::fmt::Write;

/// A named set of conditions the simulator reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// A January in which river flow is a tenth of summer's and the country runs short.
    WinterShortage,
    /// A July of surplus water with the CASA-1000 window open.
    SummerSurplus,
}

impl Scenario {
    pub const NAMES: [&str; 2] = ["winter-shortage", "summer-surplus"];

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "winter-shortage" => Some(Scenario::WinterShortage),
            "summer-surplus" => Some(Scenario::SummerSurplus),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scenario::WinterShortage => Self::NAMES[0],
            Scenario::SummerSurplus => Self::NAMES[1],
        }
    }

    /// Where a run starts when the user gives no start: a Monday midnight (UTC) in the
    /// month the scenario is about, so the rule curves and contract windows that
    /// month selects are the ones the scenario exercises.
    pub fn default_start(self) -> Timestamp {
        let text = match self {
            Scenario::WinterShortage => "2027-01-11T00:00:00Z",
            Scenario::SummerSurplus => "2027-07-12T00:00:00Z",
        };
        Timestamp::parse(text).unwrap_or_default()
    }

    fn params(self) -> Params {
        match self {
            Scenario::WinterShortage => Params {
                winter: true,
                storage_inflow: 0.12,
                river_flow: (0.25, 0.40),
                maintenance: 0.25,
                level: [1.0, 1.0, 1.0, 1.0],
                weather_sensitivity: [0.02, 0.05, 0.0, 0.02],
                outages_per_day: 4.0,
                deratings_per_day: 1.0,
            },
            Scenario::SummerSurplus => Params {
                winter: false,
                storage_inflow: 1.2,
                river_flow: (0.98, 1.10),
                maintenance: 0.10,
                level: [0.75, 0.5, 0.9, 0.7],
                weather_sensitivity: [0.01, 0.04, 0.0, 0.02],
                outages_per_day: 3.0,
                deratings_per_day: 1.5,
            },
        }
    }
}

/// What a scenario varies; the figures are explained in `docs/reference-grid.md`.
#[derive(Debug, Clone, Copy)]
struct Params {
    winter: bool,
    /// Natural inflow of storage plants as a share of their capacity.
    storage_inflow: f64,
    /// Range of river flow (share of capacity) drawn for each run-of-river plant.
    river_flow: (f64, f64),
    /// Share of each storage plant's units out for maintenance.
    maintenance: f64,
    /// Demand level relative to the winter peak, by class (essential, residential,
    /// industrial, other).
    level: [f64; 4],
    /// How strongly each class follows the weather (cold snap or heat wave).
    weather_sensitivity: [f64; 4],
    outages_per_day: f64,
    deratings_per_day: f64,
}

/// The scenarios are set at UTC+5 (Central Asia): demand shapes are in local hours.
const LOCAL_OFFSET_S: i64 = 5 * 3600;
/// The `source` of every simulated event.
pub const SOURCE: &str = "sim";
const NOMINATION_PERIOD_S: i64 = 900;
/// Live storage between dead level and the top of the rule curve, in hours of full
/// output: an estimate that turns MW of net draw into metres (Nurek holds about
/// 4.5 km³ of live storage at ~230 m of head, roughly 800–900 h at 3 GW).
const STORAGE_HOURS: f64 = 800.0;
/// The reservoir that crosses its rule curve first does so after about this many hours
/// of winter drawdown; the others sit this many hours apart behind it.
const FIRST_CROSSING_H: f64 = 1.0;
const NEXT_CROSSING_H: f64 = 72.0;
/// Once held at its rule curve, a plant is released only this far above it.
const RELEASE_MARGIN_M: f64 = 0.05;
/// Losses the domestic side supplies on top of its demand, for the plausible dispatch.
const LOSS_ALLOWANCE: f64 = 1.03;

fn class_index(class: LoadClass) -> usize {
    match class {
        LoadClass::Essential => 0,
        LoadClass::Residential => 1,
        LoadClass::Industrial => 2,
        LoadClass::Other => 3,
    }
}

/// Daily shapes in local hours, by season and class: winter households peak in the
/// evening with a morning shoulder (electric heating); summer households peak at
/// midday (cooling) with a late-evening shoulder; industry runs flat with a day
/// shift; commerce follows office hours.
fn profiles(winter: bool) -> [Profile; 4] {
    static W_ESSENTIAL: [(f64, f64, f64); 2] = [(11.0, 7.0, 0.15), (19.0, 3.0, 0.08)];
    static W_RESIDENTIAL: [(f64, f64, f64); 2] = [(8.0, 3.0, 0.25), (19.0, 4.0, 0.40)];
    static S_ESSENTIAL: [(f64, f64, f64); 1] = [(14.0, 6.0, 0.2)];
    static S_RESIDENTIAL: [(f64, f64, f64); 2] = [(14.5, 5.0, 0.45), (21.0, 3.0, 0.2)];
    static INDUSTRIAL: [(f64, f64, f64); 1] = [(13.0, 7.0, 0.12)];
    static OTHER: [(f64, f64, f64); 1] = [(13.5, 6.0, 0.55)];
    if winter {
        [
            Profile::new(0.8, &W_ESSENTIAL),
            Profile::new(0.62, &W_RESIDENTIAL),
            Profile::new(0.88, &INDUSTRIAL),
            Profile::new(0.5, &OTHER),
        ]
    } else {
        [
            Profile::new(0.8, &S_ESSENTIAL),
            Profile::new(0.55, &S_RESIDENTIAL),
            Profile::new(0.88, &INDUSTRIAL),
            Profile::new(0.45, &OTHER),
        ]
    }
}

/// A plant's water and machines.
struct PlantSim {
    id: String,
    capacity_mw: f64,
    capacity_m: i64,
    min_mw: f64,
    /// Capacity minus units in maintenance, for storage plants.
    machine_mw: f64,
    /// Natural inflow as a share of capacity (river flow for run-of-river plants).
    flow: f64,
    flow_noise: Ar1,
    output_noise: Ar1,
    storage: Option<StorageSim>,
    /// Figures of the current step, kept between the passes of `next_step`.
    inflow_mw: f64,
    available_mw: f64,
    output_mw: f64,
}

struct StorageSim {
    floor_m: f64,
    rule_curve_m: [f64; 12],
    ceiling_m: f64,
    mwh_per_m: f64,
    level_m: f64,
    /// The simulated operator keeps output at the inflow while this is set: the
    /// reservoir touched its rule curve and may not be drawn further.
    held: bool,
}

struct LoadSim {
    id: String,
    peak_mw: f64,
    class: usize,
    noise: Ar1,
}

#[derive(Clone, Copy)]
enum LineCondition {
    Normal,
    Out { left_s: i64 },
    Derated { left_s: i64 },
}

struct LineSim {
    id: String,
    capacity_mw: f64,
    capacity_m: i64,
    condition: LineCondition,
}

struct ContractSim {
    id: String,
    max_mw: f64,
    max_m: i64,
    kind: ContractKind,
    firmness: Firmness,
    window: Option<Window>,
    /// The latest nomination, counted in the plausible dispatch while in window.
    nominated_mw: f64,
}

/// Generates one second of telemetry per call; see the module documentation.
pub struct Simulator {
    params: Params,
    profiles: [Profile; 4],
    rng: ChaCha8Rng,
    ts: Timestamp,
    first: bool,
    /// The numbering's epoch, written only when set (a live run's).
    epoch: Option<u64>,
    seq: u64,
    weather: Ar1,
    plants: Vec<PlantSim>,
    loads: Vec<LoadSim>,
    data_centers: Vec<DataCenterSim>,
    lines: Vec<LineSim>,
    contracts: Vec<ContractSim>,
    /// Requested domestic demand of the current step (loads and data centers).
    demand_mw: f64,
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

impl Simulator {
    /// Marks every event with `epoch`: a live simulator takes a new one at each start,
    /// so that its numbering, which starts again at 1, is never taken for repeats of an
    /// earlier run's.
    pub fn number_in_epoch(&mut self, epoch: u64) {
        self.epoch = Some(epoch);
    }

    pub fn new(grid: &Grid, scenario: Scenario, seed: u64, start: Timestamp) -> Self {
        let params = scenario.params();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let month = start.month() as usize;

        let mut area_capacity = vec![0.0; grid.areas.len()];
        for p in &grid.plants {
            area_capacity[p.area] += p.capacity_mw;
        }
        let total_capacity: f64 = area_capacity.iter().sum();
        let domestic_areas = area_capacity.iter().filter(|c| **c > 0.0).count().max(1);
        // A load-only area is sized as an average area.
        let sizing_capacity = |area: usize| {
            if area_capacity[area] > 0.0 {
                area_capacity[area]
            } else {
                total_capacity / domestic_areas as f64
            }
        };

        let mut plants = Vec::with_capacity(grid.plants.len());
        for p in &grid.plants {
            let units = if p.unit_mw > 0.0 {
                (p.capacity_mw / p.unit_mw).round().max(1.0)
            } else {
                1.0
            };
            let flow = match p.reservoir {
                Some(_) => params.storage_inflow,
                None => between(&mut rng, params.river_flow.0, params.river_flow.1),
            };
            let (machine_mw, storage) = match &p.reservoir {
                Some(r) => {
                    let out = (units * params.maintenance).round().min(units - 1.0);
                    let machine_mw = (p.capacity_mw - out * p.unit_mw).max(0.0);
                    let top = r.rule_curve_m.iter().copied().fold(r.floor_m, f64::max);
                    let ceiling_m = top + 0.02 * (top - r.floor_m);
                    let mwh_per_m =
                        STORAGE_HOURS * p.capacity_mw / (ceiling_m - r.floor_m).max(1.0);
                    let storage = StorageSim {
                        floor_m: r.floor_m,
                        rule_curve_m: r.rule_curve_m,
                        ceiling_m,
                        mwh_per_m,
                        level_m: 0.0,
                        held: false,
                    };
                    (machine_mw, Some(storage))
                }
                None => (p.capacity_mw, None),
            };
            plants.push(PlantSim {
                id: json_string(&p.id),
                capacity_mw: p.capacity_mw,
                capacity_m: bound_millis(p.capacity_mw),
                min_mw: p.min_mw,
                machine_mw,
                flow,
                flow_noise: Ar1::new(&mut rng, 0.03, 2.0 * 3600.0),
                output_noise: Ar1::new(&mut rng, 0.005, 120.0),
                storage,
                inflow_mw: 0.0,
                available_mw: 0.0,
                output_mw: 0.0,
            });
        }
        Self::place_reservoirs(&mut plants, &params, month);

        let mut loads = Vec::with_capacity(grid.loads.len());
        let mut class_weight = vec![0.0; grid.areas.len()];
        for l in &grid.loads {
            class_weight[l.area] += CLASS_SHARE[class_index(l.class)];
        }
        for l in &grid.loads {
            let class = class_index(l.class);
            // Without a configured size, a hydro area's winter peak is taken as three
            // quarters of its plant capacity, split between its loads by class.
            let peak_mw = l.peak_mw.unwrap_or_else(|| {
                0.75 * sizing_capacity(l.area) * CLASS_SHARE[class] / class_weight[l.area]
            });
            loads.push(LoadSim {
                id: json_string(&l.id),
                peak_mw,
                class,
                noise: Ar1::new(&mut rng, 0.015, 15.0 * 60.0),
            });
        }

        let mut data_centers = Vec::with_capacity(grid.data_centers.len());
        for d in &grid.data_centers {
            let capacity_mw = d
                .capacity_mw
                .unwrap_or_else(|| (0.1 * sizing_capacity(d.area)).max(10.0));
            data_centers.push(DataCenterSim::new(
                json_string(&d.id),
                capacity_mw,
                d.capacity_mw.map(bound_millis),
                &mut rng,
            ));
        }

        let lines = grid
            .lines
            .iter()
            .map(|l| LineSim {
                id: json_string(&l.id),
                capacity_mw: l.capacity_mw,
                capacity_m: bound_millis(l.capacity_mw),
                condition: LineCondition::Normal,
            })
            .collect();
        let contracts = grid
            .contracts
            .iter()
            .map(|c| ContractSim {
                id: json_string(&c.id),
                max_mw: c.max_mw,
                max_m: bound_millis(c.max_mw),
                kind: c.kind,
                firmness: c.firmness,
                window: c.window,
                nominated_mw: 0.0,
            })
            .collect();

        Simulator {
            params,
            profiles: profiles(params.winter),
            weather: Ar1::new(&mut rng, 1.0, 6.0 * 3600.0),
            rng,
            ts: start,
            first: true,
            epoch: None,
            seq: 0,
            plants,
            loads,
            data_centers,
            lines,
            contracts,
            demand_mw: 0.0,
        }
    }

    /// Starting levels. Winter: every reservoir just above the month's rule curve, the
    /// smallest one close enough to cross within the first hour of drawdown at full
    /// availability and the others spaced days behind it, so a long run sees the
    /// shortage deepen. Summer: halfway between the curve and the top, filling.
    fn place_reservoirs(plants: &mut [PlantSim], params: &Params, month: usize) {
        let mut storage: Vec<usize> = (0..plants.len())
            .filter(|&i| plants[i].storage.is_some())
            .collect();
        storage.sort_by(|&a, &b| plants[a].capacity_mw.total_cmp(&plants[b].capacity_mw));
        for (rank, &i) in storage.iter().enumerate() {
            let plant = &mut plants[i];
            let inflow = plant.flow * plant.capacity_mw;
            let draw_mw = (plant.machine_mw - inflow).max(0.0);
            let Some(s) = plant.storage.as_mut() else {
                continue;
            };
            let curve = s.rule_curve_m[month - 1].max(s.floor_m);
            s.level_m = if params.winter {
                let hours = if rank == 0 {
                    FIRST_CROSSING_H
                } else {
                    NEXT_CROSSING_H * rank as f64
                };
                curve + draw_mw * hours / s.mwh_per_m + 0.001
            } else if s.ceiling_m > curve {
                curve + 0.5 * (s.ceiling_m - curve)
            } else {
                curve + 0.5
            };
            s.ceiling_m = s.ceiling_m.max(s.level_m);
        }
    }

    /// Appends the events of one second of event time to `out` (JSON, one event a
    /// string, no newline) and returns its `ts`: `start` on the first call, one second
    /// later on each following call. Event time is the simulator's own clock, so a
    /// caller may pace it to the wall clock or run it flat out for a log file.
    pub fn next_step(&mut self, out: &mut Vec<String>) -> Timestamp {
        let ts = self.ts;
        let ts_text = ts.to_string();
        let seconds = ts.as_micros().div_euclid(1_000_000);
        let local = seconds + LOCAL_OFFSET_S;
        let hour = local.rem_euclid(86_400) as f64 / 3600.0;
        // 1970-01-01 was a Thursday; 0 = Sunday.
        let weekday = (local.div_euclid(86_400) + 4).rem_euclid(7);
        let weekend = weekday == 0 || weekday == 6;
        let month = ts.month() as usize;

        self.lines_step(&ts_text, out);
        if self.first || seconds.rem_euclid(NOMINATION_PERIOD_S) == 0 {
            self.nominate(ts, &ts_text, out);
        }
        let weather = self.weather.step(&mut self.rng);
        self.demand_step(&ts_text, hour, weekend, weather, out);
        self.generation_step(&ts_text, month, out);

        self.first = false;
        self.ts = ts.saturating_add(std::time::Duration::from_secs(1));
        ts
    }

    fn header(&mut self, kind: &str, ts_text: &str) -> String {
        self.seq += 1;
        let mut line = String::with_capacity(160);
        let _ = write!(
            line,
            "{{\"type\":\"{kind}\",\"ts\":\"{ts_text}\",\"source\":\"{SOURCE}\","
        );
        if let Some(epoch) = self.epoch {
            let _ = write!(line, "\"epoch\":{epoch},");
        }
        let _ = write!(line, "\"seq\":{}", self.seq);
        line
    }

    fn lines_step(&mut self, ts_text: &str, out: &mut Vec<String>) {
        let n = self.lines.len().max(1) as f64;
        let p_out = self.params.outages_per_day / (86_400.0 * n);
        let p_derate = self.params.deratings_per_day / (86_400.0 * n);
        for i in 0..self.lines.len() {
            let draw = uniform(&mut self.rng);
            let line = &mut self.lines[i];
            // (in_service, derated capacity in thousandths) when the status changes.
            let mut report: Option<(bool, Option<i64>)> = None;
            match line.condition {
                LineCondition::Normal => {
                    if draw < p_out {
                        let left_s = between(&mut self.rng, 3.0 * 60.0, 25.0 * 60.0) as i64;
                        line.condition = LineCondition::Out { left_s };
                        report = Some((false, None));
                    } else if draw < p_out + p_derate {
                        let left_s = between(&mut self.rng, 30.0 * 60.0, 120.0 * 60.0) as i64;
                        let share = between(&mut self.rng, 0.5, 0.8);
                        line.condition = LineCondition::Derated { left_s };
                        let cap = millis(line.capacity_mw * share).min(line.capacity_m);
                        report = Some((true, Some(cap)));
                    } else if self.first {
                        report = Some((true, None));
                    }
                }
                LineCondition::Out { left_s } | LineCondition::Derated { left_s } => {
                    if left_s <= 1 {
                        line.condition = LineCondition::Normal;
                        report = Some((true, None));
                    } else {
                        line.condition = match line.condition {
                            LineCondition::Out { .. } => LineCondition::Out { left_s: left_s - 1 },
                            _ => LineCondition::Derated { left_s: left_s - 1 },
                        };
                    }
                }
            }
            if let Some((in_service, capacity)) = report {
                let mut text = self.header("line_status", ts_text);
                let line = &self.lines[i];
                let _ = write!(text, ",\"line\":{},\"in_service\":{in_service}", line.id);
                if let Some(cap) = capacity {
                    text.push_str(",\"capacity_mw\":");
                    push_fixed(&mut text, cap);
                }
                text.push('}');
                out.push(text);
            }
        }
    }

    /// Nominations every quarter hour. In winter the counterparties ask for part of
    /// their maximum (firm more than non-firm) and the scheduler curtails; in summer
    /// firm contracts ask for their maximum and non-firm ones for most of it.
    /// Out-of-window contracts ask for a little, as a counterparty probing the window
    /// would, so the scheduler's `out_of_window` is exercised.
    fn nominate(&mut self, ts: Timestamp, ts_text: &str, out: &mut Vec<String>) {
        for i in 0..self.contracts.len() {
            let c = &self.contracts[i];
            let in_window = c.window.is_none_or(|w| w.contains(ts));
            let share = match (in_window, self.params.winter, c.firmness) {
                (false, _, _) => between(&mut self.rng, 0.1, 0.3),
                (true, true, Firmness::Firm) => between(&mut self.rng, 0.6, 1.0),
                (true, true, Firmness::NonFirm) => between(&mut self.rng, 0.3, 0.7),
                (true, false, Firmness::Firm) => 1.0,
                (true, false, Firmness::NonFirm) => between(&mut self.rng, 0.5, 0.9),
            };
            // Counterparties nominate whole megawatts.
            let mw = (c.max_mw * share).round();
            let mw_m = millis(mw).min(c.max_m);
            let nominated = if in_window { mw_m as f64 / 1000.0 } else { 0.0 };
            self.contracts[i].nominated_mw = nominated;
            let mut text = self.header("nomination", ts_text);
            let _ = write!(text, ",\"contract\":{},\"mw\":", self.contracts[i].id);
            push_fixed(&mut text, mw_m);
            text.push('}');
            out.push(text);
        }
    }

    fn demand_step(
        &mut self,
        ts_text: &str,
        hour: f64,
        weekend: bool,
        weather: f64,
        out: &mut Vec<String>,
    ) {
        let mut total = 0.0;
        for i in 0..self.loads.len() {
            let noise = self.loads[i].noise.step(&mut self.rng);
            let l = &self.loads[i];
            let class = l.class;
            let week = match (weekend, class) {
                (true, 1) => 1.03,
                (true, 2) | (true, 3) => 0.85,
                _ => 1.0,
            };
            let mw = l.peak_mw
                * self.params.level[class]
                * self.profiles[class].at(hour)
                * week
                * (1.0 + self.params.weather_sensitivity[class] * weather)
                * (1.0 + noise);
            let mw_m = millis(mw);
            total += mw_m as f64 / 1000.0;
            let mut text = self.header("demand", ts_text);
            let _ = write!(text, ",\"load\":{},\"mw\":", self.loads[i].id);
            push_fixed(&mut text, mw_m);
            text.push('}');
            out.push(text);
        }
        let cooling = if self.params.winter { 1.0 } else { 1.03 };
        for i in 0..self.data_centers.len() {
            let (firm_m, flexible_m) = self.data_centers[i].step(&mut self.rng, cooling);
            total += (firm_m + flexible_m) as f64 / 1000.0;
            let mut text = self.header("dc_demand", ts_text);
            let _ = write!(text, ",\"site\":{},\"firm_mw\":", self.data_centers[i].id);
            push_fixed(&mut text, firm_m);
            text.push_str(",\"flexible_mw\":");
            push_fixed(&mut text, flexible_m);
            text.push('}');
            out.push(text);
        }
        self.demand_mw = total;
    }

    /// Water, availability and a plausible dispatch: run-of-river plants run flat out
    /// on the river, storage plants share the rest of demand plus in-window exports in
    /// proportion to their availability — the same order the scheduler uses, so the
    /// reported output is near what it would set.
    fn generation_step(&mut self, ts_text: &str, month: usize, out: &mut Vec<String>) {
        let exports: f64 = self
            .contracts
            .iter()
            .map(|c| match c.kind {
                ContractKind::Export => c.nominated_mw,
                ContractKind::Transit => c.nominated_mw * (LOSS_ALLOWANCE - 1.0),
            })
            .sum();
        let target = self.demand_mw * LOSS_ALLOWANCE + exports;

        let mut run_of_river = 0.0;
        let mut storage_available = 0.0;
        for p in &mut self.plants {
            let noise = p.flow_noise.step(&mut self.rng);
            p.inflow_mw = (p.flow * (1.0 + noise) * p.capacity_mw).max(0.0);
            match &mut p.storage {
                None => {
                    p.available_mw = p.inflow_mw.min(p.capacity_mw);
                    p.output_mw = p.available_mw * 0.98;
                    run_of_river += p.output_mw;
                }
                Some(s) => {
                    let level_m = millis(s.level_m) as f64 / 1000.0;
                    let curve = s.rule_curve_m[month - 1];
                    if level_m < curve || level_m < s.floor_m {
                        s.held = true;
                    } else if level_m >= curve.max(s.floor_m) + RELEASE_MARGIN_M {
                        s.held = false;
                    }
                    p.available_mw = p.machine_mw.min(p.capacity_mw);
                    storage_available += p.dispatchable();
                }
            }
        }
        let share = if storage_available > 0.0 {
            ((target - run_of_river) / storage_available).clamp(0.0, 1.0)
        } else {
            0.0
        };
        for i in 0..self.plants.len() {
            let noise = self.plants[i].output_noise.step(&mut self.rng);
            let p = &mut self.plants[i];
            if p.storage.is_some() {
                let limit = p.dispatchable();
                let wanted = limit * share * (1.0 + noise);
                p.output_mw = wanted.max(p.min_mw.min(limit)).min(limit);
            }
            if let Some(s) = &mut p.storage {
                let net_mwh = (p.inflow_mw - p.output_mw) / 3600.0;
                s.level_m = (s.level_m + net_mwh / s.mwh_per_m).min(s.ceiling_m);
            }
            let mut text = self.header("generation", ts_text);
            let p = &self.plants[i];
            let _ = write!(text, ",\"plant\":{},\"output_mw\":", p.id);
            push_fixed(&mut text, millis(p.output_mw).min(p.capacity_m));
            text.push_str(",\"available_mw\":");
            push_fixed(&mut text, millis(p.available_mw).min(p.capacity_m));
            if let Some(s) = &p.storage {
                text.push_str(",\"reservoir_level_m\":");
                push_fixed(&mut text, millis(s.level_m));
            }
            text.push_str(",\"inflow_mw\":");
            push_fixed(&mut text, millis(p.inflow_mw).min(p.capacity_m));
            text.push('}');
            out.push(text);
        }
    }
}

/// How a hydro area's demand divides between classes when loads carry no `peak_mw`.
const CLASS_SHARE: [f64; 4] = [0.15, 0.55, 0.25, 0.10];

impl PlantSim {
    /// What the simulated operator may take from a storage plant: its machines, or only
    /// the inflow (as reported) while the reservoir is held at its rule curve. Output
    /// noise only ever pulls below this limit, so a held reservoir creeps up by
    /// millimetres a day and stays just under its curve, as an operator holding the
    /// curve would keep it.
    fn dispatchable(&self) -> f64 {
        match &self.storage {
            Some(s) if s.held => self.available_mw.min(self.inflow_mw.min(self.capacity_mw)),
            _ => self.available_mw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::time::Duration;

    fn default_grid() -> Grid {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml");
        crate::config::load(&path).expect("default config").grid
    }

    fn run(
        grid: &Grid,
        scenario: Scenario,
        seed: u64,
        start: Timestamp,
        steps: usize,
    ) -> Vec<Vec<String>> {
        let mut sim = Simulator::new(grid, scenario, seed, start);
        (0..steps)
            .map(|_| {
                let mut out = Vec::new();
                sim.next_step(&mut out);
                out
            })
            .collect()
    }

    fn parse(line: &str) -> Value {
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    fn num(v: &Value, key: &str) -> f64 {
        v[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing in {v}"))
    }

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    /// Requested domestic demand and available generation of one step.
    fn balance(step: &[String]) -> (f64, f64) {
        let (mut demand, mut available) = (0.0, 0.0);
        for line in step {
            let v = parse(line);
            match v["type"].as_str().unwrap() {
                "demand" => demand += num(&v, "mw"),
                "dc_demand" => demand += num(&v, "firm_mw") + num(&v, "flexible_mw"),
                "generation" => available += num(&v, "available_mw"),
                _ => {}
            }
        }
        (demand, available)
    }

    #[test]
    fn scenario_names_round_trip_and_starts_are_in_their_season() {
        for name in Scenario::NAMES {
            assert_eq!(Scenario::from_name(name).unwrap().name(), name);
        }
        assert_eq!(Scenario::WinterShortage.default_start().month(), 1);
        assert_eq!(Scenario::SummerSurplus.default_start().month(), 7);
        assert_eq!(
            Scenario::SummerSurplus.default_start().to_string(),
            "2027-07-12T00:00:00Z"
        );
    }

    #[test]
    fn same_seed_same_bytes_other_seed_differs() {
        let grid = default_grid();
        let start = Scenario::WinterShortage.default_start();
        let a = run(&grid, Scenario::WinterShortage, 42, start, 900);
        let b = run(&grid, Scenario::WinterShortage, 42, start, 900);
        let c = run(&grid, Scenario::WinterShortage, 43, start, 900);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn every_event_is_well_formed_and_within_capacity() {
        let grid = default_grid();
        for scenario in [Scenario::WinterShortage, Scenario::SummerSurplus] {
            let start = scenario.default_start();
            let steps = run(&grid, scenario, 7, start, 2 * 3600);
            let mut last_seq = 0;
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for (i, step) in steps.iter().enumerate() {
                let ts = start
                    .saturating_add(Duration::from_secs(i as u64))
                    .to_string();
                for line in step {
                    assert!(!line.ends_with('\n'));
                    let v = parse(line);
                    assert_eq!(v["ts"], ts.as_str(), "{line}");
                    assert_eq!(v["source"], "sim");
                    let seq = v["seq"].as_u64().unwrap();
                    assert!(seq > last_seq, "{line}");
                    last_seq = seq;
                    for (key, value) in v.as_object().unwrap() {
                        if let Some(x) = value.as_f64() {
                            assert!(x.is_finite() && x >= 0.0, "{key} in {line}");
                        }
                    }
                    let kind = v["type"].as_str().unwrap().to_string();
                    match kind.as_str() {
                        "generation" => {
                            let p = &grid.plants[grid.index.plants[v["plant"].as_str().unwrap()]];
                            assert!(num(&v, "output_mw") <= p.capacity_mw, "{line}");
                            assert!(num(&v, "available_mw") <= p.capacity_mw, "{line}");
                            assert!(num(&v, "output_mw") <= num(&v, "available_mw") + 1e-9);
                            assert!(num(&v, "inflow_mw") <= p.capacity_mw, "{line}");
                            assert_eq!(v.get("reservoir_level_m").is_some(), p.reservoir.is_some());
                        }
                        "demand" => {
                            assert!(grid.index.loads.contains_key(v["load"].as_str().unwrap()));
                            assert!(num(&v, "mw") > 0.0);
                        }
                        "dc_demand" => {
                            let d = &grid.data_centers
                                [grid.index.data_centers[v["site"].as_str().unwrap()]];
                            let sum = num(&v, "firm_mw") + num(&v, "flexible_mw");
                            assert!(sum <= d.capacity_mw.unwrap(), "{line}");
                        }
                        "line_status" => {
                            let l = &grid.lines[grid.index.lines[v["line"].as_str().unwrap()]];
                            assert!(v["in_service"].is_boolean());
                            if let Some(cap) = v.get("capacity_mw") {
                                assert!(cap.as_f64().unwrap() <= l.capacity_mw, "{line}");
                            }
                        }
                        "nomination" => {
                            let k = &grid.contracts
                                [grid.index.contracts[v["contract"].as_str().unwrap()]];
                            assert!(num(&v, "mw") <= k.max_mw, "{line}");
                        }
                        other => panic!("unexpected type {other}"),
                    }
                    *counts.entry(kind).or_default() += 1;
                }
            }
            let n = steps.len();
            assert_eq!(counts["generation"], n * grid.plants.len());
            assert_eq!(counts["demand"], n * grid.loads.len());
            assert_eq!(counts["dc_demand"], n * grid.data_centers.len());
            // First step, then every quarter hour of event time.
            assert_eq!(counts["nomination"], 8 * grid.contracts.len());
            assert!(counts["line_status"] >= grid.lines.len());
            let first: Vec<Value> = steps[0].iter().map(|l| parse(l)).collect();
            let statuses = first.iter().filter(|v| v["type"] == "line_status").count();
            assert_eq!(statuses, grid.lines.len());
        }
    }

    #[test]
    fn winter_runs_short_at_the_evening_peak() {
        let grid = default_grid();
        for seed in 1..=4 {
            // 19:00 local is 14:00 UTC.
            let start = at("2027-01-11T13:55:00Z");
            let steps = run(&grid, Scenario::WinterShortage, seed, start, 600);
            for step in &steps {
                let (demand, available) = balance(step);
                assert!(
                    demand > available + 150.0,
                    "seed {seed}: demand {demand} available {available}"
                );
            }
        }
    }

    #[test]
    fn summer_has_surplus_for_exports_and_nominates_the_window_contracts() {
        let grid = default_grid();
        // The midday cooling peak.
        let start = at("2027-07-12T09:00:00Z");
        let steps: Vec<_> = (1..=4)
            .flat_map(|seed| run(&grid, Scenario::SummerSurplus, seed, start, 600))
            .collect();
        let mut nominated = BTreeMap::new();
        for step in &steps {
            let (demand, available) = balance(step);
            assert!(
                available > demand + 1000.0,
                "demand {demand} available {available}"
            );
            for v in step.iter().map(|l| parse(l)) {
                if v["type"] == "nomination" {
                    nominated.insert(v["contract"].as_str().unwrap().to_string(), num(&v, "mw"));
                }
            }
        }
        for c in grid.contracts.iter().filter(|c| c.window.is_some()) {
            assert!(c.in_window(start));
            let mw = nominated[&c.id];
            if c.firmness == Firmness::Firm {
                assert_eq!(mw, c.max_mw, "{}", c.id);
            } else {
                assert!(mw > 0.0, "{}", c.id);
            }
        }
    }

    /// (plant, level, rule-curve level) of every reading of a storage plant.
    fn levels<'a>(
        grid: &'a Grid,
        steps: &[Vec<String>],
        ts: Timestamp,
    ) -> Vec<(&'a str, f64, f64)> {
        let mut out = Vec::new();
        for v in steps.iter().flatten().map(|l| parse(l)) {
            if let Some(level) = v.get("reservoir_level_m").and_then(Value::as_f64) {
                let p = &grid.plants[grid.index.plants[v["plant"].as_str().unwrap()]];
                let r = p.reservoir.as_ref().unwrap();
                out.push((
                    p.id.as_str(),
                    level,
                    r.rule_curve_m[ts.month() as usize - 1],
                ));
            }
        }
        out
    }

    #[test]
    fn winter_reservoir_crosses_its_rule_curve_within_hours() {
        let grid = default_grid();
        let start = Scenario::WinterShortage.default_start();
        let steps = run(&grid, Scenario::WinterShortage, 1, start, 3 * 3600);
        let readings = levels(&grid, &steps, start);
        let crossed = grid
            .plants
            .iter()
            .filter(|p| p.reservoir.is_some())
            .any(|p| {
                let mine: Vec<_> = readings.iter().filter(|r| r.0 == p.id).collect();
                mine[0].1 >= mine[0].2 && mine.iter().any(|r| r.1 < r.2)
            });
        assert!(crossed);
        // Every reservoir starts at or above its curve: the crossing is the story.
        for p in grid.plants.iter().filter(|p| p.reservoir.is_some()) {
            let first = readings.iter().find(|r| r.0 == p.id).unwrap();
            assert!(first.1 >= first.2, "{}", p.id);
        }
    }

    #[test]
    fn summer_reservoirs_are_above_their_curves_and_rising() {
        let grid = default_grid();
        let start = Scenario::SummerSurplus.default_start();
        let steps = run(&grid, Scenario::SummerSurplus, 1, start, 3600);
        let readings = levels(&grid, &steps, start);
        for p in grid.plants.iter().filter(|p| p.reservoir.is_some()) {
            let mine: Vec<_> = readings.iter().filter(|r| r.0 == p.id).collect();
            assert!(mine.iter().all(|r| r.1 > r.2), "{}", p.id);
            assert!(mine.last().unwrap().1 > mine[0].1, "{}", p.id);
        }
    }

    #[test]
    fn sizes_are_derived_when_the_grid_gives_none() {
        let mut grid = default_grid();
        for l in &mut grid.loads {
            l.peak_mw = None;
        }
        for d in &mut grid.data_centers {
            d.capacity_mw = None;
        }
        let steps = run(
            &grid,
            Scenario::WinterShortage,
            3,
            Scenario::WinterShortage.default_start(),
            60,
        );
        let (demand, available) = balance(&steps[59]);
        assert!(
            demand > 0.3 * available && demand < 3.0 * available,
            "{demand} {available}"
        );
    }

    #[test]
    fn lines_trip_and_come_back() {
        let grid = default_grid();
        let mut sim = Simulator::new(
            &grid,
            Scenario::WinterShortage,
            5,
            Scenario::WinterShortage.default_start(),
        );
        let mut out = Vec::new();
        sim.lines_step("t", &mut out);
        sim.first = false;
        out.clear();
        for _ in 0..10 * 86_400 {
            sim.lines_step("t", &mut out);
        }
        let events: Vec<Value> = out.iter().map(|l| parse(l)).collect();
        let trips = events.iter().filter(|v| v["in_service"] == false).count();
        let deratings = events
            .iter()
            .filter(|v| v.get("capacity_mw").is_some())
            .count();
        for v in events.iter().filter(|v| v.get("capacity_mw").is_some()) {
            let line = &grid.lines[grid.index.lines[v["line"].as_str().unwrap()]];
            let cap = num(v, "capacity_mw");
            assert!(cap > 0.0 && cap <= line.capacity_mw, "{v}");
        }
        let restorations = events
            .iter()
            .filter(|v| v["in_service"] == true && v.get("capacity_mw").is_none())
            .count();
        // A few trips a day, an occasional derating, and every one of them ends.
        assert!((15..=70).contains(&trips), "{trips}");
        assert!((3..=25).contains(&deratings), "{deratings}");
        assert!(restorations + 2 >= trips + deratings);
    }

    /// A small grid written inline, so the golden figures below do not move when the
    /// reference grid is retuned.
    fn small_grid() -> Grid {
        let tree = serde_json::json!({
            "areas": [
                {"id": "a", "kind": "domestic"},
                {"id": "b", "kind": "domestic"},
                {"id": "x", "kind": "neighbor"}
            ],
            "plants": [
                {"id": "dam", "area": "a", "capacity_mw": 500, "unit_mw": 125, "min_mw": 20,
                 "reservoir": {"floor_m": 100, "rule_curve_m":
                    [110, 108, 106, 106, 110, 115, 120, 122, 122, 120, 116, 112]}},
                {"id": "weir", "area": "b", "capacity_mw": 80.25, "unit_mw": 20}
            ],
            "loads": [
                {"id": "homes", "area": "a", "tier": 1, "class": "residential"},
                {"id": "mill", "area": "b", "tier": 2, "class": "industrial", "peak_mw": 40}
            ],
            "data_centers": [
                {"id": "dc", "area": "b", "firm_tier": 2, "flexible_tier": 3, "capacity_mw": 50.5}
            ],
            "lines": [
                {"id": "ab", "from": "a", "to": "b", "capacity_mw": 200, "reverse_capacity_mw": 200},
                {"id": "bx", "from": "b", "to": "x", "capacity_mw": 100}
            ],
            "contracts": [
                {"id": "sale", "from": "b", "to": "x", "firmness": "non_firm", "tier": 3,
                 "max_mw": 60, "window": {"start": "05-01", "end": "09-30"}}
            ]
        });
        crate::config::from_value(&tree).expect("small grid").grid
    }

    /// Pins the exact bytes: a change here means every recorded simulation changes,
    /// on this platform or another, and must be deliberate.
    #[test]
    fn output_is_pinned_byte_for_byte() {
        let grid = small_grid();
        let steps = run(
            &grid,
            Scenario::WinterShortage,
            9,
            at("2027-01-11T00:00:00Z"),
            600,
        );
        // FNV-1a over every line of ten minutes.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for line in steps.iter().flatten() {
            for byte in line.bytes().chain([b'\n']) {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        assert_eq!(steps[0].join("\n"), GOLDEN_FIRST_STEP);
        assert_eq!(hash, GOLDEN_HASH);
    }

    const GOLDEN_FIRST_STEP: &str = concat!(
        r#"{"type":"line_status","ts":"2027-01-11T00:00:00Z","source":"sim","seq":1,"line":"ab","in_service":true}"#,
        "\n",
        r#"{"type":"line_status","ts":"2027-01-11T00:00:00Z","source":"sim","seq":2,"line":"bx","in_service":true}"#,
        "\n",
        r#"{"type":"nomination","ts":"2027-01-11T00:00:00Z","source":"sim","seq":3,"contract":"sale","mw":18.000}"#,
        "\n",
        r#"{"type":"demand","ts":"2027-01-11T00:00:00Z","source":"sim","seq":4,"load":"homes","mw":238.412}"#,
        "\n",
        r#"{"type":"demand","ts":"2027-01-11T00:00:00Z","source":"sim","seq":5,"load":"mill","mw":35.928}"#,
        "\n",
        r#"{"type":"dc_demand","ts":"2027-01-11T00:00:00Z","source":"sim","seq":6,"site":"dc","firm_mw":22.932,"flexible_mw":23.404}"#,
        "\n",
        r#"{"type":"generation","ts":"2027-01-11T00:00:00Z","source":"sim","seq":7,"plant":"dam","output_mw":299.189,"available_mw":375.000,"reservoir_level_m":110.019,"inflow_mw":58.208}"#,
        "\n",
        r#"{"type":"generation","ts":"2027-01-11T00:00:00Z","source":"sim","seq":8,"plant":"weir","output_mw":30.429,"available_mw":31.050,"inflow_mw":31.050}"#,
    );
    const GOLDEN_HASH: u64 = 0x7d33_9f76_c046_63a1;

    #[test]
    fn a_negative_peak_is_a_configuration_error() {
        let tree = serde_json::json!({
            "areas": [{"id": "a", "kind": "domestic"}],
            "loads": [{"id": "l", "area": "a", "tier": 1, "class": "other", "peak_mw": -5}]
        });
        let errors = crate::config::from_value(&tree).unwrap_err().0;
        assert!(
            errors.iter().any(|e| e.path.ends_with("peak_mw")),
            "{errors:?}"
        );
    }
}
