//! Exact MD-VI(λ, τ, m) on a known tabular model, in three equivalent forms (spec §2.2–2.3).
//!
//! **Mirror descent** (`form = "md"`, the production path). With `π_0` uniform and `q_0 = 0`,
//! iteration `k` computes
//!
//! * greedy step (eq. in §2.2): `ln π_k = logsm_{λ+τ}(q_{k−1} + λ ln π_{k−1})`;
//! * evaluation: `q_k = (T_{π_k|π_{k−1}})^m q_{k−1} + ε_k` with
//!   `T q = r + γ P ⟨π_k, q − λ(ln π_k − ln π_{k−1}) − τ ln π_k⟩`.
//!
//! `λ = τ = 0` is plain VI/MPI (argmax greedy step, lowest index on ties), `λ = 0` soft VI.
//!
//! **Dual averaging** (`form = "da"`, `m = 1`). With `τ > 0`, `β = λ/(λ+τ)`:
//! `π_k = sm_τ(h_{k−1})`, `q_k = r + γ P [(lse_τ(h_{k−1}) − β lse_τ(h_{k−2}))/(1−β)]`,
//! `h_k = β h_{k−1} + (1−β) q_k`, `h_{−1} = h_0 = 0`. Pure KL (`τ = 0`): `π_k = sm_λ(S_{k−1})`,
//! `q_k = r + γ P [lse_λ(S_{k−1}) − lse_λ(S_{k−2})]`, `S_k = S_{k−1} + q_k`.
//!
//! **Munchausen** (`form = "munchausen"`, `m = 1`). With `τ_M = λ+τ`, `α τ_M = λ`:
//! `π_k = sm_{τ_M}(q'_{k−1})`, `q'_k = r + λ ln π_k + γ P lse_{τ_M}(q'_{k−1})`, `q'_0 = 0`.
//!
//! The three produce the same policies (test T2). Metrics are evaluated without regularization:
//! `tabular/q_error_inf = ‖q* − q^{π_k}‖∞`, `tabular/v_error_inf = ‖v* − v^{π_k}‖∞`.

use crate::config::{Form, MdviConfig, Noise};
use crate::evaluation::{evaluate, optimal_q, sup_dist};
use mirrorflow_core::{
    Array2, Error, MetricSink, ParamSnapshot, Planner, Rng, TabularMdp, Tensor, TensorData,
    Timeline,
};
use mirrorflow_math::softmax::{entropy, kl, log_softmax, lse};
use std::sync::Arc;

/// The MD-VI planner.
pub struct Mdvi {
    cfg: MdviConfig,
    mdp: Arc<TabularMdp>,
    q_star: Option<Vec<f64>>,
    k: u64,
    /// The form's state: `q_k` (md), `q'_k` (munchausen), `h_k` / `S_k` (da).
    state: Vec<f64>,
    /// `q_k` in every form (for `q.npy` and the change metric).
    q: Vec<f64>,
    log_pi: Vec<f64>,
    log_pi_prev: Vec<f64>,
    lse_prev: Vec<f64>,
    rng: Rng,
    v: Vec<f64>,
    pv: Vec<f64>,
    last_eval: Option<u64>,
    /// Next states collected outside (`m·S·A·n`, pair-major), for the next iteration.
    external: Option<Vec<u32>>,
}

impl Mdvi {
    /// A planner on `mdp`; `seed` drives the error model. The config must be valid.
    pub fn new(cfg: MdviConfig, mdp: Arc<TabularMdp>, seed: u64) -> Result<Self, Error> {
        cfg.validate().map_err(|e| Error::Learner(e.to_string()))?;
        let (s_n, a_n) = (mdp.num_states(), mdp.num_actions());
        let uniform = -(a_n as f64).ln();
        // lse of a zero row at temperature t is t ln A: the DA recursions start from it.
        let da_temp = if cfg.tau > 0.0 { cfg.tau } else { cfg.lambda };
        Ok(Self {
            q_star: None,
            k: 0,
            state: vec![0.0; s_n * a_n],
            q: vec![0.0; s_n * a_n],
            log_pi: vec![uniform; s_n * a_n],
            log_pi_prev: vec![uniform; s_n * a_n],
            lse_prev: vec![da_temp * (a_n as f64).ln(); s_n],
            rng: Rng::seed_from(seed),
            v: vec![0.0; s_n],
            pv: vec![0.0; s_n * a_n],
            last_eval: None,
            external: None,
            cfg,
            mdp,
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &MdviConfig {
        &self.cfg
    }

    /// The model.
    pub fn mdp(&self) -> &Arc<TabularMdp> {
        &self.mdp
    }

    /// `ln π_k` (`S × A`).
    pub fn log_policy(&self) -> &[f64] {
        &self.log_pi
    }

    /// `q_k` (`S × A`); for the Munchausen form `q'_k − λ ln π_k`.
    pub fn q(&self) -> &[f64] {
        match self.cfg.form {
            Form::Md => &self.state,
            Form::Da | Form::Munchausen => &self.q,
        }
    }

    /// `π_k` as probabilities.
    pub fn policy(&self) -> Vec<f64> {
        self.log_pi.iter().map(|l| l.exp()).collect()
    }

    /// `q*` (computed once, on first use).
    pub fn q_star(&mut self) -> &[f64] {
        let mdp = &self.mdp;
        self.q_star.get_or_insert_with(|| optimal_q(mdp))
    }

    /// Greedy step of the DA and Munchausen forms (the MD form runs in `md_iteration`).
    fn greedy_step(&mut self) {
        let a_n = self.mdp.num_actions();
        let (lambda, tau) = (self.cfg.lambda, self.cfg.tau);
        let temp = match self.cfg.form {
            Form::Da if tau > 0.0 => tau,
            Form::Da => lambda,
            Form::Md | Form::Munchausen => lambda + tau,
        };
        std::mem::swap(&mut self.log_pi, &mut self.log_pi_prev);
        for s in 0..self.mdp.num_states() {
            let row = s * a_n..(s + 1) * a_n;
            log_softmax(&self.state[row.clone()], temp, &mut self.log_pi[row]);
        }
    }

    /// Backup of the DA and Munchausen forms.
    fn backup(&mut self) {
        let (s_n, a_n, gamma) = (
            self.mdp.num_states(),
            self.mdp.num_actions(),
            self.mdp.gamma(),
        );
        let (lambda, tau) = (self.cfg.lambda, self.cfg.tau);
        let r = self.mdp.rewards();
        match self.cfg.form {
            // the MD form runs in `md_iteration`
            Form::Md => {}
            Form::Munchausen => {
                let tm = lambda + tau;
                for s in 0..s_n {
                    self.v[s] = lse(&self.state[s * a_n..(s + 1) * a_n], tm);
                }
                self.mdp.expect(&self.v, &mut self.pv);
                for k in 0..s_n * a_n {
                    let bonus = if lambda > 0.0 {
                        lambda * self.log_pi[k]
                    } else {
                        0.0
                    };
                    self.state[k] = r[k] + bonus + gamma * self.pv[k];
                    self.q[k] = self.state[k] - bonus;
                }
            }
            Form::Da => {
                let (temp, beta) = if tau > 0.0 {
                    (tau, lambda / (lambda + tau))
                } else {
                    (lambda, 1.0)
                };
                for s in 0..s_n {
                    let cur = lse(&self.state[s * a_n..(s + 1) * a_n], temp);
                    self.v[s] = if tau > 0.0 {
                        (cur - beta * self.lse_prev[s]) / (1.0 - beta)
                    } else {
                        cur - self.lse_prev[s]
                    };
                    self.lse_prev[s] = cur;
                }
                self.mdp.expect(&self.v, &mut self.pv);
                for k in 0..s_n * a_n {
                    self.q[k] = r[k] + gamma * self.pv[k];
                    self.state[k] = if tau > 0.0 {
                        beta * self.state[k] + (1.0 - beta) * self.q[k]
                    } else {
                        self.state[k] + self.q[k]
                    };
                }
            }
        }
    }

    /// One MD iteration, split over threads by state (each value is computed by the same
    /// operations whatever the split, so results do not depend on the thread count). The first
    /// backup uses the soft-value identity `⟨π_k, q − λ(ln π_k − ln π_{k−1}) − τ ln π_k⟩ =
    /// lse_{λ+τ}(q + λ ln π_{k−1})`, so it costs one exponential per entry. Returns
    /// `‖q_k − q_{k−1}‖∞`.
    fn md_iteration(&mut self) -> f64 {
        let (s_n, a_n, gamma) = (
            self.mdp.num_states(),
            self.mdp.num_actions(),
            self.mdp.gamma(),
        );
        let (lambda, tau) = (self.cfg.lambda, self.cfg.tau);
        let temp = lambda + tau;
        let threads = if self.cfg.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.cfg.threads
        };
        // small problems are not worth a thread
        let threads = threads.min((s_n * a_n / 20_000).max(1));
        let ranges = split(s_n, threads);
        std::mem::swap(&mut self.log_pi, &mut self.log_pi_prev);
        let mdp = &*self.mdp;
        let (q, prev, head) = (&self.state, &self.log_pi_prev, self.cfg.policy);
        par2(
            &ranges,
            &mut self.log_pi,
            a_n,
            &mut self.v,
            1,
            |r, lp, v| {
                let mut z = vec![0.0; a_n];
                for (i, s) in r.enumerate() {
                    let row = s * a_n..(s + 1) * a_n;
                    for (zi, (qi, pi)) in z.iter_mut().zip(q[row.clone()].iter().zip(&prev[row])) {
                        *zi = if lambda > 0.0 { qi + lambda * pi } else { *qi };
                    }
                    v[i] = head.apply(&z, temp, &mut lp[i * a_n..(i + 1) * a_n]);
                }
            },
        );
        // the single-pass change is |q_k − q_{k−1}| only for one noise-free backup
        let exact_pass = self.cfg.m == 1 && matches!(self.cfg.noise, Noise::None);
        let q_prev = (!exact_pass).then(|| self.state.clone());
        let mut change = 0.0f64;
        for inner in 0..self.cfg.m {
            if inner > 0 {
                // later backups of modified PI keep π_k fixed: the explicit regularized sum
                for s in 0..s_n {
                    let mut acc = 0.0;
                    for k in s * a_n..(s + 1) * a_n {
                        let lp = self.log_pi[k];
                        let p = lp.exp();
                        if p == 0.0 {
                            continue;
                        }
                        let mut term = self.state[k];
                        if lambda > 0.0 {
                            term -= lambda * (lp - self.log_pi_prev[k]);
                        }
                        if tau > 0.0 {
                            term -= tau * lp;
                        }
                        acc += p * term;
                    }
                    self.v[s] = acc;
                }
            }
            if let Noise::Sampled { n } = self.cfg.noise {
                // sequential: one random stream, the same draws whatever the thread count
                let (r, inv) = (mdp.rewards(), 1.0 / n as f64);
                let base = inner as usize * s_n * a_n * n as usize;
                for s in 0..s_n {
                    for a in 0..a_n {
                        let mut acc = 0.0;
                        for j in 0..n as usize {
                            let next = match &self.external {
                                Some(x) => x[base + (s * a_n + a) * n as usize + j] as usize,
                                None => mdp.sample_next(s, a, &mut self.rng),
                            };
                            acc += self.v[next];
                        }
                        self.state[s * a_n + a] = r[s * a_n + a] + gamma * acc * inv;
                    }
                }
                continue;
            }
            let (v, r) = (&self.v, mdp.rewards());
            let last = inner + 1 == self.cfg.m;
            let changes: Vec<std::sync::atomic::AtomicU64> = ranges
                .iter()
                .map(|_| std::sync::atomic::AtomicU64::new(0))
                .collect();
            par2(&ranges, &mut self.state, a_n, &mut [], 0, |range, q, _| {
                let first = range.start * a_n;
                let mut ch = 0.0f64;
                for (i, (qi, ri)) in q.iter_mut().zip(&r[first..]).enumerate() {
                    let (ns, ps) = mdp.row(first + i);
                    let mut acc = 0.0;
                    for (&n, &p) in ns.iter().zip(ps) {
                        acc += p * v[n as usize];
                    }
                    let new = ri + gamma * acc;
                    ch = ch.max((new - *qi).abs());
                    *qi = new;
                }
                if last {
                    let slot = ranges
                        .iter()
                        .position(|x| x.start == range.start)
                        .unwrap_or(0);
                    changes[slot].store(ch.to_bits(), std::sync::atomic::Ordering::Relaxed);
                }
            });
            if last {
                change = changes
                    .iter()
                    .map(|c| f64::from_bits(c.load(std::sync::atomic::Ordering::Relaxed)))
                    .fold(0.0, f64::max);
            }
        }
        if let Noise::Gaussian { sigma } = self.cfg.noise
            && sigma > 0.0
        {
            for x in &mut self.state {
                *x += sigma * self.rng.normal();
            }
        }
        match q_prev {
            Some(prev) => sup_dist(&self.state, &prev),
            None => change,
        }
    }

    fn record_policy_stats(&mut self, metrics: &mut dyn MetricSink) {
        let a_n = self.mdp.num_actions();
        let s_n = self.mdp.num_states() as f64;
        let (mut ent, mut kl_sum) = (0.0, 0.0);
        let mut p = vec![0.0; a_n];
        for (lp, lq) in self.log_pi.chunks(a_n).zip(self.log_pi_prev.chunks(a_n)) {
            for (pi, l) in p.iter_mut().zip(lp) {
                *pi = l.exp();
            }
            ent += entropy(&p);
            kl_sum += kl(&p, lp, lq);
        }
        metrics.record(
            Timeline::LearnerSteps,
            self.k,
            "tabular/policy_entropy",
            ent / s_n,
        );
        metrics.record(
            Timeline::LearnerSteps,
            self.k,
            "tabular/kl_to_previous",
            kl_sum / s_n,
        );
    }

    fn record_evaluation(&mut self, metrics: &mut dyn MetricSink) {
        let a_n = self.mdp.num_actions();
        let pi = self.policy();
        let q_pi = evaluate(&self.mdp, &pi);
        let q_star = self.q_star().to_vec();
        let v = |q: &[f64], pol: Option<&[f64]>| -> Vec<f64> {
            q.chunks(a_n)
                .enumerate()
                .map(|(s, row)| match pol {
                    Some(p) => row
                        .iter()
                        .zip(&p[s * a_n..(s + 1) * a_n])
                        .map(|(x, y)| x * y)
                        .sum(),
                    None => row.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                })
                .collect()
        };
        let v_pi = v(&q_pi, Some(&pi));
        let v_star = v(&q_star, None);
        let ret: f64 = self
            .mdp
            .initial()
            .iter()
            .zip(&v_pi)
            .map(|(a, b)| a * b)
            .sum();
        metrics.record(
            Timeline::LearnerSteps,
            self.k,
            "tabular/q_error_inf",
            sup_dist(&q_star, &q_pi),
        );
        metrics.record(
            Timeline::LearnerSteps,
            self.k,
            "tabular/v_error_inf",
            sup_dist(&v_star, &v_pi),
        );
        metrics.record(
            Timeline::LearnerSteps,
            self.k,
            "charts/expected_return",
            ret,
        );
        self.last_eval = Some(self.k);
    }
}

impl Mdvi {
    /// One iteration whose sampled backups use `next_states` instead of drawing from the model:
    /// `m·S·A·n` states, backup-major then pair-major (`[(b·S·A + s·A + a)·n + j]`). Needs
    /// `noise = sampled` and the MD form.
    pub fn iterate_with_samples(
        &mut self,
        next_states: Vec<u32>,
        metrics: &mut dyn MetricSink,
    ) -> Result<(), Error> {
        let Noise::Sampled { n } = self.cfg.noise else {
            return Err(Error::Learner(
                "collected samples need noise = { kind = \"sampled\", n = N }".into(),
            ));
        };
        let (s_n, a_n) = (self.mdp.num_states(), self.mdp.num_actions());
        let want = self.cfg.m as usize * s_n * a_n * n as usize;
        if next_states.len() != want || self.cfg.form != Form::Md {
            return Err(Error::Learner(format!(
                "an MD iteration needs {want} collected next states (m·S·A·n), got {}",
                next_states.len()
            )));
        }
        if let Some(bad) = next_states.iter().find(|&&x| x as usize >= s_n) {
            return Err(Error::Learner(format!(
                "collected next state {bad} is not a state (S = {s_n})"
            )));
        }
        self.external = Some(next_states);
        let result = self.iterate(metrics);
        self.external = None;
        result
    }

    /// The MD form's full state (`q_k`, `ln π_k`, `ln π_{k−1}`, `k`), for checkpoints.
    pub fn md_state(&self) -> (&[f64], &[f64], &[f64], u64) {
        (&self.state, &self.log_pi, &self.log_pi_prev, self.k)
    }

    /// Restores what [`Mdvi::md_state`] returned.
    pub fn restore_md_state(
        &mut self,
        q: &[f64],
        log_pi: &[f64],
        log_pi_prev: &[f64],
        k: u64,
    ) -> Result<(), Error> {
        let len = self.state.len();
        if q.len() != len || log_pi.len() != len || log_pi_prev.len() != len {
            return Err(Error::Learner(format!(
                "the checkpoint's tables do not have S·A = {len} entries"
            )));
        }
        self.state.copy_from_slice(q);
        self.q.copy_from_slice(q);
        self.log_pi.copy_from_slice(log_pi);
        self.log_pi_prev.copy_from_slice(log_pi_prev);
        self.k = k;
        Ok(())
    }
}

impl Planner for Mdvi {
    fn iterate(&mut self, metrics: &mut dyn MetricSink) -> Result<(), Error> {
        self.k += 1;
        let change = if self.cfg.form == Form::Md {
            self.md_iteration()
        } else {
            let q_prev = self.q.clone();
            self.greedy_step();
            self.backup();
            sup_dist(&self.q, &q_prev)
        };
        if self.q().iter().any(|x| !x.is_finite()) {
            return Err(Error::Learner(format!(
                "q-values became non-finite at iteration {}",
                self.k
            )));
        }
        metrics.record(
            Timeline::LearnerSteps,
            self.k,
            "tabular/q_change_inf",
            change,
        );
        if self.k.is_multiple_of(self.cfg.eval_every) {
            self.record_policy_stats(metrics);
            self.record_evaluation(metrics);
        }
        Ok(())
    }

    fn iterations(&self) -> u64 {
        self.k
    }

    fn finish(&mut self, metrics: &mut dyn MetricSink) -> Result<(), Error> {
        if self.last_eval != Some(self.k) {
            self.record_policy_stats(metrics);
            self.record_evaluation(metrics);
        }
        Ok(())
    }

    fn snapshot(&self) -> ParamSnapshot {
        let shape = vec![self.mdp.num_states(), self.mdp.num_actions()];
        ParamSnapshot {
            version: self.k,
            tensors: vec![
                Tensor {
                    name: "q".into(),
                    shape: shape.clone(),
                    data: TensorData::F64(self.q().to_vec()),
                },
                Tensor {
                    name: "log_policy".into(),
                    shape,
                    data: TensorData::F64(self.log_pi.clone()),
                },
            ],
        }
    }

    fn artifacts(&self) -> Vec<(String, Array2)> {
        let (rows, cols) = (self.mdp.num_states(), self.mdp.num_actions());
        let policy = self.policy();
        vec![
            (
                "q".into(),
                Array2 {
                    rows,
                    cols,
                    data: self.q().to_vec(),
                },
            ),
            (
                "policy".into(),
                Array2 {
                    rows,
                    cols,
                    data: policy.clone(),
                },
            ),
            (
                "values".into(),
                Array2 {
                    rows,
                    cols: 1,
                    data: policy
                        .chunks_exact(cols)
                        .zip(self.q().chunks_exact(cols))
                        .map(|(p, q)| p.iter().zip(q).map(|(p, q)| p * q).sum())
                        .collect(),
                },
            ),
        ]
    }
}

/// Runs `f(range, a_rows, b_rows)` for every range of states, on scoped threads (the last range
/// on this thread); `a` and `b` hold `wa` and `wb` values per state.
fn par2(
    ranges: &[std::ops::Range<usize>],
    a: &mut [f64],
    wa: usize,
    b: &mut [f64],
    wb: usize,
    f: impl Fn(std::ops::Range<usize>, &mut [f64], &mut [f64]) + Sync,
) {
    let (mut a_rest, mut b_rest) = (a, b);
    std::thread::scope(|sc| {
        for (n, r) in ranges.iter().enumerate() {
            let (ca, a2) = std::mem::take(&mut a_rest).split_at_mut(r.len() * wa);
            let (cb, b2) = std::mem::take(&mut b_rest).split_at_mut(r.len() * wb);
            (a_rest, b_rest) = (a2, b2);
            let (r, f) = (r.clone(), &f);
            if n + 1 == ranges.len() {
                f(r, ca, cb);
            } else {
                sc.spawn(move || f(r, ca, cb));
            }
        }
    });
}

/// `n` items in at most `parts` contiguous, non-empty ranges.
fn split(n: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    let parts = parts.clamp(1, n.max(1));
    let (base, extra) = (n / parts, n % parts);
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    for i in 0..parts {
        let len = base + usize::from(i < extra);
        out.push(start..start + len);
        start += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirrorflow_core::metrics::{MemorySink, NullSink};
    use mirrorflow_env_tabular::garnet::GarnetConfig;

    fn cfg(lambda: f64, tau: f64, form: Form) -> MdviConfig {
        MdviConfig {
            lambda,
            tau,
            form,
            eval_every: 1_000_000,
            ..Default::default()
        }
    }

    /// Random MDP of spec T2: rewards U(0,1), each row of P a uniform draw from the simplex.
    fn random_mdp(seed: u64, s_n: usize, a_n: usize, gamma: f64) -> Arc<TabularMdp> {
        let mut rng = Rng::seed_from(seed);
        let mut rows = Vec::new();
        for s in 0..s_n {
            for a in 0..a_n {
                let w: Vec<f64> = (0..s_n).map(|_| -(1.0 - rng.next_f64()).ln()).collect();
                let t: f64 = w.iter().sum();
                let mut acc = 0.0;
                for (n, wi) in w.iter().enumerate() {
                    let p = if n + 1 == s_n { 1.0 - acc } else { wi / t };
                    acc += p;
                    rows.push((s, a, n, p));
                }
            }
        }
        let r = (0..s_n * a_n).map(|_| rng.next_f64()).collect();
        Arc::new(TabularMdp::from_rows(s_n, a_n, gamma, &rows, r, None).unwrap())
    }

    fn one_state(gamma: f64) -> Arc<TabularMdp> {
        Arc::new(
            TabularMdp::from_rows(
                1,
                2,
                gamma,
                &[(0, 0, 0, 1.0), (0, 1, 0, 1.0)],
                vec![1.0, 0.0],
                None,
            )
            .unwrap(),
        )
    }

    fn run(mut p: Mdvi, k: usize) -> Vec<Vec<f64>> {
        let mut out = vec![p.log_policy().to_vec()];
        for _ in 0..k {
            p.iterate(&mut NullSink).unwrap();
            out.push(p.log_policy().to_vec());
        }
        out
    }

    /// T1: λ = τ = 0 gives exactly the VI iterates (identical bits).
    #[test]
    fn t1_unregularized_is_value_iteration() {
        let mdp = Arc::new(
            GarnetConfig {
                num_states: 30,
                num_actions: 4,
                branching: 3,
                ..Default::default()
            }
            .build()
            .unwrap(),
        );
        let mut p = Mdvi::new(cfg(0.0, 0.0, Form::Md), mdp.clone(), 0).unwrap();
        let (s_n, a_n) = (30, 4);
        let mut q = vec![0.0; s_n * a_n];
        for _ in 0..50 {
            // independent VI: q ← r + γ P max_a q
            let v: Vec<f64> = q
                .chunks(a_n)
                .map(|r: &[f64]| r.iter().copied().fold(f64::NEG_INFINITY, f64::max))
                .collect();
            let mut pv = vec![0.0; s_n * a_n];
            mdp.expect(&v, &mut pv);
            for k in 0..q.len() {
                q[k] = mdp.rewards()[k] + mdp.gamma() * pv[k];
            }
            p.iterate(&mut NullSink).unwrap();
            assert_eq!(p.q(), &q[..]);
        }
    }

    /// T2: MD ≡ DA ≡ M on random MDPs (S = 4, A = 3, γ = 0.9, 25 iterations).
    #[test]
    fn t2_three_forms_agree() {
        for seed in 0..200 {
            let mdp = random_mdp(seed, 4, 3, 0.9);
            for (l, t, tol) in [(0.7, 0.3, 1e-13), (0.5, 0.0, 1e-12)] {
                let md = run(Mdvi::new(cfg(l, t, Form::Md), mdp.clone(), 0).unwrap(), 25);
                let da = run(Mdvi::new(cfg(l, t, Form::Da), mdp.clone(), 0).unwrap(), 25);
                let m = run(
                    Mdvi::new(cfg(l, t, Form::Munchausen), mdp.clone(), 0).unwrap(),
                    25,
                );
                for k in 0..=25 {
                    for (i, x) in md[k].iter().enumerate() {
                        assert!(
                            (x - da[k][i]).abs() <= tol,
                            "seed {seed} λ={l} τ={t} k={k}: MD {x} DA {}",
                            da[k][i]
                        );
                        assert!(
                            (x - m[k][i]).abs() <= tol.max(1e-13),
                            "seed {seed} λ={l} τ={t} k={k}: MD {x} M {}",
                            m[k][i]
                        );
                    }
                }
            }
        }
    }

    fn sigma(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    /// T3: one state, γ = 0, r = (1, 0), λ = 1, τ = 0: π_k(a_1) = σ(k − 1).
    #[test]
    fn t3_kl_only_averages() {
        for form in [Form::Md, Form::Da, Form::Munchausen] {
            let pols = run(
                Mdvi::new(cfg(1.0, 0.0, form), one_state(0.0), 0).unwrap(),
                6,
            );
            assert!((pols[2][0].exp() - 0.7310585786).abs() < 1e-10, "{form:?}");
            assert!((pols[3][0].exp() - 0.8807970780).abs() < 1e-10, "{form:?}");
            for k in 1..=6 {
                assert!(
                    (pols[k][0].exp() - sigma(k as f64 - 1.0)).abs() < 1e-12,
                    "{form:?} k={k}"
                );
            }
        }
    }

    /// T4: same MDP, λ = τ = 1 (β = ½): π_k(a_1) = σ(1 − 2^{1−k}) → σ(1).
    #[test]
    fn t4_kl_and_entropy() {
        for form in [Form::Md, Form::Da, Form::Munchausen] {
            let pols = run(
                Mdvi::new(cfg(1.0, 1.0, form), one_state(0.0), 0).unwrap(),
                40,
            );
            assert!((pols[2][0].exp() - 0.6224593312).abs() < 1e-10, "{form:?}");
            assert!((pols[3][0].exp() - 0.6791786992).abs() < 1e-10, "{form:?}");
            for k in 1..=10 {
                assert!((pols[k][0].exp() - sigma(1.0 - 2f64.powi(1 - k as i32))).abs() < 1e-12);
            }
            assert!((pols[40][0].exp() - 0.7310585786).abs() < 1e-10);
        }
    }

    /// T6: with γ = 0, τ = 0 and noise, the logits of π_{k+1} are the running sum of the noisy
    /// q_j divided by λ (up to a per-state constant).
    #[test]
    fn t6_logits_are_sums_of_noisy_q() {
        let mdp = one_state(0.0);
        let c = MdviConfig {
            lambda: 2.0,
            tau: 0.0,
            noise: Noise::Gaussian { sigma: 0.5 },
            ..cfg(2.0, 0.0, Form::Md)
        };
        let mut p = Mdvi::new(c, mdp, 9).unwrap();
        let mut sum = [0.0f64; 2];
        for _ in 0..30 {
            p.iterate(&mut NullSink).unwrap();
            let lp = p.log_policy().to_vec();
            // π_k's logits are Σ_{j<k} q_j / λ
            let want = (sum[0] - sum[1]) / 2.0;
            assert!(((lp[0] - lp[1]) - want).abs() < 1e-12);
            sum[0] += p.q()[0];
            sum[1] += p.q()[1];
        }
    }

    #[test]
    fn vi_reaches_the_optimum_and_reports_it() {
        let mdp = Arc::new(GarnetConfig::default().build().unwrap());
        let mut p = Mdvi::new(
            MdviConfig {
                lambda: 0.0,
                tau: 0.0,
                eval_every: 10,
                ..Default::default()
            },
            mdp,
            0,
        )
        .unwrap();
        let mut sink = MemorySink::default();
        for _ in 0..200 {
            p.iterate(&mut sink).unwrap();
        }
        p.finish(&mut sink).unwrap();
        assert!(sink.last("tabular/q_error_inf").unwrap() < 1e-6);
        assert_eq!(sink.series("tabular/q_error_inf").len(), 20);
        let arts = p.artifacts();
        assert_eq!(arts[0].1.rows, 100);
        assert!(
            arts[1]
                .1
                .data
                .chunks(4)
                .all(|r| (r.iter().sum::<f64>() - 1.0).abs() < 1e-12)
        );
    }

    #[test]
    fn sampled_backups_are_unbiased_and_averaged_by_kl() {
        let mdp = Arc::new(GarnetConfig::default().build().unwrap());
        // one sampled backup of a fixed v is unbiased: average many against the exact P v
        let c = MdviConfig {
            lambda: 0.0,
            tau: 0.0,
            noise: Noise::Sampled { n: 1 },
            eval_every: 1000,
            ..Default::default()
        };
        let mut exact = Mdvi::new(
            MdviConfig {
                noise: Noise::None,
                ..c.clone()
            },
            mdp.clone(),
            0,
        )
        .unwrap();
        exact.iterate(&mut NullSink).unwrap();
        exact.iterate(&mut NullSink).unwrap();
        let mut mean = vec![0.0; 400];
        let runs = 4000;
        for seed in 0..runs {
            let mut p = Mdvi::new(c.clone(), mdp.clone(), seed).unwrap();
            p.iterate(&mut NullSink).unwrap(); // q_1 = r exactly (v = 0)
            p.iterate(&mut NullSink).unwrap();
            for (m, q) in mean.iter_mut().zip(p.q()) {
                *m += q / runs as f64;
            }
        }
        let err = mean
            .iter()
            .zip(exact.q())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(err < 0.05, "sampled backup biased by {err}");
        // and KL regularization averages the sampling errors out
        let final_err = |lambda: f64| {
            let cfg = MdviConfig {
                lambda,
                tau: 0.0,
                noise: Noise::Sampled { n: 1 },
                eval_every: 1000,
                ..Default::default()
            };
            let mut p = Mdvi::new(cfg, mdp.clone(), 3).unwrap();
            let mut sink = MemorySink::default();
            for _ in 0..300 {
                p.iterate(&mut sink).unwrap();
            }
            p.finish(&mut sink).unwrap();
            sink.last("tabular/q_error_inf").unwrap()
        };
        let (vi, md) = (final_err(0.0), final_err(10.0));
        assert!(md < vi, "MD-VI {md} vs VI {vi} with sampled backups");
    }

    #[test]
    fn sparse_soft_vi_has_exact_zeros_and_tends_to_vi() {
        use mirrorflow_math::policy_head::PolicyHead;
        let mdp = Arc::new(GarnetConfig::default().build().unwrap());
        let run = |policy: PolicyHead, tau: f64| {
            let c = MdviConfig {
                lambda: 0.0,
                tau,
                policy,
                eval_every: 1000,
                ..Default::default()
            };
            let mut p = Mdvi::new(c, mdp.clone(), 0).unwrap();
            let mut sink = MemorySink::default();
            for _ in 0..300 {
                p.iterate(&mut sink).unwrap();
            }
            p.finish(&mut sink).unwrap();
            (p.policy(), sink.last("tabular/q_error_inf").unwrap())
        };
        let (pi, _) = run(PolicyHead::Sparsemax, 0.5);
        assert!(pi.contains(&0.0), "sparsemax policies have exact zeros");
        assert!(
            pi.chunks(4)
                .all(|r| (r.iter().sum::<f64>() - 1.0).abs() < 1e-12)
        );
        let (_, err) = run(PolicyHead::Sparsemax, 1e-9);
        assert!(err < 1e-6, "τ → 0 is value iteration: {err}");
        let (_, e15) = run(PolicyHead::Tsallis { q: 1.5 }, 0.05);
        assert!(e15.is_finite());
        let bad = MdviConfig {
            lambda: 1.0,
            tau: 0.1,
            policy: PolicyHead::Sparsemax,
            ..Default::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "policy");
    }

    #[test]
    fn kl_regularization_averages_noise() {
        // Spec §10.1 E1a in miniature: with noise, λ > 0 ends well below plain approximate VI.
        let mdp = Arc::new(GarnetConfig::default().build().unwrap());
        let final_err = |lambda: f64| {
            let c = MdviConfig {
                lambda,
                tau: 0.0,
                noise: Noise::Gaussian { sigma: 1.0 },
                eval_every: 1000,
                ..Default::default()
            };
            let mut p = Mdvi::new(c, mdp.clone(), 3).unwrap();
            let mut sink = MemorySink::default();
            for _ in 0..300 {
                p.iterate(&mut sink).unwrap();
            }
            p.finish(&mut sink).unwrap();
            sink.last("tabular/q_error_inf").unwrap()
        };
        let (vi, md) = (final_err(0.0), final_err(10.0));
        assert!(md * 2.0 < vi, "MD-VI {md} vs VI {vi}");
    }
}
