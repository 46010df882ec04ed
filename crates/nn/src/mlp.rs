//! A multilayer perceptron: `Linear → ReLU → … → Linear`, burn's default (Kaiming-uniform)
//! initialisation, as in SB3 and CleanRL's MLP policies.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor, activation::relu};

/// Layer sizes of an [`Mlp`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MlpConfig {
    /// Inputs.
    pub input: usize,
    /// Hidden layer widths (each followed by a ReLU).
    pub hidden: Vec<usize>,
    /// Outputs (linear).
    pub output: usize,
}

impl MlpConfig {
    /// `input → hidden… → output`.
    pub fn new(input: usize, hidden: &[usize], output: usize) -> Self {
        Self {
            input,
            hidden: hidden.to_vec(),
            output,
        }
    }

    /// The network on `device`, initialised from `seed` with our own generator (PyTorch's
    /// `nn.Linear` default: weights and biases uniform in `±1/√fan_in`), so a run does not
    /// depend on burn's global random state or on which thread builds the network first.
    pub fn init_seeded(&self, device: &Device, seed: u64) -> Mlp {
        let net = self.init(device);
        let mut rng = mirrorflow_core::Rng::seed_from(seed);
        let mut fan_in = self.input;
        crate::params::replace(net, |_k, shape, _current| {
            if shape.len() == 2 {
                fan_in = shape[0];
            }
            let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
            let n: usize = shape.iter().product();
            (0..n).map(|_| rng.uniform(-bound, bound) as f32).collect()
        })
    }

    /// The network on `device` with burn's default initialisation (burn's random state; use
    /// [`MlpConfig::init_seeded`] where runs must be reproducible).
    pub fn init(&self, device: &Device) -> Mlp {
        let mut sizes = vec![self.input];
        sizes.extend(&self.hidden);
        sizes.push(self.output);
        let layers = sizes
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Mlp { layers }
    }
}

/// The network.
#[derive(Module, Debug)]
pub struct Mlp {
    layers: Vec<Linear>,
}

impl Mlp {
    /// `[batch, input] → [batch, output]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().fold(x, |h, (i, layer)| {
            let h = layer.forward(h);
            if i < last { relu(h) } else { h }
        })
    }
}
