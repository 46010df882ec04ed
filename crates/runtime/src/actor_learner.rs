//! The actor–learner loop as one timely dataflow whose timestamps are policy versions.
//!
//! ```text
//!            ┌──────────────── feedback(+1) ◄──────────────────────────────┐
//!            ▼                                                             │
//! Params@v ─► Actor[w] ──Batch@v──► Exchange(→ worker 0) ──► Learner ──Params@v+1──► Broadcast
//! ```
//!
//! * Actors: every worker owns the shards `k ≡ worker (mod workers)`; shard `k` owns global envs
//!   `k·E .. (k+1)·E`, so the data of a shard never depends on where it runs. At version `v` an
//!   actor emits `batches_per_version` batches per shard, stamped `v`, then drops its capability
//!   and waits for the parameters of version `v + 1` (parked if they come early).
//! * Learner (worker 0; the other workers' instances idle): when its input frontier passes `v`
//!   (no batch of version `v` can still arrive) it consumes the batches of `v` in canonical
//!   `(shard, seq)` order, then publishes version `v + 1`. This `sync` schedule makes the final
//!   parameters and the metric stream bit-identical for any number of workers or processes.
//! * The initial parameters (version 0) are built on every worker from the same seed, so no
//!   message is needed to start.

use crate::RuntimeError;
use mirrorflow_core::{
    ActMode, AgentBuilder, EnvFactory, EnvShard, EnvSpec, Learner, MetricSink, ParamSnapshot,
    Policy, SeedStream, Timeline, TransitionBatch,
};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;
use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::{Exchange, Pipeline};
use timely::dataflow::operators::generic::operator::Operator;
use timely::dataflow::operators::vec::Broadcast;
use timely::dataflow::operators::{ConnectLoop, Feedback};
use timely::worker::Worker;

/// Shape of the loop: how envs are sharded and how much each version collects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoopPlan {
    /// Number of shards (placed round-robin on workers).
    pub num_shards: u32,
    /// Envs per shard.
    pub envs_per_shard: usize,
    /// Steps per env in one batch.
    pub steps_per_env: usize,
    /// Batches per shard per version.
    pub batches_per_version: usize,
    /// Versions to run (learner updates of the policy).
    pub versions: u64,
    /// Run seed.
    pub seed: u64,
}

impl LoopPlan {
    /// Env steps collected per version (all shards).
    pub fn steps_per_version(&self) -> u64 {
        self.num_shards as u64
            * (self.envs_per_shard * self.steps_per_env * self.batches_per_version) as u64
    }
}

/// A batch on its way to the learner.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BatchMsg {
    /// Shard that produced it.
    pub shard: u32,
    /// Position within the shard's batches of this version.
    pub seq: u32,
    /// Policy version that produced it (= the message's timestamp).
    pub version: u64,
    /// The transitions, or the env failure that stopped the shard.
    pub batch: Result<TransitionBatch, String>,
}

/// Parameters on their way to the actors.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ParamsMsg {
    /// Version these parameters are (the actors use them at this timestamp).
    pub version: u64,
    /// The parameters; shared, not copied, between workers of one process.
    pub params: Arc<ParamSnapshot>,
}

/// How the loop ended, as seen by the learner (worker 0).
#[derive(Clone, Debug, Default)]
pub struct LoopOutcome {
    /// Versions completed (learner publications).
    pub versions: u64,
    /// Env steps consumed by the learner.
    pub env_steps: u64,
    /// Final parameters.
    pub final_params: Option<ParamSnapshot>,
    /// Set when stopped on request.
    pub interrupted: bool,
    /// Set when an env or the learner failed.
    pub error: Option<String>,
}

/// Builds the loop in `worker`. Worker 0 gets the metric sink and the outcome.
pub fn build(
    worker: &mut Worker,
    plan: LoopPlan,
    spec: EnvSpec,
    envs: EnvFactory,
    builder: Arc<dyn AgentBuilder>,
    sink: Option<Box<dyn MetricSink>>,
    stop: Arc<AtomicBool>,
    progress: Arc<AtomicU64>,
) -> Result<Rc<RefCell<LoopOutcome>>, RuntimeError> {
    let index = worker.index();
    let peers = worker.peers();
    let seeds = SeedStream::new(plan.seed);
    let initial = builder
        .make_learner(&spec, seeds.learner())
        .map_err(RuntimeError::setup)?;
    let initial_params = Arc::new(initial.snapshot());
    let outcome = Rc::new(RefCell::new(LoopOutcome::default()));
    let learner: Option<Box<dyn Learner>> = (index == 0).then_some(initial);
    let my_shards: Vec<u32> = (0..plan.num_shards)
        .filter(|k| *k as usize % peers == index)
        .collect();
    let out = outcome.clone();

    worker.dataflow::<u64, _, _>(|scope| {
        let (handle, params_in) = scope.feedback::<Vec<ParamsMsg>>(1);

        // ---- actors -------------------------------------------------------------------------
        let actor_plan = plan.clone();
        let actor_spec = spec.clone();
        let actor_builder = builder.clone();
        let actor_progress = progress.clone();
        let batches = params_in.unary_frontier::<CapacityContainerBuilder<Vec<BatchMsg>>, _, _, _>(
            Pipeline,
            "Actor",
            move |cap, info| {
                let activator = scope.activator_for(info.address.clone());
                activator.activate();
                let plan = actor_plan;
                let mut cap = (!my_shards.is_empty()).then_some(cap);
                let mut shards: Vec<(u32, Result<EnvShard, String>)> = my_shards
                    .iter()
                    .map(|&k| {
                        let first = k as u64 * plan.envs_per_shard as u64;
                        (
                            k,
                            EnvShard::new(&envs, first, plan.envs_per_shard, seeds)
                                .map_err(|e| e.to_string()),
                        )
                    })
                    .collect();
                let mut policy: Result<Box<dyn Policy>, String> = actor_builder
                    .make_policy(&actor_spec, &initial_params)
                    .map_err(|e| e.to_string());
                let mut version = 0u64;
                let mut made = 0usize;
                let per_version = shards.len() * plan.batches_per_version;
                let mut parked: BTreeMap<
                    u64,
                    (
                        timely::dataflow::operators::Capability<u64>,
                        Arc<ParamSnapshot>,
                    ),
                > = BTreeMap::new();
                let mut batch = TransitionBatch::default();
                move |(input, _frontier), output| {
                    let port = output.output_index();
                    input.for_each_stamp(|icap, data| {
                        for v in data {
                            for p in v.drain(..) {
                                if p.version < plan.versions && !shards.is_empty() {
                                    if let Some(c) = icap.retain_least(port) {
                                        parked.insert(p.version, (c, p.params));
                                    }
                                }
                            }
                        }
                    });
                    if cap.is_none() {
                        if let Some((c, params)) = parked.remove(&(version + 1)) {
                            version += 1;
                            made = 0;
                            policy = actor_builder
                                .make_policy(&actor_spec, &params)
                                .map_err(|e| e.to_string());
                            cap = Some(c);
                        }
                    }
                    let Some(c) = cap.as_ref() else { return };
                    let (slot, seq) = (
                        made / plan.batches_per_version,
                        made % plan.batches_per_version,
                    );
                    let (k, shard) = &mut shards[slot];
                    let result = match (shard.as_mut(), policy.as_mut()) {
                        (Ok(shard), Ok(policy)) => {
                            batch.clear();
                            shard
                                .rollout(
                                    policy.as_mut(),
                                    ActMode::Explore,
                                    plan.steps_per_env,
                                    &mut batch,
                                )
                                .map(|()| std::mem::take(&mut batch))
                                .map_err(|e| e.to_string())
                        }
                        (Err(e), _) | (_, Err(e)) => Err(e.clone()),
                    };
                    output.session(c).give(BatchMsg {
                        shard: *k,
                        seq: seq as u32,
                        version,
                        batch: result,
                    });
                    made += 1;
                    actor_progress.fetch_add(1, Ordering::Relaxed);
                    if made == per_version {
                        cap = None;
                    } else {
                        activator.activate();
                    }
                }
            },
        );

        // ---- learner (worker 0) ---------------------------------------------------------------
        let mut learner = learner;
        let mut sink = sink;
        let steps_per_version = plan.steps_per_version();
        let versions = plan.versions;
        let params_out = batches
            .unary_frontier::<CapacityContainerBuilder<Vec<ParamsMsg>>, _, _, _>(
                Exchange::new(|_: &BatchMsg| 0u64),
                "Learner",
                move |cap, _info| {
                    let mut cap = (index == 0).then_some(cap);
                    let mut stash: BTreeMap<u64, Vec<BatchMsg>> = BTreeMap::new();
                    let mut env_steps = 0u64;
                    let mut clock = Instant::now();
                    move |(input, frontier), output| {
                        input.for_each_stamp(|_icap, data| {
                            for v in data {
                                for b in v.drain(..) {
                                    stash.entry(b.version).or_default().push(b);
                                }
                            }
                        });
                        let (Some(c), Some(learner), Some(sink)) =
                            (cap.as_mut(), learner.as_mut(), sink.as_mut())
                        else {
                            return;
                        };
                        let v = *c.time();
                        if frontier.frontier().iter().any(|&f| f <= v) {
                            return; // batches of version v may still arrive
                        }
                        progress.fetch_add(1, Ordering::Relaxed);
                        let mut got = stash.remove(&v).unwrap_or_default();
                        got.sort_by_key(|b| (b.shard, b.seq));
                        let mut failure = None;
                        for b in &got {
                            match &b.batch {
                                Ok(batch) => {
                                    env_steps += batch.len() as u64;
                                    if let Err(e) = learner.learn(batch, sink.as_mut()) {
                                        failure =
                                            Some(format!("learner failed at version {v}: {e}"));
                                        break;
                                    }
                                }
                                Err(e) => {
                                    failure = Some(format!(
                                        "shard {} failed at version {v}: {e}",
                                        b.shard
                                    ));
                                    break;
                                }
                            }
                        }
                        let next = v + 1;
                        let dt = clock.elapsed().as_secs_f64().max(1e-9);
                        clock = Instant::now();
                        sink.record(
                            Timeline::EnvSteps,
                            env_steps,
                            "system/sps",
                            steps_per_version as f64 / dt,
                        );
                        sink.record(Timeline::EnvSteps, env_steps, "system/policy_lag", 0.0);
                        sink.record(
                            Timeline::EnvSteps,
                            env_steps,
                            "system/policy_version",
                            next as f64,
                        );
                        let mut o = out.borrow_mut();
                        o.versions = next;
                        o.env_steps = env_steps;
                        let interrupted = stop.load(Ordering::Relaxed);
                        if failure.is_some() || interrupted || next >= versions {
                            o.error = failure;
                            o.interrupted = interrupted && next < versions;
                            o.final_params = Some(learner.snapshot());
                            sink.flush();
                            cap = None;
                            return;
                        }
                        output.session(&*c).give(ParamsMsg {
                            version: next,
                            params: Arc::new(learner.snapshot()),
                        });
                        c.downgrade(&next);
                    }
                },
            );
        params_out.broadcast().connect_loop(handle);
    });
    Ok(outcome)
}
