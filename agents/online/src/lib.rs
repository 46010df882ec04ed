//! # mirrorflow-agent-online
//!
//! Online convex optimization learners (spec `algorithms.md` §6, §7):
//!
//! * [`mirror`]: the mirror maps (Euclidean ball / box, negative entropy and ½-Tsallis on the
//!   simplex) and step-size schedules (constant, `D/(G√t)`, `c/(λt)`, adaptive) shared by
//!   OMD and FTRL; [`ftrl`]: linearized FTRL (dual averaging) on any of them.
//! * [`omd`]: optimistic online mirror descent in the SEA model (Chen, Tu, Zhao & Zhang, ICML
//!   2023): two sequences, hint `M_t` (last gradient by default), Euclidean geometry projected
//!   on a ball, or the entropic geometry on the simplex; plain OMD is the zero-hint case.
//! * [`gift`]: generalized implicit FTRL (Chen & Orabona, ICML 2023) with
//!   `ψ_t = (λ_t/2)‖x‖²`: linearized FTRL, implicit FTRL with closed-form steps for squared,
//!   hinge and logistic losses, and the aProx-type update.
//!
//! * [`experts`]: Hedge and Tsallis-INF (full information or bandit feedback) as FTRL on the
//!   simplex with the shared solver, and exact static regret against the best expert.
//! * [`linear`]: linear predictors on example streams behind
//!   [`OnlineLearner`](mirrorflow_core::OnlineLearner): FTRL-Proximal (McMahan et al., KDD
//!   2013) and online gradient descent (constant, `1/√t`, `1/(λt)`, AdaGrad steps).
#![deny(missing_docs)]

pub mod experts;
pub mod ftrl;
pub mod gift;
pub mod ips;
pub mod linear;
pub mod mirror;
pub mod offline;
pub mod omd;
pub mod ons;
