//! Online learning through the CLI: a LIBSVM stream (plain and gzip) through FTRL-Proximal with
//! progressive validation; malformed input fatal with its line or skipped and counted; config
//! errors for streams and online agents.

use crate::common::{json, mirrorflow, stderr};
use std::io::Write;
use std::path::{Path, PathBuf};

/// `n` examples of a noisy linear classifier in dimension 10, labels ±1, LIBSVM text.
fn stream(n: usize) -> String {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut u = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let w = [1.0, -2.0, 0.5, 0.0, 1.5, -1.0, 0.0, 0.3, -0.7, 2.0];
    let mut out = String::new();
    for _ in 0..n {
        let x: Vec<f64> = (0..10).map(|_| 2.0 * u() - 1.0).collect();
        let m: f64 = x.iter().zip(w).map(|(a, b)| a * b).sum::<f64>() + 0.3;
        let p = 1.0 / (1.0 + (-2.0 * m).exp());
        out.push_str(if u() < p { "+1" } else { "-1" });
        for (i, v) in x.iter().enumerate() {
            out.push_str(&format!(" {}:{v:.4}", i + 1));
        }
        out.push('\n');
    }
    out
}

fn config(dir: &Path, path: &Path, extra_env: &str, agent: &str) -> PathBuf {
    let c = dir.join("online.toml");
    std::fs::write(
        &c,
        format!(
            "name = \"online\"\nseed = 0\n\n[env]\nid = \"libsvm\"\npath = \"{}\"\n{extra_env}\n\n\
             [agent]\n{agent}\n\n[run]\nenv_steps = 0\n",
            path.display()
        ),
    )
    .unwrap();
    c
}

fn train(cfg: &Path, run: &Path) -> std::process::Output {
    mirrorflow(&[
        "train",
        cfg.to_str().unwrap(),
        "--rerun",
        "off",
        "--run-dir",
        run.to_str().unwrap(),
    ])
}

#[test]
fn ftrl_learns_a_libsvm_stream_plain_or_gzip() {
    let t = tempfile::tempdir().unwrap();
    let text = stream(20_000);
    let plain = t.path().join("data.libsvm");
    std::fs::write(&plain, &text).unwrap();
    let gz = t.path().join("data.libsvm.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let mut sha = Vec::new();
    for (k, p) in [&plain, &gz].iter().enumerate() {
        let run = t.path().join(format!("run{k}"));
        let out = train(&config(t.path(), p, "", "kind = \"ftrl_proximal\""), &run);
        assert!(out.status.success(), "{}", stderr(&out));
        let s = json(&run.join("summary.json"));
        assert_eq!(s["status"], "completed");
        assert_eq!(s["env_steps"], 20_000);
        let (ll, acc) = (
            s["online/progressive_logloss"].as_f64().unwrap(),
            s["online/progressive_accuracy"].as_f64().unwrap(),
        );
        // Bayes log-loss of this stream is ≈ 0.45; an untrained predictor pays ln 2 = 0.69
        assert!(ll < 0.55 && acc > 0.75, "log-loss {ll}, accuracy {acc}");
        sha.push(s["final_params_sha256"].clone());
        let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
        assert!(metrics.lines().count() > 10);
    }
    assert_eq!(sha[0], sha[1], "plain and gzip streams give the same model");
}

#[test]
fn malformed_lines_are_fatal_with_their_line_or_skipped_and_counted() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("bad.libsvm");
    std::fs::write(
        &p,
        format!("{}spam 1:1\n+1 2:nan\n{}", stream(50), stream(50)),
    )
    .unwrap();
    let run = t.path().join("fatal");
    let out = train(&config(t.path(), &p, "", "kind = \"ftrl_proximal\""), &run);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("bad.libsvm:51: bad label `spam`"), "{err}");
    assert_eq!(json(&run.join("summary.json"))["status"], "failed");
    let run = t.path().join("skip");
    let out = train(
        &config(
            t.path(),
            &p,
            "malformed = \"skip\"",
            "kind = \"ftrl_proximal\"",
        ),
        &run,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let s = json(&run.join("summary.json"));
    assert_eq!(s["env_steps"], 100);
    assert_eq!(s["online/skipped_lines"], 2.0);
    let events = std::fs::read_to_string(run.join("events.log")).unwrap();
    assert!(
        events.contains("2 malformed lines skipped") && events.contains(":52: value NaN"),
        "{events}"
    );
}

#[test]
fn streams_and_online_agents_only_go_together() {
    let t = tempfile::tempdir().unwrap();
    let missing = t.path().join("nope.libsvm");
    let out = mirrorflow(&[
        "check",
        config(t.path(), &missing, "", "kind = \"ogd\"")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope.libsvm"), "{}", stderr(&out));
    let cp = t.path().join("cp.toml");
    std::fs::write(
        &cp,
        "name = \"x\"\n[env]\nid = \"CartPole-v1\"\n[agent]\nkind = \"ftrl_proximal\"\n",
    )
    .unwrap();
    let out = mirrorflow(&["check", cp.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("learns from an example stream"),
        "{}",
        stderr(&out)
    );
    let data = t.path().join("d.libsvm");
    std::fs::write(&data, stream(10)).unwrap();
    let out = mirrorflow(&[
        "check",
        config(
            t.path(),
            &data,
            "",
            "kind = \"ogd\"\nstep = { kind = \"constant\", eta = -1.0 }",
        )
        .to_str()
        .unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("must be > 0"), "{}", stderr(&out));
}

#[test]
fn two_workers_average_to_the_same_model_as_threads_or_processes() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("data.libsvm");
    std::fs::write(&p, stream(10_000)).unwrap();
    let cfg = config(t.path(), &p, "", "kind = \"ftrl_proximal\"");
    let c = cfg.to_str().unwrap();
    let run = |name: &str, args: &[&str]| {
        let dir = t.path().join(name);
        let mut a = args.to_vec();
        a.extend_from_slice(&[
            c,
            "--set",
            "telemetry.rerun=[\"off\"]",
            "--run-dir",
            dir.to_str().unwrap(),
        ]);
        let out = mirrorflow(&a);
        assert!(out.status.success(), "{a:?}: {}", stderr(&out));
        json(&dir.join("summary.json"))
    };
    let one = run("one", &["train"]);
    let threads = run("threads", &["train", "--workers", "2"]);
    let again = run("again", &["train", "--workers", "2"]);
    let procs = run("procs", &["launch", "--local", "2"]);
    for s in [&one, &threads, &procs] {
        assert_eq!(s["status"], "completed");
        assert_eq!(s["env_steps"], 10_000);
        assert!(
            s["online/progressive_accuracy"].as_f64().unwrap() > 0.75,
            "{s}"
        );
    }
    assert_eq!(threads["final_params_sha256"], again["final_params_sha256"]);
    assert_eq!(
        threads["final_params_sha256"], procs["final_params_sha256"],
        "the same sharding gives the same model on threads or processes"
    );
    assert_ne!(one["final_params_sha256"], threads["final_params_sha256"]);
}

#[test]
fn the_example_cache_and_csv_files_give_the_same_model_as_libsvm_text() {
    let t = tempfile::tempdir().unwrap();
    let text = stream(3_000);
    let p = t.path().join("data.libsvm");
    std::fs::write(&p, &text).unwrap();
    // the same rows as CSV: label first, then the 10 features
    let mut csv = String::from("y,x1,x2,x3,x4,x5,x6,x7,x8,x9,x10\n");
    for line in text.lines() {
        let mut f = line.split(' ');
        let y = f.next().unwrap();
        let vals: Vec<&str> = f.map(|kv| kv.split(':').nth(1).unwrap()).collect();
        csv.push_str(&format!("{y},{}\n", vals.join(",")));
    }
    let c = t.path().join("data.csv");
    std::fs::write(&c, csv).unwrap();
    let sha = |name: &str, cfg: PathBuf| {
        let run = t.path().join(name);
        let out = train(&cfg, &run);
        assert!(out.status.success(), "{}", stderr(&out));
        let s = json(&run.join("summary.json"));
        assert_eq!(s["env_steps"], 3_000);
        s["final_params_sha256"].clone()
    };
    let agent = "kind = \"ftrl_proximal\"";
    let plain = sha("plain", config(t.path(), &p, "", agent));
    let first = sha("first", config(t.path(), &p, "cache = true", agent));
    assert!(t.path().join("data.libsvm.mfcache").exists());
    let cached = sha("cached", config(t.path(), &p, "cache = true", agent));
    let cfg = t.path().join("csv.toml");
    std::fs::write(
        &cfg,
        format!(
            "name = \"csv\"\nseed = 0\n\n[env]\nid = \"csv\"\npath = \"{}\"\nlabel = \"y\"\n\n\
             [agent]\n{agent}\n\n[run]\nenv_steps = 0\n",
            c.display()
        ),
    )
    .unwrap();
    let from_csv = sha("csv", cfg);
    assert_eq!(plain, first);
    assert_eq!(plain, cached);
    assert_eq!(plain, from_csv);
}

fn oco(dir: &Path, name: &str, env: &str, agent: &str, rounds: u64) -> serde_json::Value {
    let c = dir.join(format!("{name}.toml"));
    std::fs::write(
        &c,
        format!(
            "name = \"{name}\"\nseed = 3\n\n[env]\n{env}\n\n[agent]\n{agent}\n\n[run]\niterations = {rounds}\n"
        ),
    )
    .unwrap();
    let run = dir.join(name);
    let out = train(&c, &run);
    assert!(out.status.success(), "{name}: {}", stderr(&out));
    json(&run.join("summary.json"))
}

#[test]
fn oco_runs_report_exact_regret_through_the_cli() {
    let t = tempfile::tempdir().unwrap();
    // optimistic OMD on the noiseless, non-switching SEA stream: regret flat in T
    let sea = "id = \"sea\"\nnoise = 0.0\nblock = 0";
    let r3 = oco(t.path(), "o3", sea, "kind = \"omd\"", 1_000)["online/static_regret"]
        .as_f64()
        .unwrap();
    let r4 = oco(t.path(), "o4", sea, "kind = \"omd\"", 10_000)["online/static_regret"]
        .as_f64()
        .unwrap();
    assert!(r3 > 0.0 && r4 < 1.5 * r3, "{r3} → {r4}");
    // Hedge with a constant rate is entropic FTRL with that rate (same seeded stream)
    let experts = "id = \"experts\"\nregime = \"iid\"\nexperts = 5";
    let h = oco(
        t.path(),
        "h",
        experts,
        "kind = \"hedge\"\neta = 0.05",
        2_000,
    );
    let f = oco(
        t.path(),
        "f",
        experts,
        "kind = \"ftrl\"\ngeometry = { kind = \"entropic\" }\nschedule = { kind = \"constant\", eta = 0.05 }",
        2_000,
    );
    let (a, b) = (
        h["online/static_regret"].as_f64().unwrap(),
        f["online/static_regret"].as_f64().unwrap(),
    );
    assert!((a - b).abs() < 1e-9 && a.abs() < 100.0, "{a} vs {b}");
    // pseudo-regret against the good expert: positive, and below the T·gap of always-wrong
    let dynamic = h["online/dynamic_regret"].as_f64().unwrap();
    assert!(dynamic > 0.0 && dynamic < 2_000.0 * 0.1, "{dynamic}");
    // a Euclidean learner on the simplex stream is a config error that says what fits
    let c = t.path().join("bad.toml");
    std::fs::write(
        &c,
        format!(
            "name = \"bad\"\n[env]\n{experts}\n[agent]\nkind = \"omd\"\n[run]\niterations = 10\n"
        ),
    )
    .unwrap();
    let out = train(&c, &t.path().join("bad"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("experts play on the simplex"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn generalized_implicit_ftrl_learns_a_stream_and_rejects_a_bad_schedule() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("data.libsvm");
    std::fs::write(&p, stream(5_000)).unwrap();
    let run = t.path().join("gift");
    let agent = "kind = \"giftrl\"\nupdate = \"implicit\"\nloss = \"hinge\"\nschedule = { kind = \"sqrt\", eta0 = 1000.0 }";
    let out = train(&config(t.path(), &p, "", agent), &run);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = json(&run.join("summary.json"));
    // a learning rate 10³ too large: the implicit update stays stable (linearized would not)
    assert!(
        s["online/progressive_accuracy"].as_f64().unwrap() > 0.7,
        "{s}"
    );
    let bad = "kind = \"giftrl\"\nschedule = { kind = \"sqrt\", eta0 = -1.0 }";
    let out = train(&config(t.path(), &p, "", bad), &t.path().join("bad"));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("schedule.eta0 = -1: must be > 0"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_best_fixed_predictor_in_hindsight_gives_the_static_regret_of_a_stream_run() {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("data.libsvm");
    std::fs::write(&p, stream(3_000)).unwrap();
    let run = t.path().join("regret");
    let cfg = config(t.path(), &p, "", "kind = \"ftrl_proximal\"\nalpha = 1.0");
    let c = cfg.to_str().unwrap();
    let out = mirrorflow(&[
        "train",
        c,
        "--set",
        "run.offline_passes=100",
        "--set",
        "telemetry.rerun=[\"off\"]",
        "--run-dir",
        run.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = json(&run.join("summary.json"));
    let (regret, total, best) = (
        s["online/static_regret"].as_f64().unwrap(),
        s["online/cumulative_loss"].as_f64().unwrap(),
        s["online/offline_loss"].as_f64().unwrap(),
    );
    assert!(
        s["online/offline_grad_norm"].as_f64().unwrap() < 1e-8,
        "{s}"
    );
    assert!((regret - (total - best)).abs() < 1e-9 * total);
    // the online learner pays more than the best fixed predictor in hindsight
    assert!(regret > 0.0 && regret < 0.2 * total, "{regret} of {total}");
    let events = std::fs::read_to_string(run.join("events.log")).unwrap();
    assert!(
        events.contains("best fixed predictor in hindsight"),
        "{events}"
    );
    // the hinge loss cannot be fitted by L-BFGS: a config error saying what to do
    let hinge = config(t.path(), &p, "", "kind = \"ogd\"\nloss = \"hinge\"");
    let out = mirrorflow(&[
        "train",
        hinge.to_str().unwrap(),
        "--set",
        "run.offline_passes=10",
        "--run-dir",
        t.path().join("hinge").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("needs a \nsmooth loss") || stderr(&out).contains("smooth loss"),
        "{}",
        stderr(&out)
    );
}
