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
//! * Pipelining (`lag = L`): actors at version `t` use the parameters `p_{t−L}`, so acting
//!   overlaps learning; the data of version `v` trains `p_{v+1}`, used at `v+1+L`. Still exact.
//! * `Async` schedule: bounded staleness instead of lock-step (see [`Schedule::Async`]); the
//!   policy lag of every consumed batch is at most `lag` and is reported.
//! * Checkpoints (every `C` versions): actors attach their shard state to their first batch of
//!   version `c`; just before consuming `c` the learner holds its state after `c − 1`, the last
//!   `L + 1` published parameters and every shard's state at the start of `c` — a complete,
//!   version-aligned checkpoint, written by one writer. Resuming restores all of it and starts
//!   every capability at `c`, so the continuation is bit-identical. Envs that cannot save their
//!   state (Python envs) are checkpointed as "restart": on resume they begin fresh episodes
//!   seeded from the run seed and `c`, so only the learner side continues exactly.

use crate::RuntimeError;
use mirrorflow_core::codec::{Reader, Writer};
use mirrorflow_core::{
    ActMode, AgentBuilder, EnvFactory, EnvShard, EnvSpec, Frame, FrameCapture, Learner, MetricSink,
    ParamSnapshot, Policy, SeedStream, Timeline, TransitionBatch,
};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};

/// Seed-stream tag of envs restarted by a resume (envs without a saved state).
const RESTART_TAG: u64 = 0x0072_6573_7461_7274;
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
    /// Pipelining lag `L` (0 = lock-step).
    pub lag: u64,
    /// Checkpoint every this many versions (0 = never; sync schedule only).
    pub checkpoint_every: u64,
    /// Lock-step (`Sync`, deterministic) or bounded-staleness (`Async`).
    pub schedule: Schedule,
    /// Frames of env 0 of shard 0 for the dashboard (`None`: no rendering). Does not change
    /// the run's transitions.
    #[serde(default)]
    pub frames: Option<FrameCapture>,
    /// Deterministic evaluation episodes on worker 0 (`None`: no evaluation). Does not change
    /// the run's transitions.
    #[serde(default)]
    pub eval: Option<crate::EvalPlan>,
}

/// How actors and the learner are coupled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Schedule {
    /// Deterministic: version `v` is consumed in canonical order once all of it has arrived.
    #[default]
    Sync,
    /// Bounded asynchrony: actors act with the newest parameters they have, at most
    /// `batches_per_version` batches per shard per version (backpressure); the learner consumes
    /// batches in arrival order and publishes a new version every `num_shards` batches, but only
    /// while the slowest actor is at most `lag` versions behind. Not replayable.
    Async,
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
    /// The shard's state at the start of this version (first batch of a checkpoint version).
    pub shard_state: Option<Vec<u8>>,
    /// Global index of the worker that produced it.
    pub worker: u32,
    /// Wall-clock seconds the rollout took (for per-worker throughput).
    pub rollout_secs: f64,
}

/// Parameters on their way to the actors.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ParamsMsg {
    /// Actor version (timestamp) these parameters are for.
    pub version: u64,
    /// The parameters; shared, not copied, between workers of one process.
    pub params: Arc<ParamSnapshot>,
}

/// A complete, version-aligned checkpoint of the loop.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// Actors resume producing this version.
    pub version: u64,
    /// Env steps consumed before it.
    pub env_steps: u64,
    /// The learner's state after consuming `version − 1`.
    pub learner: ParamSnapshot,
    /// Parameters for actor versions `version − L ..= version` (`L + 1` of them).
    pub recent: Vec<ParamSnapshot>,
    /// Every shard's state at the start of `version`, by shard index.
    pub shards: Vec<(u32, Vec<u8>)>,
}

const CKPT_MAGIC: u64 = 0x0031_5450_4b43_464d; // "MFCKPT1"

impl Checkpoint {
    /// Serializes the checkpoint.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u64(CKPT_MAGIC)
            .u64(self.version)
            .u64(self.env_steps)
            .snapshot(&self.learner)
            .u64(self.recent.len() as u64);
        for p in &self.recent {
            w.snapshot(p);
        }
        w.u64(self.shards.len() as u64);
        for (k, b) in &self.shards {
            w.u64(*k as u64).bytes(b);
        }
        w.bytes
    }

    /// Parses a checkpoint; a truncated or corrupt file is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Self, mirrorflow_core::Error> {
        let mut r = Reader::new(bytes);
        if r.u64()? != CKPT_MAGIC {
            return Err(mirrorflow_core::Error::Snapshot(
                "not a mirrorflow checkpoint".into(),
            ));
        }
        let (version, env_steps) = (r.u64()?, r.u64()?);
        let learner = r.snapshot()?;
        let n = r.u64()?.min(1 << 20);
        let recent = (0..n).map(|_| r.snapshot()).collect::<Result<_, _>>()?;
        let m = r.u64()?.min(1 << 20);
        let shards = (0..m)
            .map(|_| Ok((r.u64()? as u32, r.bytes()?.to_vec())))
            .collect::<Result<_, mirrorflow_core::Error>>()?;
        if !r.is_empty() {
            return Err(mirrorflow_core::Error::Snapshot(
                "trailing bytes after the checkpoint".into(),
            ));
        }
        Ok(Self {
            version,
            env_steps,
            learner,
            recent,
            shards,
        })
    }
}

/// Where worker 0 writes checkpoints (the CLI writes files atomically into the run directory).
pub trait CheckpointSink {
    /// Stores the checkpoint of `version`; called after the metric sink was flushed.
    fn save(&mut self, version: u64, bytes: Vec<u8>) -> Result<(), String>;
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
    /// Checkpoints written.
    pub checkpoints: u64,
}

type Parked = BTreeMap<
    u64,
    (
        timely::dataflow::operators::Capability<u64>,
        Arc<ParamSnapshot>,
    ),
>;

/// Builds the loop in `worker`. Worker 0 gets the metric sink, the checkpoint sink and the
/// outcome. With `resume`, every piece restarts from that checkpoint.
pub fn build(
    worker: &mut Worker,
    plan: LoopPlan,
    spec: EnvSpec,
    envs: EnvFactory,
    builder: Arc<dyn AgentBuilder>,
    sink: Option<Box<dyn MetricSink>>,
    checkpoints: Option<Box<dyn CheckpointSink>>,
    resume: Option<Arc<Checkpoint>>,
    stop: Arc<AtomicBool>,
    progress: Arc<AtomicU64>,
) -> Result<Rc<RefCell<LoopOutcome>>, RuntimeError> {
    let index = worker.index();
    let peers = worker.peers();
    let seeds = SeedStream::new(plan.seed);
    let lag = plan.lag;
    let mut initial = crate::off_policy::make_learner(builder.as_ref(), &spec, seeds.learner())
        .map_err(RuntimeError::setup)?;
    let start = resume.as_ref().map_or(0, |c| c.version);
    // parameters for actor versions start − L ..= start
    let recent: VecDeque<Arc<ParamSnapshot>> = match &resume {
        Some(c) => {
            if c.recent.len() as u64 != lag + 1 {
                return Err(RuntimeError::setup(format!(
                    "the checkpoint holds {} recent parameter sets; lag {lag} needs {}",
                    c.recent.len(),
                    lag + 1
                )));
            }
            initial.restore(&c.learner).map_err(RuntimeError::setup)?;
            c.recent.iter().cloned().map(Arc::new).collect()
        }
        None => {
            let p0 = Arc::new(initial.snapshot());
            (0..=lag).map(|_| p0.clone()).collect()
        }
    };
    let outcome = Rc::new(RefCell::new(LoopOutcome {
        versions: start,
        env_steps: resume.as_ref().map_or(0, |c| c.env_steps),
        ..Default::default()
    }));
    let learner: Option<Box<dyn Learner>> = (index == 0).then_some(initial);
    let my_shards: Vec<u32> = (0..plan.num_shards)
        .filter(|k| *k as usize % peers == index)
        .collect();
    let out = outcome.clone();
    let mut shards: Vec<(u32, Result<EnvShard, String>)> = Vec::new();
    for &k in &my_shards {
        let first = k as u64 * plan.envs_per_shard as u64;
        // Envs that cannot save their state (Python envs) are checkpointed as "restart": on
        // resume they begin fresh episodes, seeded from the run seed and the checkpoint's
        // version (deterministic for a given checkpoint, not the uninterrupted trajectory).
        let state = match &resume {
            Some(c) => Some(
                c.shards
                    .iter()
                    .find(|(j, _)| *j == k)
                    .map(|(_, s)| s.as_slice())
                    .ok_or_else(|| {
                        RuntimeError::setup(format!(
                            "the checkpoint of version {} has no state for shard {k}",
                            c.version
                        ))
                    })?,
            ),
            None => None,
        };
        let shard_seeds = match (&resume, state) {
            (Some(c), Some([])) => SeedStream::new(seeds.custom(RESTART_TAG, c.version)),
            _ => seeds,
        };
        let mut shard = EnvShard::new(&envs, first, plan.envs_per_shard, shard_seeds)
            .map_err(|e| e.to_string());
        if let (Some(bytes @ [_, ..]), Ok(s)) = (state, shard.as_mut()) {
            s.load_state(bytes).map_err(RuntimeError::setup)?;
        }
        if let (0, Some(cfg), Ok(s)) = (k, plan.frames, shard.as_mut())
            && sink.as_ref().is_some_and(|s| s.wants_pictures())
        {
            s.capture_frames(cfg);
        }
        shards.push((k, shard));
    }
    let actor_params = recent[0].clone();
    // frames of shard 0 (worker 0), from the actor to the learner's sink on the same thread
    let frames: Rc<RefCell<Vec<(u64, Frame)>>> = Rc::default();
    let actor_frames = frames.clone();

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
            move |mut cap, info| {
                let activator = scope.activator_for(info.address.clone());
                activator.activate();
                let plan = actor_plan;
                cap.downgrade(&start);
                let mut cap = (!shards.is_empty() && start < plan.versions).then_some(cap);
                let mut policy: Result<Box<dyn Policy>, String> = actor_builder
                    .make_policy(&actor_spec, &actor_params)
                    .map_err(|e| e.to_string());
                let mut version = start;
                let mut made = 0usize;
                let per_version = shards.len() * plan.batches_per_version;
                let mut parked: Parked = BTreeMap::new();
                move |(input, _frontier), output| {
                    let port = output.output_index();
                    let async_mode = plan.schedule == Schedule::Async;
                    input.for_each_stamp(|icap, data| {
                        for v in data {
                            for p in v.drain(..) {
                                if (async_mode || p.version < plan.versions)
                                    && !shards.is_empty()
                                    && let Some(c) = icap.retain_least(port)
                                {
                                    parked.insert(p.version, (c, p.params));
                                }
                            }
                        }
                    });
                    if async_mode {
                        // adopt the newest parameters; older parked ones (and their
                        // capabilities) are dropped
                        let newest = parked
                            .last_key_value()
                            .map(|(k, _)| *k)
                            .filter(|&k| k > version);
                        if let Some(k) = newest
                            && let Some((c, params)) = parked.remove(&k)
                        {
                            parked.clear();
                            version = k;
                            made = 0;
                            policy = actor_builder
                                .make_policy(&actor_spec, &params)
                                .map_err(|e| e.to_string());
                            cap = Some(c);
                        }
                    } else if cap.is_none()
                        && let Some((c, params)) = parked.remove(&(version + 1))
                    {
                        version += 1;
                        made = 0;
                        policy = actor_builder
                            .make_policy(&actor_spec, &params)
                            .map_err(|e| e.to_string());
                        cap = Some(c);
                    }
                    let Some(c) = cap.as_ref() else { return };
                    let (slot, seq) = if async_mode {
                        (made % shards.len(), made / shards.len())
                    } else {
                        (
                            made / plan.batches_per_version,
                            made % plan.batches_per_version,
                        )
                    };
                    let (k, shard) = &mut shards[slot];
                    let checkpoint = plan.checkpoint_every > 0
                        && !async_mode
                        && version > start
                        && version.is_multiple_of(plan.checkpoint_every);
                    let shard_state = match (&*shard, seq, checkpoint) {
                        // empty: the envs restart on resume (they cannot save their state)
                        (Ok(s), 0, true) => Some(s.save_state().unwrap_or_default()),
                        _ => None,
                    };
                    let rollout_start = Instant::now();
                    let result = match (shard.as_mut(), policy.as_mut()) {
                        (Ok(shard), Ok(policy)) => {
                            // one allocation per array: the batch is handed over, not reused
                            let mut batch = TransitionBatch::with_capacity(
                                actor_spec.obs_dim(),
                                actor_spec.act_dim(),
                                plan.envs_per_shard * plan.steps_per_env,
                            );
                            shard
                                .rollout(
                                    policy.as_mut(),
                                    ActMode::Explore,
                                    plan.steps_per_env,
                                    &mut batch,
                                )
                                .map(|()| batch)
                                .map_err(|e| e.to_string())
                        }
                        (Err(e), _) | (_, Err(e)) => Err(e.clone()),
                    };
                    let rollout_secs = rollout_start.elapsed().as_secs_f64();
                    if *k == 0
                        && let Ok(shard) = shard.as_mut()
                    {
                        let scale = plan.num_shards as u64;
                        actor_frames.borrow_mut().extend(
                            shard
                                .take_frames()
                                .into_iter()
                                .map(|(st, f)| (st * scale, f)),
                        );
                    }
                    output.session(c).give(BatchMsg {
                        shard: *k,
                        seq: seq as u32,
                        version,
                        batch: result,
                        shard_state,
                        worker: index as u32,
                        rollout_secs,
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
        let mut checkpoints = checkpoints;
        let steps_per_version = plan.steps_per_version();
        let versions = plan.versions;
        let every = if plan.schedule == Schedule::Sync {
            plan.checkpoint_every
        } else {
            0
        };
        let schedule = plan.schedule;
        let eval_plan = plan.eval;
        let (eval_envs, eval_builder, eval_spec) = (envs.clone(), builder.clone(), spec.clone());
        let num_shards = plan.num_shards as usize;
        let batch_steps = plan.envs_per_shard * plan.steps_per_env;
        let params_out = batches
            .unary_frontier::<CapacityContainerBuilder<Vec<ParamsMsg>>, _, _, _>(
                Exchange::new(|_: &BatchMsg| 0u64),
                "Learner",
                move |mut cap, _info| {
                    cap.downgrade(&start);
                    let mut cap = (index == 0 && start < versions).then_some(cap);
                    let mut stash: BTreeMap<u64, Vec<BatchMsg>> = BTreeMap::new();
                    let mut recent = recent;
                    // parameters still to publish for actor versions start + 1 ..= start + L
                    let mut pending: VecDeque<Arc<ParamSnapshot>> = match schedule {
                        Schedule::Sync => recent.iter().skip(1).cloned().collect(),
                        Schedule::Async => VecDeque::new(),
                    };
                    let mut arrivals: Vec<BatchMsg> = Vec::new();
                    // per worker: (env steps, rollout seconds) since the last report
                    let mut per_worker: BTreeMap<u32, (u64, f64)> = BTreeMap::new();
                    let (mut since_publish, mut lag_sum, mut lag_max) = (0usize, 0u64, 0u64);
                    let mut next_consume = start;
                    let mut env_steps = out.borrow().env_steps;
                    let mut clock = Instant::now();
                    // evaluation: due when env steps cross a multiple of `every_steps`, and at the end
                    let mut eval_block = eval_plan.map_or(0, |e| env_steps / e.every_steps.max(1));
                    let mut evaluate_if_due =
                        move |learner: &dyn Learner,
                              sink: &mut dyn MetricSink,
                              env_steps: u64,
                              last: bool| {
                            let Some(e) = eval_plan else { return };
                            let block = env_steps.checked_div(e.every_steps).unwrap_or(0);
                            if block > eval_block || last {
                                eval_block = block;
                                run_evaluation(
                                    &eval_builder,
                                    &eval_spec,
                                    &eval_envs,
                                    seeds,
                                    e.episodes,
                                    &learner.snapshot(),
                                    sink,
                                    env_steps,
                                );
                            }
                        };
                    move |(input, frontier), output| {
                        input.for_each_stamp(|_icap, data| {
                            for v in data {
                                for b in v.drain(..) {
                                    match schedule {
                                        Schedule::Sync => {
                                            stash.entry(b.version).or_default().push(b)
                                        }
                                        Schedule::Async => arrivals.push(b),
                                    }
                                }
                            }
                        });
                        if schedule == Schedule::Async {
                            let (Some(c), Some(learner), Some(sink)) =
                                (cap.as_mut(), learner.as_mut(), sink.as_mut())
                            else {
                                arrivals.clear();
                                return;
                            };
                            let now = *c.time();
                            let mut failure = None;
                            for b in arrivals.drain(..) {
                                match &b.batch {
                                    Ok(batch) => {
                                        env_steps += batch.len() as u64;
                                        let w = per_worker.entry(b.worker).or_default();
                                        (w.0, w.1) =
                                            (w.0 + batch.len() as u64, w.1 + b.rollout_secs);
                                        let staleness = now.saturating_sub(b.version);
                                        lag_sum += staleness;
                                        lag_max = lag_max.max(staleness);
                                        since_publish += 1;
                                        progress.fetch_add(1, Ordering::Relaxed);
                                        if let Err(e) = learner.learn(batch, sink.as_mut()) {
                                            failure = Some(format!(
                                                "learner failed at version {now}: {e}"
                                            ));
                                            break;
                                        }
                                    }
                                    Err(e) => {
                                        failure = Some(format!(
                                            "shard {} failed at version {}: {e}",
                                            b.shard, b.version
                                        ));
                                        break;
                                    }
                                }
                            }
                            let f = frontier.frontier().iter().min().copied();
                            let budget_done = env_steps >= versions * steps_per_version;
                            let interrupted = stop.load(Ordering::Relaxed);
                            if failure.is_some() || interrupted || budget_done {
                                if failure.is_none() {
                                    evaluate_if_due(
                                        learner.as_ref(),
                                        sink.as_mut(),
                                        env_steps,
                                        true,
                                    );
                                }
                                let mut o = out.borrow_mut();
                                o.versions = now;
                                o.env_steps = env_steps;
                                o.error = failure;
                                o.interrupted = interrupted && !budget_done;
                                o.final_params = Some(learner.snapshot());
                                sink.flush();
                                cap = None;
                                return;
                            }
                            let may_advance = f.is_none_or(|f| f + lag > now);
                            let all_waiting = f.is_none_or(|f| f > now);
                            if (since_publish >= num_shards && may_advance) || all_waiting {
                                if since_publish > 0 {
                                    let dt = clock.elapsed().as_secs_f64().max(1e-9);
                                    clock = Instant::now();
                                    let steps = (since_publish as f64) * batch_steps as f64;
                                    sink.record(
                                        Timeline::EnvSteps,
                                        env_steps,
                                        "system/sps",
                                        steps / dt,
                                    );
                                    sink.record(
                                        Timeline::EnvSteps,
                                        env_steps,
                                        "system/policy_lag",
                                        lag_sum as f64 / since_publish as f64,
                                    );
                                    sink.record(
                                        Timeline::EnvSteps,
                                        env_steps,
                                        "system/policy_lag_max",
                                        lag_max as f64,
                                    );
                                }
                                sink.record(
                                    Timeline::EnvSteps,
                                    env_steps,
                                    "system/policy_version",
                                    (now + 1) as f64,
                                );
                                report_workers(sink.as_mut(), env_steps, &mut per_worker);
                                send_frames(sink.as_mut(), &frames);
                                (since_publish, lag_sum, lag_max) = (0, 0, 0);
                                out.borrow_mut().versions = now + 1;
                                output.session(&*c).give(ParamsMsg {
                                    version: now + 1,
                                    params: Arc::new(learner.snapshot()),
                                });
                                c.downgrade(&(now + 1));
                            }
                            return;
                        }
                        loop {
                            let (Some(c), Some(learner), Some(sink)) =
                                (cap.as_mut(), learner.as_mut(), sink.as_mut())
                            else {
                                return;
                            };
                            let now = *c.time();
                            if let Some(p) = pending.pop_front() {
                                output.session(&*c).give(ParamsMsg {
                                    version: now + 1,
                                    params: p,
                                });
                                c.downgrade(&(now + 1));
                                continue;
                            }
                            let v = next_consume;
                            if frontier.frontier().iter().any(|&f| f <= v) {
                                return; // batches of version v may still arrive
                            }
                            progress.fetch_add(1, Ordering::Relaxed);
                            let mut got = stash.remove(&v).unwrap_or_default();
                            got.sort_by_key(|b| (b.shard, b.seq));
                            let mut failure = None;
                            if every > 0 && v > start && v.is_multiple_of(every) {
                                let shards: Vec<(u32, Vec<u8>)> = got
                                    .iter()
                                    .filter_map(|b| b.shard_state.clone().map(|s| (b.shard, s)))
                                    .collect();
                                let ckpt = Checkpoint {
                                    version: v,
                                    env_steps,
                                    learner: learner.state(),
                                    recent: recent.iter().map(|p| (**p).clone()).collect(),
                                    shards,
                                };
                                sink.flush();
                                if let Some(w) = checkpoints.as_mut() {
                                    match w.save(v, ckpt.encode()) {
                                        Ok(()) => {
                                            out.borrow_mut().checkpoints += 1;
                                            sink.event(&format!(
                                                "checkpoint written at version {v}"
                                            ));
                                        }
                                        Err(e) => sink.event(&format!(
                                            "checkpoint at version {v} failed: {e}"
                                        )),
                                    }
                                }
                            }
                            for b in &got {
                                match &b.batch {
                                    Ok(batch) => {
                                        env_steps += batch.len() as u64;
                                        let w = per_worker.entry(b.worker).or_default();
                                        (w.0, w.1) =
                                            (w.0 + batch.len() as u64, w.1 + b.rollout_secs);
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
                            next_consume = v + 1;
                            if failure.is_none() {
                                let last = v + 1 >= versions || stop.load(Ordering::Relaxed);
                                evaluate_if_due(learner.as_ref(), sink.as_mut(), env_steps, last);
                            }
                            let dt = clock.elapsed().as_secs_f64().max(1e-9);
                            clock = Instant::now();
                            sink.record(
                                Timeline::EnvSteps,
                                env_steps,
                                "system/sps",
                                steps_per_version as f64 / dt,
                            );
                            sink.record(
                                Timeline::EnvSteps,
                                env_steps,
                                "system/policy_lag",
                                lag as f64,
                            );
                            sink.record(
                                Timeline::EnvSteps,
                                env_steps,
                                "system/policy_version",
                                (v + 1) as f64,
                            );
                            report_workers(sink.as_mut(), env_steps, &mut per_worker);
                            send_frames(sink.as_mut(), &frames);
                            let mut o = out.borrow_mut();
                            o.versions = v + 1;
                            o.env_steps = env_steps;
                            let interrupted = stop.load(Ordering::Relaxed);
                            if failure.is_some() || interrupted || v + 1 >= versions {
                                o.error = failure;
                                o.interrupted = interrupted && v + 1 < versions;
                                o.final_params = Some(learner.snapshot());
                                sink.flush();
                                cap = None;
                                return;
                            }
                            let p = Arc::new(learner.snapshot());
                            recent.push_back(p.clone());
                            while recent.len() as u64 > lag + 1 {
                                recent.pop_front();
                            }
                            output.session(&*c).give(ParamsMsg {
                                version: now + 1,
                                params: p,
                            });
                            c.downgrade(&(now + 1));
                        }
                    }
                },
            );
        params_out.broadcast().connect_loop(handle);
    });
    Ok(outcome)
}

/// Plays the evaluation episodes with the parameters `params` and records `eval/mean_return`,
/// `eval/std_return` and `eval/mean_length` at `env_steps`; a failure is reported as an event.
fn run_evaluation(
    builder: &Arc<dyn AgentBuilder>,
    spec: &EnvSpec,
    envs: &EnvFactory,
    seeds: SeedStream,
    episodes: u32,
    params: &ParamSnapshot,
    sink: &mut dyn MetricSink,
    env_steps: u64,
) {
    let result = builder
        .make_policy(spec, params)
        .map_err(|e| e.to_string())
        .and_then(|mut p| crate::evaluate(envs, p.as_mut(), seeds, episodes));
    match result {
        Ok(r) => {
            let t = Timeline::EnvSteps;
            sink.record(t, env_steps, "eval/mean_return", r.mean());
            sink.record(t, env_steps, "eval/std_return", r.std());
            sink.record(t, env_steps, "eval/mean_length", r.mean_length());
        }
        Err(e) => sink.event(&format!("evaluation at {env_steps} env steps failed: {e}")),
    }
}

/// Records `system/worker_<w>/sps` (env steps per second of rollout time) for every worker
/// heard from since the last report, then resets the tallies.
/// Hands the frames rendered since the last version to the sink (entity `frames`).
fn send_frames(sink: &mut dyn MetricSink, frames: &RefCell<Vec<(u64, Frame)>>) {
    for (step, frame) in frames.borrow_mut().drain(..) {
        sink.image(Timeline::EnvSteps, step, "frames", &frame);
    }
}

fn report_workers(
    sink: &mut dyn MetricSink,
    env_steps: u64,
    per_worker: &mut BTreeMap<u32, (u64, f64)>,
) {
    for (w, (steps, secs)) in std::mem::take(per_worker) {
        if secs > 0.0 {
            sink.record(
                Timeline::EnvSteps,
                env_steps,
                &format!("system/worker_{w}/sps"),
                steps as f64 / secs,
            );
        }
    }
}
