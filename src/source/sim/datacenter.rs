//! Data-center demand: a steady firm part and a flexible part shaped by AI training
//! jobs, the kind of load that can be shed first when water runs short; a site that
//! grows (`dc-growth`) and one that drops off the grid in a voltage dip (see
//! [`super::dip`]).

use super::knobs::Growth;
use super::shape::{Ar1, between, millis, normal};
use crate::grid::Grid;
use crate::time::Timestamp;
use rand_chacha::ChaCha8Rng;

/// `dc-growth` as a run plays it: each grown site's size, linear in event time.
pub(super) struct GrowthPlan {
    /// (site, size at the start, size at the end).
    sites: Vec<(usize, f64, f64)>,
    start: Timestamp,
    over_s: f64,
}

impl GrowthPlan {
    /// `sizes`: every site's size today, which the simulator drew it at; the first
    /// step resizes it to `from`.
    pub(super) fn new(growth: &Growth, grid: &Grid, sizes: &[f64], start: Timestamp) -> Self {
        let sites = (0..sizes.len())
            .filter(|&site| growth.site.is_none_or(|grown| grown == site))
            .map(|site| {
                let from = growth.from_mw.unwrap_or(sizes[site]);
                let capacity = grid.data_centers[site].capacity_mw;
                let to = (growth.to_mw.or(capacity)).unwrap_or(sizes[site]);
                (site, from, to)
            })
            .collect();
        GrowthPlan {
            sites,
            start,
            over_s: growth.over.as_secs_f64(),
        }
    }

    /// Each grown site's size at `ts`: (site, MW).
    pub(super) fn sizes(&self, ts: Timestamp) -> impl Iterator<Item = (usize, f64)> + '_ {
        let elapsed_s = ts.micros_since(self.start).max(0) as f64 / 1e6;
        let done = (elapsed_s / self.over_s).min(1.0);
        (self.sites.iter()).map(move |&(site, from, to)| (site, from + (to - from) * done))
    }
}

/// A data center: firm demand near a steady level, flexible demand shaped by training
/// jobs that start, checkpoint and stop.
/// How long a site takes to take its whole load back after a dip, linearly: cooling,
/// then the jobs restarting from their checkpoints.
pub(super) const RECOVERY_S: i64 = 300;

pub(super) struct DataCenterSim {
    /// The site as built at this step: what its demand is drawn around.
    size_mw: f64,
    capacity_m: Option<i64>,
    firm_noise: Ar1,
    flexible_mw: f64,
    job_level: f64,
    /// Seconds left in the current job (running) or gap (idle).
    phase_left_s: i64,
    running: bool,
    /// Seconds since the job started, for the periodic checkpoint dips.
    job_age_s: i64,
    dipped: Option<Dipped>,
}

/// A site off the grid after a dip, then ramping back.
struct Dipped {
    off_left_s: i64,
    ramp_left_s: i64,
}

impl DataCenterSim {
    /// `size_mw` sizes the jobs; `capacity_m` (thousandths) is the configured bound
    /// the reported sum must respect, when there is one. Starts part-way into a job so
    /// that a run does not open on a ramp.
    pub(super) fn new(size_mw: f64, capacity_m: Option<i64>, rng: &mut ChaCha8Rng) -> Self {
        let mut dc = DataCenterSim {
            size_mw,
            capacity_m,
            firm_noise: Ar1::new(rng, 0.01, 3600.0),
            flexible_mw: 0.0,
            job_level: 0.0,
            phase_left_s: 0,
            running: false,
            job_age_s: 0,
            dipped: None,
        };
        dc.start_job(rng);
        dc.job_age_s = between(rng, 0.0, 1800.0) as i64;
        dc.phase_left_s = between(rng, 600.0, 4.0 * 3600.0) as i64;
        dc.flexible_mw = dc.job_level;
        dc
    }

    fn start_job(&mut self, rng: &mut ChaCha8Rng) {
        self.running = true;
        self.job_age_s = 0;
        self.job_level = self.size_mw * between(rng, 0.25, 0.48);
        self.phase_left_s = between(rng, 3600.0, 6.0 * 3600.0) as i64;
    }

    /// Makes the site `size_mw` large from this step on: the running job and the
    /// flexible draw scale with it, as new halls take their share of the work.
    pub(super) fn resize(&mut self, size_mw: f64) {
        if size_mw != self.size_mw && self.size_mw > 0.0 {
            let scale = size_mw / self.size_mw;
            self.job_level *= scale;
            self.flexible_mw *= scale;
            self.size_mw = size_mw;
        }
    }

    /// Drops the site off the grid for `off_s` seconds, then ramps it back over
    /// [`RECOVERY_S`]; a dip during a recovery starts it again.
    pub(super) fn dip(&mut self, off_s: i64) {
        self.dipped = Some(Dipped {
            off_left_s: off_s,
            ramp_left_s: RECOVERY_S,
        });
    }

    /// The share of its demand the site draws this second while dipped: 0 while off,
    /// then rising linearly to 1.
    fn dip_share(&mut self) -> Option<f64> {
        let dipped = self.dipped.as_mut()?;
        if dipped.off_left_s > 0 {
            dipped.off_left_s -= 1;
            return Some(0.0);
        }
        dipped.ramp_left_s -= 1;
        let share = 1.0 - dipped.ramp_left_s as f64 / RECOVERY_S as f64;
        if dipped.ramp_left_s <= 0 {
            self.dipped = None;
        }
        Some(share)
    }

    /// One second: firm near 45 % of the site's size; flexible ramps (two-minute lag) towards
    /// the job's level, dips for a minute at each half-hourly checkpoint, and falls to
    /// a 5 % inference floor between jobs. Returns thousandths, firm + flexible within
    /// capacity with a thousandth to spare so the daemon's sum never rounds above it.
    pub(super) fn step(&mut self, rng: &mut ChaCha8Rng, cooling: f64) -> (i64, i64) {
        let firm_noise = self.firm_noise.step(rng);
        self.phase_left_s -= 1;
        if self.phase_left_s <= 0 {
            if self.running {
                self.running = false;
                self.phase_left_s = between(rng, 600.0, 3600.0) as i64;
            } else {
                self.start_job(rng);
            }
        }
        let target = if !self.running {
            0.05 * self.size_mw
        } else {
            self.job_age_s += 1;
            if self.job_age_s % 1800 < 60 && self.job_age_s >= 1800 {
                0.4 * self.job_level
            } else {
                self.job_level
            }
        };
        let jitter = 1.0 + 0.01 * normal(rng);
        self.flexible_mw += (target - self.flexible_mw) / 120.0;
        let mut firm = 0.45 * self.size_mw * cooling * (1.0 + firm_noise);
        let mut flexible = self.flexible_mw * jitter;
        if let Some(share) = self.dip_share() {
            firm *= share;
            flexible *= share;
        }
        let mut firm_m = millis(firm);
        let mut flexible_m = millis(flexible);
        let limit = millis(0.97 * self.size_mw);
        if let Some(cap) = self.capacity_m {
            let room = (cap - 1).max(0).min(limit);
            firm_m = firm_m.min(room);
            flexible_m = flexible_m.min(room - firm_m);
        }
        (firm_m, flexible_m)
    }
}
