//! Env stepping throughput: native CartPole-v1 and Pendulum-v1 with random actions and
//! auto-reset, on one core.
//!
//! * `single`: one env, a loop like gymnasium's single-env loop (`env_throughput.py single`);
//! * `shard64`: an [`EnvShard`] of 64 envs (the runtime's unit), like EnvPool with 64 envs.
//!
//! Actions come from a pre-drawn pool that is cycled, as in the peer script, so action sampling
//! is not timed. `scripts/bench_envs.sh` runs this and the peers in one sitting and prints the
//! ratios.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mirrorflow_core::{
    ActMode, Env, EnvFactory, EnvShard, Policy, Rng, SeedStream, TransitionBatch,
};
use mirrorflow_env_classic::{CartPole, Pendulum};
use std::hint::black_box;
use std::sync::Arc;

const POOL: usize = 4096;
const STEPS: u64 = 100_000;

fn pool(env: &dyn Env) -> Vec<f32> {
    let space = &env.spec().action_space;
    let d = space.flat_dim();
    let mut rng = Rng::seed_from(0);
    let mut out = vec![0.0; POOL * d];
    for i in 0..POOL {
        space.sample_into(&mut rng, &mut out[i * d..(i + 1) * d]);
    }
    out
}

fn single<E: Env>(mut env: E) -> impl FnMut() {
    let actions = pool(&env);
    let d = env.spec().act_dim();
    let mut obs = vec![0.0f32; env.spec().obs_dim()];
    let _ = env.reset(Some(0), &mut obs);
    let mut k = 0usize;
    move || {
        for _ in 0..STEPS {
            let a = &actions[(k % POOL) * d..(k % POOL + 1) * d];
            k += 1;
            let info = env.step(a, &mut obs).unwrap_or_default();
            if info.terminated || info.truncated {
                let _ = env.reset(None, &mut obs);
            }
        }
        black_box(&obs);
    }
}

/// Replays the action pool, like the peer script (no sampling cost in the timed loop).
struct PoolPolicy {
    actions: Vec<f32>,
    dim: usize,
    k: usize,
}

impl Policy for PoolPolicy {
    fn act(&mut self, _obs: &[f32], _rng: &mut Rng, _mode: ActMode, action: &mut [f32]) {
        let i = self.k % POOL;
        self.k += 1;
        action.copy_from_slice(&self.actions[i * self.dim..(i + 1) * self.dim]);
    }
}

fn shard(factory: EnvFactory, n: usize) -> impl FnMut() {
    let mut shard =
        EnvShard::new(&factory, 0, n, SeedStream::new(0)).unwrap_or_else(|e| panic!("{e}"));
    let probe = factory(0).unwrap_or_else(|e| panic!("{e}"));
    let mut policy = PoolPolicy {
        actions: pool(probe.as_ref()),
        dim: probe.spec().act_dim(),
        k: 0,
    };
    let per_env = STEPS as usize / n;
    let mut batch =
        TransitionBatch::with_capacity(probe.spec().obs_dim(), probe.spec().act_dim(), per_env * n);
    move || {
        batch.clear();
        shard
            .rollout(&mut policy, ActMode::Explore, per_env, &mut batch)
            .unwrap_or_else(|e| panic!("{e}"));
        black_box(&batch);
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("env_step");
    g.throughput(Throughput::Elements(STEPS));
    g.sample_size(20);
    g.bench_function("CartPole-v1/single", {
        let mut f = single(CartPole::default());
        move |b| b.iter(&mut f)
    });
    g.bench_function("Pendulum-v1/single", {
        let mut f = single(Pendulum::default());
        move |b| b.iter(&mut f)
    });
    let cp: EnvFactory = Arc::new(|_| Ok(Box::new(CartPole::default()) as Box<dyn Env>));
    let pd: EnvFactory = Arc::new(|_| Ok(Box::new(Pendulum::default()) as Box<dyn Env>));
    g.bench_function("CartPole-v1/shard64", {
        let mut f = shard(cp, 64);
        move |b| b.iter(&mut f)
    });
    g.bench_function("Pendulum-v1/shard64", {
        let mut f = shard(pd, 64);
        move |b| b.iter(&mut f)
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
