//! The best fixed linear predictor in hindsight, for static regret on example streams:
//! `min_w Σ_i ℓ(⟨w, a_i⟩; y_i)` over the same examples the online learner saw, by L-BFGS
//! (memory 10, Armijo backtracking) where every function/gradient evaluation is one pass over
//! the stream — constant memory in the number of examples, `O(d)` state.
//!
//! Logistic and squared losses (smooth); the hinge loss is not differentiable and is refused.

use mirrorflow_core::{Example, ExampleSource, LinearLoss};
use std::collections::VecDeque;

/// What the solver reached.
#[derive(Clone, Debug, PartialEq)]
pub struct OfflineFit {
    /// The minimiser found.
    pub w: Vec<f64>,
    /// `Σ_i ℓ(⟨w, a_i⟩; y_i)` at `w`.
    pub loss: f64,
    /// `‖∇‖` of the mean loss at `w` (convergence check).
    pub grad_norm: f64,
    /// Passes over the stream used.
    pub passes: usize,
}

/// One pass: the summed loss and its gradient at `w` (first `limit` examples; `bias` adds the
/// constant feature 0 as the online runs do; labels are mapped to ±1 for classification).
fn pass(
    source: &mut dyn ExampleSource,
    w: &[f64],
    loss: LinearLoss,
    bias: bool,
    limit: u64,
    grad: &mut Vec<f64>,
) -> Result<(f64, u64), String> {
    grad.iter_mut().for_each(|g| *g = 0.0);
    let (mut total, mut n) = (0.0, 0u64);
    let mut ex = Example::default();
    while n < limit && source.next_into(&mut ex).map_err(|e| e.to_string())? {
        if bias {
            ex.features.index.push(0);
            ex.features.value.push(1.0);
        }
        let y = if loss.is_classification() {
            if ex.label > 0.0 { 1.0 } else { -1.0 }
        } else {
            ex.label
        };
        let f = &ex.features;
        if f.dim() > grad.len() {
            grad.resize(f.dim(), 0.0);
        }
        let m = f.dot(w);
        total += loss.value(m, y);
        let d = loss.derivative(m, y);
        for (&i, &v) in f.index.iter().zip(&f.value) {
            grad[i as usize] += d * f64::from(v);
        }
        n += 1;
    }
    Ok((total, n))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises the summed loss over the first `limit` examples of the streams `open()` returns
/// (one per pass), from `start`, with at most `max_passes` passes; stops early when the mean
/// gradient's norm falls below `tol`.
pub fn best_fixed(
    open: &mut dyn FnMut() -> Result<Box<dyn ExampleSource>, String>,
    loss: LinearLoss,
    bias: bool,
    limit: u64,
    start: &[f64],
    max_passes: usize,
    tol: f64,
) -> Result<OfflineFit, String> {
    if loss == LinearLoss::Hinge {
        return Err(
            "the hinge loss is not differentiable: the offline comparator (L-BFGS) \
                    supports the logistic and squared losses"
                .into(),
        );
    }
    let mut w = start.to_vec();
    let mut g = vec![0.0; w.len()];
    let (mut f, n) = pass(open()?.as_mut(), &w, loss, bias, limit, &mut g)?;
    w.resize(g.len(), 0.0);
    let scale = 1.0 / n.max(1) as f64;
    let mut passes = 1;
    let mut memory: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::new();
    let mut g_new = vec![0.0; g.len()];
    while passes < max_passes && dot(&g, &g).sqrt() * scale > tol {
        // two-loop recursion: the quasi-Newton direction −H∇f
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(memory.len());
        for (s, y, rho) in memory.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        let gamma = memory
            .back()
            .map_or(scale, |(s, y, _)| dot(s, y) / dot(y, y).max(1e-300));
        q.iter_mut().for_each(|v| *v *= gamma);
        for ((s, y, rho), a) in memory.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let dir: Vec<f64> = q.iter().map(|v| -v).collect();
        let slope = dot(&g, &dir);
        if slope >= 0.0 {
            memory.clear(); // not a descent direction: restart from the gradient
            continue;
        }
        // Armijo backtracking, one pass per trial
        let mut step = 1.0;
        let accepted = loop {
            let trial: Vec<f64> = w.iter().zip(&dir).map(|(a, d)| a + step * d).collect();
            let (ft, _) = pass(open()?.as_mut(), &trial, loss, bias, limit, &mut g_new)?;
            passes += 1;
            if ft <= f + 1e-4 * step * slope {
                break Some((trial, ft));
            }
            if passes >= max_passes {
                break None;
            }
            step *= 0.5;
        };
        let Some((trial, ft)) = accepted else { break };
        g_new.resize(g.len().max(g_new.len()), 0.0);
        let s: Vec<f64> = trial.iter().zip(&w).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 * dot(&y, &y).sqrt() * dot(&s, &s).sqrt() {
            memory.push_back((s, y, 1.0 / sy));
            if memory.len() > 10 {
                memory.pop_front();
            }
        }
        w = trial;
        f = ft;
        std::mem::swap(&mut g, &mut g_new);
    }
    Ok(OfflineFit {
        grad_norm: dot(&g, &g).sqrt() * scale,
        w,
        loss: f,
        passes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirrorflow_core::Features;

    struct Rows(Vec<(Vec<f32>, f64)>, usize);

    impl ExampleSource for Rows {
        fn next_into(&mut self, out: &mut Example) -> Result<bool, mirrorflow_core::Error> {
            let Some((x, y)) = self.0.get(self.1) else {
                return Ok(false);
            };
            out.features = Features {
                index: (1..=x.len() as u32).collect(),
                value: x.clone(),
            };
            out.label = *y;
            self.1 += 1;
            Ok(true)
        }
    }

    fn data() -> Vec<(Vec<f32>, f64)> {
        (0..500)
            .map(|i| {
                let (a, b) = (
                    ((i * 37) % 101) as f32 / 50.0 - 1.0,
                    ((i * 53) % 97) as f32 / 48.0 - 1.0,
                );
                let y = if 1.5 * a - b + 0.1 * ((i % 7) as f32 - 3.0) > 0.0 {
                    1.0
                } else {
                    -1.0
                };
                (vec![a, b], y)
            })
            .collect()
    }

    #[test]
    fn the_minimiser_has_a_vanishing_gradient_and_beats_other_points() {
        for loss in [LinearLoss::Logistic, LinearLoss::Squared] {
            let d = data();
            let mut open = || Ok(Box::new(Rows(d.clone(), 0)) as Box<dyn ExampleSource>);
            let fit = best_fixed(&mut open, loss, true, u64::MAX, &[], 200, 1e-10).unwrap();
            assert!(fit.grad_norm < 1e-8, "{loss:?}: {fit:?}");
            let mut g = Vec::new();
            for k in 0..fit.w.len() {
                for h in [-1e-3, 1e-3] {
                    let mut w = fit.w.clone();
                    w[k] += h;
                    let (f, _) =
                        pass(&mut Rows(d.clone(), 0), &w, loss, true, u64::MAX, &mut g).unwrap();
                    assert!(f >= fit.loss - 1e-9, "{loss:?} {k}: {f} < {}", fit.loss);
                }
            }
        }
        let mut open = || Ok(Box::new(Rows(data(), 0)) as Box<dyn ExampleSource>);
        let e =
            best_fixed(&mut open, LinearLoss::Hinge, true, u64::MAX, &[], 10, 1e-8).unwrap_err();
        assert!(e.contains("not differentiable"));
    }
}
