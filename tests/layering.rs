//! Dependency rules R1–R8 of `architecture.md` §2.1, checked on `cargo metadata`. A violation
//! fails naming the rule, the package and the dependency.

use serde_json::Value;
use std::process::Command;

/// One declared dependency.
#[derive(Clone, Debug)]
struct Dep {
    name: String,
    kind: String, // "normal", "dev", "build"
}

#[derive(Clone, Debug)]
struct Pkg {
    name: String,
    deps: Vec<Dep>,
}

const HEAVY: [&str; 4] = ["burn", "timely", "pyo3", "rerun"];

fn is_heavy(dep: &str, which: &str) -> bool {
    dep == which || dep.starts_with(&format!("{which}-")) || dep.starts_with(&format!("{which}_"))
}

fn ws(dep: &str) -> Option<&str> {
    dep.strip_prefix("mirrorflow-")
}

/// Checks every rule; returns one line per violation.
fn violations(pkgs: &[Pkg]) -> Vec<String> {
    let mut out = Vec::new();
    for p in pkgs {
        let Some(me) = ws(&p.name) else { continue };
        let runtime_deps: Vec<&Dep> = p.deps.iter().filter(|d| d.kind != "dev").collect();
        let mut bad = |rule: &str, d: &Dep, why: &str| {
            out.push(format!(
                "{rule}: {} depends on {} ({}): {why}",
                p.name, d.name, d.kind
            ))
        };
        for d in &runtime_deps {
            let dep_ws = ws(&d.name);
            match me {
                "core" | "math" => {
                    if dep_ws.is_some() {
                        bad("R1", d, "core and math are leaves");
                    }
                    if HEAVY.iter().any(|h| is_heavy(&d.name, h)) {
                        bad("R1", d, "core and math name no burn, timely, pyo3 or rerun");
                    }
                }
                m if m.starts_with("env-") => {
                    if dep_ws.is_some_and(|w| w != "core")
                        || HEAVY.iter().any(|h| is_heavy(&d.name, h))
                    {
                        bad("R2", d, "envs depend on core only");
                    }
                }
                m if m.starts_with("agent-") => {
                    if dep_ws.is_some_and(|w| !matches!(w, "core" | "math" | "nn")) {
                        bad(
                            "R3",
                            d,
                            "agents depend on core, math and nn only (envs as dev-dependencies)",
                        );
                    }
                    if ["timely", "pyo3", "rerun"]
                        .iter()
                        .any(|h| is_heavy(&d.name, h))
                    {
                        bad("R3", d, "agents never see the runtime, pyo3 or rerun");
                    }
                }
                "runtime" => {
                    if dep_ws.is_some_and(|w| !matches!(w, "core" | "replay")) {
                        bad(
                            "R5",
                            d,
                            "the runtime depends on core, replay and timely only",
                        );
                    }
                }
                "replay" => {
                    if dep_ws.is_some_and(|w| w != "core")
                        || HEAVY.iter().any(|h| is_heavy(&d.name, h))
                    {
                        bad("R5", d, "replay depends on core only (the runtime owns it)");
                    }
                }
                "telemetry" => {
                    if dep_ws.is_some_and(|w| w != "core") {
                        bad("R6", d, "telemetry depends on core (and rerun) only");
                    }
                }
                "gym" => {
                    if dep_ws.is_some_and(|w| w != "core") {
                        bad("R6", d, "gym depends on core (and pyo3) only");
                    }
                }
                "testkit" => {
                    if dep_ws.is_some_and(|w| w != "core") {
                        bad("R8", d, "testkit depends on core only");
                    }
                }
                _ => {}
            }
            if is_heavy(&d.name, "burn") && !(me == "nn" || me.starts_with("agent-")) {
                bad("R4", d, "burn appears only in nn and the deep agents");
            }
            if is_heavy(&d.name, "pyo3") && !matches!(me, "gym" | "cli") {
                bad("R6", d, "pyo3 appears only in gym");
            }
            if is_heavy(&d.name, "rerun") && !matches!(me, "telemetry" | "cli") {
                bad("R6", d, "rerun appears only in telemetry");
            }
            if is_heavy(&d.name, "timely") && !matches!(me, "runtime" | "cli") {
                bad("R5", d, "timely appears only in the runtime");
            }
            if matches!(d.name.as_str(), "anyhow" | "clap") && me != "cli" {
                bad("R7", d, "anyhow and clap belong to the CLI only");
            }
            if dep_ws == Some("testkit") {
                bad("R8", d, "testkit is a dev-dependency only");
            }
        }
    }
    out
}

fn metadata() -> Vec<Pkg> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(crate::common::repo_root())
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Pkg {
            name: p["name"].as_str().unwrap().to_string(),
            deps: p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| Dep {
                    name: d["name"].as_str().unwrap().to_string(),
                    kind: d["kind"].as_str().unwrap_or("normal").to_string(),
                })
                .collect(),
        })
        .collect()
}

#[test]
fn workspace_obeys_the_dependency_rules() {
    let pkgs = metadata();
    assert!(
        pkgs.iter().any(|p| p.name == "mirrorflow-core"),
        "metadata lists no mirrorflow-core"
    );
    assert!(
        pkgs.len() >= 8,
        "expected the whole workspace, got {} packages",
        pkgs.len()
    );
    let v = violations(&pkgs);
    assert!(v.is_empty(), "dependency rules broken:\n{}", v.join("\n"));
}

#[test]
fn the_checker_catches_each_rule() {
    let pkg = |name: &str, deps: &[(&str, &str)]| Pkg {
        name: name.into(),
        deps: deps
            .iter()
            .map(|(n, k)| Dep {
                name: n.to_string(),
                kind: k.to_string(),
            })
            .collect(),
    };
    let cases = [
        (
            pkg("mirrorflow-core", &[("mirrorflow-math", "normal")]),
            "R1",
        ),
        (pkg("mirrorflow-math", &[("timely", "normal")]), "R1"),
        (
            pkg("mirrorflow-env-classic", &[("mirrorflow-math", "normal")]),
            "R2",
        ),
        (
            pkg("mirrorflow-agent-sac", &[("mirrorflow-runtime", "normal")]),
            "R3",
        ),
        (pkg("mirrorflow-agent-sac", &[("rerun", "normal")]), "R3"),
        (pkg("mirrorflow-runtime", &[("burn", "normal")]), "R4"),
        (
            pkg(
                "mirrorflow-runtime",
                &[("mirrorflow-env-classic", "normal")],
            ),
            "R5",
        ),
        (
            pkg("mirrorflow-replay", &[("mirrorflow-math", "normal")]),
            "R5",
        ),
        (
            pkg("mirrorflow-agent-sac", &[("mirrorflow-replay", "normal")]),
            "R3",
        ),
        (
            pkg("mirrorflow-telemetry", &[("mirrorflow-runtime", "normal")]),
            "R6",
        ),
        (pkg("mirrorflow-envx", &[("pyo3", "normal")]), "R6"),
        (pkg("mirrorflow-runtime", &[("anyhow", "normal")]), "R7"),
        (
            pkg("mirrorflow-agent-sac", &[("mirrorflow-testkit", "normal")]),
            "R8",
        ),
    ];
    for (p, rule) in cases {
        let v = violations(std::slice::from_ref(&p));
        assert!(
            v.iter().any(|l| l.starts_with(rule)),
            "{rule} not caught for {p:?}: {v:?}"
        );
    }
    // allowed: envs and testkit as dev-dependencies of an agent
    let ok = pkg(
        "mirrorflow-agent-x",
        &[
            ("mirrorflow-env-tabular", "dev"),
            ("mirrorflow-testkit", "dev"),
            ("mirrorflow-math", "normal"),
        ],
    );
    assert!(violations(&[ok]).is_empty());
}
