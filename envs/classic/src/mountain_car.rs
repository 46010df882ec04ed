//! MountainCar-v0 (Moore 1990), as gymnasium's `mountain_car.py`: drive an under-powered car up
//! the right hill. −1 per step; terminates at `position ≥ 0.5` (and `velocity ≥ goal_velocity`);
//! truncated at 200 steps.

use crate::Episode;
use mirrorflow_core::env::{check_action, check_obs_len};
use mirrorflow_core::{Env, EnvError, EnvSpec, Rng, Space, StepInfo};
use serde::{Deserialize, Serialize};

pub(crate) const MIN_POSITION: f64 = -1.2;
pub(crate) const MAX_POSITION: f64 = 0.6;
pub(crate) const MAX_SPEED: f64 = 0.07;
const GOAL_POSITION: f64 = 0.5;
const FORCE: f64 = 0.001;
const GRAVITY: f64 = 0.0025;

/// Parameters of `MountainCar-v0`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MountainCarConfig {
    /// Minimum velocity at the goal (gymnasium default 0).
    pub goal_velocity: f64,
    /// Time limit in steps (gymnasium: 200).
    pub max_episode_steps: u32,
}

impl Default for MountainCarConfig {
    fn default() -> Self {
        Self {
            goal_velocity: 0.0,
            max_episode_steps: 200,
        }
    }
}

/// The discrete-action mountain car.
#[derive(Clone, Debug)]
pub struct MountainCar {
    spec: EnvSpec,
    goal_velocity: f64,
    state: [f64; 2],
    rng: Rng,
    episode: Episode,
}

impl MountainCar {
    /// A new env; call `reset` before stepping.
    pub fn new(cfg: MountainCarConfig) -> Self {
        let spec = EnvSpec::new(
            "MountainCar-v0",
            Space::boxed(
                vec![MIN_POSITION as f32, -MAX_SPEED as f32],
                vec![MAX_POSITION as f32, MAX_SPEED as f32],
            ),
            Space::discrete(3),
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

impl Default for MountainCar {
    fn default() -> Self {
        Self::new(MountainCarConfig::default())
    }
}

impl Env for MountainCar {
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
        check_action(&self.spec, action)?;
        self.episode.check(&self.spec)?;
        let [mut position, mut velocity] = self.state;
        velocity += (action[0] as f64 - 1.0) * FORCE + (3.0 * position).cos() * (-GRAVITY);
        velocity = velocity.clamp(-MAX_SPEED, MAX_SPEED);
        position += velocity;
        position = position.clamp(MIN_POSITION, MAX_POSITION);
        if position == MIN_POSITION && velocity < 0.0 {
            velocity = 0.0;
        }
        let terminated = position >= GOAL_POSITION && velocity >= self.goal_velocity;
        self.state = [position, velocity];
        obs[0] = position as f32;
        obs[1] = velocity as f32;
        Ok(self.episode.finish(-1.0, terminated))
    }

    crate::checkpoint_methods!();
}

crate::physical_state!(MountainCar, 2);
