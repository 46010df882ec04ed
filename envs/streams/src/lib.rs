//! # mirrorflow-env-streams
//!
//! Example streams for online learning ([`mirrorflow_core::online`]).
//!
//! * [`libsvm`]: LIBSVM / SVMlight text files (`label index:value …`, optionally gzip), read one
//!   line at a time in constant memory; malformed lines are reported by line number and either
//!   skipped (and counted) or fatal, by config.
//! * [`sea`]: the SEA model's quadratic losses with stochastic (`s`) and adversarial (block
//!   switching) knobs, and the exact expected regret against the best fixed point.
#![deny(missing_docs)]

pub mod libsvm;
pub mod sea;

pub use libsvm::{LibsvmConfig, LibsvmReader, Malformed, StreamError, StreamStats};
pub use sea::SeaStream;
