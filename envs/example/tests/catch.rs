//! Catch passes the env conformance suite and its rules hold.
#![allow(clippy::unwrap_used, reason = "tests")]

use mirrorflow_core::Env;
use mirrorflow_env_example::{Catch, CatchConfig};

#[test]
fn catch_passes_the_conformance_suite() {
    mirrorflow_testkit::check_env(Catch::default, 500);
    mirrorflow_testkit::check_env(
        || {
            Catch::new(CatchConfig {
                rows: 3,
                columns: 7,
            })
        },
        300,
    );
}

#[test]
fn following_the_ball_always_catches_it() {
    let mut env = Catch::default();
    let mut obs = [0.0f32; 3];
    for seed in 0..20 {
        env.reset(Some(seed), &mut obs).unwrap();
        loop {
            // move towards the ball's column
            let a = if obs[2] < obs[1] {
                2.0
            } else if obs[2] > obs[1] {
                0.0
            } else {
                1.0
            };
            let info = env.step(&[a], &mut obs).unwrap();
            if info.done() {
                assert_eq!(info.reward, 1.0);
                assert!(info.terminated && !info.truncated);
                break;
            }
            assert_eq!(info.reward, 0.0);
        }
    }
    assert!(env.step(&[1.0], &mut obs).is_err(), "step after the end");
    assert!(env.load_state(&[1, 2, 3]).is_err(), "corrupt state");
}
