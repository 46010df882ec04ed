//! End-to-end env steps/s of the actor–learner loop with a trivial learner, side by side:
//! a plain single-thread loop without timely, 1 worker, 2 workers, 2 processes (loopback).
//!
//!   cargo bench -p mirrorflow-runtime --bench pipeline [-- --steps 40000000 --reps 3]
//!
//! CartPole-v1, 4 shards × 16 envs × 32 steps per batch (512 transitions per message),
//! 16 batches per shard per version (32 768 steps per version; `--bpv N`), sync schedule with
//! pipelining lag `--lag L` (default 0).

use mirrorflow_core::metrics::NullSink;
use mirrorflow_core::{
    ActMode, AgentBuilder, Env, EnvFactory, EnvShard, EnvSpec, Error, Learner, MetricSink,
    ParamSnapshot, Policy, RandomPolicy, SeedStream, TransitionBatch,
};
use mirrorflow_env_classic::CartPole;
use mirrorflow_runtime::cluster::{ClusterSpec, Peers};
use mirrorflow_runtime::{LoopPlan, Placement, run_loop};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// Sums rewards: the cheapest learner that still reads every transition.
struct Sum(f64, u64);
impl Learner for Sum {
    fn learn(&mut self, b: &TransitionBatch, _: &mut dyn MetricSink) -> Result<(), Error> {
        self.0 += b.rewards.iter().map(|&r| r as f64).sum::<f64>();
        self.1 += 1;
        Ok(())
    }
    fn snapshot(&self) -> ParamSnapshot {
        ParamSnapshot {
            version: self.1,
            tensors: vec![],
        }
    }
    fn restore(&mut self, _: &ParamSnapshot) -> Result<(), Error> {
        Ok(())
    }
}

struct Trivial;
impl AgentBuilder for Trivial {
    fn make_learner(&self, _: &EnvSpec, _: u64) -> Result<Box<dyn Learner>, Error> {
        Ok(Box::new(Sum(0.0, 0)))
    }
    fn make_policy(&self, spec: &EnvSpec, _: &ParamSnapshot) -> Result<Box<dyn Policy>, Error> {
        Ok(Box::new(RandomPolicy::new(spec.action_space.clone())))
    }
}

fn plan(steps: u64) -> LoopPlan {
    let lag = std::env::args()
        .skip_while(|a| a != "--lag")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut p = LoopPlan {
        num_shards: 4,
        envs_per_shard: 16,
        steps_per_env: 32,
        batches_per_version: std::env::args()
            .skip_while(|a| a != "--bpv")
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(16),
        versions: 0,
        seed: 0,
        lag,
        checkpoint_every: 0,
        schedule: Default::default(),
        frames: None,
        eval: None,
    };
    p.versions = steps.div_ceil(p.steps_per_version());
    p
}

fn envs() -> EnvFactory {
    Arc::new(|_| Ok(Box::new(CartPole::default()) as Box<dyn Env>))
}

/// The same work without timely: shards stepped in turn, the learner fed in canonical order.
fn plain(steps: u64) -> f64 {
    let p = plan(steps);
    let spec = CartPole::default().spec().clone();
    let seeds = SeedStream::new(0);
    let mut shards: Vec<EnvShard> = (0..p.num_shards as u64)
        .map(|k| {
            EnvShard::new(
                &envs(),
                k * p.envs_per_shard as u64,
                p.envs_per_shard,
                seeds,
            )
            .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let b = Trivial;
    let mut learner = b.make_learner(&spec, 0).unwrap_or_else(|e| panic!("{e}"));
    let mut batch = TransitionBatch::default();
    let t = Instant::now();
    for _ in 0..p.versions {
        let mut policy = b
            .make_policy(&spec, &learner.snapshot())
            .unwrap_or_else(|e| panic!("{e}"));
        for shard in &mut shards {
            for _ in 0..p.batches_per_version {
                batch.clear();
                shard
                    .rollout(
                        policy.as_mut(),
                        ActMode::Explore,
                        p.steps_per_env,
                        &mut batch,
                    )
                    .unwrap_or_else(|e| panic!("{e}"));
                learner
                    .learn(&batch, &mut NullSink)
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
    (p.versions * p.steps_per_version()) as f64 / t.elapsed().as_secs_f64()
}

fn timely_run(placement: Placement, steps: u64) -> f64 {
    let spec = CartPole::default().spec().clone();
    let t = Instant::now();
    let out = run_loop(
        placement,
        plan(steps),
        spec,
        envs(),
        Arc::new(Trivial),
        Box::new(NullSink),
        None,
        None,
        Arc::new(AtomicBool::new(false)),
        None,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let secs = t.elapsed().as_secs_f64();
    out.map_or(0.0, |o| o.env_steps as f64 / secs)
}

fn cluster(i: usize, dir: &str) -> Placement {
    Placement::Cluster(ClusterSpec {
        processes: 2,
        process_id: i,
        threads: 1,
        peers: Peers::Rendezvous(dir.into()),
        run_id: 7,
        generation: 0,
        rendezvous_timeout: Duration::from_secs(30),
    })
}

fn two_processes(steps: u64) -> f64 {
    let dir = std::env::temp_dir().join(format!("mirrorflow-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let d = dir.to_string_lossy().to_string();
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    let mut child = std::process::Command::new(exe)
        .args([
            "--child",
            "1",
            "--dir",
            &d,
            "--steps",
            &steps.to_string(),
            "--lag",
            &plan(0).lag.to_string(),
        ])
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let sps = timely_run(cluster(0, &d), steps);
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    sps
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |k: &str| {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let steps: u64 = get("--steps")
        .and_then(|s| s.parse().ok())
        .unwrap_or(40_000_000);
    if let (Some(i), Some(dir)) = (get("--child"), get("--dir")) {
        let i: usize = i.parse().unwrap_or(1);
        timely_run(cluster(i, &dir), steps);
        return;
    }
    let reps: usize = get("--reps").and_then(|s| s.parse().ok()).unwrap_or(3);
    let load = || {
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("load before: {}", load());
    let (mut p, mut w1, mut w2, mut p2) = (vec![], vec![], vec![], vec![]);
    for _ in 0..reps {
        // interleaved so background load hits every configuration alike
        p.push(plain(steps));
        w1.push(timely_run(Placement::Threads(1), steps));
        w2.push(timely_run(Placement::Threads(2), steps));
        p2.push(two_processes(steps));
    }
    let (p, w1, w2, p2) = (median(p), median(w1), median(w2), median(p2));
    println!("load after: {}", load());
    println!(
        "{:<28} {:>14} {:>10}",
        "configuration", "M env steps/s", "ratio"
    );
    println!(
        "{:<28} {:>14.2} {:>10}",
        "plain loop (no timely)",
        p / 1e6,
        "1.00"
    );
    println!(
        "{:<28} {:>14.2} {:>10.3}   overhead {:+.1}%",
        "timely, 1 worker",
        w1 / 1e6,
        w1 / p,
        100.0 * (p / w1 - 1.0)
    );
    println!(
        "{:<28} {:>14.2} {:>10.3}   vs 1 worker {:.2}x",
        "timely, 2 workers",
        w2 / 1e6,
        w2 / p,
        w2 / w1
    );
    println!(
        "{:<28} {:>14.2} {:>10.3}   vs 1 worker {:.2}x",
        "timely, 2 processes",
        p2 / 1e6,
        p2 / p,
        p2 / w1
    );
}
