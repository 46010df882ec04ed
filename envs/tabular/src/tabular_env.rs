//! A [`TabularMdp`] played as an [`Env`]: observations are state indices.

use mirrorflow_core::codec::{Reader, Writer};
use mirrorflow_core::env::{check_action, check_obs_len};
use mirrorflow_core::{Env, EnvError, EnvSpec, Rng, Space, StepInfo, TabularMdp};
use std::sync::Arc;

/// Samples a tabular MDP: `reset` draws `s0 ~ ρ0`, `step` draws `s' ~ P(·|s, a)` and pays
/// `r(s, a)`. The task is continuing: episodes end only by the time limit (truncation), so
/// bootstrapping stays correct. The model is shared (`Arc`) between the envs of a shard.
#[derive(Clone, Debug)]
pub struct TabularEnv {
    mdp: Arc<TabularMdp>,
    spec: EnvSpec,
    rng: Rng,
    state: usize,
    steps: u32,
    active: bool,
}

impl TabularEnv {
    /// Wraps `mdp` with a time limit (`0` = none).
    pub fn new(id: &str, mdp: Arc<TabularMdp>, max_episode_steps: u32) -> Self {
        let mut spec = EnvSpec::new(
            id,
            Space::discrete(mdp.num_states() as u64),
            Space::discrete(mdp.num_actions() as u64),
        )
        .with_gamma(mdp.gamma());
        if max_episode_steps > 0 {
            spec = spec.with_max_episode_steps(max_episode_steps);
        }
        Self {
            mdp,
            spec,
            rng: Rng::seed_from(0),
            state: 0,
            steps: 0,
            active: false,
        }
    }

    /// The model.
    pub fn mdp(&self) -> &Arc<TabularMdp> {
        &self.mdp
    }
}

impl Env for TabularEnv {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Result<(), EnvError> {
        check_obs_len(&self.spec, obs)?;
        if let Some(s) = seed {
            self.rng = Rng::seed_from(s);
        }
        self.state = self.mdp.sample_initial(&mut self.rng);
        self.steps = 0;
        self.active = true;
        obs[0] = self.state as f32;
        Ok(())
    }

    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> Result<StepInfo, EnvError> {
        check_obs_len(&self.spec, obs)?;
        check_action(&self.spec, action)?;
        if !self.active {
            return Err(EnvError::NeedsReset {
                env: self.spec.id.clone(),
                when: "after the episode ended",
            });
        }
        let a = action[0] as usize;
        let reward = self.mdp.rewards()[self.state * self.mdp.num_actions() + a];
        self.state = self.mdp.sample_next(self.state, a, &mut self.rng);
        self.steps += 1;
        let truncated = self.spec.max_episode_steps.is_some_and(|l| self.steps >= l);
        self.active = !truncated;
        obs[0] = self.state as f32;
        Ok(StepInfo {
            reward,
            terminated: false,
            truncated,
        })
    }

    fn save_state(&self) -> Option<Vec<u8>> {
        let mut w = Writer::new();
        w.u64(self.state as u64)
            .u64(self.steps as u64)
            .u64(self.active as u64)
            .rng(&self.rng);
        Some(w.bytes)
    }

    fn load_state(&mut self, bytes: &[u8]) -> Result<(), EnvError> {
        let bad = |e: mirrorflow_core::Error| EnvError::Failed {
            env: self.spec.id.clone(),
            call: "load_state",
            message: e.to_string(),
        };
        let mut r = Reader::new(bytes);
        let (state, steps, active) = (
            r.u64().map_err(bad)?,
            r.u64().map_err(bad)?,
            r.u64().map_err(bad)?,
        );
        let rng = r.rng().map_err(bad)?;
        if state as usize >= self.mdp.num_states() {
            return Err(EnvError::Failed {
                env: self.spec.id.clone(),
                call: "load_state",
                message: format!("state {state} out of range"),
            });
        }
        (self.state, self.steps, self.active, self.rng) =
            (state as usize, steps as u32, active != 0, rng);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::garnet::GarnetConfig;

    #[test]
    fn conformance() {
        let mdp = Arc::new(
            GarnetConfig {
                num_states: 20,
                ..Default::default()
            }
            .build()
            .unwrap(),
        );
        mirrorflow_testkit::check_env(|| TabularEnv::new("garnet", mdp.clone(), 50), 300);
    }
}
