//! Loads: demand by class, following a daily shape, the week and the weather.

use super::scenario::Params;
use super::shape::{Ar1, Profile, millis};
use crate::grid::{Grid, LoadClass, LoadProfile};
use rand_chacha::ChaCha8Rng;

/// How a hydro area's demand divides between classes when loads carry no `peak_mw`.
const CLASS_SHARE: [f64; 4] = [0.15, 0.55, 0.25, 0.10];

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
pub(super) fn profiles(winter: bool) -> [Profile; 4] {
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

pub(super) struct LoadSim {
    peak_mw: f64,
    class: usize,
    /// Round the clock at its class's level: no daily shape, week or weather.
    flat: bool,
    noise: Ar1,
}

impl LoadSim {
    /// The grid's loads. Without a configured size, a hydro area's winter peak is taken
    /// as three quarters of its `sizing_capacity`, split between its loads by class.
    pub(super) fn all(
        grid: &Grid,
        sizing_capacity: impl Fn(usize) -> f64,
        rng: &mut ChaCha8Rng,
    ) -> Vec<LoadSim> {
        let mut class_weight = vec![0.0; grid.areas.len()];
        for l in &grid.loads {
            class_weight[l.area] += CLASS_SHARE[class_index(l.class)];
        }
        let mut loads = Vec::with_capacity(grid.loads.len());
        for l in &grid.loads {
            let class = class_index(l.class);
            let peak_mw = l.peak_mw.unwrap_or_else(|| {
                0.75 * sizing_capacity(l.area) * CLASS_SHARE[class] / class_weight[l.area]
            });
            loads.push(LoadSim {
                peak_mw,
                class,
                flat: l.profile == LoadProfile::Flat,
                noise: Ar1::new(rng, 0.015, 15.0 * 60.0),
            });
        }
        loads
    }

    /// One second of demand at local `hour`, in thousandths; a flat load's is its
    /// class's level of its peak, with its own noise only.
    pub(super) fn step(
        &mut self,
        rng: &mut ChaCha8Rng,
        params: &Params,
        profiles: &[Profile; 4],
        hour: f64,
        weekend: bool,
        weather: f64,
    ) -> i64 {
        let noise = self.noise.step(rng);
        let class = self.class;
        if self.flat {
            return millis(self.peak_mw * params.level[class] * (1.0 + noise));
        }
        let week = match (weekend, class) {
            (true, 1) => 1.03,
            (true, 2) | (true, 3) => 0.85,
            _ => 1.0,
        };
        let mw = self.peak_mw
            * params.level[class]
            * profiles[class].at(hour)
            * week
            * (1.0 + params.weather_sensitivity[class] * weather)
            * (1.0 + noise);
        millis(mw)
    }
}
