//! The band-limiting filter of BL-SAC (Campo et al., arXiv 2006.11431; spec §4.3).
//!
//! The target critic is smoothed over the action by a kernel `K_σ`, estimated with `N` draws:
//!
//! ```text
//! (K_σ * Q̄_i)(s', a') ≈ (1/N) Σ_j Q̄_i(s', clip(a' + u_j, −1, 1)),   u_j ~ K_σ
//! ```
//!
//! Actions are in the learner's normalized units (`[−1, 1]`, so `σ` is in half-range units).
//! Every unknown of the paper is a parameter: the kernel, `σ`, `N`, the clip `c` of the
//! truncated/clamped kernels, where the filter sits relative to the min over critics, and
//! whether the draws are shared across the batch. `σ = 0` switches the filter off, and the
//! learner then takes SAC's code path (bit-identical to SAC). `N = 1` with the clamped
//! Gaussian (`σ = 0.2`, `c = 0.5`) is TD3's target-policy smoothing.

use mirrorflow_core::Rng;
use serde::{Deserialize, Serialize};

/// The smoothing kernel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kernel {
    /// `u ~ N(0, σ²)`.
    #[default]
    Gaussian,
    /// `u ~ U(−σ, σ)` (variance `σ²/3`).
    Uniform,
    /// `N(0, σ²)` conditioned on `|u| ≤ c` (rejection sampling).
    TruncatedGaussian,
    /// `clamp(N(0, σ²), −c, c)`: TD3's target-policy noise.
    ClampedGaussian,
}

/// Where the filter sits relative to the min over critics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterWhere {
    /// `min_i (K_σ * Q̄_i)`: smooth each critic, then take the min (default).
    #[default]
    PerCriticThenMin,
    /// `K_σ * (min_i Q̄_i)`: the min inside the average.
    MinThenFilter,
}

/// The filter's parameters (`[agent.band_limit]`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BandLimitConfig {
    /// Kernel family.
    pub kernel: Kernel,
    /// Width `σ` in half-range units (`0` = filter off: SAC).
    pub sigma: f64,
    /// Monte-Carlo draws `N` per target.
    pub n_samples: usize,
    /// Clip `c` (half-range units) of the truncated and clamped Gaussians.
    pub noise_clip: f64,
    /// Filter each critic then take the min, or the reverse.
    pub filter_where: FilterWhere,
    /// One set of `N` draws shared by every row of the batch (variance reduction).
    pub share_noise: bool,
}

impl Default for BandLimitConfig {
    fn default() -> Self {
        Self {
            kernel: Kernel::Gaussian,
            sigma: 0.1,
            n_samples: 8,
            noise_clip: 0.5,
            filter_where: FilterWhere::PerCriticThenMin,
            share_noise: false,
        }
    }
}

impl BandLimitConfig {
    /// The filter is off (`σ = 0`): the learner computes SAC's target.
    pub fn is_off(&self) -> bool {
        self.sigma == 0.0
    }

    /// Checks ranges; the message names the field and the value.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.sigma >= 0.0 && self.sigma <= 2.0) {
            return Err(format!(
                "band_limit.sigma = {}: must be in [0, 2] (half-range units; 0 = off)",
                self.sigma
            ));
        }
        if self.n_samples == 0 || self.n_samples > 1024 {
            return Err(format!(
                "band_limit.n_samples = {}: must be in 1..=1024",
                self.n_samples
            ));
        }
        let clipped = matches!(
            self.kernel,
            Kernel::TruncatedGaussian | Kernel::ClampedGaussian
        );
        if clipped && !(self.noise_clip > 0.0 && self.noise_clip.is_finite()) {
            return Err(format!(
                "band_limit.noise_clip = {}: must be > 0 for the {:?} kernel",
                self.noise_clip, self.kernel
            ));
        }
        if self.kernel == Kernel::TruncatedGaussian && self.noise_clip < 0.1 * self.sigma {
            return Err(format!(
                "band_limit.noise_clip = {} with sigma = {}: a truncated Gaussian needs c >= 0.1·σ (rejection sampling would rarely accept)",
                self.noise_clip, self.sigma
            ));
        }
        Ok(())
    }

    /// One draw `u ~ K_σ`.
    pub fn draw(&self, rng: &mut Rng) -> f64 {
        let s = self.sigma;
        match self.kernel {
            Kernel::Gaussian => s * rng.normal(),
            Kernel::Uniform => rng.uniform(-s, s),
            Kernel::ClampedGaussian => (s * rng.normal()).clamp(-self.noise_clip, self.noise_clip),
            Kernel::TruncatedGaussian => loop {
                let u = s * rng.normal();
                if u.abs() <= self.noise_clip {
                    break u;
                }
            },
        }
    }

    /// The `N · B` perturbed actions `clip(a'_i + u_j, low, high)`, draw-major (`[j][i][d]`),
    /// for `actions` of `B` rows of `act_dim`.
    pub fn perturb(
        &self,
        actions: &[f32],
        act_dim: usize,
        (low, high): (f64, f64),
        rng: &mut Rng,
    ) -> Vec<f32> {
        let n = self.n_samples;
        let mut out = Vec::with_capacity(n * actions.len());
        let shared: Vec<f64> = if self.share_noise {
            (0..n * act_dim).map(|_| self.draw(rng)).collect()
        } else {
            Vec::new()
        };
        for j in 0..n {
            for (k, &a) in actions.iter().enumerate() {
                let u = if self.share_noise {
                    shared[j * act_dim + k % act_dim]
                } else {
                    self.draw(rng)
                };
                out.push((a as f64 + u).clamp(low, high) as f32);
            }
        }
        out
    }

    /// The filtered target value per row from every critic's values at the perturbed actions
    /// (`q[c][j·B + i]`, as laid out by [`BandLimitConfig::perturb`]).
    pub fn combine(&self, q: &[Vec<f32>], batch: usize) -> Vec<f32> {
        let n = self.n_samples;
        let mean = |f: &dyn Fn(usize) -> f32, i: usize| -> f32 {
            ((0..n).map(|j| f(j * batch + i) as f64).sum::<f64>() / n as f64) as f32
        };
        (0..batch)
            .map(|i| match self.filter_where {
                FilterWhere::PerCriticThenMin => q
                    .iter()
                    .map(|qc| mean(&|k| qc[k], i))
                    .fold(f32::INFINITY, f32::min),
                FilterWhere::MinThenFilter => mean(
                    &|k| q.iter().map(|qc| qc[k]).fold(f32::INFINITY, f32::min),
                    i,
                ),
            })
            .collect()
    }

    /// `(K_σ * q)(a)` for one scalar critic `q`, estimated with this filter (tests, plots).
    pub fn smooth_scalar(
        &self,
        q: impl Fn(f64) -> f64,
        a: f64,
        bounds: (f64, f64),
        rng: &mut Rng,
    ) -> f64 {
        let acts = self.perturb(&[a as f32], 1, bounds, rng);
        let vals: Vec<f32> = acts.iter().map(|&x| q(x as f64) as f32).collect();
        self.combine(&[vals], 1)[0] as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FREE: (f64, f64) = (f64::NEG_INFINITY, f64::INFINITY);

    fn gaussian(sigma: f64, n: usize) -> BandLimitConfig {
        BandLimitConfig {
            sigma,
            n_samples: n,
            ..Default::default()
        }
    }

    /// Spec §4.4 oracle 2: `cos(ωa)` smoothed by a Gaussian is `exp(−σ²ω²/2) cos(ωa)`;
    /// ω = 2, σ = 0.5, a = 0 gives exp(−0.5); N = 10⁶ lies within 3e-3.
    #[test]
    fn gaussian_smoothing_of_a_cosine_matches_the_closed_form() {
        let f = gaussian(0.5, 1_000_000);
        for seed in 0..3 {
            let got = f.smooth_scalar(|a| (2.0 * a).cos(), 0.0, FREE, &mut Rng::seed_from(seed));
            assert!((got - 0.6065306597).abs() < 3e-3, "seed {seed}: {got}");
        }
    }

    /// Spec §4.4 oracle 3: a linear critic is unchanged; `−a²` becomes `−a² − Var(K)`
    /// (σ² for the Gaussian, σ²/3 for the uniform box).
    #[test]
    fn quadratic_and_linear_critics_shift_by_the_kernel_variance() {
        let mut rng = Rng::seed_from(11);
        let g = gaussian(0.3, 400_000);
        let lin = g.smooth_scalar(|a| 2.0 * a + 1.0, 0.2, FREE, &mut rng);
        assert!((lin - 1.4).abs() < 3e-3, "{lin}");
        let quad = g.smooth_scalar(|a| -a * a, 0.2, FREE, &mut rng);
        assert!((quad - (-0.04 - 0.09)).abs() < 2e-3, "{quad}");
        let u = BandLimitConfig {
            kernel: Kernel::Uniform,
            ..g
        };
        let quad = u.smooth_scalar(|a| -a * a, 0.2, FREE, &mut rng);
        assert!((quad - (-0.04 - 0.03)).abs() < 2e-3, "{quad}");
    }

    /// Clamped draws never leave [−c, c]; truncated ones neither, and keep more spread inside.
    #[test]
    fn clipped_kernels_respect_their_clip() {
        let mut rng = Rng::seed_from(3);
        for kernel in [Kernel::ClampedGaussian, Kernel::TruncatedGaussian] {
            let f = BandLimitConfig {
                kernel,
                sigma: 0.2,
                noise_clip: 0.25,
                ..Default::default()
            };
            f.validate().unwrap();
            let us: Vec<f64> = (0..20_000).map(|_| f.draw(&mut rng)).collect();
            assert!(us.iter().all(|u| u.abs() <= 0.25));
            let at_clip = us.iter().filter(|u| u.abs() == 0.25).count();
            match kernel {
                Kernel::ClampedGaussian => assert!(at_clip > 2000, "P(|u|>c) ≈ 21%: {at_clip}"),
                _ => assert_eq!(at_clip, 0),
            }
        }
    }

    /// N = 1 with a zero draw returns the critic's own value exactly (spec §4.4 oracle 1), for
    /// both placements of the min; actions are clipped to the bounds.
    #[test]
    fn one_zero_draw_is_exact_and_actions_are_clipped() {
        let f = BandLimitConfig {
            kernel: Kernel::Uniform,
            sigma: 0.0,
            n_samples: 1,
            ..Default::default()
        };
        let acts = [0.3f32, -0.7, 0.999];
        let p = f.perturb(&acts, 1, (-1.0, 1.0), &mut Rng::seed_from(0));
        assert_eq!(p, acts);
        let q = vec![vec![0.1f32, 2.5, -3.0], vec![0.2f32, 2.25, -3.5]];
        assert_eq!(f.combine(&q, 3), vec![0.1, 2.25, -3.5]);
        let g = BandLimitConfig {
            filter_where: FilterWhere::MinThenFilter,
            ..f
        };
        assert_eq!(g.combine(&q, 3), vec![0.1, 2.25, -3.5]);
        let wide = gaussian(5.0, 64);
        let p = wide.perturb(&acts, 1, (-1.0, 1.0), &mut Rng::seed_from(1));
        assert!(p.iter().all(|a| (-1.0..=1.0).contains(a)));
        assert!(p.contains(&1.0) && p.contains(&-1.0));
    }

    /// The two placements differ where the critics cross: min of means ≥ mean of mins.
    #[test]
    fn min_then_filter_is_below_per_critic_then_min() {
        // two draws, one row: critic 0 = (0, 2), critic 1 = (2, 0)
        let q = vec![vec![0.0f32, 2.0], vec![2.0f32, 0.0]];
        let per = gaussian(0.1, 2).combine(&q, 1)[0];
        let inside = BandLimitConfig {
            filter_where: FilterWhere::MinThenFilter,
            ..gaussian(0.1, 2)
        }
        .combine(&q, 1)[0];
        assert_eq!((per, inside), (1.0, 0.0));
    }

    #[test]
    fn shared_draws_are_the_same_for_every_row() {
        let f = BandLimitConfig {
            share_noise: true,
            ..gaussian(0.3, 4)
        };
        let p = f.perturb(&[0.0, 0.0, 0.0], 1, FREE, &mut Rng::seed_from(2));
        for j in 0..4 {
            assert_eq!(p[3 * j], p[3 * j + 1]);
            assert_eq!(p[3 * j], p[3 * j + 2]);
        }
    }

    #[test]
    fn bad_parameters_name_the_field() {
        let e = gaussian(-0.1, 8).validate().unwrap_err();
        assert!(e.contains("band_limit.sigma = -0.1"), "{e}");
        let e = gaussian(0.1, 0).validate().unwrap_err();
        assert!(e.contains("band_limit.n_samples = 0"), "{e}");
        let e = BandLimitConfig {
            kernel: Kernel::TruncatedGaussian,
            noise_clip: 0.0,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.contains("band_limit.noise_clip"), "{e}");
    }
}
