//! Unknown transitions for policy optimization on layered MDPs (spec §5.2, "unknown
//! transitions", after Jin et al. 2020):
//!
//! * visit counts `N(s, a)`, `N(s, a, s')` from the learner's own episodes;
//! * the empirical model `P̂` is refreshed in epochs, when some `N(s, a)` has doubled since the
//!   epoch began (so it changes `O(SA log T)` times);
//! * a Bernstein confidence set around `P̂`:
//!   `|P(s'|s,a) − P̂(s'|s,a)| ≤ 2 √(P̂ ι / max(1, N − 1)) + 14 ι / (3 max(1, N − 1))`,
//!   `ι = ln(S A T / δ)`, unconstrained while `N(s, a) = 0`;
//! * the **upper occupancy bound** `u(s) = max_{P ∈ confidence set} q^{P,π}(s)`, computed per
//!   target state by a backward pass whose inner maximisation over a box-and-simplex set is
//!   solved greedily (exact for a linear objective), replaces `q^π` in the importance weights
//!   and the bonus, so the loss estimates stay optimistic while `P` is uncertain.
//!
//! Both the true model and the empirical one are [`Dynamics`], so the `Q̂` recursion and the
//! dilated bonus run unchanged on `P̂`.

use mirrorflow_core::episodic::LayeredModel;

/// Transition probabilities of a layered MDP: `next(s, a)[j]` is the probability of the `j`-th
/// state of the next layer.
pub trait Dynamics {
    /// The next-layer distribution from `(s, a)` (empty in the last layer).
    fn next(&self, s: usize, a: usize) -> &[f64];
}

impl Dynamics for LayeredModel {
    fn next(&self, s: usize, a: usize) -> &[f64] {
        if self.layer_of(s) + 1 < self.horizon() {
            self.transition(s, a)
        } else {
            &[]
        }
    }
}

/// `Q^π(s, a; loss)` under `dynamics`, by backward recursion over the layers of `shape`.
pub fn q_values(
    shape: &LayeredModel,
    dynamics: &dyn Dynamics,
    policy: &[f64],
    loss: &[f64],
) -> Vec<f64> {
    let (a_n, hz) = (shape.num_actions(), shape.horizon());
    let mut q = vec![0.0; policy.len()];
    let mut v = vec![0.0; shape.num_states()];
    for h in (0..hz).rev() {
        let next_start = (h + 1 < hz).then(|| shape.layer(h + 1).start);
        for s in shape.layer(h) {
            for a in 0..a_n {
                let cont = next_start.map_or(0.0, |start| {
                    dynamics
                        .next(s, a)
                        .iter()
                        .enumerate()
                        .map(|(j, p)| p * v[start + j])
                        .sum()
                });
                q[s * a_n + a] = loss[s * a_n + a] + cont;
            }
            v[s] = (0..a_n).map(|a| policy[s * a_n + a] * q[s * a_n + a]).sum();
        }
    }
    q
}

/// `max Σ_j P_j f_j` over distributions `P` with `|P_j − p̂_j| ≤ ε_j`: start every `P_j` at its
/// lower bound and pour the remaining mass into the largest `f_j` first.
pub fn greedy_max(p_hat: &[f64], eps: &[f64], f: &[f64], order: &mut Vec<usize>) -> f64 {
    let lower = |j: usize| (p_hat[j] - eps[j]).max(0.0);
    let upper = |j: usize| (p_hat[j] + eps[j]).min(1.0);
    let mut mass = 1.0 - (0..p_hat.len()).map(lower).sum::<f64>();
    let mut value: f64 = (0..p_hat.len()).map(|j| lower(j) * f[j]).sum();
    order.clear();
    order.extend(0..p_hat.len());
    order.sort_by(|&i, &j| f[j].total_cmp(&f[i]));
    for &j in order.iter() {
        if mass <= 0.0 {
            break;
        }
        let add = (upper(j) - lower(j)).min(mass);
        value += add * f[j];
        mass -= add;
    }
    value
}

/// Visit counts, the epoch-frozen empirical model and its confidence radii.
pub struct EmpiricalModel {
    shape: std::sync::Arc<LayeredModel>,
    /// `N(s, a)` now.
    n: Vec<u64>,
    /// `N(s, a, s')` now, next-layer states of `(s, a)` at `offsets[s·A + a]..`.
    n_next: Vec<u64>,
    offsets: Vec<usize>,
    /// Counts frozen at the start of the epoch, and the model and radii built from them.
    n_epoch: Vec<u64>,
    p_hat: Vec<f64>,
    radius: Vec<f64>,
    log_term: f64,
    epochs: u64,
}

impl EmpiricalModel {
    /// No data yet: every distribution uniform, every radius 1. `rounds` and `delta` set
    /// `ι = ln(S A T / δ)`.
    pub fn new(shape: std::sync::Arc<LayeredModel>, rounds: u64, delta: f64) -> Self {
        let (s_n, a_n) = (shape.num_states(), shape.num_actions());
        let mut offsets = Vec::with_capacity(s_n * a_n + 1);
        let mut total = 0;
        for s in 0..s_n {
            let width = shape.next(s, 0).len();
            for _ in 0..a_n {
                offsets.push(total);
                total += width;
            }
        }
        offsets.push(total);
        let log_term = ((s_n * a_n) as f64 * rounds.max(1) as f64 / delta)
            .ln()
            .max(1.0);
        let mut m = Self {
            n: vec![0; s_n * a_n],
            n_next: vec![0; total],
            offsets,
            n_epoch: vec![0; s_n * a_n],
            p_hat: vec![0.0; total],
            radius: vec![1.0; total],
            log_term,
            epochs: 0,
            shape,
        };
        m.refresh();
        m
    }

    /// Epochs begun so far (the first one included).
    pub fn epochs(&self) -> u64 {
        self.epochs
    }

    /// `N(s, a)`.
    pub fn count(&self, s: usize, a: usize) -> u64 {
        self.n[s * self.shape.num_actions() + a]
    }

    fn range(&self, s: usize, a: usize) -> std::ops::Range<usize> {
        let k = s * self.shape.num_actions() + a;
        self.offsets[k]..self.offsets[k + 1]
    }

    /// Confidence radii of `P(·|s, a)` in this epoch.
    pub fn radius(&self, s: usize, a: usize) -> &[f64] {
        &self.radius[self.range(s, a)]
    }

    /// Rebuilds `P̂` and the radii from the current counts and starts a new epoch.
    fn refresh(&mut self) {
        self.epochs += 1;
        self.n_epoch.copy_from_slice(&self.n);
        for k in 0..self.n.len() {
            let r = self.offsets[k]..self.offsets[k + 1];
            let n = self.n[k];
            let width = r.len();
            for i in r {
                if n == 0 {
                    self.p_hat[i] = 1.0 / width as f64;
                    self.radius[i] = 1.0;
                } else {
                    let p = self.n_next[i] as f64 / n as f64;
                    let m = (n.max(2) - 1) as f64;
                    self.p_hat[i] = p;
                    self.radius[i] = (2.0 * (p * self.log_term / m).sqrt()
                        + 14.0 * self.log_term / (3.0 * m))
                        .min(1.0);
                }
            }
        }
    }

    /// Counts an episode's transitions (`path` = visited `(s, a)` in layer order); starts a new
    /// epoch when some `N(s, a)` has doubled since the current one began. Returns whether it did.
    pub fn observe(&mut self, path: &[(usize, usize)]) -> bool {
        let a_n = self.shape.num_actions();
        for w in path.windows(2) {
            let ((s, a), (s2, _)) = (w[0], w[1]);
            let j = s2 - self.shape.layer(self.shape.layer_of(s) + 1).start;
            let i = self.range(s, a).start + j;
            self.n_next[i] += 1;
        }
        let mut doubled = false;
        for &(s, a) in path {
            let k = s * a_n + a;
            self.n[k] += 1;
            doubled |= self.n[k] >= 2 * self.n_epoch[k].max(1);
        }
        if doubled {
            self.refresh();
        }
        doubled
    }

    /// Upper occupancy bounds `u(s) = max_{P ∈ confidence set} q^{P,π}(s)` for every state (the
    /// first layer's distribution is known: uniform, as the episodes start).
    pub fn upper_occupancy(&self, policy: &[f64]) -> Vec<f64> {
        let shape = &self.shape;
        let (a_n, s_n) = (shape.num_actions(), shape.num_states());
        let mut u = vec![0.0; s_n];
        let first = shape.layer(0);
        for s in first.clone() {
            u[s] = 1.0 / first.len() as f64;
        }
        let mut f = vec![0.0; s_n];
        let mut order = Vec::new();
        for target in shape.layer(1).start..s_n {
            let k = shape.layer_of(target);
            // f(x) = the largest probability of reaching `target` from x
            f[shape.layer(k)].iter_mut().for_each(|v| *v = 0.0);
            f[target] = 1.0;
            for m in (0..k).rev() {
                let next = shape.layer(m + 1);
                for x in shape.layer(m) {
                    let mut total = 0.0;
                    for a in 0..a_n {
                        let pi = policy[x * a_n + a];
                        if pi > 0.0 {
                            let r = self.range(x, a);
                            total += pi
                                * greedy_max(
                                    &self.p_hat[r.clone()],
                                    &self.radius[r],
                                    &f[next.clone()],
                                    &mut order,
                                );
                        }
                    }
                    f[x] = total;
                }
            }
            u[target] = first.clone().map(|x| f[x]).sum::<f64>() / first.len() as f64;
        }
        u
    }
}

impl Dynamics for EmpiricalModel {
    fn next(&self, s: usize, a: usize) -> &[f64] {
        &self.p_hat[self.range(s, a)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirrorflow_core::Rng;
    use std::sync::Arc;

    fn model(seed: u64) -> Arc<LayeredModel> {
        let cfg = mirrorflow_env_tabular::layered::LayeredConfig {
            model_seed: seed,
            ..Default::default()
        };
        Arc::new(cfg.build().unwrap())
    }

    #[test]
    fn greedy_max_is_the_box_simplex_optimum() {
        let mut rng = Rng::seed_from(3);
        let mut order = Vec::new();
        for _ in 0..500 {
            let n = 2 + rng.below(4) as usize;
            let mut p: Vec<f64> = (0..n).map(|_| rng.uniform(0.0, 1.0)).collect();
            let z: f64 = p.iter().sum();
            p.iter_mut().for_each(|x| *x /= z);
            let eps: Vec<f64> = (0..n).map(|_| rng.uniform(0.0, 0.3)).collect();
            let f: Vec<f64> = (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect();
            let best = greedy_max(&p, &eps, &f, &mut order);
            // p̂ itself is feasible, and no random feasible point does better
            let at_p: f64 = p.iter().zip(&f).map(|(a, b)| a * b).sum();
            assert!(best >= at_p - 1e-12);
            for _ in 0..200 {
                let mut q: Vec<f64> = (0..n)
                    .map(|j| rng.uniform((p[j] - eps[j]).max(0.0), (p[j] + eps[j]).min(1.0)))
                    .collect();
                let z: f64 = q.iter().sum();
                q.iter_mut().for_each(|x| *x /= z);
                if q.iter()
                    .zip(&p)
                    .zip(&eps)
                    .all(|((q, p), e)| (q - p).abs() <= *e)
                {
                    let v: f64 = q.iter().zip(&f).map(|(a, b)| a * b).sum();
                    assert!(v <= best + 1e-12, "{v} > {best}");
                }
            }
        }
    }

    #[test]
    fn upper_occupancy_covers_the_truth_and_converges_to_it() {
        let m = model(5);
        let (a_n, s_n) = (m.num_actions(), m.num_states());
        let mut rng = Rng::seed_from(9);
        let policy: Vec<f64> = (0..s_n)
            .flat_map(|_| {
                let mut p: Vec<f64> = (0..a_n).map(|_| rng.uniform(0.1, 1.0)).collect();
                let z: f64 = p.iter().sum();
                p.iter_mut().for_each(|x| *x /= z);
                p
            })
            .collect();
        let truth = m.occupancy(&policy);
        let mut emp = EmpiricalModel::new(m.clone(), 1_000_000, 0.01);
        // without data every state can be reached with certainty
        let u0 = emp.upper_occupancy(&policy);
        assert!(u0[m.layer(1)].iter().all(|&u| (u - 1.0).abs() < 1e-12));
        let mut last_gap = f64::INFINITY;
        for episodes in [100, 1_000, 100_000] {
            let mut done = 0;
            while done < episodes {
                // episodes sampled from the true model with the fixed policy
                let first = m.layer(0);
                let mut s = first.start + rng.below(first.len() as u64) as usize;
                let mut path = Vec::new();
                for h in 0..m.horizon() {
                    let a = rng.categorical(&policy[s * a_n..(s + 1) * a_n]);
                    path.push((s, a));
                    if h + 1 < m.horizon() {
                        s = m.layer(h + 1).start + rng.categorical(m.transition(s, a));
                    }
                }
                emp.observe(&path);
                done += 1;
            }
            let u = emp.upper_occupancy(&policy);
            for s in 0..s_n {
                assert!(
                    u[s] >= truth[s] - 1e-9,
                    "state {s}: {} < {}",
                    u[s],
                    truth[s]
                );
            }
            let gap = (0..s_n).map(|s| u[s] - truth[s]).fold(0.0, f64::max);
            assert!(gap < last_gap, "{gap} after {episodes} more episodes");
            last_gap = gap;
        }
        assert!(last_gap < 0.1, "gap {last_gap} after 101 100 episodes");
        // epochs grow logarithmically in the counts
        assert!(emp.epochs() < 40 * (s_n * a_n) as u64, "{}", emp.epochs());
        // P̂ is close to P, and Q̂ under P̂ close to Q under P
        let loss: Vec<f64> = (0..s_n * a_n).map(|_| rng.uniform(0.0, 1.0)).collect();
        let exact = q_values(&m, m.as_ref(), &policy, &loss);
        let estimated = q_values(&m, &emp, &policy, &loss);
        let err = exact
            .iter()
            .zip(&estimated)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(err < 0.05, "{err}");
        assert_eq!(
            exact,
            m.q_values(&policy, &loss),
            "the Dynamics recursion is the model's"
        );
    }
}
