//! Conformance of the classic-control envs: the generic suite, and a replay of trajectories
//! recorded from real gymnasium 1.4.0 (`tests/data/gym/*.json`, made by `record.py` there).

#![allow(clippy::unwrap_used, reason = "tests fail loudly by design")]

use mirrorflow_core::{Env, EnvError};
use mirrorflow_env_classic::*;
use mirrorflow_testkit::{RTOL, RecordedEpisode, Recording, check_env, replay_episode};
use std::path::PathBuf;

fn data(id: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/gym")
        .join(format!("{id}.json"))
}

fn replay<E: Env + PhysicalState>(mut env: E) {
    let id = env.spec().id.clone();
    let rec = Recording::load(&data(&id)).unwrap();
    assert_eq!(rec.env_id, id);
    let mut prepare = |e: &mut E, ep: &RecordedEpisode| -> Result<(), EnvError> {
        e.set_physical_state(&ep.initial_state)
    };
    let mut total = 0;
    for ep in &rec.episodes {
        let stats = replay_episode(&mut env, ep, RTOL, &mut prepare)
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        total += stats.steps;
        eprintln!(
            "{id} {} seed {}: {} steps, max rel error {:.2e}",
            ep.plan, ep.seed, stats.steps, stats.max_rel_error
        );
    }
    assert!(total > 100);
}

#[test]
fn cartpole_matches_gymnasium() {
    replay(CartPole::default());
}

#[test]
fn pendulum_matches_gymnasium() {
    replay(Pendulum::default());
}

#[test]
fn mountain_car_matches_gymnasium() {
    replay(MountainCar::default());
}

#[test]
fn mountain_car_continuous_matches_gymnasium() {
    replay(MountainCarContinuous::default());
}

#[test]
fn acrobot_matches_gymnasium() {
    replay(Acrobot::default());
}

#[test]
fn generic_suite() {
    check_env(CartPole::default, 2000);
    check_env(Pendulum::default, 500);
    check_env(MountainCar::default, 500);
    check_env(MountainCarContinuous::default, 2100);
    check_env(Acrobot::default, 1100);
}
