//! A plant's water, fuel and machines, and the plausible dispatch the simulated
//! operators report.

use super::clock::Clock;
use super::river::Water;
use super::scenario::Params;
use super::shape::{Ar1, between, bound_millis, figure, millis};
use super::storage::StorageSim;
use crate::grid::{Plant, PlantKind, PlantReading};
use rand_chacha::ChaCha8Rng;

pub(super) struct PlantSim {
    kind: PlantKind,
    capacity_mw: f64,
    capacity_m: i64,
    min_mw: f64,
    unit_mw: f64,
    units: u32,
    /// Units in maintenance for the whole run.
    in_maintenance: u32,
    /// Units out on a forced outage (see [`super::outages`]).
    pub tripped: u32,
    /// Natural inflow as a share of capacity, for a hydro plant without a river.
    flow: f64,
    flow_noise: Ar1,
    output_noise: Ar1,
    water: Option<Water>,
    storage: Option<StorageSim>,
    /// Figures of the current step, kept between the passes of [`dispatch`].
    inflow_mw: f64,
    available_mw: f64,
    output_mw: f64,
    /// What leaves the plant this second, turbines and spill, in m³/s.
    release_m3s: f64,
}

impl PlantSim {
    /// Draws the river flow of a hydro plant without `[plants.river]`, then the
    /// plant's noise; a storage plant has a share of its units out for maintenance,
    /// never all of them.
    pub(super) fn new(plant: &Plant, params: &Params, rng: &mut ChaCha8Rng) -> Self {
        let p = plant;
        let units = if p.unit_mw > 0.0 {
            (p.capacity_mw / p.unit_mw).round().max(1.0)
        } else {
            1.0
        };
        let flow = params.inflow_share
            * match p.reservoir {
                Some(_) => params.storage_inflow,
                None => between(rng, params.river_flow.0, params.river_flow.1),
            };
        let in_maintenance = match &p.reservoir {
            Some(_) => (units * params.maintenance).round().min(units - 1.0),
            None => 0.0,
        };
        PlantSim {
            kind: p.kind,
            capacity_mw: p.capacity_mw,
            capacity_m: bound_millis(p.capacity_mw),
            min_mw: p.min_mw,
            unit_mw: p.unit_mw,
            units: units as u32,
            in_maintenance: in_maintenance as u32,
            tripped: 0,
            flow,
            flow_noise: Ar1::new(rng, 0.03, 2.0 * 3600.0),
            output_noise: Ar1::new(rng, 0.005, 120.0),
            water: (p.river.as_ref()).map(|r| Water::new(p, r, params.inflow_share)),
            storage: (p.reservoir.as_ref()).map(|r| StorageSim::new(r, p.capacity_mw)),
            inflow_mw: 0.0,
            available_mw: 0.0,
            output_mw: 0.0,
            release_m3s: 0.0,
        }
    }

    /// Units that could trip now: those in service on a plant that is available.
    pub(super) fn units_running(&self) -> u32 {
        if self.unit_mw > 0.0 && self.available_mw > 0.0 {
            (self.units).saturating_sub(self.in_maintenance + self.tripped)
        } else {
            0
        }
    }

    /// Capacity less the units in maintenance and on forced outage.
    fn machines_mw(&self) -> f64 {
        let out = f64::from(self.in_maintenance + self.tripped);
        (self.capacity_mw - out * self.unit_mw).max(0.0)
    }

    /// This second's natural inflow plus what arrives from the plant above, in MW at
    /// this plant's head (`noise` moves the natural part only).
    fn inflow(&self, month: usize, noise: f64) -> f64 {
        let mw = match (&self.water, self.kind) {
            (_, PlantKind::Thermal) => 0.0,
            (Some(w), _) => {
                (w.natural_m3s(month) * (1.0 + noise) + w.arriving_m3s()) * w.mw_per_m3s
            }
            (None, _) => self.flow * (1.0 + noise) * self.capacity_mw,
        };
        mw.max(0.0)
    }

    /// What the simulated operator may take from the plant: its availability, or only
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

    /// The least the plant may produce, as the scheduler's rule 1 has it: `min_mw`,
    /// and at a full reservoir its inflow; never above `limit`.
    fn must_run(&self, limit: f64) -> f64 {
        let passes = match &self.storage {
            Some(s) if s.is_full() => self.inflow_mw,
            _ => 0.0,
        };
        self.min_mw.max(passes).min(limit)
    }

    /// The plant's true reading for the current step; the gateway adds what a real
    /// feed does (see [`super::gateway`]). A thermal plant has no inflow.
    pub(super) fn reading(&self) -> PlantReading {
        let capped = |mw: f64| figure(millis(mw).min(self.capacity_m));
        PlantReading {
            output_mw: capped(self.output_mw),
            available_mw: capped(self.available_mw),
            reservoir_level_m: self.storage.as_ref().map(|s| figure(millis(s.level_m))),
            inflow_mw: (self.kind == PlantKind::Hydro).then(|| capped(self.inflow_mw)),
        }
    }

    /// The largest figure a reading of the plant may carry: its capacity.
    pub(super) fn bound_mw(&self) -> f64 {
        figure(self.capacity_m)
    }

    /// The release of the plant this second, m³/s, for the river below it.
    #[cfg(test)]
    pub(super) fn release_m3s(&self) -> f64 {
        self.release_m3s
    }

    /// The plant's inflow this second, natural and from above, m³/s, uncapped.
    #[cfg(test)]
    pub(super) fn inflow_m3s(&self) -> f64 {
        self.as_m3s(self.inflow_mw)
    }

    /// Settles the plant before the first step: its availability by its plan, and
    /// what it has been releasing, so that the river below starts in step.
    fn settle(&mut self, clock: &Clock) {
        self.inflow_mw = self.inflow(clock.month, 0.0);
        self.available_mw = self.availability(clock);
        let passed = match &self.storage {
            Some(s) if !s.is_full() => self.available_mw,
            _ => self.inflow_mw.max(self.available_mw),
        };
        self.release_m3s = self.as_m3s(passed);
    }

    fn availability(&self, clock: &Clock) -> f64 {
        let machines = self.machines_mw();
        match (&self.storage, self.kind) {
            (_, PlantKind::Thermal) if clock.heating => machines,
            (_, PlantKind::Thermal) => 0.0,
            (Some(s), _) => machines.min(s.plan_mw(self.inflow_mw, clock, self.min_mw)),
            (None, _) => machines.min(self.inflow_mw),
        }
    }

    fn as_m3s(&self, mw: f64) -> f64 {
        self.water.as_ref().map_or(0.0, |w| mw / w.mw_per_m3s)
    }
}

/// Places every reservoir at its starting level (see [`StorageSim::place`]) and
/// settles every river: each plant's release fills the river below it, from the top
/// of the cascade down.
pub(super) fn settle(plants: &mut [PlantSim], params: &Params, clock: &Clock) {
    for p in plants.iter_mut() {
        if let Some(s) = p.storage.as_mut() {
            s.place(params.winter, clock, params.below_plan);
        }
    }
    // A cascade is at most as long as the grid has plants.
    for _ in 0..plants.len() {
        for i in 0..plants.len() {
            down_the_river(plants, i, Water::settle);
            plants[i].settle(clock);
        }
    }
}

/// Hands the release of the plant above plant `i`, if it has one, to `i`'s water.
fn down_the_river(plants: &mut [PlantSim], i: usize, take: fn(&mut Water, f64)) {
    if let Some(up) = plants[i].water.as_ref().and_then(Water::upstream) {
        let release = plants[up].release_m3s;
        if let Some(w) = plants[i].water.as_mut() {
            take(w, release);
        }
    }
}

/// One second of water, availability and a plausible dispatch towards `target_mw`:
/// run-of-river plants run flat out on the river, storage and thermal plants share
/// the rest in proportion to their availability, never below what they must run —
/// the same order the scheduler uses, so the reported output is near what it would
/// set. Then each plant's release sets out down the river.
pub(super) fn dispatch(
    plants: &mut [PlantSim],
    rng: &mut ChaCha8Rng,
    clock: &Clock,
    target_mw: f64,
) {
    let mut run_of_river = 0.0;
    let mut shared = 0.0;
    for p in plants.iter_mut() {
        let noise = p.flow_noise.step(rng);
        p.inflow_mw = p.inflow(clock.month, noise);
        if let Some(s) = &mut p.storage {
            s.judge(clock.month);
        }
        p.available_mw = p.availability(clock);
        if p.storage.is_none() && p.kind == PlantKind::Hydro {
            p.output_mw = p.available_mw * 0.98;
            run_of_river += p.output_mw;
        } else {
            shared += p.dispatchable();
        }
    }
    let share = if shared > 0.0 {
        ((target_mw - run_of_river) / shared).clamp(0.0, 1.0)
    } else {
        0.0
    };
    for p in plants.iter_mut() {
        let noise = p.output_noise.step(rng);
        let passed = if p.storage.is_none() && p.kind == PlantKind::Hydro {
            // The whole river passes: what the turbines cannot take is spilled.
            p.inflow_mw.max(p.output_mw)
        } else {
            let limit = p.dispatchable();
            let wanted = limit * share * (1.0 + noise);
            p.output_mw = wanted.max(p.must_run(limit)).min(limit);
            let spill = match &mut p.storage {
                Some(s) => s.fill(p.inflow_mw, p.output_mw),
                None => 0.0,
            };
            p.output_mw + spill
        };
        p.release_m3s = p.as_m3s(passed);
    }
    for i in 0..plants.len() {
        down_the_river(plants, i, Water::flow);
    }
}
