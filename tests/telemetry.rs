//! The rerun dashboard: recordings read back with rerun's own CLI (installed in .venv at the
//! crate's version), and a viewer that dies mid-run does not stop or slow the run.

use crate::common::{json, mirrorflow, repo_root, stderr, wait_with_deadline};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn rerun_cli() -> PathBuf {
    let p = repo_root().join(".venv/bin/rerun");
    assert!(
        p.exists(),
        "{} is missing: run `scripts/test` (it installs rerun-sdk==0.36.3)",
        p.display()
    );
    p
}

/// Rows of scalar data per entity, from `rerun rrd print`.
fn scalar_rows(rrd: &Path, entity: &str) -> u64 {
    rows(rrd, entity, "Scalars:scalars")
}

/// Rows of entity `entity` that hold `component` (e.g. `Tensor:data`), from `rerun rrd print`.
fn rows(rrd: &Path, entity: &str, component: &str) -> u64 {
    let out = Command::new(rerun_cli())
        .args(["rrd", "print", "--entity", entity])
        .arg(rrd)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "rrd print: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("Chunk") && l.contains(component))
        .filter_map(|l| {
            l.split_whitespace()
                .nth(2)
                .and_then(|n| n.parse::<u64>().ok())
        })
        .sum()
}

/// Trains `config` into `dir` with extra flags; panics with stderr on failure.
fn train_into(dir: &Path, config: &str, extra: &[&str]) {
    let mut args = vec!["train", config, "--run-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = mirrorflow(&args);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Finished episodes recorded in a run's `metrics.jsonl`.
fn episodes_in(dir: &Path) -> u64 {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .matches("charts/episodic_return")
        .count() as u64
}

#[test]
fn recordings_verify_and_hold_every_metric() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    train_into(
        &dir,
        "experiments/tabular/mdvi_garnet.toml",
        &[
            "--rerun",
            "file",
            "--set",
            "telemetry.max_points_per_sec=1e9",
        ],
    );
    let rrd = dir.join("telemetry.rrd");
    let verify = Command::new(rerun_cli())
        .args(["rrd", "verify"])
        .arg(&rrd)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "rrd verify: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    assert_eq!(scalar_rows(&rrd, "/tabular/q_error_inf"), 300);
    assert_eq!(scalar_rows(&rrd, "/tabular/q_change_inf"), 300);
    // the policy heatmap and the value bars, every 6th of the 300 iterations
    assert_eq!(rows(&rrd, "/tabular/policy", "Tensor:data"), 50);
    assert_eq!(rows(&rrd, "/tabular/values", "BarChart:values"), 50);
    let all = Command::new(rerun_cli())
        .args(["rrd", "print"])
        .arg(&rrd)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&all.stdout);
    assert!(
        text.contains("/config"),
        "no resolved config in the recording"
    );
    assert!(text.contains("/events"), "no events in the recording");
}

#[test]
fn high_rate_series_are_aggregated() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    train_into(
        &dir,
        "experiments/runtime/determinism.toml",
        &["--set", "telemetry.max_points_per_sec=5"],
    );
    let rows = scalar_rows(&dir.join("telemetry.rrd"), "/charts/episodic_return");
    let episodes = episodes_in(&dir);
    assert!(
        rows >= 1 && rows < episodes,
        "{rows} points for {episodes} episodes"
    );
}

#[test]
fn classic_control_runs_send_env_frames() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    let config = "experiments/runtime/determinism.toml";
    train_into(
        &dir,
        config,
        &[
            "--set",
            "telemetry.frames_every=20",
            "--set",
            "telemetry.frames_min_gap_secs=0",
        ],
    );
    let frames = rows(&dir.join("telemetry.rrd"), "/frames", "EncodedImage:blob");
    let episodes = episodes_in(&dir);
    // env 0 of the 16 films one episode in 20, every 2nd step (at most 250 frames each)
    assert!(frames >= 10, "{frames} frames");
    assert!(frames <= 250 * (episodes / 16 / 20 + 2), "{frames} frames");
    // the same transitions as without frames
    let plain = t.path().join("plain");
    train_into(&plain, config, &["--set", "telemetry.frames_every=0"]);
    assert_eq!(
        json(&dir.join("summary.json"))["final_params_sha256"],
        json(&plain.join("summary.json"))["final_params_sha256"]
    );
    assert_eq!(
        rows(&plain.join("telemetry.rrd"), "/frames", "EncodedImage:blob"),
        0
    );
}

#[test]
fn a_viewer_that_dies_does_not_stop_the_run() {
    use std::os::unix::process::CommandExt;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t = tempfile::tempdir().unwrap();
    let viewer = GroupGuard(
        Command::new(rerun_cli())
            .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save"])
            .arg(t.path().join("received.rrd"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "viewer did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let dir = t.path().join("run");
    let url = format!("connect=rerun+http://127.0.0.1:{port}/proxy");
    let child = crate::common::bin()
        .args([
            "train",
            "experiments/runtime/determinism.toml",
            "--set",
            "run.env_steps=2000000",
            "--rerun",
            &url,
            "--run-dir",
        ])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // the wrapper and the real viewer binary both go
    drop(viewer);
    let gone = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < gone, "the viewer is still listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    let started = Instant::now();
    let out = wait_with_deadline(child, Duration::from_secs(120));
    let e = stderr(&out);
    assert!(out.status.success(), "{e}");
    assert_eq!(json(&dir.join("summary.json"))["status"], "completed");
    assert!(
        e.matches("rerun telemetry failed").count() <= 1,
        "repeated warnings:\n{e}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the run was held up for {:?}",
        started.elapsed()
    );
}

/// A process group that is terminated when dropped (the venv's `rerun` is a Python wrapper
/// around the real binary: both must go).
struct GroupGuard(std::process::Child);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The browser check: a real `rerun --serve-web` on loopback, headless Chromium driven by
/// playwright-core opening the web viewer, and a training run started only once the page is up.
/// The viewer itself must report the run's `env_steps` range, and the CartPole frame must be on
/// screen (pole-coloured pixels in the screenshot, kept as `dashboard.png` in the target dir).
#[test]
fn live_dashboard_in_a_headless_browser() {
    use std::os::unix::process::CommandExt;
    let e2e = repo_root().join("tests/e2e");
    assert!(
        e2e.join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing: run `scripts/test` (it runs `npm ci` in tests/e2e)"
    );
    let chromium = std::env::var("CHROMIUM_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: run `scripts/test` (it installs Debian's chromium)"
    );
    let (grpc, web) = (free_port(), free_port());
    let server = GroupGuard(
        Command::new(rerun_cli())
            .args([
                "--serve-web",
                "--bind",
                "127.0.0.1",
                "--hide-welcome-screen",
            ])
            .args([
                "--port",
                &grpc.to_string(),
                "--web-viewer-port",
                &web.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", web)).is_err()
        || std::net::TcpStream::connect(("127.0.0.1", grpc)).is_err()
    {
        assert!(Instant::now() < deadline, "rerun --serve-web did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let t = tempfile::tempdir().unwrap();
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    let _ = std::fs::remove_file(&shot);
    let proxy = format!("rerun+http://127.0.0.1:{grpc}/proxy");
    let url =
        format!("http://127.0.0.1:{web}/?url=rerun%2Bhttp%3A%2F%2F127.0.0.1%3A{grpc}%2Fproxy");
    let run_dir = t.path().join("run");
    let node = Command::new("node")
        .current_dir(repo_root())
        .arg(e2e.join("viewer.js"))
        .arg(&url)
        .arg(&shot)
        // the whole env_steps range must arrive; the cursor goes to step 0, where the first
        // frame shows the cart with its pole upright (colour 202,152,101)
        .args(["env_steps", "200000", "0", "202,152,101", "100", "--"])
        .arg(env!("CARGO_BIN_EXE_mirrorflow"))
        .args(["train", "experiments/runtime/determinism.toml", "--rerun"])
        .arg(format!("connect={proxy}"))
        .args([
            "--set",
            "telemetry.frames_every=5",
            "--set",
            "telemetry.frames_min_gap_secs=0",
        ])
        .arg("--run-dir")
        .arg(&run_dir)
        .env("CHROMIUM_BIN", &chromium)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_with_deadline(node, Duration::from_secs(150));
    drop(server);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && text.contains("E2E PASS"), "{text}");
    let state: serde_json::Value = text
        .lines()
        .find_map(|l| l.strip_prefix("E2E STATE "))
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_else(|| panic!("no state line in:\n{text}"));
    assert_eq!(state["range"]["max"], 200192, "{state}");
    assert_eq!(
        state["opened_on"], "env_steps",
        "the blueprint's timeline: {state}"
    );
    assert_eq!(json(&run_dir.join("summary.json"))["status"], "completed");
    assert!(shot.exists());
    eprintln!("screenshot: {} ({state})", shot.display());
}
