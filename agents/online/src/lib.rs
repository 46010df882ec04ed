//! # mirrorflow-agent-online
//!
//! Online convex optimization learners (spec `algorithms.md` §6, §7):
//!
//! * [`omd`]: optimistic online mirror descent in the SEA model (Chen, Tu, Zhao & Zhang, ICML
//!   2023): two sequences, hint `M_t` (last gradient by default), Euclidean geometry projected
//!   on a ball, or the entropic geometry on the simplex; plain OMD is the zero-hint case.
//! * [`gift`]: generalized implicit FTRL (Chen & Orabona, ICML 2023) with
//!   `ψ_t = (λ_t/2)‖x‖²`: linearized FTRL, implicit FTRL with closed-form steps for squared,
//!   hinge and logistic losses, and the aProx-type update.
//!
//! Streams, the CLI, regret metrics and data-parallel averaging come with the online-learning
//! issue; these are the learners and their oracle tests.
#![deny(missing_docs)]

pub mod gift;
pub mod omd;
