//! The stochastically extended adversarial (SEA) model of spec §6.1 / §10.4 as a stream of
//! quadratic losses `f_t(x) = ½‖x − ξ_t‖²` on `ℝ^d`, `ξ_t = c_t + s·n_t`, `n_t ~ N(0, I/d)`:
//!
//! * `s` sets the stochastic variance: `σ_t² = E‖∇f_t − ∇F_t‖² = s²` (since `E‖n_t‖² = 1`);
//! * the centre `c_t` alternates between `+a·e₁` and `−a·e₁` in blocks of `block` rounds
//!   (`block = 0`: never switches, i.e. i.i.d.), which sets the adversarial variation
//!   `Σ²_{1:T} = Σ_t ‖c_t − c_{t−1}‖²` (`4a²` per switch, plus `‖c_1‖²` for `∇F_0 = 0`).
//!
//! The expected loss is `F_t(x) = ½‖x − c_t‖² + s²/2`, so regret against the best fixed point
//! of the expected losses has a closed form ([`SeaStream::expected_regret`]).

use mirrorflow_core::Rng;
use serde::{Deserialize, Serialize};

/// `[env]` parameters of `id = "sea"` (the learner plays in the unit ball).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeaConfig {
    /// Dimension `d`.
    pub dim: usize,
    /// Centre amplitude `a` (`c_t = ±a·e₁`).
    pub amplitude: f64,
    /// Rounds between centre switches (`K`; 0 = never: i.i.d.).
    pub block: u64,
    /// Noise scale `s` (`σ_t² = s²`).
    pub noise: f64,
}

impl Default for SeaConfig {
    fn default() -> Self {
        Self {
            dim: 10,
            amplitude: 0.5,
            block: 0,
            noise: 0.0,
        }
    }
}

impl SeaConfig {
    /// Checks the parameters (`Err` names the bad one).
    pub fn validate(&self) -> Result<(), String> {
        if self.dim == 0 {
            return Err("dim = 0: must be at least 1".into());
        }
        if !(self.amplitude >= 0.0 && self.amplitude.is_finite()) {
            return Err(format!("amplitude = {}: must be >= 0", self.amplitude));
        }
        if !(self.noise >= 0.0 && self.noise.is_finite()) {
            return Err(format!("noise = {}: must be >= 0", self.noise));
        }
        Ok(())
    }
}

/// SEA-model quadratic losses.
#[derive(Clone, Debug)]
pub struct SeaStream {
    dim: usize,
    amplitude: f64,
    block: u64,
    noise: f64,
    rng: Rng,
    t: u64,
}

impl SeaStream {
    /// Dimension `d`, centre amplitude `a`, block length (0 = no switching), noise scale `s`.
    pub fn new(dim: usize, amplitude: f64, block: u64, noise: f64, seed: u64) -> Self {
        Self {
            dim: dim.max(1),
            amplitude,
            block,
            noise,
            rng: Rng::seed_from(seed),
            t: 0,
        }
    }

    /// The centre `c_t` of round `t ≥ 1`.
    pub fn centre(&self, t: u64) -> Vec<f64> {
        let mut c = vec![0.0; self.dim];
        let flip = self.block > 0 && ((t - 1) / self.block) % 2 == 1;
        c[0] = if flip {
            -self.amplitude
        } else {
            self.amplitude
        };
        c
    }

    /// The next round's `ξ_t` (and advances `t`).
    pub fn next_target(&mut self) -> Vec<f64> {
        self.t += 1;
        let scale = self.noise / (self.dim as f64).sqrt();
        let c = self.centre(self.t);
        c.into_iter()
            .map(|ci| ci + scale * self.rng.normal())
            .collect()
    }

    /// `Σ_t F_t(x_t) − min_u Σ_t F_t(u)` over rounds `1..=T` for the plays `x_t` (the noise
    /// term `s²/2` cancels): the minimiser of `Σ ½‖u − c_t‖²` over the ball `‖u‖ ≤ radius`
    /// is the projection of the mean centre.
    pub fn expected_regret(&self, plays: &[Vec<f64>], radius: f64) -> f64 {
        let t_max = plays.len() as u64;
        let mut mean = vec![0.0; self.dim];
        let mut learner = 0.0;
        for (t, x) in (1..=t_max).zip(plays) {
            let c = self.centre(t);
            learner += 0.5
                * x.iter()
                    .zip(&c)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>();
            for (m, ci) in mean.iter_mut().zip(&c) {
                *m += ci / t_max as f64;
            }
        }
        let n = mean.iter().map(|v| v * v).sum::<f64>().sqrt();
        if n > radius {
            mean.iter_mut().for_each(|v| *v *= radius / n);
        }
        let best: f64 = (1..=t_max)
            .map(|t| {
                let c = self.centre(t);
                0.5 * mean
                    .iter()
                    .zip(&c)
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
            })
            .sum();
        learner - best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_has_the_stated_variance_and_centres_switch_by_block() {
        let mut s = SeaStream::new(10, 0.5, 3, 2.0, 7);
        let n = 20_000;
        let mut second = 0.0;
        for t in 1..=n {
            let xi = s.next_target();
            let c = s.centre(t);
            second += xi
                .iter()
                .zip(&c)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>();
        }
        let var = second / n as f64;
        assert!((var - 4.0).abs() < 0.1, "σ² = s² = 4, got {var}");
        assert_eq!(s.centre(1)[0], 0.5);
        assert_eq!(s.centre(3)[0], 0.5);
        assert_eq!(s.centre(4)[0], -0.5);
        assert_eq!(s.centre(7)[0], 0.5);
        assert_eq!(SeaStream::new(2, 0.5, 0, 0.0, 0).centre(1000)[0], 0.5);
    }

    #[test]
    fn regret_of_the_best_fixed_point_is_zero_and_positive_elsewhere() {
        let s = SeaStream::new(2, 0.5, 5, 0.0, 0);
        // blocks of 5 alternate, 20 rounds: mean centre 0
        let zero = vec![vec![0.0, 0.0]; 20];
        assert!(s.expected_regret(&zero, 1.0).abs() < 1e-12);
        let off = vec![vec![0.3, 0.0]; 20];
        // Σ ½(0.3 − c)² − Σ ½c² = 20 · ½ · 0.09 (cross terms cancel over balanced blocks)
        assert!((s.expected_regret(&off, 1.0) - 0.9).abs() < 1e-12);
    }
}
