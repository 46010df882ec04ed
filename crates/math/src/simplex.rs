//! FTRL on the simplex with a separable regularizer (spec §1.2):
//! `p* = argmin_{p∈Δ_K} ⟨p, L⟩ + Σ_a φ_a(p_a)`.
//!
//! The KKT condition `L_a + φ_a'(p_a) = x` gives `p_a(x)`, increasing in `x`; the scalar `x`
//! with `Σ p_a(x) = 1` is found by Newton from the right end of a bracket (where `Σ p ≥ 1`).
//! `Σ p(x)` is convex and increasing for every regularizer here, so the iterates decrease
//! monotonically to the root and never cross a pole; a bisection safeguard catches rounding.
//! Stops at `|Σ p − 1| < 1e-13` or 100 iterations, then divides by the sum.
//!
//! Adding a constant to every `L_a` shifts `x` by the same constant and leaves `p*` unchanged.
//!
//! ```
//! use mirrorflow_math::simplex::{solve, Regularizer};
//! let sol = solve(&[0.0, 5f64.sqrt()], &Regularizer::TsallisInf { eta: 1.0 }).unwrap();
//! assert!((sol.p[0] - 0.8).abs() < 1e-12 && (sol.p[1] - 0.2).abs() < 1e-12);
//! ```

use thiserror::Error;

/// A separable regularizer `Σ_a φ_a(p_a)` on the simplex.
#[derive(Clone, Debug, PartialEq)]
pub enum Regularizer {
    /// Shannon with per-arm rates: `Σ (1/η_a) p_a ln p_a`; `p_a(x) = exp(η_a (x − L_a) − 1)`.
    Shannon {
        /// Per-arm learning rates (one value is broadcast to all arms).
        eta: Vec<f64>,
    },
    /// ½-Tsallis: `−(c/η) Σ √p_a`; `p_a(x) = (c / (2η (L_a − x)))²`.
    HalfTsallis {
        /// Learning rate.
        eta: f64,
        /// Scale `c`.
        c: f64,
    },
    /// Tsallis-INF form `−Σ (4√p_a − 2 p_a)/η`; `p_a(x) = 4/(η (L_a − x))²`.
    TsallisInf {
        /// Learning rate.
        eta: f64,
    },
    /// Log-barrier with per-arm rates: `Σ (1/η_a) ln(1/p_a)`; `p_a(x) = 1/(η_a (L_a − x))`.
    LogBarrier {
        /// Per-arm learning rates (one value is broadcast).
        eta: Vec<f64>,
    },
    /// ½-Tsallis plus log-barrier: `−(c/η) Σ √p_a + β Σ ln(1/p_a)`.
    Hybrid {
        /// Learning rate of the Tsallis part.
        eta: f64,
        /// Scale `c` of the Tsallis part.
        c: f64,
        /// Weight `β > 0` of the log-barrier.
        beta: f64,
    },
}

/// Result of [`solve`].
#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    /// The minimizer on the simplex.
    pub p: Vec<f64>,
    /// The Lagrange multiplier `x` (before normalization).
    pub x: f64,
    /// Newton/bisection updates taken.
    pub iterations: usize,
}

/// Invalid input to [`solve`].
#[derive(Debug, Error, PartialEq)]
#[non_exhaustive]
pub enum SimplexError {
    /// Empty loss vector.
    #[error("the loss vector is empty")]
    Empty,
    /// A loss is NaN or infinite.
    #[error("loss[{index}] = {value} is not finite")]
    NonFiniteLoss {
        /// Position.
        index: usize,
        /// Value.
        value: f64,
    },
    /// A learning rate or weight is not positive and finite.
    #[error("{name} = {value} must be positive and finite")]
    BadParameter {
        /// Parameter name.
        name: &'static str,
        /// Value.
        value: f64,
    },
    /// Per-arm rates of the wrong length.
    #[error("{got} per-arm rates given for {arms} arms (give 1 or {arms})")]
    RateCount {
        /// Rates given.
        got: usize,
        /// Arms.
        arms: usize,
    },
}

const TOL: f64 = 1e-13;
const MAX_ITER: usize = 100;

fn rate(eta: &[f64], a: usize) -> f64 {
    if eta.len() == 1 { eta[0] } else { eta[a] }
}

/// Solves `argmin_{p∈Δ} ⟨p, L⟩ + ψ(p)` for the regularizer.
pub fn solve(losses: &[f64], reg: &Regularizer) -> Result<Solution, SimplexError> {
    let k = losses.len();
    if k == 0 {
        return Err(SimplexError::Empty);
    }
    if let Some((index, &value)) = losses.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(SimplexError::NonFiniteLoss { index, value });
    }
    let pos = |name: &'static str, v: f64| {
        if v > 0.0 && v.is_finite() {
            Ok(())
        } else {
            Err(SimplexError::BadParameter { name, value: v })
        }
    };
    let kf = k as f64;
    let min_l = losses.iter().copied().fold(f64::INFINITY, f64::min);
    // p_a(x) and dp_a/dx for each regularizer, plus the bracket [lo, hi].
    let (lo, hi): (f64, f64);
    match reg {
        Regularizer::Shannon { eta } | Regularizer::LogBarrier { eta } => {
            if eta.len() != 1 && eta.len() != k {
                return Err(SimplexError::RateCount {
                    got: eta.len(),
                    arms: k,
                });
            }
            for &e in eta {
                pos("eta", e)?;
            }
            if matches!(reg, Regularizer::Shannon { .. }) {
                lo = (0..k)
                    .map(|a| losses[a] + (1.0 - kf.ln()) / rate(eta, a))
                    .fold(f64::INFINITY, f64::min);
                hi = (0..k)
                    .map(|a| losses[a] + 1.0 / rate(eta, a))
                    .fold(f64::INFINITY, f64::min);
            } else {
                lo = (0..k)
                    .map(|a| losses[a] - kf / rate(eta, a))
                    .fold(f64::INFINITY, f64::min);
                hi = (0..k)
                    .map(|a| losses[a] - 1.0 / rate(eta, a))
                    .fold(f64::INFINITY, f64::min);
            }
        }
        Regularizer::HalfTsallis { eta, c } => {
            pos("eta", *eta)?;
            pos("c", *c)?;
            let h = c / (2.0 * eta);
            lo = min_l - h * kf.sqrt();
            hi = min_l - h;
        }
        Regularizer::TsallisInf { eta } => {
            pos("eta", *eta)?;
            lo = min_l - 2.0 * kf.sqrt() / eta;
            hi = min_l - 2.0 / eta;
        }
        Regularizer::Hybrid { eta, c, beta } => {
            pos("eta", *eta)?;
            pos("c", *c)?;
            pos("beta", *beta)?;
            let h = c / (2.0 * eta);
            lo = min_l - beta * kf - h * kf.sqrt();
            hi = min_l - beta - h;
        }
    }
    let eval = |x: f64, p: &mut [f64]| -> (f64, f64) {
        let (mut s, mut ds) = (0.0, 0.0);
        for a in 0..k {
            let gap = losses[a] - x; // > 0 for the barrier-type regularizers
            let (pa, dpa) = match reg {
                Regularizer::Shannon { eta } => {
                    let e = rate(eta, a);
                    let pa = (e * (x - losses[a]) - 1.0).exp();
                    (pa, e * pa)
                }
                Regularizer::HalfTsallis { eta, c } => {
                    let r = c / (2.0 * eta * gap);
                    let pa = r * r;
                    (pa, 2.0 * pa / gap)
                }
                Regularizer::TsallisInf { eta } => {
                    let pa = 4.0 / (eta * gap).powi(2);
                    (pa, eta * pa * pa.sqrt())
                }
                Regularizer::LogBarrier { eta } => {
                    let e = rate(eta, a);
                    let pa = 1.0 / (e * gap);
                    (pa, e * pa * pa)
                }
                Regularizer::Hybrid { eta, c, beta } => {
                    let h = c / (2.0 * eta);
                    let u = (-h + (h * h + 4.0 * beta * gap).sqrt()) / (2.0 * beta);
                    let pa = 1.0 / (u * u);
                    (pa, 1.0 / (0.5 * h * pa.powf(-1.5) + beta / (pa * pa)))
                }
            };
            p[a] = pa;
            s += pa;
            ds += dpa;
        }
        (s, ds)
    };
    let mut p = vec![0.0; k];
    let (mut lo, mut x) = (lo, hi);
    let mut hi = hi;
    let mut iterations = 0;
    let (mut s, mut ds) = eval(x, &mut p);
    while (s - 1.0).abs() >= TOL && iterations < MAX_ITER {
        if s > 1.0 {
            hi = x
        } else {
            lo = x
        }
        let newton = x - (s - 1.0) / ds;
        x = if newton.is_finite() && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        iterations += 1;
        (s, ds) = eval(x, &mut p);
    }
    p.iter_mut().for_each(|v| *v /= s);
    Ok(Solution { p, x, iterations })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tsallis_inf_oracles() {
        let s = solve(&[0.0, 5f64.sqrt()], &Regularizer::TsallisInf { eta: 1.0 }).unwrap();
        assert!((s.p[0] - 0.8).abs() < 1e-12 && (s.p[1] - 0.2).abs() < 1e-12);
        assert!((s.x + 5f64.sqrt()).abs() < 1e-10);
        assert!(s.iterations <= 8, "{}", s.iterations);

        let s = solve(&[0.0; 3], &Regularizer::TsallisInf { eta: 2.0 }).unwrap();
        assert!(s.p.iter().all(|p| (p - 1.0 / 3.0).abs() < 1e-12));
        assert!((s.x + 3f64.sqrt()).abs() < 1e-10 && s.iterations <= 8);

        let s = solve(&[0.0, 1.0, 3.0], &Regularizer::TsallisInf { eta: 1.0 }).unwrap();
        for (a, b) in s.p.iter().zip([0.5728665606, 0.3014934623, 0.1256399771]) {
            assert!((a - b).abs() < 1e-9, "{:?}", s.p);
        }
        assert!((s.x + 2.6424285894).abs() < 1e-9 && s.iterations <= 8);
    }

    #[test]
    fn shannon_is_softmax() {
        let l = [0.3, -1.0, 2.0, 0.0];
        let s = solve(&l, &Regularizer::Shannon { eta: vec![0.7] }).unwrap();
        let mut q = [0.0; 4];
        let neg: Vec<f64> = l.iter().map(|x| -x).collect();
        crate::softmax::softmax(&neg, 1.0 / 0.7, &mut q);
        for (a, b) in s.p.iter().zip(q) {
            assert!((a - b).abs() < 1e-13);
        }
    }

    #[test]
    fn half_tsallis_c4_is_tsallis_inf() {
        let l = [0.2, 0.9, 0.1, 3.0];
        let a = solve(&l, &Regularizer::HalfTsallis { eta: 0.8, c: 4.0 }).unwrap();
        let b = solve(&l, &Regularizer::TsallisInf { eta: 0.8 }).unwrap();
        for (x, y) in a.p.iter().zip(&b.p) {
            assert!((x - y).abs() < 1e-13);
        }
    }

    #[test]
    fn errors() {
        assert_eq!(
            solve(&[], &Regularizer::TsallisInf { eta: 1.0 }),
            Err(SimplexError::Empty)
        );
        assert!(matches!(
            solve(&[f64::NAN], &Regularizer::TsallisInf { eta: 1.0 }),
            Err(SimplexError::NonFiniteLoss { index: 0, .. })
        ));
        assert!(matches!(
            solve(&[0.0], &Regularizer::TsallisInf { eta: 0.0 }),
            Err(SimplexError::BadParameter { name: "eta", .. })
        ));
    }

    fn regs() -> Vec<Regularizer> {
        vec![
            Regularizer::Shannon { eta: vec![0.5] },
            Regularizer::Shannon {
                eta: vec![0.5, 2.0, 1.0, 0.1],
            },
            Regularizer::HalfTsallis { eta: 0.3, c: 1.0 },
            Regularizer::TsallisInf { eta: 1.5 },
            Regularizer::LogBarrier { eta: vec![0.4] },
            Regularizer::LogBarrier {
                eta: vec![0.5, 2.0, 1.0, 0.1],
            },
            Regularizer::Hybrid {
                eta: 0.5,
                c: 2.0,
                beta: 0.3,
            },
        ]
    }

    /// Numerical KKT check: φ'(p_a) + L_a equal across arms, and shift invariance.
    fn phi_prime(reg: &Regularizer, a: usize, p: f64) -> f64 {
        match reg {
            Regularizer::Shannon { eta } => (p.ln() + 1.0) / rate(eta, a),
            Regularizer::HalfTsallis { eta, c } => -(c / eta) * 0.5 / p.sqrt(),
            Regularizer::TsallisInf { eta } => -(2.0 / p.sqrt() - 2.0) / eta,
            Regularizer::LogBarrier { eta } => -1.0 / (rate(eta, a) * p),
            Regularizer::Hybrid { eta, c, beta } => -(c / eta) * 0.5 / p.sqrt() - beta / p,
        }
    }

    proptest! {
        #[test]
        fn kkt_and_shift(l in prop::collection::vec(-5.0f64..5.0, 4), c in -50.0f64..50.0) {
            for reg in regs() {
                let s = solve(&l, &reg).unwrap();
                prop_assert!((s.p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
                prop_assert!(s.p.iter().all(|&v| v > 0.0));
                let g: Vec<f64> = (0..4).map(|a| l[a] + phi_prime(&reg, a, s.p[a])).collect();
                let spread = g.iter().cloned().fold(f64::MIN, f64::max) - g.iter().cloned().fold(f64::MAX, f64::min);
                prop_assert!(spread < 1e-7 * (1.0 + g[0].abs()), "{reg:?}: {g:?}");
                let shifted: Vec<f64> = l.iter().map(|x| x + c).collect();
                let t = solve(&shifted, &reg).unwrap();
                for (x, y) in s.p.iter().zip(&t.p) { prop_assert!((x - y).abs() < 1e-9); }
            }
        }
    }
}
