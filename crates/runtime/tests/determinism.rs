//! The sync schedule gives bit-identical parameters and metric streams for any worker count,
//! with or without pipelining, and a resumed run continues exactly.
#![allow(clippy::unwrap_used, reason = "tests")]

use mirrorflow_agent_policy_gradient::{A2cBuilder, A2cConfig};
use mirrorflow_core::metrics::{MemorySink, Record};
use mirrorflow_core::{Env, EnvFactory, MetricSink, Timeline};
use mirrorflow_env_classic::CartPole;
use mirrorflow_runtime::{
    Checkpoint, CheckpointSink, LoopOutcome, LoopPlan, Placement, Schedule, run_loop,
};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<MemorySink>>);
impl MetricSink for Shared {
    fn record(&mut self, t: Timeline, s: u64, n: &str, v: f64) {
        self.0.lock().unwrap().record(t, s, n, v);
    }
}

type Saved = Vec<(u64, Vec<u8>)>;

#[derive(Clone, Default)]
struct Store(Arc<Mutex<Saved>>);
impl CheckpointSink for Store {
    fn save(&mut self, version: u64, bytes: Vec<u8>) -> Result<(), String> {
        self.0.lock().unwrap().push((version, bytes));
        Ok(())
    }
}

fn plan(versions: u64, lag: u64, every: u64) -> LoopPlan {
    LoopPlan {
        num_shards: 4,
        envs_per_shard: 4,
        steps_per_env: 32,
        batches_per_version: 2,
        versions,
        seed: 7,
        lag,
        checkpoint_every: every,
        schedule: Schedule::Sync,
        frames: None,
        eval: None,
    }
}

fn run(
    workers: usize,
    plan: LoopPlan,
    store: Option<Store>,
    resume: Option<Checkpoint>,
) -> (LoopOutcome, Vec<Record>) {
    let envs: EnvFactory = Arc::new(|_| Ok(Box::new(CartPole::default()) as Box<dyn Env>));
    let spec = CartPole::default().spec().clone();
    let sink = Shared::default();
    let out = run_loop(
        Placement::Threads(workers),
        plan,
        spec,
        envs,
        Arc::new(A2cBuilder {
            cfg: A2cConfig::default(),
        }),
        Box::new(sink.clone()),
        store.map(|s| Box::new(s) as Box<dyn CheckpointSink + Send>),
        resume,
        Arc::new(AtomicBool::new(false)),
        None,
    )
    .unwrap()
    .unwrap();
    let recs = sink
        .0
        .lock()
        .unwrap()
        .records
        .iter()
        .filter(|r| !r.name.starts_with("system/"))
        .cloned()
        .collect();
    (out, recs)
}

#[test]
fn one_two_and_three_workers_agree_bit_for_bit() {
    for lag in [0, 1, 2] {
        let (a, ra) = run(1, plan(40, lag, 0), None, None);
        let (b, rb) = run(2, plan(40, lag, 0), None, None);
        let (c, rc) = run(3, plan(40, lag, 0), None, None);
        assert_eq!(a.versions, 40);
        assert_eq!(a.env_steps, 40 * 4 * 4 * 32 * 2);
        assert!(a.error.is_none() && !a.interrupted);
        assert_eq!(a.final_params, b.final_params, "lag {lag}");
        assert_eq!(a.final_params, c.final_params, "lag {lag}");
        assert_eq!(ra, rb);
        assert_eq!(ra, rc);
        assert!(ra.iter().any(|r| r.name == "charts/episodic_return"));
    }
    // pipelining changes the result (actors use older parameters), deterministically
    assert_ne!(
        run(1, plan(40, 0, 0), None, None).0.final_params,
        run(1, plan(40, 1, 0), None, None).0.final_params
    );
}

#[test]
fn resuming_from_a_checkpoint_is_bit_identical() {
    for lag in [0, 1] {
        let (full, full_recs) = run(2, plan(40, lag, 0), None, None);
        let store = Store::default();
        let (with_ckpt, recs) = run(1, plan(40, lag, 10), Some(store.clone()), None);
        assert_eq!(
            with_ckpt.final_params, full.final_params,
            "checkpointing must not change the run"
        );
        assert_eq!(with_ckpt.checkpoints, 3);
        assert_eq!(recs, full_recs);
        let saved = store.0.lock().unwrap().clone();
        assert_eq!(
            saved.iter().map(|s| s.0).collect::<Vec<_>>(),
            vec![10, 20, 30]
        );
        let ckpt = Checkpoint::decode(&saved[1].1).unwrap();
        assert_eq!(ckpt.version, 20);
        assert_eq!(ckpt.shards.len(), 4);
        assert_eq!(ckpt.recent.len() as u64, lag + 1);
        // resume on another placement: 3 workers
        let (resumed, tail) = run(3, plan(40, lag, 10), None, Some(ckpt.clone()));
        assert_eq!(resumed.final_params, full.final_params, "lag {lag}");
        assert_eq!(resumed.env_steps, full.env_steps);
        // the resumed metric stream is exactly the tail of the uninterrupted one
        let cut = full_recs.len() - tail.len();
        assert_eq!(&full_recs[cut..], &tail[..]);
        // a corrupt checkpoint is an error, not a panic
        let mut bad = saved[1].1.clone();
        bad.truncate(bad.len() - 3);
        assert!(Checkpoint::decode(&bad).is_err());
    }
}

#[test]
fn async_schedule_bounds_the_policy_lag_and_learns() {
    for lag in [1, 3] {
        let mut p = plan(120, lag, 0);
        p.schedule = Schedule::Async;
        let (out, recs) = run(2, p, None, None);
        assert!(out.error.is_none());
        assert!(out.env_steps >= 120 * 4 * 4 * 32 * 2);
        let max_lag = recs
            .iter()
            .filter(|r| r.name == "system/policy_lag_max")
            .map(|r| r.value)
            .fold(0.0, f64::max);
        assert!(max_lag <= lag as f64, "lag {max_lag} > bound {lag}");
        assert!(out.versions > 10);
        let returns: Vec<f64> = recs
            .iter()
            .filter(|r| r.name == "charts/episodic_return")
            .map(|r| r.value)
            .collect();
        let n = returns.len();
        let (first, last) = (
            returns[..20].iter().sum::<f64>() / 20.0,
            returns[n - 20..].iter().sum::<f64>() / 20.0,
        );
        assert!(last > first * 1.5, "async did not learn: {first} -> {last}");
    }
}
