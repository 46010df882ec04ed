//! Replay throughput: inserting CartPole-sized rows and sampling batches of 256, uniform and
//! prioritized, from a full buffer of 100 000.

use criterion::{Criterion, criterion_group, criterion_main};
use mirrorflow_core::{PrioritySpec, ReplaySpec, SampledBatch, TransitionBatch};
use mirrorflow_replay::Replay;

fn rows(n: usize) -> TransitionBatch {
    let mut b = TransitionBatch {
        obs_dim: 4,
        act_dim: 1,
        ..Default::default()
    };
    for k in 0..n {
        b.env_ids.push(0);
        b.obs.extend([k as f32; 4]);
        b.actions.push(0.0);
        b.rewards.push(1.0);
        b.next_obs.extend([k as f32 + 1.0; 4]);
        b.terminated.push(0);
        b.truncated.push(0);
    }
    b
}

fn bench(c: &mut Criterion) {
    let batch = rows(1024);
    for (name, prioritized) in [
        ("uniform", None),
        (
            "prioritized",
            Some(PrioritySpec {
                alpha: 0.6,
                beta: 0.4,
                epsilon: 1e-6,
            }),
        ),
    ] {
        let spec = ReplaySpec {
            capacity: 100_000,
            batch_size: 256,
            n_step: 1,
            gamma: 0.99,
            prioritized,
        };
        let mut r = Replay::new(&spec, 4, 1, 0).unwrap_or_else(|e| panic!("{e}"));
        for _ in 0..100 {
            r.insert(&batch, None).unwrap_or_else(|e| panic!("{e}"));
        }
        c.bench_function(&format!("{name}/insert_1024"), |b| {
            b.iter(|| r.insert(&batch, None).unwrap_or_else(|e| panic!("{e}")))
        });
        let mut out = SampledBatch::default();
        c.bench_function(&format!("{name}/sample_256"), |b| {
            b.iter(|| r.sample(&mut out).unwrap_or_else(|e| panic!("{e}")))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
