//! Configuration of the regularized-VI planners.

pub use mirrorflow_math::policy_head::PolicyHead;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Which of the three equivalent forms of spec §2.2–2.3 runs the iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Form {
    /// Mirror descent on log-policies (the production path; any `m`).
    Md,
    /// Dual averaging of q-values (`m = 1`, `λ + τ > 0`).
    Da,
    /// Munchausen VI with `τ_M = λ + τ`, `α = λ/(λ + τ)` (`m = 1`).
    Munchausen,
}

/// Additive error model `ε_k` of approximate VI (spec §2.4 (a)).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Noise {
    /// Exact backups.
    None,
    /// `ε_k(s, a) ~ N(0, σ²)` i.i.d., added after each iteration's backups.
    Gaussian {
        /// Standard deviation σ ≥ 0.
        sigma: f64,
    },
    /// Sampled backups (spec §2.4 (b)): `P v` at `(s, a)` is replaced by the mean of `v` over
    /// `n` next states drawn from `P(·|s, a)` — zero-mean, non-Gaussian errors.
    Sampled {
        /// Next-state samples per `(s, a)` and backup, ≥ 1.
        n: u32,
    },
}

/// Where sampled backups get their next states.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sampler {
    /// The planner draws them from the model itself.
    #[default]
    Model,
    /// Env shards collect them through the actor–learner runtime (a generative env sweeping
    /// the state–action pairs); one version = one iteration's `m·S·A·n` samples.
    EnvShards,
}

/// Hyper-parameters of MD-VI(λ, τ, m).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MdviConfig {
    /// KL weight λ ≥ 0 toward the previous policy.
    pub lambda: f64,
    /// Entropy weight τ ≥ 0.
    pub tau: f64,
    /// Evaluation backups per iteration `m ≥ 1` (1 = value iteration, more = modified PI).
    pub m: u32,
    /// Which equivalent form computes the iterates.
    pub form: Form,
    /// Error model.
    pub noise: Noise,
    /// Evaluate `‖q* − q^{π_k}‖∞` every this many iterations (and always at the end); ≥ 1.
    /// Exact evaluation dominates the cost for large `S`. Entropy and KL metrics are recorded
    /// on the same iterations.
    pub eval_every: u64,
    /// Threads for the MD iteration (0 = every core). Results do not depend on it.
    pub threads: usize,
    /// Regularized greedy policy: `softmax` (Shannon; KL and entropy), `sparsemax` or
    /// `{ tsallis = { q = 1.5 } }` (Tsallis entropy, sparse policies; needs λ = 0, τ > 0).
    pub policy: PolicyHead,
    /// Where sampled backups (`noise = { kind = "sampled", n }`) draw next states.
    pub sampler: Sampler,
}

impl Default for MdviConfig {
    fn default() -> Self {
        Self {
            lambda: 1.0,
            tau: 0.01,
            m: 1,
            form: Form::Md,
            noise: Noise::None,
            eval_every: 1,
            threads: 0,
            policy: PolicyHead::Softmax,
            sampler: Sampler::Model,
        }
    }
}

/// A hyper-parameter out of range; names the field, the value and the allowed range.
#[derive(Debug, Error, PartialEq)]
#[error("{field} = {value}: {expected}")]
pub struct ConfigError {
    /// Field name (`agent.lambda`, ...).
    pub field: &'static str,
    /// The value.
    pub value: String,
    /// What is allowed.
    pub expected: String,
}

fn err(field: &'static str, value: impl ToString, expected: &str) -> ConfigError {
    ConfigError {
        field,
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

impl MdviConfig {
    fn noise_name(&self) -> &'static str {
        match self.noise {
            Noise::None => "none",
            Noise::Gaussian { .. } => "gaussian",
            Noise::Sampled { .. } => "sampled",
        }
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.lambda >= 0.0 && self.lambda.is_finite()) {
            return Err(err(
                "lambda",
                self.lambda,
                "must be >= 0 and finite (0 disables the KL term)",
            ));
        }
        if !(self.tau >= 0.0 && self.tau.is_finite()) {
            return Err(err(
                "tau",
                self.tau,
                "must be >= 0 and finite (0 disables the entropy term)",
            ));
        }
        if self.m == 0 {
            return Err(err("m", self.m, "must be >= 1"));
        }
        if self.eval_every == 0 {
            return Err(err("eval_every", self.eval_every, "must be >= 1"));
        }
        if let Noise::Gaussian { sigma } = self.noise
            && !(sigma >= 0.0 && sigma.is_finite())
        {
            return Err(err("noise.sigma", sigma, "must be >= 0 and finite"));
        }
        if self.policy != PolicyHead::Softmax {
            if self.lambda != 0.0 || self.tau <= 0.0 || self.form != Form::Md {
                return Err(err(
                    "policy",
                    format!("{:?}", self.policy).to_lowercase(),
                    "Tsallis policies need lambda = 0, tau > 0 and form = \"md\" (the Tsallis-KL analogue is not implemented)",
                ));
            }
            if let PolicyHead::Tsallis { q } = self.policy
                && !(q > 1.0 && q <= 2.0)
            {
                return Err(err("policy.tsallis.q", q, "must be in (1, 2]"));
            }
        }
        if self.sampler == Sampler::EnvShards
            && (!matches!(self.noise, Noise::Sampled { .. }) || self.form != Form::Md)
        {
            return Err(err(
                "sampler",
                "\"env_shards\"",
                "needs noise = { kind = \"sampled\", n = N } and form = \"md\"",
            ));
        }
        if let Noise::Sampled { n: 0 } = self.noise {
            return Err(err("noise.n", 0, "must be >= 1 next-state samples"));
        }
        if self.form != Form::Md {
            if self.m != 1 {
                return Err(err(
                    "m",
                    self.m,
                    "must be 1 for form = \"da\" or \"munchausen\" (use form = \"md\" for m > 1)",
                ));
            }
            if self.noise != Noise::None {
                return Err(err(
                    "noise",
                    self.noise_name(),
                    "the error model is available with form = \"md\" only",
                ));
            }
        }
        if self.form == Form::Da && self.lambda + self.tau == 0.0 {
            return Err(err(
                "form",
                "da",
                "needs lambda + tau > 0 (with both 0 it divides by zero; use form = \"md\")",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_fields() {
        let e = MdviConfig {
            lambda: -1.0,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "lambda");
        assert!(e.to_string().starts_with("lambda = -1: must be >= 0"));
        let e = MdviConfig {
            form: Form::Da,
            m: 2,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "m");
        assert!(MdviConfig::default().validate().is_ok());
    }
}
