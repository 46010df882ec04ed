//! Layered episodic MDPs with per-round losses (spec §1.4, §5): the model that episodic
//! policy-optimization learners plan with and that their regret is measured on.
//!
//! Layers `S_0, …, S_{H−1}`; from a state of layer `h` the next state is in layer `h + 1`
//! (`P(·|s, a)` is dense over that layer); the episode ends after layer `H − 1`. The first state
//! is uniform over layer 0. Round `t` has losses `ℓ_t(s, a) ∈ [0, 1]` from a [`LossSchedule`].

use crate::error::Error;
use crate::rng::Rng;

/// Which loss sequence the rounds follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossRegime {
    /// I.i.d. Bernoulli losses with fixed means.
    Stochastic,
    /// Deterministic losses whose best action per state shifts by one at the start of each
    /// phase; phases have lengths 1, 2, 4, … (`2^j`).
    Adversarial,
    /// Adversarial for the first `corrupted_rounds` rounds, stochastic afterwards.
    Corrupted,
}

/// Mean losses per round: `best` for one action per state, `other` for the rest.
#[derive(Clone, Debug, PartialEq)]
pub struct LossSchedule {
    /// Regime.
    pub regime: LossRegime,
    /// Mean loss of the best action.
    pub best: f64,
    /// Mean loss of the other actions.
    pub other: f64,
    /// Rounds of adversarial losses in the `Corrupted` regime.
    pub corrupted_rounds: u64,
    /// Best action per state (in stochastic rounds and phase 0).
    pub best_action: Vec<usize>,
}

/// A layered episodic MDP with known transitions.
#[derive(Clone, Debug, PartialEq)]
pub struct LayeredModel {
    layer_start: Vec<usize>,
    num_actions: usize,
    transition: Vec<Vec<f64>>,
    /// The loss sequence.
    pub losses: LossSchedule,
}

impl LayeredModel {
    /// Builds a model; `transition[s * A + a]` is `P(·|s, a)` over the next layer (empty in the
    /// last layer). Errors name the offending entry.
    pub fn new(
        layer_sizes: &[usize],
        num_actions: usize,
        transition: Vec<Vec<f64>>,
        losses: LossSchedule,
    ) -> Result<Self, Error> {
        let bad = |m: String| Err(Error::InvalidModel(m));
        if layer_sizes.is_empty() || layer_sizes.contains(&0) || num_actions == 0 {
            return bad(format!(
                "layer sizes {layer_sizes:?} and {num_actions} actions: every layer needs a state"
            ));
        }
        let mut layer_start = vec![0];
        for &n in layer_sizes {
            layer_start.push(layer_start[layer_start.len() - 1] + n);
        }
        let s_n = layer_start[layer_sizes.len()];
        if transition.len() != s_n * num_actions || losses.best_action.len() != s_n {
            return bad(format!(
                "{} transition rows / {} best actions for {s_n} states × {num_actions} actions",
                transition.len(),
                losses.best_action.len()
            ));
        }
        for (h, w) in layer_sizes.iter().enumerate() {
            let next = layer_sizes.get(h + 1).copied().unwrap_or(0);
            for s in layer_start[h]..layer_start[h] + w {
                for a in 0..num_actions {
                    let p = &transition[s * num_actions + a];
                    let total: f64 = p.iter().sum();
                    if p.len() != next
                        || (next > 0 && (total - 1.0).abs() > 1e-9)
                        || p.iter().any(|x| *x < 0.0)
                    {
                        return bad(format!(
                            "P(·|s={s}, a={a}) must be a distribution over the {next} states of layer {}",
                            h + 1
                        ));
                    }
                }
            }
        }
        Ok(Self {
            layer_start,
            num_actions,
            transition,
            losses,
        })
    }

    /// Number of states.
    pub fn num_states(&self) -> usize {
        self.layer_start[self.layer_start.len() - 1]
    }
    /// Actions per state.
    pub fn num_actions(&self) -> usize {
        self.num_actions
    }
    /// Number of layers `H`.
    pub fn horizon(&self) -> usize {
        self.layer_start.len() - 1
    }
    /// States of layer `h`.
    pub fn layer(&self, h: usize) -> std::ops::Range<usize> {
        self.layer_start[h]..self.layer_start[h + 1]
    }
    /// Layer of state `s`.
    pub fn layer_of(&self, s: usize) -> usize {
        self.layer_start.partition_point(|&start| start <= s) - 1
    }
    /// `P(·|s, a)` over the next layer.
    pub fn transition(&self, s: usize, a: usize) -> &[f64] {
        &self.transition[s * self.num_actions + a]
    }

    fn adversarial_at(&self, t: u64) -> bool {
        match self.losses.regime {
            LossRegime::Stochastic => false,
            LossRegime::Adversarial => true,
            LossRegime::Corrupted => t < self.losses.corrupted_rounds,
        }
    }

    /// Mean losses `ℓ̄_t` of round `t` (0-based), `S × A`.
    pub fn mean_losses(&self, t: u64, out: &mut [f64]) {
        let a_n = self.num_actions;
        let shift = if self.adversarial_at(t) {
            (63 - (t + 1).leading_zeros()) as usize
        } else {
            0
        };
        for s in 0..self.num_states() {
            let best = (self.losses.best_action[s] + shift) % a_n;
            for a in 0..a_n {
                out[s * a_n + a] = if a == best {
                    self.losses.best
                } else {
                    self.losses.other
                };
            }
        }
    }

    /// Realized losses of round `t`: Bernoulli draws in stochastic rounds, the means otherwise.
    pub fn draw_losses(&self, t: u64, rng: &mut Rng, out: &mut [f64]) {
        self.mean_losses(t, out);
        if !self.adversarial_at(t) {
            for l in out.iter_mut() {
                *l = if rng.bernoulli(*l) { 1.0 } else { 0.0 };
            }
        }
    }

    /// State occupancy `q^π(s)` (probability of visiting `s`; sums to 1 per layer).
    pub fn occupancy(&self, policy: &[f64]) -> Vec<f64> {
        let a_n = self.num_actions;
        let mut q = vec![0.0; self.num_states()];
        let first = self.layer(0);
        for s in first.clone() {
            q[s] = 1.0 / first.len() as f64;
        }
        for h in 0..self.horizon() - 1 {
            let next = self.layer(h + 1);
            for s in self.layer(h) {
                for a in 0..a_n {
                    let w = q[s] * policy[s * a_n + a];
                    if w == 0.0 {
                        continue;
                    }
                    for (j, p) in self.transition(s, a).iter().enumerate() {
                        q[next.start + j] += w * p;
                    }
                }
            }
        }
        q
    }

    /// `Q^π(s, a; ℓ) = ℓ(s, a) + Σ_s' P(s'|s, a) Σ_a' π(a'|s') Q^π(s', a')`, by backward recursion.
    pub fn q_values(&self, policy: &[f64], loss: &[f64]) -> Vec<f64> {
        let a_n = self.num_actions;
        let mut q = loss.to_vec();
        let mut v = vec![0.0; self.num_states()];
        for h in (0..self.horizon()).rev() {
            let next = (h + 1 < self.horizon()).then(|| self.layer(h + 1));
            for s in self.layer(h) {
                for a in 0..a_n {
                    if let Some(nx) = &next {
                        q[s * a_n + a] += self
                            .transition(s, a)
                            .iter()
                            .enumerate()
                            .map(|(j, p)| p * v[nx.start + j])
                            .sum::<f64>();
                    }
                }
                v[s] = (0..a_n).map(|a| policy[s * a_n + a] * q[s * a_n + a]).sum();
            }
        }
        q
    }

    /// Expected episode loss `V^π(ℓ) = Σ_{s∈S_0} V^π(s; ℓ) / |S_0|`.
    pub fn value(&self, policy: &[f64], loss: &[f64]) -> f64 {
        let q = self.q_values(policy, loss);
        let a_n = self.num_actions;
        let first = self.layer(0);
        first
            .clone()
            .map(|s| {
                (0..a_n)
                    .map(|a| policy[s * a_n + a] * q[s * a_n + a])
                    .sum::<f64>()
            })
            .sum::<f64>()
            / first.len() as f64
    }

    /// `min_π V^π(ℓ)` and a deterministic minimizer (lowest index on ties).
    pub fn best_value(&self, loss: &[f64]) -> (f64, Vec<f64>) {
        let a_n = self.num_actions;
        let mut v = vec![0.0; self.num_states()];
        let mut pi = vec![0.0; self.num_states() * a_n];
        for h in (0..self.horizon()).rev() {
            let next = (h + 1 < self.horizon()).then(|| self.layer(h + 1));
            for s in self.layer(h) {
                let mut best = (f64::INFINITY, 0);
                for a in 0..a_n {
                    let cont = next.as_ref().map_or(0.0, |nx| {
                        self.transition(s, a)
                            .iter()
                            .enumerate()
                            .map(|(j, p)| p * v[nx.start + j])
                            .sum()
                    });
                    let qa = loss[s * a_n + a] + cont;
                    if qa < best.0 {
                        best = (qa, a);
                    }
                }
                v[s] = best.0;
                pi[s * a_n + best.1] = 1.0;
            }
        }
        let first = self.layer(0);
        (
            first.clone().map(|s| v[s]).sum::<f64>() / first.len() as f64,
            pi,
        )
    }
}
