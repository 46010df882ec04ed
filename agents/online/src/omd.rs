//! Optimistic online mirror descent (spec §6.2): with hint `M_t`,
//!
//! ```text
//! x_t     = argmin_x η_t ⟨M_t, x⟩ + B_ψ(x, x̂_t)
//! x̂_{t+1} = argmin_x η_t ⟨g_t, x⟩ + B_ψ(x, x̂_t)
//! ```
//!
//! Euclidean (`ψ = ½‖·‖²`, projected on a ball or a box): `x_t = Π(x̂_t − η_t M_t)`,
//! `x̂_{t+1} = Π(x̂_t − η_t g_t)`. Entropic and ½-Tsallis on the simplex through
//! [`crate::mirror`]. The second step starts from `x̂_t`, not from `x_t`, with the same `η_t`.
//! [`Omd`] packages a map, a [`Schedule`] and the hint rule as an [`OcoLearner`].

use crate::mirror::MirrorMap;
pub use crate::mirror::{Geometry, Schedule, project_ball};
use mirrorflow_core::OcoLearner;

/// The two sequences of optimistic OMD with a caller-supplied step size per round.
#[derive(Clone, Debug)]
pub struct OptimisticOmd {
    geometry: Geometry,
    hat: Vec<f64>,
    x: Vec<f64>,
}

impl OptimisticOmd {
    /// Starts at `x̂_1 = start` (must be feasible).
    pub fn new(geometry: Geometry, start: Vec<f64>) -> Self {
        Self {
            x: start.clone(),
            hat: start,
            geometry,
        }
    }

    /// Plays `x_t` for hint `M_t` and step size `η_t`.
    pub fn play(&mut self, hint: &[f64], eta: f64) -> &[f64] {
        self.geometry.step(&self.hat, hint, eta, &mut self.x);
        &self.x
    }

    /// Receives `g_t` (with the same `η_t`): `x̂_{t+1}`.
    pub fn update(&mut self, grad: &[f64], eta: f64) {
        let mut next = vec![0.0; self.hat.len()];
        self.geometry.step(&self.hat, grad, eta, &mut next);
        self.hat = next;
    }

    /// The secondary sequence `x̂_t`.
    pub fn hat(&self) -> &[f64] {
        &self.hat
    }
}

/// The convex-smooth step size `η_t = D / √(δ + 4G² + Σ_{s<t} ‖g_s − M_s‖²)` (spec §6.2).
pub fn convex_step(diameter: f64, grad_bound: f64, delta: f64, sum_sq_err: f64) -> f64 {
    diameter / (delta + 4.0 * grad_bound * grad_bound + sum_sq_err).sqrt()
}

/// Where the hint `M_t` comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hint {
    /// `M_t = 0`: plain online mirror descent.
    Zero,
    /// `M_t = g_{t−1}` (`M_1 = 0`): optimistic OMD's default.
    LastGradient,
}

/// Online mirror descent as an [`OcoLearner`]: a mirror map, a step-size schedule and a hint
/// (plain OMD with [`Hint::Zero`]; a user hint through [`Omd::play_with_hint`]).
#[derive(Clone, Debug)]
pub struct Omd {
    inner: OptimisticOmd,
    schedule: Schedule,
    hint: Hint,
    t: u64,
    eta: f64,
    sum_sq: f64,
    current_hint: Vec<f64>,
}

impl Omd {
    /// Dimension `d`, starting at the map's centre.
    pub fn new(geometry: Geometry, d: usize, schedule: Schedule, hint: Hint) -> Self {
        let start = geometry.center(d);
        Self {
            inner: OptimisticOmd::new(geometry, start),
            schedule,
            hint,
            t: 0,
            eta: 0.0,
            sum_sq: 0.0,
            current_hint: vec![0.0; d],
        }
    }

    /// Plays `x_t` with the caller's hint `M_t` (replacing the automatic one this round).
    pub fn play_with_hint(&mut self, hint: &[f64]) -> &[f64] {
        self.t += 1;
        self.eta = self.schedule.eta(self.t, self.sum_sq);
        self.current_hint.copy_from_slice(hint);
        self.inner.play(hint, self.eta)
    }

    /// `η_t` of the current round.
    pub fn eta(&self) -> f64 {
        self.eta
    }
}

impl OcoLearner for Omd {
    fn play(&mut self) -> &[f64] {
        self.t += 1;
        self.eta = self.schedule.eta(self.t, self.sum_sq);
        self.inner.play(&self.current_hint, self.eta)
    }

    fn observe(&mut self, grad: &[f64]) {
        self.sum_sq += grad
            .iter()
            .zip(&self.current_hint)
            .map(|(g, m)| (g - m) * (g - m))
            .sum::<f64>();
        self.inner.update(grad, self.eta);
        match self.hint {
            Hint::Zero => self.current_hint.iter_mut().for_each(|m| *m = 0.0),
            Hint::LastGradient => self.current_hint.copy_from_slice(grad),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oracle_2_unit_ball() {
        let mut o = OptimisticOmd::new(Geometry::EuclideanBall { radius: 1.0 }, vec![0.5, 0.0]);
        let x = o.play(&[1.0, 0.0], 1.0).to_vec();
        assert!((x[0] + 0.5).abs() < 1e-15 && x[1] == 0.0);
        o.update(&[0.0, 2.0], 1.0);
        assert!((o.hat()[0] - 0.2425356250).abs() < 1e-10);
        assert!((o.hat()[1] + 0.9701425001).abs() < 1e-10);
    }

    #[test]
    fn oracle_3_entropic() {
        let mut o = OptimisticOmd::new(Geometry::Entropic, vec![0.5, 0.3, 0.2]);
        let x = o.play(&[1.0, 0.0, 0.0], 2f64.ln()).to_vec();
        for (a, b) in x.iter().zip([1.0 / 3.0, 0.4, 0.8 / 3.0]) {
            assert!((a - b).abs() < 1e-12, "{x:?}");
        }
    }

    #[test]
    fn oracle_1_zero_hint_is_projected_ogd() {
        let mut o = OptimisticOmd::new(Geometry::EuclideanBall { radius: 1.0 }, vec![0.0; 3]);
        let mut ogd = vec![0.0; 3];
        for t in 1..200 {
            let g = [((t * 7) % 5) as f64 - 2.0, 1.0, -0.5 * (t % 3) as f64];
            let eta = 1.0 / (t as f64).sqrt();
            let x = o.play(&[0.0; 3], eta).to_vec();
            // equal up to the re-projection of an already projected point (a few ulps)
            for (a, b) in x.iter().zip(&ogd) {
                assert!((a - b).abs() < 1e-14);
            }
            o.update(&g, eta);
            for (w, gi) in ogd.iter_mut().zip(&g) {
                *w -= eta * gi;
            }
            project_ball(&mut ogd, 1.0);
        }
    }

    #[test]
    fn oracle_4_perfect_hints_keep_regret_bounded() {
        // fixed linear loss ⟨g, x⟩ on the unit ball; hint = last gradient (= g from round 2)
        let g = [0.6, -0.8];
        let regret = |rounds: usize| {
            let mut o = OptimisticOmd::new(Geometry::EuclideanBall { radius: 1.0 }, vec![0.0, 0.0]);
            let (mut loss, mut hint, mut err) = (0.0, [0.0, 0.0], 0.0);
            for _ in 0..rounds {
                let eta = convex_step(2.0, 1.0, 1e-8, err);
                let x = o.play(&hint, eta).to_vec();
                loss += g[0] * x[0] + g[1] * x[1];
                err += (g[0] - hint[0]).powi(2) + (g[1] - hint[1]).powi(2);
                o.update(&g, eta);
                hint = g;
            }
            loss + rounds as f64 // the best point −g/‖g‖ has loss −1 per round
        };
        let (r3, r5) = (regret(1_000), regret(100_000));
        assert!(r5 < 5.0 && r5 < 1.5 * r3 + 1.0, "{r3} {r5}");
    }
}
