//! Off-policy learning in the loop: a replay-fed tabular Q-learner (defined here, on a corridor
//! env defined here) learns, follows the update schedule, and is placement-independent under
//! the sync schedule, with uniform or prioritized n-step replay.
#![allow(clippy::unwrap_used, reason = "tests")]

use mirrorflow_core::metrics::MemorySink;
use mirrorflow_core::{
    ActMode, AgentBuilder, Env, EnvError, EnvFactory, EnvSpec, Error, Learner, MetricSink,
    OffPolicyLearner, OffPolicySpec, ParamSnapshot, Policy, PrioritySpec, ReplaySpec, Rng,
    SampledBatch, Space, StepInfo, Tensor, TensorData, Timeline,
};
use mirrorflow_runtime::{LoopPlan, Placement, Schedule, run_loop};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

const N: usize = 8;

/// States 0..N; action 1 moves right, 0 left; reward 1 and termination at N − 1; 40-step limit.
struct Corridor {
    spec: EnvSpec,
    s: usize,
    t: u32,
}

impl Corridor {
    fn new() -> Self {
        Self {
            spec: EnvSpec::new("corridor", Space::discrete(N as u64), Space::discrete(2))
                .with_max_episode_steps(40),
            s: 0,
            t: 0,
        }
    }
}

impl Env for Corridor {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }
    fn reset(&mut self, _seed: Option<u64>, obs: &mut [f32]) -> Result<(), EnvError> {
        (self.s, self.t) = (0, 0);
        obs[0] = 0.0;
        Ok(())
    }
    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> Result<StepInfo, EnvError> {
        self.s = if action[0] == 1.0 {
            self.s + 1
        } else {
            self.s.saturating_sub(1)
        };
        self.t += 1;
        obs[0] = self.s as f32;
        let terminated = self.s == N - 1;
        Ok(StepInfo {
            reward: terminated as u8 as f64,
            terminated,
            truncated: !terminated && self.t >= 40,
        })
    }
}

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<MemorySink>>);
impl MetricSink for Sink {
    fn record(&mut self, t: Timeline, s: u64, n: &str, v: f64) {
        self.0.lock().unwrap().record(t, s, n, v);
    }
}

/// Tabular Q-learning from replay: `Q += lr · w · (R + γ^k (1 − term) max Q(s') − Q)`.
struct QLearner {
    q: Vec<f64>,
    updates: u64,
    observed: u64,
}

impl OffPolicyLearner for QLearner {
    fn observe(&mut self, batch: &mirrorflow_core::TransitionBatch, _m: &mut dyn MetricSink) {
        self.observed += batch.len() as u64;
    }
    fn update(
        &mut self,
        b: &SampledBatch,
        m: &mut dyn MetricSink,
    ) -> Result<Option<Vec<f64>>, Error> {
        let mut td = Vec::with_capacity(b.batch.len());
        for i in 0..b.batch.len() {
            let (s, a) = (b.batch.obs[i] as usize, b.batch.actions[i] as usize);
            let s2 = b.batch.next_obs[i] as usize;
            let boot = if b.batch.terminated[i] != 0 {
                0.0
            } else {
                self.q[s2 * 2].max(self.q[s2 * 2 + 1])
            };
            let target = b.batch.rewards[i] as f64 + b.discounts[i] as f64 * boot;
            let delta = target - self.q[s * 2 + a];
            self.q[s * 2 + a] += 0.5 * b.weights[i] as f64 * delta;
            td.push(delta.abs());
        }
        self.updates += 1;
        m.record(
            Timeline::LearnerSteps,
            self.updates,
            "losses/td_abs",
            td.iter().sum::<f64>(),
        );
        Ok(Some(td))
    }
    fn snapshot(&self) -> ParamSnapshot {
        ParamSnapshot {
            version: self.updates,
            tensors: vec![Tensor {
                name: "q".into(),
                shape: vec![N, 2],
                data: TensorData::F64(self.q.clone()),
            }],
        }
    }
    fn restore(&mut self, s: &ParamSnapshot) -> Result<(), Error> {
        if let TensorData::F64(q) = &s.tensors[0].data {
            self.q = q.clone();
        }
        Ok(())
    }
}

struct EpsGreedy {
    q: Vec<f64>,
    version: u64,
}
impl Policy for EpsGreedy {
    fn act(&mut self, obs: &[f32], rng: &mut Rng, _mode: ActMode, action: &mut [f32]) {
        let s = obs[0] as usize;
        action[0] = if rng.next_f64() < 0.3 {
            rng.below(2) as f32
        } else {
            (self.q[s * 2 + 1] >= self.q[s * 2]) as u8 as f32
        };
    }
    fn version(&self) -> u64 {
        self.version
    }
}

struct QBuilder(OffPolicySpec);
impl AgentBuilder for QBuilder {
    fn make_learner(&self, _: &EnvSpec, _: u64) -> Result<Box<dyn Learner>, Error> {
        Err(Error::Learner("off-policy only".into()))
    }
    fn make_policy(&self, _: &EnvSpec, p: &ParamSnapshot) -> Result<Box<dyn Policy>, Error> {
        let q = match p.tensors.first().map(|t| &t.data) {
            Some(TensorData::F64(q)) => q.clone(),
            _ => vec![0.0; N * 2],
        };
        Ok(Box::new(EpsGreedy {
            q,
            version: p.version,
        }))
    }
    fn off_policy(&self) -> Option<OffPolicySpec> {
        Some(self.0.clone())
    }
    fn make_off_policy_learner(
        &self,
        _: &EnvSpec,
        _: u64,
    ) -> Result<Box<dyn OffPolicyLearner>, Error> {
        Ok(Box::new(QLearner {
            q: vec![0.0; N * 2],
            updates: 0,
            observed: 0,
        }))
    }
}

fn spec(n_step: usize, prioritized: bool) -> OffPolicySpec {
    OffPolicySpec {
        replay: ReplaySpec {
            capacity: 5000,
            batch_size: 32,
            n_step,
            gamma: 0.9,
            prioritized: prioritized.then_some(PrioritySpec {
                alpha: 0.6,
                beta: 0.4,
                epsilon: 1e-3,
            }),
        },
        learning_starts: 256,
        train_freq: 64,
        gradient_steps: 2,
    }
}

fn run(workers: usize, off: OffPolicySpec) -> (Vec<f64>, MemorySink) {
    let plan = LoopPlan {
        num_shards: 2,
        envs_per_shard: 4,
        steps_per_env: 16,
        batches_per_version: 1,
        versions: 40,
        seed: 3,
        lag: 0,
        checkpoint_every: 0,
        schedule: Schedule::Sync,
        frames: None,
        eval: None,
    };
    let envs: EnvFactory = Arc::new(|_| Ok(Box::new(Corridor::new()) as Box<dyn Env>));
    let sink = Sink::default();
    let out = run_loop(
        Placement::Threads(workers),
        plan,
        Corridor::new().spec().clone(),
        envs,
        Arc::new(QBuilder(off)),
        Box::new(sink.clone()),
        None,
        None,
        Arc::new(AtomicBool::new(false)),
        None,
    )
    .unwrap()
    .unwrap();
    assert!(out.error.is_none(), "{:?}", out.error);
    let TensorData::F64(q) = &out.final_params.unwrap().tensors[0].data else {
        panic!()
    };
    let m = sink.0.lock().unwrap().clone();
    (q.clone(), m)
}

#[test]
fn a_replay_fed_learner_learns_on_schedule_in_any_placement() {
    for (n_step, prioritized) in [(1, false), (3, false), (3, true)] {
        let (q1, m1) = run(1, spec(n_step, prioritized));
        let (q2, m2) = run(2, spec(n_step, prioritized));
        assert_eq!(
            q1, q2,
            "n = {n_step}, prioritized = {prioritized}: placements differ"
        );
        // 40 versions × 128 steps = 5120 env steps; rounds at 320, 384, …, 5120: 76 rounds × 2
        assert_eq!(m1.last("replay/updates"), Some(152.0));
        assert_eq!(m1.series("losses/td_abs").len(), 152);
        let size = m1.last("replay/size").unwrap();
        assert!(size > 4900.0 && size <= 5000.0, "replay holds {size}");
        assert_eq!(
            m1.series("losses/td_abs"),
            m2.series("losses/td_abs"),
            "metric streams differ"
        );
        // the greedy policy walks right everywhere, and values decay with distance to the goal
        for s in 0..N - 1 {
            assert!(q1[s * 2 + 1] > q1[s * 2], "n = {n_step}: state {s}: {q1:?}");
        }
        assert!(q1[(N - 2) * 2 + 1] > 0.5, "{q1:?}");
        assert!(!m1.series("charts/episodic_return").is_empty());
    }
}
