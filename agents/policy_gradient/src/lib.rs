//! # mirrorflow-agent-policy-gradient
//!
//! A linear softmax actor-critic for discrete actions (advantage actor-critic, Mnih et al. 2016,
//! with generalized advantage estimation, Schulman et al. 2016): small, exact to reason about,
//! and a real learner for the actor–learner runtime (CartPole-v1 goes from ~22 to several
//! hundred steps per episode).
//!
//! * features `φ(s) = (s / scale, 1)`; policy `π(·|s) = softmax(W φ(s))`; value `V(s) = v·φ(s)`;
//! * per batch, per env: `δ_t = r_t + γ (1 − term_t) V(s'_t) − V(s_t)`,
//!   `A_t = δ_t + γ λ (1 − done_t) A_{t+1}` (the last row of a batch bootstraps from `V(s'_T)`);
//! * one step per batch: `W += α_π · mean(A_t (e_{a_t} − π_t) φ_tᵀ) + α_H ∇H`,
//!   `v += α_V · mean((A_t + V(s_t) − V(s_t)) φ_t)`, advantages normalized per batch.
//!
//! Everything is `f64` and processed in row order, so the same batches give the same bits.
#![deny(missing_docs)]

mod a2c;

pub use a2c::{A2c, A2cBuilder, A2cConfig, LinearSoftmaxPolicy};
