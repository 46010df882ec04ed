//! # mirrorflow-testkit
//!
//! Shared test helpers (a dev-dependency only, rule R8):
//!
//! * [`check_env`]: the conformance suite every env (native or Python-backed) must pass: spaces,
//!   seeding determinism, reset discipline, time-limit truncation, invalid actions.
//! * [`Recording`] and [`replay_episode`]: compare an env step by step against trajectories
//!   recorded from real gymnasium (`tests/data/gym/record.py`).
//! * [`assert_close`]: tolerance asserts with a readable failure.
#![deny(missing_docs)]
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "test helpers fail with a message by design"
)]

use mirrorflow_core::{Env, EnvError, Rng, Space};
use serde::Deserialize;

/// Relative tolerance of the gymnasium comparison: `|a − b| ≤ RTOL · max(1, |b|)`.
pub const RTOL: f64 = 1e-5;

/// Asserts `|a − b| ≤ tol · max(1, |b|)` with a message naming what was compared.
pub fn assert_close(what: &str, a: f64, b: f64, tol: f64) {
    assert!(
        (a - b).abs() <= tol * b.abs().max(1.0),
        "{what}: {a} vs expected {b} (tolerance {tol})"
    );
}

/// Trajectories of one env recorded from gymnasium.
#[derive(Clone, Debug, Deserialize)]
pub struct Recording {
    /// gymnasium version that produced the file.
    pub gymnasium_version: String,
    /// Env id.
    pub env_id: String,
    /// Episodes.
    pub episodes: Vec<RecordedEpisode>,
}

/// One recorded episode.
#[derive(Clone, Debug, Deserialize)]
pub struct RecordedEpisode {
    /// How actions were chosen (informative).
    pub plan: String,
    /// Seed passed to `reset`.
    pub seed: u64,
    /// `env.unwrapped.state` right after reset.
    pub initial_state: Vec<f64>,
    /// Observation returned by reset.
    pub initial_obs: Vec<f64>,
    /// Action per step (flattened).
    pub actions: Vec<Vec<f64>>,
    /// Observation per step.
    pub obs: Vec<Vec<f64>>,
    /// Reward per step.
    pub rewards: Vec<f64>,
    /// Terminated flag per step.
    pub terminated: Vec<bool>,
    /// Truncated flag per step.
    pub truncated: Vec<bool>,
}

impl Recording {
    /// Parses a recording file.
    pub fn load(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// Result of a replay: steps compared and the largest relative deviation seen.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReplayStats {
    /// Steps compared.
    pub steps: usize,
    /// Largest `|a − b| / max(1, |b|)` over observations and rewards.
    pub max_rel_error: f64,
}

/// Replays `ep` on `env` after `prepare` has put the env in the episode's initial state
/// (e.g. by setting the physical state, or by `reset(seed)` for a gymnasium-backed env).
/// Compares every observation, reward and flag; errors describe the first mismatch.
pub fn replay_episode<E: Env + ?Sized>(
    env: &mut E,
    ep: &RecordedEpisode,
    tol: f64,
    prepare: &mut dyn FnMut(&mut E, &RecordedEpisode) -> Result<(), EnvError>,
) -> Result<ReplayStats, String> {
    prepare(env, ep).map_err(|e| e.to_string())?;
    let mut obs = vec![0f32; env.spec().obs_dim()];
    let mut stats = ReplayStats::default();
    for (t, action) in ep.actions.iter().enumerate() {
        let a: Vec<f32> = action.iter().map(|&x| x as f32).collect();
        let info = env
            .step(&a, &mut obs)
            .map_err(|e| format!("step {t}: {e}"))?;
        let mut rel = |what: String, got: f64, want: f64| -> Result<(), String> {
            let r = (got - want).abs() / want.abs().max(1.0);
            stats.max_rel_error = stats.max_rel_error.max(r);
            if r <= tol {
                Ok(())
            } else {
                Err(format!(
                    "{} episode seed {} step {t}: {what} = {got}, gymnasium {want}",
                    ep.plan, ep.seed
                ))
            }
        };
        for (k, (&g, &w)) in obs.iter().zip(&ep.obs[t]).enumerate() {
            rel(format!("obs[{k}]"), g as f64, w)?;
        }
        rel("reward".into(), info.reward, ep.rewards[t])?;
        if info.terminated != ep.terminated[t] || info.truncated != ep.truncated[t] {
            return Err(format!(
                "{} episode seed {} step {t}: flags (terminated {}, truncated {}), gymnasium ({}, {})",
                ep.plan,
                ep.seed,
                info.terminated,
                info.truncated,
                ep.terminated[t],
                ep.truncated[t]
            ));
        }
        stats.steps += 1;
    }
    Ok(stats)
}

fn is_bounded(space: &Space) -> bool {
    match space {
        Space::Box { low, high, .. } => low.iter().chain(high).all(|v| v.is_finite()),
        _ => true,
    }
}

/// The env conformance suite. `make` builds a fresh env. Checks:
/// spaces are consistent; step before reset is an error; the same seed and actions give the
/// same trajectory; observations stay finite (and inside a bounded observation space for the
/// first steps); episodes with a time limit are truncated exactly at it unless they terminate;
/// a step after the episode ended is an error; invalid discrete actions are errors.
pub fn check_env<E: Env>(mut make: impl FnMut() -> E, steps: usize) {
    let mut env = make();
    let spec = env.spec().clone();
    let (od, ad) = (spec.obs_dim(), spec.act_dim());
    assert!(od > 0 && ad > 0, "{}: empty space", spec.id);
    let mut obs = vec![0f32; od];
    let mut act = vec![0f32; ad];
    let mut rng = Rng::seed_from(1);
    spec.action_space.sample_into(&mut rng, &mut act);
    assert!(
        env.step(&act, &mut obs).is_err(),
        "{}: step before reset must fail",
        spec.id
    );

    let run = |env: &mut E, seed: u64| -> Vec<f32> {
        let mut trace = Vec::new();
        let mut obs = vec![0f32; od];
        let mut act = vec![0f32; ad];
        let mut rng = Rng::seed_from(seed ^ 0xABCD);
        env.reset(Some(seed), &mut obs).expect("reset");
        trace.extend_from_slice(&obs);
        let mut t = 0u32;
        for _ in 0..steps {
            spec.action_space.sample_into(&mut rng, &mut act);
            let info = env.step(&act, &mut obs).expect("step");
            t += 1;
            assert!(
                obs.iter().all(|v| v.is_finite()) && info.reward.is_finite(),
                "{}: non-finite output",
                spec.id
            );
            if is_bounded(&spec.observation_space) {
                assert!(
                    spec.observation_space.contains(&obs),
                    "{}: obs {obs:?} outside {}",
                    spec.id,
                    spec.observation_space
                );
            }
            if let Some(limit) = spec.max_episode_steps {
                assert!(
                    t <= limit,
                    "{}: episode longer than its time limit {limit}",
                    spec.id
                );
                if t == limit && !info.terminated {
                    assert!(
                        info.truncated,
                        "{}: not truncated at the time limit {limit}",
                        spec.id
                    );
                }
                if t < limit {
                    assert!(
                        !info.truncated,
                        "{}: truncated at step {t} before the limit {limit}",
                        spec.id
                    );
                }
            }
            trace.extend_from_slice(&obs);
            trace.push(info.reward as f32);
            if info.done() {
                assert!(
                    env.step(&act, &mut obs).is_err(),
                    "{}: step after the end must fail",
                    spec.id
                );
                env.reset(None, &mut obs).expect("reset");
                t = 0;
            }
        }
        trace
    };
    let a = run(&mut env, 7);
    let b = run(&mut make(), 7);
    assert_eq!(
        a, b,
        "{}: same seed and actions gave different trajectories",
        spec.id
    );
    let c = run(&mut env, 8);
    assert_ne!(
        a, c,
        "{}: different seeds gave identical trajectories",
        spec.id
    );

    if let Space::Discrete { n, start } = spec.action_space {
        env.reset(Some(0), &mut obs).expect("reset");
        let bad = (start + n as i64) as f32;
        let err = env
            .step(&[bad], &mut obs)
            .expect_err("out-of-range discrete action must fail");
        assert!(err.to_string().contains("not in the action space"), "{err}");
        assert!(
            env.step(&[0.5 + start as f32], &mut obs).is_err(),
            "fractional action must fail"
        );
    }
    // Checkpoints: a saved state continues exactly like the original.
    let mut a_env = make();
    a_env.reset(Some(11), &mut obs).expect("reset");
    let mut rng = Rng::seed_from(5);
    for _ in 0..3 {
        spec.action_space.sample_into(&mut rng, &mut act);
        if a_env.step(&act, &mut obs).expect("step").done() {
            a_env.reset(None, &mut obs).expect("reset");
        }
    }
    if let Some(state) = a_env.save_state() {
        let mut b_env = make();
        b_env.load_state(&state).expect("load_state");
        let mut ob = vec![0f32; od];
        for _ in 0..steps.min(300) {
            spec.action_space.sample_into(&mut rng, &mut act);
            let ia = a_env.step(&act, &mut obs).expect("step");
            let ib = b_env.step(&act, &mut ob).expect("step");
            assert_eq!(
                (ia, &obs),
                (ib, &ob),
                "{}: a restored state diverged",
                spec.id
            );
            if ia.done() {
                a_env.reset(None, &mut obs).expect("reset");
                b_env.reset(None, &mut ob).expect("reset");
                assert_eq!(obs, ob, "{}: a restored RNG diverged", spec.id);
            }
        }
        assert!(
            b_env.load_state(&state[..state.len() / 2]).is_err(),
            "{}: truncated state accepted",
            spec.id
        );
    }

    let mut short = vec![0f32; od + 1];
    assert!(
        env.reset(Some(0), &mut short).is_err(),
        "{}: wrong obs buffer length must fail",
        spec.id
    );
}
