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
        events.contains("2 malformed lines skipped of 102 read")
            && events.contains(":52: value NaN"),
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
