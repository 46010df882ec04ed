//! Progress on the console: an indicatif bar on a terminal, a line every few seconds otherwise
//! (CI logs), both showing steps/s and the latest value of one key metric.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mirrorflow_core::{MetricSink, Timeline};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Shows progress along one timeline.
pub struct ProgressSink {
    bar: Option<ProgressBar>,
    timeline: Timeline,
    total: u64,
    key: String,
    key_value: Option<f64>,
    position: u64,
    start: Instant,
    last_line: Instant,
    every: Duration,
    last_event: Option<Instant>,
    suppressed: u64,
}

impl ProgressSink {
    /// Progress towards `total` steps of `timeline`, showing `key`.
    pub fn new(timeline: Timeline, total: u64, key: &str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(5));
            let style =
                ProgressStyle::with_template("{bar:30} {pos}/{len} {per_sec} eta {eta} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Self {
            bar,
            timeline,
            total,
            key: key.to_string(),
            key_value: None,
            position: 0,
            start: Instant::now(),
            last_line: Instant::now(),
            every: Duration::from_secs(2),
            last_event: None,
            suppressed: 0,
        }
    }

    fn message(&self) -> String {
        self.key_value
            .map_or(String::new(), |v| format!("{}={v:.6e}", self.key))
    }

    fn line(&self) {
        let secs = self.start.elapsed().as_secs_f64().max(1e-9);
        // total 0: unknown in advance (a stream read to its end)
        let of = if self.total > 0 {
            format!(
                "/{} ({:.0}%)",
                self.total,
                100.0 * self.position as f64 / self.total as f64
            )
        } else {
            String::new()
        };
        eprintln!(
            "[{:>7.1}s] {} {}{of} {:.0}/s {}",
            secs,
            self.timeline.as_str(),
            self.position,
            self.position as f64 / secs,
            self.message()
        );
    }

    /// Ends the bar (or prints a last line).
    pub fn finish(&mut self) {
        match self.bar.take() {
            Some(bar) => {
                bar.set_message(self.message());
                bar.finish();
            }
            None => self.line(),
        }
    }
}

impl MetricSink for ProgressSink {
    fn record(&mut self, timeline: Timeline, step: u64, name: &str, value: f64) {
        if timeline == self.timeline && step > self.position {
            self.position = step;
            if let Some(bar) = &self.bar {
                bar.set_position(step);
            }
        }
        if name == self.key {
            self.key_value = Some(value);
            if let Some(bar) = &self.bar {
                bar.set_message(self.message());
            }
        }
        if self.bar.is_none() && self.last_line.elapsed() >= self.every {
            self.last_line = Instant::now();
            self.line();
        }
    }

    fn event(&mut self, text: &str) {
        // Events go to events.log in full; the console shows at most one every two seconds.
        if self.last_event.is_some_and(|t| t.elapsed() < self.every) {
            self.suppressed += 1;
            return;
        }
        let text = if self.suppressed > 0 {
            format!(
                "{text} (+{} more events in events.log)",
                std::mem::take(&mut self.suppressed)
            )
        } else {
            text.to_string()
        };
        self.last_event = Some(Instant::now());
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }
}

impl Drop for ProgressSink {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.abandon();
        }
    }
}
