//! Live dashboard and `.rrd` recordings through the rerun SDK (feature `rerun`).
//!
//! Every metric name is an entity path (`charts/episodic_return`, `losses/value`, …) on the
//! `env_steps` or `learner_steps` timeline, plus a `wall_time` timeline. Scalars are buffered
//! per series and sent as columns (`send_columns`). Each series has a token bucket: up to a
//! minute's worth of points at `max_points_per_sec` goes out as recorded, after that records are
//! averaged into one point per token, so the viewer's memory stays bounded on long runs (at
//! most `max_points_per_sec` points per series per second). Events go to a text log (`events`), the resolved config to a text
//! document (`config`) at t = 0, and a default blueprint lays out the dashboard.
//!
//! Telemetry never stops training: SDK errors are reported once and then ignored.

use mirrorflow_core::{Frame, MetricSink, Timeline};
use rerun::blueprint::components::PanelState;
use rerun::blueprint::{
    BarChartView, Blueprint, BlueprintActivation, BlueprintPanel, ContainerLike, Horizontal,
    SelectionPanel, Spatial2DView, TensorView, TextDocumentView, TextLogView, TimePanel,
    TimeSeriesView, Vertical,
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

/// Default address of a local viewer.
pub const DEFAULT_CONNECT: &str = "rerun+http://127.0.0.1:9876/proxy";

/// A series may send this many seconds' worth of points at once (short runs keep every point;
/// long ones settle at the rate limit).
const BURST_SECS: f64 = 60.0;

/// Time-series panels, in dashboard order: (namespace, title, column).
const SERIES_PANELS: &[(&str, &str, usize)] = &[
    ("charts", "Charts", 0),
    ("eval", "Eval", 0),
    ("losses", "Losses", 0),
    ("tabular", "Tabular", 1),
    ("online", "Online", 1),
    ("system", "System", 1),
];

/// Picture panels: (entity, title, kind).
const PICTURE_PANELS: &[(&str, &str, Picture)] = &[
    ("frames", "Env frame", Picture::Image),
    ("tabular/policy", "Policy π(a|s)", Picture::Heatmap),
    ("tabular/values", "Values", Picture::Bars),
    ("online/weights", "Weights", Picture::Bars),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Picture {
    Image,
    Heatmap,
    Bars,
}

struct Series {
    /// Points: (env_steps, learner_steps, value, wall seconds).
    points: Vec<(i64, i64, f64, f64)>,
    /// The open bucket: sum, count, and the clocks of its last record.
    bucket: Option<(f64, u32, i64, i64, f64)>,
    /// Token bucket: points this series may still send now, refilled at the rate limit.
    tokens: f64,
    refilled: Instant,
}

/// A [`MetricSink`] that streams to rerun.
///
/// Every point carries both step timelines (`env_steps` and `learner_steps`, the other one at
/// its latest value) and `wall_time`, so any panel reads on any timeline. The dashboard grows
/// with the run: a panel appears when its namespace (`charts`, `losses`, …) or picture first
/// arrives.
pub struct RerunSink {
    rec: rerun::RecordingStream,
    series: BTreeMap<String, Series>,
    start: Instant,
    last_send: Instant,
    /// Points per second per series, and the burst a series may send at once.
    rate: f64,
    burst: f64,
    warned: bool,
    points: u64,
    /// Latest step seen on each timeline (env, learner).
    clock: [Option<i64>; 2],
    timeline: Timeline,
    shown: std::collections::BTreeSet<&'static str>,
    layout_dirty: bool,
}

fn slot(t: Timeline) -> usize {
    match t {
        Timeline::EnvSteps => 0,
        Timeline::LearnerSteps => 1,
    }
}

impl RerunSink {
    /// Opens the recording (`recording_id` shared by every process of a run) and sends the
    /// resolved config; the viewer opens on `timeline`.
    pub fn new(
        targets: &[RerunTarget],
        application: &'static str,
        recording_id: &str,
        config_text: &str,
        max_points_per_sec: f64,
        timeline: Timeline,
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
        let mut sink = Self {
            rec,
            series: BTreeMap::new(),
            start: Instant::now(),
            last_send: Instant::now(),
            rate: max_points_per_sec.max(1e-3),
            burst: (max_points_per_sec * BURST_SECS).max(1.0),
            warned: false,
            points: 0,
            clock: [None, None],
            timeline,
            shown: Default::default(),
            layout_dirty: false,
        };
        sink.send_blueprint();
        let _ = sink.rec.log_static(
            "config",
            &rerun::TextDocument::from_markdown(format!("```toml\n{config_text}\n```")),
        );
        Ok(sink)
    }

    /// Notes that `entity` has data; the layout is re-sent if that adds a panel.
    fn touch(&mut self, entity: &str) {
        let ns = entity.split('/').next().unwrap_or(entity);
        let panel = PICTURE_PANELS
            .iter()
            .map(|p| p.0)
            .find(|p| *p == entity)
            .or_else(|| SERIES_PANELS.iter().map(|p| p.0).find(|p| *p == ns));
        if let Some(p) = panel
            && self.shown.insert(p)
        {
            self.layout_dirty = true;
        }
    }

    fn send_blueprint(&mut self) {
        self.layout_dirty = false;
        let mut columns: Vec<ContainerLike> = Vec::new();
        for col in 0..2 {
            let views: Vec<ContainerLike> = SERIES_PANELS
                .iter()
                .filter(|(ns, _, c)| *c == col && self.shown.contains(ns))
                .map(|(ns, title, _)| TimeSeriesView::new(*title).with_origin(*ns).into())
                .collect();
            if !views.is_empty() {
                columns.push(Vertical::new(views).into());
            }
        }
        let pictures: Vec<ContainerLike> = PICTURE_PANELS
            .iter()
            .filter(|(e, _, _)| self.shown.contains(e))
            .map(|(e, title, kind)| match kind {
                Picture::Image => Spatial2DView::new(*title).with_origin(*e).into(),
                Picture::Heatmap => TensorView::new(*title).with_origin(*e).into(),
                Picture::Bars => BarChartView::new(*title).with_origin(*e).into(),
            })
            .collect();
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
        // the dashboard gets the whole window; the side panels are one click away
        let bp = Blueprint::new(Horizontal::new(columns))
            .with_blueprint_panel(BlueprintPanel::new().with_state(PanelState::Collapsed))
            .with_selection_panel(SelectionPanel::new().with_state(PanelState::Collapsed))
            .with_time_panel(
                TimePanel::new()
                    .with_state(PanelState::Collapsed)
                    .with_timeline(self.timeline.as_str()),
            );
        if let Err(e) = bp.send(&self.rec, BlueprintActivation::default()) {
            self.warn(&e);
        }
    }

    /// Sets the recording's clock for a logged (not column-sent) item: both step timelines at
    /// their latest values and the wall time.
    fn at(&self, timeline: Option<(Timeline, u64)>) {
        self.rec.reset_time();
        let mut clock = self.clock;
        if let Some((t, step)) = timeline {
            clock[slot(t)] = Some(step as i64);
        }
        for (t, c) in [Timeline::EnvSteps, Timeline::LearnerSteps]
            .into_iter()
            .zip(clock)
        {
            if let Some(c) = c {
                self.rec.set_time_sequence(t.as_str(), c);
            }
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
        if self.layout_dirty {
            self.send_blueprint();
        }
        let mut failures = Vec::new();
        let [has_env, has_learner] = self.clock.map(|c| c.is_some());
        for (name, s) in self.series.iter_mut() {
            if s.points.is_empty() {
                continue;
            }
            let points = std::mem::take(&mut s.points);
            let mut times = Vec::with_capacity(3);
            if has_env {
                times.push(rerun::TimeColumn::new_sequence(
                    "env_steps",
                    points.iter().map(|p| p.0),
                ));
            }
            if has_learner {
                times.push(rerun::TimeColumn::new_sequence(
                    "learner_steps",
                    points.iter().map(|p| p.1),
                ));
            }
            times.push(rerun::TimeColumn::new_duration_secs(
                "wall_time",
                points.iter().map(|p| p.3),
            ));
            let cols = rerun::Scalars::update_fields()
                .with_scalars(points.iter().map(|p| p.2))
                .columns_of_unit_batches();
            let result = cols.map_err(|e| e.to_string()).and_then(|cols| {
                self.rec
                    .send_columns(name.as_str(), times, cols)
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
        self.clock[slot(timeline)] = Some(step as i64);
        let [env, learner] = self.clock.map(|c| c.unwrap_or(0));
        if !self.series.contains_key(name) {
            self.touch(name);
            self.series.insert(
                name.to_string(),
                Series {
                    points: Vec::new(),
                    bucket: None,
                    tokens: self.burst,
                    refilled: Instant::now(),
                },
            );
        }
        let Some(s) = self.series.get_mut(name) else {
            return;
        };
        // aggregate into the current bucket; close it when the series has a token to spend
        let b = s.bucket.get_or_insert((0.0, 0, env, learner, wall));
        *b = (b.0 + value, b.1 + 1, env, learner, wall);
        let now = Instant::now();
        s.tokens =
            (s.tokens + now.duration_since(s.refilled).as_secs_f64() * self.rate).min(self.burst);
        s.refilled = now;
        if s.tokens >= 1.0
            && let Some((sum, n, e, l, w)) = s.bucket.take()
        {
            s.tokens -= 1.0;
            s.points.push((e, l, sum / n as f64, w));
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
        self.touch(name);
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
        self.touch(name);
        self.at(Some((timeline, step)));
        let data = rerun::datatypes::TensorData::new(
            vec![rows as u64, cols as u64],
            rerun::datatypes::TensorBuffer::F64(values.to_vec().into()),
        );
        let tensor = rerun::Tensor::new(data).with_dim_names(["state", "action"]);
        self.log(name, &tensor);
    }

    fn bars(&mut self, timeline: Timeline, step: u64, name: &str, values: &[f64]) {
        self.touch(name);
        self.at(Some((timeline, step)));
        self.log(name, &rerun::BarChart::new(values.to_vec()));
    }

    fn wants_pictures(&self) -> bool {
        true
    }

    fn flush(&mut self) {
        // close every open bucket so the last values are shown
        for s in self.series.values_mut() {
            if let Some((sum, n, e, l, w)) = s.bucket.take() {
                s.points.push((e, l, sum / n as f64, w));
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
