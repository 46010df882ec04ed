//! The environment trait, with gymnasium 1.x semantics.
//!
//! * `reset(seed)` starts an episode. `Some(seed)` reseeds the env's own generator (as
//!   gymnasium's `reset(seed=...)`), `None` continues the current stream.
//! * `step(action)` advances one step and reports `reward`, `terminated` (a terminal state of the
//!   MDP: do not bootstrap) and `truncated` (a time limit or other cut: bootstrap from the
//!   observation written by this very step, which is the *final* observation of the episode).
//!
//! Observations and actions are flat `f32` slices (see [`crate::space`]). Writing into a caller
//! buffer keeps stepping allocation-free.
//!
//! ```
//! use mirrorflow_core::{Env, EnvSpec, StepInfo, EnvError, Space};
//!
//! /// Walk on a line; reach +3 to win; 10 steps at most.
//! struct Line { spec: EnvSpec, x: i32, t: u32 }
//! impl Env for Line {
//!     fn spec(&self) -> &EnvSpec { &self.spec }
//!     fn reset(&mut self, _seed: Option<u64>, obs: &mut [f32]) -> Result<(), EnvError> {
//!         self.x = 0; self.t = 0; obs[0] = 0.0; Ok(())
//!     }
//!     fn step(&mut self, action: &[f32], obs: &mut [f32]) -> Result<StepInfo, EnvError> {
//!         self.x += if action[0] == 1.0 { 1 } else { -1 };
//!         self.t += 1;
//!         obs[0] = self.x as f32;
//!         Ok(StepInfo { reward: if self.x == 3 { 1.0 } else { 0.0 },
//!                       terminated: self.x == 3, truncated: self.t >= 10 })
//!     }
//! }
//! let spec = EnvSpec::new("Line-v0", Space::boxed(vec![-10.0], vec![10.0]), Space::discrete(2))
//!     .with_max_episode_steps(10);
//! let mut env = Line { spec, x: 0, t: 0 };
//! let mut obs = [0.0f32];
//! env.reset(Some(0), &mut obs).unwrap();
//! for _ in 0..3 { env.step(&[1.0], &mut obs).unwrap(); }
//! assert_eq!(obs[0], 3.0);
//! ```

use crate::error::EnvError;
use crate::space::Space;
use serde::{Deserialize, Serialize};

/// What one step reports besides the observation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepInfo {
    /// Reward of the transition.
    pub reward: f64,
    /// The episode reached a terminal state; the value of the next state is zero.
    pub terminated: bool,
    /// The episode was cut (time limit); the observation written is the final one and the
    /// learner should bootstrap from it.
    pub truncated: bool,
}

impl StepInfo {
    /// Whether the episode is over for either reason.
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// Static description of an env: what goes in and out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnvSpec {
    /// Registered id, e.g. `CartPole-v1`.
    pub id: String,
    /// Observation space.
    pub observation_space: Space,
    /// Action space.
    pub action_space: Space,
    /// Time limit after which episodes are truncated, if any.
    pub max_episode_steps: Option<u32>,
    /// Discount the env's literature uses (tabular MDPs carry one), if any.
    pub gamma: Option<f64>,
    /// Frames per second for rendering, if the env renders.
    pub render_fps: Option<u32>,
}

impl EnvSpec {
    /// A spec with no time limit, discount or rendering.
    pub fn new(id: impl Into<String>, observation_space: Space, action_space: Space) -> Self {
        Self {
            id: id.into(),
            observation_space,
            action_space,
            max_episode_steps: None,
            gamma: None,
            render_fps: None,
        }
    }

    /// Sets the time limit.
    pub fn with_max_episode_steps(mut self, steps: u32) -> Self {
        self.max_episode_steps = Some(steps);
        self
    }

    /// Sets the discount.
    pub fn with_gamma(mut self, gamma: f64) -> Self {
        self.gamma = Some(gamma);
        self
    }

    /// Flat observation length.
    pub fn obs_dim(&self) -> usize {
        self.observation_space.flat_dim()
    }

    /// Flat action length.
    pub fn act_dim(&self) -> usize {
        self.action_space.flat_dim()
    }
}

/// An RGB frame, row-major, 3 bytes per pixel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 3` bytes.
    pub rgb: Vec<u8>,
}

/// A single environment.
///
/// Implementations need not be `Send`: each worker builds its own envs from an [`EnvFactory`].
pub trait Env {
    /// The env's spec.
    fn spec(&self) -> &EnvSpec;

    /// Starts an episode and writes the first observation.
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Result<(), EnvError>;

    /// Applies `action`, writes the next observation and reports reward and flags.
    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> Result<StepInfo, EnvError>;

    /// Renders the current state as an RGB frame, if the env can.
    fn render_rgb(&mut self) -> Option<Frame> {
        None
    }

    /// The complete internal state (physics, RNG, episode counters) for checkpoints, if the env
    /// supports exact resume. Restoring it with [`Env::load_state`] must continue the exact same
    /// trajectory.
    fn save_state(&self) -> Option<Vec<u8>> {
        None
    }

    /// Restores a state from [`Env::save_state`].
    fn load_state(&mut self, _state: &[u8]) -> Result<(), EnvError> {
        Err(EnvError::Failed {
            env: self.spec().id.clone(),
            call: "load_state",
            message: "this env does not support checkpoints".into(),
        })
    }

    /// For envs whose per-call overhead dominates (Python envs: one interpreter lock per call),
    /// builds `count` fresh copies of this env stepped together by one [`BatchEnv`]; an
    /// [`EnvShard`](crate::EnvShard) then uses it instead of stepping envs one by one. `None`
    /// (the default): step one by one.
    fn batch(&self, _count: usize) -> Option<Result<Box<dyn BatchEnv>, EnvError>> {
        None
    }
}

/// Several copies of one env stepped in one call, with auto-reset. Rows are row-major:
/// env `i` owns `actions[i·act_dim..]`, `next[i·obs_dim..]`, `reset_obs[i·obs_dim..]`.
pub trait BatchEnv {
    /// The envs' spec.
    fn spec(&self) -> &EnvSpec;

    /// Number of envs.
    fn num_envs(&self) -> usize;

    /// Starts an episode in every env, env `i` seeded with `seeds[i]`, and writes the first
    /// observations.
    fn reset_all(&mut self, seeds: &[u64], obs: &mut [f32]) -> Result<(), EnvError>;

    /// Steps every env with its row of `actions`, writes the observation each step produced into
    /// `next` (for an episode that ended: its final observation) and the rewards and flags into
    /// `infos`. Every env whose episode ended is reset (continuing its own seed stream) and its
    /// first observation written into its row of `reset_obs` (other rows of `reset_obs` may hold
    /// anything).
    fn step_all(
        &mut self,
        actions: &[f32],
        next: &mut [f32],
        reset_obs: &mut [f32],
        infos: &mut [StepInfo],
    ) -> Result<(), EnvError>;

    /// Renders env `i` as an RGB frame, if it can.
    fn render_rgb(&mut self, _i: usize) -> Option<Frame> {
        None
    }
}

impl<E: Env + ?Sized> Env for Box<E> {
    fn spec(&self) -> &EnvSpec {
        (**self).spec()
    }
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Result<(), EnvError> {
        (**self).reset(seed, obs)
    }
    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> Result<StepInfo, EnvError> {
        (**self).step(action, obs)
    }
    fn render_rgb(&mut self) -> Option<Frame> {
        (**self).render_rgb()
    }
    fn save_state(&self) -> Option<Vec<u8>> {
        (**self).save_state()
    }
    fn load_state(&mut self, state: &[u8]) -> Result<(), EnvError> {
        (**self).load_state(state)
    }
    fn batch(&self, count: usize) -> Option<Result<Box<dyn BatchEnv>, EnvError>> {
        (**self).batch(count)
    }
}

/// Builds envs inside the worker that will own them. Takes the *global* env index.
pub type EnvFactory = std::sync::Arc<dyn Fn(u64) -> Result<Box<dyn Env>, EnvError> + Send + Sync>;

/// Checks an observation buffer length, for env implementations.
pub fn check_obs_len(spec: &EnvSpec, obs: &[f32]) -> Result<(), EnvError> {
    let expected = spec.obs_dim();
    if obs.len() == expected {
        Ok(())
    } else {
        Err(EnvError::ObsBuffer {
            env: spec.id.clone(),
            expected,
            got: obs.len(),
        })
    }
}

/// Checks that an action is in the spec's action space, for env implementations.
pub fn check_action(spec: &EnvSpec, action: &[f32]) -> Result<(), EnvError> {
    if spec.action_space.contains(action) {
        Ok(())
    } else {
        Err(EnvError::InvalidAction {
            env: spec.id.clone(),
            action: action.to_vec(),
            space: spec.action_space.to_string(),
        })
    }
}
