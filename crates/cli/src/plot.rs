//! `mirrorflow plot RUN_DIR... -o FILE.png`: learning curves from run directories.
//!
//! Runs whose resolved configs (`config.toml`) agree on everything but the seed (and the keys
//! given with `--average-over`) form one group, drawn as its mean with a ± one standard
//! deviation band. Curves are binned on the x-axis (`--points` bins) so runs with different
//! step grids still average.

use anyhow::{Context, bail};
use mirrorflow_core::Frame;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Metrics tried in this order when `--metric` is not given.
const DEFAULT_METRICS: &[&str] = &[
    "charts/episodic_return",
    "tabular/q_error_inf",
    "online/regret",
];

/// Config keys that never split groups: they do not change what is learned.
const NEVER_GROUP: &[&str] = &["seed", "name", "run.runs_dir", "runtime.workers"];

/// What `mirrorflow plot` was asked for.
#[derive(Debug)]
pub struct PlotArgs {
    /// Run directories.
    pub runs: Vec<PathBuf>,
    /// Output PNG.
    pub out: PathBuf,
    /// Metric name (default: the first of [`DEFAULT_METRICS`] every run has).
    pub metric: Option<String>,
    /// x-axis: `step` (the metric's timeline) or `wall` (seconds).
    pub x: String,
    /// Config keys averaged over besides the seed (e.g. `env.model_seed`).
    pub average_over: Vec<String>,
    /// Logarithmic axes.
    pub log_x: bool,
    /// Logarithmic y-axis.
    pub log_y: bool,
    /// Title (default: the metric).
    pub title: Option<String>,
    /// Bins on the x-axis.
    pub points: usize,
    /// Picture size in pixels.
    pub size: (u32, u32),
    /// Group runs by their directory name with the seed suffix removed (`sac-s3` → `sac`)
    /// instead of by their configs; the name is the line's label.
    pub group_by_dir: bool,
}

struct Run {
    dir: PathBuf,
    config: BTreeMap<String, String>,
    curve: Vec<(f64, f64)>,
}

/// One drawn line: label, and per bin (x, mean, std).
struct Group {
    label: String,
    runs: usize,
    points: Vec<(f64, f64, f64)>,
}

/// Draws the picture; returns the groups' labels and sizes for the console.
pub fn plot(args: &PlotArgs) -> anyhow::Result<Vec<(String, usize)>> {
    if args.runs.is_empty() {
        bail!("give at least one run directory");
    }
    if !matches!(args.x.as_str(), "step" | "wall") && sweep_key(args).is_none_or(str::is_empty) {
        bail!(
            "--x {:?}: expected \"step\", \"wall\" or \"config:KEY\" (the final value of the metric against a numeric config key, e.g. config:agent.schedule.eta0)",
            args.x
        );
    }
    if args.points < 2 {
        bail!("--points {}: need at least 2", args.points);
    }
    for d in &args.runs {
        if !d.join("config.toml").is_file() || !metrics_file(d).is_file() {
            bail!(
                "{} is not a run directory (it needs config.toml and metrics.jsonl)",
                d.display()
            );
        }
    }
    let metric = match &args.metric {
        Some(m) => m.clone(),
        None => default_metric(&args.runs)?,
    };
    let runs: Vec<Run> = args
        .runs
        .iter()
        .map(|d| load_run(d, &metric, args))
        .collect::<anyhow::Result<_>>()?;
    let groups = group(&runs, args);
    let font = find_font()?;
    let bytes: &'static [u8] = Box::leak(
        std::fs::read(&font)
            .with_context(|| format!("reading font {}", font.display()))?
            .into_boxed_slice(),
    );
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).map_err(|_| {
        anyhow::anyhow!(
            "{} is not a TrueType font; set MIRRORFLOW_FONT to a .ttf file",
            font.display()
        )
    })?;
    let (w, h) = args.size;
    let mut rgb = vec![255u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let xs = bounds(groups.iter().flat_map(|g| g.points.iter().map(|p| p.0)));
        let ys = bounds(groups.iter().flat_map(|g| {
            g.points
                .iter()
                .flat_map(|p| [p.1 - p.2, p.1 + p.2])
                .filter(|y| !args.log_y || *y > 0.0)
        }));
        let x_label = match (args.x.as_str(), sweep_key(args)) {
            ("wall", _) => "wall time (s)".to_string(),
            (_, Some(key)) => key.to_string(),
            _ => timeline_of(&runs),
        };
        let title = args.title.clone().unwrap_or_else(|| metric.clone());
        let labels = (title.as_str(), x_label.as_str(), metric.as_str());
        let (x0, x1) = pad(xs, args.log_x);
        let (y0, y1) = pad(ys, args.log_y);
        let logs = (args.log_x, args.log_y);
        match logs {
            (false, false) => draw(&root, x0..x1, y0..y1, &groups, labels, logs),
            (true, false) => draw(&root, (x0..x1).log_scale(), y0..y1, &groups, labels, logs),
            (false, true) => draw(&root, x0..x1, (y0..y1).log_scale(), &groups, labels, logs),
            (true, true) => draw(
                &root,
                (x0..x1).log_scale(),
                (y0..y1).log_scale(),
                &groups,
                labels,
                logs,
            ),
        }?;
        root.present().map_err(draw_err)?;
    }
    let frame = Frame {
        width: w,
        height: h,
        rgb,
    };
    mirrorflow_telemetry::png_file::write(&args.out, &frame)?;
    Ok(groups.iter().map(|g| (g.label.clone(), g.runs)).collect())
}

fn draw_err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("drawing the plot: {e}")
}

/// Palette (colour-blind safe, Okabe–Ito).
const COLORS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
];

fn draw<X, Y>(
    root: &DrawingArea<BitMapBackend<'_>, Shift>,
    x: X,
    y: Y,
    groups: &[Group],
    (title, x_label, y_label): (&str, &str, &str),
    logs: (bool, bool),
) -> anyhow::Result<()>
where
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64> + Ranged<ValueType = f64>,
    Y::CoordDescType: ValueFormatter<f64> + Ranged<ValueType = f64>,
{
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x, y)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(225, 225, 225))
        .x_label_formatter(&|v| if logs.0 { log_tick(*v) } else { tick(*v) })
        .y_label_formatter(&|v| if logs.1 { log_tick(*v) } else { tick(*v) })
        .draw()
        .map_err(draw_err)?;
    for (k, g) in groups.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        if g.runs > 1 {
            // ± one std band: upper edge forwards, lower edge backwards
            let band: Vec<(f64, f64)> = g
                .points
                .iter()
                .map(|p| (p.0, p.1 + p.2))
                .chain(g.points.iter().rev().map(|p| (p.0, p.1 - p.2)))
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(band, color.mix(0.18))))
                .map_err(draw_err)?;
        }
        let label = format!("{} (n={})", g.label, g.runs);
        chart
            .draw_series(LineSeries::new(
                g.points.iter().map(|p| (p.0, p.1)),
                color.stroke_width(2),
            ))
            .map_err(draw_err)?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .label_font(("sans-serif", 13))
        .position(legend_corner(groups))
        .draw()
        .map_err(draw_err)?;
    Ok(())
}

/// Rising curves (learning curves of returns) leave the lower right empty; falling ones
/// (errors, losses) the upper right.
fn legend_corner(groups: &[Group]) -> SeriesLabelPosition {
    let (mut first, mut last) = (0.0, 0.0);
    for g in groups {
        if let (Some(a), Some(b)) = (g.points.first(), g.points.last()) {
            first += a.1;
            last += b.1;
        }
    }
    if last > first {
        SeriesLabelPosition::LowerRight
    } else {
        SeriesLabelPosition::UpperRight
    }
}

/// Short tick labels: `0.5`, `250`, `1.2e6`, `3e-4`.
fn tick(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.1e}");
        s.replace(".0e", "e")
    } else {
        let s = format!("{v:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    }
}

/// Log-axis labels only at 1, 2 and 5 times a power of ten (the grid keeps every tick).
fn log_tick(v: f64) -> String {
    let mantissa = v / 10f64.powf(v.abs().log10().floor());
    if [1.0, 2.0, 5.0].iter().any(|m| (mantissa - m).abs() < 1e-6) {
        tick(v)
    } else {
        String::new()
    }
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

/// A little room around the data; a usable range for degenerate data.
fn pad((lo, hi): (f64, f64), log: bool) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        return if log { (1.0, 10.0) } else { (0.0, 1.0) };
    }
    if log {
        let (lo, hi) = (lo.max(1e-300), hi.max(1e-300));
        return if hi > lo {
            (lo / 1.2, hi * 1.2)
        } else {
            (lo / 2.0, hi * 2.0)
        };
    }
    let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
    (lo - 0.04 * span, hi + 0.04 * span)
}

fn default_metric(runs: &[PathBuf]) -> anyhow::Result<String> {
    let first = metrics_file(&runs[0]);
    let text =
        std::fs::read_to_string(&first).with_context(|| format!("reading {}", first.display()))?;
    for m in DEFAULT_METRICS {
        if text.contains(&format!("\"{m}\"")) {
            return Ok(m.to_string());
        }
    }
    bail!(
        "{}: none of {} is recorded; choose one with --metric (recorded: {})",
        first.display(),
        DEFAULT_METRICS.join(", "),
        recorded_metrics(&text).join(", ")
    )
}

fn recorded_metrics(text: &str) -> Vec<String> {
    let mut names = std::collections::BTreeSet::new();
    for line in text.lines().take(10_000) {
        if let Ok(serde_json::Value::Object(m)) = serde_json::from_str(line) {
            names.extend(
                m.keys()
                    .filter(|k| !matches!(k.as_str(), "timeline" | "step" | "wall_secs"))
                    .cloned(),
            );
        }
    }
    names.into_iter().collect()
}

fn metrics_file(dir: &Path) -> PathBuf {
    dir.join("metrics.jsonl")
}

/// The config key of `--x config:KEY` (a sweep plot: one point per run).
fn sweep_key(args: &PlotArgs) -> Option<&str> {
    args.x.strip_prefix("config:")
}

fn load_run(dir: &Path, metric: &str, args: &PlotArgs) -> anyhow::Result<Run> {
    let cfg_path = dir.join("config.toml");
    let cfg_text = std::fs::read_to_string(&cfg_path).with_context(|| {
        format!(
            "{} is not a run directory (no readable config.toml)",
            dir.display()
        )
    })?;
    let cfg: toml::Value =
        toml::from_str(&cfg_text).with_context(|| format!("parsing {}", cfg_path.display()))?;
    let mut config = BTreeMap::new();
    flatten("", &cfg, &mut config);
    let path = metrics_file(dir);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut curve = Vec::new();
    let mut timeline = None;
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not JSON", path.display(), n + 1))?;
        let Some(y) = row.get(metric).and_then(|v| v.as_f64()) else {
            continue;
        };
        timeline = row
            .get("timeline")
            .and_then(|t| t.as_str())
            .map(String::from);
        let x = match args.x.as_str() {
            "wall" => row.get("wall_secs").and_then(|v| v.as_f64()),
            _ => row.get("step").and_then(|v| v.as_f64()),
        };
        if let Some(x) = x
            && y.is_finite()
            && (!args.log_x || x > 0.0)
            && (!args.log_y || y > 0.0)
        {
            curve.push((x, y));
        }
    }
    if let Some(key) = sweep_key(args) {
        // one point: the config value against the metric's last value
        let v = config
            .get(key)
            .and_then(|v| v.trim_matches('"').parse::<f64>().ok())
            .with_context(|| {
                format!(
                    "{}: --x config:{key}: the run's config has no numeric `{key}`",
                    dir.display()
                )
            })?;
        let last = text
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|row| row.get(metric).and_then(|v| v.as_f64()))
            .find(|y| y.is_finite());
        curve = match last {
            Some(y) if (!args.log_x || v > 0.0) && (!args.log_y || y > 0.0) => vec![(v, y)],
            _ => Vec::new(),
        };
    }
    if curve.is_empty() {
        bail!(
            "{} has no values of {metric:?}{}; recorded: {}",
            path.display(),
            if args.log_x || args.log_y {
                " (positive ones, for a log axis)"
            } else {
                ""
            },
            recorded_metrics(&text).join(", ")
        );
    }
    if let Some(t) = timeline {
        config.insert("\u{0}timeline".into(), t);
    }
    Ok(Run {
        dir: dir.to_path_buf(),
        config,
        curve,
    })
}

fn timeline_of(runs: &[Run]) -> String {
    runs.first()
        .and_then(|r| r.config.get("\u{0}timeline"))
        .cloned()
        .unwrap_or_else(|| "step".into())
}

fn flatten(prefix: &str, v: &toml::Value, out: &mut BTreeMap<String, String>) {
    match v {
        toml::Value::Table(t) => {
            for (k, v) in t {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

fn ignored(key: &str, args: &PlotArgs) -> bool {
    NEVER_GROUP.contains(&key)
        || sweep_key(args) == Some(key)
        || key.starts_with("telemetry.")
        || key.starts_with('\u{0}')
        || args
            .average_over
            .iter()
            .any(|a| key == a || key.starts_with(&format!("{a}.")))
}

/// A run directory's name without its seed: `sac-s3` and `sac_pendulum__s3__1712345678`
/// both lose the `s<digits>` part and what follows it.
pub fn variant_of(dir: &std::path::Path) -> String {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for sep in ["__s", "-s", "_s"] {
        if let Some(i) = name.rfind(sep) {
            let rest = &name[i + sep.len()..];
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            if digits > 0 && (digits == rest.len() || rest[digits..].starts_with("__")) {
                return name[..i].to_string();
            }
        }
    }
    name
}

fn group(runs: &[Run], args: &PlotArgs) -> Vec<Group> {
    if args.group_by_dir {
        let (x_lo, x_hi) = bounds(runs.iter().flat_map(|r| r.curve.iter().map(|p| p.0)));
        let mut groups: Vec<(String, Vec<&Run>)> = Vec::new();
        for r in runs {
            let v = variant_of(&r.dir);
            match groups.iter_mut().find(|(g, _)| *g == v) {
                Some((_, members)) => members.push(r),
                None => groups.push((v, vec![r])),
            }
        }
        return groups
            .into_iter()
            .map(|(label, members)| Group {
                label,
                runs: members.len(),
                points: aggregate(&members, x_lo, x_hi, args.points, args.log_x),
            })
            .collect();
    }
    let key = |r: &Run| -> BTreeMap<String, String> {
        r.config
            .iter()
            .filter(|(k, _)| !ignored(k, args))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let mut groups: Vec<(BTreeMap<String, String>, Vec<&Run>)> = Vec::new();
    for r in runs {
        let k = key(r);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, members)) => members.push(r),
            None => groups.push((k, vec![r])),
        }
    }
    // label each group by the keys on which groups differ
    let differing: Vec<String> = groups
        .first()
        .map(|(first, _)| {
            let mut keys: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
            for (g, _) in &groups {
                for k in first.keys().chain(g.keys()) {
                    if first.get(k) != g.get(k) {
                        keys.insert(k.clone());
                    }
                }
            }
            keys.into_iter().collect()
        })
        .unwrap_or_default();
    let (x_lo, x_hi) = bounds(runs.iter().flat_map(|r| r.curve.iter().map(|p| p.0)));
    groups
        .into_iter()
        .map(|(k, members)| {
            let label = if differing.is_empty() {
                k.get("name")
                    .or_else(|| members[0].config.get("name"))
                    .map(|n| n.trim_matches('"').to_string())
                    .unwrap_or_else(|| members[0].dir.display().to_string())
            } else {
                differing
                    .iter()
                    .map(|d| {
                        let v = k.get(d).map_or("-", |v| v.as_str());
                        format!("{d}={}", v.trim_matches('"'))
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            Group {
                label,
                runs: members.len(),
                points: aggregate(&members, x_lo, x_hi, args.points, args.log_x),
            }
        })
        .collect()
}

/// Bins every run's curve (mean of its points per bin), then averages the runs per bin:
/// `(mean x, mean y, std y)` over the runs that have a point in the bin.
fn aggregate(runs: &[&Run], lo: f64, hi: f64, bins: usize, log: bool) -> Vec<(f64, f64, f64)> {
    let t = |x: f64| if log { x.ln() } else { x };
    let (a, b) = (t(lo), t(hi));
    let bin = |x: f64| {
        if b > a {
            (((t(x) - a) / (b - a) * bins as f64) as usize).min(bins - 1)
        } else {
            0
        }
    };
    // per bin: (sum of x, count of x, per-run means of y)
    let mut acc: Vec<(f64, usize, Vec<f64>)> = vec![(0.0, 0, Vec::new()); bins];
    for r in runs {
        let mut sums: BTreeMap<usize, (f64, f64, usize)> = BTreeMap::new();
        for &(x, y) in &r.curve {
            let e = sums.entry(bin(x)).or_insert((0.0, 0.0, 0));
            (e.0, e.1, e.2) = (e.0 + x, e.1 + y, e.2 + 1);
        }
        for (k, (sx, sy, n)) in sums {
            acc[k].0 += sx;
            acc[k].1 += n;
            acc[k].2.push(sy / n as f64);
        }
    }
    acc.into_iter()
        .filter(|(_, n, ys)| *n > 0 && !ys.is_empty())
        .map(|(sx, n, ys)| {
            let m = ys.iter().sum::<f64>() / ys.len() as f64;
            let var = if ys.len() > 1 {
                ys.iter().map(|y| (y - m).powi(2)).sum::<f64>() / (ys.len() - 1) as f64
            } else {
                0.0
            };
            (sx / n as f64, m, var.sqrt())
        })
        .collect()
}

/// A TrueType font for labels: `MIRRORFLOW_FONT`, else a common system font.
fn find_font() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("MIRRORFLOW_FONT") {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        bail!("MIRRORFLOW_FONT={} does not name a font file", p.display());
    }
    const CANDIDATES: &[&str] = &[
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
        "/Library/Fonts/Arial.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        "C:\\Windows\\Fonts\\arial.ttf",
    ];
    CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no TrueType font found for the plot labels; install one (Debian/Ubuntu: `apt-get install fonts-dejavu-core`) or set MIRRORFLOW_FONT=/path/to/font.ttf"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seed: u64, lam: f64, curve: Vec<(f64, f64)>) -> Run {
        let mut config = BTreeMap::new();
        config.insert("seed".into(), seed.to_string());
        config.insert("agent.lambda".into(), lam.to_string());
        config.insert("name".into(), "\"x\"".into());
        Run {
            dir: PathBuf::from(format!("r{seed}")),
            config,
            curve,
        }
    }

    fn args() -> PlotArgs {
        PlotArgs {
            runs: Vec::new(),
            out: PathBuf::new(),
            metric: None,
            x: "step".into(),
            average_over: Vec::new(),
            log_x: false,
            log_y: false,
            title: None,
            points: 4,
            size: (100, 100),
            group_by_dir: false,
        }
    }

    #[test]
    fn variants_drop_the_seed_suffix() {
        use std::path::Path;
        assert_eq!(variant_of(Path::new("/tmp/x/sac-s3")), "sac");
        assert_eq!(
            variant_of(Path::new("/tmp/x/bl_s0.1_n4-s12/")),
            "bl_s0.1_n4"
        );
        assert_eq!(
            variant_of(Path::new("runs/sac_pendulum__s0__1764460800")),
            "sac_pendulum"
        );
        assert_eq!(variant_of(Path::new("runs/plain")), "plain");
        assert_eq!(variant_of(Path::new("runs/bl_single")), "bl_single");
    }

    #[test]
    fn ticks_are_short() {
        let t: Vec<String> = [0.0, 0.6000000001, 250.0, 1.25e6, 3e-4, -2.5]
            .into_iter()
            .map(tick)
            .collect();
        assert_eq!(t, ["0", "0.6", "250", "1.2e6", "3e-4", "-2.5"]);
        let l: Vec<String> = [10.0, 20.0, 30.0, 50.0, 90.0, 0.2, 0.3]
            .into_iter()
            .map(log_tick)
            .collect();
        assert_eq!(l, ["10", "20", "", "50", "", "0.2", ""]);
    }

    #[test]
    fn seeds_average_and_configs_split() {
        let runs = vec![
            run(0, 1.0, vec![(0.0, 1.0), (10.0, 3.0)]),
            run(1, 1.0, vec![(0.0, 3.0), (10.0, 5.0)]),
            run(0, 0.0, vec![(0.0, 7.0), (10.0, 7.0)]),
        ];
        let g = group(&runs, &args());
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].label, "agent.lambda=1");
        assert_eq!(g[1].label, "agent.lambda=0");
        assert_eq!(g[0].runs, 2);
        // bins 0 and 3: means 2 and 4, std √2
        assert_eq!(g[0].points.len(), 2);
        let (x, m, s) = g[0].points[1];
        assert_eq!((x, m), (10.0, 4.0));
        assert!((s - 2f64.sqrt()).abs() < 1e-12);
        assert_eq!(g[1].points[0], (0.0, 7.0, 0.0));
    }

    #[test]
    fn a_sweep_over_a_config_key_is_one_line() {
        // `--x config:agent.lambda`: each run is one point at its λ; seeds average per point
        let runs = vec![
            run(0, 1.0, vec![(1.0, 1.0)]),
            run(1, 1.0, vec![(1.0, 3.0)]),
            run(0, 0.0, vec![(0.0, 7.0)]),
        ];
        let mut a = args();
        a.x = "config:agent.lambda".into();
        let g = group(&runs, &a);
        assert_eq!((g.len(), g[0].runs), (1, 3));
        assert_eq!(g[0].points.len(), 2);
        assert_eq!(g[0].points[0], (0.0, 7.0, 0.0));
        assert_eq!((g[0].points[1].0, g[0].points[1].1), (1.0, 2.0));
    }

    #[test]
    fn averaging_over_a_key_merges_groups() {
        let runs = vec![run(0, 1.0, vec![(1.0, 1.0)]), run(1, 2.0, vec![(1.0, 3.0)])];
        let mut a = args();
        a.average_over = vec!["agent".into()];
        let g = group(&runs, &a);
        assert_eq!((g.len(), g[0].runs, g[0].label.as_str()), (1, 2, "x"));
        assert_eq!(g[0].points[0].1, 2.0);
    }
}
