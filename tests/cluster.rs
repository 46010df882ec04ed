//! The actor–learner runtime across threads and processes: determinism in every placement, and
//! the failure behaviour (a killed or hung process never leaves the others hanging).

use crate::common::{bin, json, mirrorflow, stderr, wait_with_deadline};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const DET: &str = "experiments/runtime/determinism.toml";

/// Metric stream without wall-clock values.
fn stream(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.as_object_mut()
                .unwrap()
                .retain(|k, _| k != "wall_secs" && !k.starts_with("system/"));
            v
        })
        .collect()
}

#[test]
fn sync_mode_is_bit_identical_in_every_placement() {
    let t = tempfile::tempdir().unwrap();
    let short = ["--set", "run.env_steps=60000"];
    let run = |name: &str, extra: &[&str], launch: bool| {
        let dir = t.path().join(name);
        let d = dir.to_str().unwrap();
        let mut args: Vec<&str> = if launch {
            vec!["launch", "--local", "2", DET]
        } else {
            vec!["train", DET]
        };
        args.extend_from_slice(&short);
        args.extend_from_slice(&["--run-dir", d]);
        args.extend_from_slice(extra);
        let out = mirrorflow(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        dir
    };
    let one = run("w1", &[], false);
    let two = run("w2", &["--workers", "2"], false);
    let procs = run("p2", &[], true);
    let s1 = json(&one.join("summary.json"));
    assert_eq!(s1["status"], "completed");
    assert!(s1["env_steps"].as_u64().unwrap() >= 60_000);
    for other in [&two, &procs] {
        let s = json(&other.join("summary.json"));
        assert_eq!(
            s["final_params_sha256"],
            s1["final_params_sha256"],
            "{}",
            other.display()
        );
        assert_eq!(stream(other), stream(&one), "{}", other.display());
    }
    assert!(
        stream(&one)
            .iter()
            .any(|r| r.get("charts/episodic_return").is_some())
    );
}

/// Starts process `i` of an `n`-process run that would go on for a long time.
fn start(i: usize, n: usize, rdv: &Path, run_dir: &Path, watchdog: &str) -> Child {
    let mut cmd = bin();
    cmd.args([
        "train",
        DET,
        "--set",
        "run.env_steps=1000000000000",
        "--processes",
        &n.to_string(),
    ])
    .args([
        "--process-id",
        &i.to_string(),
        "--watchdog",
        watchdog,
        "--rendezvous",
    ])
    .arg(rdv)
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    if i == 0 {
        cmd.arg("--run-dir").arg(run_dir);
    }
    cmd.spawn().unwrap()
}

fn wait_running(run_dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let f = run_dir.join("metrics.jsonl");
    while std::fs::metadata(&f).map_or(true, |m| m.len() == 0) {
        assert!(Instant::now() < deadline, "cluster did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(child: &Child, sig: &str) {
    assert!(
        std::process::Command::new("kill")
            .args([sig, &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
}

#[test]
fn killing_one_process_stops_the_others_naming_it() {
    let t = tempfile::tempdir().unwrap();
    let run_dir = t.path().join("run");
    let mut kids: Vec<Child> = (0..3)
        .map(|i| start(i, 3, t.path(), &run_dir, "60"))
        .collect();
    wait_running(&run_dir);
    let victim = kids.remove(1);
    signal(&victim, "-KILL");
    let killed_at = Instant::now();
    let outs: Vec<_> = kids
        .into_iter()
        .map(|k| wait_with_deadline(k, Duration::from_secs(30)))
        .collect();
    let took = killed_at.elapsed();
    let _ = wait_with_deadline(victim, Duration::from_secs(5));
    assert!(
        took < Duration::from_secs(5),
        "survivors took {took:?} to stop"
    );
    for o in &outs {
        assert!(!o.status.success(), "a survivor exited 0");
    }
    let e0 = stderr(&outs[0]);
    assert!(
        e0.contains("peer process 1 failed"),
        "process 0 did not name process 1:\n{e0}"
    );
}

#[test]
fn a_hung_process_is_caught_by_the_watchdog() {
    let t = tempfile::tempdir().unwrap();
    let run_dir = t.path().join("run");
    let mut kids: Vec<Child> = (0..3)
        .map(|i| start(i, 3, t.path(), &run_dir, "3"))
        .collect();
    wait_running(&run_dir);
    let hung = kids.remove(1);
    signal(&hung, "-STOP");
    let stopped_at = Instant::now();
    let outs: Vec<_> = kids
        .into_iter()
        .map(|k| wait_with_deadline(k, Duration::from_secs(60)))
        .collect();
    let took = stopped_at.elapsed();
    signal(&hung, "-CONT");
    signal(&hung, "-KILL");
    let _ = wait_with_deadline(hung, Duration::from_secs(10));
    assert!(took < Duration::from_secs(20), "the watchdog took {took:?}");
    for o in &outs {
        assert!(!o.status.success());
    }
    let e0 = stderr(&outs[0]);
    assert_eq!(outs[0].status.code(), Some(3), "{e0}");
    assert!(
        e0.contains("no progress for") && e0.contains("process 0"),
        "{e0}"
    );
}

#[test]
fn a_stray_process_of_another_run_is_refused() {
    let t = tempfile::tempdir().unwrap();
    let run_dir = t.path().join("run");
    // process 1 belongs to a different run (other seed => other run id): process 0 refuses it and
    // the rendezvous deadline ends both cleanly
    let p0 = bin()
        .args([
            "train",
            DET,
            "--processes",
            "2",
            "--process-id",
            "0",
            "--rendezvous-timeout",
            "3",
            "--rendezvous",
        ])
        .arg(t.path())
        .arg("--run-dir")
        .arg(&run_dir)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let p1 = bin()
        .args([
            "train",
            DET,
            "--seed",
            "99",
            "--processes",
            "2",
            "--process-id",
            "1",
            "--rendezvous-timeout",
            "3",
            "--rendezvous",
        ])
        .arg(t.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let o0 = wait_with_deadline(p0, Duration::from_secs(30));
    let o1 = wait_with_deadline(p1, Duration::from_secs(30));
    assert_eq!(o0.status.code(), Some(4), "{}", stderr(&o0));
    assert!(
        stderr(&o0).contains("refused a connection"),
        "{}",
        stderr(&o0)
    );
    assert!(stderr(&o0).contains("never connected"), "{}", stderr(&o0));
    assert_ne!(o1.status.code(), Some(0));
    assert!(stderr(&o1).contains("refused us"), "{}", stderr(&o1));
}

/// The uninterrupted reference for the restart tests.
fn reference(t: &Path, extra: &[&str]) -> (serde_json::Value, Vec<serde_json::Value>) {
    let dir = t.join("reference");
    let mut args = vec!["train", DET, "--run-dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = mirrorflow(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    (json(&dir.join("summary.json")), stream(&dir))
}

const LONG: [&str; 4] = [
    "--set",
    "run.env_steps=3000000",
    "--set",
    "runtime.checkpoint_every=20",
];

#[test]
fn the_launcher_restarts_a_killed_cluster_from_its_checkpoint() {
    use std::io::BufRead;
    let t = tempfile::tempdir().unwrap();
    let run_dir = t.path().join("run");
    let mut args = vec![
        "launch",
        "--local",
        "2",
        DET,
        "--run-dir",
        run_dir.to_str().unwrap(),
        "--restarts",
        "2",
    ];
    args.extend_from_slice(&LONG);
    let mut launcher = bin()
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let err = launcher.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut log = Vec::new();
    let pid = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("launcher said nothing");
        log.push(line.clone());
        if let Some(rest) = line.split("1: pid ").nth(1) {
            break rest
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .to_string();
        }
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !crate::common::has_files(&run_dir.join("checkpoints"), "json") {
        assert!(Instant::now() < deadline, "no checkpoint appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = loop {
        if let Some(s) = launcher.try_wait().unwrap() {
            break s;
        }
        while let Ok(l) = rx.try_recv() {
            log.push(l);
        }
        assert!(
            Instant::now() < deadline + Duration::from_secs(60),
            "launcher hung:\n{}",
            log.join("\n")
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    reader.join().unwrap();
    log.extend(rx.try_iter());
    let text = log.join("\n");
    assert!(status.success(), "{text}");
    assert!(
        text.contains("restarting the cluster from its newest checkpoint"),
        "{text}"
    );
    assert!(text.contains("process 1"), "{text}");
    let s = json(&run_dir.join("summary.json"));
    assert_eq!(s["status"], "completed");
    let (ref_summary, ref_stream) = reference(t.path(), &LONG);
    assert_eq!(s["final_params_sha256"], ref_summary["final_params_sha256"]);
    assert_eq!(stream(&run_dir), ref_stream);
}

#[test]
fn an_interrupted_run_resumes_to_the_same_result() {
    let t = tempfile::tempdir().unwrap();
    let run_dir = t.path().join("run");
    let mut child = bin();
    child
        .args(["train", DET, "--run-dir", run_dir.to_str().unwrap()])
        .args(LONG)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let child = child.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !crate::common::has_files(&run_dir.join("checkpoints"), "json") {
        assert!(Instant::now() < deadline, "no checkpoint appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(&child, "-INT");
    let out = wait_with_deadline(child, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert_eq!(json(&run_dir.join("summary.json"))["status"], "interrupted");
    let out = mirrorflow(&["train", "--resume", run_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("resuming from the checkpoint at version"));
    let s = json(&run_dir.join("summary.json"));
    assert_eq!(s["status"], "completed");
    let (ref_summary, ref_stream) = reference(t.path(), &LONG);
    assert_eq!(s["final_params_sha256"], ref_summary["final_params_sha256"]);
    assert_eq!(stream(&run_dir), ref_stream);
    // a corrupt newest checkpoint falls back to an older one
    let mut manifests: Vec<_> = std::fs::read_dir(run_dir.join("checkpoints"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ckpt"))
        .collect();
    manifests.sort();
    let newest = manifests.last().unwrap();
    std::fs::write(newest, b"garbage").unwrap();
    let out = mirrorflow(&["train", "--resume", run_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("is unusable"), "{}", stderr(&out));
    assert_eq!(
        json(&run_dir.join("summary.json"))["final_params_sha256"],
        ref_summary["final_params_sha256"]
    );
}
