//! Expert-advice loss streams: `K` experts, losses in `[0, 1]`, three regimes.
//!
//! * `iid`: Bernoulli losses, expert 0 with mean `½ − gap`, the others `½` (stochastic);
//! * `switching`: the same, but the good expert is `⌊(t−1)/block⌋ mod K` (a shifting best
//!   expert — dynamic regret is the fair measure there);
//! * `adversarial`: deterministic losses that make following the leader fail: experts 0 and 1
//!   alternate 1 and 0 (expert 0 pays ½ in round 1), every other expert pays 1.

use mirrorflow_core::Rng;
use serde::{Deserialize, Serialize};

/// How the losses are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// Stochastic, a fixed best expert.
    Iid,
    /// Stochastic, the best expert changes every `block` rounds.
    Switching,
    /// The alternating adversary.
    Adversarial,
}

/// `[env]` parameters of `id = "experts"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExpertsConfig {
    /// Number of experts `K ≥ 2`.
    pub experts: usize,
    /// The regime.
    pub regime: Regime,
    /// How much better the good expert is (`0 ≤ gap ≤ ½`).
    pub gap: f64,
    /// Rounds per good expert (`switching`).
    pub block: u64,
}

impl Default for ExpertsConfig {
    fn default() -> Self {
        Self {
            experts: 10,
            regime: Regime::Iid,
            gap: 0.1,
            block: 1_000,
        }
    }
}

impl ExpertsConfig {
    /// Checks the parameters (`Err` names the bad one).
    pub fn validate(&self) -> Result<(), String> {
        if self.experts < 2 {
            return Err(format!("experts = {}: need at least 2", self.experts));
        }
        if !(0.0..=0.5).contains(&self.gap) {
            return Err(format!("gap = {}: must be in [0, 0.5]", self.gap));
        }
        if self.block == 0 {
            return Err("block = 0: must be at least 1".into());
        }
        Ok(())
    }
}

/// The stream.
#[derive(Clone, Debug)]
pub struct ExpertStream {
    cfg: ExpertsConfig,
    rng: Rng,
    t: u64,
}

impl ExpertStream {
    /// A seeded stream.
    pub fn new(cfg: ExpertsConfig, seed: u64) -> Self {
        Self {
            cfg,
            rng: Rng::seed_from(seed),
            t: 0,
        }
    }

    /// The good expert of round `t ≥ 1` (`iid`, `switching`).
    pub fn good(&self, t: u64) -> usize {
        match self.cfg.regime {
            Regime::Switching => ((t - 1) / self.cfg.block % self.cfg.experts as u64) as usize,
            _ => 0,
        }
    }

    /// The expected losses of round `t ≥ 1` (the adversarial regime's losses are deterministic:
    /// their own means).
    pub fn means(&self, t: u64) -> Vec<f64> {
        let k = self.cfg.experts;
        match self.cfg.regime {
            Regime::Adversarial => (0..k)
                .map(|a| match (a, t) {
                    (0, 1) => 0.5,
                    (0, _) => (t % 2) as f64,
                    (1, 1) => 0.0,
                    (1, _) => ((t + 1) % 2) as f64,
                    _ => 1.0,
                })
                .collect(),
            _ => {
                let good = self.good(t);
                (0..k)
                    .map(|a| if a == good { 0.5 - self.cfg.gap } else { 0.5 })
                    .collect()
            }
        }
    }

    /// The next round's loss vector.
    pub fn next_losses(&mut self) -> Vec<f64> {
        self.t += 1;
        let means = self.means(self.t);
        match self.cfg.regime {
            Regime::Adversarial => means,
            _ => means
                .into_iter()
                .map(|m| f64::from(u8::from(self.rng.bernoulli(m))))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regimes_have_their_stated_means_and_patterns() {
        let mut s = ExpertStream::new(
            ExpertsConfig {
                experts: 3,
                gap: 0.2,
                ..ExpertsConfig::default()
            },
            1,
        );
        let mut sum = [0.0; 3];
        for _ in 0..20_000 {
            for (m, l) in sum.iter_mut().zip(s.next_losses()) {
                *m += l / 20_000.0;
            }
        }
        assert!(
            (sum[0] - 0.3).abs() < 0.02 && (sum[1] - 0.5).abs() < 0.02,
            "{sum:?}"
        );
        let sw = ExpertStream::new(
            ExpertsConfig {
                regime: Regime::Switching,
                block: 5,
                experts: 3,
                ..ExpertsConfig::default()
            },
            0,
        );
        assert_eq!(
            (sw.good(1), sw.good(6), sw.good(11), sw.good(16)),
            (0, 1, 2, 0)
        );
        let mut adv = ExpertStream::new(
            ExpertsConfig {
                regime: Regime::Adversarial,
                experts: 3,
                ..ExpertsConfig::default()
            },
            0,
        );
        assert_eq!(adv.next_losses(), vec![0.5, 0.0, 1.0]);
        assert_eq!(adv.next_losses(), vec![0.0, 1.0, 1.0]);
        assert_eq!(adv.next_losses(), vec![1.0, 0.0, 1.0]);
    }
}
