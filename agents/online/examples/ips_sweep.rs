//! Spec §10.6: exponential-smoothing IPS on a synthetic contextual bandit. Contexts
//! `x ~ N(0, I₅)`, `K = 10` actions, expected cost `−σ(w_a·x)` (observed: −1 with that
//! probability, else 0); logging policy `π₀ = softmax(β₀ θ₀·x)` with `β₀ ∈ {0.5, 5}` (diffuse vs
//! peaked); `n = 10⁴` logs; a softmax-linear policy fitted with each estimator (α sweep,
//! clipping ν sweep, SNIPS); the exact risk on 10⁴ held-out contexts, mean ± std over seeds.
//!
//!   cargo run --release -p mirrorflow-agent-online --example ips_sweep -- [SEEDS]
//!
//! Prints a markdown table.

use mirrorflow_agent_online::ips::{Estimator, Logged, SoftmaxPolicy, fit};
use mirrorflow_core::Rng;

const D: usize = 5;
const K: usize = 10;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn main() {
    let seeds: u64 = std::env::args()
        .skip(1)
        .find(|a| a != "--bench")
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let mut estimators: Vec<(String, Estimator)> = [0.0, 0.3, 0.5, 0.7, 0.9, 1.0]
        .iter()
        .map(|&alpha| (format!("α = {alpha}"), Estimator::Smoothed { alpha }))
        .collect();
    for nu in [1e-3, 1e-2, 1e-1] {
        estimators.push((format!("clipped ν = {nu}"), Estimator::Clipped { nu }));
    }
    estimators.push(("SNIPS".into(), Estimator::Snips));
    println!("| logging β₀ | estimator | test risk (mean ± std over {seeds} seeds) |");
    println!("|---|---|---|");
    for beta0 in [0.5, 5.0] {
        let mut rows: Vec<Vec<f64>> = vec![Vec::new(); estimators.len() + 2];
        for seed in 0..seeds {
            let mut rng = Rng::seed_from(1_000 + seed);
            let w: Vec<f64> = (0..K * D).map(|_| rng.normal()).collect();
            let mut logging = SoftmaxPolicy::new(K, D);
            logging.theta = (0..K * D).map(|_| beta0 * rng.normal()).collect();
            let ctx = |rng: &mut Rng| (0..D).map(|_| rng.normal()).collect::<Vec<f64>>();
            let cost = |x: &[f64], a: usize| {
                -sigmoid(
                    w[a * D..(a + 1) * D]
                        .iter()
                        .zip(x)
                        .map(|(u, v)| u * v)
                        .sum(),
                )
            };
            let logs: Vec<Logged> = (0..10_000)
                .map(|_| {
                    let x = ctx(&mut rng);
                    let p = logging.probs(&x);
                    let a = rng.categorical(&p);
                    let c = if rng.bernoulli(-cost(&x, a)) {
                        -1.0
                    } else {
                        0.0
                    };
                    Logged {
                        propensity: p[a],
                        x,
                        action: a,
                        cost: c,
                    }
                })
                .collect();
            let test: Vec<Vec<f64>> = (0..10_000).map(|_| ctx(&mut rng)).collect();
            let risk = |pol: &SoftmaxPolicy| {
                test.iter()
                    .map(|x| {
                        pol.probs(x)
                            .iter()
                            .enumerate()
                            .map(|(a, p)| p * cost(x, a))
                            .sum::<f64>()
                    })
                    .sum::<f64>()
                    / test.len() as f64
            };
            rows[0].push(risk(&logging));
            rows[1].push(
                test.iter()
                    .map(|x| (0..K).map(|a| cost(x, a)).fold(f64::INFINITY, f64::min))
                    .sum::<f64>()
                    / test.len() as f64,
            );
            for (k, (_, est)) in estimators.iter().enumerate() {
                let pol = fit(&logs, K, D, *est, 1e-4, 0.5, 300, 1.0);
                rows[k + 2].push(risk(&pol));
            }
        }
        let stat = |v: &[f64]| {
            let m = v.iter().sum::<f64>() / v.len() as f64;
            let s = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
            format!("{m:.4} ± {s:.4}")
        };
        println!("| {beta0} | logging policy π₀ | {} |", stat(&rows[0]));
        println!(
            "| {beta0} | best action per context (oracle) | {} |",
            stat(&rows[1])
        );
        for (k, (name, _)) in estimators.iter().enumerate() {
            println!("| {beta0} | {name} | {} |", stat(&rows[k + 2]));
        }
    }
}
