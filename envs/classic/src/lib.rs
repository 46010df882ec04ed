//! # mirrorflow-env-classic
//!
//! Classic-control environments, faithful to gymnasium 1.x (`gymnasium/envs/classic_control`,
//! version 1.4.0): same constants, integrators, spaces, rewards, termination and time-limit
//! truncation. A conformance test replays action sequences recorded from real gymnasium and
//! compares every observation, reward and flag (`tests/data/gym/`).
//!
//! Where gymnasium mixes float32 and float64 (Pendulum's torque, MountainCarContinuous's state),
//! the same roundings are applied here, so trajectories agree to float32 precision.
//!
//! Initial states are drawn from each env's own [`Rng`](mirrorflow_core::Rng) (not numpy's
//! PCG64), so `reset(seed)` gives a different, but identically distributed, start than
//! gymnasium. [`PhysicalState::set_physical_state`] sets the state exactly, for replays.
#![deny(missing_docs)]

mod acrobot;
mod cartpole;
mod mountain_car;
mod mountain_car_continuous;
mod pendulum;
mod render;

pub use acrobot::{Acrobot, AcrobotConfig};
pub use cartpole::{CartPole, CartPoleConfig};
pub use mountain_car::{MountainCar, MountainCarConfig};
pub use mountain_car_continuous::{MountainCarContinuous, MountainCarContinuousConfig};
pub use pendulum::{Pendulum, PendulumConfig};

use mirrorflow_core::codec::{Reader, Writer};
use mirrorflow_core::{EnvError, EnvSpec, Rng, StepInfo};

/// Access to the internal physical state (gymnasium's `env.unwrapped.state`), for replaying
/// recorded trajectories and for tests.
pub trait PhysicalState {
    /// The state vector, as gymnasium stores it (f64).
    fn physical_state(&self) -> Vec<f64>;
    /// Sets the state as after a reset (episode step counter back to 0).
    fn set_physical_state(&mut self, state: &[f64]) -> Result<(), EnvError>;
}

/// `save_state` / `load_state` for an env with fields `state`, `rng`, `episode` and `spec`
/// (used inside each `impl Env`).
macro_rules! checkpoint_methods {
    () => {
        fn save_state(&self) -> Option<Vec<u8>> {
            Some(crate::save(&self.state, &self.rng, &self.episode))
        }

        fn load_state(&mut self, bytes: &[u8]) -> Result<(), EnvError> {
            crate::load(
                &self.spec,
                bytes,
                &mut self.state,
                &mut self.rng,
                &mut self.episode,
            )
        }
    };
}
pub(crate) use checkpoint_methods;

/// [`PhysicalState`] for an env whose physical state is the array field `state` of length `$n`.
macro_rules! physical_state {
    ($ty:ty, $n:expr) => {
        impl crate::PhysicalState for $ty {
            fn physical_state(&self) -> Vec<f64> {
                self.state.to_vec()
            }

            fn set_physical_state(&mut self, state: &[f64]) -> Result<(), EnvError> {
                self.state = state
                    .try_into()
                    .map_err(|_| crate::state_len_error(&self.spec, $n, state.len()))?;
                self.episode.begin();
                Ok(())
            }
        }
    };
}
pub(crate) use physical_state;

/// Episode bookkeeping shared by the envs: step counter, time limit, reset discipline.
#[derive(Clone, Debug)]
pub(crate) struct Episode {
    pub(crate) steps: u32,
    pub(crate) limit: u32,
    pub(crate) active: bool,
    pub(crate) started: bool,
}

impl Episode {
    pub(crate) fn new(limit: u32) -> Self {
        Self {
            steps: 0,
            limit,
            active: false,
            started: false,
        }
    }

    pub(crate) fn begin(&mut self) {
        self.steps = 0;
        self.active = true;
        self.started = true;
    }

    /// Checks that a step is allowed now.
    pub(crate) fn check(&self, spec: &EnvSpec) -> Result<(), EnvError> {
        if self.active {
            Ok(())
        } else {
            Err(EnvError::NeedsReset {
                env: spec.id.clone(),
                when: if self.started {
                    "after the episode ended"
                } else {
                    "before the first reset"
                },
            })
        }
    }

    /// Counts the step and applies the time limit.
    pub(crate) fn finish(&mut self, reward: f64, terminated: bool) -> StepInfo {
        self.steps += 1;
        let truncated = self.limit > 0 && self.steps >= self.limit;
        if terminated || truncated {
            self.active = false;
        }
        StepInfo {
            reward,
            terminated,
            truncated,
        }
    }
}

/// Wrong state length for [`PhysicalState::set_physical_state`].
pub(crate) fn state_len_error(spec: &EnvSpec, expected: usize, got: usize) -> EnvError {
    EnvError::Failed {
        env: spec.id.clone(),
        call: "set_physical_state",
        message: format!("state has {got} values, expected {expected}"),
    }
}

/// Checks a continuous action for NaN and length (gymnasium clips out-of-range values).
pub(crate) fn check_continuous(spec: &EnvSpec, action: &[f32]) -> Result<(), EnvError> {
    if action.len() != spec.act_dim() || action.iter().any(|a| a.is_nan()) {
        return Err(EnvError::InvalidAction {
            env: spec.id.clone(),
            action: action.to_vec(),
            space: spec.action_space.to_string(),
        });
    }
    Ok(())
}

/// Checkpoint bytes of a classic env: physical state, RNG state, episode counters.
pub(crate) fn save(state: &[f64], rng: &Rng, ep: &Episode) -> Vec<u8> {
    let mut w = Writer::new();
    w.f64s(state).rng(rng);
    w.u64(ep.steps as u64)
        .u64(ep.active as u64)
        .u64(ep.started as u64);
    w.bytes
}

/// Restores what [`save`] wrote; errors name the env.
pub(crate) fn load(
    spec: &EnvSpec,
    bytes: &[u8],
    state: &mut [f64],
    rng: &mut Rng,
    ep: &mut Episode,
) -> Result<(), EnvError> {
    let bad = |m: String| EnvError::Failed {
        env: spec.id.clone(),
        call: "load_state",
        message: m,
    };
    let mut r = Reader::new(bytes);
    let s = r.f64s().map_err(|e| bad(e.to_string()))?;
    if s.len() != state.len() {
        return Err(bad(format!(
            "state has {} values, expected {}",
            s.len(),
            state.len()
        )));
    }
    let restored = r.rng().map_err(|e| bad(e.to_string()))?;
    let steps = r.u64().map_err(|e| bad(e.to_string()))?;
    let active = r.u64().map_err(|e| bad(e.to_string()))? != 0;
    let started = r.u64().map_err(|e| bad(e.to_string()))? != 0;
    state.copy_from_slice(&s);
    *rng = restored;
    ep.steps = steps as u32;
    ep.active = active;
    ep.started = started;
    Ok(())
}
