//! A generative model of a [`TabularMdp`] played as an [`Env`], for sampled backups collected by
//! env shards (spec §2.3, "sampled backups": `n` next-state samples per `(s, a)` per iteration).
//!
//! Env `i` of `E` sweeps the state–action pairs `k = i, i + E, i + 2E, …` (mod `S·A`). Its
//! observation is `[s_k, a_k]`: the pair to sample next. A step with action `a` draws
//! `s' ~ P(·|s_k, a)`, pays `r(s_k, a)`, reports `[s', a]` as the next observation and ends the
//! one-step episode (truncation), so the shard's auto-reset moves the env to its next pair.
//! Together the `E` envs sample every pair exactly `n` times in each run of `n·S·A` steps, in
//! the canonical order of the runtime, whatever the placement. Acting policies play `obs[1]`.

use mirrorflow_core::codec::{Reader, Writer};
use mirrorflow_core::env::{check_action, check_obs_len};
use mirrorflow_core::{Env, EnvError, EnvSpec, Rng, Space, StepInfo, TabularMdp};
use std::sync::Arc;

/// One sweeping sampler of a tabular model.
#[derive(Clone, Debug)]
pub struct GenerativeEnv {
    mdp: Arc<TabularMdp>,
    spec: EnvSpec,
    rng: Rng,
    /// Next pair index (unreduced) and the sweep stride.
    pair: u64,
    stride: u64,
    active: bool,
}

impl GenerativeEnv {
    /// Env `index` of `count` sweeping `mdp`; `id` names it in errors.
    pub fn new(id: &str, mdp: Arc<TabularMdp>, index: u64, count: u64) -> Self {
        let (s_n, a_n) = (mdp.num_states(), mdp.num_actions());
        let spec = EnvSpec::new(
            id,
            Space::boxed(
                vec![0.0, 0.0],
                vec![(s_n.max(1) - 1) as f32, (a_n.max(1) - 1) as f32],
            ),
            Space::discrete(a_n as u64),
        )
        .with_gamma(mdp.gamma())
        .with_max_episode_steps(1);
        Self {
            mdp,
            spec,
            rng: Rng::seed_from(0),
            pair: index,
            stride: count.max(1),
            active: false,
        }
    }

    fn current(&self) -> (usize, usize) {
        let a_n = self.mdp.num_actions() as u64;
        let k = self.pair % (self.mdp.num_states() as u64 * a_n);
        ((k / a_n) as usize, (k % a_n) as usize)
    }
}

impl Env for GenerativeEnv {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Result<(), EnvError> {
        check_obs_len(&self.spec, obs)?;
        if let Some(s) = seed {
            self.rng = Rng::seed_from(s);
        }
        if self.active {
            // a reset in the middle of a pair skips it, as a finished step does
            self.pair += self.stride;
        }
        let (s, a) = self.current();
        obs[0] = s as f32;
        obs[1] = a as f32;
        self.active = true;
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
        let (s, _) = self.current();
        let a = action[0] as usize;
        let reward = self.mdp.rewards()[s * self.mdp.num_actions() + a];
        let next = self.mdp.sample_next(s, a, &mut self.rng);
        self.pair += self.stride;
        self.active = false;
        obs[0] = next as f32;
        obs[1] = a as f32;
        Ok(StepInfo {
            reward,
            terminated: false,
            truncated: true,
        })
    }

    fn save_state(&self) -> Option<Vec<u8>> {
        let mut w = Writer::new();
        w.u64(self.pair).u64(self.active as u64).rng(&self.rng);
        Some(w.bytes)
    }

    fn load_state(&mut self, bytes: &[u8]) -> Result<(), EnvError> {
        let bad = |e: mirrorflow_core::Error| EnvError::Failed {
            env: self.spec.id.clone(),
            call: "load_state",
            message: e.to_string(),
        };
        let mut r = Reader::new(bytes);
        let pair = r.u64().map_err(bad)?;
        let active = r.u64().map_err(bad)? != 0;
        let rng = r.rng().map_err(bad)?;
        (self.pair, self.active, self.rng) = (pair, active, rng);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envs_together_sample_every_pair_n_times() {
        let mdp = Arc::new(
            crate::garnet::GarnetConfig {
                num_states: 5,
                num_actions: 3,
                ..Default::default()
            }
            .build()
            .unwrap(),
        );
        let count = 4u64;
        let mut hits = vec![0u32; 15];
        let mut envs: Vec<GenerativeEnv> = (0..count)
            .map(|i| GenerativeEnv::new("g", mdp.clone(), i, count))
            .collect();
        let mut obs = [0.0f32; 2];
        // 2 sweeps of 15 pairs: 30 steps, the envs taking turns as a shard steps them
        let mut current: Vec<[f32; 2]> = (0..count)
            .map(|i| {
                let mut o = [0.0f32; 2];
                envs[i as usize].reset(None, &mut o).unwrap();
                o
            })
            .collect();
        for step in 0..30 {
            let i = step % count as usize;
            let e = &mut envs[i];
            let (s, a) = (current[i][0] as usize, current[i][1] as usize);
            let info = e.step(&[a as f32], &mut obs).unwrap();
            assert!(info.truncated && !info.terminated);
            assert_eq!(info.reward, mdp.rewards()[s * 3 + a]);
            assert!(mdp.transitions(s, a).0.contains(&(obs[0] as u32)));
            hits[s * 3 + a] += 1;
            e.reset(None, &mut current[i]).unwrap();
        }
        assert!(hits.iter().all(|&h| h == 2), "{hits:?}");
        // checkpoints restore the sweep and the random stream
        let saved = envs[1].save_state().unwrap();
        let mut copy = GenerativeEnv::new("g", mdp.clone(), 0, 1);
        copy.load_state(&saved).unwrap();
        let (mut a, mut b) = ([0.0f32; 2], [0.0f32; 2]);
        envs[1].step(&[0.0], &mut a).unwrap();
        copy.step(&[0.0], &mut b).unwrap();
        assert_eq!(a, b);
    }
}
