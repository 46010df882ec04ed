//! The learning side of an agent: [`Learner`] for agents that learn from transitions, [`Planner`]
//! for agents that compute from a known model (exact tabular methods), and [`ParamSnapshot`], the
//! one form in which parameters cross thread, process and crate boundaries.

use crate::batch::TransitionBatch;
use crate::env::EnvSpec;
use crate::error::Error;
use crate::metrics::MetricSink;
use crate::policy::Policy;
use crate::replay::{OffPolicySpec, SampledBatch};
use serde::{Deserialize, Serialize};

/// Numbers of one named tensor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TensorData {
    /// Single precision (networks).
    F32(Vec<f32>),
    /// Double precision (tabular values).
    F64(Vec<f64>),
}

impl TensorData {
    /// The values in single precision (rounded from f64).
    pub fn to_f32(&self) -> Vec<f32> {
        match self {
            TensorData::F32(v) => v.clone(),
            TensorData::F64(v) => v.iter().map(|x| *x as f32).collect(),
        }
    }

    /// The values in double precision.
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            TensorData::F32(v) => v.iter().map(|x| *x as f64).collect(),
            TensorData::F64(v) => v.clone(),
        }
    }
}

/// A named, shaped tensor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tensor {
    /// Name, e.g. `q` or `actor.l1.weight`.
    pub name: String,
    /// Shape, row-major.
    pub shape: Vec<usize>,
    /// Values.
    pub data: TensorData,
}

/// Versioned parameters: what a learner publishes and an actor adopts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ParamSnapshot {
    /// Policy version (number of updates that produced these parameters).
    pub version: u64,
    /// Tensors, in a fixed order.
    pub tensors: Vec<Tensor>,
}

impl ParamSnapshot {
    /// Little-endian bytes of every tensor in order (names and shapes included), for
    /// fingerprints: two snapshots with equal bytes are bit-identical.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for t in &self.tensors {
            out.extend_from_slice(t.name.as_bytes());
            out.push(0);
            for &d in &t.shape {
                out.extend_from_slice(&(d as u64).to_le_bytes());
            }
            match &t.data {
                TensorData::F32(v) => v
                    .iter()
                    .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
                TensorData::F64(v) => v
                    .iter()
                    .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
            }
        }
        out
    }
}

/// A dense row-major `f64` matrix, the form planners hand out results in (`q.npy`, `policy.npy`).
#[derive(Clone, Debug, PartialEq)]
pub struct Array2 {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// `rows * cols` values.
    pub data: Vec<f64>,
}

/// An agent that learns from transition batches (the actor–learner loop's learner).
pub trait Learner {
    /// Consumes one batch; may run zero or more updates.
    fn learn(&mut self, batch: &TransitionBatch, metrics: &mut dyn MetricSink)
    -> Result<(), Error>;

    /// Current parameters: what the actors need to act (published every version).
    fn snapshot(&self) -> ParamSnapshot;

    /// Everything needed to resume: by default the parameters; learners with more state
    /// (critics, targets, temperature, their generator) return a superset of
    /// [`snapshot`](Self::snapshot), written into checkpoints.
    fn state(&self) -> ParamSnapshot {
        self.snapshot()
    }

    /// Restores what [`state`](Self::state) returned (resume).
    fn restore(&mut self, state: &ParamSnapshot) -> Result<(), Error>;
}

/// A learner that updates from replayed minibatches (SAC, M-DQN). The runtime owns the replay
/// and calls [`OffPolicyLearner::update`] as the agent's [`OffPolicySpec`] says.
pub trait OffPolicyLearner {
    /// Sees every collected batch before it enters replay (counters, episode statistics).
    fn observe(&mut self, _batch: &TransitionBatch, _metrics: &mut dyn MetricSink) {}

    /// One update from a sampled batch; returns `|δ|` per row when the replay is prioritized.
    fn update(
        &mut self,
        batch: &SampledBatch,
        metrics: &mut dyn MetricSink,
    ) -> Result<Option<Vec<f64>>, Error>;

    /// Current parameters: what the actors need to act (published every version).
    fn snapshot(&self) -> ParamSnapshot;

    /// Everything needed to resume: by default the parameters; learners with more state
    /// (critics, targets, temperature, their generator) return a superset of
    /// [`snapshot`](Self::snapshot), written into checkpoints.
    fn state(&self) -> ParamSnapshot {
        self.snapshot()
    }

    /// Restores what [`state`](Self::state) returned (resume).
    fn restore(&mut self, state: &ParamSnapshot) -> Result<(), Error>;
}

/// An agent that computes with a known model, one iteration at a time (exact MD-VI, ...).
pub trait Planner {
    /// Runs one iteration and records its metrics at learner step [`Planner::iterations`].
    fn iterate(&mut self, metrics: &mut dyn MetricSink) -> Result<(), Error>;

    /// Iterations done so far.
    fn iterations(&self) -> u64;

    /// Current parameters (e.g. the Q table and log-policy).
    fn snapshot(&self) -> ParamSnapshot;

    /// Called once after the last iteration (or on interruption): record final metrics that are
    /// computed only every few iterations.
    fn finish(&mut self, _metrics: &mut dyn MetricSink) -> Result<(), Error> {
        Ok(())
    }

    /// Named result matrices to save with the run (written as `NAME.npy`).
    fn artifacts(&self) -> Vec<(String, Array2)> {
        Vec::new()
    }
}

/// Builds the pieces of an agent where they will live: the learner once, a policy per actor.
/// The agent says what it needs; the runtime decides placement.
pub trait AgentBuilder: Send + Sync {
    /// The learner, seeded.
    fn make_learner(&self, spec: &EnvSpec, seed: u64) -> Result<Box<dyn Learner>, Error>;

    /// An acting policy for the given parameters.
    fn make_policy(&self, spec: &EnvSpec, params: &ParamSnapshot)
    -> Result<Box<dyn Policy>, Error>;

    /// For off-policy agents: the replay they learn from. The runtime then builds the learner
    /// with [`AgentBuilder::make_off_policy_learner`] and feeds it replayed batches instead of
    /// calling [`AgentBuilder::make_learner`].
    fn off_policy(&self) -> Option<OffPolicySpec> {
        None
    }

    /// The off-policy learner, seeded.
    fn make_off_policy_learner(
        &self,
        _spec: &EnvSpec,
        _seed: u64,
    ) -> Result<Box<dyn OffPolicyLearner>, Error> {
        Err(Error::Learner(
            "this agent does not learn from replay".into(),
        ))
    }
}
