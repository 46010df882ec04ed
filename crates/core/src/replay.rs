//! What off-policy learners ask of experience replay (the storage itself lives in
//! `mirrorflow-replay`, owned by the runtime's learner operator; agents never see it).
//!
//! A learner declares a [`ReplaySpec`]; it receives [`SampledBatch`]es: rows of transitions with
//! each row's bootstrap discount (`γ^k` after folding `k` steps into an n-step return), its
//! importance weight (prioritized replay; 1 otherwise) and its slot, so it can send back new
//! priorities.

use crate::batch::TransitionBatch;
use serde::{Deserialize, Serialize};

/// Prioritized replay (Schaul et al. 2016): `P(i) ∝ p_i^α`, weights `(N P(i))^{−β} / max`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrioritySpec {
    /// Priority exponent α ≥ 0 (0 = uniform).
    pub alpha: f64,
    /// Importance-sampling exponent β ∈ [0, 1].
    pub beta: f64,
    /// Added to `|δ|` so no transition gets priority 0, > 0.
    pub epsilon: f64,
}

/// Replay a learner needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplaySpec {
    /// Transitions kept (the oldest are overwritten), ≥ 1.
    pub capacity: usize,
    /// Rows per sampled batch, ≥ 1.
    pub batch_size: usize,
    /// Steps folded into one return (1 = plain transitions), ≥ 1.
    pub n_step: usize,
    /// Discount of the n-step returns, in [0, 1].
    pub gamma: f64,
    /// Prioritized sampling, or uniform when `None`.
    pub prioritized: Option<PrioritySpec>,
}

impl ReplaySpec {
    /// Checks ranges; the message names the field and the value.
    pub fn validate(&self) -> Result<(), String> {
        if self.capacity == 0 {
            return Err("replay capacity = 0: must be at least 1".into());
        }
        if self.batch_size == 0 {
            return Err("replay batch_size = 0: must be at least 1".into());
        }
        if self.n_step == 0 {
            return Err("replay n_step = 0: must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.gamma) {
            return Err(format!("replay gamma = {}: must be in [0, 1]", self.gamma));
        }
        if let Some(p) = self.prioritized {
            if !(p.alpha >= 0.0 && p.alpha.is_finite()) {
                return Err(format!("replay alpha = {}: must be >= 0", p.alpha));
            }
            if !(0.0..=1.0).contains(&p.beta) {
                return Err(format!("replay beta = {}: must be in [0, 1]", p.beta));
            }
            if !(p.epsilon > 0.0 && p.epsilon.is_finite()) {
                return Err(format!("replay epsilon = {}: must be > 0", p.epsilon));
            }
        }
        Ok(())
    }
}

/// How an off-policy agent learns from replay (the runtime's learner operator follows it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffPolicySpec {
    /// The replay.
    pub replay: ReplaySpec,
    /// No update before this many env steps have been stored.
    pub learning_starts: u64,
    /// One round of updates per this many env steps, ≥ 1.
    pub train_freq: u64,
    /// Updates per round.
    pub gradient_steps: u64,
}

impl OffPolicySpec {
    /// Checks ranges; the message names the field and the value.
    pub fn validate(&self) -> Result<(), String> {
        self.replay.validate()?;
        if self.train_freq == 0 {
            return Err("train_freq = 0: must be at least 1 env step".into());
        }
        Ok(())
    }
}

/// Rows sampled from replay.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SampledBatch {
    /// The transitions (`rewards` hold n-step returns; `next_obs` the observation `k` steps
    /// later; `terminated` whether the episode ended inside the fold).
    pub batch: TransitionBatch,
    /// Bootstrap discount per row: `γ^k` for a `k`-step return.
    pub discounts: Vec<f32>,
    /// Importance weight per row (1 for uniform replay).
    pub weights: Vec<f32>,
    /// Storage slot per row, for priority updates.
    pub slots: Vec<u32>,
}

/// `Ok` when `ok`, else the house-style range error `"{name} = {value}: {want}"` (hyper-parameter
/// validation of the deep learners' configs).
pub fn require(
    ok: bool,
    name: &str,
    value: impl std::fmt::Display,
    want: &str,
) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("{name} = {value}: {want}"))
    }
}
