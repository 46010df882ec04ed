//! # mirrorflow-agent-tsallis
//!
//! Policy optimization for episodic MDPs with adversarial or stochastic losses and bandit
//! feedback, after Dann, Wei & Zimmert, *Best of Both Worlds Policy Optimization* (ICML 2023,
//! arXiv 2302.09408), on the dilated-bonus template of Luo, Wei & Lee (arXiv 2107.08346).
//! Spec: `algorithms.md` §1.2, §1.4, §5. The exact schedules and bonuses of the paper could not
//! be checked (spec §11.2); the reference instantiation of spec §5.3 is implemented and every
//! unknown is a config parameter.
//!
//! * [`bobw`]: per-state FTRL with ½-Tsallis (Tsallis-INF form), Shannon, log-barrier or hybrid
//!   regularizers (the simplex solver of `mirrorflow-math`), importance-weighted loss estimates
//!   with optional implicit exploration, dilated exploration bonus, exact pseudo-regret against
//!   the best fixed policy in hindsight (occupancy measures). Known or unknown transitions.
//! * [`episodes`]: the same learner fed by episodes that an env shard plays through the
//!   actor–learner runtime (`sampler = "env_shards"`).
//! * [`transitions`]: unknown transitions: visit counts, epoch-wise empirical model, Bernstein
//!   confidence sets and upper occupancy bounds.
#![deny(missing_docs)]

pub mod bobw;
pub mod episodes;
pub mod transitions;

pub use bobw::{BobwConfig, BobwPo, EpisodeSource, PoRegularizer, TransitionKnowledge};
pub use episodes::BobwBuilder;
