//! Follow the regularized leader with linearized losses on a mirror map:
//! `x_t = argmin_{x∈X} ⟨θ_t, x⟩ + ψ(x)/η_t`, `θ_t = Σ_{s<t} g_s` (dual averaging).
//!
//! With the entropic map and a constant `η` this is Hedge; with the ½-Tsallis map it is
//! Tsallis-INF's full-information form (both reductions are tests). The step size comes from
//! the same [`Schedule`] as OMD's (`S_t = Σ_{s<t}‖g_s‖²` for the adaptive one).

use crate::mirror::{Geometry, MirrorMap, Schedule};
use mirrorflow_core::OcoLearner;

/// Linearized FTRL as an [`OcoLearner`].
#[derive(Clone, Debug)]
pub struct Ftrl {
    geometry: Geometry,
    schedule: Schedule,
    theta: Vec<f64>,
    x: Vec<f64>,
    t: u64,
    sum_sq: f64,
}

impl Ftrl {
    /// Dimension `d`; starts at the map's centre.
    pub fn new(geometry: Geometry, d: usize, schedule: Schedule) -> Self {
        Self {
            x: geometry.center(d),
            geometry,
            schedule,
            theta: vec![0.0; d],
            t: 0,
            sum_sq: 0.0,
        }
    }

    /// `θ_t`, the sum of the gradients so far.
    pub fn theta(&self) -> &[f64] {
        &self.theta
    }
}

impl OcoLearner for Ftrl {
    fn play(&mut self) -> &[f64] {
        self.t += 1;
        let eta = self.schedule.eta(self.t, self.sum_sq);
        self.geometry.leader(&self.theta, eta, &mut self.x);
        &self.x
    }

    fn observe(&mut self, grad: &[f64]) {
        for (t, g) in self.theta.iter_mut().zip(grad) {
            *t += g;
        }
        self.sum_sq += grad.iter().map(|g| g * g).sum::<f64>();
    }
}
