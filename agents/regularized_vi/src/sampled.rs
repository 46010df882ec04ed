//! MD-VI with sampled backups whose samples are collected by env shards through the actor–learner
//! runtime (`sampler = "env_shards"`).
//!
//! The envs are generative samplers of the model (observation `[s, a]`: the pair to sample next;
//! next observation `[s', a]`). The acting policy plays `a` as told; the learner files every
//! transition's `s'` under its `(s, a)` and runs one MD iteration as soon as every pair holds its
//! `m·n` samples, consuming them in arrival order (spare samples wait for the next iteration).
//! With the runtime's sync schedule the arrival order is canonical, so a run is reproducible in
//! any placement; with `m·S·A·n` steps per version, each version is one iteration.

use crate::config::{MdviConfig, Noise};
use crate::mdvi::Mdvi;
use mirrorflow_core::{
    ActMode, AgentBuilder, EnvSpec, Error, Learner, MetricSink, ParamSnapshot, Planner, Policy,
    Rng, TabularMdp, Tensor, TensorData, TransitionBatch,
};
use std::collections::VecDeque;
use std::sync::Arc;

/// Builds the learner and the "play the pair's action" policy.
pub struct SampledMdviBuilder {
    /// Hyper-parameters (`noise = sampled`, `form = md`).
    pub cfg: MdviConfig,
    /// The model: for the planner's evaluation metrics and the problem's size (the backups use
    /// only collected samples).
    pub mdp: Arc<TabularMdp>,
}

impl SampledMdviBuilder {
    /// Samples per iteration, `m·S·A·n` (the runtime's steps per version).
    pub fn samples_per_iteration(&self) -> u64 {
        let n = match self.cfg.noise {
            Noise::Sampled { n } => n as u64,
            _ => 0,
        };
        self.cfg.m as u64 * (self.mdp.num_states() * self.mdp.num_actions()) as u64 * n
    }
}

impl AgentBuilder for SampledMdviBuilder {
    fn make_learner(&self, spec: &EnvSpec, seed: u64) -> Result<Box<dyn Learner>, Error> {
        if spec.obs_dim() != 2 {
            return Err(Error::Learner(format!(
                "sampled MD-VI needs the generative sampler env (observation [s, a]); `{}` has {} observation values",
                spec.id,
                spec.obs_dim()
            )));
        }
        let Noise::Sampled { n } = self.cfg.noise else {
            return Err(Error::Learner(
                "sampler = \"env_shards\" needs noise = { kind = \"sampled\", n = N }".into(),
            ));
        };
        let pairs = self.mdp.num_states() * self.mdp.num_actions();
        Ok(Box::new(SampledMdvi {
            mdvi: Mdvi::new(self.cfg.clone(), self.mdp.clone(), seed)?,
            per_pair: self.cfg.m as usize * n as usize,
            queues: vec![VecDeque::new(); pairs],
            ready: 0,
        }))
    }

    fn make_policy(
        &self,
        _spec: &EnvSpec,
        params: &ParamSnapshot,
    ) -> Result<Box<dyn Policy>, Error> {
        Ok(Box::new(PlayTheSweep {
            version: params.version,
        }))
    }
}

/// The acting side of a generative sweep: plays the action the observation names.
struct PlayTheSweep {
    version: u64,
}

impl Policy for PlayTheSweep {
    fn act(&mut self, obs: &[f32], _rng: &mut Rng, _mode: ActMode, action: &mut [f32]) {
        action[0] = obs[1];
    }
    fn version(&self) -> u64 {
        self.version
    }
}

/// The learner: MD-VI fed with collected next states.
pub struct SampledMdvi {
    mdvi: Mdvi,
    per_pair: usize,
    queues: Vec<VecDeque<u32>>,
    /// Pairs holding at least `per_pair` samples.
    ready: usize,
}

impl SampledMdvi {
    /// The planner inside (policy, q-values, metrics).
    pub fn mdvi(&self) -> &Mdvi {
        &self.mdvi
    }
}

impl Learner for SampledMdvi {
    fn learn(
        &mut self,
        batch: &TransitionBatch,
        metrics: &mut dyn MetricSink,
    ) -> Result<(), Error> {
        let (s_n, a_n) = (self.mdvi.mdp().num_states(), self.mdvi.mdp().num_actions());
        for i in 0..batch.len() {
            let s = batch.obs[i * 2];
            let a = batch.actions[i];
            let next = batch.next_obs[i * 2];
            let ok = |x: f32, n: usize| x >= 0.0 && x.fract() == 0.0 && (x as usize) < n;
            if !(ok(s, s_n) && ok(a, a_n) && ok(next, s_n)) {
                return Err(Error::Learner(format!(
                    "transition {i} of the batch is ({s}, {a}, {next}), not a (state, action, state) of a {s_n}×{a_n} model"
                )));
            }
            let q = &mut self.queues[s as usize * a_n + a as usize];
            q.push_back(next as u32);
            if q.len() == self.per_pair {
                self.ready += 1;
            }
            if self.ready == self.queues.len() {
                self.iterate(metrics)?;
            }
        }
        Ok(())
    }

    fn snapshot(&self) -> ParamSnapshot {
        let mut p = self.mdvi.snapshot();
        let (q, _, prev, _) = self.mdvi.md_state();
        let shape = p.tensors[0].shape.clone();
        p.tensors.push(Tensor {
            name: "md_state".into(),
            shape: shape.clone(),
            data: TensorData::F64(q.to_vec()),
        });
        p.tensors.push(Tensor {
            name: "log_policy_prev".into(),
            shape,
            data: TensorData::F64(prev.to_vec()),
        });
        p
    }

    fn restore(&mut self, snapshot: &ParamSnapshot) -> Result<(), Error> {
        let get = |name: &str| -> Result<&[f64], Error> {
            snapshot
                .tensors
                .iter()
                .find(|t| t.name == name)
                .and_then(|t| match &t.data {
                    TensorData::F64(v) => Some(v.as_slice()),
                    TensorData::F32(_) => None,
                })
                .ok_or_else(|| {
                    Error::Learner(format!(
                        "the checkpoint has no f64 tensor `{name}`; it was not written by sampled MD-VI"
                    ))
                })
        };
        self.mdvi.restore_md_state(
            get("md_state")?,
            get("log_policy")?,
            get("log_policy_prev")?,
            snapshot.version,
        )?;
        // samples of a half-collected iteration are not in the checkpoint: the runtime resumes
        // at a version boundary, where (with m·S·A·n steps per version) none are pending
        self.queues.iter_mut().for_each(VecDeque::clear);
        self.ready = 0;
        Ok(())
    }
}

impl SampledMdvi {
    fn iterate(&mut self, metrics: &mut dyn MetricSink) -> Result<(), Error> {
        let (pairs, per) = (self.queues.len(), self.per_pair);
        let m = self.mdvi_m();
        let n = per / m;
        // backup-major, then pair-major: the first n samples of each pair feed backup 0, ...
        let mut samples = vec![0u32; pairs * per];
        for (k, q) in self.queues.iter_mut().enumerate() {
            for (i, x) in q.drain(..per).enumerate() {
                samples[(i / n) * pairs * n + k * n + i % n] = x;
            }
        }
        self.ready = self.queues.iter().filter(|q| q.len() >= per).count();
        self.mdvi.iterate_with_samples(samples, metrics)
    }

    fn mdvi_m(&self) -> usize {
        self.mdvi.config().m as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirrorflow_core::Env;
    use mirrorflow_core::metrics::MemorySink;
    use mirrorflow_env_tabular::GenerativeEnv;
    use mirrorflow_env_tabular::garnet::GarnetConfig;

    fn push(b: &mut TransitionBatch, s: usize, a: usize, next: usize) {
        b.env_ids.push(0);
        b.obs.extend([s as f32, a as f32]);
        b.actions.push(a as f32);
        b.rewards.push(0.0);
        b.next_obs.extend([next as f32, a as f32]);
        b.terminated.push(0);
        b.truncated.push(1);
    }

    /// Fed the planner's own draws (in any interleaving of the pairs), the learner reproduces
    /// the planner with `sampler = "model"` bit for bit, for m = 1 and m = 2.
    #[test]
    fn collected_samples_reproduce_the_planner() {
        let mdp = Arc::new(
            GarnetConfig {
                num_states: 12,
                num_actions: 3,
                ..Default::default()
            }
            .build()
            .unwrap(),
        );
        let (s_n, a_n) = (12, 3);
        for m in [1u32, 2] {
            let cfg = MdviConfig {
                lambda: 1.0,
                tau: 0.01,
                m,
                noise: Noise::Sampled { n: 2 },
                ..Default::default()
            };
            let mut planner = Mdvi::new(cfg.clone(), mdp.clone(), 5).unwrap();
            let builder = SampledMdviBuilder {
                cfg: MdviConfig {
                    sampler: crate::config::Sampler::EnvShards,
                    ..cfg.clone()
                },
                mdp: mdp.clone(),
            };
            assert_eq!(builder.samples_per_iteration(), (m * 12 * 3 * 2) as u64);
            let spec = GenerativeEnv::new("g", mdp.clone(), 0, 1).spec().clone();
            let mut learner = builder.make_learner(&spec, 99).unwrap();
            let mut rng = Rng::seed_from(5);
            let mut sink = MemorySink::default();
            for _ in 0..8 {
                planner.iterate(&mut sink).unwrap();
                // the planner's draws: backup-major, pair-major, sample-minor
                let mut draws = Vec::new();
                for _ in 0..m {
                    for s in 0..s_n {
                        for a in 0..a_n {
                            for _ in 0..2 {
                                draws.push((s, a, mdp.sample_next(s, a, &mut rng)));
                            }
                        }
                    }
                }
                // delivered pair by pair in reverse, in two batches; per pair the order holds
                let mut batches = [TransitionBatch::default(), TransitionBatch::default()];
                for b in batches.iter_mut() {
                    b.obs_dim = 2;
                    b.act_dim = 1;
                }
                for (i, k) in (0..s_n * a_n).rev().enumerate() {
                    for &(s, a, x) in draws.iter().filter(|d| d.0 * a_n + d.1 == k) {
                        push(&mut batches[i % 2], s, a, x);
                    }
                }
                for b in &batches {
                    learner.learn(b, &mut sink).unwrap();
                }
            }
            let snap = learner.snapshot();
            assert_eq!(snap.version, 8);
            let TensorData::F64(lp) = &snap.tensors[1].data else {
                panic!("log_policy is f64")
            };
            assert_eq!(lp.as_slice(), planner.log_policy(), "m = {m}");
            // a checkpoint restores the iteration exactly
            let mut again = builder.make_learner(&spec, 1).unwrap();
            again.restore(&snap).unwrap();
            assert_eq!(again.snapshot(), snap);
        }
    }

    #[test]
    fn transitions_outside_the_model_are_named() {
        let mdp = Arc::new(GarnetConfig::default().build().unwrap());
        let builder = SampledMdviBuilder {
            cfg: MdviConfig {
                noise: Noise::Sampled { n: 1 },
                ..Default::default()
            },
            mdp: mdp.clone(),
        };
        let spec = GenerativeEnv::new("g", mdp.clone(), 0, 1).spec().clone();
        let mut learner = builder.make_learner(&spec, 0).unwrap();
        let mut b = TransitionBatch {
            obs_dim: 2,
            act_dim: 1,
            ..Default::default()
        };
        push(&mut b, 100_000, 0, 1);
        let e = learner.learn(&b, &mut MemorySink::default()).unwrap_err();
        assert!(e.to_string().contains("transition 0"), "{e}");
    }
}
