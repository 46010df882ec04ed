//! Munchausen-DQN, readable top to bottom (spec §3.1).
//!
//! Target for a replayed `(s, a, R, s', done)` with bootstrap discount `γ^k` (n-step replay):
//!
//! ```text
//! y = R + α · clip(τ · logsm_τ(q̄(s, ·))_a, l_0, 0) + γ^k (1 − done) · lse_τ(q̄(s', ·))
//! ```
//!
//! where `q̄` is the target network, `logsm_τ(x) = x/τ − lse(x/τ)` and
//! `lse_τ(x) = τ ln Σ exp(x/τ)` (both stabilised by the row maximum). With `τ = 0` the soft
//! quantities become hard ones: `lse_0 = max` and the Munchausen term is 0 — the DQN target.
//! The Q-network regresses `q_θ(s, a)` onto `y` with a Huber loss, weighted by the replay's
//! importance weights; Adam; the target network is a copy refreshed every `target_update`
//! updates. Acting is ε-greedy on `q_θ` with ε decaying linearly over env steps.

use mirrorflow_core::{
    ActMode, AgentBuilder, EnvSpec, Error, Learner, MetricSink, OffPolicyLearner, OffPolicySpec,
    ParamSnapshot, Policy, PrioritySpec, ReplaySpec, Rng, SampledBatch, Space,
    Tensor as CoreTensor, TensorData as CoreData, Timeline, TransitionBatch, require,
};
use mirrorflow_nn::burn::optim::GradientsParams;
use mirrorflow_nn::burn::tensor::{Device, Int, Tensor, TensorData};
use mirrorflow_nn::{Adam, Backend, Mlp, MlpConfig, NnError, cpu, from_snapshot, to_snapshot};
use serde::{Deserialize, Serialize};

/// Hyper-parameters (defaults: the reference code's CartPole settings where it has them, spec
/// §3.2; ε schedule and network width ours).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MdqnConfig {
    /// Munchausen scale α ∈ [0, 1) (0 = Soft-DQN).
    pub alpha: f64,
    /// Entropy temperature τ ≥ 0 (0 with α = 0 = DQN).
    pub tau: f64,
    /// Lower clip l_0 < 0 of the scaled log-policy.
    pub l0: f64,
    /// Discount γ.
    pub gamma: f64,
    /// Adam learning rate.
    pub lr: f64,
    /// Adam ε.
    pub adam_eps: f64,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Replay capacity.
    pub buffer_size: usize,
    /// Rows per update.
    pub batch_size: usize,
    /// Env steps before the first update.
    pub learning_starts: u64,
    /// Env steps between update rounds.
    pub train_freq: u64,
    /// Updates per round.
    pub gradient_steps: u64,
    /// Updates between target-network refreshes.
    pub target_update: u64,
    /// n-step returns (1 = the paper's).
    pub n_step: usize,
    /// Prioritized replay (α, β, ε), off by default.
    pub prioritized: Option<PrioritySpec>,
    /// ε-greedy: start value.
    pub epsilon_start: f64,
    /// ε-greedy: final value.
    pub epsilon_end: f64,
    /// ε-greedy: env steps of the linear decay.
    pub epsilon_decay_steps: u64,
    /// Where the learner computes: `cpu` (default), `wgpu` or `cuda` (GPU builds only);
    /// actors always act on the CPU.
    pub device: Backend,
}

impl Default for MdqnConfig {
    fn default() -> Self {
        Self {
            alpha: 0.9,
            tau: 0.03,
            l0: -1.0,
            gamma: 0.99,
            lr: 1e-3,
            adam_eps: 3.125e-4,
            hidden: vec![64, 64],
            buffer_size: 50_000,
            batch_size: 128,
            learning_starts: 500,
            train_freq: 4,
            gradient_steps: 1,
            target_update: 100,
            n_step: 1,
            prioritized: None,
            epsilon_start: 1.0,
            epsilon_end: 0.01,
            epsilon_decay_steps: 10_000,
            device: Backend::Cpu,
        }
    }
}

impl MdqnConfig {
    /// Checks ranges; the message names the field and the value.
    pub fn validate(&self) -> Result<(), String> {
        require(
            (0.0..1.0).contains(&self.alpha),
            "alpha",
            self.alpha.to_string(),
            "must be in [0, 1)",
        )?;
        require(
            self.tau >= 0.0 && self.tau.is_finite(),
            "tau",
            self.tau.to_string(),
            "must be >= 0",
        )?;
        require(
            self.alpha == 0.0 || self.tau > 0.0,
            "alpha",
            self.alpha.to_string(),
            "needs tau > 0 (alpha > 0 with tau = 0 has no log-policy)",
        )?;
        require(self.l0 < 0.0, "l0", self.l0.to_string(), "must be < 0")?;
        require(
            (0.0..=1.0).contains(&self.gamma),
            "gamma",
            self.gamma.to_string(),
            "must be in [0, 1]",
        )?;
        require(
            self.lr > 0.0 && self.lr.is_finite(),
            "lr",
            self.lr.to_string(),
            "must be > 0",
        )?;
        require(
            self.adam_eps > 0.0,
            "adam_eps",
            self.adam_eps.to_string(),
            "must be > 0",
        )?;
        require(
            !self.hidden.is_empty() && !self.hidden.contains(&0),
            "hidden",
            format!("{:?}", self.hidden),
            "needs at least one layer, all widths >= 1",
        )?;
        require(
            self.target_update >= 1,
            "target_update",
            self.target_update.to_string(),
            "must be >= 1",
        )?;
        require(
            (0.0..=1.0).contains(&self.epsilon_start) && (0.0..=1.0).contains(&self.epsilon_end),
            "epsilon_start/epsilon_end",
            format!("{}/{}", self.epsilon_start, self.epsilon_end),
            "must be in [0, 1]",
        )?;
        self.device.check().map_err(|e| e.to_string())?;
        self.off_policy().validate()
    }

    /// The replay and update schedule the runtime runs.
    pub fn off_policy(&self) -> OffPolicySpec {
        OffPolicySpec {
            replay: ReplaySpec {
                capacity: self.buffer_size,
                batch_size: self.batch_size,
                n_step: self.n_step,
                gamma: self.gamma,
                prioritized: self.prioritized,
            },
            learning_starts: self.learning_starts,
            train_freq: self.train_freq,
            gradient_steps: self.gradient_steps,
        }
    }

    fn epsilon(&self, env_steps: u64) -> f64 {
        let frac = (env_steps as f64 / self.epsilon_decay_steps.max(1) as f64).min(1.0);
        self.epsilon_start + frac * (self.epsilon_end - self.epsilon_start)
    }
}

/// `lse_τ` and `logsm_τ` of one row, stable; `τ = 0` gives `max` and 0/−∞ log-policy.
fn soft_row(q: &[f32], tau: f64) -> (f64, Vec<f64>) {
    let max = q.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x as f64));
    if tau == 0.0 {
        let logp = q
            .iter()
            .map(|&x| {
                if x as f64 == max {
                    0.0
                } else {
                    f64::NEG_INFINITY
                }
            })
            .collect();
        return (max, logp);
    }
    let sum: f64 = q.iter().map(|&x| ((x as f64 - max) / tau).exp()).sum();
    let lse = max + tau * sum.ln();
    let logp = q.iter().map(|&x| (x as f64 - lse) / tau).collect();
    (lse, logp)
}

/// The M-DQN targets for a batch: `q_s` and `q_next` are the target network's rows
/// (`rows × actions`) at `s` and `s'`.
pub fn munchausen_targets(
    cfg: &MdqnConfig,
    q_s: &[f32],
    q_next: &[f32],
    actions: &[usize],
    rewards: &[f32],
    discounts: &[f32],
    terminated: &[u8],
) -> Vec<f32> {
    let a_n = q_s.len() / rewards.len().max(1);
    (0..rewards.len())
        .map(|i| {
            let mut y = rewards[i] as f64;
            if cfg.alpha > 0.0 {
                let (_, logp) = soft_row(&q_s[i * a_n..(i + 1) * a_n], cfg.tau);
                y += cfg.alpha * (cfg.tau * logp[actions[i]]).clamp(cfg.l0, 0.0);
            }
            if terminated[i] == 0 {
                let (v, _) = soft_row(&q_next[i * a_n..(i + 1) * a_n], cfg.tau);
                y += discounts[i] as f64 * v;
            }
            y as f32
        })
        .collect()
}

/// Builds the M-DQN learner and its ε-greedy actors.
pub struct MdqnBuilder {
    /// Hyper-parameters.
    pub cfg: MdqnConfig,
}

fn dims(spec: &EnvSpec) -> Result<(usize, usize), Error> {
    match spec.action_space {
        Space::Discrete { n, .. } => Ok((spec.obs_dim(), n as usize)),
        ref other => Err(Error::Learner(format!(
            "M-DQN needs a Discrete action space; `{}` has {other}",
            spec.id
        ))),
    }
}

impl AgentBuilder for MdqnBuilder {
    fn make_learner(&self, _spec: &EnvSpec, _seed: u64) -> Result<Box<dyn Learner>, Error> {
        Err(Error::Learner(
            "M-DQN learns from replay: the runtime builds it through off_policy()".into(),
        ))
    }

    fn make_policy(
        &self,
        spec: &EnvSpec,
        params: &ParamSnapshot,
    ) -> Result<Box<dyn Policy>, Error> {
        let (od, a_n) = dims(spec)?;
        let dev = cpu();
        let q = MlpConfig::new(od, &self.cfg.hidden, a_n).init(&dev);
        let q =
            from_snapshot(q, &params.tensors, "q").map_err(|e| Error::Learner(e.to_string()))?;
        let epsilon = params
            .tensors
            .iter()
            .find(|t| t.name == "epsilon")
            .and_then(|t| match &t.data {
                CoreData::F32(v) => v.first().map(|x| *x as f64),
                CoreData::F64(v) => v.first().copied(),
            })
            .unwrap_or(self.cfg.epsilon_start);
        Ok(Box::new(EpsilonGreedy {
            q,
            dev,
            od,
            a_n,
            epsilon,
            version: params.version,
        }))
    }

    fn off_policy(&self) -> Option<OffPolicySpec> {
        Some(self.cfg.off_policy())
    }

    fn make_off_policy_learner(
        &self,
        spec: &EnvSpec,
        seed: u64,
    ) -> Result<Box<dyn OffPolicyLearner>, Error> {
        self.cfg.validate().map_err(Error::Learner)?;
        let (od, a_n) = dims(spec)?;
        let dev = self.cfg.device.autodiff().map_err(nn_error)?;
        let plain = self.cfg.device.device().map_err(nn_error)?;
        let q = MlpConfig::new(od, &self.cfg.hidden, a_n).init_seeded(&dev, seed);
        let target = copy_to(&q, &self.cfg.hidden, od, a_n, &plain)?;
        Ok(Box::new(MdqnLearner {
            optimizer: Adam::new(self.cfg.adam_eps),
            q: Some(q),
            target,
            dev,
            plain,
            od,
            a_n,
            cfg: self.cfg.clone(),
            updates: 0,
            env_steps: 0,
        }))
    }
}

/// A copy of `q` on the learner's device without autodiff (the target network).
fn copy_to(q: &Mlp, hidden: &[usize], od: usize, a_n: usize, plain: &Device) -> Result<Mlp, Error> {
    let fresh = MlpConfig::new(od, hidden, a_n).init(plain);
    from_snapshot(fresh, &to_snapshot(q, "q"), "q").map_err(nn_error)
}

fn nn_error(e: NnError) -> Error {
    Error::Learner(e.to_string())
}

struct EpsilonGreedy {
    q: Mlp,
    dev: Device,
    od: usize,
    a_n: usize,
    epsilon: f64,
    version: u64,
}

impl Policy for EpsilonGreedy {
    fn act(&mut self, obs: &[f32], rng: &mut Rng, mode: ActMode, action: &mut [f32]) {
        let explore = matches!(mode, ActMode::Explore) && rng.next_f64() < self.epsilon;
        action[0] = if explore {
            rng.below(self.a_n as u64) as f32
        } else {
            let x = Tensor::<2>::from_data(TensorData::new(obs.to_vec(), [1, self.od]), &self.dev);
            let q = self
                .q
                .forward(x)
                .into_data()
                .try_into_vec::<f32>()
                .unwrap_or_default();
            argmax(&q) as f32
        };
    }

    fn version(&self) -> u64 {
        self.version
    }
}

/// Lowest index of the largest value.
fn argmax(q: &[f32]) -> usize {
    q.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
            if v > bv { (i, v) } else { (bi, bv) }
        })
        .0
}

/// The learner; `q` is `None` only transiently inside an update (the optimizer takes it by value).
struct MdqnLearner {
    cfg: MdqnConfig,
    q: Option<Mlp>,
    target: Mlp,
    optimizer: Adam,
    dev: Device,
    /// The learner's device without autodiff (target network).
    plain: Device,
    od: usize,
    a_n: usize,
    updates: u64,
    env_steps: u64,
}

impl MdqnLearner {
    fn rows(&self, data: &[f32], rows: usize, device: &Device) -> Tensor<2> {
        Tensor::<2>::from_data(TensorData::new(data.to_vec(), [rows, self.od]), device)
    }

    fn q(&self) -> Result<&Mlp, Error> {
        self.q
            .as_ref()
            .ok_or_else(|| Error::Learner("the Q-network was lost by a failed update".into()))
    }
}

impl OffPolicyLearner for MdqnLearner {
    fn observe(&mut self, batch: &TransitionBatch, _metrics: &mut dyn MetricSink) {
        self.env_steps += batch.len() as u64;
    }

    fn update(
        &mut self,
        sb: &SampledBatch,
        metrics: &mut dyn MetricSink,
    ) -> Result<Option<Vec<f64>>, Error> {
        let b = &sb.batch;
        let n = b.len();
        let actions: Vec<usize> = b.actions.iter().map(|&a| a as usize).collect();
        if let Some(bad) = actions.iter().find(|&&a| a >= self.a_n) {
            return Err(Error::Learner(format!(
                "replayed action {bad} is not one of {} actions",
                self.a_n
            )));
        }
        // targets from the target network, on the plain device
        let plain = self.plain.clone();
        let fwd = |obs: &[f32]| {
            self.target
                .forward(self.rows(obs, n, &plain))
                .into_data()
                .try_into_vec::<f32>()
                .unwrap_or_default()
        };
        let (q_s, q_next) = (fwd(&b.obs), fwd(&b.next_obs));
        let y = munchausen_targets(
            &self.cfg,
            &q_s,
            &q_next,
            &actions,
            &b.rewards,
            &sb.discounts,
            &b.terminated,
        );
        // regression of q_θ(s, a) onto y
        let q = self
            .q
            .take()
            .ok_or_else(|| Error::Learner("the Q-network was lost by a failed update".into()))?;
        let idx: Vec<i64> = actions.iter().map(|&a| a as i64).collect();
        let idx = Tensor::<2, Int>::from_data(TensorData::new(idx, [n, 1]), &self.dev);
        let q_sa = q.forward(self.rows(&b.obs, n, &self.dev)).gather(1, idx);
        let y_t = Tensor::<2>::from_data(TensorData::new(y, [n, 1]), &self.dev);
        let w = Tensor::<2>::from_data(TensorData::new(sb.weights.clone(), [n, 1]), &self.dev);
        let delta = q_sa - y_t;
        let abs = delta.clone().abs();
        let quad = abs.clone().clamp_max(1.0);
        let huber = quad.clone().powi_scalar(2).mul_scalar(0.5) + (abs.clone() - quad);
        let loss = (huber * w).mean();
        let loss_value = loss.clone().into_scalar::<f32>() as f64;
        let td: Vec<f64> = abs
            .into_data()
            .try_into_vec::<f32>()
            .unwrap_or_default()
            .into_iter()
            .map(f64::from)
            .collect();
        let grads = GradientsParams::from_grads(loss.backward(), &q);
        let q = self.optimizer.step(self.cfg.lr, q, &grads);
        self.q = Some(q);
        self.updates += 1;
        if self.updates.is_multiple_of(self.cfg.target_update) {
            self.target = copy_to(self.q()?, &self.cfg.hidden, self.od, self.a_n, &self.plain)?;
        }
        if !loss_value.is_finite() {
            return Err(Error::Learner(format!(
                "the TD loss became {loss_value} at update {}",
                self.updates
            )));
        }
        if self.updates.is_multiple_of(100) {
            let t = Timeline::LearnerSteps;
            metrics.record(t, self.updates, "losses/td", loss_value);
            metrics.record(
                t,
                self.updates,
                "charts/q_mean",
                q_s.iter().map(|&x| x as f64).sum::<f64>() / q_s.len().max(1) as f64,
            );
            metrics.record(
                t,
                self.updates,
                "charts/epsilon",
                self.cfg.epsilon(self.env_steps),
            );
        }
        Ok(Some(td))
    }

    fn snapshot(&self) -> ParamSnapshot {
        let mut tensors = self
            .q
            .as_ref()
            .map(|q| to_snapshot(q, "q"))
            .unwrap_or_default();
        tensors.push(CoreTensor {
            name: "epsilon".into(),
            shape: vec![1],
            data: CoreData::F64(vec![self.cfg.epsilon(self.env_steps)]),
        });
        ParamSnapshot {
            version: self.updates,
            tensors,
        }
    }

    /// The snapshot plus the target network, Adam's moments and the counters (checkpoints).
    fn state(&self) -> ParamSnapshot {
        let mut s = self.snapshot();
        s.tensors.extend(to_snapshot(&self.target, "target"));
        s.tensors.extend(self.optimizer.to_tensors("adam"));
        s.tensors.push(CoreTensor {
            name: "counters".into(),
            shape: vec![2],
            data: CoreData::F64(vec![self.updates as f64, self.env_steps as f64]),
        });
        s
    }

    /// Restores a [`state`](Self::state); a bare snapshot (the Q-network only) also works and
    /// sets the target to the Q-network with a fresh optimizer.
    fn restore(&mut self, state: &ParamSnapshot) -> Result<(), Error> {
        let q = self
            .q
            .take()
            .ok_or_else(|| Error::Learner("no Q-network".into()))?;
        let q = from_snapshot(q, &state.tensors, "q").map_err(nn_error)?;
        let has = |prefix: &str| state.tensors.iter().any(|t| t.name.starts_with(prefix));
        self.target = if has("target.") {
            let fresh = MlpConfig::new(self.od, &self.cfg.hidden, self.a_n).init(&self.plain);
            from_snapshot(fresh, &state.tensors, "target").map_err(nn_error)?
        } else {
            copy_to(&q, &self.cfg.hidden, self.od, self.a_n, &self.plain)?
        };
        self.q = Some(q);
        self.optimizer = Adam::new(self.cfg.adam_eps);
        if has("adam.") {
            self.optimizer
                .load_tensors(&state.tensors, "adam")
                .map_err(nn_error)?;
        }
        if let Some(c) = state.tensors.iter().find(|t| t.name == "counters") {
            match c.data.to_f64().as_slice() {
                [u, e] => (self.updates, self.env_steps) = (*u as u64, *e as u64),
                _ => {
                    return Err(Error::Snapshot(
                        "the M-DQN state's `counters` must hold 2 values".into(),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oracle(tau: f64, q_s: [f32; 2], done: u8) -> f64 {
        let cfg = MdqnConfig {
            alpha: 0.9,
            tau,
            l0: -1.0,
            gamma: 0.99,
            ..Default::default()
        };
        munchausen_targets(&cfg, &q_s, &[1.0, 2.0], &[0], &[1.0], &[0.99], &[done])[0] as f64
    }

    /// Spec §3.4 oracles (a)–(d) (f32 outputs: 1e-5).
    #[test]
    fn munchausen_targets_match_the_spec_oracles() {
        let e = std::f64::consts::E;
        let a = 1.0 + 0.9 * 0.5f64.ln() + 0.99 * (e + e * e).ln();
        assert!((a - 2.6662966081).abs() < 1e-9);
        assert!((oracle(1.0, [0.0, 0.0], 0) - 2.6662966081).abs() < 1e-5);
        assert!((oracle(0.03, [0.0, 2.0], 0) - 2.08).abs() < 1e-5);
        assert!((oracle(0.03, [0.0, 0.1], 0) - 2.8890535848).abs() < 1e-5);
        assert!((oracle(1.0, [0.0, 0.0], 1) - 0.3761675375).abs() < 1e-5);
    }

    /// α = 0 is Soft-DQN (`r + γ lse_τ`), α = 0 and τ = 0 is DQN (`r + γ max`).
    #[test]
    fn reductions_are_soft_dqn_and_dqn() {
        let soft = MdqnConfig {
            alpha: 0.0,
            tau: 0.5,
            ..Default::default()
        };
        let y = munchausen_targets(&soft, &[3.0, -1.0], &[1.0, 2.0], &[1], &[0.5], &[0.9], &[0])[0];
        let lse = 0.5 * ((2.0f64).exp() + (4.0f64).exp()).ln();
        assert!((y as f64 - (0.5 + 0.9 * lse)).abs() < 1e-5);
        let dqn = MdqnConfig {
            alpha: 0.0,
            tau: 0.0,
            ..Default::default()
        };
        let y = munchausen_targets(&dqn, &[3.0, -1.0], &[1.0, 2.0], &[1], &[0.5], &[0.9], &[0])[0];
        assert!((y - (0.5 + 0.9 * 2.0)).abs() < 1e-6);
        // τ → 0 approaches the DQN target continuously
        let small = MdqnConfig {
            alpha: 0.0,
            tau: 1e-4,
            ..Default::default()
        };
        let y_small = munchausen_targets(
            &small,
            &[3.0, -1.0],
            &[1.0, 2.0],
            &[1],
            &[0.5],
            &[0.9],
            &[0],
        )[0];
        assert!((y_small - y).abs() < 1e-3);
        assert!(
            MdqnConfig {
                alpha: 0.5,
                tau: 0.0,
                ..Default::default()
            }
            .validate()
            .is_err()
        );
    }

    /// Updates on a fixed batch drive q(s, a) to the (fixed-target) regression value.
    #[test]
    fn updates_regress_onto_the_targets_and_snapshots_round_trip() {
        let cfg = MdqnConfig {
            alpha: 0.0,
            tau: 0.0,
            gamma: 0.0,
            target_update: 1_000_000,
            lr: 1e-2,
            ..Default::default()
        };
        let builder = MdqnBuilder { cfg };
        let spec = EnvSpec::new(
            "t",
            Space::boxed(vec![-1.0; 2], vec![1.0; 2]),
            Space::discrete(2),
        );
        let mut learner = builder.make_off_policy_learner(&spec, 0).unwrap();
        let mut sb = SampledBatch::default();
        sb.batch.obs_dim = 2;
        sb.batch.act_dim = 1;
        for (obs, a, r) in [([0.5f32, -0.5], 0.0, 1.0f32), ([-0.5, 0.5], 1.0, -1.0)] {
            sb.batch.obs.extend(obs);
            sb.batch.actions.push(a);
            sb.batch.rewards.push(r);
            sb.batch.next_obs.extend(obs);
            sb.batch.terminated.push(1);
            sb.batch.truncated.push(0);
            sb.batch.env_ids.push(0);
            sb.discounts.push(0.0);
            sb.weights.push(1.0);
        }
        let mut sink = mirrorflow_core::metrics::MemorySink::default();
        let mut td = vec![f64::INFINITY];
        for _ in 0..300 {
            td = learner.update(&sb, &mut sink).unwrap().unwrap();
        }
        assert!(td.iter().all(|d| *d < 0.05), "{td:?}");
        let snap = learner.snapshot();
        let mut policy = builder.make_policy(&spec, &snap).unwrap();
        let mut rng = Rng::seed_from(0);
        let mut act = [0.0f32];
        policy.act(&[0.5, -0.5], &mut rng, ActMode::Deterministic, &mut act);
        assert_eq!(act[0], 0.0, "q(s1, 0) ≈ 1 beats q(s1, 1)");
        let mut again = builder.make_off_policy_learner(&spec, 1).unwrap();
        again.restore(&snap).unwrap();
        assert_eq!(again.snapshot().tensors, snap.tensors);

        // the full state (target, Adam moments, counters) continues bit for bit
        let state = learner.state();
        assert!(state.tensors.iter().any(|t| t.name.starts_with("adam.m.")));
        let mut resumed = builder.make_off_policy_learner(&spec, 7).unwrap();
        resumed.restore(&state).unwrap();
        assert_eq!(resumed.state().tensors, state.tensors);
        for _ in 0..3 {
            learner.update(&sb, &mut sink).unwrap();
            resumed.update(&sb, &mut sink).unwrap();
        }
        assert_eq!(resumed.state().tensors, learner.state().tensors);
        let mut bad = state.clone();
        bad.tensors.retain(|t| t.name != "counters");
        bad.tensors.push(CoreTensor {
            name: "counters".into(),
            shape: vec![1],
            data: CoreData::F64(vec![1.0]),
        });
        let e = resumed.restore(&bad).unwrap_err().to_string();
        assert!(e.contains("counters"), "{e}");
    }
}
