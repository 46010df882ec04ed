//! Chain MDPs that need deep exploration.
//!
//! * [`ChainConfig`]: Strens' chain (2000). `n` states; action 0 ("forward") moves to `s + 1`
//!   (the last state stays) and pays `end_reward` only at the last state; action 1 ("back")
//!   returns to state 0 and pays `back_reward`. With probability `slip` the other action happens.
//! * [`RiverSwimConfig`]: RiverSwim (Strehl & Littman 2008). `n` states; action 0 (swim with the
//!   current) moves left deterministically; action 1 (against the current) moves right w.p. 0.35,
//!   stays w.p. 0.6, drifts left w.p. 0.05 (at the ends: right 0.6 / stay 0.4 from state 0, stay
//!   0.6 / left 0.4 at the last). Rewards: `left_reward` for action 0 in state 0, `right_reward`
//!   for action 1 in the last state. Start in state 0 or 1 uniformly.

use crate::{TabularError, check_gamma, param};
use mirrorflow_core::TabularMdp;
use serde::{Deserialize, Serialize};

/// Parameters of Strens' chain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainConfig {
    /// Number of states (≥ 2).
    pub num_states: usize,
    /// Probability of the opposite action, in `[0, 1]`.
    pub slip: f64,
    /// Reward of "forward" in the last state.
    pub end_reward: f64,
    /// Reward of "back".
    pub back_reward: f64,
    /// Discount.
    pub gamma: f64,
    /// Episode length as an env; 0 = no limit.
    pub max_episode_steps: u32,
}

impl Default for ChainConfig {
    fn default() -> Self {
        Self {
            num_states: 5,
            slip: 0.2,
            end_reward: 10.0,
            back_reward: 2.0,
            gamma: 0.95,
            max_episode_steps: 100,
        }
    }
}

impl ChainConfig {
    /// Builds the MDP.
    pub fn build(&self) -> Result<TabularMdp, TabularError> {
        if self.num_states < 2 {
            return Err(param("num_states", self.num_states, "must be at least 2"));
        }
        if !(0.0..=1.0).contains(&self.slip) {
            return Err(param("slip", self.slip, "must be in [0, 1]"));
        }
        check_gamma(self.gamma)?;
        let n = self.num_states;
        let mut rows = Vec::new();
        let mut reward = vec![0.0; n * 2];
        for s in 0..n {
            let fwd = (s + 1).min(n - 1);
            let fwd_r = if s == n - 1 { self.end_reward } else { 0.0 };
            for a in 0..2 {
                let p_fwd = if a == 0 { 1.0 - self.slip } else { self.slip };
                if fwd == 0 {
                    rows.push((s, a, 0, 1.0));
                } else {
                    rows.push((s, a, fwd, p_fwd));
                    rows.push((s, a, 0, 1.0 - p_fwd));
                }
                reward[s * 2 + a] = p_fwd * fwd_r + (1.0 - p_fwd) * self.back_reward;
            }
        }
        let mut initial = vec![0.0; n];
        initial[0] = 1.0;
        Ok(TabularMdp::from_rows(
            n,
            2,
            self.gamma,
            &rows,
            reward,
            Some(initial),
        )?)
    }
}

/// Parameters of RiverSwim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiverSwimConfig {
    /// Number of states (≥ 2).
    pub num_states: usize,
    /// Reward of swimming left in state 0.
    pub left_reward: f64,
    /// Reward of swimming right in the last state.
    pub right_reward: f64,
    /// Discount.
    pub gamma: f64,
    /// Episode length as an env; 0 = no limit.
    pub max_episode_steps: u32,
}

impl Default for RiverSwimConfig {
    fn default() -> Self {
        Self {
            num_states: 6,
            left_reward: 0.005,
            right_reward: 1.0,
            gamma: 0.95,
            max_episode_steps: 100,
        }
    }
}

impl RiverSwimConfig {
    /// Builds the MDP.
    pub fn build(&self) -> Result<TabularMdp, TabularError> {
        if self.num_states < 2 {
            return Err(param("num_states", self.num_states, "must be at least 2"));
        }
        check_gamma(self.gamma)?;
        let n = self.num_states;
        let mut rows = Vec::new();
        let mut reward = vec![0.0; n * 2];
        for s in 0..n {
            rows.push((s, 0, s.saturating_sub(1), 1.0));
            if s == 0 {
                rows.push((s, 1, 1, 0.6));
                rows.push((s, 1, 0, 0.4));
            } else if s == n - 1 {
                rows.push((s, 1, s, 0.6));
                rows.push((s, 1, s - 1, 0.4));
            } else {
                rows.push((s, 1, s + 1, 0.35));
                rows.push((s, 1, s, 0.6));
                rows.push((s, 1, s - 1, 0.05));
            }
        }
        reward[0] = self.left_reward;
        reward[(n - 1) * 2 + 1] = self.right_reward;
        let mut initial = vec![0.0; n];
        initial[0] = 0.5;
        initial[1] = 0.5;
        Ok(TabularMdp::from_rows(
            n,
            2,
            self.gamma,
            &rows,
            reward,
            Some(initial),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_both() {
        let c = ChainConfig::default().build().unwrap();
        assert_eq!(c.num_states(), 5);
        assert!((c.rewards()[4 * 2] - 8.4).abs() < 1e-12); // 0.8·10 + 0.2·2
        let r = RiverSwimConfig::default().build().unwrap();
        assert_eq!(r.rewards()[11], 1.0);
        assert!(
            ChainConfig {
                num_states: 1,
                ..Default::default()
            }
            .build()
            .is_err()
        );
    }
}
