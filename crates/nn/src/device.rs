//! Compute devices. burn 0.22 chooses the backend at run time through its `Device`.

use burn::tensor::Device;

/// The CPU device (burn `flex`), for inference: actors' policies.
pub fn cpu() -> Device {
    Device::flex()
}

/// The CPU device with autodiff, for learners.
pub fn cpu_autodiff() -> Device {
    Device::flex().autodiff()
}
