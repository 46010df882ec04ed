//! Garnet(S, A, b): random MDPs with `b` next states per `(s, a)` (spec §1.4).
//!
//! For each `(s, a)`: `b` distinct next states uniformly at random; probabilities are the gaps
//! between `b − 1` sorted uniform cut points (a uniform draw from the simplex); `r(s, a) ~ U(0, 1)`.
//! Everything is drawn from one generator seeded by `seed`, in `(s, a)` order, so a Garnet is a
//! pure function of its parameters.

use crate::{TabularError, check_gamma, param};
use mirrorflow_core::{Rng, TabularMdp};
use serde::{Deserialize, Serialize};

/// Parameters of a Garnet MDP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GarnetConfig {
    /// Number of states `S` (≥ 1).
    pub num_states: usize,
    /// Number of actions `A` (≥ 1).
    pub num_actions: usize,
    /// Branching factor `b`: next states per `(s, a)`, `1 ≤ b ≤ S`.
    pub branching: usize,
    /// Discount `γ ∈ [0, 1)`.
    pub gamma: f64,
    /// Seed of the model (independent of the run seed, so seeds vary noise, not the MDP).
    pub model_seed: u64,
    /// Episode length when played as an env (sampled learners); 0 = no limit.
    pub max_episode_steps: u32,
}

impl Default for GarnetConfig {
    fn default() -> Self {
        Self {
            num_states: 100,
            num_actions: 4,
            branching: 3,
            gamma: 0.9,
            model_seed: 0,
            max_episode_steps: 100,
        }
    }
}

impl GarnetConfig {
    /// Checks ranges; the error names the field.
    pub fn validate(&self) -> Result<(), TabularError> {
        if self.num_states == 0 || self.num_states > u32::MAX as usize {
            return Err(param(
                "num_states",
                self.num_states,
                "must be in 1..=4294967295",
            ));
        }
        if self.num_actions == 0 {
            return Err(param("num_actions", self.num_actions, "must be at least 1"));
        }
        if self.branching == 0 || self.branching > self.num_states {
            return Err(param(
                "branching",
                self.branching,
                &format!("must be in 1..={} (num_states)", self.num_states),
            ));
        }
        check_gamma(self.gamma)
    }

    /// Builds the MDP.
    pub fn build(&self) -> Result<TabularMdp, TabularError> {
        self.validate()?;
        let (s_n, a_n, b) = (self.num_states, self.num_actions, self.branching);
        let rows = s_n * a_n;
        let mut rng = Rng::seed_from(self.model_seed);
        let mut row_start = Vec::with_capacity(rows + 1);
        let mut next = Vec::with_capacity(rows * b);
        let mut prob = Vec::with_capacity(rows * b);
        let mut reward = Vec::with_capacity(rows);
        let mut picked: Vec<u32> = Vec::with_capacity(b);
        let mut cuts: Vec<f64> = Vec::with_capacity(b + 1);
        row_start.push(0);
        for _ in 0..rows {
            // b distinct states: rejection (b ≪ S) or a partial shuffle when b is a large fraction.
            picked.clear();
            if b * 4 <= s_n {
                while picked.len() < b {
                    let c = rng.below(s_n as u64) as u32;
                    if !picked.contains(&c) {
                        picked.push(c);
                    }
                }
            } else {
                let mut all: Vec<u32> = (0..s_n as u32).collect();
                for i in 0..b {
                    let j = i + rng.below((s_n - i) as u64) as usize;
                    all.swap(i, j);
                }
                picked.extend_from_slice(&all[..b]);
            }
            cuts.clear();
            cuts.push(0.0);
            for _ in 0..b - 1 {
                cuts.push(rng.next_f64());
            }
            cuts.push(1.0);
            cuts.sort_unstable_by(f64::total_cmp);
            for (k, &s) in picked.iter().enumerate() {
                let p = cuts[k + 1] - cuts[k];
                if p > 0.0 {
                    next.push(s);
                    prob.push(p);
                }
            }
            row_start.push(next.len());
            reward.push(rng.next_f64());
        }
        Ok(TabularMdp::from_csr(
            s_n, a_n, self.gamma, row_start, next, prob, reward, None,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_determinism() {
        let cfg = GarnetConfig {
            num_states: 50,
            num_actions: 3,
            branching: 4,
            ..Default::default()
        };
        let m = cfg.build().unwrap();
        assert_eq!((m.num_states(), m.num_actions(), m.nnz()), (50, 3, 600));
        assert_eq!(m, cfg.build().unwrap());
        let other = GarnetConfig {
            model_seed: 1,
            ..cfg.clone()
        }
        .build()
        .unwrap();
        assert_ne!(m, other);
        for s in 0..50 {
            for a in 0..3 {
                let (ns, ps) = m.transitions(s, a);
                let mut u = ns.to_vec();
                u.sort();
                u.dedup();
                assert_eq!(u.len(), 4);
                assert!((ps.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn hundred_thousand_states_fit() {
        let m = GarnetConfig {
            num_states: 100_000,
            num_actions: 10,
            branching: 10,
            ..Default::default()
        }
        .build()
        .unwrap();
        assert!(m.nnz() >= 9_999_990 && m.nnz() <= 10_000_000, "{}", m.nnz());
    }

    #[test]
    fn dense_branching_uses_shuffle() {
        let m = GarnetConfig {
            num_states: 5,
            num_actions: 2,
            branching: 5,
            ..Default::default()
        }
        .build()
        .unwrap();
        assert_eq!(m.nnz(), 50);
    }

    #[test]
    fn bad_params_name_the_field() {
        let e = GarnetConfig {
            branching: 200,
            ..Default::default()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("branching = 200"), "{e}");
        let e = GarnetConfig {
            gamma: 1.0,
            ..Default::default()
        }
        .validate()
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("gamma = 1"), "{e}");
    }
}
