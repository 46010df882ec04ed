//! Adam (Kingma & Ba 2015) with PyTorch's update rule, over a module's parameters, with its
//! moments as plain data so that checkpoints can hold them (burn's own optimizer keeps its state
//! keyed by run-local parameter ids).
//!
//! ```text
//! m ← β₁ m + (1 − β₁) g,   v ← β₂ v + (1 − β₂) g²,
//! p ← p − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
//! ```
//!
//! Parameters are visited in declaration order (as in [`crate::params`]); parameters without a
//! gradient are left unchanged and their moments untouched.

use crate::NnError;
use burn::module::{Module, ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use mirrorflow_core::{Tensor as CoreTensor, TensorData as CoreData};

/// The optimizer and its state.
#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    /// β₁.
    pub beta1: f64,
    /// β₂.
    pub beta2: f64,
    /// ε.
    pub eps: f64,
    /// Steps taken.
    pub t: u64,
    /// First moments, per parameter (empty until its first gradient).
    m: Vec<Vec<f32>>,
    /// Second moments.
    v: Vec<Vec<f32>>,
}

impl Adam {
    /// β = (0.9, 0.999) and the given ε (PyTorch's default is 1e-8).
    pub fn new(eps: f64) -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps,
            t: 0,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    /// One step of every parameter of `module` that has a gradient in `grads`.
    pub fn step<M: Module>(&mut self, lr: f64, module: M, grads: &GradientsParams) -> M {
        self.t += 1;
        let t = self.t as i32;
        let c1 = 1.0 - self.beta1.powi(t);
        let c2 = 1.0 - self.beta2.powi(t);
        module.map(&mut Step {
            adam: self,
            grads,
            k: 0,
            lr,
            c1,
            c2,
        })
    }

    /// The state as named tensors: `{prefix}.m.{k}`, `{prefix}.v.{k}`, `{prefix}.t`.
    pub fn to_tensors(&self, prefix: &str) -> Vec<CoreTensor> {
        let mut out = vec![CoreTensor {
            name: format!("{prefix}.t"),
            shape: vec![1],
            data: CoreData::F64(vec![self.t as f64]),
        }];
        for (which, all) in [("m", &self.m), ("v", &self.v)] {
            for (k, x) in all.iter().enumerate() {
                out.push(CoreTensor {
                    name: format!("{prefix}.{which}.{k}"),
                    shape: vec![x.len()],
                    data: CoreData::F32(x.clone()),
                });
            }
        }
        out
    }

    /// Restores what [`Adam::to_tensors`] wrote with the same `prefix`.
    pub fn load_tensors(&mut self, tensors: &[CoreTensor], prefix: &str) -> Result<(), NnError> {
        let find = |name: String| tensors.iter().find(|t| t.name == name);
        let t = find(format!("{prefix}.t"))
            .ok_or_else(|| NnError::Snapshot(format!("no `{prefix}.t` tensor (optimizer step)")))?;
        self.t = t.data.to_f64().first().copied().unwrap_or(0.0) as u64;
        let load = |which: &str| -> Vec<Vec<f32>> {
            (0..)
                .map_while(|k| find(format!("{prefix}.{which}.{k}")))
                .map(|t| t.data.to_f32())
                .collect()
        };
        (self.m, self.v) = (load("m"), load("v"));
        if self.m.len() != self.v.len() {
            return Err(NnError::Snapshot(format!(
                "`{prefix}` has {} first and {} second moments",
                self.m.len(),
                self.v.len()
            )));
        }
        Ok(())
    }
}

struct Step<'a> {
    adam: &'a mut Adam,
    grads: &'a GradientsParams,
    k: usize,
    lr: f64,
    c1: f64,
    c2: f64,
}

impl ModuleMapper for Step<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let k = self.k;
        self.k += 1;
        let Some(grad) = self.grads.get::<D>(param.id) else {
            return param;
        };
        let g = grad
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        let a = &mut *self.adam;
        while a.m.len() <= k {
            a.m.push(Vec::new());
            a.v.push(Vec::new());
        }
        if a.m[k].len() != g.len() {
            a.m[k] = vec![0.0; g.len()];
            a.v[k] = vec![0.0; g.len()];
        }
        let (b1, b2) = (a.beta1 as f32, a.beta2 as f32);
        let (step, c2, eps) = ((self.lr / self.c1) as f32, self.c2 as f32, a.eps as f32);
        let (m, v) = (&mut a.m[k], &mut a.v[k]);
        param.map(|t| {
            let device = t.device();
            let shape = t.dims();
            let mut p = t
                .clone()
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .unwrap_or_default();
            // zipped slices: no bounds checks, so the loop vectorizes
            let inv_c2 = 1.0 / c2;
            for (((p, g), m), v) in p.iter_mut().zip(&g).zip(m.iter_mut()).zip(v.iter_mut()) {
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                *p -= step * *m / ((*v * inv_c2).sqrt() + eps);
            }
            let fresh = Tensor::<D>::from_data(TensorData::new(p, shape), &device);
            if t.is_require_grad() {
                fresh.require_grad()
            } else {
                fresh
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MlpConfig, cpu_autodiff};

    /// A linear layer `w·x + b` with loss `Σ (w·1 + b)` has gradient 1 for each parameter: the
    /// first Adam step moves every parameter by exactly `−lr`, the second again by `−lr`, and
    /// the state round-trips through tensors (a restored optimizer continues identically).
    #[test]
    fn steps_move_by_lr_and_state_round_trips() {
        let dev = cpu_autodiff();
        let values = |m: &crate::Mlp| -> Vec<f32> {
            crate::params::to_snapshot(m, "n")
                .into_iter()
                .flat_map(|t| match t.data {
                    CoreData::F32(v) => v,
                    CoreData::F64(_) => Vec::new(),
                })
                .collect()
        };
        let step = |adam: &mut Adam, net: crate::Mlp| {
            let x = Tensor::<2>::ones([1, 2], &dev);
            let loss = net.forward(x).sum();
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            adam.step(0.01, net, &grads)
        };
        let net = MlpConfig::new(2, &[], 1).init_seeded(&dev, 0);
        let p0 = values(&net);
        let mut adam = Adam::new(1e-8);
        let net = step(&mut adam, net);
        let p1 = values(&net);
        for (a, b) in p0.iter().zip(&p1) {
            assert!((a - b - 0.01).abs() < 1e-6, "{a} → {b}");
        }
        let mut restored = Adam::new(1e-8);
        restored
            .load_tensors(&adam.to_tensors("opt"), "opt")
            .unwrap();
        assert_eq!(restored, adam);
        let twin = crate::params::replace(MlpConfig::new(2, &[], 1).init(&dev), |k, _, _| {
            crate::params::to_snapshot(&net, "n")[k].data.to_f32()
        });
        let (a, b) = (step(&mut adam, net), step(&mut restored, twin));
        assert_eq!(values(&a), values(&b));
        assert!(Adam::new(1e-8).load_tensors(&[], "opt").is_err());
    }
}
