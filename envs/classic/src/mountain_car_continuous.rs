//! MountainCarContinuous-v0, as gymnasium's `continuous_mountain_car.py`: the mountain car with
//! a force in `[−1, 1]`. Reward `−0.1 a²` per step (on the unclipped action) and +100 at the
//! goal (`position ≥ 0.45`); truncated at 999 steps.
//!
//! gymnasium stores the state as float32 after every step and computes `force · power` in
//! float32; the same roundings are applied here.

use crate::mountain_car::{MAX_POSITION, MAX_SPEED, MIN_POSITION};
use crate::{Episode, check_continuous};
use mirrorflow_core::env::check_obs_len;
use mirrorflow_core::{Env, EnvError, EnvSpec, Rng, Space, StepInfo};
use serde::{Deserialize, Serialize};

const GOAL_POSITION: f64 = 0.45;
const POWER: f32 = 0.0015;

/// Parameters of `MountainCarContinuous-v0`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MountainCarContinuousConfig {
    /// Minimum velocity at the goal (gymnasium default 0).
    pub goal_velocity: f64,
    /// Time limit in steps (gymnasium: 999).
    pub max_episode_steps: u32,
}

impl Default for MountainCarContinuousConfig {
    fn default() -> Self {
        Self {
            goal_velocity: 0.0,
            max_episode_steps: 999,
        }
    }
}

/// The continuous-action mountain car.
#[derive(Clone, Debug)]
pub struct MountainCarContinuous {
    spec: EnvSpec,
    goal_velocity: f64,
    state: [f64; 2],
    rng: Rng,
    episode: Episode,
}

impl MountainCarContinuous {
    /// A new env; call `reset` before stepping.
    pub fn new(cfg: MountainCarContinuousConfig) -> Self {
        let spec = EnvSpec::new(
            "MountainCarContinuous-v0",
            Space::boxed(
                vec![MIN_POSITION as f32, -MAX_SPEED as f32],
                vec![MAX_POSITION as f32, MAX_SPEED as f32],
            ),
            Space::boxed(vec![-1.0], vec![1.0]),
        )
        .with_max_episode_steps(cfg.max_episode_steps);
        Self {
            spec: EnvSpec {
                render_fps: Some(30),
                ..spec
            },
            goal_velocity: cfg.goal_velocity,
            state: [0.0; 2],
            rng: Rng::seed_from(0),
            episode: Episode::new(cfg.max_episode_steps),
        }
    }
}

impl Default for MountainCarContinuous {
    fn default() -> Self {
        Self::new(MountainCarContinuousConfig::default())
    }
}

impl Env for MountainCarContinuous {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn render_rgb(&mut self) -> Option<mirrorflow_core::Frame> {
        Some(crate::render::mountain_car(
            self.state[0],
            GOAL_POSITION,
            MIN_POSITION,
            MAX_POSITION,
        ))
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Result<(), EnvError> {
        check_obs_len(&self.spec, obs)?;
        if let Some(s) = seed {
            self.rng = Rng::seed_from(s);
        }
        self.state = [self.rng.uniform(-0.6, -0.4), 0.0];
        self.episode.begin();
        obs[0] = self.state[0] as f32;
        obs[1] = self.state[1] as f32;
        Ok(())
    }

    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> Result<StepInfo, EnvError> {
        check_obs_len(&self.spec, obs)?;
        check_continuous(&self.spec, action)?;
        self.episode.check(&self.spec)?;
        let [mut position, mut velocity] = self.state;
        let force = action[0].clamp(-1.0, 1.0);
        velocity += ((force * POWER) as f64 - 0.0025 * (3.0 * position).cos()) as f32 as f64;
        velocity = velocity.clamp(-MAX_SPEED, MAX_SPEED);
        position += velocity;
        position = position.clamp(MIN_POSITION, MAX_POSITION);
        if position == MIN_POSITION && velocity < 0.0 {
            velocity = 0.0;
        }
        let terminated = position >= GOAL_POSITION && velocity >= self.goal_velocity;
        let mut reward = if terminated { 100.0 } else { 0.0 };
        reward -= (action[0] as f64).powi(2) * 0.1;
        self.state = [position as f32 as f64, velocity as f32 as f64];
        obs[0] = position as f32;
        obs[1] = velocity as f32;
        Ok(self.episode.finish(reward, terminated))
    }

    crate::checkpoint_methods!();
}

crate::physical_state!(MountainCarContinuous, 2);
