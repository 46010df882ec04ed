//! The linear advantage actor-critic (see the crate docs for the equations).

use mirrorflow_core::{
    ActMode, AgentBuilder, EnvSpec, Error, Learner, MetricSink, ParamSnapshot, Policy, Rng, Tensor,
    TensorData, Timeline, TransitionBatch,
};
use mirrorflow_math::softmax::{argmax, entropy, softmax};
use serde::{Deserialize, Serialize};

/// Hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct A2cConfig {
    /// Policy step size α_π > 0.
    pub lr_policy: f64,
    /// Value step size α_V > 0.
    pub lr_value: f64,
    /// Discount γ ∈ [0, 1].
    pub gamma: f64,
    /// GAE λ ∈ [0, 1].
    pub gae_lambda: f64,
    /// Entropy bonus weight ≥ 0.
    pub entropy_coef: f64,
    /// Observation scale: features are `obs / obs_scale` (one value for all, or one per dim).
    pub obs_scale: Vec<f64>,
}

impl Default for A2cConfig {
    fn default() -> Self {
        Self {
            lr_policy: 0.5,
            lr_value: 0.05,
            gamma: 0.99,
            gae_lambda: 0.95,
            entropy_coef: 0.0,
            obs_scale: vec![1.0],
        }
    }
}

impl A2cConfig {
    /// Checks ranges; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let pos = |n: &str, v: f64| {
            if v > 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(format!("{n} = {v}: must be > 0 and finite"))
            }
        };
        pos("lr_policy", self.lr_policy)?;
        pos("lr_value", self.lr_value)?;
        for (n, v) in [("gamma", self.gamma), ("gae_lambda", self.gae_lambda)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{n} = {v}: must be in [0, 1]"));
            }
        }
        if !(self.entropy_coef >= 0.0 && self.entropy_coef.is_finite()) {
            return Err(format!(
                "entropy_coef = {}: must be >= 0",
                self.entropy_coef
            ));
        }
        if self.obs_scale.is_empty() || self.obs_scale.iter().any(|s| !(*s > 0.0 && s.is_finite()))
        {
            return Err(format!(
                "obs_scale = {:?}: give one or obs_dim positive values",
                self.obs_scale
            ));
        }
        Ok(())
    }
}

/// Parameters shared by the learner and the acting policy.
#[derive(Clone, Debug, PartialEq)]
struct Linear {
    obs_dim: usize,
    actions: usize,
    scale: Vec<f64>,
    /// `actions × (obs_dim + 1)`, row-major.
    w: Vec<f64>,
    /// `obs_dim + 1`.
    v: Vec<f64>,
}

impl Linear {
    fn features(&self, obs: &[f32], phi: &mut [f64]) {
        for (i, (p, &o)) in phi.iter_mut().zip(obs).enumerate() {
            let s = if self.scale.len() == 1 {
                self.scale[0]
            } else {
                self.scale[i]
            };
            *p = o as f64 / s;
        }
        phi[self.obs_dim] = 1.0;
    }

    fn probs(&self, phi: &[f64], logits: &mut [f64], p: &mut [f64]) {
        let d = self.obs_dim + 1;
        for (a, l) in logits.iter_mut().enumerate() {
            *l = self.w[a * d..(a + 1) * d]
                .iter()
                .zip(phi)
                .map(|(w, x)| w * x)
                .sum();
        }
        softmax(logits, 1.0, p);
    }

    fn value(&self, phi: &[f64]) -> f64 {
        self.v.iter().zip(phi).map(|(w, x)| w * x).sum()
    }

    fn snapshot(&self, version: u64) -> ParamSnapshot {
        let d = self.obs_dim + 1;
        ParamSnapshot {
            version,
            tensors: vec![
                Tensor {
                    name: "policy.w".into(),
                    shape: vec![self.actions, d],
                    data: TensorData::F64(self.w.clone()),
                },
                Tensor {
                    name: "value.v".into(),
                    shape: vec![d],
                    data: TensorData::F64(self.v.clone()),
                },
            ],
        }
    }

    fn load(&mut self, s: &ParamSnapshot) -> Result<(), Error> {
        let d = self.obs_dim + 1;
        let get = |name: &str, len: usize| -> Result<Vec<f64>, Error> {
            match s.tensors.iter().find(|t| t.name == name).map(|t| &t.data) {
                Some(TensorData::F64(v)) if v.len() == len => Ok(v.clone()),
                _ => Err(Error::Snapshot(format!(
                    "tensor `{name}` with {len} float64 values expected"
                ))),
            }
        };
        self.w = get("policy.w", self.actions * d)?;
        self.v = get("value.v", d)?;
        Ok(())
    }
}

fn spec_dims(spec: &EnvSpec, cfg: &A2cConfig) -> Result<(usize, usize), Error> {
    let actions = spec.action_space.discrete_n().ok_or_else(|| {
        Error::Learner(format!(
            "the linear actor-critic needs a Discrete action space; {} has {}",
            spec.id, spec.action_space
        ))
    })? as usize;
    let obs_dim = spec.obs_dim();
    if cfg.obs_scale.len() != 1 && cfg.obs_scale.len() != obs_dim {
        return Err(Error::Learner(format!(
            "obs_scale has {} values; {} observations have {obs_dim}",
            cfg.obs_scale.len(),
            spec.id
        )));
    }
    Ok((obs_dim, actions))
}

/// The learner.
pub struct A2c {
    cfg: A2cConfig,
    p: Linear,
    updates: u64,
    env_steps: u64,
}

impl A2c {
    /// A learner with zero-initialized parameters (deterministic, independent of the seed).
    pub fn new(cfg: A2cConfig, spec: &EnvSpec) -> Result<Self, Error> {
        cfg.validate().map_err(Error::Learner)?;
        let (obs_dim, actions) = spec_dims(spec, &cfg)?;
        let p = Linear {
            obs_dim,
            actions,
            scale: cfg.obs_scale.clone(),
            w: vec![0.0; actions * (obs_dim + 1)],
            v: vec![0.0; obs_dim + 1],
        };
        Ok(Self {
            cfg,
            p,
            updates: 0,
            env_steps: 0,
        })
    }
}

impl Learner for A2c {
    fn learn(
        &mut self,
        batch: &TransitionBatch,
        metrics: &mut dyn MetricSink,
    ) -> Result<(), Error> {
        let n = batch.len();
        if n == 0 {
            return Ok(());
        }
        let (d, k) = (self.p.obs_dim + 1, self.p.actions);
        let mut phi = vec![0.0; n * d];
        let mut phi_next = vec![0.0; d];
        let mut values = vec![0.0; n];
        let mut deltas = vec![0.0; n];
        for i in 0..n {
            self.p
                .features(batch.obs_row(i), &mut phi[i * d..(i + 1) * d]);
            values[i] = self.p.value(&phi[i * d..(i + 1) * d]);
            self.p.features(batch.next_obs_row(i), &mut phi_next);
            let bootstrap = if batch.terminated[i] == 1 {
                0.0
            } else {
                self.p.value(&phi_next)
            };
            deltas[i] = batch.rewards[i] as f64 + self.cfg.gamma * bootstrap - values[i];
        }
        // GAE backwards per env (rows of one env are in time order; done cuts the trace).
        let mut adv = vec![0.0; n];
        let mut next_adv: std::collections::BTreeMap<u32, f64> = std::collections::BTreeMap::new();
        for i in (0..n).rev() {
            let id = batch.env_ids[i];
            let done = batch.terminated[i] == 1 || batch.truncated[i] == 1;
            let carry = if done {
                0.0
            } else {
                next_adv.get(&id).copied().unwrap_or(0.0)
            };
            adv[i] = deltas[i] + self.cfg.gamma * self.cfg.gae_lambda * carry;
            next_adv.insert(id, adv[i]);
        }
        let returns: Vec<f64> = adv.iter().zip(&values).map(|(a, v)| a + v).collect();
        let mean = adv.iter().sum::<f64>() / n as f64;
        let std = (adv.iter().map(|a| (a - mean) * (a - mean)).sum::<f64>() / n as f64)
            .sqrt()
            .max(1e-8);
        let (mut gw, mut gv) = (vec![0.0; k * d], vec![0.0; d]);
        let (mut logits, mut pr) = (vec![0.0; k], vec![0.0; k]);
        let (mut pl, mut vl, mut ent) = (0.0, 0.0, 0.0);
        for i in 0..n {
            let f = &phi[i * d..(i + 1) * d];
            self.p.probs(f, &mut logits, &mut pr);
            let a = batch.actions[i] as usize;
            let an = (adv[i] - mean) / std;
            let h = entropy(&pr);
            ent += h;
            pl -= an * pr[a].max(1e-300).ln();
            for b in 0..k {
                let ind = if b == a { 1.0 } else { 0.0 };
                // ∂H/∂logit_b = −p_b (ln p_b + H)
                let dh = -pr[b] * (pr[b].max(1e-300).ln() + h);
                let g = an * (ind - pr[b]) + self.cfg.entropy_coef * dh;
                for j in 0..d {
                    gw[b * d + j] += g * f[j];
                }
            }
            let err = returns[i] - values[i];
            vl += 0.5 * err * err;
            for j in 0..d {
                gv[j] += err * f[j];
            }
        }
        let nf = n as f64;
        for (w, g) in self.p.w.iter_mut().zip(&gw) {
            *w += self.cfg.lr_policy * g / nf;
        }
        for (v, g) in self.p.v.iter_mut().zip(&gv) {
            *v += self.cfg.lr_value * g / nf;
        }
        if self.p.w.iter().chain(&self.p.v).any(|x| !x.is_finite()) {
            return Err(Error::Learner(format!(
                "parameters became non-finite at update {}",
                self.updates + 1
            )));
        }
        self.updates += 1;
        self.env_steps += n as u64;
        let u = self.updates;
        metrics.record(Timeline::LearnerSteps, u, "losses/policy", pl / nf);
        metrics.record(Timeline::LearnerSteps, u, "losses/value", vl / nf);
        metrics.record(Timeline::LearnerSteps, u, "charts/entropy", ent / nf);
        for ep in &batch.episodes {
            metrics.record(
                Timeline::EnvSteps,
                self.env_steps,
                "charts/episodic_return",
                ep.episode_return,
            );
            metrics.record(
                Timeline::EnvSteps,
                self.env_steps,
                "charts/episodic_length",
                ep.length as f64,
            );
        }
        Ok(())
    }

    fn snapshot(&self) -> ParamSnapshot {
        let mut s = self.p.snapshot(self.updates);
        // counters travel with the parameters so a resumed run continues the same timelines
        s.tensors.push(Tensor {
            name: "counters".into(),
            shape: vec![2],
            data: TensorData::F64(vec![self.updates as f64, self.env_steps as f64]),
        });
        s
    }

    fn restore(&mut self, snapshot: &ParamSnapshot) -> Result<(), Error> {
        self.p.load(snapshot)?;
        self.updates = snapshot.version;
        let counters = snapshot
            .tensors
            .iter()
            .find(|t| t.name == "counters")
            .map(|t| &t.data);
        if let Some(TensorData::F64(c)) = counters
            && let [u, e] = c[..]
        {
            self.updates = u as u64;
            self.env_steps = e as u64;
        }
        Ok(())
    }
}

/// The acting side: samples from `softmax(W φ(s))`, or takes the argmax when deterministic.
pub struct LinearSoftmaxPolicy {
    p: Linear,
    version: u64,
    phi: Vec<f64>,
    logits: Vec<f64>,
    probs: Vec<f64>,
}

impl Policy for LinearSoftmaxPolicy {
    fn act(&mut self, obs: &[f32], rng: &mut Rng, mode: ActMode, action: &mut [f32]) {
        self.p.features(obs, &mut self.phi);
        self.p.probs(&self.phi, &mut self.logits, &mut self.probs);
        action[0] = match mode {
            ActMode::Explore => rng.categorical(&self.probs),
            ActMode::Deterministic => argmax(&self.logits),
        } as f32;
    }

    fn version(&self) -> u64 {
        self.version
    }
}

/// Builds the learner and acting policies.
#[derive(Clone, Debug)]
pub struct A2cBuilder {
    /// Hyper-parameters.
    pub cfg: A2cConfig,
}

impl AgentBuilder for A2cBuilder {
    fn make_learner(&self, spec: &EnvSpec, _seed: u64) -> Result<Box<dyn Learner>, Error> {
        Ok(Box::new(A2c::new(self.cfg.clone(), spec)?))
    }

    fn make_policy(
        &self,
        spec: &EnvSpec,
        params: &ParamSnapshot,
    ) -> Result<Box<dyn Policy>, Error> {
        let (obs_dim, actions) = spec_dims(spec, &self.cfg)?;
        let mut p = Linear {
            obs_dim,
            actions,
            scale: self.cfg.obs_scale.clone(),
            w: Vec::new(),
            v: Vec::new(),
        };
        p.load(params)?;
        Ok(Box::new(LinearSoftmaxPolicy {
            p,
            version: params.version,
            phi: vec![0.0; obs_dim + 1],
            logits: vec![0.0; actions],
            probs: vec![0.0; actions],
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirrorflow_core::metrics::MemorySink;
    use mirrorflow_core::{Env, EnvFactory, EnvShard, SeedStream};
    use mirrorflow_env_classic::CartPole;
    use std::sync::Arc;

    fn train(updates: usize, seed: u64) -> (MemorySink, ParamSnapshot) {
        let factory: EnvFactory = Arc::new(|_| Ok(Box::new(CartPole::default()) as Box<dyn Env>));
        let mut shard = EnvShard::new(&factory, 0, 16, SeedStream::new(seed)).unwrap();
        let spec = shard.spec().clone();
        let b = A2cBuilder {
            cfg: A2cConfig::default(),
        };
        let mut learner = b.make_learner(&spec, 0).unwrap();
        let mut sink = MemorySink::default();
        let mut batch = TransitionBatch::default();
        for _ in 0..updates {
            let mut policy = b.make_policy(&spec, &learner.snapshot()).unwrap();
            batch.clear();
            shard
                .rollout(policy.as_mut(), ActMode::Explore, 32, &mut batch)
                .unwrap();
            learner.learn(&batch, &mut sink).unwrap();
        }
        (sink, learner.snapshot())
    }

    #[test]
    fn learns_cartpole_beyond_random() {
        let (sink, _) = train(300, 1);
        let r = sink.series("charts/episodic_return");
        let first: f64 = r[..20].iter().sum::<f64>() / 20.0;
        let last: f64 = r[r.len() - 20..].iter().sum::<f64>() / 20.0;
        assert!(first < 40.0, "random-ish start {first}");
        assert!(
            last > 3.0 * first && last > 100.0,
            "no learning: {first} -> {last}"
        );
    }

    #[test]
    fn deterministic_and_restorable() {
        let (a, pa) = train(20, 3);
        let (b, pb) = train(20, 3);
        assert_eq!(pa, pb);
        assert_eq!(a.records, b.records);
        let spec = CartPole::default().spec().clone();
        let mut l = A2c::new(A2cConfig::default(), &spec).unwrap();
        l.restore(&pa).unwrap();
        assert_eq!(l.snapshot(), pa);
        let bad = ParamSnapshot {
            version: 1,
            tensors: vec![],
        };
        assert!(
            l.restore(&bad)
                .unwrap_err()
                .to_string()
                .contains("policy.w")
        );
    }
}
