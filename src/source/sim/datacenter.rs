//! Data-center demand: a steady firm part and a flexible part shaped by AI training
//! jobs, the kind of load that can be shed first when water runs short.

use super::shape::{Ar1, between, millis, normal};
use rand_chacha::ChaCha8Rng;

/// A data center: firm demand near a steady level, flexible demand shaped by training
/// jobs that start, checkpoint and stop.
pub(super) struct DataCenterSim {
    capacity_mw: f64,
    capacity_m: Option<i64>,
    firm_noise: Ar1,
    flexible_mw: f64,
    job_level: f64,
    /// Seconds left in the current job (running) or gap (idle).
    phase_left_s: i64,
    running: bool,
    /// Seconds since the job started, for the periodic checkpoint dips.
    job_age_s: i64,
}

impl DataCenterSim {
    /// `capacity_mw` sizes the jobs; `capacity_m` (thousandths) is the configured bound
    /// the reported sum must respect, when there is one. Starts part-way into a job so
    /// that a run does not open on a ramp.
    pub(super) fn new(capacity_mw: f64, capacity_m: Option<i64>, rng: &mut ChaCha8Rng) -> Self {
        let mut dc = DataCenterSim {
            capacity_mw,
            capacity_m,
            firm_noise: Ar1::new(rng, 0.01, 3600.0),
            flexible_mw: 0.0,
            job_level: 0.0,
            phase_left_s: 0,
            running: false,
            job_age_s: 0,
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
        self.job_level = self.capacity_mw * between(rng, 0.25, 0.48);
        self.phase_left_s = between(rng, 3600.0, 6.0 * 3600.0) as i64;
    }

    /// One second: firm near 45 % of capacity; flexible ramps (two-minute lag) towards
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
            0.05 * self.capacity_mw
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
        let firm = 0.45 * self.capacity_mw * cooling * (1.0 + firm_noise);
        let flexible = self.flexible_mw * jitter;
        let mut firm_m = millis(firm);
        let mut flexible_m = millis(flexible);
        let limit = millis(0.97 * self.capacity_mw);
        if let Some(cap) = self.capacity_m {
            let room = (cap - 1).max(0).min(limit);
            firm_m = firm_m.min(room);
            flexible_m = flexible_m.min(room - firm_m);
        }
        (firm_m, flexible_m)
    }
}
