//! # mirrorflow-runtime
//!
//! Runs agents. Generic over the core traits; never names a concrete env or agent (rule R5).
//!
//! * [`run_planner`]: drives a [`Planner`] (exact tabular methods) for a number of iterations,
//!   stopping cleanly when asked (Ctrl-C).
//!
//! * [`actor_learner`] + [`run_workers`]: the timely actor–learner loop (sharded rollouts over
//!   worker threads; processes and hosts through the same dataflow). One worker is the local
//!   single-threaded case of the same code path.
//! * [`online`]: data-parallel online learning — an example stream sharded over workers, local
//!   updates, periodic deterministic weight averaging (an all-reduce through timely).
#![deny(missing_docs)]

pub mod actor_learner;
pub mod cluster;
pub mod eval;
pub mod off_policy;
pub mod online;

pub use actor_learner::{Checkpoint, CheckpointSink, LoopOutcome, LoopPlan, Schedule};
pub use eval::{EvalPlan, EvalResult, evaluate};
use mirrorflow_core::{AgentBuilder, EnvFactory, EnvSpec};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mirrorflow_core::{Error, MetricSink, Planner, Timeline};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use thiserror::Error;

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// All requested work was done.
    Completed,
    /// Stopped early on request (Ctrl-C); everything done so far is kept.
    Interrupted,
}

impl Status {
    /// `completed` / `interrupted`, as written to `summary.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Completed => "completed",
            Status::Interrupted => "interrupted",
        }
    }
}

/// Result of a finished (or stopped) run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// How it ended.
    pub status: Status,
    /// Learner iterations done.
    pub learner_steps: u64,
    /// Environment steps taken.
    pub env_steps: u64,
    /// Wall-clock seconds.
    pub wall_secs: f64,
}

/// Run failures.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// Building the agent or the envs failed before the loop started.
    #[error("setting up the run failed: {0}")]
    Setup(String),
    /// The process mesh could not be formed (deadline, refused handshake, bad address).
    #[error("cluster: {0}")]
    Rendezvous(String),
    /// A timely worker or the communication layer failed.
    #[error("worker failed: {0}")]
    Worker(String),
    /// The agent or an env failed.
    #[error("iteration {iteration}: {source}")]
    Agent {
        /// Iteration at which it failed.
        iteration: u64,
        /// The failure.
        source: Error,
    },
}

impl RuntimeError {
    pub(crate) fn setup(e: impl std::fmt::Display) -> Self {
        RuntimeError::Setup(e.to_string())
    }
}

/// A metric sink that can be handed to the worker thread that runs the learner.
pub type SendSink = Box<dyn MetricSink + Send>;

/// Where the workers of a run live.
#[derive(Clone, Debug)]
pub enum Placement {
    /// `n` worker threads in this process (1 = a single thread, the local runner).
    Threads(usize),
    /// One process of a multi-process (multi-host) cluster.
    Cluster(cluster::ClusterSpec),
}

/// Runs the actor–learner loop. The sink receives the learner's metrics on global worker 0
/// (process 0); the returned outcome is `Some` there and `None` in the other processes.
/// `watchdog` (if set) ends the process when no batch or version is made for that long.
pub fn run_loop(
    placement: Placement,
    plan: LoopPlan,
    spec: EnvSpec,
    envs: EnvFactory,
    builder: Arc<dyn AgentBuilder>,
    sink: SendSink,
    checkpoints: Option<Box<dyn CheckpointSink + Send>>,
    resume: Option<Checkpoint>,
    stop: Arc<AtomicBool>,
    watchdog: Option<Duration>,
) -> Result<Option<LoopOutcome>, RuntimeError> {
    let progress = Arc::new(AtomicU64::new(0));
    let sink = Arc::new(Mutex::new(Some(sink)));
    let checkpoints = Arc::new(Mutex::new(checkpoints));
    let resume = resume.map(Arc::new);
    let p = progress.clone();
    let work = move |worker: &mut timely::worker::Worker| {
        let my_sink = if worker.index() == 0 {
            sink.lock()
                .ok()
                .and_then(|mut s| s.take())
                .map(|s| s as Box<dyn MetricSink>)
        } else {
            None
        };
        let my_ckpt = if worker.index() == 0 {
            checkpoints
                .lock()
                .ok()
                .and_then(|mut s| s.take())
                .map(|s| s as Box<dyn CheckpointSink>)
        } else {
            None
        };
        let outcome = actor_learner::build(
            worker,
            plan.clone(),
            spec.clone(),
            envs.clone(),
            builder.clone(),
            my_sink,
            my_ckpt,
            resume.clone(),
            stop.clone(),
            p.clone(),
        );
        while worker.has_dataflows() {
            worker.step_or_park(None);
        }
        outcome.map(|o| (worker.index() == 0).then(|| o.borrow().clone()))
    };
    let (guards, me) = spawn(placement, work)?;
    let disarm = watchdog.map(|limit| cluster::start_watchdog(me, progress.clone(), limit));
    let mut result = None;
    for r in guards.join() {
        match r {
            Ok(Ok(Some(o))) => result = Some(o),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => return Err(e),
            Err(panic) => return Err(RuntimeError::Worker(panic)),
        }
    }
    if let Some(d) = disarm {
        d.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(result)
}

/// Starts the timely workers of `placement` running `work`; returns their guards and this
/// process's index in the cluster (0 for threads).
pub(crate) fn spawn<T, F>(
    placement: Placement,
    work: F,
) -> Result<(timely::communication::WorkerGuards<T>, usize), RuntimeError>
where
    T: Send + 'static,
    F: Fn(&mut timely::worker::Worker) -> T + Send + Sync + 'static,
{
    Ok(match placement {
        Placement::Threads(n) => {
            let config = if n <= 1 {
                timely::Config::thread()
            } else {
                timely::Config::process(n)
            };
            (
                timely::execute(config, work).map_err(RuntimeError::Worker)?,
                0,
            )
        }
        Placement::Cluster(c) => {
            let sockets = cluster::form_mesh(&c)?;
            cluster::install_peer_failure_hook(c.process_id);
            let hooks = timely::communication::Hooks::default();
            let procs = timely::communication::allocator::ProcessBuilder::new_typed_vector(
                c.threads,
                hooks.refill.clone(),
                hooks.spill.clone(),
            );
            let (builders, guard) =
                timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets(
                    procs,
                    sockets,
                    c.process_id,
                    c.threads,
                    hooks,
                )
                .map_err(|e| RuntimeError::Worker(format!("starting the network threads failed: {e}")))?;
            let builders = builders
                .into_iter()
                .map(timely::communication::allocator::AllocatorBuilder::Tcp)
                .collect();
            let guards = timely::execute::execute_from(
                builders,
                Box::new(guard),
                timely::WorkerConfig::default(),
                work,
            )
            .map_err(RuntimeError::Worker)?;
            (guards, c.process_id)
        }
    })
}

/// [`run_loop`] on `workers` threads of this process, returning worker 0's outcome.
pub fn run_workers(
    workers: usize,
    plan: LoopPlan,
    spec: EnvSpec,
    envs: EnvFactory,
    builder: Arc<dyn AgentBuilder>,
    sink: SendSink,
    stop: Arc<AtomicBool>,
) -> Result<LoopOutcome, RuntimeError> {
    run_loop(
        Placement::Threads(workers),
        plan,
        spec,
        envs,
        builder,
        sink,
        None,
        None,
        stop,
        None,
    )?
    .ok_or_else(|| RuntimeError::Worker("worker 0 returned no outcome".into()))
}

/// Largest table (rows × columns) sent to a dashboard as a picture.
pub const MAX_PICTURE_CELLS: usize = 1 << 18;

fn send_pictures(planner: &dyn Planner, metrics: &mut dyn MetricSink) {
    let k = planner.iterations();
    for (name, a) in planner.artifacts() {
        if a.rows * a.cols > MAX_PICTURE_CELLS {
            continue;
        }
        match (name.as_str(), a.cols) {
            ("policy", _) => metrics.matrix(
                Timeline::LearnerSteps,
                k,
                "tabular/policy",
                a.rows,
                a.cols,
                &a.data,
            ),
            ("values", 1) => metrics.bars(Timeline::LearnerSteps, k, "tabular/values", &a.data),
            _ => {}
        }
    }
}

/// Runs `planner` until it has done `iterations` iterations or `stop` is set. Records
/// `system/iterations_per_sec` about once a second and calls [`Planner::finish`] at the end
/// (also when interrupted) so final metrics are always there.
///
/// When the sink shows pictures, the planner's artifacts are sent about 50 times per run (and
/// after the last iteration): `policy` as a heatmap `tabular/policy`, `values` (one column) as a
/// bar chart `tabular/values`; tables over [`MAX_PICTURE_CELLS`] cells are left out.
pub fn run_planner(
    planner: &mut dyn Planner,
    iterations: u64,
    metrics: &mut dyn MetricSink,
    stop: &AtomicBool,
) -> Result<Outcome, RuntimeError> {
    let start = Instant::now();
    let (mut last_t, mut last_k) = (Instant::now(), planner.iterations());
    let mut status = Status::Completed;
    while planner.iterations() < iterations {
        if stop.load(Ordering::Relaxed) {
            status = Status::Interrupted;
            metrics.event(&format!(
                "interrupted at iteration {}",
                planner.iterations()
            ));
            break;
        }
        let iteration = planner.iterations() + 1;
        planner
            .iterate(metrics)
            .map_err(|source| RuntimeError::Agent { iteration, source })?;
        let k = planner.iterations();
        if metrics.wants_pictures()
            && (k.is_multiple_of(iterations.div_ceil(50)) || k == iterations)
        {
            send_pictures(planner, metrics);
        }
        let dt = last_t.elapsed().as_secs_f64();
        if dt >= 1.0 || planner.iterations() == iterations {
            let k = planner.iterations();
            metrics.record(
                Timeline::LearnerSteps,
                k,
                "system/iterations_per_sec",
                (k - last_k) as f64 / dt.max(1e-9),
            );
            (last_t, last_k) = (Instant::now(), k);
        }
    }
    planner
        .finish(metrics)
        .map_err(|source| RuntimeError::Agent {
            iteration: planner.iterations(),
            source,
        })?;
    metrics.flush();
    Ok(Outcome {
        status,
        learner_steps: planner.iterations(),
        env_steps: 0,
        wall_secs: start.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirrorflow_core::ParamSnapshot;
    use mirrorflow_core::metrics::MemorySink;

    struct Count(u64);
    impl Planner for Count {
        fn iterate(&mut self, m: &mut dyn MetricSink) -> Result<(), Error> {
            self.0 += 1;
            m.record(Timeline::LearnerSteps, self.0, "x", self.0 as f64);
            if self.0 == 99 {
                Err(Error::Learner("boom".into()))
            } else {
                Ok(())
            }
        }
        fn iterations(&self) -> u64 {
            self.0
        }
        fn snapshot(&self) -> ParamSnapshot {
            ParamSnapshot::default()
        }
    }

    #[test]
    fn runs_stops_and_fails() {
        let mut sink = MemorySink::default();
        let out = run_planner(&mut Count(0), 10, &mut sink, &AtomicBool::new(false)).unwrap();
        assert_eq!((out.status, out.learner_steps), (Status::Completed, 10));
        assert_eq!(sink.last("x"), Some(10.0));
        let out = run_planner(&mut Count(0), 10, &mut sink, &AtomicBool::new(true)).unwrap();
        assert_eq!((out.status, out.learner_steps), (Status::Interrupted, 0));
        let err = run_planner(&mut Count(0), 1000, &mut sink, &AtomicBool::new(false)).unwrap_err();
        assert!(
            err.to_string()
                .contains("iteration 99: learner failed: boom")
        );
    }

    /// Counts the pictures it is sent.
    #[derive(Default)]
    struct Pictures {
        matrices: Vec<(u64, usize, usize)>,
        bars: usize,
    }
    impl MetricSink for Pictures {
        fn record(&mut self, _: Timeline, _: u64, _: &str, _: f64) {}
        fn matrix(&mut self, _: Timeline, k: u64, n: &str, r: usize, c: usize, v: &[f64]) {
            assert_eq!((n, v.len()), ("tabular/policy", r * c));
            self.matrices.push((k, r, c));
        }
        fn bars(&mut self, _: Timeline, _: u64, _: &str, _: &[f64]) {
            self.bars += 1;
        }
        fn wants_pictures(&self) -> bool {
            true
        }
    }

    struct WithPolicy(Count);
    impl Planner for WithPolicy {
        fn iterate(&mut self, m: &mut dyn MetricSink) -> Result<(), Error> {
            self.0.iterate(m)
        }
        fn iterations(&self) -> u64 {
            self.0.iterations()
        }
        fn snapshot(&self) -> ParamSnapshot {
            ParamSnapshot::default()
        }
        fn artifacts(&self) -> Vec<(String, mirrorflow_core::Array2)> {
            let policy = mirrorflow_core::Array2 {
                rows: 3,
                cols: 2,
                data: vec![0.5; 6],
            };
            let huge = mirrorflow_core::Array2 {
                rows: MAX_PICTURE_CELLS + 1,
                cols: 1,
                data: vec![0.0; MAX_PICTURE_CELLS + 1],
            };
            vec![("policy".into(), policy), ("values".into(), huge)]
        }
    }

    #[test]
    fn planners_send_about_fifty_pictures_and_skip_huge_tables() {
        let mut sink = Pictures::default();
        run_planner(
            &mut WithPolicy(Count(0)),
            98,
            &mut sink,
            &AtomicBool::new(false),
        )
        .unwrap();
        // every 2nd iteration: 49 pictures, the last one at iteration 98
        assert_eq!(sink.matrices.len(), 49);
        assert_eq!(sink.matrices.last(), Some(&(98, 3, 2)));
        assert_eq!(sink.bars, 0, "tables over MAX_PICTURE_CELLS are not sent");
    }
}
