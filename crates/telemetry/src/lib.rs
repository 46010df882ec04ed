//! # mirrorflow-telemetry
//!
//! Where metrics go. Every sink implements [`MetricSink`](mirrorflow_core::MetricSink); a run
//! fans out to several at once ([`Fanout`]):
//!
//! * [`jsonl::JsonlSink`]: `metrics.jsonl`, one JSON object per `(timeline, step)` with every
//!   metric recorded at that step — readable with `pandas.read_json(path, lines=True)`;
//! * [`summary::SummarySink`]: the last value of every metric, for `summary.json`;
//! * [`progress::ProgressSink`]: a progress bar on a terminal, periodic lines otherwise;
//! * [`run_dir::RunDir`]: creates the run directory (never overwriting one) and writes files
//!   atomically; [`npy`] writes NumPy arrays users load with `numpy.load`.
//!
//! Metrics under `system/` are wall-clock measurements (steps/s); every other metric is a
//! deterministic function of the config and seed.
#![deny(missing_docs)]

pub mod jsonl;
pub mod npy;
pub mod png_file;
pub mod progress;
#[cfg(feature = "rerun")]
pub mod rerun_sink;
pub mod run_dir;
pub mod summary;

use mirrorflow_core::{Frame, MetricSink, Timeline};
use thiserror::Error;

/// I/O failures of the file sinks; names the file.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The run directory exists and is not empty.
    #[error(
        "run directory {0} already exists and is not empty; choose another --run-dir (runs are never overwritten)"
    )]
    RunDirExists(String),
}

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> TelemetryError + '_ {
    move |source| TelemetryError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Sends every record and event to each of its sinks, in order.
#[derive(Default)]
pub struct Fanout {
    sinks: Vec<Box<dyn MetricSink + Send>>,
}

impl Fanout {
    /// An empty fan-out.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a sink.
    pub fn push(&mut self, sink: Box<dyn MetricSink + Send>) {
        self.sinks.push(sink);
    }
}

impl MetricSink for Fanout {
    fn record(&mut self, timeline: Timeline, step: u64, name: &str, value: f64) {
        for s in &mut self.sinks {
            s.record(timeline, step, name, value);
        }
    }
    fn event(&mut self, text: &str) {
        for s in &mut self.sinks {
            s.event(text);
        }
    }
    fn image(&mut self, timeline: Timeline, step: u64, name: &str, frame: &Frame) {
        for s in &mut self.sinks {
            s.image(timeline, step, name, frame);
        }
    }
    fn matrix(
        &mut self,
        timeline: Timeline,
        step: u64,
        name: &str,
        rows: usize,
        cols: usize,
        values: &[f64],
    ) {
        for s in &mut self.sinks {
            s.matrix(timeline, step, name, rows, cols, values);
        }
    }
    fn bars(&mut self, timeline: Timeline, step: u64, name: &str, values: &[f64]) {
        for s in &mut self.sinks {
            s.bars(timeline, step, name, values);
        }
    }
    fn wants_pictures(&self) -> bool {
        self.sinks.iter().any(|s| s.wants_pictures())
    }
    fn flush(&mut self) {
        for s in &mut self.sinks {
            s.flush();
        }
    }
}

/// A sink shared between the runner (possibly on a worker thread) and the code that writes the
/// summary afterwards.
pub struct Shared<S>(pub std::sync::Arc<std::sync::Mutex<S>>);

impl<S> Shared<S> {
    /// Wraps a sink.
    pub fn new(sink: S) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(sink)))
    }

    /// Runs `f` on the sink (a poisoned lock is recovered: metrics are best effort).
    pub fn with<R>(&self, f: impl FnOnce(&mut S) -> R) -> R {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g)
    }
}

impl<S> Shared<S> {
    fn with_ref<R>(&self, f: impl FnOnce(&S) -> R) -> R {
        let g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&g)
    }
}

impl<S> Clone for Shared<S> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<S: MetricSink> MetricSink for Shared<S> {
    fn record(&mut self, timeline: Timeline, step: u64, name: &str, value: f64) {
        self.with(|s| s.record(timeline, step, name, value));
    }
    fn event(&mut self, text: &str) {
        self.with(|s| s.event(text));
    }
    fn image(&mut self, timeline: Timeline, step: u64, name: &str, frame: &Frame) {
        self.with(|s| s.image(timeline, step, name, frame));
    }
    fn matrix(
        &mut self,
        timeline: Timeline,
        step: u64,
        name: &str,
        rows: usize,
        cols: usize,
        values: &[f64],
    ) {
        self.with(|s| s.matrix(timeline, step, name, rows, cols, values));
    }
    fn bars(&mut self, timeline: Timeline, step: u64, name: &str, values: &[f64]) {
        self.with(|s| s.bars(timeline, step, name, values));
    }
    fn wants_pictures(&self) -> bool {
        self.with_ref(|s| s.wants_pictures())
    }
    fn flush(&mut self) {
        self.with(|s| s.flush());
    }
}
