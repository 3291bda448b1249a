//! What a plant's telemetry gateway does to its readings: sensor noise on the
//! measured flows, and spells in which the gateway goes stale — it repeats its last
//! reading with new timestamps, or sends nothing — for a few minutes.
//!
//! Unlike [`super::faults`], these readings are well formed: the daemon accepts them
//! and schedules on what they say, as it would on a real feed.

use super::shape::{between, figure, index, millis, normal, uniform};
use crate::grid::PlantReading;
use rand_chacha::ChaCha8Rng;

/// Standard deviation of the metering noise on output, as a share of the reading.
const OUTPUT_NOISE: f64 = 0.002;
/// Standard deviation of the noise on inflow, which is estimated from gauges.
const INFLOW_NOISE: f64 = 0.01;
/// How long a stale spell lasts, in seconds.
const STALE_FOR_S: (f64, f64) = (120.0, 600.0);

/// One plant's gateway.
#[derive(Default)]
struct Gateway {
    /// The last reading it sent.
    last: Option<PlantReading>,
    /// Until when (second) it is stale, and whether it repeats itself meanwhile.
    stale: Option<(i64, bool)>,
}

pub(super) struct Gateways {
    /// Chance that some gateway goes stale in a given second.
    per_second: f64,
    gateways: Vec<Gateway>,
}

impl Gateways {
    /// `per_day` stale spells across the grid's `plants` gateways.
    pub(super) fn new(plants: usize, per_day: f64) -> Self {
        Gateways {
            per_second: per_day / 86_400.0,
            gateways: (0..plants).map(|_| Gateway::default()).collect(),
        }
    }

    /// One second at `now_s`: spells that are over end, and one draw says whether a
    /// gateway goes stale; if one does, three more say which, for how long, and
    /// whether it repeats itself or falls silent.
    pub(super) fn step(&mut self, rng: &mut ChaCha8Rng, now_s: i64) {
        for g in &mut self.gateways {
            if g.stale.is_some_and(|(until_s, _)| until_s <= now_s) {
                g.stale = None;
            }
        }
        if self.gateways.is_empty() || uniform(rng) >= self.per_second {
            return;
        }
        let at = index(rng, self.gateways.len());
        let until_s = now_s + between(rng, STALE_FOR_S.0, STALE_FOR_S.1) as i64;
        let repeats = uniform(rng) < 0.5;
        self.gateways[at].stale.get_or_insert((until_s, repeats));
    }

    /// What the gateway of `plant` sends for its true `reading`: the reading with
    /// sensor noise, within `capacity_mw` (two draws, made every second whatever is
    /// sent), its last reading again, or nothing.
    pub(super) fn send(
        &mut self,
        rng: &mut ChaCha8Rng,
        plant: usize,
        reading: PlantReading,
        capacity_mw: f64,
    ) -> Option<PlantReading> {
        let (output_noise, inflow_noise) = (normal(rng), normal(rng));
        let g = &mut self.gateways[plant];
        match g.stale {
            Some((_, true)) if g.last.is_some() => return g.last,
            Some(_) => return None,
            None => {}
        }
        let noisy = |mw: f64, sigma: f64, draw: f64| figure(millis(mw * (1.0 + sigma * draw)));
        let sent = PlantReading {
            output_mw: noisy(reading.output_mw, OUTPUT_NOISE, output_noise)
                .min(reading.available_mw),
            inflow_mw: (reading.inflow_mw)
                .map(|mw| noisy(mw, INFLOW_NOISE, inflow_noise).min(capacity_mw)),
            ..reading
        };
        g.last = Some(sent);
        Some(sent)
    }
}
