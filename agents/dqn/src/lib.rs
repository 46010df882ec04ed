//! # mirrorflow-agent-dqn
//!
//! Munchausen-DQN (Vieillard, Pietquin & Geist, NeurIPS 2020; spec §3), the deep form of
//! KL/entropy-regularized value iteration, with its reductions: `alpha = 0` is Soft-DQN and
//! `alpha = 0, tau = 0` is DQN. An off-policy agent: the runtime owns the replay and hands the
//! learner sampled batches ([`mirrorflow_core::OffPolicyLearner`]).
#![deny(missing_docs)]

pub mod mdqn;

pub use mdqn::{MdqnBuilder, MdqnConfig, munchausen_targets};
