//! mirrorflow-gym against real gymnasium in the project venv (`scripts/test` installs it):
//! conformance of gym-backed envs, batched shards, and one test per error case.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly by design"
)]

use mirrorflow_core::{
    ActMode, Env, EnvError, EnvFactory, EnvShard, EnvSpec, Frame, RandomPolicy, SeedStream, Space,
    StepInfo, TransitionBatch,
};
use mirrorflow_gym::{PyEnvConfig, Source, resolve};
use std::sync::Arc;

fn envs_py(class: &str) -> String {
    format!("py:{}/tests/envs.py:{class}", env!("CARGO_MANIFEST_DIR"))
}

fn config(id: &str, kwargs: serde_json::Value) -> PyEnvConfig {
    let source = Source::parse(id).expect("a python id").expect("valid");
    PyEnvConfig {
        source,
        kwargs,
        render: false,
    }
}

fn make(id: &str) -> (EnvSpec, EnvFactory) {
    resolve(&config(id, serde_json::json!({}))).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn gym_envs_pass_the_native_conformance_suite() {
    for id in [
        "gym:CartPole-v1",
        "gym:Pendulum-v1",
        "gym:MountainCarContinuous-v0",
    ] {
        let (spec, f) = make(id);
        assert_eq!(spec.id, id);
        mirrorflow_testkit::check_env(|| f(0).unwrap(), 400);
    }
    let (spec, f) = make(&envs_py("Corridor"));
    assert_eq!(spec.action_space, Space::discrete(2));
    mirrorflow_testkit::check_env(|| f(0).unwrap(), 200);
}

#[test]
fn spaces_map_with_bounds_dtype_and_time_limit() {
    let (spec, _) = make("gym:CartPole-v1");
    assert_eq!(spec.max_episode_steps, Some(500));
    match &spec.observation_space {
        Space::Box { low, shape, .. } => {
            assert_eq!(shape, &vec![4]);
            assert!((low[0] + 4.8).abs() < 1e-6);
        }
        other => panic!("{other}"),
    }
    let (spec, _) = make("gym:Pendulum-v1");
    assert_eq!(spec.action_space, Space::boxed(vec![-2.0], vec![2.0]));
    // Dict observations are flattened: Discrete(6) one-hot then the Box
    let (spec, f) = make(&envs_py("DictObs"));
    assert_eq!(spec.obs_dim(), 7);
    let mut env = f(0).unwrap();
    let mut obs = vec![0.0; 7];
    env.reset(Some(3), &mut obs).unwrap();
    assert_eq!(obs[..6].iter().sum::<f32>(), 1.0, "{obs:?}");
    // kwargs reach the constructor
    let (_, f) = resolve(&config(
        &envs_py("Corridor"),
        serde_json::json!({"length": 2}),
    ))
    .unwrap();
    let mut env = f(0).unwrap();
    let mut obs = vec![0.0; 2];
    env.reset(Some(0), &mut obs).unwrap();
    let mut steps = 0;
    while !env.step(&[1.0], &mut obs).unwrap().done() {
        steps += 1;
    }
    assert!(steps <= 2);
}

/// An env that hides its batch, so the shard steps it one by one.
struct OneByOne(Box<dyn Env>);

impl Env for OneByOne {
    fn spec(&self) -> &EnvSpec {
        self.0.spec()
    }
    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Result<(), EnvError> {
        self.0.reset(seed, obs)
    }
    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> Result<StepInfo, EnvError> {
        self.0.step(action, obs)
    }
    fn render_rgb(&mut self) -> Option<Frame> {
        self.0.render_rgb()
    }
}

#[test]
fn a_shard_steps_python_envs_together_with_the_same_transitions() {
    let (spec, batched) = make("gym:CartPole-v1");
    let inner = batched.clone();
    let one: EnvFactory = Arc::new(move |i| Ok(Box::new(OneByOne(inner(i)?)) as Box<dyn Env>));
    let run = |f: &EnvFactory| {
        let mut shard = EnvShard::new(f, 3, 8, SeedStream::new(5)).unwrap();
        let mut pol = RandomPolicy::new(spec.action_space.clone());
        let mut b = TransitionBatch::default();
        shard
            .rollout(&mut pol, ActMode::Explore, 100, &mut b)
            .unwrap();
        (b, shard.is_batched())
    };
    let (a, a_batched) = run(&one);
    let (b, b_batched) = run(&batched);
    assert!(!a_batched && b_batched);
    assert_eq!(a.len(), 800);
    assert!(a.episodes.len() >= 8);
    assert_eq!(a.obs, b.obs);
    assert_eq!(a.next_obs, b.next_obs);
    assert_eq!(a.rewards, b.rewards);
    assert_eq!(a.terminated, b.terminated);
    assert_eq!(a.truncated, b.truncated);
    assert_eq!(a.episodes, b.episodes);
}

#[test]
fn frames_come_from_rgb_array_rendering() {
    let mut cfg = config(&envs_py("Corridor"), serde_json::json!({}));
    cfg.render = true;
    let (_, f) = resolve(&cfg).unwrap();
    let mut env = f(0).unwrap();
    let mut obs = vec![0.0; 2];
    env.reset(Some(0), &mut obs).unwrap();
    let frame = env.render_rgb().expect("a frame");
    assert_eq!((frame.width, frame.height), (6, 4));
    assert_eq!(frame.rgb.len(), 6 * 4 * 3);
    let mut batch = env.batch(2).unwrap().unwrap();
    let mut obs = vec![0.0; 4];
    batch.reset_all(&[1, 2], &mut obs).unwrap();
    assert!(batch.render_rgb(1).is_some());
}

/// The error of the first step (after a good reset) of env class `class`.
fn step_error(class: &str) -> String {
    let (spec, f) = make(&envs_py(class));
    let mut env = f(0).unwrap();
    let mut obs = vec![0.0; spec.obs_dim()];
    env.reset(Some(0), &mut obs).unwrap();
    env.step(&[1.0], &mut obs).unwrap_err().to_string()
}

#[test]
fn a_python_exception_in_step_carries_id_call_and_traceback() {
    let e = step_error("RaisesInStep");
    assert!(
        e.contains("RaisesInStep") && e.contains("step failed"),
        "{e}"
    );
    assert!(e.contains("Traceback") && e.contains("envs.py"), "{e}");
    assert!(
        e.contains("ValueError: the simulator exploded at step 1"),
        "{e}"
    );
}

#[test]
fn a_python_exception_in_reset_carries_the_traceback() {
    let (_, f) = make(&envs_py("Corridor"));
    drop(f);
    let id = envs_py("RaisesInReset");
    let (spec, f) = make(&id);
    let mut env = f(0).unwrap();
    let mut obs = vec![0.0; spec.obs_dim()];
    let e = env.reset(Some(0), &mut obs).unwrap_err().to_string();
    assert!(
        e.contains("reset failed") && e.contains("RuntimeError: cannot connect"),
        "{e}"
    );
    assert!(e.contains("Traceback"), "{e}");
    // in a shard the same error surfaces from the batched reset
    let e = EnvShard::new(&f, 0, 2, SeedStream::new(0))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("RuntimeError: cannot connect"), "{e}");
}

#[test]
fn an_observation_of_the_wrong_shape_is_reported() {
    let e = step_error("WrongShape");
    assert!(e.contains("shape (3,)") && e.contains("(2,)"), "{e}");
}

#[test]
fn an_observation_of_the_wrong_dtype_is_reported() {
    let e = step_error("StringObs");
    assert!(e.contains("dtype <U1"), "{e}");
}

#[test]
fn a_nan_observation_is_reported_by_the_shard() {
    let (spec, f) = make(&envs_py("NanObs"));
    let mut shard = EnvShard::new(&f, 0, 2, SeedStream::new(0)).unwrap();
    let mut pol = RandomPolicy::new(spec.action_space.clone());
    let mut b = TransitionBatch::default();
    let e = shard
        .rollout(&mut pol, ActMode::Explore, 1, &mut b)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("observation[1] is not finite (NaN)") && e.contains("NanObs"),
        "{e}"
    );
}

#[test]
fn a_non_bool_flag_is_reported() {
    let e = step_error("IntFlag");
    assert!(
        e.contains("terminated = 0 of type int; it must be a bool"),
        "{e}"
    );
}

#[test]
fn a_missing_return_value_is_reported() {
    let e = step_error("FourValues");
    assert!(
        e.contains("step returned 4 values") && e.contains("terminated, truncated"),
        "{e}"
    );
}

#[test]
fn bad_ids_spaces_and_packages_are_clear_errors() {
    let e = resolve(&config(&envs_py("TextSpace"), serde_json::json!({})))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("observation space Text(") && e.contains("not supported"),
        "{e}"
    );
    let e = resolve(&config("gym:NoSuchEnv-v0", serde_json::json!({})))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("gym:NoSuchEnv-v0") && e.contains("NoSuchEnv"),
        "{e}"
    );
    let e = resolve(&config(&envs_py("Missing"), serde_json::json!({})))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("has no attribute `Missing`"), "{e}");
    let e = resolve(&config("py:/nonexistent/x.py:A", serde_json::json!({})))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("no such file /nonexistent/x.py"), "{e}");
    assert!(Source::parse("py:module_without_class").unwrap().is_err());
    assert!(Source::parse("gym:").unwrap().is_err());
    assert!(Source::parse("CartPole-v1").is_none());
}

#[test]
fn out_of_range_actions_never_reach_python() {
    let (spec, f) = make("gym:CartPole-v1");
    let mut env = f(0).unwrap();
    let mut obs = vec![0.0; spec.obs_dim()];
    env.reset(Some(0), &mut obs).unwrap();
    let e = env.step(&[2.0], &mut obs).unwrap_err().to_string();
    assert!(e.contains("not in the action space"), "{e}");
}
