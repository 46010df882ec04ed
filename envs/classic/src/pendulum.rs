//! Pendulum-v1, as gymnasium's `pendulum.py`: swing a frictionless pendulum up and keep it
//! upright. Reward `−(θ_n² + 0.1 θ̇² + 0.001 u²)` with `θ_n` wrapped to `[−π, π)`; never
//! terminates; truncated at 200 steps.
//!
//! The torque is float32 in gymnasium (`np.clip` of the float32 action) and, under numpy 2's
//! promotion rules, `3 u` and `0.001 u²` are computed in float32; the same is done here.

use crate::{Episode, check_continuous};
use mirrorflow_core::env::check_obs_len;
use mirrorflow_core::{Env, EnvError, EnvSpec, Rng, Space, StepInfo};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

const MAX_SPEED: f64 = 8.0;
const MAX_TORQUE: f32 = 2.0;
const DT: f64 = 0.05;
const M: f64 = 1.0;
const L: f64 = 1.0;

/// Parameters of `Pendulum-v1`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PendulumConfig {
    /// Gravity (gymnasium default 10.0).
    pub g: f64,
    /// Time limit in steps (gymnasium: 200).
    pub max_episode_steps: u32,
}

impl Default for PendulumConfig {
    fn default() -> Self {
        Self {
            g: 10.0,
            max_episode_steps: 200,
        }
    }
}

/// The inverted-pendulum swing-up task.
#[derive(Clone, Debug)]
pub struct Pendulum {
    spec: EnvSpec,
    g: f64,
    state: [f64; 2],
    rng: Rng,
    episode: Episode,
}

/// Wraps an angle to `[−π, π)` exactly as Python's `((x + π) % 2π) − π`.
fn angle_normalize(x: f64) -> f64 {
    (x + PI).rem_euclid(2.0 * PI) - PI
}

impl Pendulum {
    /// A new env; call `reset` before stepping.
    pub fn new(cfg: PendulumConfig) -> Self {
        let spec = EnvSpec::new(
            "Pendulum-v1",
            Space::boxed(
                vec![-1.0, -1.0, -MAX_SPEED as f32],
                vec![1.0, 1.0, MAX_SPEED as f32],
            ),
            Space::boxed(vec![-MAX_TORQUE], vec![MAX_TORQUE]),
        )
        .with_max_episode_steps(cfg.max_episode_steps);
        Self {
            spec: EnvSpec {
                render_fps: Some(30),
                ..spec
            },
            g: cfg.g,
            state: [0.0; 2],
            rng: Rng::seed_from(0),
            episode: Episode::new(cfg.max_episode_steps),
        }
    }

    fn write_obs(&self, obs: &mut [f32]) {
        let [th, thdot] = self.state;
        obs[0] = th.cos() as f32;
        obs[1] = th.sin() as f32;
        obs[2] = thdot as f32;
    }
}

impl Default for Pendulum {
    fn default() -> Self {
        Self::new(PendulumConfig::default())
    }
}

impl Env for Pendulum {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn render_rgb(&mut self) -> Option<mirrorflow_core::Frame> {
        Some(crate::render::pendulum(self.state[0]))
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Result<(), EnvError> {
        check_obs_len(&self.spec, obs)?;
        if let Some(s) = seed {
            self.rng = Rng::seed_from(s);
        }
        self.state = [self.rng.uniform(-PI, PI), self.rng.uniform(-1.0, 1.0)];
        self.episode.begin();
        self.write_obs(obs);
        Ok(())
    }

    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> Result<StepInfo, EnvError> {
        check_obs_len(&self.spec, obs)?;
        check_continuous(&self.spec, action)?;
        self.episode.check(&self.spec)?;
        let [th, thdot] = self.state;
        let u: f32 = action[0].clamp(-MAX_TORQUE, MAX_TORQUE);
        let costs = angle_normalize(th).powi(2) + 0.1 * thdot * thdot + (0.001f32 * (u * u)) as f64;
        let torque_term = ((3.0 / (M * L * L)) as f32 * u) as f64;
        let newthdot = (thdot + (3.0 * self.g / (2.0 * L) * th.sin() + torque_term) * DT)
            .clamp(-MAX_SPEED, MAX_SPEED);
        let newth = th + newthdot * DT;
        self.state = [newth, newthdot];
        self.write_obs(obs);
        Ok(self.episode.finish(-costs, false))
    }

    crate::checkpoint_methods!();
}

crate::physical_state!(Pendulum, 2);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn angle_normalize_matches_python_modulo() {
        assert_eq!(angle_normalize(PI), -PI);
        assert!((angle_normalize(-3.0 * PI / 2.0) - PI / 2.0).abs() < 1e-15);
        assert_eq!(angle_normalize(0.3) - 0.3, -1.6653345369377348e-16); // what Python gives
    }
}
