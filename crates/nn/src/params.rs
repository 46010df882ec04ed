//! Parameters as plain data: Polyak averaging of target networks, and snapshots.
//!
//! Parameters are visited in the module's declaration order, which is the same for every
//! module built from the same config, so a snapshot's `k`-th tensor is the `k`-th parameter.

use crate::NnError;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData};
use mirrorflow_core::{Tensor as CoreTensor, TensorData as CoreData};

/// Collects every float parameter as `(shape, values)`, in order.
struct Collect(Vec<(Vec<usize>, Vec<f32>)>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let shape = t.dims().to_vec();
        let values = t
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        self.0.push((shape, values));
    }
}

/// Forces the lazy initialisation of every parameter (burn 0.22.1: do this before cloning a
/// target network off a fresh module).
pub fn materialize<M: Module>(module: &M) {
    let mut c = Collect(Vec::new());
    module.visit(&mut c);
}

/// Replaces parameters in order with `f(k, current) -> new`.
struct Replace<F: FnMut(usize, Vec<usize>, Vec<f32>) -> Vec<f32>> {
    k: usize,
    f: F,
}

impl<F: FnMut(usize, Vec<usize>, Vec<f32>) -> Vec<f32>> ModuleMapper for Replace<F> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let k = self.k;
        self.k += 1;
        let f = &mut self.f;
        param.map(|t| {
            let device = t.device();
            let shape = t.dims();
            let current = t
                .clone()
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .unwrap_or_default();
            let new = f(k, shape.to_vec(), current);
            let fresh = Tensor::<D>::from_data(TensorData::new(new, shape), &device);
            if t.is_require_grad() {
                fresh.require_grad()
            } else {
                fresh
            }
        })
    }
}

/// Replaces every float parameter, in order, with `f(k, shape, current values)`.
pub fn replace<M: Module>(module: M, f: impl FnMut(usize, Vec<usize>, Vec<f32>) -> Vec<f32>) -> M {
    module.map(&mut Replace { k: 0, f })
}

/// `target ← (1 − τ) target + τ online`, parameter by parameter (soft target update).
pub fn polyak<M: Module>(target: M, online: &M, tau: f32) -> M {
    let mut c = Collect(Vec::new());
    online.visit(&mut c);
    let src = c.0;
    target.map(&mut Replace {
        k: 0,
        f: |k: usize, _shape: Vec<usize>, cur: Vec<f32>| {
            cur.iter()
                .zip(&src[k].1)
                .map(|(t, o)| (1.0 - tau) * t + tau * o)
                .collect()
        },
    })
}

/// Every parameter as a named f32 tensor (`{prefix}.{k}`), for a
/// [`ParamSnapshot`](mirrorflow_core::ParamSnapshot).
pub fn to_snapshot<M: Module>(module: &M, prefix: &str) -> Vec<CoreTensor> {
    let mut c = Collect(Vec::new());
    module.visit(&mut c);
    c.0.into_iter()
        .enumerate()
        .map(|(k, (shape, values))| CoreTensor {
            name: format!("{prefix}.{k}"),
            shape,
            data: CoreData::F32(values),
        })
        .collect()
}

/// Loads parameters written by [`to_snapshot`] with the same `prefix` into `module` (built from
/// the same config); names, count and shapes are checked.
pub fn from_snapshot<M: Module>(
    module: M,
    tensors: &[CoreTensor],
    prefix: &str,
) -> Result<M, NnError> {
    let mine: Vec<&CoreTensor> = tensors
        .iter()
        .filter(|t| {
            t.name
                .strip_prefix(prefix)
                .is_some_and(|r| r.starts_with('.'))
        })
        .collect();
    let mut c = Collect(Vec::new());
    module.visit(&mut c);
    if mine.len() != c.0.len() {
        return Err(NnError::Snapshot(format!(
            "`{prefix}` has {} tensors in the snapshot, the network has {} parameters",
            mine.len(),
            c.0.len()
        )));
    }
    for (k, (t, (shape, _))) in mine.iter().zip(&c.0).enumerate() {
        if t.name != format!("{prefix}.{k}") || &t.shape != shape {
            return Err(NnError::Snapshot(format!(
                "tensor {} has shape {:?}; parameter {prefix}.{k} has shape {shape:?}",
                t.name, t.shape
            )));
        }
        if !matches!(t.data, CoreData::F32(_)) {
            return Err(NnError::Snapshot(format!("tensor {} is not f32", t.name)));
        }
    }
    Ok(module.map(&mut Replace {
        k: 0,
        f: |k: usize, _shape: Vec<usize>, _cur: Vec<f32>| match &mine[k].data {
            CoreData::F32(v) => v.clone(),
            CoreData::F64(v) => v.iter().map(|x| *x as f32).collect(),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MlpConfig, cpu, cpu_autodiff};
    use burn::optim::{AdamConfig, GradientsParams};

    fn values<M: Module>(m: &M) -> Vec<Vec<f32>> {
        let mut c = Collect(Vec::new());
        m.visit(&mut c);
        c.0.into_iter().map(|(_, v)| v).collect()
    }

    #[test]
    fn an_mlp_fits_a_line_with_adam() {
        let dev = cpu_autodiff();
        let mut net = MlpConfig::new(1, &[16], 1).init(&dev);
        let mut opt = AdamConfig::new().init();
        let xs: Vec<f32> = (0..32).map(|i| i as f32 / 16.0 - 1.0).collect();
        let ys: Vec<f32> = xs.iter().map(|x| 2.0 * x + 1.0).collect();
        let x = Tensor::<2>::from_data(TensorData::new(xs, [32, 1]), &dev);
        let y = Tensor::<2>::from_data(TensorData::new(ys, [32, 1]), &dev);
        let mut loss_value = f32::INFINITY;
        for _ in 0..400 {
            let loss = (net.forward(x.clone()) - y.clone()).powi_scalar(2).mean();
            loss_value = loss.clone().into_scalar::<f32>();
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = opt.step(0.01, net, grads);
        }
        assert!(loss_value < 1e-3, "loss {loss_value}");
    }

    #[test]
    fn seeded_init_is_reproducible_and_scaled() {
        let dev = cpu();
        let cfg = MlpConfig::new(4, &[16], 2);
        let (a, b, c) = (
            cfg.init_seeded(&dev, 1),
            cfg.init_seeded(&dev, 1),
            cfg.init_seeded(&dev, 2),
        );
        assert_eq!(values(&a), values(&b));
        assert_ne!(values(&a), values(&c));
        let v = values(&a);
        assert!(v[0].iter().all(|x| x.abs() <= 0.5), "first layer: ±1/√4");
        assert!(v[2].iter().all(|x| x.abs() <= 0.25), "second layer: ±1/√16");
    }

    #[test]
    fn polyak_moves_the_target_by_tau() {
        let dev = cpu();
        let online = MlpConfig::new(3, &[4], 2).init(&dev);
        let target = MlpConfig::new(3, &[4], 2).init(&dev);
        let (o, t) = (values(&online), values(&target));
        let mixed = values(&polyak(target, &online, 0.25));
        for k in 0..o.len() {
            for i in 0..o[k].len() {
                let want = 0.75 * t[k][i] + 0.25 * o[k][i];
                assert!((mixed[k][i] - want).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn snapshots_round_trip_and_name_mismatches() {
        let dev = cpu();
        let a = MlpConfig::new(3, &[5, 4], 2).init(&dev);
        let snap = to_snapshot(&a, "actor");
        assert_eq!(snap.len(), 6, "3 layers × (weight, bias)");
        let b = from_snapshot(MlpConfig::new(3, &[5, 4], 2).init(&dev), &snap, "actor").unwrap();
        let x = Tensor::<2>::from_data(TensorData::new(vec![0.1f32, -0.2, 0.3], [1, 3]), &dev);
        assert_eq!(
            a.forward(x.clone())
                .into_data()
                .try_into_vec::<f32>()
                .unwrap(),
            b.forward(x).into_data().try_into_vec::<f32>().unwrap()
        );
        let e =
            from_snapshot(MlpConfig::new(3, &[6, 4], 2).init(&dev), &snap, "actor").unwrap_err();
        assert!(e.to_string().contains("shape"), "{e}");
        let e =
            from_snapshot(MlpConfig::new(3, &[5, 4], 2).init(&dev), &snap, "critic").unwrap_err();
        assert!(e.to_string().contains("0 tensors"), "{e}");
    }

    /// burn 0.22.1: a target cloned off a fresh module must not freeze the online network.
    #[test]
    fn a_target_cloned_after_materialize_leaves_the_online_network_trainable() {
        let dev = cpu_autodiff();
        let online = MlpConfig::new(2, &[8], 1).init(&dev);
        materialize(&online);
        let target = online.clone().no_grad();
        let x = Tensor::<2>::ones([4, 2], &dev);
        let loss = online.forward(x.clone()).sum() + target.forward(x).sum().detach();
        let grads = GradientsParams::from_grads(loss.backward(), &online);
        assert!(!grads.is_empty(), "the online network lost its gradients");
    }
}
