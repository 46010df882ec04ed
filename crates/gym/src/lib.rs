//! # mirrorflow-gym
//!
//! Gymnasium environments, and any Python class that follows the gymnasium API, as mirrorflow
//! [`Env`]s through an embedded CPython (pyo3; rule R6: this is the only crate that sees it).
//!
//! * `gym:CartPole-v1` — any id registered with gymnasium, `gymnasium.make(id, **kwargs)`;
//! * `py:path/to/file.py:ClassName` or `py:package.module:ClassName` — your own class, built as
//!   `ClassName(**kwargs)`.
//!
//! Spaces map to mirrorflow [`Space`]s: `Discrete` (with `start`), `Box` (dtype and bounds
//! kept), `MultiDiscrete`, `MultiBinary`; `Dict` and `Tuple` observations are flattened with
//! `gymnasium.spaces.flatten` (sub-spaces in the space's own order, `Discrete` one-hot, `Box`
//! row-major); anything else is an error naming the space. Seeds go through
//! `reset(seed=...)` on the first reset of each env, `terminated` and `truncated` stay apart,
//! and `render_mode="rgb_array"` frames reach the dashboard.
//!
//! All envs of a shard step in one call into Python ([`Env::batch`]): actions, observations,
//! rewards and flags cross as numpy buffers, never as per-element Python objects. A Python
//! exception becomes an [`EnvError`] with the env id, the call and the traceback; an
//! observation of the wrong shape or dtype, a non-bool flag or a missing return value is
//! reported as such (NaN/inf observations are caught by the shard).
//!
//! The interpreter starts only when a Python env is first built ([`interp`] says which
//! packages it sees: `MIRRORFLOW_PYTHON`, the project's `.venv/`, or `VIRTUAL_ENV`).
#![deny(missing_docs)]

pub mod interp;

use mirrorflow_core::env::check_action;
use mirrorflow_core::{
    BatchEnv, Dtype, Env, EnvError, EnvFactory, EnvSpec, Frame, Space, StepInfo,
};
use pyo3::buffer::PyBuffer;
use pyo3::prelude::*;
use serde::Deserialize;
use std::sync::Arc;
use thiserror::Error;

/// Failures before any env exists: the interpreter, the id, the spaces.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum GymError {
    /// The embedded interpreter or its packages could not be set up.
    #[error("Python: {0}")]
    Setup(String),
    /// The env id is malformed.
    #[error("env id `{id}`: {message}")]
    Id {
        /// The id as written.
        id: String,
        /// What is wrong and how to write it.
        message: String,
    },
    /// Building the env or reading its spaces failed.
    #[error("env `{id}`: {message}")]
    Make {
        /// The env id.
        id: String,
        /// What went wrong (with the Python traceback, if any).
        message: String,
    },
}

/// Where a Python env comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `gymnasium.make(id, **kwargs)`.
    Gym(String),
    /// `ClassName(**kwargs)` from `file.py:ClassName` or `package.module:ClassName`.
    Class(String),
}

impl Source {
    /// Parses `gym:<id>` or `py:<target>`; `None` when the id names no Python env.
    pub fn parse(id: &str) -> Option<Result<Source, GymError>> {
        let (kind, rest) = id.split_once(':')?;
        let bad = |m: &str| {
            Some(Err(GymError::Id {
                id: id.into(),
                message: m.into(),
            }))
        };
        match kind {
            "gym" if rest.is_empty() => {
                bad("write a gymnasium id after `gym:`, e.g. gym:CartPole-v1")
            }
            "gym" => Some(Ok(Source::Gym(rest.into()))),
            "py" if !rest.contains(':') => {
                bad("write `py:path/to/file.py:ClassName` or `py:package.module:ClassName`")
            }
            "py" => Some(Ok(Source::Class(rest.into()))),
            _ => None,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Source::Gym(_) => "gym",
            Source::Class(_) => "py",
        }
    }

    fn target(&self) -> &str {
        match self {
            Source::Gym(t) | Source::Class(t) => t,
        }
    }

    /// `gym:<id>` or `py:<target>`.
    pub fn id(&self) -> String {
        format!("{}:{}", self.kind(), self.target())
    }
}

/// A Python env recipe: the source, `kwargs` (a JSON object) and whether to render frames.
#[derive(Clone, Debug)]
pub struct PyEnvConfig {
    /// What to build.
    pub source: Source,
    /// Keyword arguments, as a JSON object (`{}` for none).
    pub kwargs: serde_json::Value,
    /// Build with `render_mode="rgb_array"` so frames can reach the dashboard.
    pub render: bool,
}

/// Builds one env to read its spec and returns it with a factory for the runtime.
pub fn resolve(cfg: &PyEnvConfig) -> Result<(EnvSpec, EnvFactory), GymError> {
    interp::ensure()?;
    let probe = PyShard::new(cfg, 1).map_err(|e| GymError::Make {
        id: cfg.source.id(),
        message: e,
    })?;
    let spec = probe.spec.clone();
    drop(probe);
    let cfg = Arc::new(cfg.clone());
    let factory: EnvFactory = Arc::new(move |_| {
        let shard = PyShard::new(&cfg, 1).map_err(|message| EnvError::Failed {
            env: cfg.source.id(),
            call: "make",
            message,
        })?;
        Ok(Box::new(PyEnv {
            shard,
            cfg: cfg.clone(),
        }) as Box<dyn Env>)
    });
    Ok((spec, factory))
}

/// The Python error as text: `Type: message` and, for the env's own exceptions, the traceback.
pub fn format_py_error(py: Python<'_>, e: &PyErr) -> String {
    let is_bridge = interp::bridge(py)
        .and_then(|m| m.getattr("BridgeError"))
        .map(|t| e.get_type(py).is(&t))
        .unwrap_or(false);
    if is_bridge {
        return e.value(py).to_string();
    }
    let formatted = py
        .import("traceback")
        .and_then(|tb| {
            tb.call_method1(
                "format_exception",
                (e.get_type(py), e.value(py), e.traceback(py)),
            )
        })
        .and_then(|lines| {
            let parts: Vec<String> = lines.extract()?;
            Ok(parts.concat())
        });
    match formatted {
        Ok(text) => format!("Python exception:\n{}", text.trim_end()),
        Err(_) => e.to_string(),
    }
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum SpaceDesc {
    Discrete {
        n: u64,
        start: i64,
    },
    Box {
        /// `None`: unbounded below.
        low: Vec<Option<f64>>,
        /// `None`: unbounded above.
        high: Vec<Option<f64>>,
        shape: Vec<usize>,
        dtype: String,
        #[serde(default)]
        #[allow(dead_code, reason = "documented in the JSON, not needed in Rust")]
        flattened_from: Option<String>,
    },
    MultiDiscrete {
        nvec: Vec<u64>,
    },
    MultiBinary {
        n: usize,
    },
}

#[derive(Deserialize)]
struct Spaces {
    observation: SpaceDesc,
    action: SpaceDesc,
    max_episode_steps: Option<u32>,
}

fn to_space(d: SpaceDesc) -> Space {
    match d {
        SpaceDesc::Discrete { n, start } => Space::Discrete { n, start },
        SpaceDesc::Box {
            low,
            high,
            shape,
            dtype,
            ..
        } => Space::Box {
            low: low
                .into_iter()
                .map(|x| x.map_or(f32::NEG_INFINITY, |v| v as f32))
                .collect(),
            high: high
                .into_iter()
                .map(|x| x.map_or(f32::INFINITY, |v| v as f32))
                .collect(),
            shape,
            dtype: match dtype.as_str() {
                "float64" => Dtype::Float64,
                "uint8" => Dtype::Uint8,
                d if d.starts_with("int") || d.starts_with("uint") => Dtype::Int64,
                _ => Dtype::Float32,
            },
        },
        SpaceDesc::MultiDiscrete { nvec } => Space::MultiDiscrete { nvec },
        SpaceDesc::MultiBinary { n } => Space::MultiBinary { n },
    }
}

/// The Python `Shard` object and its numpy buffers, seen from Rust.
struct PyShard {
    obj: Py<PyAny>,
    actions: PyBuffer<f32>,
    next: PyBuffer<f32>,
    reset_obs: PyBuffer<f32>,
    infos: PyBuffer<f64>,
    spec: EnvSpec,
    count: usize,
    scratch: Vec<f64>,
}

impl PyShard {
    fn new(cfg: &PyEnvConfig, count: usize) -> Result<Self, String> {
        interp::ensure().map_err(|e| e.to_string())?;
        Python::attach(|py| {
            let err = |e: PyErr| format_py_error(py, &e);
            let bridge = interp::bridge(py).map_err(err)?;
            let obj = bridge
                .getattr("Shard")
                .and_then(|cls| {
                    cls.call1((
                        cfg.source.kind(),
                        cfg.source.target(),
                        cfg.kwargs.to_string(),
                        count,
                        cfg.render,
                    ))
                })
                .map_err(err)?;
            let json: String = obj
                .call_method0("spaces_json")
                .and_then(|j| j.extract())
                .map_err(err)?;
            let spaces: Spaces = serde_json::from_str(&json)
                .map_err(|e| format!("reading the spaces ({json}): {e}"))?;
            let mut spec = EnvSpec::new(
                cfg.source.id(),
                to_space(spaces.observation),
                to_space(spaces.action),
            );
            if let Some(n) = spaces.max_episode_steps {
                spec = spec.with_max_episode_steps(n);
            }
            let buf_f32 = |name: &str| {
                obj.getattr(name)
                    .and_then(|b| PyBuffer::<f32>::get(&b))
                    .map_err(err)
            };
            let infos = obj
                .getattr("infos")
                .and_then(|b| PyBuffer::<f64>::get(&b))
                .map_err(err)?;
            Ok(PyShard {
                actions: buf_f32("actions")?,
                next: buf_f32("next")?,
                reset_obs: buf_f32("reset_obs")?,
                infos,
                scratch: vec![0.0; 3 * count],
                obj: obj.unbind(),
                spec,
                count,
            })
        })
    }

    fn fail(&self, call: &'static str, message: String) -> EnvError {
        EnvError::Failed {
            env: self.spec.id.clone(),
            call,
            message,
        }
    }

    /// Calls a method of the Python shard; Python errors become [`EnvError`]s.
    fn call(
        &self,
        py: Python<'_>,
        call: &'static str,
        method: &str,
        args: impl for<'py> pyo3::call::PyCallArgs<'py>,
    ) -> Result<Py<PyAny>, EnvError> {
        self.obj
            .bind(py)
            .call_method1(method, args)
            .map(Bound::unbind)
            .map_err(|e| self.fail(call, format_py_error(py, &e)))
    }

    fn read_infos(&mut self, py: Python<'_>, infos: &mut [StepInfo]) -> Result<(), EnvError> {
        self.infos
            .copy_to_slice(py, &mut self.scratch)
            .map_err(|e| self.fail("step", e.to_string()))?;
        for (i, info) in infos.iter_mut().enumerate().take(self.count) {
            *info = StepInfo {
                reward: self.scratch[3 * i],
                terminated: self.scratch[3 * i + 1] != 0.0,
                truncated: self.scratch[3 * i + 2] != 0.0,
            };
        }
        Ok(())
    }

    fn render(&self, i: usize) -> Option<Frame> {
        Python::attach(|py| {
            let out = self.obj.bind(py).call_method1("render", (i,)).ok()?;
            let (width, height, rgb): (u32, u32, Vec<u8>) = out.extract().ok()?;
            Some(Frame { width, height, rgb })
        })
    }
}

impl Drop for PyShard {
    fn drop(&mut self) {
        Python::attach(|py| {
            let _ = self.obj.bind(py).call_method0("close");
        });
    }
}

/// One Python env (evaluation, conformance checks); shards step many through [`PyBatch`].
struct PyEnv {
    shard: PyShard,
    cfg: Arc<PyEnvConfig>,
}

impl Env for PyEnv {
    fn spec(&self) -> &EnvSpec {
        &self.shard.spec
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Result<(), EnvError> {
        let s = &self.shard;
        Python::attach(|py| {
            let seed = seed.map_or(-1i128, i128::from);
            s.call(py, "reset", "reset_one", (0usize, seed))?;
            s.next
                .copy_to_slice(py, obs)
                .map_err(|e| s.fail("reset", e.to_string()))
        })
    }

    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> Result<StepInfo, EnvError> {
        let s = &mut self.shard;
        check_action(&s.spec, action)?;
        Python::attach(|py| {
            s.actions
                .copy_from_slice(py, action)
                .map_err(|e| s.fail("step", format!("action {action:?}: {e}")))?;
            s.call(py, "step", "step_all", (false,))?;
            s.next
                .copy_to_slice(py, obs)
                .map_err(|e| s.fail("step", e.to_string()))?;
            let mut info = [StepInfo::default()];
            s.read_infos(py, &mut info)?;
            Ok(info[0])
        })
    }

    fn render_rgb(&mut self) -> Option<Frame> {
        self.shard.render(0)
    }

    fn batch(&self, count: usize) -> Option<Result<Box<dyn BatchEnv>, EnvError>> {
        Some(
            PyShard::new(&self.cfg, count)
                .map(|shard| Box::new(PyBatch { shard }) as Box<dyn BatchEnv>)
                .map_err(|message| EnvError::Failed {
                    env: self.cfg.source.id(),
                    call: "make",
                    message,
                }),
        )
    }
}

/// All envs of a shard, stepped in one call into Python.
struct PyBatch {
    shard: PyShard,
}

impl BatchEnv for PyBatch {
    fn spec(&self) -> &EnvSpec {
        &self.shard.spec
    }

    fn num_envs(&self) -> usize {
        self.shard.count
    }

    fn reset_all(&mut self, seeds: &[u64], obs: &mut [f32]) -> Result<(), EnvError> {
        let s = &self.shard;
        Python::attach(|py| {
            s.call(py, "reset", "reset_all", (seeds.to_vec(),))?;
            s.next
                .copy_to_slice(py, obs)
                .map_err(|e| s.fail("reset", e.to_string()))
        })
    }

    fn step_all(
        &mut self,
        actions: &[f32],
        next: &mut [f32],
        reset_obs: &mut [f32],
        infos: &mut [StepInfo],
    ) -> Result<(), EnvError> {
        let s = &mut self.shard;
        for row in actions.chunks(s.spec.act_dim().max(1)) {
            check_action(&s.spec, row)?;
        }
        Python::attach(|py| {
            s.actions
                .copy_from_slice(py, actions)
                .map_err(|e| s.fail("step", e.to_string()))?;
            s.call(py, "step", "step_all", (true,))?;
            s.next
                .copy_to_slice(py, next)
                .map_err(|e| s.fail("step", e.to_string()))?;
            s.read_infos(py, infos)?;
            if infos.iter().any(StepInfo::done) {
                s.reset_obs
                    .copy_to_slice(py, reset_obs)
                    .map_err(|e| s.fail("reset", e.to_string()))?;
            }
            Ok(())
        })
    }

    fn render_rgb(&mut self, i: usize) -> Option<Frame> {
        self.shard.render(i)
    }
}
