//! # mirrorflow-env-example
//!
//! A complete example of a Rust environment: **Catch** (bsuite, Osband et al. 2020). A ball
//! starts in a random column of the top row and falls one row per step; the agent moves a
//! paddle along the bottom row (left, stay, right). When the ball reaches the bottom row the
//! episode ends with reward +1 if the paddle is under it and −1 otherwise.
//!
//! Everything an env needs is here, in the order to write it:
//! 1. a config struct with serde defaults (`[env]` keys in TOML; unknown keys are errors);
//! 2. the [`EnvSpec`]: observation and action [`Space`]s, the time limit;
//! 3. [`Env::reset`] (seed the env's own [`Rng`] when a seed is given) and [`Env::step`]
//!    (check the action, write the observation into the caller's buffer, report
//!    terminated/truncated apart);
//! 4. optionally [`Env::render_rgb`] (dashboard frames) and [`Env::save_state`] /
//!    [`Env::load_state`] (exact resume from checkpoints).
//!
//! Registering it is one entry in `crates/cli/src/registry.rs` (see this crate's README), and
//! `mirrorflow_testkit::check_env` is the conformance suite every env passes.
#![deny(missing_docs)]

use mirrorflow_core::codec::{Reader, Writer};
use mirrorflow_core::env::check_action;
use mirrorflow_core::{Env, EnvError, EnvSpec, Frame, Rng, Space, StepInfo};
use serde::{Deserialize, Serialize};

/// `[env]` parameters of Catch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatchConfig {
    /// Rows of the board (the ball falls `rows − 1` steps); ≥ 2.
    pub rows: u32,
    /// Columns of the board; ≥ 1.
    pub columns: u32,
}

impl Default for CatchConfig {
    fn default() -> Self {
        Self {
            rows: 10,
            columns: 5,
        }
    }
}

/// The Catch environment.
pub struct Catch {
    cfg: CatchConfig,
    spec: EnvSpec,
    rng: Rng,
    ball: (u32, u32),
    paddle: u32,
    /// `false` before the first reset and after an episode ended.
    live: bool,
}

impl Catch {
    /// A board from `cfg` (sizes are clamped to the minimum: 2 rows, 1 column).
    pub fn new(cfg: CatchConfig) -> Self {
        let cfg = CatchConfig {
            rows: cfg.rows.max(2),
            columns: cfg.columns.max(1),
        };
        // observation: ball row, ball column, paddle column, each scaled to [0, 1]
        let spec = EnvSpec::new(
            "Catch-v0",
            Space::boxed(vec![0.0; 3], vec![1.0; 3]),
            Space::discrete(3),
        )
        .with_max_episode_steps(cfg.rows - 1);
        Self {
            cfg,
            spec,
            rng: Rng::seed_from(0),
            ball: (0, 0),
            paddle: 0,
            live: false,
        }
    }

    fn observe(&self, obs: &mut [f32]) {
        let (r, c) = (self.cfg.rows - 1, (self.cfg.columns - 1).max(1));
        obs[0] = self.ball.0 as f32 / r as f32;
        obs[1] = self.ball.1 as f32 / c as f32;
        obs[2] = self.paddle as f32 / c as f32;
    }
}

impl Default for Catch {
    fn default() -> Self {
        Self::new(CatchConfig::default())
    }
}

impl Env for Catch {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Result<(), EnvError> {
        mirrorflow_core::env::check_obs_len(&self.spec, obs)?;
        if let Some(s) = seed {
            self.rng = Rng::seed_from(s);
        }
        let cols = self.cfg.columns as u64;
        self.ball = (0, self.rng.below(cols) as u32);
        self.paddle = self.rng.below(cols) as u32;
        self.live = true;
        self.observe(obs);
        Ok(())
    }

    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> Result<StepInfo, EnvError> {
        if !self.live {
            return Err(EnvError::NeedsReset {
                env: self.spec.id.clone(),
                when: "before the first reset or after the episode ended",
            });
        }
        check_action(&self.spec, action)?;
        // 0 = left, 1 = stay, 2 = right
        let moved = self.paddle as i64 + action[0] as i64 - 1;
        self.paddle = moved.clamp(0, self.cfg.columns as i64 - 1) as u32;
        self.ball.0 += 1;
        self.observe(obs);
        let landed = self.ball.0 == self.cfg.rows - 1;
        self.live = !landed;
        let reward = match (landed, self.ball.1 == self.paddle) {
            (false, _) => 0.0,
            (true, true) => 1.0,
            (true, false) => -1.0,
        };
        Ok(StepInfo {
            reward,
            terminated: landed,
            truncated: false,
        })
    }

    fn render_rgb(&mut self) -> Option<Frame> {
        const CELL: u32 = 8;
        let (w, h) = (self.cfg.columns * CELL, self.cfg.rows * CELL);
        let mut rgb = vec![0u8; (w * h * 3) as usize];
        let mut fill = |row: u32, col: u32, color: [u8; 3]| {
            for y in row * CELL..(row + 1) * CELL {
                for x in col * CELL..(col + 1) * CELL {
                    let k = ((y * w + x) * 3) as usize;
                    rgb[k..k + 3].copy_from_slice(&color);
                }
            }
        };
        fill(self.ball.0, self.ball.1, [230, 80, 60]);
        fill(self.cfg.rows - 1, self.paddle, [90, 160, 230]);
        Some(Frame {
            width: w,
            height: h,
            rgb,
        })
    }

    fn save_state(&self) -> Option<Vec<u8>> {
        let mut w = Writer::new();
        w.rng(&self.rng)
            .u64(self.ball.0 as u64)
            .u64(self.ball.1 as u64)
            .u64(self.paddle as u64)
            .u64(self.live as u64);
        Some(w.bytes)
    }

    fn load_state(&mut self, state: &[u8]) -> Result<(), EnvError> {
        let bad = |e: mirrorflow_core::Error| EnvError::Failed {
            env: self.spec.id.clone(),
            call: "load_state",
            message: e.to_string(),
        };
        let mut r = Reader::new(state);
        let rng = r.rng().map_err(bad)?;
        let vals: Vec<u64> = (0..4)
            .map(|_| r.u64())
            .collect::<Result<_, _>>()
            .map_err(bad)?;
        if vals[0] >= self.cfg.rows as u64 || vals[1] >= self.cfg.columns as u64 {
            return Err(EnvError::Failed {
                env: self.spec.id.clone(),
                call: "load_state",
                message: format!(
                    "the ball at {vals:?} is off a {}×{} board",
                    self.cfg.rows, self.cfg.columns
                ),
            });
        }
        self.rng = rng;
        self.ball = (vals[0] as u32, vals[1] as u32);
        self.paddle = (vals[2] as u32).min(self.cfg.columns - 1);
        self.live = vals[3] != 0;
        Ok(())
    }
}
