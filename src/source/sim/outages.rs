//! Forced unit outages: a unit of some plant trips, its plant's availability drops by
//! `unit_mw`, and it comes back after some hours, so the reserve held for it is used.

use super::plant::PlantSim;
use super::shape::{between, uniform};
use rand_chacha::ChaCha8Rng;

/// How long a tripped unit stays out, in seconds.
const OUT_FOR_S: (f64, f64) = (3600.0, 6.0 * 3600.0);

pub(super) struct Outages {
    /// Chance that some unit trips in a given second.
    per_second: f64,
    /// (plant, second it comes back) of every unit out; at most one per unit.
    out: Vec<(usize, i64)>,
}

impl Outages {
    /// `per_day` trips across the grid, each of a unit drawn evenly among the units
    /// running: every running unit has the same hazard, whatever its plant.
    pub(super) fn new(per_day: f64) -> Self {
        Outages {
            per_second: per_day / 86_400.0,
            out: Vec::new(),
        }
    }

    /// One second at `now_s`: units due back return, then one draw says whether a
    /// unit trips, and if one does, two more say which and for how long.
    pub(super) fn step(&mut self, rng: &mut ChaCha8Rng, plants: &mut [PlantSim], now_s: i64) {
        self.out.retain(|&(plant, back_s)| {
            let out = back_s > now_s;
            if !out {
                plants[plant].tripped = plants[plant].tripped.saturating_sub(1);
            }
            out
        });
        if uniform(rng) >= self.per_second {
            return;
        }
        let running: u32 = plants.iter().map(PlantSim::units_running).sum();
        let mut pick = (uniform(rng) * f64::from(running)) as u32;
        let back_s = now_s + between(rng, OUT_FOR_S.0, OUT_FOR_S.1) as i64;
        for (at, plant) in plants.iter_mut().enumerate() {
            let n = plant.units_running();
            if pick < n {
                plant.tripped += 1;
                self.out.push((at, back_s));
                return;
            }
            pick -= n;
        }
    }

    /// Units out now.
    #[cfg(test)]
    pub(super) fn out(&self) -> usize {
        self.out.len()
    }
}
