//! Generalized implicit FTRL (spec §7) with `ψ_t(x) = (λ_t/2)‖x‖²` on `ℝ^d`.
//!
//! State `θ_t = Σ_{i<t} z_i`; play `x_t = −θ_t/λ_t`; after `ℓ_t` choose `z_t` with
//! `H_t(z_t) ≤ H_t(g_t)`, where `H_t(z) = ℓ_t(x_t) + ℓ_t*(z) + ψ*_{t+1}(−θ_t − z) − ψ*_t(−θ_t)`
//! and `ψ*_t(u) = ‖u‖²/(2λ_t)`:
//!
//! * linearized: `z_t = g_t ∈ ∂ℓ_t(x_t)`;
//! * implicit: `z_t ∈ ∂ℓ_t(x̃)`, `x̃ = argmin_x ψ_{t+1}(x) + ⟨θ_t, x⟩ + ℓ_t(x)` — closed forms for
//!   squared (Sherman–Morrison), hinge (clipped β) and logistic (1-D Newton on a bracket);
//! * aProx: `z_t = β_t g_t`, `β_t = clip([λ_{t+1}(ℓ_t(x_t) − ℓ_low) − (λ_{t+1} − λ_t)⟨g_t, x_t⟩]/‖g_t‖², 0, 1)`
//!   with `ℓ_low = 0`.

use mirrorflow_core::{Features, LinearLoss, OnlineLearner};

/// One round's loss on a feature vector `a` with target `y`.
#[derive(Clone, Debug, PartialEq)]
pub enum Loss {
    /// `½(⟨a, x⟩ − y)²`.
    Squared {
        /// Features.
        a: Vec<f64>,
        /// Target.
        y: f64,
    },
    /// `max(0, 1 − y⟨a, x⟩)`, `y = ±1`.
    Hinge {
        /// Features.
        a: Vec<f64>,
        /// Label ±1.
        y: f64,
    },
    /// `ln(1 + exp(−y⟨a, x⟩))`, `y = ±1`.
    Logistic {
        /// Features.
        a: Vec<f64>,
        /// Label ±1.
        y: f64,
    },
}

fn dot(u: &[f64], v: &[f64]) -> f64 {
    u.iter().zip(v).map(|(a, b)| a * b).sum()
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        x.exp() / (1.0 + x.exp())
    }
}

impl Loss {
    fn parts(&self) -> (&[f64], f64) {
        match self {
            Loss::Squared { a, y } | Loss::Hinge { a, y } | Loss::Logistic { a, y } => (a, *y),
        }
    }

    /// `ℓ(x)`.
    pub fn value(&self, x: &[f64]) -> f64 {
        let (a, y) = self.parts();
        let m = dot(a, x);
        match self {
            Loss::Squared { .. } => 0.5 * (m - y).powi(2),
            Loss::Hinge { .. } => (1.0 - y * m).max(0.0),
            Loss::Logistic { .. } => {
                let z = -y * m;
                if z > 0.0 {
                    z + (-z).exp().ln_1p()
                } else {
                    z.exp().ln_1p()
                }
            }
        }
    }

    /// A subgradient `g ∈ ∂ℓ(x)`; every one is a multiple of `a`, returned as that multiple.
    pub fn grad_scale(&self, x: &[f64]) -> f64 {
        let (a, y) = self.parts();
        let m = dot(a, x);
        match self {
            Loss::Squared { .. } => m - y,
            Loss::Hinge { .. } => {
                if y * m < 1.0 {
                    -y
                } else {
                    0.0
                }
            }
            Loss::Logistic { .. } => -y * sigmoid(-y * m),
        }
    }
}

/// Regularization schedule `λ_t`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// `λ_t = λ`.
    Constant {
        /// `λ > 0`.
        lambda: f64,
    },
    /// `λ_t = √t / η_0`.
    Sqrt {
        /// `η_0 > 0`.
        eta0: f64,
    },
}

impl Schedule {
    /// `λ_t` for round `t ≥ 1`.
    pub fn lambda(&self, t: u64) -> f64 {
        match *self {
            Schedule::Constant { lambda } => lambda,
            Schedule::Sqrt { eta0 } => (t as f64).sqrt() / eta0,
        }
    }
}

/// Which `z_t`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Update {
    /// `z_t = g_t`.
    Linearized,
    /// The implicit (proximal) step.
    Implicit,
    /// The truncated-linear-model step.
    Aprox,
}

/// Generalized implicit FTRL.
#[derive(Clone, Debug)]
pub struct Gift {
    theta: Vec<f64>,
    t: u64,
    schedule: Schedule,
    update: Update,
}

/// What one round did.
#[derive(Clone, Debug, PartialEq)]
pub struct Round {
    /// `x_t`.
    pub x: Vec<f64>,
    /// `ℓ_t(x_t)`.
    pub loss: f64,
    /// `z_t` as a multiple of `a`.
    pub z_scale: f64,
    /// `g_t` as a multiple of `a`.
    pub g_scale: f64,
}

impl Gift {
    /// Starts with `θ_1 = 0` in dimension `d`.
    pub fn new(d: usize, schedule: Schedule, update: Update) -> Self {
        Self {
            theta: vec![0.0; d],
            t: 1,
            schedule,
            update,
        }
    }

    /// `x_t = −θ_t/λ_t`.
    pub fn predict(&self) -> Vec<f64> {
        let l = self.schedule.lambda(self.t);
        self.theta.iter().map(|v| -v / l).collect()
    }

    /// `H_t(s·a)` for this round's state (before the update), with the conjugate in closed form
    /// for squared and hinge losses (`None` for logistic).
    pub fn h(&self, loss: &Loss, s: f64) -> Option<f64> {
        let (a, y) = loss.parts();
        let (lt, lt1) = (
            self.schedule.lambda(self.t),
            self.schedule.lambda(self.t + 1),
        );
        let conj = match loss {
            Loss::Squared { .. } => 0.5 * s * s + s * y,
            Loss::Hinge { .. } => {
                let beta = -s * y; // z = −β y a with β ∈ [0, 1]
                if !(-1e-12..=1.0 + 1e-12).contains(&beta) {
                    return Some(f64::INFINITY);
                }
                -beta
            }
            Loss::Logistic { .. } => return None,
        };
        let x = self.predict();
        let next: f64 = self
            .theta
            .iter()
            .zip(a)
            .map(|(th, ai)| (th + s * ai).powi(2))
            .sum::<f64>()
            / (2.0 * lt1);
        let now: f64 = self.theta.iter().map(|th| th * th).sum::<f64>() / (2.0 * lt);
        Some(loss.value(&x) + conj + next - now)
    }

    /// Plays `x_t`, pays `ℓ_t(x_t)`, updates `θ`.
    pub fn step(&mut self, loss: &Loss) -> Round {
        let x = self.predict();
        let (a, y) = loss.parts();
        let value = loss.value(&x);
        let g = loss.grad_scale(&x);
        let (lt, lt1) = (
            self.schedule.lambda(self.t),
            self.schedule.lambda(self.t + 1),
        );
        let kind = match loss {
            Loss::Squared { .. } => LinearLoss::Squared,
            Loss::Hinge { .. } => LinearLoss::Hinge,
            Loss::Logistic { .. } => LinearLoss::Logistic,
        };
        let (u, n) = (dot(a, &self.theta), dot(a, a));
        let z = z_scale(self.update, kind, y, value, g, dot(a, &x), u, n, lt, lt1);
        for (th, ai) in self.theta.iter_mut().zip(a) {
            *th += z * ai;
        }
        self.t += 1;
        Round {
            x,
            loss: value,
            z_scale: z,
            g_scale: g,
        }
    }
}

/// `z_t = c·a` for a linear-model loss: returns `c`. Inputs: the label `y`, the loss value
/// and derivative scale `g` at `x_t`, the margin `⟨a, x_t⟩`, `u = ⟨a, θ_t⟩`, `n = ‖a‖²` and
/// `λ_t`, `λ_{t+1}`.
#[allow(
    clippy::too_many_arguments,
    reason = "the scalars of one closed-form step"
)]
fn z_scale(
    update: Update,
    kind: LinearLoss,
    y: f64,
    value: f64,
    g: f64,
    margin: f64,
    u: f64,
    n: f64,
    lt: f64,
    lt1: f64,
) -> f64 {
    match update {
        Update::Linearized => g,
        Update::Aprox => {
            let gg = g * g * n;
            if gg == 0.0 {
                0.0
            } else {
                let beta = ((lt1 * value - (lt1 - lt) * g * margin) / gg).clamp(0.0, 1.0);
                beta * g
            }
        }
        Update::Implicit => match kind {
            // (λ I + a aᵀ) x̃ = a y − θ; ⟨a, x̃⟩ = (n y − u)/(λ + n)
            LinearLoss::Squared => (n * y - u) / (lt1 + n) - y,
            LinearLoss::Hinge => {
                if n == 0.0 {
                    0.0
                } else {
                    -((lt1 + y * u) / n).clamp(0.0, 1.0) * y
                }
            }
            LinearLoss::Logistic => {
                // c + y σ(y (u + c n)/λ) = 0, increasing in c, root in [−1, 1]
                let f = |c: f64| c + y * sigmoid(y * (u + c * n) / lt1);
                let (mut lo, mut hi, mut c) = (-1.0, 1.0, 0.0);
                for _ in 0..100 {
                    let fc = f(c);
                    if fc.abs() < 1e-15 {
                        break;
                    }
                    if fc > 0.0 {
                        hi = c
                    } else {
                        lo = c
                    }
                    let sg = sigmoid(y * (u + c * n) / lt1);
                    let d = 1.0 + sg * (1.0 - sg) * n / lt1;
                    let newton = c - fc / d;
                    c = if newton > lo && newton < hi {
                        newton
                    } else {
                        0.5 * (lo + hi)
                    };
                }
                c
            }
        },
    }
}

/// Generalized implicit FTRL on sparse examples, as an [`OnlineLearner`]: the same updates as
/// [`Gift`] (`ψ_t = (λ_t/2)‖x‖²` on `ℝ^d`, `x_t = −θ_t/λ_t`), touching only the example's
/// coordinates (every `z_t` is a multiple of the features).
#[derive(Clone, Debug)]
pub struct GiftLinear {
    theta: Vec<f64>,
    t: u64,
    schedule: Schedule,
    update: Update,
}

impl GiftLinear {
    /// `θ_1 = 0`.
    pub fn new(schedule: Schedule, update: Update) -> Self {
        Self {
            theta: Vec::new(),
            t: 1,
            schedule,
            update,
        }
    }
}

impl OnlineLearner for GiftLinear {
    fn predict(&mut self, a: &Features) -> f64 {
        if a.dim() > self.theta.len() {
            self.theta.resize(a.dim(), 0.0);
        }
        -a.dot(&self.theta) / self.schedule.lambda(self.t)
    }

    fn learn(&mut self, a: &Features, label: f64, loss: LinearLoss) {
        let m = self.predict(a);
        let (lt, lt1) = (
            self.schedule.lambda(self.t),
            self.schedule.lambda(self.t + 1),
        );
        let u = -m * lt;
        let z = z_scale(
            self.update,
            loss,
            label,
            loss.value(m, label),
            loss.derivative(m, label),
            m,
            u,
            a.norm_sq(),
            lt,
            lt1,
        );
        for (&i, &v) in a.index.iter().zip(&a.value) {
            self.theta[i as usize] += z * f64::from(v);
        }
        self.t += 1;
    }

    fn weights(&self) -> Vec<f64> {
        let l = self.schedule.lambda(self.t);
        self.theta.iter().map(|v| -v / l).collect()
    }

    fn set_weights(&mut self, w: &[f64]) {
        let l = self.schedule.lambda(self.t);
        self.theta = w.iter().map(|v| -v * l).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oracle_1_hinge() {
        let loss = Loss::Hinge {
            a: vec![1.0, 1.0],
            y: 1.0,
        };
        let mut imp = Gift::new(2, Schedule::Constant { lambda: 1.0 }, Update::Implicit);
        assert_eq!(imp.h(&loss, -1.0), Some(1.0)); // H(g) with g = −a
        assert_eq!(imp.h(&loss, -0.5), Some(0.75)); // H(z*)
        let r = imp.step(&loss);
        assert_eq!(r.z_scale, -0.5);
        assert_eq!(imp.predict(), vec![0.5, 0.5]);
        let mut lin = Gift::new(2, Schedule::Constant { lambda: 1.0 }, Update::Linearized);
        lin.step(&loss);
        assert_eq!(lin.predict(), vec![1.0, 1.0]);
        // growing schedule: λ_1 = 1, λ_2 = √2
        let mut g = Gift::new(2, Schedule::Sqrt { eta0: 1.0 }, Update::Implicit);
        let h_g = g.h(&loss, -1.0).unwrap();
        assert!((h_g - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-10);
        let r = g.step(&loss);
        assert!((r.z_scale + std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-10);
    }

    #[test]
    fn oracle_2_aprox_equals_implicit_on_hinge() {
        let mut state = 9u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        let (mut a, mut b) = (
            Gift::new(3, Schedule::Constant { lambda: 0.7 }, Update::Aprox),
            Gift::new(3, Schedule::Constant { lambda: 0.7 }, Update::Implicit),
        );
        for _ in 0..500 {
            let loss = Loss::Hinge {
                a: vec![next(), next(), next()],
                y: if next() > 0.0 { 1.0 } else { -1.0 },
            };
            let (ra, rb) = (a.step(&loss), b.step(&loss));
            assert!((ra.z_scale - rb.z_scale).abs() < 1e-12);
        }
    }

    #[test]
    fn oracle_3_squared() {
        let loss = Loss::Squared {
            a: vec![1.0, 0.0],
            y: 2.0,
        };
        let mut imp = Gift::new(2, Schedule::Constant { lambda: 1.0 }, Update::Implicit);
        imp.step(&loss);
        assert_eq!(imp.predict(), vec![1.0, 0.0]);
        let mut lin = Gift::new(2, Schedule::Constant { lambda: 1.0 }, Update::Linearized);
        lin.step(&loss);
        assert_eq!(lin.predict(), vec![2.0, 0.0]);
    }

    #[test]
    fn oracle_4_constant_lambda_implicit_is_proximal_point() {
        let mut state = 3u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        let lam = 1.3;
        let mut g = Gift::new(3, Schedule::Constant { lambda: lam }, Update::Implicit);
        let mut x = vec![0.0; 3];
        for _ in 0..300 {
            let a = vec![next(), next(), next()];
            let y = 3.0 * next();
            g.step(&Loss::Squared { a: a.clone(), y });
            // proximal point: (λ I + a aᵀ) x' = λ x + a y
            let b: Vec<f64> = x.iter().zip(&a).map(|(xi, ai)| lam * xi + ai * y).collect();
            let n = dot(&a, &a);
            let ab = dot(&a, &b);
            x = b
                .iter()
                .zip(&a)
                .map(|(bi, ai)| (bi - ai * ab / (lam + n)) / lam)
                .collect();
            for (u, v) in g.predict().iter().zip(&x) {
                assert!((u - v).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn oracle_5_implicit_and_aprox_never_increase_h() {
        let mut state = 5u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        for update in [Update::Implicit, Update::Aprox] {
            for schedule in [
                Schedule::Constant { lambda: 0.5 },
                Schedule::Sqrt { eta0: 0.3 },
            ] {
                let mut g = Gift::new(4, schedule, update);
                for _ in 0..10_000 {
                    let a = vec![next(), next(), next(), next()];
                    let loss = if next() > 0.0 {
                        Loss::Hinge {
                            a,
                            y: if next() > 0.0 { 1.0 } else { -1.0 },
                        }
                    } else {
                        Loss::Squared { a, y: 2.0 * next() }
                    };
                    let x = g.predict();
                    let gs = loss.grad_scale(&x);
                    let h_g = g.h(&loss, gs).unwrap();
                    let before = g.clone();
                    let r = g.step(&loss);
                    let h_z = before.h(&loss, r.z_scale).unwrap();
                    assert!(
                        h_z <= h_g + 1e-9 * (1.0 + h_g.abs()),
                        "{update:?} {schedule:?}: H(z) {h_z} > H(g) {h_g}"
                    );
                }
            }
        }
    }

    #[test]
    fn logistic_implicit_step_solves_its_equation() {
        let mut g = Gift::new(2, Schedule::Constant { lambda: 0.2 }, Update::Implicit);
        for k in 0..50 {
            let loss = Loss::Logistic {
                a: vec![1.0 + k as f64 * 0.1, -0.5],
                y: if k % 3 == 0 { -1.0 } else { 1.0 },
            };
            let before = g.clone();
            let r = g.step(&loss);
            // z = ∇ℓ(x̃) with x̃ = −(θ + z a)/λ
            let xt: Vec<f64> = before
                .theta
                .iter()
                .zip([1.0 + k as f64 * 0.1, -0.5])
                .map(|(t, a)| -(t + r.z_scale * a) / 0.2)
                .collect();
            assert!((loss.grad_scale(&xt) - r.z_scale).abs() < 1e-12);
        }
    }

    #[test]
    fn sparse_adapter_matches_the_dense_learner() {
        for update in [Update::Linearized, Update::Implicit, Update::Aprox] {
            for (kind, loss) in [
                (LinearLoss::Hinge, 0),
                (LinearLoss::Logistic, 1),
                (LinearLoss::Squared, 2),
            ] {
                let schedule = Schedule::Sqrt { eta0: 0.7 };
                let mut dense = Gift::new(3, schedule, update);
                let mut sparse = GiftLinear::new(schedule, update);
                for t in 0..200 {
                    let a = vec![
                        ((t * 7) % 5) as f64 * 0.25 - 0.5,
                        1.0,
                        ((t * 3) % 4) as f64 * 0.5 - 0.75,
                    ];
                    let y = if (t * 11) % 3 == 0 { 1.0 } else { -1.0 };
                    let l = match loss {
                        0 => Loss::Hinge { a: a.clone(), y },
                        1 => Loss::Logistic { a: a.clone(), y },
                        _ => Loss::Squared { a: a.clone(), y },
                    };
                    let f = Features {
                        index: vec![0, 1, 2],
                        value: a.iter().map(|&v| v as f32).collect(),
                    };
                    let m = sparse.predict(&f);
                    let r = dense.step(&l);
                    assert!((m - dot(&a, &r.x)).abs() < 1e-12, "{update:?} {kind:?}");
                    sparse.learn(&f, y, kind);
                }
            }
        }
    }
}
