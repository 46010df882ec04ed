//! Mirror maps (regularizers `ψ` with their feasible sets) shared by online mirror descent and
//! FTRL, and the step-size schedules of spec §6.2.
//!
//! A [`MirrorMap`] answers the two problems every first-order online learner solves:
//!
//! ```text
//! OMD step:  argmin_{x∈X} η⟨d, x⟩ + B_ψ(x, from)
//! FTRL:      argmin_{x∈X} ⟨θ, x⟩ + ψ(x)/η
//! ```
//!
//! | map | `X` | `ψ` | OMD step | FTRL point |
//! |---|---|---|---|---|
//! | [`Geometry::EuclideanBall`] | `‖x‖ ≤ r` | `½‖x‖²` | `Π(from − ηd)` | `Π(−ηθ)` |
//! | [`Geometry::EuclideanBox`] | `lo ≤ x ≤ hi` | `½‖x‖²` | clip | clip |
//! | [`Geometry::Entropic`] | simplex | `Σ x ln x` | `∝ from ⊙ e^{−ηd}` | softmax(−ηθ) |
//! | [`Geometry::HalfTsallis`] | simplex | `−2Σ√x` | `1/(1/√from + ηd + ν)²` | `1/(ηθ − ν)²` |
//!
//! The ½-Tsallis problems are solved by the shared simplex routine (spec §1.2).

use mirrorflow_math::simplex::{Regularizer, solve};
use serde::{Deserialize, Serialize};

/// A regularizer with its feasible set.
pub trait MirrorMap {
    /// `argmin_{x∈X} η⟨dir, x⟩ + B_ψ(x, from)` into `out`.
    fn step(&self, from: &[f64], dir: &[f64], eta: f64, out: &mut [f64]);
    /// `argmin_{x∈X} ⟨θ, x⟩ + ψ(x)/η` into `out`.
    fn leader(&self, theta: &[f64], eta: f64, out: &mut [f64]);
    /// `argmin_X ψ` in dimension `d` (where learners start).
    fn center(&self, d: usize) -> Vec<f64>;
    /// The diameter of `X` in the norm the step sizes use (2-norm; 1-norm on the simplex: 2).
    fn diameter(&self, d: usize) -> f64;
}

/// The mirror maps of this crate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Geometry {
    /// `ψ = ½‖x‖²` on the ball `‖x‖ ≤ radius`.
    EuclideanBall {
        /// Ball radius.
        radius: f64,
    },
    /// `ψ = ½‖x‖²` on the box `[lo, hi]^d`.
    EuclideanBox {
        /// Lower bound of every coordinate.
        lo: f64,
        /// Upper bound of every coordinate.
        hi: f64,
    },
    /// Negative entropy on the probability simplex.
    Entropic,
    /// ½-Tsallis entropy `−2Σ√x` on the probability simplex.
    HalfTsallis,
}

/// Projection onto `{‖x‖ ≤ r}`.
pub fn project_ball(y: &mut [f64], r: f64) {
    let n = y.iter().map(|v| v * v).sum::<f64>().sqrt();
    if n > r {
        y.iter_mut().for_each(|v| *v *= r / n);
    }
}

/// `x ∝ exp(logits)` with a max shift.
fn softmax_into(logits: &[f64], out: &mut [f64]) {
    let m = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for (o, l) in out.iter_mut().zip(logits) {
        *o = (l - m).exp();
    }
    let s: f64 = out.iter().sum();
    out.iter_mut().for_each(|v| *v /= s);
}

/// `p_a = 1/(L_a − x)²` on the simplex (the shared solver with `c = 2`, `η = 1`).
fn tsallis_point(l: &[f64], out: &mut [f64]) {
    match solve(l, &Regularizer::HalfTsallis { eta: 1.0, c: 2.0 }) {
        Ok(s) => out.copy_from_slice(&s.p),
        // only non-finite inputs fail: keep the uniform point rather than NaN
        Err(_) => out.iter_mut().for_each(|v| *v = 1.0 / l.len() as f64),
    }
}

impl MirrorMap for Geometry {
    fn step(&self, from: &[f64], dir: &[f64], eta: f64, out: &mut [f64]) {
        match *self {
            Geometry::EuclideanBall { radius } => {
                for ((o, x), g) in out.iter_mut().zip(from).zip(dir) {
                    *o = x - eta * g;
                }
                project_ball(out, radius);
            }
            Geometry::EuclideanBox { lo, hi } => {
                for ((o, x), g) in out.iter_mut().zip(from).zip(dir) {
                    *o = (x - eta * g).clamp(lo, hi);
                }
            }
            Geometry::Entropic => {
                let logits: Vec<f64> = from
                    .iter()
                    .zip(dir)
                    .map(|(x, g)| x.ln() - eta * g)
                    .collect();
                softmax_into(&logits, out);
            }
            Geometry::HalfTsallis => {
                // ∇ψ(x) = −1/√x: −1/√x' = −1/√from − η d − ν, i.e. x' = 1/(L − (−ν))²
                let l: Vec<f64> = from
                    .iter()
                    .zip(dir)
                    .map(|(x, g)| 1.0 / x.sqrt() + eta * g)
                    .collect();
                tsallis_point(&l, out);
            }
        }
    }

    fn leader(&self, theta: &[f64], eta: f64, out: &mut [f64]) {
        match *self {
            Geometry::EuclideanBall { radius } => {
                for (o, t) in out.iter_mut().zip(theta) {
                    *o = -eta * t;
                }
                project_ball(out, radius);
            }
            Geometry::EuclideanBox { lo, hi } => {
                for (o, t) in out.iter_mut().zip(theta) {
                    *o = (-eta * t).clamp(lo, hi);
                }
            }
            Geometry::Entropic => {
                let logits: Vec<f64> = theta.iter().map(|t| -eta * t).collect();
                softmax_into(&logits, out);
            }
            Geometry::HalfTsallis => {
                // θ_a − 1/(η√x_a) = ν  ⇒  x_a = 1/(ηθ_a − ην)²
                let l: Vec<f64> = theta.iter().map(|t| eta * t).collect();
                tsallis_point(&l, out);
            }
        }
    }

    fn center(&self, d: usize) -> Vec<f64> {
        match *self {
            Geometry::EuclideanBall { .. } => vec![0.0; d],
            Geometry::EuclideanBox { lo, hi } => vec![0.0f64.clamp(lo, hi); d],
            Geometry::Entropic | Geometry::HalfTsallis => vec![1.0 / d.max(1) as f64; d],
        }
    }

    fn diameter(&self, d: usize) -> f64 {
        match *self {
            Geometry::EuclideanBall { radius } => 2.0 * radius,
            Geometry::EuclideanBox { lo, hi } => (hi - lo) * (d as f64).sqrt(),
            Geometry::Entropic | Geometry::HalfTsallis => 2.0,
        }
    }
}

impl Geometry {
    /// Checks the parameters (`Err` names the bad one).
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Geometry::EuclideanBall { radius } if !(radius > 0.0 && radius.is_finite()) => Err(
                format!("geometry radius = {radius}: must be > 0 and finite"),
            ),
            Geometry::EuclideanBox { lo, hi } if !(lo < hi && lo.is_finite() && hi.is_finite()) => {
                Err(format!(
                    "geometry lo = {lo}, hi = {hi}: need finite lo < hi"
                ))
            }
            _ => Ok(()),
        }
    }
}

/// Step sizes `η_t` (spec §6.2): for round `t ≥ 1`, with `S_t = Σ_{s<t} ‖g_s − M_s‖²` (the
/// squared hint errors so far; `M = 0` for plain OMD, so then it is `Σ‖g_s‖²`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// `η_t = η`.
    Constant {
        /// The step.
        eta: f64,
    },
    /// `η_t = D/(G√t)` (convex, Lipschitz).
    InvSqrt {
        /// Diameter `D`.
        diameter: f64,
        /// Gradient bound `G`.
        grad_bound: f64,
    },
    /// `η_t = factor/(λt)` (λ-strongly convex; `factor = 1` for OGD, 2 for optimistic OMD).
    StronglyConvex {
        /// Strong convexity `λ`.
        lambda: f64,
        /// The numerator.
        factor: f64,
    },
    /// `η_t = D/√(δ + 4G² + S_t)` (convex and smooth, adaptive; optimistic OMD's step, and
    /// AdaGrad-norm for plain OMD).
    Adaptive {
        /// Diameter `D`.
        diameter: f64,
        /// Gradient bound `G` (0 for plain AdaGrad-norm).
        grad_bound: f64,
        /// `δ > 0`.
        delta: f64,
    },
}

impl Schedule {
    /// `η_t` for round `t ≥ 1` after squared hint errors `sum_sq`.
    pub fn eta(&self, t: u64, sum_sq: f64) -> f64 {
        let t = t.max(1) as f64;
        match *self {
            Schedule::Constant { eta } => eta,
            Schedule::InvSqrt {
                diameter,
                grad_bound,
            } => diameter / (grad_bound * t.sqrt()),
            Schedule::StronglyConvex { lambda, factor } => factor / (lambda * t),
            Schedule::Adaptive {
                diameter,
                grad_bound,
                delta,
            } => diameter / (delta + 4.0 * grad_bound * grad_bound + sum_sq).sqrt(),
        }
    }

    /// Checks the parameters (`Err` names the bad one).
    pub fn validate(&self) -> Result<(), String> {
        let pos = |name: &str, v: f64| {
            if v > 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(format!("step {name} = {v}: must be > 0 and finite"))
            }
        };
        match *self {
            Schedule::Constant { eta } => pos("eta", eta),
            Schedule::InvSqrt {
                diameter,
                grad_bound,
            } => pos("diameter", diameter).and(pos("grad_bound", grad_bound)),
            Schedule::StronglyConvex { lambda, factor } => {
                pos("lambda", lambda).and(pos("factor", factor))
            }
            Schedule::Adaptive {
                diameter,
                grad_bound,
                delta,
            } => pos("diameter", diameter).and(pos("delta", delta)).and(
                if grad_bound >= 0.0 && grad_bound.is_finite() {
                    Ok(())
                } else {
                    Err(format!("step grad_bound = {grad_bound}: must be >= 0"))
                },
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kkt_simplex(x: &[f64], grad_of_objective: &[f64]) {
        // interior optimum on the simplex: the objective's gradient is constant
        let m = grad_of_objective.iter().sum::<f64>() / x.len() as f64;
        for g in grad_of_objective {
            assert!((g - m).abs() < 1e-9, "{grad_of_objective:?}");
        }
        assert!((x.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn half_tsallis_steps_satisfy_their_optimality_conditions() {
        let from = [0.5, 0.3, 0.2];
        let d = [1.0, -0.5, 2.0];
        let eta = 0.7;
        let mut x = [0.0; 3];
        Geometry::HalfTsallis.step(&from, &d, eta, &mut x);
        // ∇_x [η⟨d,x⟩ + B_ψ(x, from)] = η d + ∇ψ(x) − ∇ψ(from), ∇ψ = −1/√x
        let g: Vec<f64> = (0..3)
            .map(|a| eta * d[a] - 1.0 / x[a].sqrt() + 1.0 / from[a].sqrt())
            .collect();
        kkt_simplex(&x, &g);
        let theta = [0.3, -1.0, 0.8];
        Geometry::HalfTsallis.leader(&theta, eta, &mut x);
        let g: Vec<f64> = (0..3)
            .map(|a| theta[a] - 1.0 / (eta * x[a].sqrt()))
            .collect();
        kkt_simplex(&x, &g);
    }

    #[test]
    fn entropic_leader_is_softmax_and_step_from_uniform_agrees() {
        let theta = [0.3, -1.0, 0.8];
        let (mut a, mut b) = ([0.0; 3], [0.0; 3]);
        Geometry::Entropic.leader(&theta, 0.9, &mut a);
        Geometry::Entropic.step(&[1.0 / 3.0; 3], &theta, 0.9, &mut b);
        let z: f64 = theta.iter().map(|t| (-0.9 * t).exp()).sum();
        for k in 0..3 {
            assert!((a[k] - (-0.9 * theta[k]).exp() / z).abs() < 1e-15);
            assert!((a[k] - b[k]).abs() < 1e-15);
        }
    }

    #[test]
    fn euclidean_maps_project() {
        let mut x = [0.0; 2];
        Geometry::EuclideanBall { radius: 1.0 }.leader(&[3.0, 4.0], 1.0, &mut x);
        assert!((x[0] + 0.6).abs() < 1e-15 && (x[1] + 0.8).abs() < 1e-15);
        Geometry::EuclideanBox { lo: -1.0, hi: 0.5 }.step(&[0.0, 0.0], &[-2.0, 0.3], 1.0, &mut x);
        assert_eq!(x, [0.5, -0.3]);
        assert!(
            Geometry::EuclideanBox { lo: 1.0, hi: 0.0 }
                .validate()
                .is_err()
        );
        assert!(
            Schedule::Adaptive {
                diameter: 2.0,
                grad_bound: -1.0,
                delta: 1e-8
            }
            .validate()
            .is_err()
        );
    }
}
