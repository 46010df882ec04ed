//! Transition batches: struct of arrays, one row per env step.

use serde::{Deserialize, Serialize};

/// Return and length of one finished episode.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpisodeStat {
    /// Global env index.
    pub env_id: u32,
    /// Undiscounted return.
    pub episode_return: f64,
    /// Number of steps.
    pub length: u32,
}

/// Transitions collected by an [`crate::EnvShard`], row `i` being one `(s, a, r, s', flags)`.
///
/// `next_obs` of a row whose episode ended holds the *final* observation of that episode (not
/// the reset observation), so learners bootstrap correctly on truncation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TransitionBatch {
    /// Floats per observation.
    pub obs_dim: usize,
    /// Floats per action.
    pub act_dim: usize,
    /// Policy version that produced the actions.
    pub policy_version: u64,
    /// Global env index per row.
    #[serde(with = "crate::codec::raw::u32s")]
    pub env_ids: Vec<u32>,
    /// Observations, `len * obs_dim`.
    #[serde(with = "crate::codec::raw::f32s")]
    pub obs: Vec<f32>,
    /// Actions, `len * act_dim`.
    #[serde(with = "crate::codec::raw::f32s")]
    pub actions: Vec<f32>,
    /// Rewards.
    #[serde(with = "crate::codec::raw::f32s")]
    pub rewards: Vec<f32>,
    /// Next observations, `len * obs_dim`.
    #[serde(with = "crate::codec::raw::f32s")]
    pub next_obs: Vec<f32>,
    /// 1 where the next state is terminal.
    #[serde(with = "crate::codec::raw::u8s")]
    pub terminated: Vec<u8>,
    /// 1 where the episode was truncated after this step.
    #[serde(with = "crate::codec::raw::u8s")]
    pub truncated: Vec<u8>,
    /// Episodes that finished inside this batch.
    pub episodes: Vec<EpisodeStat>,
}

impl TransitionBatch {
    /// An empty batch with room for `capacity` rows.
    pub fn with_capacity(obs_dim: usize, act_dim: usize, capacity: usize) -> Self {
        Self {
            obs_dim,
            act_dim,
            policy_version: 0,
            env_ids: Vec::with_capacity(capacity),
            obs: Vec::with_capacity(capacity * obs_dim),
            actions: Vec::with_capacity(capacity * act_dim),
            rewards: Vec::with_capacity(capacity),
            next_obs: Vec::with_capacity(capacity * obs_dim),
            terminated: Vec::with_capacity(capacity),
            truncated: Vec::with_capacity(capacity),
            episodes: Vec::new(),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rewards.len()
    }

    /// Whether the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.rewards.is_empty()
    }

    /// Observation of row `i`.
    pub fn obs_row(&self, i: usize) -> &[f32] {
        &self.obs[i * self.obs_dim..(i + 1) * self.obs_dim]
    }

    /// Next observation of row `i`.
    pub fn next_obs_row(&self, i: usize) -> &[f32] {
        &self.next_obs[i * self.obs_dim..(i + 1) * self.obs_dim]
    }

    /// Action of row `i`.
    pub fn action_row(&self, i: usize) -> &[f32] {
        &self.actions[i * self.act_dim..(i + 1) * self.act_dim]
    }

    /// Removes all rows, keeping the allocations.
    pub fn clear(&mut self) {
        self.env_ids.clear();
        self.obs.clear();
        self.actions.clear();
        self.rewards.clear();
        self.next_obs.clear();
        self.terminated.clear();
        self.truncated.clear();
        self.episodes.clear();
    }
}
