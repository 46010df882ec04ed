//! Acrobot-v1 (Sutton 1996; "book" dynamics), as gymnasium's `acrobot.py`: swing the tip of a
//! two-link chain above the bar by torquing the middle joint. −1 per step, 0 on the terminating
//! step; one step is an RK4 integration over `dt = 0.2`; truncated at 500 steps.

use crate::Episode;
use mirrorflow_core::env::{check_action, check_obs_len};
use mirrorflow_core::{Env, EnvError, EnvSpec, Rng, Space, StepInfo};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

const DT: f64 = 0.2;
const LINK_LENGTH_1: f64 = 1.0;
const LINK_LENGTH_2: f64 = 1.0; // gymnasium: drawing only
const LINK_MASS_1: f64 = 1.0;
const LINK_MASS_2: f64 = 1.0;
const LINK_COM_POS_1: f64 = 0.5;
const LINK_COM_POS_2: f64 = 0.5;
const LINK_MOI: f64 = 1.0;
const MAX_VEL_1: f64 = 4.0 * PI;
const MAX_VEL_2: f64 = 9.0 * PI;
const AVAIL_TORQUE: [f64; 3] = [-1.0, 0.0, 1.0];

/// Parameters of `Acrobot-v1`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AcrobotConfig {
    /// Time limit in steps (gymnasium: 500).
    pub max_episode_steps: u32,
}

impl Default for AcrobotConfig {
    fn default() -> Self {
        Self {
            max_episode_steps: 500,
        }
    }
}

/// The acrobot swing-up task.
#[derive(Clone, Debug)]
pub struct Acrobot {
    spec: EnvSpec,
    state: [f64; 4],
    rng: Rng,
    episode: Episode,
}

fn wrap(mut x: f64, m: f64, big_m: f64) -> f64 {
    let diff = big_m - m;
    while x > big_m {
        x -= diff;
    }
    while x < m {
        x += diff;
    }
    x
}

/// Time derivative of `(θ1, θ2, θ̇1, θ̇2)` under torque `a` ("book" dynamics).
fn dsdt(s: [f64; 4], a: f64) -> [f64; 4] {
    let (m1, m2, l1, lc1, lc2, i1, i2, g) = (
        LINK_MASS_1,
        LINK_MASS_2,
        LINK_LENGTH_1,
        LINK_COM_POS_1,
        LINK_COM_POS_2,
        LINK_MOI,
        LINK_MOI,
        9.8,
    );
    let [theta1, theta2, dtheta1, dtheta2] = s;
    let d1 = m1 * lc1.powi(2)
        + m2 * (l1.powi(2) + lc2.powi(2) + 2.0 * l1 * lc2 * theta2.cos())
        + i1
        + i2;
    let d2 = m2 * (lc2.powi(2) + l1 * lc2 * theta2.cos()) + i2;
    let phi2 = m2 * lc2 * g * (theta1 + theta2 - PI / 2.0).cos();
    let phi1 = -m2 * l1 * lc2 * dtheta2.powi(2) * theta2.sin()
        - 2.0 * m2 * l1 * lc2 * dtheta2 * dtheta1 * theta2.sin()
        + (m1 * lc1 + m2 * l1) * g * (theta1 - PI / 2.0).cos()
        + phi2;
    let ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1.powi(2) * theta2.sin() - phi2)
        / (m2 * lc2.powi(2) + i2 - d2.powi(2) / d1);
    let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    [dtheta1, dtheta2, ddtheta1, ddtheta2]
}

/// One classical RK4 step of length `dt` (gymnasium's `rk4` over `[0, dt]`).
fn rk4(y0: [f64; 4], a: f64, dt: f64) -> [f64; 4] {
    let dt2 = dt / 2.0;
    let add = |y: [f64; 4], k: [f64; 4], h: f64| {
        [
            y[0] + h * k[0],
            y[1] + h * k[1],
            y[2] + h * k[2],
            y[3] + h * k[3],
        ]
    };
    let k1 = dsdt(y0, a);
    let k2 = dsdt(add(y0, k1, dt2), a);
    let k3 = dsdt(add(y0, k2, dt2), a);
    let k4 = dsdt(add(y0, k3, dt), a);
    let mut out = [0.0; 4];
    for i in 0..4 {
        out[i] = y0[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
    }
    out
}

impl Acrobot {
    /// A new env; call `reset` before stepping.
    pub fn new(cfg: AcrobotConfig) -> Self {
        let high = [1.0, 1.0, 1.0, 1.0, MAX_VEL_1 as f32, MAX_VEL_2 as f32];
        let spec = EnvSpec::new(
            "Acrobot-v1",
            Space::boxed(high.iter().map(|h| -h).collect(), high.to_vec()),
            Space::discrete(3),
        )
        .with_max_episode_steps(cfg.max_episode_steps);
        Self {
            spec: EnvSpec {
                render_fps: Some(15),
                ..spec
            },
            state: [0.0; 4],
            rng: Rng::seed_from(0),
            episode: Episode::new(cfg.max_episode_steps),
        }
    }

    fn write_obs(&self, obs: &mut [f32]) {
        let s = self.state;
        let v = [s[0].cos(), s[0].sin(), s[1].cos(), s[1].sin(), s[2], s[3]];
        for (o, x) in obs.iter_mut().zip(v) {
            *o = x as f32;
        }
    }
}

impl Default for Acrobot {
    fn default() -> Self {
        Self::new(AcrobotConfig::default())
    }
}

impl Env for Acrobot {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn render_rgb(&mut self) -> Option<mirrorflow_core::Frame> {
        Some(crate::render::acrobot(
            self.state[0],
            self.state[1],
            LINK_LENGTH_1,
            LINK_LENGTH_2,
        ))
    }

    fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Result<(), EnvError> {
        check_obs_len(&self.spec, obs)?;
        if let Some(s) = seed {
            self.rng = Rng::seed_from(s);
        }
        for v in &mut self.state {
            *v = self.rng.uniform(-0.1, 0.1) as f32 as f64; // gymnasium casts the start to float32
        }
        self.episode.begin();
        self.write_obs(obs);
        Ok(())
    }

    fn step(&mut self, action: &[f32], obs: &mut [f32]) -> Result<StepInfo, EnvError> {
        check_obs_len(&self.spec, obs)?;
        check_action(&self.spec, action)?;
        self.episode.check(&self.spec)?;
        let torque = AVAIL_TORQUE[action[0] as usize];
        let mut ns = rk4(self.state, torque, DT);
        ns[0] = wrap(ns[0], -PI, PI);
        ns[1] = wrap(ns[1], -PI, PI);
        ns[2] = ns[2].clamp(-MAX_VEL_1, MAX_VEL_1);
        ns[3] = ns[3].clamp(-MAX_VEL_2, MAX_VEL_2);
        self.state = ns;
        let terminated = -ns[0].cos() - (ns[1] + ns[0]).cos() > 1.0;
        self.write_obs(obs);
        Ok(self
            .episode
            .finish(if terminated { 0.0 } else { -1.0 }, terminated))
    }

    crate::checkpoint_methods!();
}

crate::physical_state!(Acrobot, 4);
