//! Temperature log-sum-exp, softmax, log-softmax, KL and entropies (spec §1.1).
//!
//! * `lse_τ(v) = m + τ ln Σ exp((v_a − m)/τ)`, `m = max v`; for `τ < 1e-12` the hard max.
//! * `logsm_τ(v)_a = (v_a − lse_τ(v))/τ`; `sm_τ = exp(logsm_τ)`.
//! * Soft-value identity: `Σ p_a (v_a − τ ln p_a) = lse_τ(v)` for `p = sm_τ(v)`.

/// Below this temperature, `lse` is the hard max and softmax the (lowest-index) argmax.
pub const TAU_MIN: f64 = 1e-12;

/// Maximum of a slice (−∞ for an empty one).
#[inline]
pub fn max(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// Lowest index of the maximum.
#[inline]
pub fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// `lse_τ(v)`, max-shifted; the hard max for `τ < 1e-12`.
#[inline]
pub fn lse(v: &[f64], tau: f64) -> f64 {
    let m = max(v);
    if tau < TAU_MIN || !m.is_finite() {
        return m;
    }
    let s: f64 = v.iter().map(|&x| ((x - m) / tau).exp()).sum();
    m + tau * s.ln()
}

/// `out = logsm_τ(v)`. For `τ < 1e-12`: 0 at the argmax (lowest index), −∞ elsewhere.
#[inline]
pub fn log_softmax(v: &[f64], tau: f64, out: &mut [f64]) {
    if tau < TAU_MIN {
        let a = argmax(v);
        for (i, o) in out.iter_mut().enumerate() {
            *o = if i == a { 0.0 } else { f64::NEG_INFINITY };
        }
        return;
    }
    let l = lse(v, tau);
    for (o, &x) in out.iter_mut().zip(v) {
        *o = (x - l) / tau;
    }
}

/// `out = logsm_τ(v)` and returns `lse_τ(v)`, in one pass over the exponentials (the soft-value
/// identity makes `lse_τ(v) = Σ_a p_a (v_a − τ ln p_a)`, so a regularized backup needs nothing
/// else). For `τ < 1e-12`: the argmax indicator in log form and the max.
#[inline]
pub fn log_softmax_lse(v: &[f64], tau: f64, out: &mut [f64]) -> f64 {
    if tau < TAU_MIN {
        log_softmax(v, tau, out);
        return max(v);
    }
    let l = lse(v, tau);
    for (o, &x) in out.iter_mut().zip(v) {
        *o = (x - l) / tau;
    }
    l
}

/// `out = sm_τ(v)`, the softmax at temperature `τ` (one-hot argmax for `τ < 1e-12`).
#[inline]
pub fn softmax(v: &[f64], tau: f64, out: &mut [f64]) {
    log_softmax(v, tau, out);
    for o in out.iter_mut() {
        *o = o.exp();
    }
}

/// `KL(p‖q) = Σ p_a (lp_a − lq_a)` from probabilities `p` and log-probabilities; terms with
/// `p_a = 0` are skipped (`0 · ∞ = 0`).
#[inline]
pub fn kl(p: &[f64], lp: &[f64], lq: &[f64]) -> f64 {
    p.iter()
        .zip(lp.iter().zip(lq))
        .filter(|(p, _)| **p > 0.0)
        .map(|(&p, (&a, &b))| p * (a - b))
        .sum()
}

/// Shannon entropy `−Σ p_a ln p_a` (zero terms skipped).
#[inline]
pub fn entropy(p: &[f64]) -> f64 {
    -p.iter()
        .filter(|&&x| x > 0.0)
        .map(|&x| x * x.ln())
        .sum::<f64>()
}

/// Tsallis entropy of index `q > 0` in the entmax scaling
/// `S_q(p) = Σ (p_a − p_a^q) / (q (q − 1))`: `q → 1` gives Shannon, `q = 2` gives
/// `½ (1 − ‖p‖²)`, the regularizer of sparsemax.
pub fn tsallis_entropy(p: &[f64], q: f64) -> f64 {
    if (q - 1.0).abs() < 1e-9 {
        return entropy(p);
    }
    p.iter().map(|&x| x - x.powf(q)).sum::<f64>() / (q * (q - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn vecs() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(-50.0f64..50.0, 1..12)
    }

    proptest! {
        #[test]
        fn softmax_sums_to_one(v in vecs(), tau in 1e-3f64..100.0) {
            let mut p = vec![0.0; v.len()];
            softmax(&v, tau, &mut p);
            prop_assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            prop_assert!(p.iter().all(|&x| (0.0..=1.0).contains(&x)));
        }

        #[test]
        fn kl_is_nonnegative_and_zero_on_equal(a in vecs(), seed in 0u64..1000) {
            let b: Vec<f64> = a.iter().enumerate().map(|(i, x)| x * 0.5 + ((seed + i as u64) % 7) as f64).collect();
            let (mut la, mut lb) = (vec![0.0; a.len()], vec![0.0; a.len()]);
            log_softmax(&a, 1.0, &mut la);
            log_softmax(&b, 1.0, &mut lb);
            let p: Vec<f64> = la.iter().map(|x| x.exp()).collect();
            prop_assert!(kl(&p, &la, &lb) >= -1e-12);
            prop_assert!(kl(&p, &la, &la).abs() < 1e-15);
        }

        #[test]
        fn tsallis_tends_to_shannon(v in vecs()) {
            let mut p = vec![0.0; v.len()];
            softmax(&v, 5.0, &mut p);
            let h = entropy(&p);
            prop_assert!((tsallis_entropy(&p, 1.0 + 1e-6) - h).abs() < 1e-4 * (1.0 + h));
            prop_assert!((tsallis_entropy(&p, 2.0) - 0.5 * (1.0 - p.iter().map(|x| x * x).sum::<f64>())).abs() < 1e-14);
        }
    }

    /// T5 of spec §2.6: soft-value identity to 1e-12 for 2–10 standard-normal entries,
    /// τ in [0.001, 10].
    #[test]
    fn soft_value_identity_t5() {
        let mut state = 12345u64;
        let mut unif = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut worst = 0.0f64;
        for trial in 0..20_000 {
            let n = 2 + trial % 9;
            let v: Vec<f64> = (0..n)
                .map(|_| {
                    let (u1, u2) = (1.0 - unif(), unif());
                    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
                })
                .collect();
            let tau = 10f64.powf(-3.0 + 4.0 * unif());
            let mut lp = vec![0.0; n];
            log_softmax(&v, tau, &mut lp);
            let explicit: f64 = lp
                .iter()
                .zip(&v)
                .map(|(&l, &x)| l.exp() * (x - tau * l))
                .sum();
            worst = worst.max((explicit - lse(&v, tau)).abs());
        }
        assert!(worst <= 1e-12, "max |Σ p(v − τ ln p) − lse| = {worst}");
    }

    #[test]
    fn hard_limits() {
        let v = [1.0, 3.0, 3.0];
        let mut p = [0.0; 3];
        softmax(&v, 0.0, &mut p);
        assert_eq!(p, [0.0, 1.0, 0.0]);
        assert_eq!(lse(&v, 0.0), 3.0);
        assert!((lse(&[0.0, 0.0], 1.0) - 2f64.ln()).abs() < 1e-15);
    }
}
