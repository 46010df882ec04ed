//! Off-policy learning from logged bandit feedback with exponentially smoothed importance
//! weights (Sakhi, Alquier & Chopin, ICML 2023; spec §9).
//!
//! Logs `(x_i, a_i, p0_i = π₀(a_i|x_i), c_i)` with costs `c ∈ [−1, 0]` (lower is better). The
//! estimators of the risk of a policy `π` (`π_i = π(a_i|x_i)`):
//!
//! ```text
//! exponential smoothing  R̂_α(π) = (1/n) Σ π_i c_i / p0_i^α      (α = 1: IPS, unbiased)
//! clipped IPS            R̂_ν(π) = (1/n) Σ π_i c_i / max(p0_i, ν)
//! SNIPS                  Σ (π_i/p0_i) c_i / Σ π_i/p0_i
//! ```
//!
//! [`SoftmaxPolicy`] is `π_θ(a|x) = softmax(θ_a·x)`; [`fit`] minimises
//! `R̂(π_θ) + (ρ/2)‖θ‖²` by full-batch gradient descent.

/// One logged round.
#[derive(Clone, Debug, PartialEq)]
pub struct Logged {
    /// Context.
    pub x: Vec<f64>,
    /// The action the logging policy took.
    pub action: usize,
    /// Its probability under the logging policy, `π₀(a|x) > 0`.
    pub propensity: f64,
    /// The observed cost, in `[−1, 0]`.
    pub cost: f64,
}

/// A risk estimator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Estimator {
    /// `π c / p0^α`, `α ∈ [0, 1]`.
    Smoothed {
        /// `α` (1 = IPS).
        alpha: f64,
    },
    /// `π c / max(p0, ν)`.
    Clipped {
        /// `ν > 0`.
        nu: f64,
    },
    /// Self-normalised IPS.
    Snips,
}

impl Estimator {
    /// The importance weight of a sample with propensity `p0` (before self-normalisation).
    fn weight(&self, p0: f64) -> f64 {
        match *self {
            Estimator::Smoothed { alpha } => p0.powf(-alpha),
            Estimator::Clipped { nu } => 1.0 / p0.max(nu),
            Estimator::Snips => 1.0 / p0,
        }
    }

    /// `R̂(π)` from the target policy's probabilities `pi[i] = π(a_i|x_i)`.
    pub fn risk(&self, pi: &[f64], logs: &[Logged]) -> f64 {
        let (mut num, mut den) = (0.0, 0.0);
        for (p, l) in pi.iter().zip(logs) {
            let w = self.weight(l.propensity);
            num += p * w * l.cost;
            den += p * w;
        }
        match self {
            Estimator::Snips if den > 0.0 => num / den,
            Estimator::Snips => 0.0,
            _ => num / logs.len().max(1) as f64,
        }
    }
}

/// `π_θ(a|x) = softmax(θ_a·x)` with `θ` a `K × d` matrix (row-major).
#[derive(Clone, Debug, PartialEq)]
pub struct SoftmaxPolicy {
    /// Actions `K`.
    pub actions: usize,
    /// Context dimension `d`.
    pub dim: usize,
    /// `θ`, `K × d`.
    pub theta: Vec<f64>,
}

impl SoftmaxPolicy {
    /// `θ = 0` (uniform).
    pub fn new(actions: usize, dim: usize) -> Self {
        Self {
            actions,
            dim,
            theta: vec![0.0; actions * dim],
        }
    }

    /// `π(·|x)`.
    pub fn probs(&self, x: &[f64]) -> Vec<f64> {
        let logits: Vec<f64> = (0..self.actions)
            .map(|a| {
                self.theta[a * self.dim..(a + 1) * self.dim]
                    .iter()
                    .zip(x)
                    .map(|(t, v)| t * v)
                    .sum()
            })
            .collect();
        let m = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = logits.iter().map(|l| (l - m).exp()).collect();
        let s: f64 = e.iter().sum();
        e.into_iter().map(|v| v / s).collect()
    }
}

/// Minimises `R̂(π_θ) + (ρ/2)‖θ‖²` over `θ` by `iterations` steps of full-batch gradient
/// descent with step `lr`, from `θ = 0`; a gradient longer than `max_norm` is scaled down to
/// it (importance weights `1/p0` can be huge under a peaked logging policy).
#[allow(
    clippy::too_many_arguments,
    reason = "the data, the model size and the solver knobs"
)]
pub fn fit(
    logs: &[Logged],
    actions: usize,
    dim: usize,
    estimator: Estimator,
    rho: f64,
    lr: f64,
    iterations: usize,
    max_norm: f64,
) -> SoftmaxPolicy {
    let mut pol = SoftmaxPolicy::new(actions, dim);
    let n = logs.len().max(1) as f64;
    for _ in 0..iterations {
        // per sample: π_i, its weight, and ∂π_i/∂θ_b = π_i (1{b = a_i} − π(b|x_i)) x_i
        let mut grad_num = vec![0.0; actions * dim];
        let mut grad_den = vec![0.0; actions * dim];
        let (mut num, mut den) = (0.0, 0.0);
        for l in logs {
            let p = pol.probs(&l.x);
            let pi = p[l.action];
            let w = estimator.weight(l.propensity);
            num += pi * w * l.cost;
            den += pi * w;
            for (b, &pb) in p.iter().enumerate() {
                let coef = pi * (f64::from(u8::from(b == l.action)) - pb);
                for (j, &xj) in l.x.iter().enumerate() {
                    grad_num[b * dim + j] += coef * w * l.cost * xj;
                    grad_den[b * dim + j] += coef * w * xj;
                }
            }
        }
        let grad: Vec<f64> = (0..actions * dim)
            .map(|k| {
                let g = match estimator {
                    Estimator::Snips if den > 0.0 => {
                        (grad_num[k] * den - num * grad_den[k]) / (den * den)
                    }
                    Estimator::Snips => 0.0,
                    _ => grad_num[k] / n,
                };
                g + rho * pol.theta[k]
            })
            .collect();
        let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
        let scale = if norm > max_norm {
            max_norm / norm
        } else {
            1.0
        };
        for (t, g) in pol.theta.iter_mut().zip(&grad) {
            *t -= lr * scale * g;
        }
    }
    pol
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> (Vec<f64>, Vec<Logged>) {
        let log = |p0: f64, c: f64| Logged {
            x: vec![1.0],
            action: 0,
            propensity: p0,
            cost: c,
        };
        (vec![0.5, 0.2], vec![log(0.25, -1.0), log(0.8, -0.5)])
    }

    #[test]
    fn spec_oracles_for_the_smoothed_estimator() {
        let (pi, logs) = two();
        for (alpha, want) in [(0.0, -0.3), (0.5, -0.5559016994), (1.0, -1.0625)] {
            let got = Estimator::Smoothed { alpha }.risk(&pi, &logs);
            assert!((got - want).abs() < 1e-10, "α = {alpha}: {got}");
        }
        // clipping at ν = 0.5 lifts the small propensity: (0.5·−1/0.5 + 0.2·−0.5/0.8)/2
        let c = Estimator::Clipped { nu: 0.5 }.risk(&pi, &logs);
        assert!((c - (-1.0 - 0.125) / 2.0).abs() < 1e-15);
        // SNIPS: Σ w π c / Σ w π with w = 1/p0
        let s = Estimator::Snips.risk(&pi, &logs);
        assert!((s - (-2.0 - 0.125) / (2.0 + 0.25)).abs() < 1e-15);
    }

    #[test]
    fn ips_is_unbiased_by_enumeration() {
        // 3 contexts (uniform), 3 actions, a logging policy and a target policy; E[R̂_1] over
        // every (context, action) pair weighted by its probability equals the true risk
        let ctx = [vec![1.0, 0.0], vec![0.0, 1.0], vec![0.7, -0.4]];
        let cost = |x: &[f64], a: usize| -1.0 / (1.0 + (-(x[0] * a as f64 - x[1])).exp());
        let mut logging = SoftmaxPolicy::new(3, 2);
        logging.theta = vec![0.3, -0.2, -0.5, 0.8, 0.1, 0.4];
        let mut target = SoftmaxPolicy::new(3, 2);
        target.theta = vec![1.0, 0.0, -1.0, 0.5, 0.2, -0.3];
        let (mut expected, mut truth) = (0.0, 0.0);
        for x in &ctx {
            let (p0, p) = (logging.probs(x), target.probs(x));
            for a in 0..3 {
                truth += p[a] * cost(x, a) / 3.0;
                let l = Logged {
                    x: x.clone(),
                    action: a,
                    propensity: p0[a],
                    cost: cost(x, a),
                };
                // one-sample estimate, weighted by the probability of logging (x, a)
                expected += p0[a] / 3.0 * Estimator::Smoothed { alpha: 1.0 }.risk(&[p[a]], &[l]);
            }
        }
        assert!((expected - truth).abs() < 1e-15, "{expected} vs {truth}");
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let logs: Vec<Logged> = (0..20)
            .map(|i| {
                let x = vec![(i as f64 * 0.37).sin(), (i as f64 * 0.11).cos(), 1.0];
                Logged {
                    x,
                    action: i % 3,
                    propensity: 0.2 + 0.1 * (i % 4) as f64,
                    cost: -((i % 5) as f64) / 4.0,
                }
            })
            .collect();
        for est in [
            Estimator::Smoothed { alpha: 0.6 },
            Estimator::Clipped { nu: 0.25 },
            Estimator::Snips,
        ] {
            // one gradient step from 0 with lr = 1 and ρ = 0 gives θ = −∇R̂(0)
            let step = fit(&logs, 3, 3, est, 0.0, 1.0, 1, f64::INFINITY);
            let h = 1e-6;
            for k in 0..9 {
                let mut up = SoftmaxPolicy::new(3, 3);
                up.theta[k] = h;
                let mut down = SoftmaxPolicy::new(3, 3);
                down.theta[k] = -h;
                let r = |p: &SoftmaxPolicy| {
                    let pi: Vec<f64> = logs.iter().map(|l| p.probs(&l.x)[l.action]).collect();
                    est.risk(&pi, &logs)
                };
                let fd = (r(&up) - r(&down)) / (2.0 * h);
                assert!(
                    (fd + step.theta[k]).abs() < 1e-7,
                    "{est:?} {k}: {fd} vs {}",
                    -step.theta[k]
                );
            }
        }
    }
}
