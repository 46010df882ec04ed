//! Regularized greedy policies with their regularized values: one reusable head for softmax
//! (Shannon), sparsemax (Tsallis q = 2) and α-entmax (Tsallis 1 < q < 2) policies (spec §1.3, §8).
//!
//! For a temperature `τ > 0` the head returns `π = argmax_p ⟨p, z⟩ + τ S(p)` and the value
//! `V = max_p ⟨p, z⟩ + τ S(p)`:
//!
//! * softmax: `S` = Shannon entropy, `π = sm_τ(z)`, `V = lse_τ(z)`;
//! * sparsemax: `S(p) = ½(1 − ‖p‖²)`, `π = sparsemax(z/τ)`, `V = τ · spmax(z/τ)`;
//! * Tsallis `q`: `S = S_q` (entmax scaling), `π = entmax_q(z/τ)`, `V = ⟨π, z⟩ + τ S_q(π)`.
//!
//! `q → 1` recovers softmax and `q = 2` sparsemax; `τ → 0` recovers the hard max.

use crate::softmax::{log_softmax_lse, tsallis_entropy};
use crate::sparsemax::{entmax, sparsemax, spmax};
use serde::{Deserialize, Serialize};

/// Which regularized greedy policy.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyHead {
    /// Shannon-regularized (softmax).
    Softmax,
    /// Tsallis-2 regularized (sparsemax): exact zeros.
    Sparsemax,
    /// Tsallis entropy of index `q ∈ (1, 2]` (α-entmax).
    Tsallis {
        /// Entropic index.
        q: f64,
    },
}

impl PolicyHead {
    /// Writes `ln π` into `log_pi` and returns the regularized value `V`.
    pub fn apply(&self, z: &[f64], tau: f64, log_pi: &mut [f64]) -> f64 {
        match *self {
            PolicyHead::Softmax => log_softmax_lse(z, tau, log_pi),
            PolicyHead::Sparsemax => {
                let scaled: Vec<f64> = z.iter().map(|x| x / tau).collect();
                let mut p = vec![0.0; z.len()];
                sparsemax(&scaled, &mut p);
                for (l, pi) in log_pi.iter_mut().zip(&p) {
                    *l = pi.ln();
                }
                tau * spmax(&scaled)
            }
            PolicyHead::Tsallis { q } => {
                let scaled: Vec<f64> = z.iter().map(|x| x / tau).collect();
                let mut p = vec![0.0; z.len()];
                entmax(&scaled, q, &mut p);
                for (l, pi) in log_pi.iter_mut().zip(&p) {
                    *l = pi.ln();
                }
                p.iter().zip(z).map(|(a, b)| a * b).sum::<f64>() + tau * tsallis_entropy(&p, q)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::softmax::lse;

    #[test]
    fn heads_agree_at_their_limits() {
        let z = [0.3, -0.2, 1.1, 0.9];
        let (mut a, mut b) = ([0.0; 4], [0.0; 4]);
        let v_soft = PolicyHead::Softmax.apply(&z, 0.5, &mut a);
        assert!((v_soft - lse(&z, 0.5)).abs() < 1e-15);
        let v_near1 = PolicyHead::Tsallis { q: 1.0 + 1e-7 }.apply(&z, 0.5, &mut b);
        assert!((v_near1 - v_soft).abs() < 1e-5, "{v_near1} vs {v_soft}");
        let v_sp = PolicyHead::Sparsemax.apply(&z, 0.5, &mut a);
        let v_two = PolicyHead::Tsallis { q: 2.0 }.apply(&z, 0.5, &mut b);
        assert!((v_sp - v_two).abs() < 1e-12);
        for (x, y) in a.iter().zip(&b) {
            assert!(x == y || (x - y).abs() < 1e-12);
        }
        // sparsemax has exact zeros and the value tends to the max as τ → 0
        assert!(a.contains(&f64::NEG_INFINITY));
        assert!((PolicyHead::Sparsemax.apply(&z, 1e-9, &mut a) - 1.1).abs() < 1e-8);
        // the value is the regularized objective at the returned policy
        let p: Vec<f64> = b.iter().map(|l| l.exp()).collect();
        let obj = p.iter().zip(&z).map(|(x, y)| x * y).sum::<f64>()
            + 0.5 * 0.5 * (1.0 - p.iter().map(|x| x * x).sum::<f64>());
        assert!((obj - v_two).abs() < 1e-12);
    }
}
