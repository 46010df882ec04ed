//! The last value of every metric, for `summary.json`.

use mirrorflow_core::{MetricSink, Timeline};
use std::collections::BTreeMap;

/// Keeps the final value of each metric (sorted by name).
#[derive(Clone, Debug, Default)]
pub struct SummarySink {
    /// Name → last value.
    pub last: BTreeMap<String, f64>,
    /// Events, in order.
    pub events: Vec<String>,
}

impl MetricSink for SummarySink {
    fn record(&mut self, _timeline: Timeline, _step: u64, name: &str, value: f64) {
        self.last.insert(name.to_string(), value);
    }
    fn event(&mut self, text: &str) {
        self.events.push(text.to_string());
    }
}
