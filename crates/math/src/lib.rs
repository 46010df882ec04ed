//! # mirrorflow-math
//!
//! Numerical kernels shared by the tabular, deep and online learners (spec `algorithms.md` §1).
//! Everything is `f64` and allocation-free where it can be; a leaf crate (rule R1).
//!
//! * [`softmax`]: temperature log-sum-exp, (log-)softmax, KL, Shannon and Tsallis entropies.
//! * [`sparsemax`]: sparsemax, its regularized value, and α-entmax (Tsallis policies).
//! * [`simplex`]: FTRL on the simplex with a separable regularizer (Shannon, ½-Tsallis,
//!   Tsallis-INF, log-barrier, hybrid) by safeguarded Newton.
//! * [`linalg`]: dense LU solve for exact policy evaluation.
//!
//! ```
//! use mirrorflow_math::softmax::{lse, softmax};
//! let v = [1.0, 2.0, 3.0];
//! let mut p = [0.0; 3];
//! softmax(&v, 1.0, &mut p);
//! assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-15);
//! assert!((lse(&v, 1e-13) - 3.0).abs() < 1e-15); // τ → 0 is the max
//! ```
#![deny(missing_docs)]

pub mod linalg;
pub mod policy_head;
pub mod simplex;
pub mod softmax;
pub mod sparsemax;
