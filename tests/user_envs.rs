//! User envs through the real binary: gymnasium ids, a Python class from a file and the example
//! Rust env crate train like native ones, a Python exception ends the run cleanly
//! (`status: failed`, checkpoints kept), and native runs never start Python.

use crate::common::{bin, json, mirrorflow, stderr, wait_with_deadline};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

fn write_config(dir: &Path, env: &str, agent: &str, steps: u64, extra: &str) -> String {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"py\"\nseed = 0\n\n[env]\n{env}\n\n[agent]\n{agent}\n\n[run]\nenv_steps = {steps}\n\n\
             [runtime]\nnum_shards = 1\nenvs_per_shard = 8\nsteps_per_env = 4\nbatches_per_version = 1\n{extra}"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

const DQN: &str = "kind = \"dqn\"\nhidden = [64, 64]\nlr = 1e-3\nbatch_size = 64\nlearning_starts = 1000\n\
                   train_freq = 32\ngradient_steps = 16\ntarget_update = 100\nepsilon_decay_steps = 6000";

fn returns(dir: &Path) -> Vec<f64> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|m| m["charts/episodic_return"].as_f64())
        .collect()
}

fn train(config: &str, run_dir: &Path) -> std::process::Output {
    mirrorflow(&[
        "train",
        config,
        "--rerun",
        "off",
        "--run-dir",
        run_dir.to_str().unwrap(),
    ])
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len().max(1) as f64
}

/// DQN on gymnasium's own CartPole-v1 (8 envs per shard stepped in one call into Python):
/// learns, and the same seed gives the same metric stream.
#[test]
fn gym_cartpole_trains_and_is_deterministic() {
    let t = tempfile::tempdir().unwrap();
    let cfg = write_config(
        t.path(),
        "id = \"gym:CartPole-v1\"",
        DQN,
        12_000,
        "checkpoint_every = 0",
    );
    let dir = t.path().join("learn");
    let out = train(&cfg, &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = returns(&dir);
    let (first, last) = (mean(&r[..20]), mean(&r[r.len() - 10..]));
    assert!(
        last > 2.0 * first && last > 60.0,
        "returns {first} → {last}"
    );
    let summary = json(&dir.join("summary.json"));
    assert_eq!(summary["status"], "completed");
    let small = write_config(t.path(), "id = \"gym:CartPole-v1\"", DQN, 2_000, "");
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    assert!(train(&small, &a).status.success());
    assert!(train(&small, &b).status.success());
    assert_eq!(
        json(&a.join("summary.json"))["final_params_sha256"],
        json(&b.join("summary.json"))["final_params_sha256"]
    );
    assert_eq!(returns(&a), returns(&b));
}

/// A user's class from a file, with constructor kwargs from `[env.kwargs]`.
#[test]
fn a_python_class_from_a_file_trains() {
    let t = tempfile::tempdir().unwrap();
    let cfg = write_config(
        t.path(),
        "id = \"py:crates/gym/tests/envs.py:Corridor\"\nkwargs = { length = 10 }",
        DQN,
        8_000,
        "",
    );
    let dir = t.path().join("run");
    let out = train(&cfg, &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = returns(&dir);
    let (first, last) = (mean(&r[..20]), mean(&r[r.len() - 20..]));
    // random walk: mostly time-outs at −0.5; learned: straight to the end, ≈ +0.91
    assert!(last > 0.8 && last > first + 0.5, "returns {first} → {last}");
    let resolved = std::fs::read_to_string(dir.join("config.toml")).unwrap();
    assert!(resolved.contains("length = 10"), "{resolved}");
}

/// An exception inside the env's `step` ends the run with `status: failed`, the Python
/// traceback in the error, and the checkpoints written before it kept.
#[test]
fn a_python_exception_fails_the_run_cleanly_and_keeps_checkpoints() {
    let t = tempfile::tempdir().unwrap();
    let cfg = write_config(
        t.path(),
        "id = \"py:crates/gym/tests/envs.py:Explodes\"\nkwargs = { at = 400 }",
        DQN,
        50_000,
        "checkpoint_every = 20",
    );
    let dir = t.path().join("run");
    let child = bin()
        .args(["train", &cfg, "--rerun", "off", "--run-dir"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_with_deadline(child, Duration::from_secs(60));
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("py:crates/gym/tests/envs.py:Explodes")
            && err.contains("step failed")
            && err.contains("Traceback")
            && err.contains("ValueError: the simulator exploded at step 400"),
        "{err}"
    );
    let summary = json(&dir.join("summary.json"));
    assert_eq!(summary["status"], "failed", "{summary}");
    assert!(
        summary["error"].as_str().unwrap().contains("exploded"),
        "{summary}"
    );
    assert!(
        crate::common::has_files(&dir.join("checkpoints"), "json"),
        "checkpoints before the failure are kept"
    );
}

/// Native runs never start Python: a broken MIRRORFLOW_PYTHON does not matter to them, and
/// names itself when a Python env needs it.
#[test]
fn native_runs_never_start_python_and_a_bad_interpreter_is_named() {
    let t = tempfile::tempdir().unwrap();
    let native = write_config(t.path(), "id = \"CartPole-v1\"", DQN, 1_000, "");
    let out = bin()
        .args(["train", &native, "--rerun", "off", "--run-dir"])
        .arg(t.path().join("native"))
        .env("MIRRORFLOW_PYTHON", "/nonexistent/venv")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let gym = t.path().join("gym");
    std::fs::create_dir_all(&gym).unwrap();
    let cfg = write_config(&gym, "id = \"gym:CartPole-v1\"", DQN, 1_000, "");
    let out = bin()
        .args(["train", &cfg, "--rerun", "off", "--run-dir"])
        .arg(t.path().join("gymrun"))
        .env("MIRRORFLOW_PYTHON", "/nonexistent/venv")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("MIRRORFLOW_PYTHON") && err.contains("/nonexistent/venv"),
        "{err}"
    );
}

/// The example Rust env crate (envs/example, registered as `Catch-v0`) trains like any other.
#[test]
fn the_example_rust_env_trains() {
    let t = tempfile::tempdir().unwrap();
    let cfg = write_config(
        t.path(),
        "id = \"Catch-v0\"\nrows = 6\ncolumns = 4",
        DQN,
        8_000,
        "checkpoint_every = 50",
    );
    let dir = t.path().join("run");
    let out = train(&cfg, &dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = returns(&dir);
    let (first, last) = (mean(&r[..50]), mean(&r[r.len() - 50..]));
    // random paddle: caught ≈ 1 in 3 (≈ −0.4); learned: nearly always (→ +1)
    assert!(last > 0.8 && last > first + 0.8, "returns {first} → {last}");
    assert!(crate::common::has_files(&dir.join("checkpoints"), "json"));
}
