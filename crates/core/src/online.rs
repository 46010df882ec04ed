//! Online learning from streams of examples, kept apart from [`Env`](crate::Env): each round
//! the learner predicts for the example's features (it "plays" its weights `w_t` on them),
//! then the label is revealed and the learner pays the loss of its prediction and updates.
//!
//! ```text
//! for t = 1, 2, …:   a_t arrives → ŷ_t = ⟨w_t, a_t⟩ (predict) → y_t revealed → ℓ_t(w_t) paid → update
//! ```
//!
//! Progressive validation falls out: every prediction is made before the example is learned
//! from. Features are sparse (`index`, `value`) pairs so that LIBSVM-scale dimensions cost only
//! the active coordinates per round.

use serde::{Deserialize, Serialize};

/// A sparse feature vector: `(index, value)` pairs, indices unique (any order).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Features {
    /// Feature indices.
    pub index: Vec<u32>,
    /// Their values.
    pub value: Vec<f32>,
}

impl Features {
    /// `⟨w, a⟩` over the active coordinates (indices past `w` count as zero weight).
    pub fn dot(&self, w: &[f64]) -> f64 {
        self.index
            .iter()
            .zip(&self.value)
            .map(|(&i, &v)| w.get(i as usize).copied().unwrap_or(0.0) * v as f64)
            .sum()
    }

    /// `‖a‖²`.
    pub fn norm_sq(&self) -> f64 {
        self.value.iter().map(|&v| (v as f64) * (v as f64)).sum()
    }

    /// Number of active coordinates.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no coordinate is active.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// One past the largest index (0 when empty).
    pub fn dim(&self) -> usize {
        self.index.iter().max().map_or(0, |&m| m as usize + 1)
    }

    /// Clears for reuse (keeps the allocations).
    pub fn clear(&mut self) {
        self.index.clear();
        self.value.clear();
    }
}

/// One example of a stream.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Example {
    /// The features `a_t`.
    pub features: Features,
    /// The label `y_t`: ±1 for classification, a real number for regression.
    pub label: f64,
}

/// The loss of a linear prediction `m = ⟨w, a⟩` against label `y`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinearLoss {
    /// `ln(1 + e^{−y m})`, `y ∈ {−1, +1}`; probability `σ(m)`.
    Logistic,
    /// `½ (m − y)²`.
    Squared,
    /// `max(0, 1 − y m)`, `y ∈ {−1, +1}`.
    Hinge,
}

impl LinearLoss {
    /// `ℓ(m; y)`, computed stably.
    pub fn value(self, m: f64, y: f64) -> f64 {
        match self {
            LinearLoss::Logistic => softplus(-y * m),
            LinearLoss::Squared => 0.5 * (m - y) * (m - y),
            LinearLoss::Hinge => (1.0 - y * m).max(0.0),
        }
    }

    /// `dℓ/dm` (a subgradient for the hinge: 0 at the kink).
    pub fn derivative(self, m: f64, y: f64) -> f64 {
        match self {
            LinearLoss::Logistic => -y * sigmoid(-y * m),
            LinearLoss::Squared => m - y,
            LinearLoss::Hinge => {
                if y * m < 1.0 {
                    -y
                } else {
                    0.0
                }
            }
        }
    }

    /// Whether labels are classes `±1` (logistic, hinge) rather than real values.
    pub fn is_classification(self) -> bool {
        !matches!(self, LinearLoss::Squared)
    }
}

/// `σ(x) = 1 / (1 + e^{−x})`, stable for large |x|.
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + e^x)`, stable for large |x|.
pub fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// Progressive log-loss of probability `p` for label `y ∈ {−1, +1}` (natural log, `p` clipped
/// to `[1e-15, 1 − 1e-15]` as VW and scikit-learn report it).
pub fn log_loss(p: f64, y: f64) -> f64 {
    let p = p.clamp(1e-15, 1.0 - 1e-15);
    if y > 0.0 { -p.ln() } else { -(1.0 - p).ln() }
}

/// A learner of linear predictors from a stream, round by round.
pub trait OnlineLearner {
    /// The margin `⟨w_t, a⟩` the learner plays for these features this round.
    fn predict(&mut self, features: &Features) -> f64;

    /// The label is revealed: pay the loss of the prediction made by [`predict`](Self::predict)
    /// for the same features this round, and update.
    fn learn(&mut self, features: &Features, label: f64, loss: LinearLoss);

    /// The dense weights `w` (for averaging across data-parallel shards and for checkpoints).
    fn weights(&self) -> Vec<f64>;

    /// Replaces the weights (after averaging); per-coordinate statistics are kept.
    fn set_weights(&mut self, w: &[f64]);
}

/// A round-based online convex optimization learner over vectors (spec §6, §7): in round `t`
/// it plays `x_t`, then nature reveals `g_t = ∇f_t(x_t)` (a linear loss's vector, a
/// subgradient). Expert/bandit learners play points of the simplex.
pub trait OcoLearner {
    /// Plays `x_t` (advances the round).
    fn play(&mut self) -> &[f64];

    /// Reveals the round's (sub)gradient at the played point.
    fn observe(&mut self, grad: &[f64]);
}

/// A stream of examples read in order (a file, a generator), possibly one shard of a larger
/// stream. Malformed input is either an error or skipped and counted, never dropped silently.
pub trait ExampleSource: Send {
    /// Reads the next example into `out`; `Ok(false)` at the end of the stream.
    fn next_into(&mut self, out: &mut Example) -> Result<bool, crate::Error>;

    /// Malformed records skipped so far.
    fn skipped(&self) -> u64 {
        0
    }

    /// The first messages of skipped records (`file:line: what`), at most a few.
    fn first_skipped(&self) -> Vec<String> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn losses_and_derivatives_agree_with_finite_differences() {
        for loss in [LinearLoss::Logistic, LinearLoss::Squared, LinearLoss::Hinge] {
            for &(m, y) in &[(0.3, 1.0), (-2.0, 1.0), (1.7, -1.0), (40.0, -1.0)] {
                let h = 1e-6;
                let fd = (loss.value(m + h, y) - loss.value(m - h, y)) / (2.0 * h);
                assert!(
                    (fd - loss.derivative(m, y)).abs() < 1e-5,
                    "{loss:?} {m} {y}"
                );
            }
        }
        assert!((softplus(800.0) - 800.0).abs() < 1e-12);
        assert!(softplus(-800.0) >= 0.0 && softplus(-800.0) < 1e-300);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-15);
        assert!((log_loss(0.0, 1.0) - 15.0 * 10f64.ln()).abs() < 1e-9);
    }

    #[test]
    fn sparse_dot_ignores_missing_weights() {
        let a = Features {
            index: vec![0, 5, 2],
            value: vec![1.0, 2.0, -1.0],
        };
        assert_eq!(a.dot(&[1.0, 0.0, 3.0]), 1.0 - 3.0);
        assert_eq!(a.dim(), 6);
        assert_eq!(a.norm_sq(), 6.0);
    }
}
