//! # mirrorflow-env-streams
//!
//! Example streams for online learning ([`mirrorflow_core::online`]).
//!
//! * [`file`]: LIBSVM / SVMlight ([`libsvm`]) and CSV ([`csv`]) text files, optionally gzip,
//!   read one line at a time in constant memory, whole or one shard of them; malformed lines
//!   are reported by line number and either skipped (and counted) or fatal, by config.
//! * [`cache`]: the binary example cache (parse once, later passes read binary records).
//! * [`experts`]: expert-advice loss vectors (i.i.d., switching, adversarial).
//! * [`sea`]: the SEA model's quadratic losses with stochastic (`s`) and adversarial (block
//!   switching) knobs, and the exact expected regret against the best fixed point.
#![deny(missing_docs)]

pub mod cache;
pub mod csv;
pub mod experts;
pub mod file;
pub mod libsvm;
pub mod sea;

pub use cache::CacheReader;
pub use csv::LabelColumn;
pub use experts::{ExpertStream, ExpertsConfig, Regime};
pub use file::{CsvConfig, FileStream, LibsvmConfig, TextReader};
pub use libsvm::{Malformed, StreamError, StreamStats};
pub use sea::{SeaConfig, SeaStream};
