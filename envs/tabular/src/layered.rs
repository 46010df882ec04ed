//! Layered episodic MDPs with stochastic, adversarial or corrupted losses (spec §1.4, §5, §10.3).
//!
//! Layers `S_0, …, S_{H−1}` (sizes given); from layer `h` the next state is in layer `h + 1`,
//! drawn from a fixed `P(·|s, a) ~ Dirichlet(1)`; after layer `H − 1` the episode ends. Round
//! `t` (one episode) has losses `ℓ_t(s, a) ∈ [0, 1]`:
//!
//! * `stochastic`: `ℓ_t(s, a) ~ Bernoulli(ℓ̄(s, a))`, `ℓ̄ = best_loss` for one action per state
//!   (drawn from the model seed) and `other_loss` for the rest;
//! * `adversarial`: deterministic losses whose best action per state shifts by one at the start
//!   of each phase, phases of lengths 1, 2, 4, … (`2^j`);
//! * `corrupted`: adversarial for the first `corrupted_rounds` rounds, stochastic afterwards.
//!
//! As an env, observations are state indices, the reward is `−ℓ_t(s, a)` and `reset` starts
//! round `t + 1`.

use crate::{TabularError, param};
use mirrorflow_core::env::{check_action, check_obs_len};
use mirrorflow_core::{Env, EnvError, EnvSpec, Rng, Space, StepInfo};
use serde::{Deserialize, Serialize};

pub use mirrorflow_core::episodic::{LayeredModel, LossRegime, LossSchedule};

/// The built model (transitions in core, so learners can plan with it).
pub type LayeredMdp = LayeredModel;

/// Parameters of a layered MDP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LayeredConfig {
    /// States per layer; the first layer is the start distribution (uniform over it).
    pub layer_sizes: Vec<usize>,
    /// Actions per state.
    pub num_actions: usize,
    /// Loss regime.
    pub regime: LossRegime,
    /// Mean loss of the best action per state.
    pub best_loss: f64,
    /// Mean loss of the other actions.
    pub other_loss: f64,
    /// Adversarial rounds before the stochastic ones (regime `corrupted`).
    pub corrupted_rounds: u64,
    /// Seed of the transitions and best actions.
    pub model_seed: u64,
}

impl Default for LayeredConfig {
    fn default() -> Self {
        Self {
            layer_sizes: vec![1, 2, 2],
            num_actions: 2,
            regime: LossRegime::Stochastic,
            best_loss: 0.4,
            other_loss: 0.6,
            corrupted_rounds: 316,
            model_seed: 0,
        }
    }
}

impl LayeredConfig {
    /// Checks ranges.
    pub fn validate(&self) -> Result<(), TabularError> {
        if self.layer_sizes.is_empty() || self.layer_sizes.contains(&0) {
            return Err(param(
                "layer_sizes",
                format!("{:?}", self.layer_sizes),
                "needs at least one layer, each with at least one state",
            ));
        }
        if self.num_actions < 2 {
            return Err(param("num_actions", self.num_actions, "must be at least 2"));
        }
        for (f, v) in [
            ("best_loss", self.best_loss),
            ("other_loss", self.other_loss),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(param(f, v, "must be in [0, 1]"));
            }
        }
        Ok(())
    }

    /// Builds the MDP.
    pub fn build(&self) -> Result<LayeredMdp, TabularError> {
        self.validate()?;
        let num_states: usize = self.layer_sizes.iter().sum();
        let mut rng = Rng::seed_from(self.model_seed);
        let mut transition = Vec::with_capacity(num_states * self.num_actions);
        let mut best_action = Vec::with_capacity(num_states);
        for h in 0..self.layer_sizes.len() {
            let next = self.layer_sizes.get(h + 1).copied().unwrap_or(0);
            for _ in 0..self.layer_sizes[h] {
                for _ in 0..self.num_actions {
                    // Dirichlet(1): normalized exponentials.
                    let mut w: Vec<f64> = (0..next).map(|_| -(1.0 - rng.next_f64()).ln()).collect();
                    let total: f64 = w.iter().sum();
                    w.iter_mut().for_each(|x| *x /= total);
                    transition.push(w);
                }
                best_action.push(rng.below(self.num_actions as u64) as usize);
            }
        }
        let losses = LossSchedule {
            regime: self.regime,
            best: self.best_loss,
            other: self.other_loss,
            corrupted_rounds: self.corrupted_rounds,
            best_action,
        };
        Ok(LayeredModel::new(
            &self.layer_sizes,
            self.num_actions,
            transition,
            losses,
        )?)
    }
}

/// A layered MDP played as an env: one episode per round.
#[derive(Clone, Debug)]
pub struct LayeredEnv {
    mdp: LayeredMdp,
    spec: EnvSpec,
    rng: Rng,
    round: Option<u64>,
    losses: Vec<f64>,
    state: usize,
    active: bool,
}

impl LayeredEnv {
    /// Wraps a built MDP.
    pub fn new(mdp: LayeredMdp) -> Self {
        let spec = EnvSpec::new(
            "layered",
            Space::discrete(mdp.num_states() as u64),
            Space::discrete(mdp.num_actions() as u64),
        )
        .with_max_episode_steps(mdp.horizon() as u32);
        let losses = vec![0.0; mdp.num_states() * mdp.num_actions()];
        Self {
            mdp,
            spec,
            rng: Rng::seed_from(0),
            round: None,
            losses,
            state: 0,
            active: false,
        }
    }

    /// The underlying MDP.
    pub fn mdp(&self) -> &LayeredMdp {
        &self.mdp
    }

    /// Current round (episode index), if started.
    pub fn round(&self) -> Option<u64> {
        self.round
    }
}

impl Env for LayeredEnv {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Result<(), EnvError> {
        check_obs_len(&self.spec, obs)?;
        if let Some(s) = seed {
            self.rng = Rng::seed_from(s);
            self.round = None;
        }
        let t = self.round.map_or(0, |t| t + 1);
        self.round = Some(t);
        self.mdp.draw_losses(t, &mut self.rng, &mut self.losses);
        let first = self.mdp.layer(0);
        self.state = first.start + self.rng.below(first.len() as u64) as usize;
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
        let loss = self.losses[self.state * self.mdp.num_actions() + a];
        let h = self.mdp.layer_of(self.state);
        let terminated = h + 1 == self.mdp.horizon();
        if !terminated {
            let p = self.mdp.transition(self.state, a);
            self.state = self.mdp.layer(h + 1).start + self.rng.categorical(p);
        }
        self.active = !terminated;
        obs[0] = self.state as f32;
        Ok(StepInfo {
            reward: -loss,
            terminated,
            truncated: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_and_phases() {
        let m = LayeredConfig {
            regime: LossRegime::Adversarial,
            ..Default::default()
        }
        .build()
        .unwrap();
        assert_eq!((m.num_states(), m.horizon()), (5, 3));
        assert_eq!(m.layer_of(0), 0);
        assert_eq!(m.layer_of(2), 1);
        assert_eq!(m.layer_of(4), 2);
        assert!((m.transition(0, 1).iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(m.transition(4, 0).is_empty());
        let (mut l0, mut l1, mut l3) = (vec![0.0; 10], vec![0.0; 10], vec![0.0; 10]);
        m.mean_losses(0, &mut l0); // phase 0: t = 0
        m.mean_losses(1, &mut l1); // phase 1: t = 1, 2
        m.mean_losses(3, &mut l3); // phase 2: t = 3..6
        assert_ne!(l0, l1);
        assert_eq!(l0, l3);
    }

    #[test]
    fn episodes_walk_the_layers() {
        let mut env = LayeredEnv::new(LayeredConfig::default().build().unwrap());
        mirrorflow_testkit::check_env(
            || LayeredEnv::new(LayeredConfig::default().build().unwrap()),
            100,
        );
        let mut obs = [0.0];
        env.reset(Some(1), &mut obs).unwrap();
        assert_eq!(obs[0], 0.0);
        let i1 = env.step(&[0.0], &mut obs).unwrap();
        assert!(obs[0] == 1.0 || obs[0] == 2.0);
        assert!(!i1.done());
        env.step(&[1.0], &mut obs).unwrap();
        let i3 = env.step(&[1.0], &mut obs).unwrap();
        assert!(i3.terminated);
        assert_eq!(env.round(), Some(0));
    }
}
