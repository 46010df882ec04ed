//! # mirrorflow-replay
//!
//! Experience replay for off-policy learners (SAC, M-DQN). The runtime's learner operator owns
//! the buffer (agents never see it, rule R3): transitions from the actors go through an
//! [`NStepAdder`] into a [`Replay`], and the learner receives
//! [`SampledBatch`](mirrorflow_core::SampledBatch)es as its [`ReplaySpec`](mirrorflow_core::ReplaySpec)
//! asks.
//!
//! * [`buffer`]: [`Replay`], a preallocated struct-of-arrays ring buffer with uniform or
//!   prioritized (proportional, sum-tree) sampling, seeded and deterministic;
//! * [`nstep`]: [`NStepAdder`], n-step returns per global env id, correct across terminations
//!   and truncations;
//! * [`sum_tree`]: the sum and min trees behind prioritized sampling.
//!
//! ```
//! use mirrorflow_core::{ReplaySpec, SampledBatch, TransitionBatch};
//! use mirrorflow_replay::{NStepAdder, Replay};
//! let spec = ReplaySpec { capacity: 1000, batch_size: 4, n_step: 3, gamma: 0.99, prioritized: None };
//! let mut adder = NStepAdder::new(spec.n_step, spec.gamma);
//! let mut replay = Replay::new(&spec, 1, 1, 7).unwrap();
//! let mut batch = TransitionBatch { obs_dim: 1, act_dim: 1, ..Default::default() };
//! for t in 0..5 {
//!     batch.env_ids.push(0);
//!     batch.obs.push(t as f32);
//!     batch.actions.push(0.0);
//!     batch.rewards.push(1.0);
//!     batch.next_obs.push(t as f32 + 1.0);
//!     batch.terminated.push(0);
//!     batch.truncated.push(0);
//! }
//! let (folded, discounts) = adder.add(&batch);
//! assert_eq!(folded.len(), 3); // rows 0, 1, 2 have their 3 steps
//! replay.insert(folded, Some(discounts)).unwrap();
//! let mut out = SampledBatch::default();
//! replay.sample(&mut out).unwrap();
//! assert!((out.batch.rewards[0] - (1.0 + 0.99 + 0.99f32 * 0.99)).abs() < 1e-6);
//! ```
#![deny(missing_docs)]

pub mod buffer;
pub mod nstep;
pub mod sum_tree;

pub use buffer::Replay;
pub use nstep::NStepAdder;

use thiserror::Error;

/// Replay failures; each names what was wrong.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The spec is out of range.
    #[error("{0}")]
    Spec(String),
    /// Rows or priorities of the wrong shape.
    #[error("replay: {0}")]
    Shape(String),
    /// Sampling from an empty buffer.
    #[error("replay: cannot sample from an empty buffer (wait for learning_starts transitions)")]
    Empty,
    /// A TD error that is NaN or infinite.
    #[error("replay: TD error {value} for slot {slot} is not finite (the learner diverged?)")]
    NonFinite {
        /// Slot.
        slot: usize,
        /// The value.
        value: f64,
    },
}
