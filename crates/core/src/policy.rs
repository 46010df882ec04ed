//! The acting side of an agent.

use crate::rng::Rng;
use crate::space::Space;

/// How a policy should act.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActMode {
    /// Training: sample / explore.
    Explore,
    /// Evaluation: the deterministic (greedy / mean) action.
    Deterministic,
}

/// Maps an observation to an action. Policies are owned by one worker; randomness comes from
/// the caller's per-env [`Rng`], so results do not depend on how envs share a policy.
///
/// ```
/// use mirrorflow_core::{ActMode, Policy, RandomPolicy, Rng, Space};
/// let mut p = RandomPolicy::new(Space::discrete(3));
/// let mut a = [0.0f32];
/// p.act(&[0.0, 1.0], &mut Rng::seed_from(1), ActMode::Explore, &mut a);
/// assert!(a[0] >= 0.0 && a[0] < 3.0);
/// ```
pub trait Policy {
    /// Writes the action for `obs` into `action` (length = action space flat dim).
    fn act(&mut self, obs: &[f32], rng: &mut Rng, mode: ActMode, action: &mut [f32]);

    /// Parameter version this policy acts with (0 for fixed policies).
    fn version(&self) -> u64 {
        0
    }
}

/// Uniformly random actions from the action space.
#[derive(Clone, Debug)]
pub struct RandomPolicy {
    space: Space,
}

impl RandomPolicy {
    /// A random policy over `space`.
    pub fn new(space: Space) -> Self {
        Self { space }
    }
}

impl Policy for RandomPolicy {
    fn act(&mut self, _obs: &[f32], rng: &mut Rng, _mode: ActMode, action: &mut [f32]) {
        self.space.sample_into(rng, action);
    }
}
