//! The `mirrorflow` CLI end to end, on the real binary.

use crate::common::{bin, json, mirrorflow, repo_root, stderr, wait_with_deadline};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

const DEFAULT: &str = "experiments/tabular/mdvi_garnet.toml";

/// Value documented in experiments/tabular/mdvi_garnet.toml for the shipped config.
const DOCUMENTED_Q_ERROR: f64 = 9.0e-4;

fn train(run_dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["train", DEFAULT, "--run-dir", run_dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    mirrorflow(&args)
}

/// The metric stream without wall-clock fields (`wall_secs`, `system/*`).
fn metric_stream(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let obj = v.as_object_mut().unwrap();
            obj.retain(|k, _| k != "wall_secs" && !k.starts_with("system/"));
            v
        })
        .collect()
}

#[test]
fn default_job_completes_with_documented_error() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    let out = train(&dir, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = json(&dir.join("summary.json"));
    assert_eq!(s["status"], "completed");
    assert_eq!(s["learner_steps"], 300);
    let q = s["tabular/q_error_inf"].as_f64().unwrap();
    assert!(
        (q - DOCUMENTED_Q_ERROR).abs() < 0.05 * DOCUMENTED_Q_ERROR,
        "q_error_inf {q}"
    );
    assert_eq!(s["final_params_sha256"].as_str().unwrap().len(), 64);
    for f in [
        "config.toml",
        "metrics.jsonl",
        "q.npy",
        "policy.npy",
        "events.log",
    ] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
    let q = mirrorflow_telemetry::npy::read_f64_2d(&dir.join("q.npy")).unwrap();
    let p = mirrorflow_telemetry::npy::read_f64_2d(&dir.join("policy.npy")).unwrap();
    assert_eq!((q.rows, q.cols, p.rows, p.cols), (100, 4, 100, 4));
    assert!(
        p.data
            .chunks(4)
            .all(|r| (r.iter().sum::<f64>() - 1.0).abs() < 1e-12)
    );
    assert_eq!(metric_stream(&dir).len(), 300);
    assert!(
        stderr(&out).contains("learner_steps 300/300"),
        "no progress line: {}",
        stderr(&out)
    );

    // The resolved config reproduces the run bit for bit.
    let again = t.path().join("again");
    let out = mirrorflow(&[
        "train",
        dir.join("config.toml").to_str().unwrap(),
        "--run-dir",
        again.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(metric_stream(&dir), metric_stream(&again));
    assert_eq!(
        json(&again.join("summary.json"))["final_params_sha256"],
        s["final_params_sha256"]
    );
}

#[test]
fn unregularized_is_exact_value_iteration() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("vi");
    let out = train(&dir, &["--set", "agent.lambda=0", "--set", "agent.tau=0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = json(&dir.join("summary.json"));
    assert_eq!(s["status"], "completed");
    assert!(s["tabular/q_error_inf"].as_f64().unwrap() < 1e-6);
}

#[test]
fn same_seed_same_metrics_different_seed_different() {
    let t = tempfile::tempdir().unwrap();
    let noisy = [
        "--set",
        "agent.noise={kind = \"gaussian\", sigma = 0.5}",
        "--set",
        "run.iterations=60",
    ];
    let run = |name: &str, seed: &str| {
        let dir = t.path().join(name);
        let mut a = noisy.to_vec();
        a.extend(["--seed", seed]);
        let out = train(&dir, &a);
        assert!(out.status.success(), "{}", stderr(&out));
        dir
    };
    let (a, b, c) = (run("a", "3"), run("b", "3"), run("c", "4"));
    assert_eq!(metric_stream(&a), metric_stream(&b));
    assert_ne!(metric_stream(&a), metric_stream(&c));
}

fn check_fails(extra: &[&str], needle: &str) {
    let t = tempfile::tempdir().unwrap();
    let runs = t.path().join("runs");
    let mut args = vec!["check", DEFAULT, "--set"];
    let set = format!("run.runs_dir=\"{}\"", runs.display());
    args.push(&set);
    args.extend_from_slice(extra);
    let out = mirrorflow(&args);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    assert!(
        stderr(&out).contains(needle),
        "{args:?}: expected `{needle}` in:\n{}",
        stderr(&out)
    );
    // train with the same problem writes nothing either
    args[0] = "train";
    let out = mirrorflow(&args);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !runs.exists(),
        "a failed config must not create a run directory"
    );
}

#[test]
fn config_errors_exit_2_naming_the_problem() {
    check_fails(&["--set", "agent.lamda=0.5"], "unknown field `lamda`");
    check_fails(&["--set", "agent.lamda=0.5"], "did you mean `lambda`?");
    check_fails(
        &["--set", "agent.lambda=-0.1"],
        "lambda = -0.1: must be >= 0",
    );
    check_fails(
        &["--set", "env.id=\"garnett\""],
        "no such environment; did you mean `garnet`?",
    );
    check_fails(&["--set", "env.id=\"tabular-file\""], "unknown field `");
    check_fails(&["--set", "agent.m=0"], "m = 0: must be >= 1");
    check_fails(
        &["--set", "env.gamma=1.5"],
        "gamma = 1.5: must be in [0, 1)",
    );
    check_fails(
        &["--set", "agent.form=\"da\"", "--set", "agent.m=2"],
        "m = 2: must be 1 for form",
    );
    check_fails(&["--set", "lambda"], "expected KEY.PATH=VALUE");
}

#[test]
fn missing_env_section_and_file() {
    let t = tempfile::tempdir().unwrap();
    let cfg = t.path().join("x.toml");
    std::fs::write(&cfg, "[agent]\nkind = \"mdvi\"\n").unwrap();
    let out = mirrorflow(&["check", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no [env] section"),
        "{}",
        stderr(&out)
    );
    let out = mirrorflow(&["check", "no/such/file.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no/such/file.toml: cannot read the config"));
    let ok = mirrorflow(&["check", DEFAULT]);
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("OK"));
}

#[test]
fn user_json_mdp_trains_and_bad_rows_are_named() {
    let t = tempfile::tempdir().unwrap();
    let model = t.path().join("mdp.json");
    std::fs::write(
        &model,
        r#"{"num_states": 2, "num_actions": 2, "gamma": 0.9,
            "transitions": [[0,0,0,1.0],[0,1,1,0.8],[0,1,0,0.2],[1,0,0,1.0],[1,1,1,1.0]],
            "rewards": [[0.0,0.0],[0.0,1.0]]}"#,
    )
    .unwrap();
    let cfg = t.path().join("file.toml");
    std::fs::write(
        &cfg,
        format!(
            "name = \"mine\"\n[env]\nid = \"tabular-file\"\npath = \"{}\"\n[agent]\nkind = \"mdvi\"\nlambda = 0.0\ntau = 0.0\n[run]\niterations = 200\n",
            model.display()
        ),
    )
    .unwrap();
    let dir = t.path().join("run");
    let out = mirrorflow(&[
        "train",
        cfg.to_str().unwrap(),
        "--run-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = json(&dir.join("summary.json"));
    assert!(s["tabular/q_error_inf"].as_f64().unwrap() < 1e-9);
    // optimal: always take action 1; v(1) = 1/(1 − 0.9) = 10
    let q = mirrorflow_telemetry::npy::read_f64_2d(&dir.join("q.npy")).unwrap();
    assert!((q.data[3] - 10.0).abs() < 1e-6, "{:?}", q.data);

    std::fs::write(
        &model,
        std::fs::read_to_string(&model)
            .unwrap()
            .replace("[0,1,0,0.2]", "[0,1,0,0.3]"),
    )
    .unwrap();
    let out = mirrorflow(&["check", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(
        e.contains("mdp.json")
            && e.contains("state 0, action 1 sum to 1.1")
            && e.contains("rows [1, 2]"),
        "{e}"
    );
}

#[test]
fn existing_run_dir_is_never_overwritten() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("precious.txt"), "keep").unwrap();
    let out = train(&dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("already exists and is not empty"));
    assert_eq!(
        std::fs::read_to_string(dir.join("precious.txt")).unwrap(),
        "keep"
    );
    // default naming: two runs into the same runs_dir get two directories
    let runs = t.path().join("runs");
    let set = format!("run.runs_dir=\"{}\"", runs.display());
    for _ in 0..2 {
        let out = mirrorflow(&["train", DEFAULT, "--set", &set, "--set", "run.iterations=5"]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(std::fs::read_dir(&runs).unwrap().count(), 2);
}

#[test]
fn ctrl_c_stops_cleanly_with_everything_flushed() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("run");
    let child = bin()
        .args([
            "train",
            DEFAULT,
            "--run-dir",
            dir.to_str().unwrap(),
            "--set",
            "env.num_states=3000",
            "--set",
            "run.iterations=100000000",
            "--set",
            "agent.eval_every=1000000000",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // wait until it is iterating
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !dir.join("metrics.jsonl").exists()
        || std::fs::metadata(dir.join("metrics.jsonl")).unwrap().len() == 0
    {
        assert!(std::time::Instant::now() < deadline, "run did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = wait_with_deadline(child, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let s = json(&dir.join("summary.json"));
    assert_eq!(s["status"], "interrupted");
    let k = s["learner_steps"].as_u64().unwrap();
    assert!(k > 0 && k < 100_000_000);
    // the final evaluation ran on the last iterate, and every iteration is in the stream
    assert!(s["tabular/q_error_inf"].as_f64().is_some());
    let lines = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    assert!(lines.lines().count() as u64 >= k);
    assert!(dir.join("q.npy").exists());
    let _ = repo_root();
}

#[test]
fn envs_and_agents_are_listed() {
    let out = mirrorflow(&["envs"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for id in [
        "CartPole-v1",
        "Pendulum-v1",
        "MountainCar-v0",
        "MountainCarContinuous-v0",
        "Acrobot-v1",
        "garnet",
        "gridworld",
        "chain",
        "riverswim",
        "layered",
        "tabular-file",
    ] {
        assert!(text.contains(id), "{id} missing from `mirrorflow envs`");
    }
    assert!(text.contains("action: Discrete(2)"));
    let out = mirrorflow(&["agents"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("mdvi"));
}

/// Pixels of exactly this colour in an RGB PNG.
fn count_color(png_path: &Path, rgb: [u8; 3]) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let n = buf[..info.buffer_size()]
        .chunks_exact(3)
        .filter(|p| *p == rgb)
        .count();
    (info.width, info.height, n)
}

#[test]
fn plot_groups_runs_by_config_and_averages_seeds() {
    let t = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    for lam in ["0", "1"] {
        for seed in ["1", "2"] {
            let d = t.path().join(format!("l{lam}-s{seed}"));
            let out = train(
                &d,
                &[
                    "--seed",
                    seed,
                    "--rerun",
                    "off",
                    "--set",
                    &format!("agent.lambda={lam}"),
                    "--set",
                    "run.iterations=60",
                    "--set",
                    "agent.noise={kind = \"gaussian\", sigma = 0.5}",
                ],
            );
            assert!(out.status.success(), "{}", stderr(&out));
            dirs.push(d.to_str().unwrap().to_string());
        }
    }
    let png_path = t.path().join("curves.png");
    let mut args = vec!["plot", "-o", png_path.to_str().unwrap(), "--log-y"];
    args.extend(dirs.iter().map(String::as_str));
    let out = mirrorflow(&args);
    let e = stderr(&out);
    assert!(out.status.success(), "{e}");
    assert!(e.contains("agent.lambda=0.0: 2 run(s)"), "{e}");
    assert!(e.contains("agent.lambda=1.0: 2 run(s)"), "{e}");
    // one line per group in the first two palette colours
    let (w, h, blue) = count_color(&png_path, [0, 114, 178]);
    let (_, _, orange) = count_color(&png_path, [213, 94, 0]);
    assert_eq!((w, h), (960, 600));
    assert!(blue > 200 && orange > 200, "{blue} {orange}");

    // bad input: a missing metric names what the run has; a non-run directory is named
    let out = mirrorflow(&["plot", "-o", "/dev/null", "--metric", "nope", &dirs[0]]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("tabular/q_error_inf"),
        "{}",
        stderr(&out)
    );
    let out = mirrorflow(&["plot", "-o", "/dev/null", t.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a run directory"),
        "{}",
        stderr(&out)
    );
}

/// Sampled MD-VI whose next-state samples are collected by env shards through the runtime
/// (generative sampler envs): placement-independent, learning, and with clear errors.
#[test]
fn sampled_mdvi_collects_its_samples_through_env_shards() {
    let t = tempfile::tempdir().unwrap();
    let common = [
        "--set",
        "agent.noise={kind = \"sampled\", n = 2}",
        "--set",
        "agent.sampler=\"env_shards\"",
        "--set",
        "runtime.num_shards=2",
        "--set",
        "runtime.envs_per_shard=4",
        "--set",
        "run.iterations=60",
        "--rerun",
        "off",
    ];
    let mut hashes = Vec::new();
    for workers in ["1", "2"] {
        let dir = t.path().join(format!("w{workers}"));
        let mut args = common.to_vec();
        args.extend(["--workers", workers]);
        let out = train(&dir, &args);
        assert!(out.status.success(), "{}", stderr(&out));
        let s = json(&dir.join("summary.json"));
        assert_eq!(s["status"], "completed");
        // 60 iterations of m·S·A·n = 100·4·2 samples
        assert_eq!(s["env_steps"], 60 * 800);
        assert_eq!(s["learner_steps"], 60);
        hashes.push(s["final_params_sha256"].clone());
        let errors: Vec<f64> = metric_stream(&dir)
            .iter()
            .filter_map(|m| m["tabular/q_error_inf"].as_f64())
            .collect();
        assert_eq!(errors.len(), 60);
        assert!(
            errors[59] < 0.2 * errors[0],
            "q error {} → {}",
            errors[0],
            errors[59]
        );
    }
    assert_eq!(hashes[0], hashes[1], "1 and 2 workers differ");

    // 3 shards do not divide the 800 samples of an iteration: the message says what to change
    let mut args = common.to_vec();
    args.extend(["--set", "runtime.num_shards=3"]);
    let out = train(&t.path().join("bad"), &args);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("must divide the 800 samples"),
        "{}",
        stderr(&out)
    );
    // the env-shard sampler needs sampled backups
    let out = train(
        &t.path().join("bad2"),
        &["--set", "agent.sampler=\"env_shards\"", "--rerun", "off"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("sampler"), "{}", stderr(&out));
}

/// BOBW policy optimization with its episodes played by an env shard through the runtime (one
/// episode per policy version): completes, learns, and agrees in size with the planner's regret.
#[test]
fn bobw_plays_its_episodes_through_the_runtime() {
    let t = tempfile::tempdir().unwrap();
    let mut regrets = Vec::new();
    for (name, sampler) in [("runtime", "env_shards"), ("planner", "model")] {
        let dir = t.path().join(name);
        let out = mirrorflow(&[
            "train",
            "experiments/tabular/bobw_layered.toml",
            "--set",
            &format!("agent.sampler=\"{sampler}\""),
            "--set",
            "run.iterations=4000",
            "--rerun",
            "off",
            "--run-dir",
            dir.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let s = json(&dir.join("summary.json"));
        assert_eq!(s["status"], "completed");
        regrets.push(s["online/regret"].as_f64().unwrap());
        if sampler == "env_shards" {
            // 4000 rounds of H = 3 steps, one version each
            assert_eq!(s["env_steps"], 12_000);
            assert_eq!(s["learner_steps"], 4000);
            let cfg = std::fs::read_to_string(dir.join("config.toml")).unwrap();
            assert!(cfg.contains("steps_per_env = 3"), "{cfg}");
        }
    }
    // uniform play would lose ≈ 0.4 per round (1600 here)
    assert!(
        regrets.iter().all(|r| *r > 0.0 && *r < 400.0),
        "{regrets:?}"
    );
    assert!(
        regrets[0] < 2.0 * regrets[1] && regrets[1] < 2.0 * regrets[0],
        "{regrets:?}"
    );
}

/// Munchausen-DQN on CartPole through the runtime's replay: learns at a small budget (random
/// play lasts ~22 steps), and the same config and seed give the same metric stream.
#[test]
fn mdqn_learns_cartpole_and_is_deterministic() {
    let t = tempfile::tempdir().unwrap();
    let run = |name: &str, steps: &str| {
        let dir = t.path().join(name);
        let out = mirrorflow(&[
            "train",
            "experiments/deep/mdqn_cartpole.toml",
            "--set",
            &format!("run.env_steps={steps}"),
            "--rerun",
            "off",
            "--run-dir",
            dir.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        dir
    };
    let dir = run("learn", "15000");
    let returns: Vec<f64> = metric_stream(&dir)
        .iter()
        .filter_map(|m| m["charts/episodic_return"].as_f64())
        .collect();
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    let (first, last) = (mean(&returns[..20]), mean(&returns[returns.len() - 20..]));
    assert!(
        last > 50.0 && last > 2.0 * first,
        "returns {first} → {last}"
    );
    assert!(
        metric_stream(&dir)
            .iter()
            .filter_map(|m| m["losses/td"].as_f64())
            .all(f64::is_finite)
    );
    let (a, b) = (run("a", "3000"), run("b", "3000"));
    assert_eq!(metric_stream(&a), metric_stream(&b));
    assert_eq!(
        json(&a.join("summary.json"))["final_params_sha256"],
        json(&b.join("summary.json"))["final_params_sha256"]
    );
}

/// SAC on native Pendulum-v1 at a small budget: the deterministic evaluation beats the random
/// warm-up episodes, losses stay finite; BL-SAC with σ = 0 is SAC bit for bit through the whole
/// runtime; `mirrorflow eval` reproduces the run's last evaluation; same seed, same stream.
#[test]
fn sac_learns_pendulum_and_bl_sac_off_is_sac() {
    let t = tempfile::tempdir().unwrap();
    let run = |name: &str, config: &str, steps: u64, extra: &[&str]| {
        let dir = t.path().join(name);
        let steps = format!("run.env_steps={steps}");
        let mut args = vec![
            "train",
            config,
            "--set",
            "agent.hidden=[64, 64]",
            "--set",
            "agent.batch_size=64",
            "--set",
            "agent.learning_starts=400",
            "--set",
            &steps,
            "--set",
            "run.eval_every=0",
            "--set",
            "run.eval_episodes=5",
            "--rerun",
            "off",
            "--run-dir",
            dir.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = mirrorflow(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        dir
    };
    let sac = "experiments/deep/sac_pendulum.toml";
    let dir = run("learn", sac, 3000, &[]);
    let stream = metric_stream(&dir);
    let returns: Vec<f64> = stream
        .iter()
        .filter_map(|m| m["charts/episodic_return"].as_f64())
        .collect();
    let random = returns[..2].iter().sum::<f64>() / 2.0;
    let summary = json(&dir.join("summary.json"));
    let eval = summary["eval/mean_return"].as_f64().unwrap();
    assert!(
        eval > random + 300.0 && eval > -1000.0,
        "eval {eval} vs random warm-up episodes {random}"
    );
    for key in [
        "losses/critic",
        "losses/actor",
        "charts/alpha",
        "charts/entropy",
    ] {
        let v: Vec<f64> = stream.iter().filter_map(|m| m[key].as_f64()).collect();
        assert!(
            !v.is_empty() && v.iter().all(|x| x.is_finite()),
            "{key}: {v:?}"
        );
    }
    // `mirrorflow eval` on the final parameters = the run's own last evaluation
    let out = mirrorflow(&["eval", dir.to_str().unwrap(), "--episodes", "5"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["mean_return"].as_f64(), Some(eval));
    // BL-SAC with the filter off = SAC, and the same seed gives the same stream
    let a = run("sac_a", sac, 800, &[]);
    let b = run("sac_b", sac, 800, &[]);
    let off = run(
        "bl_off",
        "experiments/deep/bl_sac_pendulum.toml",
        800,
        &["--set", "agent.band_limit.sigma=0"],
    );
    let on = run("bl_on", "experiments/deep/bl_sac_pendulum.toml", 800, &[]);
    let sha = |d: &Path| json(&d.join("summary.json"))["final_params_sha256"].clone();
    assert_eq!(metric_stream(&a), metric_stream(&b));
    assert_eq!(sha(&a), sha(&b));
    assert_eq!(metric_stream(&a), metric_stream(&off));
    assert_eq!(sha(&a), sha(&off));
    assert_ne!(sha(&a), sha(&on));
}

/// `mirrorflow eval` names what is wrong: not a run directory, a planner run, no episodes.
#[test]
fn eval_errors_name_the_problem() {
    let t = tempfile::tempdir().unwrap();
    let out = mirrorflow(&["eval", t.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a run directory"),
        "{}",
        stderr(&out)
    );
    let dir = t.path().join("mdvi");
    let out = train(&dir, &["--set", "run.iterations=3", "--rerun", "off"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = mirrorflow(&["eval", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("planner"), "{}", stderr(&out));
    let out = mirrorflow(&["eval", dir.to_str().unwrap(), "--episodes", "0"]);
    assert!(stderr(&out).contains("--episodes 0"), "{}", stderr(&out));
}
