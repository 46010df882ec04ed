//! Metrics leave every component through [`MetricSink`]; where they go (JSONL, console, rerun)
//! is the sink's business, not the emitter's.
//!
//! Names follow CleanRL's namespaces and double as rerun entity paths: `charts/episodic_return`,
//! `losses/critic`, `system/sps`, `tabular/q_error_inf`, `online/regret`.

use crate::env::Frame;
use serde::{Deserialize, Serialize};

/// The clock a metric is recorded against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timeline {
    /// Environment steps taken (all workers together).
    EnvSteps,
    /// Learner updates / planner iterations.
    LearnerSteps,
}

impl Timeline {
    /// The timeline's name as written to files and to rerun.
    pub fn as_str(self) -> &'static str {
        match self {
            Timeline::EnvSteps => "env_steps",
            Timeline::LearnerSteps => "learner_steps",
        }
    }
}

/// Receives scalar metrics and text events.
///
/// ```
/// use mirrorflow_core::metrics::{MemorySink, MetricSink, Timeline};
/// let mut sink = MemorySink::default();
/// sink.record(Timeline::LearnerSteps, 1, "losses/td", 0.5);
/// assert_eq!(sink.last("losses/td"), Some(0.5));
/// ```
pub trait MetricSink {
    /// Records `value` for `name` at `step` of `timeline`.
    fn record(&mut self, timeline: Timeline, step: u64, name: &str, value: f64);

    /// A run event (checkpoint written, worker failed, ...), shown in logs and dashboards.
    fn event(&mut self, _text: &str) {}

    /// An environment frame (dashboards show it as an image; file sinks ignore it).
    fn image(&mut self, _timeline: Timeline, _step: u64, _name: &str, _frame: &Frame) {}

    /// A `rows x cols` row-major matrix, e.g. a tabular policy (states x actions), shown as a
    /// heatmap.
    fn matrix(
        &mut self,
        _timeline: Timeline,
        _step: u64,
        _name: &str,
        _rows: usize,
        _cols: usize,
        _values: &[f64],
    ) {
    }

    /// A vector shown as a bar chart, e.g. a value function or a weight vector.
    fn bars(&mut self, _timeline: Timeline, _step: u64, _name: &str, _values: &[f64]) {}

    /// Whether this sink shows pictures at all; emitters skip building them when it does not.
    fn wants_pictures(&self) -> bool {
        false
    }

    /// Pushes buffered records out. Called at the end of a run and periodically.
    fn flush(&mut self) {}
}

/// One recorded scalar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Timeline.
    pub timeline: Timeline,
    /// Step on the timeline.
    pub step: u64,
    /// Metric name.
    pub name: String,
    /// Value.
    pub value: f64,
}

/// A sink that keeps everything in memory (tests, summaries).
#[derive(Clone, Debug, Default)]
pub struct MemorySink {
    /// Records in arrival order.
    pub records: Vec<Record>,
    /// Events in arrival order.
    pub events: Vec<String>,
}

impl MemorySink {
    /// Last value recorded for `name`.
    pub fn last(&self, name: &str) -> Option<f64> {
        self.records
            .iter()
            .rev()
            .find(|r| r.name == name)
            .map(|r| r.value)
    }

    /// All values recorded for `name`, in order.
    pub fn series(&self, name: &str) -> Vec<f64> {
        self.records
            .iter()
            .filter(|r| r.name == name)
            .map(|r| r.value)
            .collect()
    }
}

impl MetricSink for MemorySink {
    fn record(&mut self, timeline: Timeline, step: u64, name: &str, value: f64) {
        self.records.push(Record {
            timeline,
            step,
            name: name.to_string(),
            value,
        });
    }
    fn event(&mut self, text: &str) {
        self.events.push(text.to_string());
    }
}

/// A sink that drops everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullSink;

impl MetricSink for NullSink {
    fn record(&mut self, _: Timeline, _: u64, _: &str, _: f64) {}
}
