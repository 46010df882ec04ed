//! Optimistic online mirror descent (spec §6.2): with hint `M_t`,
//!
//! ```text
//! x_t     = argmin_x η_t ⟨M_t, x⟩ + B_ψ(x, x̂_t)
//! x̂_{t+1} = argmin_x η_t ⟨g_t, x⟩ + B_ψ(x, x̂_t)
//! ```
//!
//! Euclidean (`ψ = ½‖·‖²`, projected on a ball): `x_t = Π(x̂_t − η_t M_t)`,
//! `x̂_{t+1} = Π(x̂_t − η_t g_t)`. Entropic (simplex): multiplicative updates. The second step
//! starts from `x̂_t`, not from `x_t`, with the same `η_t`.

/// Where the iterates live.
#[derive(Clone, Debug, PartialEq)]
pub enum Geometry {
    /// `ψ = ½‖x‖²` on the ball `‖x‖ ≤ radius`.
    EuclideanBall {
        /// Ball radius.
        radius: f64,
    },
    /// Negative entropy on the probability simplex.
    Entropic,
}

/// Optimistic OMD with a caller-supplied step size per round.
#[derive(Clone, Debug)]
pub struct OptimisticOmd {
    geometry: Geometry,
    hat: Vec<f64>,
    x: Vec<f64>,
}

/// Projection onto `{‖x‖ ≤ r}`.
pub fn project_ball(y: &mut [f64], r: f64) {
    let n = y.iter().map(|v| v * v).sum::<f64>().sqrt();
    if n > r {
        y.iter_mut().for_each(|v| *v *= r / n);
    }
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

    fn step(&self, from: &[f64], dir: &[f64], eta: f64) -> Vec<f64> {
        match self.geometry {
            Geometry::EuclideanBall { radius } => {
                let mut y: Vec<f64> = from.iter().zip(dir).map(|(x, g)| x - eta * g).collect();
                project_ball(&mut y, radius);
                y
            }
            Geometry::Entropic => {
                // x ∝ x̂ ⊙ exp(−η d), computed in log space with a max shift
                let logs: Vec<f64> = from
                    .iter()
                    .zip(dir)
                    .map(|(x, g)| x.ln() - eta * g)
                    .collect();
                let m = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let w: Vec<f64> = logs.iter().map(|l| (l - m).exp()).collect();
                let s: f64 = w.iter().sum();
                w.into_iter().map(|v| v / s).collect()
            }
        }
    }

    /// Plays `x_t` for hint `M_t` and step size `η_t`.
    pub fn play(&mut self, hint: &[f64], eta: f64) -> &[f64] {
        self.x = self.step(&self.hat, hint, eta);
        &self.x
    }

    /// Receives `g_t` (with the same `η_t`): `x̂_{t+1}`.
    pub fn update(&mut self, grad: &[f64], eta: f64) {
        self.hat = self.step(&self.hat, grad, eta);
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
