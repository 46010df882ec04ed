//! Exact policy evaluation and the optimal action-values (spec §1.4).
//!
//! `v^π = (I − γ P_π)^{-1} r_π` by LU for `S ≤ 500`, otherwise by iteration until the Bellman
//! residual is below 1e-12; `q^π = r + γ P v^π`. `q*` comes from policy iteration (small `S`) or
//! value iteration to a residual below 1e-12 followed by an exact evaluation of its greedy
//! policy (large `S`).

use mirrorflow_core::TabularMdp;
use mirrorflow_math::linalg::solve_in_place;

/// Largest `S` evaluated by dense LU.
pub const DENSE_LIMIT: usize = 500;
/// Residual at which iterative evaluation stops.
pub const RESIDUAL: f64 = 1e-12;

/// `q^π` for a stochastic policy `π` (`S × A` probabilities, row-major).
pub fn evaluate(mdp: &TabularMdp, policy: &[f64]) -> Vec<f64> {
    let (s_n, a_n, gamma) = (mdp.num_states(), mdp.num_actions(), mdp.gamma());
    let r = mdp.rewards();
    let r_pi: Vec<f64> = (0..s_n)
        .map(|s| (0..a_n).map(|a| policy[s * a_n + a] * r[s * a_n + a]).sum())
        .collect();
    let v = if s_n <= DENSE_LIMIT {
        let mut m = vec![0.0; s_n * s_n];
        for s in 0..s_n {
            m[s * s_n + s] = 1.0;
            for a in 0..a_n {
                let p = policy[s * a_n + a];
                if p == 0.0 {
                    continue;
                }
                let (ns, ps) = mdp.transitions(s, a);
                for (&n, &q) in ns.iter().zip(ps) {
                    m[s * s_n + n as usize] -= gamma * p * q;
                }
            }
        }
        let mut b = r_pi.clone();
        match solve_in_place(&mut m, s_n, &mut b) {
            Ok(()) => b,
            // I − γP_π is never singular for γ < 1; fall back to iteration if rounding says so.
            Err(_) => iterate_values(mdp, policy, &r_pi, vec![0.0; s_n]),
        }
    } else {
        iterate_values(mdp, policy, &r_pi, vec![0.0; s_n])
    };
    let mut q = vec![0.0; s_n * a_n];
    mdp.expect(&v, &mut q);
    for (qi, ri) in q.iter_mut().zip(r) {
        *qi = ri + gamma * *qi;
    }
    q
}

fn iterate_values(mdp: &TabularMdp, policy: &[f64], r_pi: &[f64], mut v: Vec<f64>) -> Vec<f64> {
    let (s_n, a_n, gamma) = (mdp.num_states(), mdp.num_actions(), mdp.gamma());
    let mut pv = vec![0.0; s_n * a_n];
    for _ in 0..1_000_000 {
        mdp.expect(&v, &mut pv);
        let mut delta = 0.0f64;
        for s in 0..s_n {
            let nv = r_pi[s]
                + gamma
                    * (0..a_n)
                        .map(|a| policy[s * a_n + a] * pv[s * a_n + a])
                        .sum::<f64>();
            delta = delta.max((nv - v[s]).abs());
            v[s] = nv;
        }
        if delta < RESIDUAL {
            break;
        }
    }
    v
}

/// Deterministic greedy policy of `q` (lowest index among ties), as `S × A` probabilities.
pub fn greedy(q: &[f64], a_n: usize) -> Vec<f64> {
    let mut pi = vec![0.0; q.len()];
    for (row, out) in q.chunks(a_n).zip(pi.chunks_mut(a_n)) {
        out[mirrorflow_math::softmax::argmax(row)] = 1.0;
    }
    pi
}

/// The optimal action-values `q*`.
pub fn optimal_q(mdp: &TabularMdp) -> Vec<f64> {
    let (s_n, a_n, gamma) = (mdp.num_states(), mdp.num_actions(), mdp.gamma());
    if s_n <= DENSE_LIMIT {
        // Policy iteration; switch actions only on a clear improvement so ties cannot cycle.
        let mut action = vec![0usize; s_n];
        for _ in 0..10_000 {
            let mut pi = vec![0.0; s_n * a_n];
            for s in 0..s_n {
                pi[s * a_n + action[s]] = 1.0;
            }
            let q = evaluate(mdp, &pi);
            let mut changed = false;
            for s in 0..s_n {
                let row = &q[s * a_n..(s + 1) * a_n];
                let best = mirrorflow_math::softmax::argmax(row);
                if row[best] > row[action[s]] + 1e-12 * (1.0 + row[best].abs()) {
                    action[s] = best;
                    changed = true;
                }
            }
            if !changed {
                return q;
            }
        }
    }
    let r = mdp.rewards();
    let mut q = vec![0.0; s_n * a_n];
    let mut v = vec![0.0; s_n];
    for _ in 0..1_000_000 {
        for s in 0..s_n {
            v[s] = q[s * a_n..(s + 1) * a_n]
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
        }
        let mut pv = vec![0.0; s_n * a_n];
        mdp.expect(&v, &mut pv);
        let mut delta = 0.0f64;
        for k in 0..q.len() {
            let nq = r[k] + gamma * pv[k];
            delta = delta.max((nq - q[k]).abs());
            q[k] = nq;
        }
        if delta < RESIDUAL {
            break;
        }
    }
    evaluate(mdp, &greedy(&q, a_n))
}

/// `‖x − y‖∞`.
pub fn sup_dist(x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .zip(y)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirrorflow_env_tabular::garnet::GarnetConfig;

    #[test]
    fn dense_and_iterative_agree() {
        let mdp = GarnetConfig {
            num_states: 60,
            num_actions: 3,
            branching: 4,
            ..Default::default()
        }
        .build()
        .unwrap();
        let pi = vec![1.0 / 3.0; 180];
        let dense = evaluate(&mdp, &pi);
        let r_pi: Vec<f64> = (0..60)
            .map(|s| (0..3).map(|a| mdp.rewards()[s * 3 + a] / 3.0).sum())
            .collect();
        let v = iterate_values(&mdp, &pi, &r_pi, vec![0.0; 60]);
        let mut q = vec![0.0; 180];
        mdp.expect(&v, &mut q);
        for k in 0..180 {
            q[k] = mdp.rewards()[k] + 0.9 * q[k];
        }
        assert!(sup_dist(&dense, &q) < 1e-10);
    }

    #[test]
    fn optimal_q_is_a_fixed_point() {
        let mdp = GarnetConfig {
            num_states: 40,
            ..Default::default()
        }
        .build()
        .unwrap();
        let q = optimal_q(&mdp);
        let a_n = 4;
        let v: Vec<f64> = q
            .chunks(a_n)
            .map(|r| r.iter().copied().fold(f64::MIN, f64::max))
            .collect();
        let mut pv = vec![0.0; q.len()];
        mdp.expect(&v, &mut pv);
        let residual = (0..q.len())
            .map(|k| (mdp.rewards()[k] + 0.9 * pv[k] - q[k]).abs())
            .fold(0.0, f64::max);
        assert!(residual < 1e-12, "{residual}");
    }
}
