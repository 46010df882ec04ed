//! The n-step adder: folds each env's consecutive transitions into n-step returns before they
//! reach the replay (Acme's adder idea: actors and learners never fold by hand).
//!
//! For env `e` with rows `t, t+1, …`, the row emitted for `t` carries
//! `R = Σ_{j<k} γ^j r_{t+j}`, the observation `next_obs_{t+k−1}`, the flags of row `t+k−1` and
//! the bootstrap discount `γ^k`, where `k = n`, or fewer when the episode ends (terminated or
//! truncated) inside the window. A target is then `R + γ^k (1 − terminated) V(next_obs)`, which
//! bootstraps correctly on truncation (the final observation is kept). `n = 1` passes rows
//! through unchanged with discount `γ`. Rows are keyed by global env id, so the result does not
//! depend on how envs were spread over shards.

use mirrorflow_core::TransitionBatch;
use std::collections::{BTreeMap, VecDeque};

#[derive(Clone, Debug)]
struct Pending {
    obs: Vec<f32>,
    action: Vec<f32>,
    reward: f32,
}

/// Folds rows into n-step returns; see the module docs.
#[derive(Clone, Debug)]
pub struct NStepAdder {
    n: usize,
    gamma: f64,
    queues: BTreeMap<u32, VecDeque<Pending>>,
    out: TransitionBatch,
    discounts: Vec<f32>,
}

impl NStepAdder {
    /// An adder folding `n ≥ 1` steps with discount `gamma`.
    pub fn new(n: usize, gamma: f64) -> Self {
        Self {
            n: n.max(1),
            gamma,
            queues: BTreeMap::new(),
            out: TransitionBatch::default(),
            discounts: Vec::new(),
        }
    }

    /// Rows waiting for their window to fill.
    pub fn pending(&self) -> usize {
        self.queues.values().map(VecDeque::len).sum()
    }

    /// Adds a batch (rows of each env in time order) and returns the rows completed by it, with
    /// their bootstrap discounts. The returned batch is reused by the next call.
    pub fn add(&mut self, batch: &TransitionBatch) -> (&TransitionBatch, &[f32]) {
        self.out.clear();
        self.out.obs_dim = batch.obs_dim;
        self.out.act_dim = batch.act_dim;
        self.out.policy_version = batch.policy_version;
        self.discounts.clear();
        for i in 0..batch.len() {
            let env = batch.env_ids[i];
            let q = self.queues.entry(env).or_default();
            q.push_back(Pending {
                obs: batch.obs_row(i).to_vec(),
                action: batch.action_row(i).to_vec(),
                reward: batch.rewards[i],
            });
            let (term, trunc) = (batch.terminated[i], batch.truncated[i]);
            let next = batch.next_obs_row(i);
            if term != 0 || trunc != 0 {
                // the episode ended: every pending row folds up to here
                while !q.is_empty() {
                    Self::emit(
                        q,
                        self.gamma,
                        env,
                        next,
                        term,
                        trunc,
                        &mut self.out,
                        &mut self.discounts,
                    );
                    q.pop_front();
                }
            } else if q.len() == self.n {
                Self::emit(
                    q,
                    self.gamma,
                    env,
                    next,
                    0,
                    0,
                    &mut self.out,
                    &mut self.discounts,
                );
                q.pop_front();
            }
        }
        (&self.out, &self.discounts)
    }

    /// Emits the oldest row of `q` folded over the whole queue.
    fn emit(
        q: &VecDeque<Pending>,
        gamma: f64,
        env: u32,
        next_obs: &[f32],
        terminated: u8,
        truncated: u8,
        out: &mut TransitionBatch,
        discounts: &mut Vec<f32>,
    ) {
        let (mut ret, mut g) = (0.0f64, 1.0f64);
        for p in q {
            ret += g * p.reward as f64;
            g *= gamma;
        }
        let first = &q[0];
        out.env_ids.push(env);
        out.obs.extend_from_slice(&first.obs);
        out.actions.extend_from_slice(&first.action);
        out.rewards.push(ret as f32);
        out.next_obs.extend_from_slice(next_obs);
        out.terminated.push(terminated);
        out.truncated.push(truncated);
        discounts.push(g as f32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirrorflow_core::Rng;

    /// Random interleaved episodes of several envs, with terminations and truncations; every
    /// emitted row must equal the n-step target computed from the whole episode.
    #[test]
    fn folds_match_the_episode_oracle() {
        for n in [1usize, 2, 3, 5] {
            let gamma = 0.9;
            let mut rng = Rng::seed_from(n as u64);
            let mut adder = NStepAdder::new(n, gamma);
            // per env: the full list of (t, reward, ends, terminated) rows
            let envs = 3u32;
            let mut log: Vec<Vec<(f32, bool, bool)>> = vec![Vec::new(); envs as usize];
            let mut emitted: Vec<(u32, u32, f32, f32, u8, f32)> = Vec::new();
            for _ in 0..40 {
                let mut b = TransitionBatch {
                    obs_dim: 2,
                    act_dim: 1,
                    ..Default::default()
                };
                for _ in 0..5 {
                    let env = rng.below(envs as u64) as u32;
                    let t = log[env as usize].len();
                    let r = rng.uniform(-1.0, 1.0) as f32;
                    let end = rng.below(6);
                    let (term, trunc) = (end == 0, end == 1);
                    log[env as usize].push((r, term, trunc));
                    b.env_ids.push(env);
                    b.obs.extend([env as f32, t as f32]);
                    b.actions.push(0.0);
                    b.rewards.push(r);
                    b.next_obs.extend([env as f32, t as f32 + 1.0]);
                    b.terminated.push(term as u8);
                    b.truncated.push(trunc as u8);
                }
                let (out, disc) = adder.add(&b);
                for i in 0..out.len() {
                    emitted.push((
                        out.obs[2 * i] as u32,
                        out.obs[2 * i + 1] as u32,
                        out.rewards[i],
                        out.next_obs[2 * i + 1],
                        out.terminated[i],
                        disc[i],
                    ));
                }
            }
            let mut checked = 0;
            for (env, t, ret, next_t, term, disc) in emitted {
                let rows = &log[env as usize];
                let t = t as usize;
                // the window: up to n rows, stopping at the episode's end
                let mut k = 0;
                let (mut want, mut g) = (0.0f64, 1.0f64);
                let mut ended = (false, false);
                while k < n {
                    let (r, te, tr) = rows[t + k];
                    want += g * r as f64;
                    g *= gamma;
                    k += 1;
                    if te || tr {
                        ended = (te, tr);
                        break;
                    }
                }
                assert!((ret as f64 - want).abs() < 1e-5, "n={n} env {env} t {t}");
                assert_eq!(next_t as usize, t + k, "n={n}: next observation");
                assert_eq!(term != 0, ended.0);
                assert!((disc as f64 - g).abs() < 1e-6);
                checked += 1;
            }
            let total: usize = log.iter().map(Vec::len).sum();
            assert_eq!(checked + adder.pending(), total, "n={n}: every row once");
            assert!(adder.pending() < n * envs as usize);
        }
    }
}
