//! The simulator's building blocks: seeded noise, daily demand shapes and figures in
//! whole thousandths.
//!
//! Everything here uses only `+ − × ÷` and `sqrt`, which IEEE 754 rounds exactly the
//! same everywhere; `sin`, `exp` and `ln` come from the platform's maths library and
//! may differ in the last bit, which would break byte-identical logs across machines.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Stream `number` of `seed`'s ChaCha8 generator. The simulation draws from stream 0;
/// faults and dips draw from streams of their own, so that turning them on or off
/// never moves the simulation's draws.
pub fn stream(seed: u64, number: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(number);
    rng
}

/// A uniform draw in [0, 1) from the top 53 bits, independent of any distribution
/// code that a dependency upgrade could change.
pub fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// An index drawn evenly among `n` (at least 1) with one draw.
pub fn index(rng: &mut ChaCha8Rng, n: usize) -> usize {
    ((uniform(rng) * n as f64) as usize).min(n - 1)
}

/// A uniform draw in [lo, hi).
pub fn between(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * uniform(rng)
}

/// An approximately standard normal draw: the sum of four uniforms (Irwin–Hall),
/// centred and scaled to unit variance. Bounded at ±3.46, which keeps every figure
/// sane without clamping.
pub fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let sum = uniform(rng) + uniform(rng) + uniform(rng) + uniform(rng);
    (sum - 2.0) * 1.732_050_807_568_877_2
}

/// AR(1) noise sampled once a second: smooth, mean-reverting, with standard deviation
/// `sigma` and correlation time `tau_s`, so telemetry wanders as real meters do instead
/// of jumping every second.
#[derive(Debug, Clone)]
pub struct Ar1 {
    value: f64,
    phi: f64,
    kick: f64,
}

impl Ar1 {
    pub fn new(rng: &mut ChaCha8Rng, sigma: f64, tau_s: f64) -> Self {
        let phi = 1.0 - 1.0 / tau_s.max(1.0);
        Ar1 {
            // Start in the stationary distribution so the first hour looks like any other.
            value: sigma * normal(rng),
            phi,
            kick: sigma * (1.0 - phi * phi).sqrt(),
        }
    }

    pub fn step(&mut self, rng: &mut ChaCha8Rng) -> f64 {
        self.value = self.phi * self.value + self.kick * normal(rng);
        self.value
    }
}

/// A smooth bump of height 1 at `center` hours falling to 0 at ± `width` hours,
/// wrapping over midnight: (1 − d²/w²)², a polynomial stand-in for a Gaussian.
fn bump(hour: f64, center: f64, width: f64) -> f64 {
    let mut d = (hour - center).abs();
    if d > 12.0 {
        d = 24.0 - d;
    }
    if d >= width {
        return 0.0;
    }
    let x = d / width;
    let y = 1.0 - x * x;
    y * y
}

/// A daily demand shape: a base plus bumps (centre hour, width hours, height), scaled so
/// that its highest point over the day is 1.
#[derive(Debug, Clone)]
pub struct Profile {
    base: f64,
    bumps: &'static [(f64, f64, f64)],
    scale: f64,
}

impl Profile {
    pub fn new(base: f64, bumps: &'static [(f64, f64, f64)]) -> Self {
        let mut profile = Profile {
            base,
            bumps,
            scale: 1.0,
        };
        let peak = (0..1440)
            .map(|minute| profile.at(minute as f64 / 60.0))
            .fold(0.0, f64::max);
        profile.scale = if peak > 0.0 { 1.0 / peak } else { 1.0 };
        profile
    }

    /// The shape at `hour` (local, 0..24), between 0 and 1.
    pub fn at(&self, hour: f64) -> f64 {
        let raw = self.base
            + self
                .bumps
                .iter()
                .map(|&(c, w, h)| h * bump(hour, c, w))
                .sum::<f64>();
        raw * self.scale
    }
}

/// A figure in thousandths, rounded to nearest; non-finite or negative becomes 0
/// because the daemon rejects both.
pub fn millis(value: f64) -> i64 {
    if value.is_finite() && value > 0.0 {
        (value * 1000.0).round() as i64
    } else {
        0
    }
}

/// The largest number of thousandths that stays within a configured bound.
pub fn bound_millis(bound: f64) -> i64 {
    if bound.is_finite() && bound > 0.0 {
        (bound * 1000.0).floor() as i64
    } else {
        0
    }
}

/// Thousandths as the figure an event carries, never negative. Whole thousandths are
/// written with exactly three decimals (see [`crate::event::Event::to_json`]), so lines
/// are compact and identical on every platform.
pub fn figure(millis: i64) -> f64 {
    millis.max(0) as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn figures_are_whole_thousandths_and_never_negative() {
        let figures = [1234.5678, -0.0, f64::NAN, 0.0004].map(|mw| figure(millis(mw)));
        assert_eq!(figures, [1234.568, 0.0, 0.0, 0.0]);
        assert!(figures.iter().all(|f| f.is_sign_positive()));
        assert_eq!(figure(-5), 0.0);
        assert_eq!(bound_millis(167.5), 167_500);
    }

    #[test]
    fn profile_peaks_at_one() {
        static BUMPS: [(f64, f64, f64); 2] = [(8.0, 3.0, 0.25), (19.0, 4.0, 0.4)];
        let p = Profile::new(0.6, &BUMPS);
        assert!((p.at(19.0) - 1.0).abs() < 1e-3);
        assert!(p.at(3.0) < 0.7);
        // Wraps over midnight without a jump.
        assert!((p.at(0.0) - p.at(23.999)).abs() < 1e-3);
    }

    #[test]
    fn ar1_has_roughly_the_asked_spread() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut ar = Ar1::new(&mut rng, 1.0, 30.0);
        let n = 200_000;
        let mut sum_sq = 0.0;
        for _ in 0..n {
            let v = ar.step(&mut rng);
            sum_sq += v * v;
        }
        let sd = (sum_sq / n as f64).sqrt();
        assert!((0.8..1.2).contains(&sd), "{sd}");
    }
}
