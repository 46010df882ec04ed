//! A slippery gridworld: `width × height` cells, actions up/right/down/left. With probability
//! `1 − slip` the intended move happens, otherwise one of the other three directions uniformly;
//! moves into a wall stay put. Every action in the goal cell earns `goal_reward` and returns the
//! agent to the start cell (a continuing task, well defined for discounted planning); every other
//! step earns `step_reward`. States are numbered `y * width + x`; start `(0, 0)`, goal the
//! opposite corner.

use crate::{TabularError, check_gamma, param};
use mirrorflow_core::TabularMdp;
use serde::{Deserialize, Serialize};

/// Parameters of the gridworld.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GridworldConfig {
    /// Columns (≥ 1).
    pub width: usize,
    /// Rows (≥ 1).
    pub height: usize,
    /// Probability that the move slips to another direction, in `[0, 1]`.
    pub slip: f64,
    /// Reward of any action in the goal cell.
    pub goal_reward: f64,
    /// Reward of every other step.
    pub step_reward: f64,
    /// Discount `γ ∈ [0, 1)`.
    pub gamma: f64,
    /// Episode length when played as an env; 0 = no limit.
    pub max_episode_steps: u32,
}

impl Default for GridworldConfig {
    fn default() -> Self {
        Self {
            width: 5,
            height: 5,
            slip: 0.1,
            goal_reward: 1.0,
            step_reward: 0.0,
            gamma: 0.95,
            max_episode_steps: 100,
        }
    }
}

impl GridworldConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<(), TabularError> {
        if self.width == 0 || self.height == 0 || self.width * self.height < 2 {
            return Err(param(
                "width",
                self.width,
                "width × height must be at least 2",
            ));
        }
        if !(0.0..=1.0).contains(&self.slip) {
            return Err(param("slip", self.slip, "must be in [0, 1]"));
        }
        check_gamma(self.gamma)
    }

    /// Builds the MDP.
    pub fn build(&self) -> Result<TabularMdp, TabularError> {
        self.validate()?;
        let (w, h) = (self.width, self.height);
        let n = w * h;
        let goal = n - 1;
        let moves: [(i64, i64); 4] = [(0, -1), (1, 0), (0, 1), (-1, 0)];
        let mut rows = Vec::new();
        let mut reward = vec![self.step_reward; n * 4];
        for s in 0..n {
            for a in 0..4 {
                if s == goal {
                    rows.push((s, a, 0, 1.0));
                    reward[s * 4 + a] = self.goal_reward;
                    continue;
                }
                let mut dist = [0.0f64; 5]; // by target cell, merged below
                let mut targets = [0usize; 4];
                for (d, &(dx, dy)) in moves.iter().enumerate() {
                    let (x, y) = ((s % w) as i64 + dx, (s / w) as i64 + dy);
                    targets[d] = if x < 0 || y < 0 || x >= w as i64 || y >= h as i64 {
                        s
                    } else {
                        y as usize * w + x as usize
                    };
                    dist[d] = if d == a {
                        1.0 - self.slip
                    } else {
                        self.slip / 3.0
                    };
                }
                let mut merged: Vec<(usize, f64)> = Vec::new();
                for d in 0..4 {
                    match merged.iter_mut().find(|(t, _)| *t == targets[d]) {
                        Some(e) => e.1 += dist[d],
                        None => merged.push((targets[d], dist[d])),
                    }
                }
                for (t, p) in merged {
                    rows.push((s, a, t, p));
                }
            }
        }
        let mut initial = vec![0.0; n];
        initial[0] = 1.0;
        Ok(TabularMdp::from_rows(
            n,
            4,
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
    fn corner_moves() {
        let m = GridworldConfig {
            width: 3,
            height: 2,
            slip: 0.3,
            ..Default::default()
        }
        .build()
        .unwrap();
        // state 0, action right: right w.p. 0.7; up/left hit the wall (stay) 0.2; down 0.1
        let (ns, ps) = m.transitions(0, 1);
        let mut pairs: Vec<(u32, f64)> = ns.iter().copied().zip(ps.iter().copied()).collect();
        pairs.sort_by_key(|p| p.0);
        assert_eq!(pairs.len(), 3);
        assert_eq!(pairs[0].0, 0);
        assert!((pairs[0].1 - 0.2).abs() < 1e-12);
        assert!((pairs[1].1 - 0.7).abs() < 1e-12 && pairs[1].0 == 1);
        assert_eq!(m.rewards()[5 * 4], 1.0);
    }
}
