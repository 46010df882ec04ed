//! Q-critics over (observation, action): `n` independent MLPs on `[obs, act]`, trained by one
//! optimizer (twin critics of SAC/TD3 with `n = 2`).

use crate::{Mlp, MlpConfig};
use burn::module::Module;
use burn::tensor::{Device, Tensor};

/// `n` critics `Q_i(s, a)`, each `obs_dim + act_dim → hidden… → 1`.
#[derive(Module, Debug)]
pub struct Critics {
    nets: Vec<Mlp>,
}

impl Critics {
    /// `n` critics (at least one), critic `i` seeded with `seed + i` (see [`MlpConfig::init_seeded`]).
    pub fn init_seeded(
        n: usize,
        obs_dim: usize,
        act_dim: usize,
        hidden: &[usize],
        device: &Device,
        seed: u64,
    ) -> Self {
        let cfg = MlpConfig::new(obs_dim + act_dim, hidden, 1);
        Self {
            nets: (0..n.max(1))
                .map(|i| cfg.init_seeded(device, seed.wrapping_add(i as u64)))
                .collect(),
        }
    }

    /// The same shapes with burn's default initialisation (to load a snapshot into).
    pub fn init(
        n: usize,
        obs_dim: usize,
        act_dim: usize,
        hidden: &[usize],
        device: &Device,
    ) -> Self {
        let cfg = MlpConfig::new(obs_dim + act_dim, hidden, 1);
        Self {
            nets: (0..n.max(1)).map(|_| cfg.init(device)).collect(),
        }
    }

    /// Number of critics.
    pub fn len(&self) -> usize {
        self.nets.len()
    }

    /// True when there are no critics.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// `Q_i(s, a)` for every critic, each `[batch, 1]`.
    pub fn forward_each(&self, obs: Tensor<2>, act: Tensor<2>) -> Vec<Tensor<2>> {
        let x = Tensor::cat(vec![obs, act], 1);
        self.nets.iter().map(|n| n.forward(x.clone())).collect()
    }

    /// `min_i Q_i(s, a)`, `[batch, 1]` (zeros for an empty set, which the constructors never
    /// build).
    pub fn min(&self, obs: Tensor<2>, act: Tensor<2>) -> Tensor<2> {
        let (rows, device) = (obs.dims()[0], obs.device());
        self.forward_each(obs, act)
            .into_iter()
            .reduce(|a, b| a.min_pair(b))
            .unwrap_or_else(|| Tensor::zeros([rows, 1], &device))
    }
}
