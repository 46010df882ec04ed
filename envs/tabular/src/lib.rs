//! # mirrorflow-env-tabular
//!
//! Finite MDPs whose model `(P, r)` is exposed as a [`TabularMdp`] for exact planners, and
//! playable as an [`Env`](mirrorflow_core::Env) through [`TabularEnv`] for sampled learners.
//!
//! * [`garnet`]: random Garnet(S, A, b) MDPs (spec §1.4), sparse, up to S = 100 000 and beyond.
//! * [`gridworld`]: a slippery gridworld.
//! * [`chain`]: Strens' chain and RiverSwim (Strehl & Littman).
//! * [`layered`]: layered episodic MDPs with stochastic or adversarial losses (spec §1.4, §5).
//! * [`file`]: a user's own MDP from a JSON file (`env.id = "tabular-file"`).
//! * [`generative`]: a model's generative sampler as an env, sweeping state–action pairs, so
//!   sampled backups are collected by env shards through the runtime.
#![deny(missing_docs)]

pub mod chain;
pub mod file;
pub mod garnet;
pub mod generative;
pub mod gridworld;
pub mod layered;
mod tabular_env;

pub use generative::GenerativeEnv;
pub use mirrorflow_core::TabularMdp;
pub use tabular_env::TabularEnv;

use thiserror::Error;

/// Errors building a tabular MDP.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TabularError {
    /// A parameter is out of range; names the field, the value and the allowed range.
    #[error("{field} = {value}: {expected}")]
    Param {
        /// Field name.
        field: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        expected: String,
    },
    /// The model is malformed.
    #[error(transparent)]
    Model(#[from] mirrorflow_core::Error),
    /// A model file could not be read or parsed.
    #[error("{path}: {message}")]
    File {
        /// File path.
        path: String,
        /// What went wrong (names the row or field).
        message: String,
    },
}

pub(crate) fn param<T: std::fmt::Display>(
    field: &'static str,
    value: T,
    expected: &str,
) -> TabularError {
    TabularError::Param {
        field,
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

pub(crate) fn check_gamma(gamma: f64) -> Result<(), TabularError> {
    if (0.0..1.0).contains(&gamma) {
        Ok(())
    } else {
        Err(param("gamma", gamma, "must be in [0, 1)"))
    }
}
