//! Linear predictors learned from example streams ([`OnlineLearner`]): FTRL-Proximal in
//! McMahan et al.'s per-coordinate parameterization (KDD 2013, Algorithm 1) and online
//! gradient descent (OMD with the Euclidean mirror map, unconstrained) with constant, `1/√t`
//! or per-coordinate AdaGrad steps.
//!
//! FTRL-Proximal, per coordinate `i` (state `z_i`, `n_i`; `α`, `β`, `λ₁`, `λ₂`):
//!
//! ```text
//! w_i = 0                                              if |z_i| ≤ λ₁
//!     = −(z_i − sgn(z_i) λ₁) / ((β + √n_i)/α + λ₂)     otherwise
//! g_i = ℓ'(⟨w, a⟩; y) · a_i
//! σ_i = (√(n_i + g_i²) − √n_i) / α
//! z_i ← z_i + g_i − σ_i w_i,     n_i ← n_i + g_i²
//! ```
//!
//! Only the active coordinates of an example are touched, and the state grows with the
//! largest index seen, so LIBSVM-scale sparse data costs per round what the example holds.

use mirrorflow_core::{Features, LinearLoss, OnlineLearner};
use serde::{Deserialize, Serialize};

/// FTRL-Proximal hyper-parameters (McMahan et al. 2013 names).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FtrlProximalConfig {
    /// Per-coordinate learning-rate scale `α`.
    pub alpha: f64,
    /// Learning-rate offset `β` (1 is the paper's advice).
    pub beta: f64,
    /// L1 strength `λ₁` (sparsity).
    pub l1: f64,
    /// L2 strength `λ₂`.
    pub l2: f64,
}

impl Default for FtrlProximalConfig {
    fn default() -> Self {
        Self {
            alpha: 0.1,
            beta: 1.0,
            l1: 0.0,
            l2: 0.0,
        }
    }
}

impl FtrlProximalConfig {
    /// Checks ranges; the message names the field and the value.
    pub fn validate(&self) -> Result<(), String> {
        let bad = |name: &str, v: f64, want: &str| Err(format!("{name} = {v}: {want}"));
        if !(self.alpha > 0.0 && self.alpha.is_finite()) {
            return bad("alpha", self.alpha, "must be > 0");
        }
        if !(self.beta >= 0.0 && self.beta.is_finite()) {
            return bad("beta", self.beta, "must be >= 0");
        }
        if !(self.l1 >= 0.0 && self.l1.is_finite()) {
            return bad("l1", self.l1, "must be >= 0");
        }
        if !(self.l2 >= 0.0 && self.l2.is_finite()) {
            return bad("l2", self.l2, "must be >= 0");
        }
        Ok(())
    }
}

/// The state of one coordinate, kept together so that a round touches one cache line per
/// active coordinate.
#[derive(Clone, Copy, Debug)]
struct Coord {
    z: f64,
    n: f64,
    /// `√n`, so that a round takes one square root per active coordinate.
    sqrt_n: f64,
    /// `1 / ((β + √n)/α + λ₂)`, so that predicting needs no division.
    inv_denom: f64,
}

/// FTRL-Proximal.
#[derive(Clone, Debug)]
pub struct FtrlProximal {
    cfg: FtrlProximalConfig,
    inv_alpha: f64,
    coords: Vec<Coord>,
    /// `w_i` for the active coordinates of the current example (filled by `predict`).
    active: Vec<f64>,
    margin: f64,
}

impl FtrlProximal {
    /// A learner with zero state.
    pub fn new(cfg: FtrlProximalConfig) -> Self {
        Self {
            inv_alpha: 1.0 / cfg.alpha,
            cfg,
            coords: Vec::new(),
            active: Vec::new(),
            margin: 0.0,
        }
    }

    fn grow(&mut self, dim: usize) {
        if dim > self.coords.len() {
            let fresh = Coord {
                z: 0.0,
                n: 0.0,
                sqrt_n: 0.0,
                inv_denom: self.denom_inverse(0.0),
            };
            self.coords.resize(dim, fresh);
        }
    }

    fn denom_inverse(&self, sqrt_n: f64) -> f64 {
        1.0 / ((self.cfg.beta + sqrt_n) * self.inv_alpha + self.cfg.l2)
    }

    fn weight_of(c: &Coord, l1: f64) -> f64 {
        if c.z.abs() <= l1 {
            0.0
        } else {
            -(c.z - c.z.signum() * l1) * c.inv_denom
        }
    }
}

impl OnlineLearner for FtrlProximal {
    fn predict(&mut self, a: &Features) -> f64 {
        self.grow(a.dim());
        self.active.clear();
        let l1 = self.cfg.l1;
        let mut m = 0.0;
        for (&i, &v) in a.index.iter().zip(&a.value) {
            let w = Self::weight_of(&self.coords[i as usize], l1);
            self.active.push(w);
            m += w * v as f64;
        }
        self.margin = m;
        m
    }

    fn learn(&mut self, a: &Features, label: f64, loss: LinearLoss) {
        if self.active.len() != a.len() {
            // `learn` without a `predict` for these features: play them now
            self.predict(a);
        }
        let d = loss.derivative(self.margin, label);
        let (inv_alpha, beta, l2) = (self.inv_alpha, self.cfg.beta, self.cfg.l2);
        for ((&i, &v), &w) in a.index.iter().zip(&a.value).zip(&self.active) {
            let c = &mut self.coords[i as usize];
            let g = d * v as f64;
            let n = c.n + g * g;
            let root = n.sqrt();
            let sigma = (root - c.sqrt_n) * inv_alpha;
            c.z += g - sigma * w;
            c.n = n;
            c.sqrt_n = root;
            c.inv_denom = 1.0 / ((beta + root) * inv_alpha + l2);
        }
        self.active.clear();
    }

    fn weights(&self) -> Vec<f64> {
        self.coords
            .iter()
            .map(|c| Self::weight_of(c, self.cfg.l1))
            .collect()
    }

    /// Sets `z` so that the closed form gives `w` with the current `n` (exact when `λ₁ = 0`
    /// or `w_i ≠ 0`; a zero weight maps to `z_i = 0`).
    fn set_weights(&mut self, w: &[f64]) {
        self.grow(w.len());
        let l1 = self.cfg.l1;
        for (c, &wi) in self.coords.iter_mut().zip(w) {
            c.z = if wi == 0.0 {
                0.0
            } else {
                -wi / c.inv_denom - wi.signum() * l1
            };
        }
    }
}

/// Step sizes of [`Ogd`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepSize {
    /// `η_t = η`.
    Constant {
        /// `η`.
        eta: f64,
    },
    /// `η_t = η / √t` (convex losses).
    InvSqrt {
        /// `η`.
        eta: f64,
    },
    /// `η_t = 1/(λ t)` (λ-strongly convex losses).
    StronglyConvex {
        /// `λ`.
        lambda: f64,
    },
    /// Per coordinate `η / √(δ + Σ_s g_{s,i}²)` (AdaGrad).
    Adagrad {
        /// `η`.
        eta: f64,
        /// `δ > 0`.
        delta: f64,
    },
}

/// Online gradient descent on linear predictors: `w ← w − η_t ℓ'(⟨w, a⟩; y) a` (OMD with the
/// Euclidean mirror map, unconstrained), optionally onto the ball `‖w‖ ≤ radius` (dense
/// rescale, so use it with moderate dimensions).
#[derive(Clone, Debug)]
pub struct Ogd {
    step: StepSize,
    radius: Option<f64>,
    w: Vec<f64>,
    g2: Vec<f64>,
    t: u64,
    margin: f64,
}

impl Ogd {
    /// Starts at `w = 0`.
    pub fn new(step: StepSize, radius: Option<f64>) -> Self {
        Self {
            step,
            radius,
            w: Vec::new(),
            g2: Vec::new(),
            t: 0,
            margin: 0.0,
        }
    }
}

impl OnlineLearner for Ogd {
    fn predict(&mut self, a: &Features) -> f64 {
        if a.dim() > self.w.len() {
            self.w.resize(a.dim(), 0.0);
            self.g2.resize(a.dim(), 0.0);
        }
        self.margin = a.dot(&self.w);
        self.margin
    }

    fn learn(&mut self, a: &Features, label: f64, loss: LinearLoss) {
        self.predict(a);
        self.t += 1;
        let d = loss.derivative(self.margin, label);
        let t = self.t as f64;
        for (&i, &v) in a.index.iter().zip(&a.value) {
            let i = i as usize;
            let g = d * v as f64;
            let eta = match self.step {
                StepSize::Constant { eta } => eta,
                StepSize::InvSqrt { eta } => eta / t.sqrt(),
                StepSize::StronglyConvex { lambda } => 1.0 / (lambda * t),
                StepSize::Adagrad { eta, delta } => {
                    self.g2[i] += g * g;
                    eta / (delta + self.g2[i]).sqrt()
                }
            };
            self.w[i] -= eta * g;
        }
        if let Some(r) = self.radius {
            let norm = self.w.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm > r {
                self.w.iter_mut().for_each(|x| *x *= r / norm);
            }
        }
    }

    fn weights(&self) -> Vec<f64> {
        self.w.clone()
    }

    fn set_weights(&mut self, w: &[f64]) {
        self.w = w.to_vec();
        if self.g2.len() < w.len() {
            self.g2.resize(w.len(), 0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feats(pairs: &[(u32, f32)]) -> Features {
        Features {
            index: pairs.iter().map(|p| p.0).collect(),
            value: pairs.iter().map(|p| p.1).collect(),
        }
    }

    /// One round by hand: w = 0, logistic, y = +1, a = (1 at 0, 2 at 3), α = 0.5, β = 1:
    /// g = −½ a = (−0.5, −1); n = g²; σ = |g|/α; z = g (w was 0); then
    /// w_0 = −z_0/((1 + 0.5)/0.5) = 0.5/3, w_3 = 1/((1 + 1)/0.5) = 0.25.
    #[test]
    fn ftrl_proximal_round_by_hand() {
        let mut f = FtrlProximal::new(FtrlProximalConfig {
            alpha: 0.5,
            ..Default::default()
        });
        let a = feats(&[(0, 1.0), (3, 2.0)]);
        assert_eq!(f.predict(&a), 0.0);
        f.learn(&a, 1.0, LinearLoss::Logistic);
        let w = f.weights();
        assert!((w[0] - 0.5 / 3.0).abs() < 1e-15, "{w:?}");
        assert!((w[3] - 0.25).abs() < 1e-15, "{w:?}");
        assert_eq!((w[1], w[2]), (0.0, 0.0));
        // L1 larger than |z| zeroes the coordinate
        let mut sparse = FtrlProximal::new(FtrlProximalConfig {
            alpha: 0.5,
            l1: 0.75,
            ..Default::default()
        });
        sparse.predict(&a);
        sparse.learn(&a, 1.0, LinearLoss::Logistic);
        let w = sparse.weights();
        assert_eq!(w[0], 0.0);
        assert!((w[3] - 0.25 / 4.0).abs() < 1e-15, "{w:?}");
    }

    #[test]
    fn set_weights_round_trips() {
        let mut f = FtrlProximal::new(FtrlProximalConfig {
            l2: 0.3,
            ..Default::default()
        });
        let a = feats(&[(1, 1.0), (2, -1.5)]);
        for y in [1.0, -1.0, 1.0] {
            f.predict(&a);
            f.learn(&a, y, LinearLoss::Logistic);
        }
        let target = vec![0.0, 0.7, -0.2];
        f.set_weights(&target);
        for (a, b) in f.weights().iter().zip(&target) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    /// With a constant step, OGD on the squared loss is w ← w − η (⟨w, a⟩ − y) a.
    #[test]
    fn ogd_constant_step_by_hand() {
        let mut o = Ogd::new(StepSize::Constant { eta: 0.1 }, None);
        let a = feats(&[(0, 1.0), (1, 2.0)]);
        o.predict(&a);
        o.learn(&a, 3.0, LinearLoss::Squared);
        assert_eq!(o.weights(), vec![0.1 * 3.0, 0.1 * 6.0]);
        o.predict(&a);
        o.learn(&a, 3.0, LinearLoss::Squared);
        let m = 0.3 + 1.2;
        let w = o.weights();
        assert!((w[0] - (0.3 - 0.1 * (m - 3.0))).abs() < 1e-15);
        let mut ball = Ogd::new(StepSize::Constant { eta: 10.0 }, Some(1.0));
        ball.predict(&a);
        ball.learn(&a, 3.0, LinearLoss::Squared);
        let n: f64 = ball.weights().iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((n - 1.0).abs() < 1e-12);
    }

    /// Both learners fit a separable logistic stream (progressive accuracy well above chance).
    #[test]
    fn learners_fit_a_logistic_stream() {
        let mut rng = mirrorflow_core::Rng::seed_from(3);
        let w_true = [1.5, -2.0, 0.5, 0.0, 1.0];
        let mut learners: Vec<Box<dyn OnlineLearner>> = vec![
            Box::new(FtrlProximal::new(FtrlProximalConfig::default())),
            Box::new(Ogd::new(
                StepSize::Adagrad {
                    eta: 0.5,
                    delta: 1e-8,
                },
                None,
            )),
        ];
        for l in learners.iter_mut() {
            let mut correct = 0;
            for t in 0..5000 {
                let a = feats(
                    &(0..5)
                        .map(|i| (i as u32, rng.normal() as f32))
                        .collect::<Vec<_>>(),
                );
                let m_true = a.dot(&w_true);
                let y = if m_true > 0.0 { 1.0 } else { -1.0 };
                let m = l.predict(&a);
                if t >= 4000 && m * y > 0.0 {
                    correct += 1;
                }
                l.learn(&a, y, LinearLoss::Logistic);
            }
            assert!(correct > 900, "{correct} of the last 1000");
        }
    }
}
