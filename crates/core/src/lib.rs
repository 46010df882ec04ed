//! # mirrorflow-core
//!
//! The vocabulary every other mirrorflow crate speaks. It is a leaf crate (rule R1): it knows no
//! other workspace crate and names no burn, timely, pyo3 or rerun type.
//!
//! * [`space`]: observation and action spaces with gymnasium semantics.
//! * [`env`]: the [`Env`] trait (`reset(seed)`, `step(action)` with separate `terminated` and
//!   `truncated` flags) and its [`EnvSpec`].
//! * [`shard`]: [`EnvShard`], a batch of envs with auto-reset that produces [`TransitionBatch`]es;
//!   the unit the runtime places on workers.
//! * [`policy`], [`learner`]: the acting and learning sides of an agent.
//! * [`replay`]: what off-policy learners ask of experience replay ([`ReplaySpec`]) and what
//!   they get ([`SampledBatch`]).
//! * [`metrics`]: [`MetricSink`], the one way metrics leave a component.
//! * [`rng`]: explicit, portable random numbers and seed streams keyed by run seed and *global*
//!   env index, so results do not depend on how envs are spread over workers.
//! * [`tabular`]: finite MDP models with sparse transitions, for exact planners.
//! * [`online`]: online learning from example streams: sparse [`Features`], [`LinearLoss`],
//!   the round-based [`OnlineLearner`] trait.
//!
//! ```
//! use mirrorflow_core::{rng::Rng, space::Space};
//! let space = Space::discrete(3);
//! let mut rng = Rng::seed_from(7);
//! let mut a = [0.0f32];
//! space.sample_into(&mut rng, &mut a);
//! assert!(space.contains(&a));
//! ```
#![deny(missing_docs)]

pub mod batch;
pub mod codec;
pub mod env;
pub mod episodic;
pub mod error;
pub mod learner;
pub mod metrics;
pub mod online;
pub mod policy;
pub mod replay;
pub mod rng;
pub mod shard;
pub mod space;
pub mod tabular;

pub use batch::{EpisodeStat, TransitionBatch};
pub use env::{BatchEnv, Env, EnvFactory, EnvSpec, Frame, StepInfo};
pub use error::{EnvError, Error};
pub use learner::{
    AgentBuilder, Array2, Learner, OffPolicyLearner, ParamSnapshot, Planner, Tensor, TensorData,
};
pub use metrics::{MetricSink, Timeline};
pub use online::{Example, ExampleSource, Features, LinearLoss, OcoLearner, OnlineLearner};
pub use policy::{ActMode, Policy, RandomPolicy};
pub use replay::{OffPolicySpec, PrioritySpec, ReplaySpec, SampledBatch, require};
pub use rng::{Rng, SeedStream};
pub use shard::{EnvShard, FrameCapture};
pub use space::{Dtype, Space};
pub use tabular::TabularMdp;

/// The top-level README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
