//! The built-in simulator: a deterministic, seeded generator of realistic telemetry.
//!
//! `vakhsh simulate` and the quick-start daemon both read it, so a new user sees the
//! scheduler work with no SCADA behind it, and an engineer can reproduce a day
//! exactly from (configuration, scenario, seed, start). It is generic over any
//! configured grid: behaviour is derived from attributes (reservoir or not, load
//! class, data-center capacity, contract firmness and window), never from ids.
//!
//! Determinism: one ChaCha8 stream drawn in a fixed order, no hash-map iteration, no
//! wall clock, only exactly-rounded arithmetic (see [`shape`]), and every figure a
//! whole number of thousandths, which [`Event::to_json`] writes with three decimals.
//! Faults (bad, late and duplicated lines) are drawn from a stream of their own, so
//! they never change the simulation; see [`faults`]; so are the voltage dips that trip
//! data centers together ([`dip`]). The scenario design and its figures are written
//! down in `docs/reference-grid.md` and `docs/scenarios.md`.

mod clock;
mod contract;
mod datacenter;
mod dip;
mod faults;
mod feed;
mod gateway;
mod knobs;
mod line;
mod load;
mod outages;
mod plant;
mod river;
mod scenario;
mod shape;
mod storage;

pub use faults::{Fault, FaultInjector};
pub use feed::{LiveSimulator, SimulatorSettings, Written, write_log};
pub use knobs::{Growth, Knobs, LineTrip};
pub use scenario::Scenario;

use crate::event::{Body, Event, Origin};
use crate::grid::{DataCenterReading, Grid, LineReading};
use crate::time::Timestamp;
use clock::Clock;
use contract::ContractSim;
use datacenter::{DataCenterSim, GrowthPlan};
use dip::Dips;
use gateway::Gateways;
use line::{LineSim, TripPlan};
use load::LoadSim;
use outages::Outages;
use plant::PlantSim;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use scenario::Params;
use shape::{Ar1, Profile, bound_millis, figure};
use std::sync::Arc;

/// The scenarios are set at UTC+5 (Central Asia): demand shapes are in local hours.
const LOCAL_OFFSET_S: i64 = 5 * 3600;
/// The `source` of every simulated event.
const SOURCE: &str = "sim";
const NOMINATION_PERIOD_S: i64 = 900;
/// Losses the domestic side supplies on top of its demand, for the plausible dispatch.
const LOSS_ALLOWANCE: f64 = 1.03;

/// Generates one second of telemetry per call; see the module documentation.
pub struct Simulator {
    params: Params,
    profiles: [Profile; 4],
    rng: ChaCha8Rng,
    ts: Timestamp,
    first: bool,
    /// [`SOURCE`], shared by every event.
    source: Arc<str>,
    /// The numbering's epoch: 0, which the wire leaves out, unless a live run set one.
    epoch: u64,
    seq: u64,
    weather: Ar1,
    plants: Vec<PlantSim>,
    outages: Outages,
    gateways: Gateways,
    loads: Vec<LoadSim>,
    data_centers: Vec<DataCenterSim>,
    lines: Vec<LineSim>,
    contracts: Vec<ContractSim>,
    /// `dc-growth`'s sites and sizes; `line-trip`'s line and time.
    growth: Option<GrowthPlan>,
    trip: Option<TripPlan>,
    dips: Dips,
    /// Requested domestic demand of the current step (loads and data centers).
    demand_mw: f64,
}

impl Simulator {
    /// Marks every event with `epoch`: a live simulator takes a new one at each start,
    /// so that its numbering, which starts again at 1, is never taken for repeats of an
    /// earlier run's.
    pub fn number_in_epoch(&mut self, epoch: u64) {
        self.epoch = epoch;
    }

    /// Draws every plant, load and data center in the grid's order, then the weather.
    pub fn new(
        grid: &Grid,
        scenario: Scenario,
        knobs: &Knobs,
        seed: u64,
        start: Timestamp,
    ) -> Self {
        let params = scenario.params(knobs);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);

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

        let mut plants: Vec<PlantSim> = (grid.plants.iter())
            .map(|p| PlantSim::new(p, &params, &mut rng))
            .collect();
        plant::settle(&mut plants, &params, &Clock::at(start));
        let loads = LoadSim::all(grid, sizing_capacity, &mut rng);
        // A site as built today, or a tenth of its area's plant capacity.
        let sizes: Vec<f64> = (grid.data_centers.iter())
            .map(|d| {
                (d.size_mw.or(d.capacity_mw))
                    .unwrap_or_else(|| (0.1 * sizing_capacity(d.area)).max(10.0))
            })
            .collect();
        let data_centers = (grid.data_centers.iter().zip(&sizes))
            .map(|(d, &size)| DataCenterSim::new(size, d.capacity_mw.map(bound_millis), &mut rng))
            .collect();

        Simulator {
            params,
            profiles: load::profiles(params.winter),
            weather: Ar1::new(&mut rng, 1.0, 6.0 * 3600.0),
            outages: Outages::new(params.unit_trips_per_day),
            gateways: Gateways::new(grid.plants.len(), params.stale_per_day),
            rng,
            ts: start,
            first: true,
            source: Arc::from(SOURCE),
            epoch: 0,
            seq: 0,
            plants,
            loads,
            data_centers,
            lines: grid.lines.iter().map(LineSim::new).collect(),
            contracts: grid.contracts.iter().map(ContractSim::new).collect(),
            growth: (scenario == Scenario::DcGrowth)
                .then(|| GrowthPlan::new(&knobs.growth, grid, &sizes, start)),
            trip: (scenario == Scenario::LineTrip)
                .then(|| TripPlan::new(&knobs.trip, start, LOCAL_OFFSET_S))
                .flatten(),
            dips: Dips::new(seed, knobs.dc_trips_per_week, grid),
            demand_mw: 0.0,
        }
    }

    /// Appends the events of one second of event time to `out` and returns its `ts`:
    /// `start` on the first call, one second later on each following call. Event time
    /// is the simulator's own clock, so a caller may pace it to the wall clock or run
    /// it flat out for a log file.
    pub fn next_step(&mut self, out: &mut Vec<Event>) -> Timestamp {
        let ts = self.ts;
        let seconds = ts.as_micros().div_euclid(1_000_000);
        let local = seconds + LOCAL_OFFSET_S;
        let hour = local.rem_euclid(86_400) as f64 / 3600.0;
        // 1970-01-01 was a Thursday; 0 = Sunday.
        let weekday = (local.div_euclid(86_400) + 4).rem_euclid(7);
        let weekend = weekday == 0 || weekday == 6;

        self.lines_step(ts, out);
        if self.first || seconds.rem_euclid(NOMINATION_PERIOD_S) == 0 {
            self.nominate(ts, out);
        }
        let weather = self.weather.step(&mut self.rng);
        self.demand_step(ts, hour, weekend, weather, out);
        self.generation_step(ts, seconds, out);

        self.first = false;
        self.ts = ts.saturating_add(std::time::Duration::from_secs(1));
        ts
    }

    /// Appends the next event of the numbering.
    fn emit(&mut self, ts: Timestamp, body: Body, out: &mut Vec<Event>) {
        self.seq += 1;
        let origin = Origin {
            source: self.source.clone(),
            epoch: self.epoch,
            seq: self.seq,
        };
        out.push(Event {
            ts,
            origin: Some(origin),
            body,
        });
    }

    /// The status of every line that changed, and of every line on the first step.
    fn lines_step(&mut self, ts: Timestamp, out: &mut Vec<Event>) {
        let n = self.lines.len().max(1) as f64;
        let p_out = self.params.outages_per_day / (86_400.0 * n);
        let p_derate = self.params.deratings_per_day / (86_400.0 * n);
        let (trip, rng) = (self.trip.as_ref(), &mut self.rng);
        let changes = line::step_all(
            &mut self.lines,
            trip,
            ts,
            rng,
            (p_out, p_derate),
            self.first,
        );
        for (line, (in_service, capacity_m)) in changes {
            let reading = LineReading {
                in_service,
                derated_mw: capacity_m.map(figure),
            };
            self.emit(ts, Body::LineStatus { line, reading }, out);
        }
    }

    /// Every contract's nomination, every quarter hour.
    fn nominate(&mut self, ts: Timestamp, out: &mut Vec<Event>) {
        for contract in 0..self.contracts.len() {
            let mw_m = self.contracts[contract].nominate(&mut self.rng, ts, self.params.winter);
            let body = Body::Nomination {
                contract,
                mw: Some(figure(mw_m)),
            };
            self.emit(ts, body, out);
        }
    }

    fn demand_step(
        &mut self,
        ts: Timestamp,
        hour: f64,
        weekend: bool,
        weather: f64,
        out: &mut Vec<Event>,
    ) {
        let mut total = 0.0;
        for load in 0..self.loads.len() {
            let (params, profiles) = (&self.params, &self.profiles);
            let mw_m =
                self.loads[load].step(&mut self.rng, params, profiles, hour, weekend, weather);
            total += figure(mw_m);
            self.emit(
                ts,
                Body::Demand {
                    load,
                    mw: figure(mw_m),
                },
                out,
            );
        }
        let cooling = if self.params.winter { 1.0 } else { 1.03 };
        for (site, size) in self.growth.iter().flat_map(|g| g.sizes(ts)) {
            self.data_centers[site].resize(size);
        }
        self.dips.step(&mut self.data_centers);
        for site in 0..self.data_centers.len() {
            let (firm_m, flexible_m) = self.data_centers[site].step(&mut self.rng, cooling);
            total += figure(firm_m + flexible_m);
            let reading = DataCenterReading {
                firm_mw: figure(firm_m),
                flexible_mw: figure(flexible_m),
            };
            let body = Body::DcDemand { site, reading };
            self.emit(ts, body, out);
        }
        self.demand_mw = total;
    }

    /// Every plant's reading, as its gateway sends it, after forced outages and the
    /// plausible dispatch of the step's demand, its losses and the in-window exports
    /// (see [`plant::dispatch`]).
    fn generation_step(&mut self, ts: Timestamp, seconds: i64, out: &mut Vec<Event>) {
        let exports: f64 = self.contracts.iter().map(ContractSim::generation_mw).sum();
        let target = self.demand_mw * LOSS_ALLOWANCE + exports;
        self.outages.step(&mut self.rng, &mut self.plants, seconds);
        plant::dispatch(&mut self.plants, &mut self.rng, &Clock::at(ts), target);
        self.gateways.step(&mut self.rng, seconds);
        for plant in 0..self.plants.len() {
            let p = &self.plants[plant];
            let (reading, bound) = (p.reading(), p.bound_mw());
            if let Some(reading) = self.gateways.send(&mut self.rng, plant, reading, bound) {
                self.emit(ts, Body::Generation { plant, reading }, out);
            }
        }
    }
}

#[cfg(test)]
mod tests;
