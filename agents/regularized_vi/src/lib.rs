//! # mirrorflow-agent-regularized-vi
//!
//! KL- and entropy-regularized value iteration for tabular MDPs, after Vieillard, Kozuno,
//! Scherrer, Pietquin, Munos & Geist, *Leverage the Average: an Analysis of KL Regularization in
//! RL* (NeurIPS 2020, arXiv 2003.14089), and the Munchausen reparametrization of Vieillard,
//! Pietquin & Geist (NeurIPS 2020, arXiv 2007.14430). Spec: `algorithms.md` §1.1, §1.4, §2.
//!
//! * [`mdvi`]: exact MD-VI(λ, τ, m) in its three equivalent forms (mirror descent, dual
//!   averaging, Munchausen), with plain VI (λ = τ = 0) and soft VI (λ = 0) as reductions, and an
//!   optional additive Gaussian error model.
//! * [`evaluation`]: exact policy evaluation and the optimal `q*` that the error metrics use.
//!
//! Indexing (spec §2.6): `q_0 = 0`, `π_0` uniform; iteration `k ≥ 1` computes
//! `π_k = G_{π_{k−1}}(q_{k−1})` then `q_k = (T_{π_k|π_{k−1}})^m q_{k−1}`. "After K iterations"
//! means `(q_K, π_K)`.
#![deny(missing_docs)]

pub mod config;
pub mod evaluation;
pub mod mdvi;
pub mod sampled;

pub use config::{Form, MdviConfig, Noise, Sampler};
pub use mdvi::Mdvi;
pub use sampled::{SampledMdvi, SampledMdviBuilder};
