//! CartPole-v1 (Barto, Sutton & Anderson 1983), as gymnasium's `cartpole.py`.
//!
//! Euler integration with `dt = 0.02`; terminates when `|x| > 2.4` or `|θ| > 12°`; +1 reward per
//! step including the terminating one; truncated at 500 steps.

use crate::Episode;
use mirrorflow_core::env::{check_action, check_obs_len};
use mirrorflow_core::{Env, EnvError, EnvSpec, Rng, Space, StepInfo};
use serde::{Deserialize, Serialize};

const GRAVITY: f64 = 9.8;
const MASS_CART: f64 = 1.0;
const MASS_POLE: f64 = 0.1;
const TOTAL_MASS: f64 = MASS_POLE + MASS_CART;
const LENGTH: f64 = 0.5; // half the pole's length
const POLEMASS_LENGTH: f64 = MASS_POLE * LENGTH;
const FORCE_MAG: f64 = 10.0;
const TAU: f64 = 0.02;
const THETA_THRESHOLD: f64 = 12.0 * 2.0 * std::f64::consts::PI / 360.0;
const X_THRESHOLD: f64 = 2.4;

/// Parameters of `CartPole-v1`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CartPoleConfig {
    /// Reward 0 per step and −1 on termination (Sutton & Barto) instead of +1 per step.
    pub sutton_barto_reward: bool,
    /// Time limit in steps (gymnasium: 500).
    pub max_episode_steps: u32,
}

impl Default for CartPoleConfig {
    fn default() -> Self {
        Self {
            sutton_barto_reward: false,
            max_episode_steps: 500,
        }
    }
}

/// The cart-pole balancing task.
#[derive(Clone, Debug)]
pub struct CartPole {
    spec: EnvSpec,
    cfg: CartPoleConfig,
    state: [f64; 4],
    rng: Rng,
    episode: Episode,
}

impl CartPole {
    /// A new env; call `reset` before stepping.
    pub fn new(cfg: CartPoleConfig) -> Self {
        let high = [
            X_THRESHOLD as f32 * 2.0,
            f32::INFINITY,
            THETA_THRESHOLD as f32 * 2.0,
            f32::INFINITY,
        ];
        let spec = EnvSpec::new(
            "CartPole-v1",
            Space::boxed(high.iter().map(|h| -h).collect(), high.to_vec()),
            Space::discrete(2),
        )
        .with_max_episode_steps(cfg.max_episode_steps);
        let episode = Episode::new(cfg.max_episode_steps);
        Self {
            spec: EnvSpec {
                render_fps: Some(50),
                ..spec
            },
            cfg,
            state: [0.0; 4],
            rng: Rng::seed_from(0),
            episode,
        }
    }

    fn write_obs(&self, obs: &mut [f32]) {
        for (o, s) in obs.iter_mut().zip(self.state) {
            *o = s as f32;
        }
    }
}

impl Default for CartPole {
    fn default() -> Self {
        Self::new(CartPoleConfig::default())
    }
}

impl Env for CartPole {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn render_rgb(&mut self) -> Option<mirrorflow_core::Frame> {
        Some(crate::render::cartpole(
            self.state[0],
            self.state[2],
            X_THRESHOLD,
            LENGTH,
        ))
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Result<(), EnvError> {
        check_obs_len(&self.spec, obs)?;
        if let Some(s) = seed {
            self.rng = Rng::seed_from(s);
        }
        for v in &mut self.state {
            *v = self.rng.uniform(-0.05, 0.05);
        }
        self.episode.begin();
        self.write_obs(obs);
        Ok(())
    }

    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> Result<StepInfo, EnvError> {
        check_obs_len(&self.spec, obs)?;
        check_action(&self.spec, action)?;
        self.episode.check(&self.spec)?;
        let [x, x_dot, theta, theta_dot] = self.state;
        let force = if action[0] == 1.0 {
            FORCE_MAG
        } else {
            -FORCE_MAG
        };
        let (sintheta, costheta) = (theta.sin(), theta.cos());
        let temp = (force + POLEMASS_LENGTH * (theta_dot * theta_dot) * sintheta) / TOTAL_MASS;
        let thetaacc = (GRAVITY * sintheta - costheta * temp)
            / (LENGTH * (4.0 / 3.0 - MASS_POLE * (costheta * costheta) / TOTAL_MASS));
        let xacc = temp - POLEMASS_LENGTH * thetaacc * costheta / TOTAL_MASS;
        self.state = [
            x + TAU * x_dot,
            x_dot + TAU * xacc,
            theta + TAU * theta_dot,
            theta_dot + TAU * thetaacc,
        ];
        let [x, _, theta, _] = self.state;
        let terminated = x < -X_THRESHOLD
            || x > X_THRESHOLD
            || theta < -THETA_THRESHOLD
            || theta > THETA_THRESHOLD;
        let reward = match (self.cfg.sutton_barto_reward, terminated) {
            (false, _) => 1.0,
            (true, false) => 0.0,
            (true, true) => -1.0,
        };
        self.write_obs(obs);
        Ok(self.episode.finish(reward, terminated))
    }

    crate::checkpoint_methods!();
}

crate::physical_state!(CartPole, 4);
