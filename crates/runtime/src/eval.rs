//! Evaluation episodes: the deterministic policy on fresh envs, apart from training.
//!
//! Evaluation envs are built from the same factory as the actors' but are never seen by them,
//! and the policy acts in [`ActMode::Deterministic`], so evaluating changes nothing in the
//! training run (its transitions and metrics stay bit-identical). Episode `i` is reset with the
//! seed `SeedStream::eval(i)`: every evaluation of a run plays the same starting states, which
//! makes successive evaluations comparable.

use mirrorflow_core::{ActMode, EnvFactory, Policy, Rng, SeedStream};
use serde::{Deserialize, Serialize};

/// When and how much to evaluate during a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalPlan {
    /// Evaluate each time this many more env steps have been consumed (and at the end).
    pub every_steps: u64,
    /// Episodes per evaluation.
    pub episodes: u32,
}

/// Returns and lengths of evaluation episodes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EvalResult {
    /// Undiscounted return of every episode.
    pub returns: Vec<f64>,
    /// Length of every episode.
    pub lengths: Vec<u64>,
}

impl EvalResult {
    /// Mean return.
    pub fn mean(&self) -> f64 {
        self.returns.iter().sum::<f64>() / self.returns.len().max(1) as f64
    }

    /// Population standard deviation of the returns.
    pub fn std(&self) -> f64 {
        let m = self.mean();
        (self.returns.iter().map(|r| (r - m).powi(2)).sum::<f64>()
            / self.returns.len().max(1) as f64)
            .sqrt()
    }

    /// Mean episode length.
    pub fn mean_length(&self) -> f64 {
        self.lengths.iter().sum::<u64>() as f64 / self.lengths.len().max(1) as f64
    }
}

/// Longest evaluation episode for envs without a time limit.
pub const MAX_EVAL_STEPS: u64 = 100_000;

/// Plays `episodes` deterministic episodes of `policy`; an env error names the episode and step.
pub fn evaluate(
    envs: &EnvFactory,
    policy: &mut dyn Policy,
    seeds: SeedStream,
    episodes: u32,
) -> Result<EvalResult, String> {
    let mut out = EvalResult::default();
    for i in 0..episodes as u64 {
        let mut env = envs(i).map_err(|e| format!("evaluation env {i}: {e}"))?;
        let spec = env.spec().clone();
        let (mut obs, mut next) = (vec![0.0f32; spec.obs_dim()], vec![0.0f32; spec.obs_dim()]);
        let mut action = vec![0.0f32; spec.act_dim()];
        let mut rng = Rng::seed_from(seeds.eval(i));
        env.reset(Some(seeds.eval(i)), &mut obs)
            .map_err(|e| format!("evaluation episode {i}: reset: {e}"))?;
        let (mut ret, mut len) = (0.0f64, 0u64);
        loop {
            policy.act(&obs, &mut rng, ActMode::Deterministic, &mut action);
            let step = env
                .step(&action, &mut next)
                .map_err(|e| format!("evaluation episode {i}, step {len}: {e}"))?;
            ret += step.reward;
            len += 1;
            std::mem::swap(&mut obs, &mut next);
            if step.done() || len >= MAX_EVAL_STEPS {
                break;
            }
        }
        out.returns.push(ret);
        out.lengths.push(len);
    }
    Ok(out)
}
