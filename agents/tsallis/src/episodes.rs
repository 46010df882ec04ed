//! Best-of-both-worlds policy optimization through the actor–learner runtime
//! (`sampler = "env_shards"`): an env shard plays each round's episode with `π_t` on the layered
//! env (observation = state index, reward = −loss), the learner updates from that episode and
//! publishes `π_{t+1}` as the next policy version. One episode per version, so the runtime runs
//! one env with `H` steps per version (the CLI sets this up).

use crate::bobw::{BobwConfig, BobwPo};
use mirrorflow_core::episodic::LayeredModel;
use mirrorflow_core::{
    ActMode, AgentBuilder, EnvSpec, Error, Learner, MetricSink, ParamSnapshot, Planner, Policy,
    Rng, TensorData, TransitionBatch,
};
use std::sync::Arc;

/// Builds the learner and the acting policy `π_t`.
pub struct BobwBuilder {
    /// Hyper-parameters.
    pub cfg: BobwConfig,
    /// The model: its shape for the updates (its transitions only with known `P`) and the true
    /// dynamics for the regret metric.
    pub model: Arc<LayeredModel>,
    /// Rounds in the run (the Shannon rate's horizon).
    pub rounds: u64,
}

impl AgentBuilder for BobwBuilder {
    fn make_learner(&self, spec: &EnvSpec, seed: u64) -> Result<Box<dyn Learner>, Error> {
        if spec.obs_dim() != 1 {
            return Err(Error::Learner(format!(
                "BOBW policy optimization needs the layered env (observation = state index); `{}` has {} observation values",
                spec.id,
                spec.obs_dim()
            )));
        }
        let mut po = BobwPo::new(self.cfg.clone(), self.model.clone(), self.rounds, seed)?;
        po.compute_policy(1)?;
        Ok(Box::new(BobwLearner { po }))
    }

    fn make_policy(
        &self,
        _spec: &EnvSpec,
        params: &ParamSnapshot,
    ) -> Result<Box<dyn Policy>, Error> {
        let policy = params
            .tensors
            .iter()
            .find(|t| t.name == "policy")
            .and_then(|t| match &t.data {
                TensorData::F64(v) => Some(v.clone()),
                TensorData::F32(_) => None,
            })
            .ok_or_else(|| Error::Learner("the parameters have no f64 `policy` table".into()))?;
        Ok(Box::new(TablePolicy {
            policy,
            actions: self.model.num_actions(),
            version: params.version,
        }))
    }
}

/// Samples `a ~ π(·|s)` from a state-indexed table.
struct TablePolicy {
    policy: Vec<f64>,
    actions: usize,
    version: u64,
}

impl Policy for TablePolicy {
    fn act(&mut self, obs: &[f32], rng: &mut Rng, mode: ActMode, action: &mut [f32]) {
        let s = obs[0] as usize;
        let row = &self.policy[s * self.actions..(s + 1) * self.actions];
        action[0] = match mode {
            ActMode::Explore => rng.categorical(row),
            _ => row
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(a, _)| a),
        } as f32;
    }
    fn version(&self) -> u64 {
        self.version
    }
}

/// The learner: one round per episode in the batch.
pub struct BobwLearner {
    po: BobwPo,
}

impl BobwLearner {
    /// The policy-optimization state inside.
    pub fn inner(&self) -> &BobwPo {
        &self.po
    }
}

impl Learner for BobwLearner {
    fn learn(
        &mut self,
        batch: &TransitionBatch,
        metrics: &mut dyn MetricSink,
    ) -> Result<(), Error> {
        let model = self.po.model().clone();
        let (s_n, a_n, hz) = (model.num_states(), model.num_actions(), model.horizon());
        let mut path = Vec::with_capacity(hz);
        let mut observed = Vec::with_capacity(hz);
        for i in 0..batch.len() {
            let (s, a) = (batch.obs[i], batch.actions[i]);
            let whole = |x: f32, n: usize| x >= 0.0 && x.fract() == 0.0 && (x as usize) < n;
            if !(whole(s, s_n) && whole(a, a_n)) {
                return Err(Error::Learner(format!(
                    "transition {i} has (state, action) = ({s}, {a}), outside the {s_n}×{a_n} layered model"
                )));
            }
            let (s, a) = (s as usize, a as usize);
            if model.layer_of(s) != path.len() {
                return Err(Error::Learner(format!(
                    "transition {i}: state {s} is in layer {}, expected layer {} of an episode",
                    model.layer_of(s),
                    path.len()
                )));
            }
            path.push((s, a));
            observed.push(-(batch.rewards[i] as f64));
            if path.len() == hz {
                let t = self.po.rounds_played() + 1;
                self.po.set_rounds_played(t);
                self.po.update(t, &path, &observed, metrics)?;
                self.po.compute_policy(t + 1)?;
                path.clear();
                observed.clear();
            }
        }
        if !path.is_empty() {
            return Err(Error::Learner(format!(
                "the batch ends inside an episode ({} of {hz} steps): BOBW needs whole episodes per batch (steps_per_env = H)",
                path.len()
            )));
        }
        Ok(())
    }

    fn snapshot(&self) -> ParamSnapshot {
        self.po.snapshot()
    }

    fn restore(&mut self, _snapshot: &ParamSnapshot) -> Result<(), Error> {
        Err(Error::Learner(
            "BOBW policy optimization does not resume from checkpoints (its regret bookkeeping is not saved); run it with checkpoint_every = 0".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirrorflow_core::metrics::MemorySink;
    use mirrorflow_env_tabular::layered::LayeredConfig;

    /// Fed the episodes the planner plays, the runtime learner makes the same policies, and
    /// its acting policy is `π_t`.
    #[test]
    fn episodes_from_outside_reproduce_the_planner() {
        let model = Arc::new(
            LayeredConfig {
                layer_sizes: vec![1, 3, 2],
                num_actions: 3,
                ..Default::default()
            }
            .build()
            .unwrap(),
        );
        let cfg = BobwConfig::default();
        let mut planner = BobwPo::new(cfg.clone(), model.clone(), 500, 7).unwrap();
        let builder = BobwBuilder {
            cfg,
            model: model.clone(),
            rounds: 500,
        };
        let spec = EnvSpec::new(
            "layered",
            mirrorflow_core::Space::discrete(6),
            mirrorflow_core::Space::discrete(3),
        );
        let mut learner = builder.make_learner(&spec, 1).unwrap();
        let (mut a, mut b) = (MemorySink::default(), MemorySink::default());
        for t in 1..=500 {
            planner.set_rounds_played(t);
            planner.compute_policy(t).unwrap();
            let (path, observed) = planner.play(t);
            planner.update(t, &path, &observed, &mut a).unwrap();
            let mut batch = TransitionBatch {
                obs_dim: 1,
                act_dim: 1,
                ..Default::default()
            };
            for (&(s, act), &l) in path.iter().zip(&observed) {
                batch.env_ids.push(0);
                batch.obs.push(s as f32);
                batch.actions.push(act as f32);
                batch.rewards.push(-l as f32);
                batch.next_obs.push(0.0);
                batch.terminated.push(0);
                batch.truncated.push(0);
            }
            learner.learn(&batch, &mut b).unwrap();
        }
        assert_eq!(a.series("online/regret"), b.series("online/regret"));
        planner.compute_policy(501).unwrap();
        let snap = learner.snapshot();
        let TensorData::F64(p) = &snap.tensors[0].data else {
            panic!("policy is f64")
        };
        assert_eq!(p.as_slice(), planner.policy());
        // a batch cut inside an episode is refused with a message
        let mut cut = TransitionBatch {
            obs_dim: 1,
            act_dim: 1,
            ..Default::default()
        };
        cut.obs.push(0.0);
        cut.actions.push(0.0);
        cut.rewards.push(0.0);
        let e = learner.learn(&cut, &mut b).unwrap_err();
        assert!(e.to_string().contains("inside an episode"), "{e}");
    }
}
