//! Voltage dips that trip data centers together.
//!
//! A fault on the transmission network sags the voltage for a fraction of a second
//! across an area, or across the whole grid when it is on the backbone. Data centers'
//! power electronics ride through by dropping off the grid together: their UPS carry
//! the servers, and the sites come back only once the voltage has been steady for a
//! while, restarting cooling and jobs at their own ramp. To the grid, every site in
//! the area loses its whole load at once and regains it minutes later.
//!
//! Dips arrive as a Poisson process at `[simulator] dc_trips_per_week` across the
//! grid. They draw from a ChaCha8 stream of their own, so a run with dips is the run
//! without them but for the dips' own readings, and at a rate of 0 no draw is made.

use super::datacenter::DataCenterSim;
use super::shape::{between, index, stream, uniform};
use crate::grid::Grid;
use rand_chacha::ChaCha8Rng;

/// The stream dips draw from: the simulation draws from stream 0, faults from 1.
const DIP_STREAM: u64 = 2;
const SECONDS_PER_WEEK: f64 = 7.0 * 86_400.0;
/// The share of dips on the backbone, which trip every data center of the grid.
const GRID_WIDE: f64 = 0.25;
/// How long the sites stay off the grid: tens of seconds to minutes.
pub(super) const OFF_S: (f64, f64) = (20.0, 300.0);

/// The dip process of one run.
pub(super) struct Dips {
    rng: ChaCha8Rng,
    /// The hazard per second.
    p: f64,
    /// Each data center's area, in the grid's order.
    site_areas: Vec<usize>,
    /// Every area that hosts a data center, in the grid's order, without repeats.
    areas: Vec<usize>,
}

impl Dips {
    /// Dips at `per_week` over `grid`'s data centers, drawn from `seed`'s own stream.
    pub(super) fn new(seed: u64, per_week: f64, grid: &Grid) -> Self {
        let site_areas: Vec<usize> = grid.data_centers.iter().map(|d| d.area).collect();
        let mut areas: Vec<usize> = Vec::new();
        for &area in &site_areas {
            if !areas.contains(&area) {
                areas.push(area);
            }
        }
        Dips {
            rng: stream(seed, DIP_STREAM),
            p: per_week / SECONDS_PER_WEEK,
            site_areas,
            areas,
        }
    }

    /// One second: with the hazard's probability, a dip drops every site of one area
    /// (every site, when it is on the backbone) off the grid.
    pub(super) fn step(&mut self, sites: &mut [DataCenterSim]) {
        if self.p <= 0.0 || self.areas.is_empty() || uniform(&mut self.rng) >= self.p {
            return;
        }
        let area = if uniform(&mut self.rng) < GRID_WIDE {
            None
        } else {
            Some(self.areas[index(&mut self.rng, self.areas.len())])
        };
        let off_s = between(&mut self.rng, OFF_S.0, OFF_S.1) as i64;
        for (site, &at) in sites.iter_mut().zip(&self.site_areas) {
            if area.is_none_or(|hit| hit == at) {
                site.dip(off_s);
            }
        }
    }
}
