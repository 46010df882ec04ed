//! Regret of every learner on a fixed seeded stream, checked against an independent reference
//! computation (written here from the definitions, by another numerical route) to 1e-9, plus
//! the reductions: entropic FTRL = entropic OMD = Hedge (constant rate), ½-Tsallis FTRL =
//! Tsallis-INF with full information, optimistic OMD with a zero hint = OMD.
#![allow(clippy::unwrap_used, reason = "tests")]

use mirrorflow_agent_online::experts::{Hedge, HedgeRate, TsallisInf};
use mirrorflow_agent_online::ftrl::Ftrl;
use mirrorflow_agent_online::gift::{Gift, Loss, Schedule as GiftSchedule, Update};
use mirrorflow_agent_online::linear::{FtrlProximal, FtrlProximalConfig, Ogd, StepSize};
use mirrorflow_agent_online::mirror::{Geometry, Schedule};
use mirrorflow_agent_online::offline::best_fixed;
use mirrorflow_agent_online::omd::{Hint, Omd};
use mirrorflow_core::{Example, ExampleSource, Features, LinearLoss, OcoLearner, OnlineLearner};

/// xorshift64*, uniform in [0, 1).
struct Stream(u64);

impl Stream {
    fn u(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

const T: usize = 2_000;

/// Expert losses in [0, 1] with a slowly drifting best expert (K = 5).
fn expert_losses() -> Vec<Vec<f64>> {
    let mut s = Stream(0x9e37_79b9_7f4a_7c15);
    (0..T)
        .map(|t| {
            (0..5)
                .map(|a| {
                    let bias = if a == (t / 400) % 5 { 0.3 } else { 0.5 };
                    (bias + 0.4 * (s.u() - 0.5)).clamp(0.0, 1.0)
                })
                .collect()
        })
        .collect()
}

/// Linear losses `⟨g_t, x⟩` on the unit ball of ℝ⁴, `g_t` = a fixed direction plus noise.
fn ball_gradients() -> Vec<Vec<f64>> {
    let mut s = Stream(42);
    (0..T)
        .map(|_| {
            [0.6, -0.3, 0.2, 0.1]
                .iter()
                .map(|m| m + (s.u() - 0.5))
                .collect()
        })
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Regret against the best expert in hindsight.
fn simplex_regret(plays: &[Vec<f64>], losses: &[Vec<f64>]) -> f64 {
    let mine: f64 = plays.iter().zip(losses).map(|(p, l)| dot(p, l)).sum();
    let best = (0..losses[0].len())
        .map(|a| losses.iter().map(|l| l[a]).sum::<f64>())
        .fold(f64::INFINITY, f64::min);
    mine - best
}

/// Regret against the best point of the unit ball: `min_u ⟨Σg, u⟩ = −‖Σg‖`.
fn ball_regret(plays: &[Vec<f64>], grads: &[Vec<f64>]) -> f64 {
    let mine: f64 = plays.iter().zip(grads).map(|(p, g)| dot(p, g)).sum();
    let mut sum = vec![0.0; grads[0].len()];
    for g in grads {
        for (s, v) in sum.iter_mut().zip(g) {
            *s += v;
        }
    }
    mine + dot(&sum, &sum).sqrt()
}

fn run_oco(l: &mut dyn OcoLearner, grads: &[Vec<f64>]) -> Vec<Vec<f64>> {
    grads
        .iter()
        .map(|g| {
            let x = l.play().to_vec();
            l.observe(g);
            x
        })
        .collect()
}

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() < 1e-9, "{what}: {a} vs reference {b}");
}

/// Reference exponential weights: multiply and renormalise every round.
fn reference_hedge(losses: &[Vec<f64>], eta: f64) -> Vec<Vec<f64>> {
    let mut w = vec![1.0 / losses[0].len() as f64; losses[0].len()];
    let mut plays = Vec::new();
    for l in losses {
        plays.push(w.clone());
        for (wi, li) in w.iter_mut().zip(l) {
            *wi *= (-eta * li).exp();
        }
        let s: f64 = w.iter().sum();
        w.iter_mut().for_each(|v| *v /= s);
    }
    plays
}

/// `p_a = 1/(L_a − ν)²` on the simplex by plain bisection on ν (not the shared Newton solver).
fn bisect_tsallis(l: &[f64]) -> Vec<f64> {
    let min = l.iter().copied().fold(f64::INFINITY, f64::min);
    let (mut lo, mut hi) = (min - (l.len() as f64).sqrt(), min - 1.0);
    let mass = |nu: f64| l.iter().map(|v| 1.0 / (v - nu).powi(2)).sum::<f64>();
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mass(mid) > 1.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let nu = 0.5 * (lo + hi);
    let p: Vec<f64> = l.iter().map(|v| 1.0 / (v - nu).powi(2)).collect();
    let s: f64 = p.iter().sum();
    p.into_iter().map(|v| v / s).collect()
}

#[test]
fn hedge_and_entropic_ftrl_and_omd_match_multiplicative_weights() {
    let losses = expert_losses();
    let eta = 0.05;
    let reference = simplex_regret(&reference_hedge(&losses, eta), &losses);
    let mut hedge = Hedge::new(5, HedgeRate::Constant(eta));
    let plays: Vec<Vec<f64>> = losses
        .iter()
        .map(|l| {
            let p = hedge.play().to_vec();
            hedge.update(l);
            p
        })
        .collect();
    close(simplex_regret(&plays, &losses), reference, "Hedge");
    let constant = Schedule::Constant { eta };
    let mut ftrl = Ftrl::new(Geometry::Entropic, 5, constant);
    close(
        simplex_regret(&run_oco(&mut ftrl, &losses), &losses),
        reference,
        "entropic FTRL",
    );
    let mut omd = Omd::new(Geometry::Entropic, 5, constant, Hint::Zero);
    close(
        simplex_regret(&run_oco(&mut omd, &losses), &losses),
        reference,
        "entropic OMD",
    );
    assert!(reference > 0.0 && reference < 150.0, "{reference}");
}

#[test]
fn half_tsallis_ftrl_and_omd_match_bisection_references_and_tsallis_inf() {
    let losses = expert_losses();
    // FTRL: x_t = argmin ⟨θ, x⟩ − 2Σ√x/η_t with η_t = D/(G√t): x_a = 1/(η_t θ_a − ν)²
    let (d, g) = (0.5, 1.0);
    let mut theta = [0.0; 5];
    let mut plays = Vec::new();
    for (t, l) in losses.iter().enumerate() {
        let eta = d / (g * ((t + 1) as f64).sqrt());
        let scaled: Vec<f64> = theta.iter().map(|v| eta * v).collect();
        plays.push(bisect_tsallis(&scaled));
        for (th, v) in theta.iter_mut().zip(l) {
            *th += v;
        }
    }
    let reference = simplex_regret(&plays, &losses);
    let schedule = Schedule::InvSqrt {
        diameter: d,
        grad_bound: g,
    };
    let mut ftrl = Ftrl::new(Geometry::HalfTsallis, 5, schedule);
    close(
        simplex_regret(&run_oco(&mut ftrl, &losses), &losses),
        reference,
        "½-Tsallis FTRL",
    );
    // Tsallis-INF's ψ = −Σ(4√p − 2p)/η₀√t is −2Σ√p/(η₀/2 · 1/√t) on the simplex
    let mut inf = TsallisInf::new(5, 2.0 * d);
    let plays: Vec<Vec<f64>> = losses
        .iter()
        .map(|l| {
            let p = inf.play().unwrap().to_vec();
            inf.update_full(l);
            p
        })
        .collect();
    close(
        simplex_regret(&plays, &losses),
        reference,
        "Tsallis-INF (full information)",
    );
    // OMD: ∇ψ(x') = ∇ψ(x̂) − η g, ∇ψ = −1/√x: x' = 1/(1/√x̂ + η g − ν)²
    let eta = 0.1;
    let mut hat: Vec<f64> = vec![0.2; 5];
    let mut plays = Vec::new();
    for l in &losses {
        plays.push(hat.clone());
        let lin: Vec<f64> = hat
            .iter()
            .zip(l)
            .map(|(x, v)| 1.0 / x.sqrt() + eta * v)
            .collect();
        hat = bisect_tsallis(&lin);
    }
    let reference = simplex_regret(&plays, &losses);
    let mut omd = Omd::new(
        Geometry::HalfTsallis,
        5,
        Schedule::Constant { eta },
        Hint::Zero,
    );
    close(
        simplex_regret(&run_oco(&mut omd, &losses), &losses),
        reference,
        "½-Tsallis OMD",
    );
}

#[test]
fn euclidean_omd_optimistic_omd_and_lazy_ftrl_match_their_formulas() {
    let grads = ball_gradients();
    let proj = |mut v: Vec<f64>| {
        let n = dot(&v, &v).sqrt();
        if n > 1.0 {
            v.iter_mut().for_each(|x| *x /= n);
        }
        v
    };
    // optimistic OMD, hint = last gradient, η_t = D/√(δ + 4G² + Σ‖g − M‖²)
    let (d, g, delta): (f64, f64, f64) = (2.0, 1.5, 1e-8);
    let (mut hat, mut hint, mut err) = (vec![0.0f64; 4], vec![0.0f64; 4], 0.0f64);
    let mut plays = Vec::new();
    for gt in &grads {
        let eta = d / (delta + 4.0 * g * g + err).sqrt();
        plays.push(proj(
            hat.iter().zip(&hint).map(|(x, m)| x - eta * m).collect(),
        ));
        hat = proj(hat.iter().zip(gt).map(|(x, v)| x - eta * v).collect());
        err += gt
            .iter()
            .zip(&hint)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>();
        hint = gt.clone();
    }
    let reference = ball_regret(&plays, &grads);
    let adaptive = Schedule::Adaptive {
        diameter: d,
        grad_bound: g,
        delta,
    };
    let ball = Geometry::EuclideanBall { radius: 1.0 };
    let mut o = Omd::new(ball.clone(), 4, adaptive, Hint::LastGradient);
    close(
        ball_regret(&run_oco(&mut o, &grads), &grads),
        reference,
        "optimistic OMD",
    );
    // zero hint: projected OGD with the same schedule on Σ‖g‖²
    let (mut x, mut sq) = (vec![0.0f64; 4], 0.0f64);
    let mut plays = Vec::new();
    for gt in &grads {
        let eta = d / (delta + 4.0 * g * g + sq).sqrt();
        plays.push(x.clone());
        x = proj(x.iter().zip(gt).map(|(a, v)| a - eta * v).collect());
        sq += dot(gt, gt);
    }
    let reference = ball_regret(&plays, &grads);
    let mut o = Omd::new(ball.clone(), 4, adaptive, Hint::Zero);
    close(
        ball_regret(&run_oco(&mut o, &grads), &grads),
        reference,
        "OMD (zero hint)",
    );
    // lazy projection: x_t = Π(−η_t Σ_{s<t} g_s), η_t = D/(G√t)
    let mut theta = [0.0f64; 4];
    let mut plays = Vec::new();
    for (t, gt) in grads.iter().enumerate() {
        let eta = d / (g * ((t + 1) as f64).sqrt());
        plays.push(proj(theta.iter().map(|v| -eta * v).collect()));
        for (th, v) in theta.iter_mut().zip(gt) {
            *th += v;
        }
    }
    let reference = ball_regret(&plays, &grads);
    let mut f = Ftrl::new(
        ball,
        4,
        Schedule::InvSqrt {
            diameter: d,
            grad_bound: g,
        },
    );
    close(
        ball_regret(&run_oco(&mut f, &grads), &grads),
        reference,
        "Euclidean FTRL",
    );
    assert!(
        reference > 0.0 && reference < 5.0 * (T as f64).sqrt(),
        "{reference}"
    );
}

/// A seeded classification / regression stream in ℝ³ (the last coordinate is a bias).
fn examples() -> Vec<(Vec<f64>, f64, f64)> {
    let mut s = Stream(7);
    (0..T)
        .map(|_| {
            let a = vec![2.0 * s.u() - 1.0, 2.0 * s.u() - 1.0, 1.0];
            let m = 1.5 * a[0] - a[1] + 0.2;
            let y = if s.u() < 1.0 / (1.0 + (-2.0 * m).exp()) {
                1.0
            } else {
                -1.0
            };
            (a, y, m + 0.3 * (s.u() - 0.5))
        })
        .collect()
}

/// `min_u Σ ℓ(⟨a_t, u⟩, y_t)` by Newton's method (logistic) or the normal equations
/// (squared), with a 3×3 Gaussian elimination.
fn offline_optimum(loss: LinearLoss, data: &[(Vec<f64>, f64)]) -> f64 {
    let solve3 = |mut m: [[f64; 4]; 3]| {
        for c in 0..3 {
            let p = (c..3)
                .max_by(|&i, &j| m[i][c].abs().total_cmp(&m[j][c].abs()))
                .unwrap();
            m.swap(c, p);
            for r in 0..3 {
                if r != c {
                    let f = m[r][c] / m[c][c];
                    for k in c..4 {
                        m[r][k] -= f * m[c][k];
                    }
                }
            }
        }
        [m[0][3] / m[0][0], m[1][3] / m[1][1], m[2][3] / m[2][2]]
    };
    let mut u = [0.0; 3];
    for _ in 0..50 {
        let mut m = [[0.0; 4]; 3];
        for (a, y) in data {
            let z = dot(a, &u);
            let (d1, d2) = match loss {
                LinearLoss::Logistic => {
                    let s = 1.0 / (1.0 + (y * z).exp());
                    (-y * s, s * (1.0 - s))
                }
                _ => (z - y, 1.0),
            };
            for i in 0..3 {
                m[i][3] -= d1 * a[i];
                for j in 0..3 {
                    m[i][j] += d2 * a[i] * a[j];
                }
            }
        }
        let step = solve3(m);
        for i in 0..3 {
            u[i] += step[i];
        }
    }
    data.iter().map(|(a, y)| loss.value(dot(a, &u), *y)).sum()
}

fn features(a: &[f64]) -> Features {
    Features {
        index: vec![0, 1, 2],
        value: a.iter().map(|&v| v as f32).collect(),
    }
}

/// Online loss of an example learner: predict, pay, learn.
fn online_loss(l: &mut dyn OnlineLearner, loss: LinearLoss, data: &[(Vec<f64>, f64)]) -> f64 {
    data.iter()
        .map(|(a, y)| {
            let f = features(a);
            let m = l.predict(&f);
            l.learn(&f, *y, loss);
            loss.value(m, *y)
        })
        .sum()
}

#[test]
fn ftrl_proximal_and_ogd_regret_match_references_against_the_offline_optimum() {
    // features pass through f32 in `Features`: the reference uses the same rounded values
    let data: Vec<(Vec<f64>, f64)> = examples()
        .into_iter()
        .map(|(a, y, _)| (a.iter().map(|&v| f64::from(v as f32)).collect(), y))
        .collect();
    let best = offline_optimum(LinearLoss::Logistic, &data);
    // FTRL-Proximal straight from McMahan et al.'s per-coordinate pseudo-code
    let (alpha, beta, l1, l2) = (0.3, 1.0, 0.01, 0.1);
    let (mut z, mut n) = ([0.0f64; 3], [0.0f64; 3]);
    let mut reference = 0.0;
    for (a, y) in &data {
        let w: Vec<f64> = (0..3)
            .map(|i| {
                if z[i].abs() <= l1 {
                    0.0
                } else {
                    -(z[i] - z[i].signum() * l1) / ((beta + n[i].sqrt()) / alpha + l2)
                }
            })
            .collect();
        let m = dot(a, &w);
        reference += LinearLoss::Logistic.value(m, *y);
        let p = 1.0 / (1.0 + (-m).exp());
        let d = p - (y + 1.0) / 2.0; // ∂/∂m of the logistic loss with y ∈ {−1, 1}
        for i in 0..3 {
            let g = d * a[i];
            let sigma = ((n[i] + g * g).sqrt() - n[i].sqrt()) / alpha;
            z[i] += g - sigma * w[i];
            n[i] += g * g;
        }
    }
    let mut f = FtrlProximal::new(FtrlProximalConfig {
        alpha,
        beta,
        l1,
        l2,
    });
    let mine = online_loss(&mut f, LinearLoss::Logistic, &data);
    close(mine - best, reference - best, "FTRL-Proximal regret");
    // OGD + AdaGrad, per coordinate η/√(δ + Σg²)
    let (eta, delta) = (0.5, 1e-8);
    let (mut w, mut g2) = ([0.0f64; 3], [0.0f64; 3]);
    let mut reference = 0.0;
    for (a, y) in &data {
        let m = dot(a, &w);
        reference += LinearLoss::Logistic.value(m, *y);
        let d = LinearLoss::Logistic.derivative(m, *y);
        for i in 0..3 {
            let g = d * a[i];
            g2[i] += g * g;
            w[i] -= eta / (delta + g2[i]).sqrt() * g;
        }
    }
    let mut o = Ogd::new(StepSize::Adagrad { eta, delta }, None);
    let mine = online_loss(&mut o, LinearLoss::Logistic, &data);
    close(mine - best, reference - best, "OGD (AdaGrad) regret");
    assert!(
        reference - best > 0.0 && reference - best < 100.0,
        "{}",
        reference - best
    );
}

/// The online loss `Σ ℓ_t(x_t)` of generalized implicit FTRL with `λ_t = √t/η₀` on `data`.
fn gift_online_loss(
    update: Update,
    eta0: f64,
    data: &[(Vec<f64>, f64)],
    loss: impl Fn(Vec<f64>, f64) -> Loss,
) -> f64 {
    let mut gift = Gift::new(3, GiftSchedule::Sqrt { eta0 }, update);
    data.iter()
        .map(|(a, y)| gift.step(&loss(a.clone(), *y)).loss)
        .sum()
}

#[test]
fn implicit_ftrl_regret_matches_a_linear_solve_reference() {
    let data: Vec<(Vec<f64>, f64)> = examples().into_iter().map(|(a, _, r)| (a, r)).collect();
    let best = offline_optimum(LinearLoss::Squared, &data);
    let eta0 = 0.5;
    let lam = |t: usize| (t as f64).sqrt() / eta0;
    // implicit FTRL, squared loss: x̃ solves (λ_{t+1} I + a aᵀ) x = a y − θ (Cramer's rule)
    let mut theta = [0.0f64; 3];
    let mut reference = 0.0;
    for (t, (a, y)) in data.iter().enumerate() {
        let x: Vec<f64> = theta.iter().map(|v| -v / lam(t + 1)).collect();
        reference += 0.5 * (dot(a, &x) - y).powi(2);
        let l = lam(t + 2);
        let m: Vec<Vec<f64>> = (0..3)
            .map(|i| {
                (0..3)
                    .map(|j| a[i] * a[j] + if i == j { l } else { 0.0 })
                    .collect()
            })
            .collect();
        let rhs: Vec<f64> = (0..3).map(|i| a[i] * y - theta[i]).collect();
        let det = |m: &[Vec<f64>]| {
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
                - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        };
        let d0 = det(&m);
        let xt: Vec<f64> = (0..3)
            .map(|c| {
                let mut mc = m.clone();
                for r in 0..3 {
                    mc[r][c] = rhs[r];
                }
                det(&mc) / d0
            })
            .collect();
        let s = dot(a, &xt) - y;
        for i in 0..3 {
            theta[i] += s * a[i];
        }
    }
    let squared = |a: Vec<f64>, y: f64| Loss::Squared { a, y };
    let mine = gift_online_loss(Update::Implicit, eta0, &data, squared);
    close(mine - best, reference - best, "implicit FTRL regret");
    // linearized FTRL (z = g) on the same stream is a different learner
    let theirs = gift_online_loss(Update::Linearized, eta0, &data, squared);
    assert!(theirs.is_finite() && (theirs - mine).abs() > 1e-6);
}

#[test]
fn linearized_and_aprox_ftrl_regret_match_references() {
    // hinge loss on the classification stream; x_t = −θ_t/λ_t, λ_t = √t/η₀
    let data: Vec<(Vec<f64>, f64)> = examples().into_iter().map(|(a, y, _)| (a, y)).collect();
    let eta0 = 0.8;
    let lam = |t: usize| (t as f64).sqrt() / eta0;
    let hinge = |a: &[f64], y: f64, x: &[f64]| (1.0 - y * dot(a, x)).max(0.0);
    // a fixed comparator for the regret: the generating direction (any u gives the same check)
    let u = [1.5, -1.0, 0.2];
    let comparator: f64 = data.iter().map(|(a, y)| hinge(a, *y, &u)).sum();
    for update in [Update::Linearized, Update::Aprox] {
        let mut theta = [0.0f64; 3];
        let mut reference = 0.0;
        for (t, (a, y)) in data.iter().enumerate() {
            let (lt, lt1) = (lam(t + 1), lam(t + 2));
            let x: Vec<f64> = theta.iter().map(|v| -v / lt).collect();
            let value = hinge(a, *y, &x);
            reference += value;
            let g: Vec<f64> = if value > 0.0 {
                a.iter().map(|v| -y * v).collect()
            } else {
                vec![0.0; 3]
            };
            let z: Vec<f64> = match update {
                Update::Linearized => g,
                _ => {
                    // aProx: z = β g with β minimising H(β g) = ℓ(x_t) + ℓ̃*(β g) + ψ*_{t+1}(−θ − β g)
                    // − ψ*_t(−θ) over [0, 1]; for the truncated linear model ℓ̃*(βg) =
                    // β(⟨g, x_t⟩ − ℓ(x_t)), so H is a quadratic in β: its stationary point,
                    // clipped (derived from H, not from the closed form in the crate)
                    let gx = dot(&g, &x);
                    let (tg, gg) = (dot(&theta, &g), dot(&g, &g));
                    let b = if gg == 0.0 {
                        0.0
                    } else {
                        (-((gx - value) * lt1 + tg) / gg).clamp(0.0, 1.0)
                    };
                    g.iter().map(|v| b * v).collect()
                }
            };
            for i in 0..3 {
                theta[i] += z[i];
            }
        }
        let mine = gift_online_loss(update, eta0, &data, |a, y| Loss::Hinge { a, y });
        close(
            mine - comparator,
            reference - comparator,
            &format!("{update:?} FTRL regret"),
        );
    }
}

/// The examples as a stream (index 0, 1, 2 = the three coordinates, no extra bias).
struct Replay(Vec<(Vec<f64>, f64)>, usize);

impl ExampleSource for Replay {
    fn next_into(&mut self, out: &mut Example) -> Result<bool, mirrorflow_core::Error> {
        let Some((a, y)) = self.0.get(self.1) else {
            return Ok(false);
        };
        out.features = features(a);
        out.label = *y;
        self.1 += 1;
        Ok(true)
    }
}

#[test]
fn the_streamed_lbfgs_comparator_matches_newtons_offline_optimum() {
    let data: Vec<(Vec<f64>, f64)> = examples()
        .into_iter()
        .map(|(a, y, _)| (a.iter().map(|&v| f64::from(v as f32)).collect(), y))
        .collect();
    let newton = offline_optimum(LinearLoss::Logistic, &data);
    let mut open = || Ok(Box::new(Replay(data.clone(), 0)) as Box<dyn ExampleSource>);
    let fit = best_fixed(
        &mut open,
        LinearLoss::Logistic,
        false,
        u64::MAX,
        &[],
        200,
        1e-12,
    )
    .unwrap();
    close(fit.loss, newton, "L-BFGS optimum vs Newton");
}
