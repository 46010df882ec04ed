//! # mirrorflow-agent-sac
//!
//! Soft actor-critic with twin critics and automatic temperature ([`sac`]), and band-limited
//! SAC: the same learner with the target critic smoothed over actions by the filter of
//! [`band_limit`] (spec §4). Off-policy: the runtime's learner operator owns the replay.
#![deny(missing_docs)]

pub mod band_limit;
pub mod sac;

pub use band_limit::{BandLimitConfig, FilterWhere, Kernel};
pub use sac::{SacBuilder, SacConfig, soft_targets};
