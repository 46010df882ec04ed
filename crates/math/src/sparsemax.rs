//! Sparsemax and α-entmax: Tsallis-regularized argmax (spec §1.3, §8).
//!
//! `sparsemax(z) = argmin_{p∈Δ} ‖p − z‖² = argmax_p ⟨p, z⟩ + ½(1 − ‖p‖²)`, computed by sorting
//! (Martins & Astudillo, arXiv 1602.02068, Alg. 1). `entmax_α` generalizes it with the Tsallis
//! entropy of index α: α = 2 is sparsemax, α → 1 is softmax.

use crate::softmax::softmax;

/// Threshold and support size of a sparsemax solution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sparsemax {
    /// The threshold `τ(z)`: `p_a = max(z_a − τ, 0)`.
    pub threshold: f64,
    /// Number of non-zero entries `k(z)`.
    pub support: usize,
}

/// Writes `sparsemax(z)` into `out` and returns the threshold and support size.
pub fn sparsemax(z: &[f64], out: &mut [f64]) -> Sparsemax {
    assert_eq!(z.len(), out.len(), "sparsemax: length mismatch");
    assert!(!z.is_empty(), "sparsemax of an empty vector");
    let mut sorted: Vec<f64> = z.to_vec();
    sorted.sort_unstable_by(|a, b| b.total_cmp(a));
    let (mut cum, mut k, mut cum_k) = (0.0, 0usize, 0.0);
    for (j, &zj) in sorted.iter().enumerate() {
        cum += zj;
        if 1.0 + (j + 1) as f64 * zj > cum {
            k = j + 1;
            cum_k = cum;
        }
    }
    let threshold = (cum_k - 1.0) / k as f64;
    for (o, &zi) in out.iter_mut().zip(z) {
        *o = (zi - threshold).max(0.0);
    }
    Sparsemax {
        threshold,
        support: k,
    }
}

/// Regularized value `spmax(z) = max_p ⟨p, z⟩ + ½(1 − ‖p‖²) = ½ Σ_{j∈S}(z_j² − τ²) + ½`.
pub fn spmax(z: &[f64]) -> f64 {
    let mut p = vec![0.0; z.len()];
    let s = sparsemax(z, &mut p);
    let t = s.threshold;
    0.5 * z
        .iter()
        .zip(&p)
        .filter(|(_, p)| **p > 0.0)
        .map(|(&zj, _)| zj * zj - t * t)
        .sum::<f64>()
        + 0.5
}

/// α-entmax: `argmax_p ⟨p, z⟩ + S_α(p)` with the Tsallis entropy
/// `S_α(p) = Σ (p − p^α)/(α(α − 1))`. Solution `p_j = [(α − 1) z_j − τ]_+^{1/(α−1)}`, `τ` by
/// bisection to machine precision. `α = 2` is sparsemax (solved exactly); `α ≤ 1 + 1e-6` is
/// softmax.
pub fn entmax(z: &[f64], alpha: f64, out: &mut [f64]) {
    assert!(alpha >= 1.0, "entmax needs alpha >= 1, got {alpha}");
    if alpha <= 1.0 + 1e-6 {
        softmax(z, 1.0, out);
        return;
    }
    if alpha == 2.0 {
        sparsemax(z, out);
        return;
    }
    let am1 = alpha - 1.0;
    let inv = 1.0 / am1;
    let zmax = z.iter().copied().fold(f64::NEG_INFINITY, f64::max) * am1;
    let k = z.len() as f64;
    let mut lo = zmax - 1.0; // p_max = 1 ⇒ Σ ≥ 1
    let mut hi = zmax - (1.0 / k).powf(am1); // every p ≤ 1/K ⇒ Σ ≤ 1
    let total = |tau: f64| -> f64 { z.iter().map(|&x| (am1 * x - tau).max(0.0).powf(inv)).sum() };
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if total(mid) >= 1.0 {
            lo = mid
        } else {
            hi = mid
        }
    }
    for (o, &x) in out.iter_mut().zip(z) {
        *o = (am1 * x - lo).max(0.0).powf(inv);
    }
    let s: f64 = out.iter().sum();
    out.iter_mut().for_each(|o| *o /= s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn oracles_spec_1_3() {
        let mut p = [0.0; 3];
        let s = sparsemax(&[1.0, 0.5, -1.0], &mut p);
        assert_eq!((p, s.threshold, s.support), ([0.75, 0.25, 0.0], 0.25, 2));
        assert!((spmax(&[1.0, 0.5, -1.0]) - 1.0625).abs() < 1e-15);

        let s = sparsemax(&[0.2, 0.1, 0.0], &mut p);
        for (a, b) in p.iter().zip([1.3 / 3.0, 1.0 / 3.0, 0.7 / 3.0]) {
            assert!((a - b).abs() < 1e-15);
        }
        assert!((s.threshold + 0.7 / 3.0).abs() < 1e-15 && s.support == 3);
        assert!((spmax(&[0.2, 0.1, 0.0]) - 1.33 / 3.0).abs() < 1e-15);

        let s = sparsemax(&[3.0, 1.0, 0.5], &mut p);
        assert_eq!((p, s.threshold), ([1.0, 0.0, 0.0], 2.0));
        assert_eq!(spmax(&[3.0, 1.0, 0.5]), 3.0);
    }

    proptest! {
        #[test]
        fn sparsemax_on_simplex_and_shift_invariant(z in prop::collection::vec(-10.0f64..10.0, 1..10), c in -100.0f64..100.0) {
            let mut p = vec![0.0; z.len()];
            sparsemax(&z, &mut p);
            prop_assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            prop_assert!(p.iter().all(|&x| x >= 0.0));
            let shifted: Vec<f64> = z.iter().map(|x| x + c).collect();
            let mut q = vec![0.0; z.len()];
            sparsemax(&shifted, &mut q);
            for (a, b) in p.iter().zip(&q) { prop_assert!((a - b).abs() < 1e-9); }
        }

        #[test]
        fn entmax_limits(z in prop::collection::vec(-3.0f64..3.0, 2..8)) {
            let (mut a, mut b) = (vec![0.0; z.len()], vec![0.0; z.len()]);
            // α → 2 approaches sparsemax
            entmax(&z, 1.999_999, &mut a);
            sparsemax(&z, &mut b);
            for (x, y) in a.iter().zip(&b) { prop_assert!((x - y).abs() < 1e-4, "{a:?} {b:?}"); }
            // α → 1 approaches softmax
            entmax(&z, 1.0001, &mut a);
            crate::softmax::softmax(&z, 1.0, &mut b);
            for (x, y) in a.iter().zip(&b) { prop_assert!((x - y).abs() < 1e-3, "{a:?} {b:?}"); }
            entmax(&z, 1.5, &mut a);
            prop_assert!((a.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }
}
