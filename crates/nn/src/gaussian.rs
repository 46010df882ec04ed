//! The tanh-squashed Gaussian actor of SAC (Haarnoja et al. 2018, spec §4.2).
//!
//! An [`Mlp`] maps the observation to `(μ, ln σ)` (`2·dim(A)` outputs: the shared-trunk,
//! two-linear-heads actor of SB3 and CleanRL written as one last layer). With `ε ~ N(0, I)`:
//!
//! ```text
//! u = μ + σ ε,    a = tanh(u) ∈ (−1, 1)^d
//! ln π(a|s) = Σ_d [ −ε_d²/2 − ln σ_d − ln(2π)/2 ] − Σ_d ln(1 − tanh² u_d)
//! ln(1 − tanh² u) = 2 (ln 2 − u − softplus(−2u))        (stable for any u)
//! ```
//!
//! The noise `ε` comes from the caller, so a learner's randomness is its own seeded generator
//! and not burn's global state. Actions are in `[−1, 1]`; scaling to the env's bounds is the
//! caller's.

use crate::{Mlp, MlpConfig};
use burn::module::Module;
use burn::tensor::activation::softplus;
use burn::tensor::{Device, Tensor};

/// Bounds of `ln σ` (as in SB3).
pub const LOG_STD_BOUNDS: (f32, f32) = (-20.0, 2.0);

/// `ln(1 − tanh² u)` in the stable form `2 (ln 2 − u − softplus(−2u))`, in f64 (the reference
/// the tensor form is tested against).
pub fn squash_correction_f64(u: f64) -> f64 {
    let softplus = |x: f64| if x > 20.0 { x } else { x.exp().ln_1p() };
    2.0 * (std::f64::consts::LN_2 - u - softplus(-2.0 * u))
}

/// `ln(1 − tanh² u)` element-wise, stable form.
pub fn squash_correction(u: Tensor<2>) -> Tensor<2> {
    let minus_two_u = u.clone().mul_scalar(-2.0);
    (u + softplus(minus_two_u, 1.0))
        .neg()
        .add_scalar(std::f32::consts::LN_2)
        .mul_scalar(2.0)
}

/// The actor: observation → squashed Gaussian over `[−1, 1]^act_dim`.
#[derive(Module, Debug)]
pub struct SquashedGaussian {
    net: Mlp,
    act_dim: usize,
}

/// One reparameterized draw: actions in `[−1, 1]` and their log-probabilities (`[batch, 1]`).
pub struct Draw {
    /// `tanh(u)`, `[batch, act_dim]`.
    pub action: Tensor<2>,
    /// `ln π(a|s)`, `[batch, 1]`.
    pub log_prob: Tensor<2>,
}

impl SquashedGaussian {
    /// `obs_dim → hidden… → 2·act_dim`, seeded as [`MlpConfig::init_seeded`].
    pub fn init_seeded(
        obs_dim: usize,
        hidden: &[usize],
        act_dim: usize,
        device: &Device,
        seed: u64,
    ) -> Self {
        Self {
            net: MlpConfig::new(obs_dim, hidden, 2 * act_dim).init_seeded(device, seed),
            act_dim,
        }
    }

    /// The same shape with burn's default initialisation (to load a snapshot into).
    pub fn init(obs_dim: usize, hidden: &[usize], act_dim: usize, device: &Device) -> Self {
        Self {
            net: MlpConfig::new(obs_dim, hidden, 2 * act_dim).init(device),
            act_dim,
        }
    }

    /// `(μ, ln σ)`, each `[batch, act_dim]`, `ln σ` clamped to [`LOG_STD_BOUNDS`].
    pub fn mean_log_std(&self, obs: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
        let out = self.net.forward(obs);
        let d = self.act_dim;
        let mean = out.clone().narrow(1, 0, d);
        let log_std = out
            .narrow(1, d, d)
            .clamp(LOG_STD_BOUNDS.0, LOG_STD_BOUNDS.1);
        (mean, log_std)
    }

    /// The deterministic action `tanh(μ)`.
    pub fn mean_action(&self, obs: Tensor<2>) -> Tensor<2> {
        self.mean_log_std(obs).0.tanh()
    }

    /// A reparameterized draw with noise `eps` (`[batch, act_dim]`, standard normal).
    pub fn sample(&self, obs: Tensor<2>, eps: Tensor<2>) -> Draw {
        let (mean, log_std) = self.mean_log_std(obs);
        let u = mean + log_std.clone().exp() * eps.clone();
        let half_ln_2pi = 0.5 * (2.0 * std::f32::consts::PI).ln();
        let gaussian = (eps.square().mul_scalar(-0.5) - log_std).sub_scalar(half_ln_2pi);
        let log_prob = (gaussian - squash_correction(u.clone())).sum_dim(1);
        Draw {
            action: u.tanh(),
            log_prob,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu;
    use burn::tensor::TensorData;

    /// Spec §4.4 oracle 4: in f64 the stable form equals the naive one to 1e-9 for |u| < 5, and
    /// stays finite at |u| = 20 where the naive form is −∞.
    #[test]
    fn the_stable_correction_matches_the_naive_form_and_stays_finite() {
        let mut worst = 0.0f64;
        for i in -5000..=5000 {
            let u = i as f64 / 1000.0 * 0.999;
            let naive = (1.0 - u.tanh().powi(2)).ln();
            worst = worst.max((squash_correction_f64(u) - naive).abs());
        }
        assert!(worst < 1e-9, "max difference {worst}");
        let at20 = squash_correction_f64(20.0);
        assert!((at20 - (-38.6137056389)).abs() < 1e-9, "{at20}");
        assert_eq!((1.0 - 20.0f64.tanh().powi(2)).ln(), f64::NEG_INFINITY);
        assert!(
            (squash_correction_f64(-20.0) - at20).abs() < 1e-9,
            "even in u"
        );
        // the tensor form agrees with the f64 reference (f32 tolerance)
        let us = [-20.0f32, -3.0, -0.5, 0.0, 0.7, 4.0, 20.0];
        let t = Tensor::<2>::from_data(TensorData::new(us.to_vec(), [1, us.len()]), &cpu());
        let got = squash_correction(t)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        for (u, g) in us.iter().zip(got) {
            let want = squash_correction_f64(*u as f64);
            assert!(
                g.is_finite() && (g as f64 - want).abs() < 1e-4,
                "u={u}: {g} vs {want}"
            );
        }
    }

    /// With σ fixed by the network, the log-density of a draw is the change-of-variables formula
    /// computed by hand in f64.
    #[test]
    fn log_prob_is_the_squashed_gaussian_density() {
        let dev = cpu();
        let actor = SquashedGaussian::init_seeded(3, &[8], 2, &dev, 7);
        let obs = Tensor::<2>::from_data(TensorData::new(vec![0.1f32, -0.4, 0.9], [1, 3]), &dev);
        let eps = Tensor::<2>::from_data(TensorData::new(vec![0.3f32, -1.2], [1, 2]), &dev);
        let (mean, log_std) = actor.mean_log_std(obs.clone());
        let mean = mean.into_data().try_into_vec::<f32>().unwrap();
        let log_std = log_std.into_data().try_into_vec::<f32>().unwrap();
        let draw = actor.sample(obs, eps);
        let a = draw.action.into_data().try_into_vec::<f32>().unwrap();
        let lp = draw.log_prob.into_scalar::<f32>() as f64;
        let mut want = 0.0;
        for (d, e) in [0.3f64, -1.2].into_iter().enumerate() {
            let s = (log_std[d] as f64).exp();
            let u = mean[d] as f64 + s * e;
            assert!((a[d] as f64 - u.tanh()).abs() < 1e-6);
            let normal = -0.5 * e * e - s.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
            want += normal - (1.0 - u.tanh().powi(2)).ln();
        }
        assert!((lp - want).abs() < 1e-4, "{lp} vs {want}");
    }
}
