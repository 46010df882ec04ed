//! Multi-node for real: three network namespaces joined by veth links to a bridge (a fourth
//! namespace), one process per namespace on its own address, a hostfile — the same path a user
//! takes on several machines. Needs root and iproute2 (CI runs as root; `scripts/test` installs
//! iproute2 when missing).

use crate::common::{json, mirrorflow, repo_root, stderr, wait_with_deadline};
use std::process::{Command, Stdio};
use std::time::Duration;

struct Namespaces(Vec<String>);

impl Drop for Namespaces {
    fn drop(&mut self) {
        for n in &self.0 {
            let _ = Command::new("ip").args(["netns", "del", n]).status();
        }
    }
}

fn ip(args: &[&str]) {
    let out = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("`ip` is required (iproute2): {e}"));
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn three_hosts_in_network_namespaces_train_together() {
    let tag = std::process::id() % 100_000;
    let sw = format!("mfsw{tag}");
    let hosts: Vec<String> = (0..3).map(|i| format!("mfh{tag}x{i}")).collect();
    let mut guard = Namespaces(vec![sw.clone()]);
    ip(&["netns", "add", &sw]);
    ip(&["-n", &sw, "link", "add", "br0", "type", "bridge"]);
    ip(&["-n", &sw, "link", "set", "br0", "up"]);
    let subnet = 200 + (tag % 50) as u8;
    let mut lines = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        guard.0.push(h.clone());
        ip(&["netns", "add", h]);
        let (v, p) = (format!("mfv{i}"), format!("mfp{tag}x{i}"));
        ip(&[
            "link", "add", &v, "netns", h, "type", "veth", "peer", "name", &p, "netns", &sw,
        ]);
        ip(&["-n", &sw, "link", "set", &p, "master", "br0", "up"]);
        let addr = format!("10.{subnet}.0.{}", i + 1);
        ip(&["-n", h, "addr", "add", &format!("{addr}/24"), "dev", &v]);
        ip(&["-n", h, "link", "set", &v, "up"]);
        ip(&["-n", h, "link", "set", "lo", "up"]);
        lines.push(format!("{addr}:47{i}01"));
    }
    let t = tempfile::tempdir().unwrap();
    let hostfile = t.path().join("hosts.txt");
    std::fs::write(&hostfile, lines.join("\n") + "\n").unwrap();
    let run_dir = t.path().join("run");
    let det = repo_root().join("experiments/runtime/determinism.toml");
    let kids: Vec<_> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let mut cmd = Command::new("ip");
            cmd.args([
                "netns",
                "exec",
                h,
                env!("CARGO_BIN_EXE_mirrorflow"),
                "train",
            ])
            .arg(&det)
            .args([
                "--set",
                "run.env_steps=60000",
                "--processes",
                "3",
                "--process-id",
                &i.to_string(),
            ])
            .arg("--hosts")
            .arg(&hostfile)
            .current_dir(repo_root())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
            if i == 0 {
                cmd.arg("--run-dir").arg(&run_dir);
            }
            cmd.spawn().unwrap()
        })
        .collect();
    let outs: Vec<_> = kids
        .into_iter()
        .map(|k| wait_with_deadline(k, Duration::from_secs(120)))
        .collect();
    for (i, o) in outs.iter().enumerate() {
        assert!(
            o.status.success(),
            "process {i} in {}: {}",
            hosts[i],
            stderr(o)
        );
    }
    let s = json(&run_dir.join("summary.json"));
    assert_eq!(s["status"], "completed");
    // same result as one process on one machine
    let single = t.path().join("single");
    let out = mirrorflow(&[
        "train",
        det.to_str().unwrap(),
        "--set",
        "run.env_steps=60000",
        "--run-dir",
        single.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        json(&single.join("summary.json"))["final_params_sha256"],
        s["final_params_sha256"]
    );
    drop(guard);
}
