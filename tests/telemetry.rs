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

#[test]
fn recordings_verify_and_hold_every_metric() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    let out = mirrorflow(&[
        "train",
        "experiments/tabular/mdvi_garnet.toml",
        "--run-dir",
        dir.to_str().unwrap(),
        "--rerun",
        "file",
        "--set",
        "telemetry.max_points_per_sec=1e9",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
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
    let out = mirrorflow(&[
        "train",
        "experiments/runtime/determinism.toml",
        "--run-dir",
        dir.to_str().unwrap(),
        "--set",
        "telemetry.max_points_per_sec=5",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rrd = dir.join("telemetry.rrd");
    let rows = scalar_rows(&rrd, "/charts/episodic_return");
    let episodes = std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .matches("charts/episodic_return")
        .count() as u64;
    assert!(
        rows >= 1 && rows < episodes,
        "{rows} points for {episodes} episodes"
    );
}

#[test]
fn classic_control_runs_send_env_frames() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    let out = mirrorflow(&[
        "train",
        "experiments/runtime/determinism.toml",
        "--run-dir",
        dir.to_str().unwrap(),
        "--set",
        "telemetry.frames_every=20",
        "--set",
        "telemetry.frames_min_gap_secs=0",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rrd = dir.join("telemetry.rrd");
    let frames = rows(&rrd, "/frames", "EncodedImage:blob");
    let episodes = std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .matches("charts/episodic_return")
        .count() as u64;
    // env 0 of the 16 films one episode in 20, every 2nd step (at most 250 frames each)
    assert!(frames >= 10, "{frames} frames");
    assert!(frames <= 250 * (episodes / 16 / 20 + 2), "{frames} frames");
    // the same transitions as without frames
    let plain = t.path().join("plain");
    let out = mirrorflow(&[
        "train",
        "experiments/runtime/determinism.toml",
        "--run-dir",
        plain.to_str().unwrap(),
        "--set",
        "telemetry.frames_every=0",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let t = tempfile::tempdir().unwrap();
    let mut viewer = Command::new(rerun_cli())
        .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--save"])
        .arg(t.path().join("received.rrd"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
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
    let _ = viewer.kill();
    let _ = viewer.wait();
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
