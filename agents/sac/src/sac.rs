//! Soft actor-critic (Haarnoja et al., arXiv 1801.01290 / 1812.05905; spec §4.2), and with a
//! band-limiting filter on the target critic, BL-SAC (spec §4.3), readable top to bottom.
//!
//! One update on a replayed batch `(s, a, R, s', done)` with bootstrap discount `γ^k`, in the
//! order SB3 and CleanRL use, with `α = exp(ln α)` read before the temperature step:
//!
//! ```text
//! ã ~ π(·|s)  (reparameterized: ã = tanh(μ + σ ε))
//! temperature:  L(ln α) = −ln α · (ln π(ã|s) + H̄)                       (auto_alpha, H̄ = −dim A)
//! target:       y = R + γ^k (1 − done) (min_i Q̄_i(s', a') − α ln π(a'|s')),   a' ~ π(·|s')
//!               BL-SAC: min_i Q̄_i(s', a') → min_i (K_σ * Q̄_i)(s', a')       (band_limit.rs)
//! critics:      L(θ) = ½ Σ_i mean(w (Q_i(s, a) − y)²)                      (w: replay weights)
//! actor:        L(φ) = mean(α ln π(ã|s) − min_i Q_i(s, ã))                 (critics after their step)
//! targets:      θ̄ ← (1 − τ) θ̄ + τ θ  every `target_update_interval` updates
//! ```
//!
//! Actions are learnt in `[−1, 1]^d` and scaled affinely to the env's bounds by the actors; the
//! replay holds env-scale actions, normalized again here. All randomness (initialisation,
//! `ε`, filter draws) comes from the learner's seeded generator, so a run is reproducible.

use crate::band_limit::BandLimitConfig;
use mirrorflow_core::{
    ActMode, AgentBuilder, EnvSpec, Error, Learner, MetricSink, OffPolicyLearner, OffPolicySpec,
    ParamSnapshot, Policy, PrioritySpec, ReplaySpec, Rng, SampledBatch, Space,
    Tensor as CoreTensor, TensorData as CoreData, Timeline, TransitionBatch, require,
};
use mirrorflow_nn::burn::module::Module;
use mirrorflow_nn::burn::optim::GradientsParams;
use mirrorflow_nn::burn::tensor::{Device, Tensor, TensorData};
use mirrorflow_nn::{
    Adam, Backend, Critics, SquashedGaussian, cpu, from_snapshot, polyak, to_snapshot,
};
use serde::{Deserialize, Serialize};

/// Hyper-parameters (defaults: SAC v2's table, spec §4.2, as in SB3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SacConfig {
    /// Discount γ.
    pub gamma: f64,
    /// Polyak rate τ of the target critics.
    pub tau: f64,
    /// Adam learning rate (actor, critics and temperature).
    pub lr: f64,
    /// Adam ε (PyTorch's default).
    pub adam_eps: f64,
    /// Hidden layer widths of the actor and of each critic.
    pub hidden: Vec<usize>,
    /// Number of critics (2 = twin critics with the min; 1 = a single critic).
    pub n_critics: usize,
    /// Replay capacity.
    pub buffer_size: usize,
    /// Rows per update.
    pub batch_size: usize,
    /// Env steps of uniformly random actions before the first update.
    pub learning_starts: u64,
    /// Env steps between update rounds.
    pub train_freq: u64,
    /// Updates per round.
    pub gradient_steps: u64,
    /// Updates between Polyak steps of the target critics.
    pub target_update_interval: u64,
    /// n-step returns (1 = the paper's).
    pub n_step: usize,
    /// Prioritized replay (α, β, ε), off by default.
    pub prioritized: Option<PrioritySpec>,
    /// Initial temperature α.
    pub alpha_init: f64,
    /// Learn α towards the target entropy (otherwise α stays at `alpha_init`).
    pub auto_alpha: bool,
    /// Target entropy H̄ (default `−dim(A)`).
    pub target_entropy: Option<f64>,
    /// BL-SAC's filter on the target critic (`None` or `sigma = 0`: SAC).
    pub band_limit: Option<BandLimitConfig>,
    /// Where the learner computes: `cpu` (default), `wgpu` or `cuda` (GPU builds only);
    /// actors always act on the CPU.
    pub device: Backend,
}

impl Default for SacConfig {
    fn default() -> Self {
        Self {
            gamma: 0.99,
            tau: 0.005,
            lr: 3e-4,
            adam_eps: 1e-8,
            hidden: vec![256, 256],
            n_critics: 2,
            buffer_size: 1_000_000,
            batch_size: 256,
            learning_starts: 100,
            train_freq: 1,
            gradient_steps: 1,
            target_update_interval: 1,
            n_step: 1,
            prioritized: None,
            alpha_init: 1.0,
            auto_alpha: true,
            target_entropy: None,
            band_limit: None,
            device: Backend::Cpu,
        }
    }
}

impl SacConfig {
    /// Checks ranges; the message names the field and the value.
    pub fn validate(&self) -> Result<(), String> {
        require(
            (0.0..=1.0).contains(&self.gamma),
            "gamma",
            self.gamma.to_string(),
            "must be in [0, 1]",
        )?;
        require(
            self.tau > 0.0 && self.tau <= 1.0,
            "tau",
            self.tau.to_string(),
            "must be in (0, 1] (the Polyak rate)",
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
            (1..=10).contains(&self.n_critics),
            "n_critics",
            self.n_critics.to_string(),
            "must be in 1..=10 (2 = twin critics)",
        )?;
        require(
            self.target_update_interval >= 1,
            "target_update_interval",
            self.target_update_interval.to_string(),
            "must be >= 1",
        )?;
        require(
            self.alpha_init > 0.0 && self.alpha_init.is_finite(),
            "alpha_init",
            self.alpha_init.to_string(),
            "must be > 0",
        )?;
        if let Some(h) = self.target_entropy {
            require(
                h.is_finite(),
                "target_entropy",
                h.to_string(),
                "must be finite",
            )?;
        }
        if let Some(f) = &self.band_limit {
            f.validate()?;
        }
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

    /// The filter when it is on.
    fn filter(&self) -> Option<&BandLimitConfig> {
        self.band_limit.as_ref().filter(|f| !f.is_off())
    }
}

/// `y_i = R_i + γ^k_i (1 − done_i) (v_i − α ln π(a'_i|s'_i))` in f64, rounded to f32.
pub fn soft_targets(
    next_value: &[f32],
    next_log_prob: &[f32],
    alpha: f64,
    rewards: &[f32],
    discounts: &[f32],
    terminated: &[u8],
) -> Vec<f32> {
    (0..rewards.len())
        .map(|i| {
            let mut y = rewards[i] as f64;
            if terminated[i] == 0 {
                let soft = next_value[i] as f64 - alpha * next_log_prob[i] as f64;
                y += discounts[i] as f64 * soft;
            }
            y as f32
        })
        .collect()
}

/// The action box of a continuous env: `(obs_dim, low, high)`.
fn action_box(spec: &EnvSpec) -> Result<(usize, Vec<f32>, Vec<f32>), Error> {
    match &spec.action_space {
        Space::Box { low, high, .. } => {
            if let Some(d) = (0..low.len())
                .find(|&d| !(low[d].is_finite() && high[d].is_finite() && low[d] < high[d]))
            {
                return Err(Error::Learner(format!(
                    "SAC needs finite action bounds; `{}` has [{}, {}] in dimension {d}",
                    spec.id, low[d], high[d]
                )));
            }
            Ok((spec.obs_dim(), low.clone(), high.clone()))
        }
        other => Err(Error::Learner(format!(
            "SAC needs a continuous (Box) action space; `{}` has {other}",
            spec.id
        ))),
    }
}

/// Builds the SAC / BL-SAC learner and its squashed-Gaussian actors.
pub struct SacBuilder {
    /// Hyper-parameters.
    pub cfg: SacConfig,
}

impl AgentBuilder for SacBuilder {
    fn make_learner(&self, _spec: &EnvSpec, _seed: u64) -> Result<Box<dyn Learner>, Error> {
        Err(Error::Learner(
            "SAC learns from replay: the runtime builds it through off_policy()".into(),
        ))
    }

    fn make_policy(
        &self,
        spec: &EnvSpec,
        params: &ParamSnapshot,
    ) -> Result<Box<dyn Policy>, Error> {
        let (od, low, high) = action_box(spec)?;
        let dev = cpu();
        let actor = SquashedGaussian::init(od, &self.cfg.hidden, low.len(), &dev);
        let actor = from_snapshot(actor, &params.tensors, "actor")
            .map_err(|e| Error::Learner(e.to_string()))?;
        let random = scalar(params, "random").unwrap_or(1.0) != 0.0;
        Ok(Box::new(SacPolicy {
            actor,
            dev,
            od,
            low,
            high,
            random,
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
        let (od, low, high) = action_box(spec)?;
        let ad = low.len();
        let cfg = &self.cfg;
        let dev = cfg
            .device
            .autodiff()
            .map_err(|e| Error::Learner(e.to_string()))?;
        let plain = cfg
            .device
            .device()
            .map_err(|e| Error::Learner(e.to_string()))?;
        let actor = SquashedGaussian::init_seeded(od, &cfg.hidden, ad, &dev, seed);
        let critics = Critics::init_seeded(
            cfg.n_critics,
            od,
            ad,
            &cfg.hidden,
            &dev,
            seed.wrapping_add(1),
        );
        let target = copy_critics(&critics, cfg, od, ad, &plain)?;
        Ok(Box::new(SacLearner {
            actor_opt: Adam::new(cfg.adam_eps),
            critic_opt: Adam::new(cfg.adam_eps),
            actor: Some(actor),
            critics: Some(critics),
            target,
            log_alpha: cfg.alpha_init.ln(),
            alpha_adam: ScalarAdam::default(),
            target_entropy: cfg.target_entropy.unwrap_or(-(ad as f64)),
            rng: Rng::seed_from(seed ^ 0x5ac0_5ac0_5ac0_5ac0),
            dev,
            plain,
            od,
            ad,
            low,
            high,
            cfg: cfg.clone(),
            updates: 0,
            env_steps: 0,
        }))
    }
}

/// A copy of the critics on the learner's device without autodiff (the targets).
fn copy_critics(
    c: &Critics,
    cfg: &SacConfig,
    od: usize,
    ad: usize,
    plain: &Device,
) -> Result<Critics, Error> {
    let fresh = Critics::init(cfg.n_critics, od, ad, &cfg.hidden, plain);
    from_snapshot(fresh, &to_snapshot(c, "critic"), "critic")
        .map_err(|e| Error::Learner(e.to_string()))
}

/// A one-value tensor of a snapshot.
fn scalar(params: &ParamSnapshot, name: &str) -> Option<f64> {
    values(params, name).and_then(|v| v.first().copied())
}

fn values(params: &ParamSnapshot, name: &str) -> Option<Vec<f64>> {
    params
        .tensors
        .iter()
        .find(|t| t.name == name)
        .map(|t| t.data.to_f64())
}

fn f64_tensor(name: &str, v: Vec<f64>) -> CoreTensor {
    CoreTensor {
        name: name.into(),
        shape: vec![v.len()],
        data: CoreData::F64(v),
    }
}

/// The acting side: `tanh(μ + σ ε)` (explore) or `tanh(μ)` (deterministic), scaled to the
/// bounds; uniformly random actions until the learner has started (`learning_starts`).
struct SacPolicy {
    actor: SquashedGaussian,
    dev: Device,
    od: usize,
    low: Vec<f32>,
    high: Vec<f32>,
    random: bool,
    version: u64,
}

impl Policy for SacPolicy {
    fn act(&mut self, obs: &[f32], rng: &mut Rng, mode: ActMode, action: &mut [f32]) {
        let ad = self.low.len();
        let explore = matches!(mode, ActMode::Explore);
        if explore && self.random {
            for d in 0..ad {
                action[d] = rng.uniform(self.low[d] as f64, self.high[d] as f64) as f32;
            }
            return;
        }
        let x = Tensor::<2>::from_data(TensorData::new(obs.to_vec(), [1, self.od]), &self.dev);
        let a = if explore {
            let eps: Vec<f32> = (0..ad).map(|_| rng.normal() as f32).collect();
            let eps = Tensor::<2>::from_data(TensorData::new(eps, [1, ad]), &self.dev);
            self.actor.sample(x, eps).action
        } else {
            self.actor.mean_action(x)
        };
        let a = a.into_data().try_into_vec::<f32>().unwrap_or_default();
        for d in 0..ad.min(a.len()) {
            let (lo, hi) = (self.low[d], self.high[d]);
            action[d] = (lo + (a[d] + 1.0) * 0.5 * (hi - lo)).clamp(lo, hi);
        }
    }

    fn version(&self) -> u64 {
        self.version
    }
}

/// Adam on one scalar (the log-temperature), PyTorch's update rule.
#[derive(Clone, Copy, Debug, Default)]
struct ScalarAdam {
    m: f64,
    v: f64,
    t: u64,
}

impl ScalarAdam {
    fn step(&mut self, x: f64, grad: f64, lr: f64, eps: f64) -> f64 {
        let (b1, b2) = (0.9f64, 0.999f64);
        self.t += 1;
        self.m = b1 * self.m + (1.0 - b1) * grad;
        self.v = b2 * self.v + (1.0 - b2) * grad * grad;
        let m_hat = self.m / (1.0 - b1.powi(self.t as i32));
        let v_hat = self.v / (1.0 - b2.powi(self.t as i32));
        x - lr * m_hat / (v_hat.sqrt() + eps)
    }
}

/// The learner. `actor`/`critics` are `None` only transiently inside an update (the optimizers
/// take modules by value).
struct SacLearner {
    cfg: SacConfig,
    actor: Option<SquashedGaussian>,
    critics: Option<Critics>,
    target: Critics,
    actor_opt: Adam,
    critic_opt: Adam,
    log_alpha: f64,
    alpha_adam: ScalarAdam,
    target_entropy: f64,
    rng: Rng,
    dev: Device,
    /// The learner's device without autodiff (targets, no-grad passes).
    plain: Device,
    od: usize,
    ad: usize,
    low: Vec<f32>,
    high: Vec<f32>,
    updates: u64,
    env_steps: u64,
}

fn lost(what: &str) -> Error {
    Error::Learner(format!("the {what} was lost by a failed update"))
}

fn to_vec(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_into_vec::<f32>().unwrap_or_default()
}

impl SacLearner {
    fn tensor(&self, data: Vec<f32>, cols: usize, device: &Device) -> Tensor<2> {
        let rows = data.len() / cols.max(1);
        Tensor::<2>::from_data(TensorData::new(data, [rows, cols]), device)
    }

    fn normals(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.rng.normal() as f32).collect()
    }

    /// Env-scale actions → `[−1, 1]`.
    fn normalize(&self, actions: &[f32]) -> Vec<f32> {
        actions
            .iter()
            .enumerate()
            .map(|(k, &a)| {
                let d = k % self.ad;
                (2.0 * (a - self.low[d]) / (self.high[d] - self.low[d]) - 1.0).clamp(-1.0, 1.0)
            })
            .collect()
    }

    /// `min_i Q̄_i(s', a')`, or its band-limited form, per row.
    fn target_value(&mut self, next_obs: &[f32], next_act: &[f32]) -> Vec<f32> {
        let plain = self.plain.clone();
        let n = next_act.len() / self.ad;
        match self.cfg.filter().copied() {
            None => {
                let s = self.tensor(next_obs.to_vec(), self.od, &plain);
                let a = self.tensor(next_act.to_vec(), self.ad, &plain);
                to_vec(self.target.min(s, a))
            }
            Some(f) => {
                let acts = f.perturb(next_act, self.ad, (-1.0, 1.0), &mut self.rng);
                let obs: Vec<f32> = (0..f.n_samples)
                    .flat_map(|_| next_obs.iter().copied())
                    .collect();
                let s = self.tensor(obs, self.od, &plain);
                let a = self.tensor(acts, self.ad, &plain);
                let q: Vec<Vec<f32>> = self
                    .target
                    .forward_each(s, a)
                    .into_iter()
                    .map(to_vec)
                    .collect();
                f.combine(&q, n)
            }
        }
    }
}

impl OffPolicyLearner for SacLearner {
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
        let (od, ad) = (self.od, self.ad);
        let alpha = self.log_alpha.exp();
        let dev = self.dev.clone();
        let obs = self.tensor(b.obs.clone(), od, &dev);
        let actions = self.tensor(self.normalize(&b.actions), ad, &dev);

        // ã ~ π(·|s), reparameterized (kept for the actor loss)
        let actor = self.actor.take().ok_or_else(|| lost("actor"))?;
        let eps = self.normals(n * ad);
        let draw = actor.sample(obs.clone(), self.tensor(eps, ad, &dev));
        let log_prob = to_vec(draw.log_prob.clone().detach());
        let mean_log_prob = log_prob.iter().map(|&x| x as f64).sum::<f64>() / n.max(1) as f64;

        // temperature: d/d ln α of −ln α · (ln π + H̄) is −(mean ln π + H̄)
        if self.cfg.auto_alpha {
            let grad = -(mean_log_prob + self.target_entropy);
            self.log_alpha =
                self.alpha_adam
                    .step(self.log_alpha, grad, self.cfg.lr, self.cfg.adam_eps);
        }

        // target: a' ~ π(·|s') without gradients, then the (filtered) target critics
        let plain = self.plain.clone();
        let inference = actor.valid();
        let eps = self.normals(n * ad);
        let next = inference.sample(
            self.tensor(b.next_obs.clone(), od, &plain),
            self.tensor(eps, ad, &plain),
        );
        let (next_act, next_log_prob) = (to_vec(next.action), to_vec(next.log_prob));
        let v = self.target_value(&b.next_obs, &next_act);
        let y = soft_targets(
            &v,
            &next_log_prob,
            alpha,
            &b.rewards,
            &sb.discounts,
            &b.terminated,
        );

        // critics: ½ Σ_i mean(w (Q_i(s, a) − y)²)
        let critics = self.critics.take().ok_or_else(|| lost("critics"))?;
        let y_t = self.tensor(y, 1, &dev);
        let w = self.tensor(sb.weights.clone(), 1, &dev);
        let qs = critics.forward_each(obs.clone(), actions);
        let q_mean = qs
            .first()
            .map(|q| {
                to_vec(q.clone().detach())
                    .iter()
                    .map(|&x| x as f64)
                    .sum::<f64>()
                    / n as f64
            })
            .unwrap_or(0.0);
        let deltas: Vec<Tensor<2>> = qs.into_iter().map(|q| q - y_t.clone()).collect();
        let td = {
            let k = deltas.len() as f64;
            let mut td = vec![0.0f64; n];
            for d in &deltas {
                for (t, x) in td.iter_mut().zip(to_vec(d.clone().detach())) {
                    *t += (x as f64).abs() / k;
                }
            }
            td
        };
        let critic_loss = deltas
            .into_iter()
            .map(|d| (d.square() * w.clone()).mean())
            .reduce(|a, b| a + b)
            .ok_or_else(|| lost("critics"))?
            .mul_scalar(0.5);
        let critic_loss_value = critic_loss.clone().into_scalar::<f32>() as f64;
        let grads = GradientsParams::from_grads(critic_loss.backward(), &critics);
        let critics = self.critic_opt.step(self.cfg.lr, critics, &grads);

        // actor: mean(α ln π(ã|s) − min_i Q_i(s, ã)) with the updated critics, held constant
        // (their plain-device twin: gradients flow to ã only, no critic weight gradients)
        let q_pi = critics.valid().min(obs, draw.action);
        let actor_loss = (draw.log_prob.mul_scalar(alpha) - q_pi).mean();
        let actor_loss_value = actor_loss.clone().into_scalar::<f32>() as f64;
        let grads = GradientsParams::from_grads(actor_loss.backward(), &actor);
        self.actor = Some(self.actor_opt.step(self.cfg.lr, actor, &grads));
        self.critics = Some(critics);

        self.updates += 1;
        if self.updates.is_multiple_of(self.cfg.target_update_interval) {
            let online = self.critics.as_ref().ok_or_else(|| lost("critics"))?;
            let target = std::mem::replace(&mut self.target, Critics::init(1, 1, 1, &[1], &plain));
            self.target = polyak(target, online, self.cfg.tau as f32);
        }
        if !(critic_loss_value.is_finite() && actor_loss_value.is_finite()) {
            return Err(Error::Learner(format!(
                "SAC losses became critic = {critic_loss_value}, actor = {actor_loss_value} at update {}",
                self.updates
            )));
        }
        if self.updates.is_multiple_of(100) || self.updates == 1 {
            let t = Timeline::LearnerSteps;
            let u = self.updates;
            metrics.record(t, u, "losses/critic", critic_loss_value);
            metrics.record(t, u, "losses/actor", actor_loss_value);
            metrics.record(t, u, "charts/alpha", alpha);
            metrics.record(t, u, "charts/entropy", -mean_log_prob);
            metrics.record(t, u, "charts/q_mean", q_mean);
        }
        Ok(Some(td))
    }

    fn snapshot(&self) -> ParamSnapshot {
        let mut tensors = self
            .actor
            .as_ref()
            .map(|a| to_snapshot(a, "actor"))
            .unwrap_or_default();
        let random = self.env_steps < self.cfg.learning_starts;
        tensors.push(f64_tensor("random", vec![f64::from(u8::from(random))]));
        ParamSnapshot {
            version: self.updates,
            tensors,
        }
    }

    fn state(&self) -> ParamSnapshot {
        let mut s = self.snapshot();
        if let Some(c) = &self.critics {
            s.tensors.extend(to_snapshot(c, "critic"));
        }
        s.tensors.extend(to_snapshot(&self.target, "target"));
        s.tensors.extend(self.actor_opt.to_tensors("actor_adam"));
        s.tensors.extend(self.critic_opt.to_tensors("critic_adam"));
        let a = self.alpha_adam;
        s.tensors.push(f64_tensor(
            "temperature",
            vec![self.log_alpha, a.m, a.v, a.t as f64],
        ));
        s.tensors.push(f64_tensor(
            "counters",
            vec![self.updates as f64, self.env_steps as f64],
        ));
        // the generator's 256-bit state as eight exact 32-bit halves
        let words = self.rng.state();
        s.tensors.push(f64_tensor(
            "rng",
            words
                .iter()
                .flat_map(|w| [(w >> 32) as f64, (w & 0xffff_ffff) as f64])
                .collect(),
        ));
        s
    }

    fn restore(&mut self, state: &ParamSnapshot) -> Result<(), Error> {
        let err = |e: mirrorflow_nn::NnError| Error::Learner(e.to_string());
        let actor = self.actor.take().ok_or_else(|| lost("actor"))?;
        self.actor = Some(from_snapshot(actor, &state.tensors, "actor").map_err(err)?);
        let critics = self.critics.take().ok_or_else(|| lost("critics"))?;
        let critics = from_snapshot(critics, &state.tensors, "critic").map_err(err)?;
        let target = Critics::init(
            self.cfg.n_critics,
            self.od,
            self.ad,
            &self.cfg.hidden,
            &self.plain,
        );
        self.target = from_snapshot(target, &state.tensors, "target").map_err(err)?;
        self.critics = Some(critics);
        self.actor_opt
            .load_tensors(&state.tensors, "actor_adam")
            .map_err(err)?;
        self.critic_opt
            .load_tensors(&state.tensors, "critic_adam")
            .map_err(err)?;
        let missing = |n: &str| Error::Snapshot(format!("the SAC state has no `{n}` tensor"));
        let t = values(state, "temperature").ok_or_else(|| missing("temperature"))?;
        let c = values(state, "counters").ok_or_else(|| missing("counters"))?;
        let r = values(state, "rng").ok_or_else(|| missing("rng"))?;
        if t.len() != 4 || c.len() != 2 || r.len() != 8 {
            return Err(Error::Snapshot(
                "the SAC state's scalars have the wrong length".into(),
            ));
        }
        self.log_alpha = t[0];
        self.alpha_adam = ScalarAdam {
            m: t[1],
            v: t[2],
            t: t[3] as u64,
        };
        (self.updates, self.env_steps) = (c[0] as u64, c[1] as u64);
        let mut words = [0u64; 4];
        for (k, w) in words.iter_mut().enumerate() {
            *w = ((r[2 * k] as u64) << 32) | r[2 * k + 1] as u64;
        }
        self.rng = Rng::from_state(words);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirrorflow_core::metrics::MemorySink;

    fn pendulum_spec() -> EnvSpec {
        EnvSpec::new(
            "pendulum-like",
            Space::boxed(vec![-1.0, -1.0, -8.0], vec![1.0, 1.0, 8.0]),
            Space::boxed(vec![-2.0], vec![2.0]),
        )
    }

    fn small(band_limit: Option<BandLimitConfig>) -> SacConfig {
        SacConfig {
            hidden: vec![16, 16],
            batch_size: 8,
            lr: 1e-3,
            band_limit,
            ..Default::default()
        }
    }

    /// A fixed batch of 8 pendulum-like rows.
    fn batch(seed: u64) -> SampledBatch {
        let mut rng = Rng::seed_from(seed);
        let mut sb = SampledBatch::default();
        sb.batch.obs_dim = 3;
        sb.batch.act_dim = 1;
        for i in 0..8 {
            let th = rng.uniform(-3.0, 3.0);
            let obs = [
                th.cos() as f32,
                th.sin() as f32,
                rng.uniform(-1.0, 1.0) as f32,
            ];
            sb.batch.obs.extend(obs);
            sb.batch.actions.push(rng.uniform(-2.0, 2.0) as f32);
            sb.batch.rewards.push(-(th * th) as f32);
            sb.batch.next_obs.extend(obs);
            sb.batch.terminated.push(u8::from(i == 7));
            sb.batch.truncated.push(0);
            sb.batch.env_ids.push(0);
            sb.discounts.push(0.99);
            sb.weights.push(1.0);
        }
        sb
    }

    fn train(cfg: SacConfig, seed: u64, updates: usize) -> (Box<dyn OffPolicyLearner>, Vec<f64>) {
        let builder = SacBuilder { cfg };
        let mut learner = builder
            .make_off_policy_learner(&pendulum_spec(), seed)
            .unwrap();
        let mut sink = MemorySink::default();
        let mut td = Vec::new();
        for k in 0..updates {
            td = learner
                .update(&batch(k as u64 % 3), &mut sink)
                .unwrap()
                .unwrap();
        }
        (learner, td)
    }

    #[test]
    fn soft_targets_follow_the_formula() {
        let y = soft_targets(
            &[2.0, 5.0],
            &[-1.0, 0.5],
            0.2,
            &[1.0, -1.0],
            &[0.9, 0.9],
            &[0, 1],
        );
        assert!((y[0] as f64 - (1.0 + 0.9 * (2.0 + 0.2))).abs() < 1e-6);
        assert_eq!(y[1], -1.0, "no bootstrap after a terminal state");
    }

    /// Spec §4.3/§4.4: with the filter off (σ = 0) BL-SAC is SAC bit-for-bit under the same seed,
    /// and switching it on changes the run.
    #[test]
    fn bl_sac_with_the_filter_off_is_sac_bit_for_bit() {
        let (sac, _) = train(small(None), 5, 30);
        let off = BandLimitConfig {
            sigma: 0.0,
            ..Default::default()
        };
        let (bl_off, _) = train(small(Some(off)), 5, 30);
        assert_eq!(
            sac.state().canonical_bytes(),
            bl_off.state().canonical_bytes()
        );
        let (bl_on, _) = train(small(Some(BandLimitConfig::default())), 5, 30);
        assert_ne!(
            sac.state().canonical_bytes(),
            bl_on.state().canonical_bytes()
        );
        // TD3's smoothing corner and the min-inside placement run too
        for f in [
            BandLimitConfig {
                kernel: crate::Kernel::ClampedGaussian,
                sigma: 0.2,
                n_samples: 1,
                noise_clip: 0.5,
                ..Default::default()
            },
            BandLimitConfig {
                filter_where: crate::FilterWhere::MinThenFilter,
                share_noise: true,
                ..Default::default()
            },
        ] {
            let (l, td) = train(small(Some(f)), 5, 5);
            assert!(td.iter().all(|x| x.is_finite()));
            assert!(!l.snapshot().tensors.is_empty());
        }
    }

    /// Updates on a fixed batch: losses stay finite, the critic fits the soft target (TD error
    /// falls), and the temperature moves towards the target entropy.
    #[test]
    fn updates_reduce_the_td_error_and_tune_the_temperature() {
        let (_, td0) = train(small(None), 1, 1);
        let (learner, td) = train(
            SacConfig {
                gamma: 0.0,
                ..small(None)
            },
            1,
            400,
        );
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!(
            mean(&td) < 0.5 * mean(&td0),
            "{} vs {}",
            mean(&td),
            mean(&td0)
        );
        // the actor learns through the (constant) critics
        let fresh = SacBuilder { cfg: small(None) }
            .make_off_policy_learner(&pendulum_spec(), 1)
            .unwrap();
        assert_ne!(fresh.snapshot().tensors[0], learner.snapshot().tensors[0]);
        let t = values(&learner.state(), "temperature").unwrap();
        assert!(t[0] != 0.0, "ln α moved from ln 1 = 0: {}", t[0]);
        assert_eq!(t[3], 400.0, "one temperature step per update");
    }

    /// `state` → `restore` into a fresh learner reproduces the continuation exactly (networks,
    /// targets, temperature, counters and the generator).
    #[test]
    fn state_round_trips_and_the_continuation_is_identical() {
        let (mut a, _) = train(small(Some(BandLimitConfig::default())), 9, 10);
        let builder = SacBuilder {
            cfg: small(Some(BandLimitConfig::default())),
        };
        let mut b = builder
            .make_off_policy_learner(&pendulum_spec(), 123)
            .unwrap();
        b.restore(&a.state()).unwrap();
        assert_eq!(a.state().canonical_bytes(), b.state().canonical_bytes());
        let mut sink = MemorySink::default();
        for k in 0..3 {
            a.update(&batch(k), &mut sink).unwrap();
            b.update(&batch(k), &mut sink).unwrap();
        }
        assert_eq!(a.state().canonical_bytes(), b.state().canonical_bytes());
        // a policy snapshot alone is not a resumable state
        let e = b.restore(&a.snapshot()).unwrap_err();
        assert!(e.to_string().contains("critic"), "{e}");
    }

    /// The actor acts inside the bounds: uniformly at random before `learning_starts`, then
    /// from the squashed Gaussian; the deterministic action is repeatable.
    #[test]
    fn policies_respect_the_action_bounds() {
        let builder = SacBuilder { cfg: small(None) };
        let spec = pendulum_spec();
        let learner = builder.make_off_policy_learner(&spec, 0).unwrap();
        let snap = learner.snapshot();
        assert_eq!(scalar(&snap, "random"), Some(1.0));
        let mut p = builder.make_policy(&spec, &snap).unwrap();
        let mut rng = Rng::seed_from(4);
        let mut a = [0.0f32];
        let mut seen = Vec::new();
        for _ in 0..200 {
            p.act(&[1.0, 0.0, 0.0], &mut rng, ActMode::Explore, &mut a);
            assert!((-2.0..=2.0).contains(&a[0]));
            seen.push(a[0]);
        }
        assert!(seen.iter().any(|x| *x > 1.0) && seen.iter().any(|x| *x < -1.0));
        let mut d1 = [0.0f32];
        let mut d2 = [0.0f32];
        p.act(&[1.0, 0.0, 0.0], &mut rng, ActMode::Deterministic, &mut d1);
        p.act(&[1.0, 0.0, 0.0], &mut rng, ActMode::Deterministic, &mut d2);
        assert_eq!(d1, d2);
        assert!(d1[0].abs() < 2.0);
    }

    #[test]
    fn bad_config_and_spaces_are_named() {
        let e = SacConfig {
            tau: 0.0,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.starts_with("tau = 0"), "{e}");
        let e = SacConfig {
            band_limit: Some(BandLimitConfig {
                sigma: -1.0,
                ..Default::default()
            }),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.contains("band_limit.sigma"), "{e}");
        let discrete = EnvSpec::new(
            "cp",
            Space::boxed(vec![-1.0], vec![1.0]),
            Space::discrete(2),
        );
        let e = SacBuilder {
            cfg: SacConfig::default(),
        }
        .make_off_policy_learner(&discrete, 0)
        .err()
        .unwrap();
        assert!(e.to_string().contains("Box"), "{e}");
    }

    /// Adam's first step moves by `lr` against the gradient's sign (bias-corrected moments).
    #[test]
    fn scalar_adam_first_step_is_lr() {
        let mut a = ScalarAdam::default();
        let x = a.step(0.5, 3.0, 0.1, 1e-8);
        assert!((x - 0.4).abs() < 1e-9);
    }
}
