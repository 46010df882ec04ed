//! `metrics.jsonl`: one JSON object per `(timeline, step)`.
//!
//! ```text
//! {"timeline":"learner_steps","step":3,"wall_secs":0.0123,"tabular/q_error_inf":0.52,"tabular/policy_entropy":1.37}
//! ```
//!
//! Records of the same `(timeline, step)` that arrive together are merged into one line; a line
//! is written when the key changes and on [`MetricSink::flush`]. Keys are sorted. Events go to
//! `events.log` beside it, one line each with the wall time.

use crate::{TelemetryError, io_err};
use mirrorflow_core::{MetricSink, Timeline};
use serde_json::{Map, Number, Value};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Writes `metrics.jsonl` (and `events.log`).
pub struct JsonlSink {
    out: BufWriter<File>,
    events: BufWriter<File>,
    path: PathBuf,
    start: Instant,
    last_flush: Instant,
    pending: Option<(Timeline, u64, BTreeMap<String, f64>)>,
    error: Option<String>,
}

impl JsonlSink {
    /// Creates (truncates) `dir/metrics.jsonl` and `dir/events.log`.
    pub fn create(dir: &Path) -> Result<Self, TelemetryError> {
        let path = dir.join("metrics.jsonl");
        let ev = dir.join("events.log");
        Ok(Self {
            out: BufWriter::new(File::create(&path).map_err(io_err(&path))?),
            events: BufWriter::new(File::create(&ev).map_err(io_err(&ev))?),
            path,
            start: Instant::now(),
            last_flush: Instant::now(),
            pending: None,
            error: None,
        })
    }

    /// Continues an interrupted run: truncates `dir/metrics.jsonl` to `keep_bytes` (its length
    /// at the checkpoint being resumed, so nothing after it is duplicated) and appends.
    pub fn resume(dir: &Path, keep_bytes: u64) -> Result<Self, TelemetryError> {
        let path = dir.join("metrics.jsonl");
        let ev = dir.join("events.log");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        file.set_len(keep_bytes).map_err(io_err(&path))?;
        let events = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&ev)
            .map_err(io_err(&ev))?;
        Ok(Self {
            out: BufWriter::new(file),
            events: BufWriter::new(events),
            path,
            start: Instant::now(),
            last_flush: Instant::now(),
            pending: None,
            error: None,
        })
    }

    /// The first write error, if any (writing never panics or stops a run).
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn write_pending(&mut self) {
        let Some((timeline, step, values)) = self.pending.take() else {
            return;
        };
        let mut obj = Map::new();
        obj.insert("timeline".into(), Value::String(timeline.as_str().into()));
        obj.insert("step".into(), Value::Number(step.into()));
        let wall = (self.start.elapsed().as_secs_f64() * 1e4).round() / 1e4;
        obj.insert(
            "wall_secs".into(),
            Number::from_f64(wall).map_or(Value::Null, Value::Number),
        );
        for (k, v) in values {
            // JSON has no NaN/inf: write them as strings so nothing is silently dropped.
            let val =
                Number::from_f64(v).map_or_else(|| Value::String(v.to_string()), Value::Number);
            obj.insert(k, val);
        }
        let line = Value::Object(obj).to_string();
        if let Err(e) = writeln!(self.out, "{line}") {
            self.error
                .get_or_insert_with(|| format!("{}: {e}", self.path.display()));
        }
        if self.last_flush.elapsed() > Duration::from_secs(2) {
            let _ = self.out.flush();
            self.last_flush = Instant::now();
        }
    }
}

impl MetricSink for JsonlSink {
    fn record(&mut self, timeline: Timeline, step: u64, name: &str, value: f64) {
        match &mut self.pending {
            Some((t, s, values)) if *t == timeline && *s == step => {
                values.insert(name.to_string(), value);
            }
            _ => {
                self.write_pending();
                self.pending = Some((timeline, step, BTreeMap::from([(name.to_string(), value)])));
            }
        }
    }

    fn event(&mut self, text: &str) {
        let _ = writeln!(
            self.events,
            "[{:>10.3}s] {text}",
            self.start.elapsed().as_secs_f64()
        );
    }

    fn flush(&mut self) {
        self.write_pending();
        if let Err(e) = self.out.flush().and_then(|_| self.events.flush()) {
            self.error
                .get_or_insert_with(|| format!("{}: {e}", self.path.display()));
        }
    }
}

impl Drop for JsonlSink {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_by_step() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut s = JsonlSink::create(dir.path()).unwrap();
            s.record(Timeline::LearnerSteps, 1, "b/x", 1.0);
            s.record(Timeline::LearnerSteps, 1, "a/y", 2.0);
            s.record(Timeline::LearnerSteps, 2, "b/x", f64::NAN);
            s.event("hello");
            s.flush();
        }
        let text = std::fs::read_to_string(dir.path().join("metrics.jsonl")).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["step"], 1);
        assert_eq!(lines[0]["a/y"], 2.0);
        assert_eq!(lines[1]["b/x"], "NaN");
        assert!(
            std::fs::read_to_string(dir.path().join("events.log"))
                .unwrap()
                .contains("hello")
        );
    }
}
