//! mirrorflow's integration tests: one binary, run against the real `mirrorflow` executable.
//!
//! * `layering`: the dependency rules R1–R8 of `architecture.md`, from `cargo metadata`.
//! * `cli`: the CLI end to end — train, check, errors, determinism, run directories, Ctrl-C.
//! * `gym_conformance`: native classic-control envs against *live* gymnasium (the project venv
//!   `.venv/`, made by `scripts/test`), and the committed recordings against a fresh recording.
//! * `online`: LIBSVM streams through online learners, malformed input, config errors.
//! * `user_envs`: gymnasium ids, Python classes and the example Rust env as envs, Python
//!   failures, no Python for native runs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::collapsible_match,
    reason = "tests fail loudly by design"
)]

mod cli;
mod cluster;
mod common;
mod gym_conformance;
mod layering;
mod netns;
mod online;
mod telemetry;
mod user_envs;
