//! Compute devices. burn 0.22 chooses the backend at run time through its `Device`, so one
//! binary can carry several; which ones are compiled in is a cargo feature:
//!
//! | [`Backend`] | config value | cargo feature | device |
//! |---|---|---|---|
//! | `Cpu` | `"cpu"` (default) | always | burn `flex`, pure Rust |
//! | `Wgpu` | `"wgpu"` | `wgpu` (or `gpu`) | Vulkan / Metal / DX12 / OpenGL through wgpu |
//! | `Cuda` | `"cuda"` | `cuda` (or `gpu`) | NVIDIA CUDA, first GPU |
//!
//! Only learners move: actors always run their policies on the CPU (parameters reach them as
//! snapshots, plain data), so a GPU learner feeds CPU actors without any device in the loop.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::NnError;

/// The CPU device (burn `flex`), for inference: actors' policies.
pub fn cpu() -> Device {
    Device::flex()
}

/// The CPU device with autodiff, for learners.
pub fn cpu_autodiff() -> Device {
    Device::flex().autodiff()
}

/// Where a learner computes; `agent.device` in configs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn `flex` on the CPU (the default; always available).
    #[default]
    Cpu,
    /// A GPU through wgpu (build with `--features gpu` or `wgpu`).
    Wgpu,
    /// An NVIDIA GPU through CUDA (build with `--features gpu` or `cuda`).
    Cuda,
}

impl Backend {
    /// The config spelling.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::Wgpu => "wgpu",
            Backend::Cuda => "cuda",
        }
    }

    /// Whether this build carries the backend.
    pub fn compiled(self) -> bool {
        match self {
            Backend::Cpu => true,
            Backend::Wgpu => cfg!(feature = "wgpu"),
            Backend::Cuda => cfg!(feature = "cuda"),
        }
    }

    /// `Ok` when this build carries the backend; otherwise an error naming the cargo feature.
    pub fn check(self) -> Result<(), NnError> {
        if !self.compiled() {
            return Err(NnError::Backend(format!(
                "agent.device = \"{}\" is not in this build: rebuild with `cargo build --release \
                 --features gpu` (or `--features {}`), or set agent.device = \"cpu\"",
                self.name(),
                self.name()
            )));
        }
        Ok(())
    }

    /// The device without autodiff (target networks, no-grad passes); an error names the cargo
    /// feature when the backend is not compiled in.
    pub fn device(self) -> Result<Device, NnError> {
        self.check()?;
        Ok(self.open())
    }

    /// The device with autodiff, for learners.
    pub fn autodiff(self) -> Result<Device, NnError> {
        Ok(self.device()?.autodiff())
    }

    fn open(self) -> Device {
        match self {
            Backend::Cpu => Device::flex(),
            #[cfg(feature = "wgpu")]
            Backend::Wgpu => Device::wgpu(Default::default()),
            #[cfg(feature = "cuda")]
            Backend::Cuda => Device::cuda(Default::default()),
            #[allow(unreachable_patterns)]
            _ => unreachable!("checked by Backend::compiled"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_default_and_always_there() {
        assert_eq!(Backend::default(), Backend::Cpu);
        assert!(Backend::Cpu.device().is_ok());
        assert!(Backend::Cpu.autodiff().is_ok());
    }

    #[test]
    fn missing_backend_names_the_feature() {
        for b in [Backend::Wgpu, Backend::Cuda] {
            if b.compiled() {
                continue;
            }
            let e = b.device().unwrap_err().to_string();
            assert!(e.contains(b.name()) && e.contains("--features gpu"), "{e}");
        }
    }

    #[test]
    fn config_spelling() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};
        for b in [Backend::Cpu, Backend::Wgpu, Backend::Cuda] {
            let d: StrDeserializer<'_, Error> = b.name().into_deserializer();
            assert_eq!(Backend::deserialize(d).unwrap(), b);
        }
        let d: StrDeserializer<'_, Error> = "tpu".into_deserializer();
        assert!(Backend::deserialize(d).is_err());
    }
}
