//! 1. Bakes the git commit into the binary for run provenance (`config.toml`, `summary.json`).
//! 2. With the `python` feature (default), embeds the directory of the libpython this build
//!    links against as an rpath, so `mirrorflow` finds it at run time without
//!    `LD_LIBRARY_PATH` (a pyenv or venv Python is not in the loader's default directories).
use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=MIRRORFLOW_GIT_COMMIT={commit}");
    for p in [
        "../../.git/HEAD",
        "../../.git/refs/heads",
        "../../.git/packed-refs",
    ] {
        println!("cargo:rerun-if-changed={p}");
    }
    if std::env::var_os("CARGO_FEATURE_PYTHON").is_some() {
        pyo3_build_config::add_libpython_rpath_link_args();
    }
}
