//! Throughput of one full SAC update at SB3's Pendulum size (obs 3, act 1, actor and twin
//! critics 256×256, batch 256), the same work as `../shared/bench/peers/torch_sac_update.py`:
//! temperature step, no-grad target with the target critics, critic step, actor step, Polyak.
//! Batches are drawn from a 100k-row table of random transitions, as there.
//!
//!   cargo bench -p mirrorflow-agent-sac --bench update [-- ITERS REPS]
//!
//! Threads: burn's flex backend runs its kernels on rayon, so `RAYON_NUM_THREADS` is the thread
//! count (torch: `--threads`). Prints one JSON line.

use mirrorflow_agent_sac::{SacBuilder, SacConfig};
use mirrorflow_core::metrics::MemorySink;
use mirrorflow_core::{AgentBuilder, EnvSpec, Rng, SampledBatch, Space};
use std::time::Instant;

const OBS: usize = 3;
const BUF: usize = 100_000;
const BATCH: usize = 256;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let iters = args.first().copied().unwrap_or(300);
    let reps = args.get(1).copied().unwrap_or(3);
    let spec = EnvSpec::new(
        "bench",
        Space::boxed(vec![-10.0; OBS], vec![10.0; OBS]),
        Space::boxed(vec![-1.0], vec![1.0]),
    );
    let cfg = SacConfig {
        hidden: vec![256, 256],
        batch_size: BATCH,
        ..Default::default()
    };
    let builder = SacBuilder { cfg };
    let Ok(mut learner) = builder.make_off_policy_learner(&spec, 0) else {
        eprintln!("could not build the learner");
        std::process::exit(1);
    };
    let mut rng = Rng::seed_from(0);
    let obs: Vec<f32> = (0..BUF * OBS).map(|_| rng.normal() as f32).collect();
    let next: Vec<f32> = (0..BUF * OBS).map(|_| rng.normal() as f32).collect();
    let act: Vec<f32> = (0..BUF).map(|_| rng.uniform(-1.0, 1.0) as f32).collect();
    let rew: Vec<f32> = (0..BUF).map(|_| rng.normal() as f32).collect();
    let done: Vec<u8> = (0..BUF).map(|_| u8::from(rng.next_f64() < 0.01)).collect();
    let mut sink = MemorySink::default();
    let sample = |rng: &mut Rng| {
        let mut sb = SampledBatch::default();
        sb.batch.obs_dim = OBS;
        sb.batch.act_dim = 1;
        for _ in 0..BATCH {
            let i = rng.below(BUF as u64) as usize;
            sb.batch.obs.extend_from_slice(&obs[i * OBS..(i + 1) * OBS]);
            sb.batch
                .next_obs
                .extend_from_slice(&next[i * OBS..(i + 1) * OBS]);
            sb.batch.actions.push(act[i]);
            sb.batch.rewards.push(rew[i]);
            sb.batch.terminated.push(done[i]);
            sb.batch.truncated.push(0);
            sb.batch.env_ids.push(0);
            sb.discounts.push(0.99);
            sb.weights.push(1.0);
        }
        sb
    };
    for _ in 0..50 {
        let sb = sample(&mut rng);
        let _ = learner.update(&sb, &mut sink);
    }
    let mut rates = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        for _ in 0..iters {
            let sb = sample(&mut rng);
            if let Err(e) = learner.update(&sb, &mut sink) {
                eprintln!("update failed: {e}");
                std::process::exit(1);
            }
        }
        rates.push(iters as f64 / t.elapsed().as_secs_f64());
    }
    let mut sorted = rates.clone();
    sorted.sort_by(f64::total_cmp);
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default".into());
    println!(
        "{{\"bench\": \"mirrorflow_sac_update\", \"threads\": \"{threads}\", \"iters\": {iters}, \"updates_per_s\": {{\"median\": {:.2}, \"min\": {:.2}, \"max\": {:.2}}}}}",
        sorted[sorted.len() / 2],
        sorted[0],
        sorted[sorted.len() - 1]
    );
}
