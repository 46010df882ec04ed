//! Native classic-control envs against live gymnasium 1.4.0 (the project venv): a fresh
//! recording is made by `tests/data/gym/record.py`, replayed on the native envs, and compared
//! with the committed recordings (so those stay current).

use crate::common::{python, repo_root, wait_with_deadline};
use mirrorflow_core::{Env, EnvError};
use mirrorflow_env_classic::*;
use mirrorflow_testkit::{RTOL, RecordedEpisode, Recording, replay_episode};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn replay<E: Env + PhysicalState>(mut env: E, file: &Path) -> usize {
    let rec = Recording::load(file).unwrap();
    assert_eq!(
        rec.gymnasium_version,
        "1.4.0",
        "{}: recorded with another gymnasium",
        file.display()
    );
    let mut prepare = |e: &mut E, ep: &RecordedEpisode| -> Result<(), EnvError> {
        e.set_physical_state(&ep.initial_state)
    };
    rec.episodes
        .iter()
        .map(|ep| {
            replay_episode(&mut env, ep, RTOL, &mut prepare)
                .unwrap_or_else(|e| panic!("{}: {e}", rec.env_id))
                .steps
        })
        .sum()
}

#[test]
fn native_envs_match_live_gymnasium() {
    let t = tempfile::tempdir().unwrap();
    let script = repo_root().join("tests/data/gym/record.py");
    let child = Command::new(python())
        .arg(&script)
        .arg(t.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    let out = wait_with_deadline(child, Duration::from_secs(120));
    assert!(
        out.status.success(),
        "record.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live = |id: &str| t.path().join(format!("{id}.json"));
    let mut steps = 0;
    steps += replay(CartPole::default(), &live("CartPole-v1"));
    steps += replay(Pendulum::default(), &live("Pendulum-v1"));
    steps += replay(MountainCar::default(), &live("MountainCar-v0"));
    steps += replay(
        MountainCarContinuous::default(),
        &live("MountainCarContinuous-v0"),
    );
    steps += replay(Acrobot::default(), &live("Acrobot-v1"));
    assert!(steps > 3000, "only {steps} steps compared");
    for id in [
        "CartPole-v1",
        "Pendulum-v1",
        "MountainCar-v0",
        "MountainCarContinuous-v0",
        "Acrobot-v1",
    ] {
        let fresh = std::fs::read_to_string(live(id)).unwrap();
        let committed =
            std::fs::read_to_string(repo_root().join(format!("tests/data/gym/{id}.json"))).unwrap();
        assert!(
            fresh == committed,
            "tests/data/gym/{id}.json differs from a fresh recording: rerun record.py and commit"
        );
    }
}
