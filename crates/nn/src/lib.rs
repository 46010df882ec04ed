//! # mirrorflow-nn
//!
//! The neural-network side of the deep learners, on burn 0.22 (rule R4: burn appears only here
//! and in the deep agents). CPU by default on burn's `flex` backend (the fastest burn CPU
//! backend measured here: about 2× `ndarray` on SAC- and DQN-sized updates and on par with
//! PyTorch CPU, see `research/stack.md`).
//!
//! * [`mlp`]: [`Mlp`], a ReLU multilayer perceptron from a [`MlpConfig`];
//! * [`gaussian`]: [`SquashedGaussian`], SAC's tanh-squashed Gaussian actor with the stable
//!   log-probability correction;
//! * [`critic`]: [`Critics`], `n` Q-critics over (observation, action) (twin critics);
//! * [`params`]: Polyak averaging of target networks, and parameters to and from
//!   [`ParamSnapshot`](mirrorflow_core::ParamSnapshot) tensors, the one form in which weights
//!   cross threads, processes and crates (never as autodiff graphs);
//! * [`adam`]: [`Adam`] with PyTorch's rule and checkpointable moments;
//! * [`device`]: the compute device: [`Backend`] `cpu` (`flex`, default), `wgpu` and `cuda`
//!   behind the cargo features of the same names (`gpu` = both).
//!
//! Known burn 0.22.1 pitfall, covered by a regression test: parameters are initialised lazily
//! and clones share the initialiser, so `online.clone().no_grad()` on a fresh module would also
//! freeze `online`. [`params::materialize`] forces initialisation; use it before cloning
//! targets.
#![deny(missing_docs)]

pub mod adam;
pub mod critic;
pub mod device;
pub mod gaussian;
pub mod mlp;
pub mod params;

pub use adam::Adam;
pub use burn;
pub use critic::Critics;
pub use device::{Backend, cpu, cpu_autodiff};
pub use gaussian::{Draw, SquashedGaussian};
pub use mlp::{Mlp, MlpConfig};
pub use params::{from_snapshot, materialize, polyak, replace, to_snapshot};

use thiserror::Error;

/// Failures of the network helpers; each names what did not fit.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NnError {
    /// A snapshot does not match the module's parameters.
    #[error("parameters: {0}")]
    Snapshot(String),
    /// The requested compute backend is not in this build.
    #[error("{0}")]
    Backend(String),
}
