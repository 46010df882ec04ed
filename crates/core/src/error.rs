//! Errors of the core vocabulary.

use thiserror::Error;

/// Something an environment refused or failed to do. Carries the env id so a message read in a
/// log of a 64-env run still says which env it came from.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum EnvError {
    /// The action is not in the action space.
    #[error("env `{env}`: action {action:?} is not in the action space {space}")]
    InvalidAction {
        /// Env id.
        env: String,
        /// The offending action, flattened.
        action: Vec<f32>,
        /// The space, rendered.
        space: String,
    },
    /// `step` was called before `reset`, or after the episode ended without a reset.
    #[error("env `{env}`: step called {when}; call reset first")]
    NeedsReset {
        /// Env id.
        env: String,
        /// "before the first reset" or "after the episode ended".
        when: &'static str,
    },
    /// The observation buffer has the wrong length.
    #[error("env `{env}`: observation buffer has {got} elements, the space needs {expected}")]
    ObsBuffer {
        /// Env id.
        env: String,
        /// Required length.
        expected: usize,
        /// Given length.
        got: usize,
    },
    /// The environment produced a non-finite observation or reward.
    #[error("env `{env}`: {what} is not finite ({value}) during {call}")]
    NonFinite {
        /// Env id.
        env: String,
        /// "observation[3]", "reward", ...
        what: String,
        /// The value.
        value: f64,
        /// "reset" or "step".
        call: &'static str,
    },
    /// Anything else an env implementation reports (e.g. a Python exception).
    #[error("env `{env}`: {call} failed: {message}")]
    Failed {
        /// Env id.
        env: String,
        /// The call that failed.
        call: &'static str,
        /// What went wrong, possibly multi-line (a traceback).
        message: String,
    },
}

/// Errors of the core crate that are not env failures.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// An env failed.
    #[error(transparent)]
    Env(#[from] EnvError),
    /// A model (tabular MDP) is malformed; the message names the offending entry.
    #[error("invalid model: {0}")]
    InvalidModel(String),
    /// A learner or planner failed.
    #[error("learner failed: {0}")]
    Learner(String),
    /// A snapshot does not fit the learner that was asked to restore it.
    #[error("snapshot mismatch: {0}")]
    Snapshot(String),
    /// An example stream failed; the message names the file and, where there is one, the line.
    #[error("{0}")]
    Stream(String),
}
