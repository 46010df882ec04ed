//! Live dashboard and `.rrd` recordings through the rerun SDK (feature `rerun`).
//!
//! Every metric name is an entity path (`charts/episodic_return`, `losses/value`, …) on the
//! `env_steps` or `learner_steps` timeline, plus a `wall_time` timeline. Scalars are buffered
//! per series and sent as columns (`send_columns`); a series that is recorded faster than
//! `max_points_per_sec` is aggregated (the mean of each bucket), so the viewer's memory stays
//! bounded on long runs. Events go to a text log (`events`), the resolved config to a text
//! document (`config`) at t = 0, and a default blueprint lays out the dashboard.
//!
//! Telemetry never stops training: SDK errors are reported once and then ignored.

use mirrorflow_core::{Frame, MetricSink, Timeline};
use rerun::blueprint::{
    BarChartView, Blueprint, BlueprintActivation, ContainerLike, Horizontal, Spatial2DView,
    TensorView, TextDocumentView, TextLogView, TimeSeriesView, Vertical,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Where the recording goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RerunTarget {
    /// `RUN_DIR/telemetry.rrd`.
    File(std::path::PathBuf),
    /// A running viewer or proxy, e.g. `rerun+http://127.0.0.1:9876/proxy`.
    Connect(String),
    /// Start a viewer (`rerun` must be on PATH).
    Spawn,
}

/// Which picture panels the dashboard shows besides the time series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Panels {
    /// An image panel for environment frames (`frames`).
    pub frames: bool,
    /// A heatmap of the policy (`tabular/policy`) and a bar chart of the values
    /// (`tabular/values`).
    pub tabular: bool,
    /// A bar chart of the online learner's weights (`online/weights`).
    pub weights: bool,
}

/// Default address of a local viewer.
pub const DEFAULT_CONNECT: &str = "rerun+http://127.0.0.1:9876/proxy";

struct Series {
    timeline: Timeline,
    steps: Vec<i64>,
    values: Vec<f64>,
    walls: Vec<f64>,
    bucket: Option<(i64, f64, u32, f64)>, // last step, sum, count, wall
    last_point: Option<Instant>,
}

/// A [`MetricSink`] that streams to rerun.
pub struct RerunSink {
    rec: rerun::RecordingStream,
    series: BTreeMap<String, Series>,
    start: Instant,
    last_send: Instant,
    min_gap: Duration,
    warned: bool,
    points: u64,
}

impl RerunSink {
    /// Opens the recording (`recording_id` shared by every process of a run) and sends the
    /// blueprint and the resolved config.
    pub fn new(
        targets: &[RerunTarget],
        application: &'static str,
        recording_id: &str,
        config_text: &str,
        max_points_per_sec: f64,
        panels: Panels,
    ) -> Result<Self, String> {
        let builder =
            rerun::RecordingStreamBuilder::new(application).recording_id(recording_id.to_string());
        let err = |e: &dyn std::fmt::Display| format!("rerun: {e}");
        let rec = match targets {
            [RerunTarget::File(p)] => builder.save(p).map_err(|e| err(&e))?,
            [RerunTarget::Connect(url)] => builder.connect_grpc_opts(url.clone()).map_err(|e| err(&e))?,
            [RerunTarget::Spawn] => builder.spawn().map_err(|e| {
                format!("rerun: cannot start a viewer ({e}); install it with `pip install rerun-sdk==0.36.3` or use --rerun file")
            })?,
            many => {
                let (rec, _) = builder.memory().map_err(|e| err(&e))?;
                let mut sinks: Vec<Box<dyn rerun::sink::LogSink>> = Vec::new();
                for t in many {
                    match t {
                        RerunTarget::File(p) => sinks.push(Box::new(rerun::sink::FileSink::new(p).map_err(|e| err(&e))?)),
                        RerunTarget::Connect(url) => {
                            let uri = url.parse().map_err(|e| format!("rerun: bad viewer address {url}: {e}"))?;
                            sinks.push(Box::new(rerun::sink::GrpcSink::new(uri)));
                        }
                        RerunTarget::Spawn => {
                            return Err("rerun: `spawn` cannot be combined with other modes; use connect".into());
                        }
                    }
                }
                rec.set_sink(Box::new(rerun::sink::MultiSink::new(sinks)));
                rec
            }
        };
        let sink = Self {
            rec,
            series: BTreeMap::new(),
            start: Instant::now(),
            last_send: Instant::now(),
            min_gap: Duration::from_secs_f64(1.0 / max_points_per_sec.max(1e-3)),
            warned: false,
            points: 0,
        };
        sink.send_blueprint(panels);
        let _ = sink.rec.log_static(
            "config",
            &rerun::TextDocument::from_markdown(format!("```toml\n{config_text}\n```")),
        );
        Ok(sink)
    }

    fn send_blueprint(&self, panels: Panels) {
        let mut pictures: Vec<ContainerLike> = Vec::new();
        if panels.frames {
            pictures.push(Spatial2DView::new("Env frame").with_origin("frames").into());
        }
        if panels.tabular {
            pictures.push(
                TensorView::new("Policy π(a|s)")
                    .with_origin("tabular/policy")
                    .into(),
            );
            pictures.push(
                BarChartView::new("Values V(s)")
                    .with_origin("tabular/values")
                    .into(),
            );
        }
        if panels.weights {
            pictures.push(
                BarChartView::new("Weights")
                    .with_origin("online/weights")
                    .into(),
            );
        }
        let mut columns: Vec<ContainerLike> = vec![
            Vertical::new([
                TimeSeriesView::new("Returns").with_origin("charts").into(),
                TimeSeriesView::new("Losses").with_origin("losses").into(),
                TimeSeriesView::new("Eval").with_origin("eval").into(),
            ])
            .into(),
            Vertical::new([
                TimeSeriesView::new("Tabular").with_origin("tabular").into(),
                TimeSeriesView::new("Regret").with_origin("online").into(),
                TimeSeriesView::new("System").with_origin("system").into(),
            ])
            .into(),
        ];
        if !pictures.is_empty() {
            columns.push(Vertical::new(pictures).into());
        }
        columns.push(
            Vertical::new([
                TextDocumentView::new("Config").with_origin("config").into(),
                TextLogView::new("Events").with_origin("events").into(),
            ])
            .into(),
        );
        let bp = Blueprint::new(Horizontal::new(columns));
        let _ = bp.send(&self.rec, BlueprintActivation::default());
    }

    /// Sets the recording's clock for a logged (not column-sent) item.
    fn at(&self, timeline: Option<(Timeline, u64)>) {
        self.rec.reset_time();
        if let Some((t, step)) = timeline {
            self.rec.set_time_sequence(t.as_str(), step as i64);
        }
        self.rec
            .set_duration_secs("wall_time", self.start.elapsed().as_secs_f64());
    }

    fn log(&mut self, name: &str, item: &impl rerun::AsComponents) {
        if let Err(e) = self.rec.log(name, item) {
            self.warn(&e);
        }
    }

    fn warn(&mut self, e: &dyn std::fmt::Display) {
        if !self.warned {
            self.warned = true;
            eprintln!(
                "warning: rerun telemetry failed ({e}); training goes on, the files in the run directory are complete"
            );
        }
    }

    fn send(&mut self) {
        let mut failures = Vec::new();
        for (name, s) in self.series.iter_mut() {
            if s.steps.is_empty() {
                continue;
            }
            let steps = std::mem::take(&mut s.steps);
            let values = std::mem::take(&mut s.values);
            let walls = std::mem::take(&mut s.walls);
            let cols = rerun::Scalars::update_fields()
                .with_scalars(values)
                .columns_of_unit_batches();
            let result = cols.map_err(|e| e.to_string()).and_then(|cols| {
                self.rec
                    .send_columns(
                        name.as_str(),
                        [
                            rerun::TimeColumn::new_sequence(s.timeline.as_str(), steps),
                            rerun::TimeColumn::new_duration_secs("wall_time", walls),
                        ],
                        cols,
                    )
                    .map_err(|e| e.to_string())
            });
            if let Err(e) = result {
                failures.push(e);
            }
        }
        for e in failures {
            self.warn(&e);
        }
        self.last_send = Instant::now();
    }

    /// Points sent so far (after aggregation).
    pub fn points(&self) -> u64 {
        self.points
    }
}

impl MetricSink for RerunSink {
    fn record(&mut self, timeline: Timeline, step: u64, name: &str, value: f64) {
        let wall = self.start.elapsed().as_secs_f64();
        let s = self
            .series
            .entry(name.to_string())
            .or_insert_with(|| Series {
                timeline,
                steps: Vec::new(),
                values: Vec::new(),
                walls: Vec::new(),
                bucket: None,
                last_point: None,
            });
        // aggregate into the current bucket; close it once min_gap has passed since the last point
        let b = s.bucket.get_or_insert((step as i64, 0.0, 0, wall));
        (b.0, b.1, b.2, b.3) = (step as i64, b.1 + value, b.2 + 1, wall);
        let due = s.last_point.is_none_or(|t| t.elapsed() >= self.min_gap);
        if due && let Some((st, sum, n, w)) = s.bucket.take() {
            s.steps.push(st);
            s.values.push(sum / n as f64);
            s.walls.push(w);
            s.last_point = Some(Instant::now());
            self.points += 1;
        }
        if self.last_send.elapsed() >= Duration::from_millis(500) {
            self.send();
        }
    }

    fn event(&mut self, text: &str) {
        self.at(None);
        self.log("events", &rerun::TextLog::new(text.to_string()));
    }

    fn image(&mut self, timeline: Timeline, step: u64, name: &str, frame: &Frame) {
        self.at(Some((timeline, step)));
        // PNG keeps long runs light: a classic-control frame is ~2 kB instead of ~100 kB raw
        match crate::png_file::encode(frame) {
            Ok(png) => {
                let image = rerun::EncodedImage::from_file_contents(png)
                    .with_media_type(rerun::MediaType::PNG);
                self.log(name, &image);
            }
            Err(e) => self.warn(&e),
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
        self.at(Some((timeline, step)));
        let data = rerun::datatypes::TensorData::new(
            vec![rows as u64, cols as u64],
            rerun::datatypes::TensorBuffer::F64(values.to_vec().into()),
        );
        let tensor = rerun::Tensor::new(data).with_dim_names(["state", "action"]);
        self.log(name, &tensor);
    }

    fn bars(&mut self, timeline: Timeline, step: u64, name: &str, values: &[f64]) {
        self.at(Some((timeline, step)));
        self.log(name, &rerun::BarChart::new(values.to_vec()));
    }

    fn wants_pictures(&self) -> bool {
        true
    }

    fn flush(&mut self) {
        // close every open bucket so the last values are shown
        for s in self.series.values_mut() {
            if let Some((st, sum, n, w)) = s.bucket.take() {
                s.steps.push(st);
                s.values.push(sum / n as f64);
                s.walls.push(w);
                self.points += 1;
            }
        }
        self.send();
    }
}

impl Drop for RerunSink {
    fn drop(&mut self) {
        self.flush();
        if let Err(e) = self.rec.flush_blocking() {
            self.warn(&e);
        }
    }
}

/// `RUN_DIR/telemetry.rrd`.
pub fn rrd_path(run_dir: &Path) -> std::path::PathBuf {
    run_dir.join("telemetry.rrd")
}
