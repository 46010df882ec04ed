//! The sync schedule gives bit-identical parameters and metric streams for any worker count.
#![allow(clippy::unwrap_used, reason = "tests")]

use mirrorflow_agent_policy_gradient::{A2cBuilder, A2cConfig};
use mirrorflow_core::metrics::{MemorySink, Record};
use mirrorflow_core::{Env, EnvFactory, MetricSink, Timeline};
use mirrorflow_env_classic::CartPole;
use mirrorflow_runtime::{LoopPlan, run_workers};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<MemorySink>>);
impl MetricSink for Shared {
    fn record(&mut self, t: Timeline, s: u64, n: &str, v: f64) {
        self.0.lock().unwrap().record(t, s, n, v);
    }
}

fn run(workers: usize, versions: u64) -> (mirrorflow_runtime::LoopOutcome, Vec<Record>) {
    let plan = LoopPlan {
        num_shards: 4,
        envs_per_shard: 4,
        steps_per_env: 32,
        batches_per_version: 2,
        versions,
        seed: 7,
    };
    let envs: EnvFactory = Arc::new(|_| Ok(Box::new(CartPole::default()) as Box<dyn Env>));
    let spec = CartPole::default().spec().clone();
    let sink = Shared::default();
    let out = run_workers(
        workers,
        plan,
        spec,
        envs,
        Arc::new(A2cBuilder {
            cfg: A2cConfig::default(),
        }),
        Box::new(sink.clone()),
        Arc::new(AtomicBool::new(false)),
    )
    .unwrap();
    let recs = sink
        .0
        .lock()
        .unwrap()
        .records
        .iter()
        .filter(|r| !r.name.starts_with("system/sps"))
        .cloned()
        .collect();
    (out, recs)
}

#[test]
fn one_and_two_and_three_workers_agree_bit_for_bit() {
    let (a, ra) = run(1, 40);
    let (b, rb) = run(2, 40);
    let (c, rc) = run(3, 40);
    assert_eq!(a.versions, 40);
    assert_eq!(a.env_steps, 40 * 4 * 4 * 32 * 2);
    assert!(a.error.is_none() && !a.interrupted);
    assert_eq!(a.final_params, b.final_params);
    assert_eq!(a.final_params, c.final_params);
    assert_eq!(ra, rb);
    assert_eq!(ra, rc);
    assert!(ra.iter().any(|r| r.name == "charts/episodic_return"));
}
