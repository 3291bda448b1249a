//! A plant's water and machines, and the plausible dispatch the simulated operators
//! report.

use super::scenario::Params;
use super::shape::{Ar1, between, bound_millis, figure, millis};
use super::storage::StorageSim;
use crate::event::Body;
use crate::grid::{Plant, PlantReading};
use rand_chacha::ChaCha8Rng;

pub(super) struct PlantSim {
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
    /// Figures of the current step, kept between the passes of [`dispatch`].
    inflow_mw: f64,
    available_mw: f64,
    output_mw: f64,
}

impl PlantSim {
    /// Draws the river flow of a run-of-river plant, then the plant's noise; a storage
    /// plant has a share of its units out for maintenance, never all of them.
    pub(super) fn new(plant: &Plant, params: &Params, rng: &mut ChaCha8Rng) -> Self {
        let p = plant;
        let units = if p.unit_mw > 0.0 {
            (p.capacity_mw / p.unit_mw).round().max(1.0)
        } else {
            1.0
        };
        let flow = match p.reservoir {
            Some(_) => params.storage_inflow,
            None => between(rng, params.river_flow.0, params.river_flow.1),
        };
        let (machine_mw, storage) = match &p.reservoir {
            Some(r) => {
                let out = (units * params.maintenance).round().min(units - 1.0);
                let machine_mw = (p.capacity_mw - out * p.unit_mw).max(0.0);
                (machine_mw, Some(StorageSim::new(r, p.capacity_mw)))
            }
            None => (p.capacity_mw, None),
        };
        PlantSim {
            capacity_mw: p.capacity_mw,
            capacity_m: bound_millis(p.capacity_mw),
            min_mw: p.min_mw,
            machine_mw,
            flow,
            flow_noise: Ar1::new(rng, 0.03, 2.0 * 3600.0),
            output_noise: Ar1::new(rng, 0.005, 120.0),
            storage,
            inflow_mw: 0.0,
            available_mw: 0.0,
            output_mw: 0.0,
        }
    }

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

    /// The reading of `plant`, this plant, for the current step.
    pub(super) fn reading(&self, plant: usize) -> Body {
        let capped = |mw: f64| figure(millis(mw).min(self.capacity_m));
        let reading = PlantReading {
            output_mw: capped(self.output_mw),
            available_mw: capped(self.available_mw),
            reservoir_level_m: self.storage.as_ref().map(|s| figure(millis(s.level_m))),
            inflow_mw: Some(capped(self.inflow_mw)),
        };
        Body::Generation { plant, reading }
    }
}

/// Places every reservoir at its starting level (see [`StorageSim::place`]), ranked
/// by plant capacity, smallest first.
pub(super) fn place_reservoirs(plants: &mut [PlantSim], params: &Params, month: usize) {
    let mut storage: Vec<usize> = (0..plants.len())
        .filter(|&i| plants[i].storage.is_some())
        .collect();
    storage.sort_by(|&a, &b| plants[a].capacity_mw.total_cmp(&plants[b].capacity_mw));
    for (rank, &i) in storage.iter().enumerate() {
        let plant = &mut plants[i];
        let inflow = plant.flow * plant.capacity_mw;
        let draw_mw = (plant.machine_mw - inflow).max(0.0);
        if let Some(s) = plant.storage.as_mut() {
            s.place(params.winter, month, rank, draw_mw);
        }
    }
}

/// One second of water, availability and a plausible dispatch towards `target_mw`:
/// run-of-river plants run flat out on the river, storage plants share the rest in
/// proportion to their availability — the same order the scheduler uses, so the
/// reported output is near what it would set.
pub(super) fn dispatch(
    plants: &mut [PlantSim],
    rng: &mut ChaCha8Rng,
    month: usize,
    target_mw: f64,
) {
    let mut run_of_river = 0.0;
    let mut storage_available = 0.0;
    for p in plants.iter_mut() {
        let noise = p.flow_noise.step(rng);
        p.inflow_mw = (p.flow * (1.0 + noise) * p.capacity_mw).max(0.0);
        match &mut p.storage {
            None => {
                p.available_mw = p.inflow_mw.min(p.capacity_mw);
                p.output_mw = p.available_mw * 0.98;
                run_of_river += p.output_mw;
            }
            Some(s) => {
                s.judge(month);
                p.available_mw = p.machine_mw.min(p.capacity_mw);
                storage_available += p.dispatchable();
            }
        }
    }
    let share = if storage_available > 0.0 {
        ((target_mw - run_of_river) / storage_available).clamp(0.0, 1.0)
    } else {
        0.0
    };
    for p in plants.iter_mut() {
        let noise = p.output_noise.step(rng);
        if p.storage.is_some() {
            let limit = p.dispatchable();
            let wanted = limit * share * (1.0 + noise);
            p.output_mw = wanted.max(p.min_mw.min(limit)).min(limit);
        }
        if let Some(s) = &mut p.storage {
            s.fill(p.inflow_mw, p.output_mw);
        }
    }
}
