//! # mirrorflow-env-streams
//!
//! Example streams for online learning ([`mirrorflow_core::online`]).
//!
//! * [`libsvm`]: LIBSVM / SVMlight text files (`label index:value …`, optionally gzip), read one
//!   line at a time in constant memory; malformed lines are reported by line number and either
//!   skipped (and counted) or fatal, by config.
#![deny(missing_docs)]

pub mod libsvm;

pub use libsvm::{LibsvmConfig, LibsvmReader, Malformed, StreamError, StreamStats};
