//! Prediction with expert advice and adversarial bandits as FTRL on the simplex (spec §1.2):
//! `p_t = argmin_{p∈Δ_K} ⟨p, L̂_{t−1}⟩ + ψ_t(p)`, the same solver as the tabular learners'.
//!
//! * [`Hedge`]: negative entropy `ψ_t = (1/η_t) Σ p ln p`, i.e. `p_t ∝ exp(−η_t L_{t−1})`
//!   (closed form; the entropic FTRL reduction is a test), with a constant or the anytime
//!   rate `η_t = √(8 ln K / t)`.
//! * [`TsallisInf`]: the ½-Tsallis regularizer in Zimmert & Seldin's form
//!   `ψ_t = −Σ (4√p − 2p)/η_t`, `η_t = η₀/√t`, solved by the simplex Newton routine; with full
//!   information it uses the loss vector, with bandit feedback the importance-weighted estimate
//!   `ℓ̂_a = 1{a = A_t} ℓ / p_{t,a}`.
//!
//! [`Regret`] keeps the learner's cumulative (expected) loss and every expert's, so static
//! regret against the best fixed expert in hindsight is exact at every round.

use mirrorflow_math::simplex::{Regularizer, SimplexError, solve};

/// Learning rate of [`Hedge`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HedgeRate {
    /// `η_t = η`.
    Constant(f64),
    /// `η_t = √(8 ln K / t)` (anytime, no horizon needed).
    Anytime,
}

/// Hedge (exponential weights) over `K` experts.
#[derive(Clone, Debug)]
pub struct Hedge {
    rate: HedgeRate,
    cumulative: Vec<f64>,
    t: u64,
    p: Vec<f64>,
}

impl Hedge {
    /// `K` experts, uniform start.
    pub fn new(k: usize, rate: HedgeRate) -> Self {
        Self {
            rate,
            cumulative: vec![0.0; k],
            t: 1,
            p: vec![1.0 / k.max(1) as f64; k],
        }
    }

    /// `η_t` for the current round.
    pub fn eta(&self) -> f64 {
        match self.rate {
            HedgeRate::Constant(e) => e,
            HedgeRate::Anytime => {
                (8.0 * (self.cumulative.len() as f64).ln() / self.t as f64).sqrt()
            }
        }
    }

    /// `p_t ∝ exp(−η_t L_{t−1})`, with the minimum subtracted for stability.
    pub fn play(&mut self) -> &[f64] {
        let eta = self.eta();
        let m = self
            .cumulative
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let w: Vec<f64> = self
            .cumulative
            .iter()
            .map(|l| (-eta * (l - m)).exp())
            .collect();
        let s: f64 = w.iter().sum();
        self.p = w.into_iter().map(|v| v / s).collect();
        &self.p
    }

    /// Reveals the round's loss vector.
    pub fn update(&mut self, losses: &[f64]) {
        for (c, l) in self.cumulative.iter_mut().zip(losses) {
            *c += l;
        }
        self.t += 1;
    }
}

/// Tsallis-INF over `K` arms (full information or bandit feedback).
#[derive(Clone, Debug)]
pub struct TsallisInf {
    eta0: f64,
    estimates: Vec<f64>,
    t: u64,
    p: Vec<f64>,
}

impl TsallisInf {
    /// `K` arms, `η_t = η₀/√t` (Zimmert & Seldin use `η₀ = 2` for bandits).
    pub fn new(k: usize, eta0: f64) -> Self {
        Self {
            eta0,
            estimates: vec![0.0; k],
            t: 1,
            p: vec![1.0 / k.max(1) as f64; k],
        }
    }

    /// `p_t = argmin ⟨p, L̂⟩ − Σ (4√p − 2p)/η_t`.
    pub fn play(&mut self) -> Result<&[f64], SimplexError> {
        let eta = self.eta0 / (self.t as f64).sqrt();
        self.p = solve(&self.estimates, &Regularizer::TsallisInf { eta })?.p;
        Ok(&self.p)
    }

    /// Full information: the whole loss vector.
    pub fn update_full(&mut self, losses: &[f64]) {
        for (e, l) in self.estimates.iter_mut().zip(losses) {
            *e += l;
        }
        self.t += 1;
    }

    /// Bandit feedback: arm `arm` was drawn from the last `play` and lost `loss`.
    pub fn update_bandit(&mut self, arm: usize, loss: f64) {
        if let (Some(e), Some(&p)) = (self.estimates.get_mut(arm), self.p.get(arm)) {
            *e += loss / p.max(1e-300);
        }
        self.t += 1;
    }
}

impl mirrorflow_core::OcoLearner for Hedge {
    fn play(&mut self) -> &[f64] {
        Hedge::play(self)
    }

    /// The gradient of the linear loss `⟨p, ℓ⟩` is the loss vector.
    fn observe(&mut self, losses: &[f64]) {
        self.update(losses);
    }
}

impl mirrorflow_core::OcoLearner for TsallisInf {
    fn play(&mut self) -> &[f64] {
        if TsallisInf::play(self).is_err() {
            // only non-finite losses make the solver fail; play uniformly rather than NaN
            let k = self.p.len();
            self.p.iter_mut().for_each(|v| *v = 1.0 / k as f64);
        }
        &self.p
    }

    /// Full information: the loss vector.
    fn observe(&mut self, losses: &[f64]) {
        self.update_full(losses);
    }
}

/// Cumulative losses of a learner and of every expert: static regret against the best fixed
/// expert in hindsight, `Σ_t ⟨p_t, ℓ_t⟩ − min_a Σ_t ℓ_{t,a}`.
#[derive(Clone, Debug, Default)]
pub struct Regret {
    /// `Σ_t ⟨p_t, ℓ_t⟩`.
    pub learner: f64,
    /// `Σ_t ℓ_{t,a}` per expert.
    pub experts: Vec<f64>,
}

impl Regret {
    /// Adds one round.
    pub fn add(&mut self, p: &[f64], losses: &[f64]) {
        if self.experts.len() < losses.len() {
            self.experts.resize(losses.len(), 0.0);
        }
        self.learner += p.iter().zip(losses).map(|(a, b)| a * b).sum::<f64>();
        for (c, l) in self.experts.iter_mut().zip(losses) {
            *c += l;
        }
    }

    /// The regret so far.
    pub fn value(&self) -> f64 {
        self.learner - self.experts.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirrorflow_core::Rng;

    /// Entropic FTRL (the simplex solver with Shannon, rate η) is Hedge's closed form.
    #[test]
    fn entropic_ftrl_is_hedge() {
        let mut rng = Rng::seed_from(1);
        let mut h = Hedge::new(5, HedgeRate::Constant(0.7));
        let mut cum = vec![0.0; 5];
        for _ in 0..50 {
            let p = h.play().to_vec();
            let ftrl = solve(&cum, &Regularizer::Shannon { eta: vec![0.7] })
                .unwrap()
                .p;
            for (a, b) in p.iter().zip(&ftrl) {
                assert!((a - b).abs() < 1e-12, "{p:?} vs {ftrl:?}");
            }
            let l: Vec<f64> = (0..5).map(|_| rng.next_f64()).collect();
            h.update(&l);
            for (c, x) in cum.iter_mut().zip(&l) {
                *c += x;
            }
        }
    }

    /// Spec §1.2 oracle through the learner: η₁ = 1, L = (0, √5) → p = (0.8, 0.2).
    #[test]
    fn tsallis_inf_matches_the_spec_oracle() {
        let mut t = TsallisInf::new(2, 1.0);
        t.estimates = vec![0.0, 5f64.sqrt()];
        let p = t.play().unwrap();
        assert!((p[0] - 0.8).abs() < 1e-12 && (p[1] - 0.2).abs() < 1e-12);
    }

    /// Regret on a fixed seeded stream equals an independent recomputation to 1e-9, and both
    /// learners' regret is sublinear on an i.i.d. stream with a best expert.
    #[test]
    fn regret_matches_a_reference_and_is_sublinear() {
        let (k, rounds) = (4, 20_000);
        let mut rng = Rng::seed_from(9);
        let stream: Vec<Vec<f64>> = (0..rounds)
            .map(|_| {
                (0..k)
                    .map(|a| (rng.next_f64() + if a == 2 { -0.2 } else { 0.0 }).clamp(0.0, 1.0))
                    .collect()
            })
            .collect();
        let mut hedge = Hedge::new(k, HedgeRate::Anytime);
        let mut tsallis = TsallisInf::new(k, 2.0);
        let (mut rh, mut rt) = (Regret::default(), Regret::default());
        let mut played: Vec<(Vec<f64>, Vec<f64>)> = Vec::new();
        for l in &stream {
            let p = hedge.play().to_vec();
            rh.add(&p, l);
            hedge.update(l);
            let q = tsallis.play().unwrap().to_vec();
            rt.add(&q, l);
            tsallis.update_full(l);
            played.push((p, q));
        }
        // reference: a separate loop over the stored plays
        let mut learner = 0.0;
        let mut best = f64::INFINITY;
        for a in 0..k {
            best = best.min(stream.iter().map(|l| l[a]).sum::<f64>());
        }
        for ((p, _), l) in played.iter().zip(&stream) {
            learner += p.iter().zip(l).map(|(x, y)| x * y).sum::<f64>();
        }
        assert!((rh.value() - (learner - best)).abs() < 1e-9);
        // O(√(T ln K)) for Hedge, far below linear
        for r in [rh.value(), rt.value()] {
            assert!(r < 3.0 * ((rounds as f64) * (k as f64).ln()).sqrt(), "{r}");
        }
    }

    #[test]
    fn bandit_feedback_finds_the_best_arm() {
        let mut rng = Rng::seed_from(4);
        let means = [0.6, 0.4, 0.5];
        let mut t = TsallisInf::new(3, 2.0);
        let mut pulls = [0u32; 3];
        for round in 0..20_000 {
            let p = t.play().unwrap().to_vec();
            let u = rng.next_f64();
            let arm = if u < p[0] {
                0
            } else if u < p[0] + p[1] {
                1
            } else {
                2
            };
            let loss = if rng.next_f64() < means[arm] {
                1.0
            } else {
                0.0
            };
            t.update_bandit(arm, loss);
            if round >= 10_000 {
                pulls[arm] += 1;
            }
        }
        assert!(pulls[1] > 8_000, "{pulls:?}");
    }
}
