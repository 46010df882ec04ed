//! Exact (regularized) value iteration on Garnet MDPs: milliseconds per iteration, to set side
//! by side with ../shared/bench/peers/garnet_vi.py (numpy / scipy CSR) in one sitting
//! (`scripts/bench_garnet.sh`). Same sizes and settings: γ = 0.99; `vi` is λ = τ = 0, `reg` is
//! λ = 0.1, τ = 0.01. Prints one JSON line per case.
//!
//!   cargo bench -p mirrorflow-agent-regularized-vi --bench garnet [-- --reps 3]

use mirrorflow_agent_regularized_vi::{Mdvi, MdviConfig};
use mirrorflow_core::Planner;
use mirrorflow_core::metrics::NullSink;
use mirrorflow_env_tabular::garnet::GarnetConfig;
use std::sync::Arc;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let reps: usize = args
        .iter()
        .position(|a| a == "--reps")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    for (s, a, b, iters) in [
        (100usize, 4usize, 5usize, 5000usize),
        (10_000, 10, 10, 200),
        (100_000, 10, 10, 20),
    ] {
        let mdp = Arc::new(
            GarnetConfig {
                num_states: s,
                num_actions: a,
                branching: b,
                gamma: 0.99,
                ..Default::default()
            }
            .build()
            .unwrap_or_else(|e| panic!("{e}")),
        );
        // bytes streamed per iteration: per transition an index (4) and a probability (8); per
        // (s, a) the q-value read and written, ln π read and written, ln π_prev and the reward
        let bytes = (s * a * b * 12 + s * a * 6 * 8) as f64;
        for (algo, lambda, tau) in [("vi", 0.0, 0.0), ("reg", 0.1, 0.01)] {
            for threads in [1usize, 2] {
                let cfg = MdviConfig {
                    lambda,
                    tau,
                    eval_every: u64::MAX,
                    threads,
                    ..Default::default()
                };
                let mut times = Vec::new();
                for _ in 0..reps {
                    let mut p =
                        Mdvi::new(cfg.clone(), mdp.clone(), 0).unwrap_or_else(|e| panic!("{e}"));
                    for _ in 0..(iters / 10).max(1) {
                        let _ = p.iterate(&mut NullSink);
                    }
                    let t = Instant::now();
                    for _ in 0..iters {
                        let _ = p.iterate(&mut NullSink);
                    }
                    times.push(t.elapsed().as_secs_f64() * 1e3 / iters as f64);
                }
                times.sort_by(f64::total_cmp);
                let ms = times[times.len() / 2];
                println!(
                    "{{\"S\":{s},\"A\":{a},\"b\":{b},\"algo\":\"{algo}\",\"threads\":{threads},\"ms_per_iter\":{ms:.5},\"gb_per_s\":{:.2}}}",
                    bytes / (ms * 1e-3) / 1e9
                );
            }
        }
    }
}
