//! [`EnvShard`]: several envs stepped together with auto-reset; the unit of placement.

use crate::batch::{EpisodeStat, TransitionBatch};
use crate::codec::{Reader, Writer};
use crate::env::{Env, EnvFactory, EnvSpec, Frame};
use crate::error::EnvError;
use crate::policy::{ActMode, Policy};
use crate::rng::{Rng, SeedStream};

/// Which frames an [`EnvShard`] renders for dashboards: env 0 of the shard, one episode in
/// `every_episodes` (and at most one episode per `min_gap_secs` of wall time), every `stride`-th
/// step of it, at most `max_frames` frames per episode. Rendering never touches the envs' or the
/// policy's randomness, so capturing frames does not change a run's transitions.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FrameCapture {
    /// Record one episode in this many (≥ 1).
    pub every_episodes: u32,
    /// Render every `stride`-th step of a recorded episode (≥ 1).
    pub stride: u32,
    /// At most this many frames per recorded episode.
    pub max_frames: u32,
    /// At least this much wall time between the starts of two recorded episodes.
    pub min_gap_secs: f64,
}

struct Capture {
    cfg: FrameCapture,
    episodes: u64,
    recording: bool,
    taken: u32,
    last_start: Option<std::time::Instant>,
    frames: Vec<(u64, Frame)>,
}

impl Capture {
    /// Decides whether the episode that starts now is recorded.
    fn episode_starts(&mut self) {
        let due = self
            .episodes
            .is_multiple_of(self.cfg.every_episodes.max(1) as u64)
            && self
                .last_start
                .is_none_or(|t| t.elapsed().as_secs_f64() >= self.cfg.min_gap_secs);
        self.recording = due;
        self.taken = 0;
        if due {
            self.last_start = Some(std::time::Instant::now());
        }
    }

    fn maybe_render(&mut self, env: &mut dyn Env, ep_len: u32, steps: u64) {
        if self.recording
            && self.taken < self.cfg.max_frames
            && ep_len.is_multiple_of(self.cfg.stride.max(1))
        {
            if let Some(f) = env.render_rgb() {
                self.frames.push((steps, f));
                self.taken += 1;
            } else {
                self.recording = false;
            }
        }
    }
}

/// A contiguous range of global env indices `first..first + n`, owned by one worker.
///
/// Each env is seeded from `(run seed, global index)` on its first reset and then continues its
/// own stream; acting randomness also comes from a per-env stream. A shard therefore produces the
/// same transitions for env `i` whichever worker owns it.
pub struct EnvShard {
    spec: EnvSpec,
    envs: Vec<Box<dyn Env>>,
    first: u64,
    obs: Vec<f32>,
    act: Vec<f32>,
    next: Vec<f32>,
    rngs: Vec<Rng>,
    ep_return: Vec<f64>,
    ep_len: Vec<u32>,
    steps: u64,
    capture: Option<Capture>,
}

impl EnvShard {
    /// Builds envs `first..first + count` with `factory` and resets each with its seed.
    pub fn new(
        factory: &EnvFactory,
        first: u64,
        count: usize,
        seeds: SeedStream,
    ) -> Result<Self, EnvError> {
        let mut envs = Vec::with_capacity(count);
        for i in 0..count as u64 {
            envs.push(factory(first + i)?);
        }
        let spec = match envs.first() {
            Some(e) => e.spec().clone(),
            None => {
                return Err(EnvError::Failed {
                    env: "<none>".into(),
                    call: "shard",
                    message: "a shard needs at least one env".into(),
                });
            }
        };
        let od = spec.obs_dim();
        let mut obs = vec![0.0; count * od];
        for (i, env) in envs.iter_mut().enumerate() {
            env.reset(
                Some(seeds.env(first + i as u64)),
                &mut obs[i * od..(i + 1) * od],
            )?;
            check_finite(&spec, &obs[i * od..(i + 1) * od], "reset")?;
        }
        let rngs = (0..count as u64)
            .map(|i| Rng::seed_from(seeds.policy(first + i)))
            .collect();
        Ok(Self {
            act: vec![0.0; count * spec.act_dim()],
            next: vec![0.0; od],
            spec,
            envs,
            first,
            obs,
            rngs,
            ep_return: vec![0.0; count],
            ep_len: vec![0; count],
            steps: 0,
            capture: None,
        })
    }

    /// The envs' spec.
    pub fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    /// Number of envs.
    pub fn num_envs(&self) -> usize {
        self.envs.len()
    }

    /// Global index of the first env.
    pub fn first_env(&self) -> u64 {
        self.first
    }

    /// Starts rendering frames of env 0 (see [`FrameCapture`]); collect them with
    /// [`EnvShard::take_frames`]. Envs that do not render yield no frames.
    pub fn capture_frames(&mut self, cfg: FrameCapture) {
        let mut c = Capture {
            cfg,
            episodes: 0,
            recording: false,
            taken: 0,
            last_start: None,
            frames: Vec::new(),
        };
        c.episode_starts();
        let len = self.ep_len[0];
        c.maybe_render(self.envs[0].as_mut(), len, self.steps);
        self.capture = Some(c);
    }

    /// Frames rendered since the last call, each with this shard's step count when it was taken.
    pub fn take_frames(&mut self) -> Vec<(u64, Frame)> {
        self.capture
            .as_mut()
            .map(|c| std::mem::take(&mut c.frames))
            .unwrap_or_default()
    }

    /// Env steps taken by this shard so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The shard's complete state (every env's state, current observations, acting RNGs,
    /// episode accumulators) for checkpoints; `None` if an env cannot save its state.
    pub fn save_state(&self) -> Option<Vec<u8>> {
        let mut w = Writer::new();
        w.u64(self.first)
            .u64(self.envs.len() as u64)
            .u64(self.steps);
        for env in &self.envs {
            w.bytes(&env.save_state()?);
        }
        w.f32s(&self.obs);
        for r in &self.rngs {
            w.rng(r);
        }
        w.f64s(&self.ep_return);
        for &l in &self.ep_len {
            w.u64(l as u64);
        }
        Some(w.bytes)
    }

    /// Restores [`EnvShard::save_state`] into a shard built for the same env range.
    pub fn load_state(&mut self, bytes: &[u8]) -> Result<(), EnvError> {
        let bad = |m: String| EnvError::Failed {
            env: self.spec.id.clone(),
            call: "load_state",
            message: m,
        };
        let mut r = Reader::new(bytes);
        let e = |x: crate::Error| x.to_string();
        let (first, n, steps) = (
            r.u64().map_err(|x| bad(e(x)))?,
            r.u64().map_err(|x| bad(e(x)))?,
            r.u64().map_err(|x| bad(e(x)))?,
        );
        if first != self.first || n as usize != self.envs.len() {
            return Err(bad(format!(
                "checkpoint is for envs {first}..{}, this shard holds {}..{}",
                first + n,
                self.first,
                self.first + self.envs.len() as u64
            )));
        }
        for env in &mut self.envs {
            let b = r.bytes().map_err(|x| bad(e(x)))?;
            env.load_state(b)?;
        }
        let obs = r.f32s().map_err(|x| bad(e(x)))?;
        if obs.len() != self.obs.len() {
            return Err(bad("observation buffer size differs".into()));
        }
        self.obs = obs;
        for rng in &mut self.rngs {
            *rng = r.rng().map_err(|x| bad(e(x)))?;
        }
        let ret = r.f64s().map_err(|x| bad(e(x)))?;
        if ret.len() != self.ep_return.len() {
            return Err(bad("episode accumulators differ".into()));
        }
        self.ep_return = ret;
        for l in &mut self.ep_len {
            *l = r.u64().map_err(|x| bad(e(x)))? as u32;
        }
        self.steps = steps;
        Ok(())
    }

    /// Steps every env `steps_per_env` times with `policy`, appending rows to `batch` in
    /// (step, env) order. Finished episodes are reset automatically; the row of the last step
    /// keeps the final observation in `next_obs`.
    pub fn rollout(
        &mut self,
        policy: &mut dyn Policy,
        mode: ActMode,
        steps_per_env: usize,
        batch: &mut TransitionBatch,
    ) -> Result<(), EnvError> {
        let od = self.spec.obs_dim();
        let ad = self.spec.act_dim();
        batch.obs_dim = od;
        batch.act_dim = ad;
        batch.policy_version = policy.version();
        for _ in 0..steps_per_env {
            for i in 0..self.envs.len() {
                let o = &self.obs[i * od..(i + 1) * od];
                let a = &mut self.act[i * ad..(i + 1) * ad];
                policy.act(o, &mut self.rngs[i], mode, a);
                let info = self.envs[i].step(a, &mut self.next)?;
                check_finite(&self.spec, &self.next, "step")?;
                if !info.reward.is_finite() {
                    return Err(EnvError::NonFinite {
                        env: self.spec.id.clone(),
                        what: "reward".into(),
                        value: info.reward,
                        call: "step",
                    });
                }
                let id = (self.first + i as u64) as u32;
                batch.env_ids.push(id);
                batch.obs.extend_from_slice(o);
                batch.actions.extend_from_slice(a);
                batch.rewards.push(info.reward as f32);
                batch.next_obs.extend_from_slice(&self.next);
                batch.terminated.push(info.terminated as u8);
                batch.truncated.push(info.truncated as u8);
                self.ep_return[i] += info.reward;
                self.ep_len[i] += 1;
                self.steps += 1;
                if i == 0
                    && let Some(c) = self.capture.as_mut()
                {
                    c.maybe_render(self.envs[0].as_mut(), self.ep_len[0], self.steps);
                    if info.done() {
                        c.episodes += 1;
                        c.episode_starts();
                    }
                }
                if info.done() {
                    batch.episodes.push(EpisodeStat {
                        env_id: id,
                        episode_return: self.ep_return[i],
                        length: self.ep_len[i],
                    });
                    self.ep_return[i] = 0.0;
                    self.ep_len[i] = 0;
                    self.envs[i].reset(None, &mut self.obs[i * od..(i + 1) * od])?;
                    check_finite(&self.spec, &self.obs[i * od..(i + 1) * od], "reset")?;
                    if i == 0
                        && let Some(c) = self.capture.as_mut()
                    {
                        c.maybe_render(self.envs[0].as_mut(), 0, self.steps);
                    }
                } else {
                    self.obs[i * od..(i + 1) * od].copy_from_slice(&self.next);
                }
            }
        }
        Ok(())
    }
}

fn check_finite(spec: &EnvSpec, obs: &[f32], call: &'static str) -> Result<(), EnvError> {
    match obs.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(k) => Err(EnvError::NonFinite {
            env: spec.id.clone(),
            what: format!("observation[{k}]"),
            value: obs[k] as f64,
            call,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::StepInfo;
    use crate::policy::RandomPolicy;
    use crate::space::Space;
    use std::sync::Arc;

    /// Counts up; terminates at 3, truncates at 5 (never reached) — or emits NaN when asked.
    struct Counter {
        spec: EnvSpec,
        x: f32,
        nan_at: Option<f32>,
    }
    impl Env for Counter {
        fn spec(&self) -> &EnvSpec {
            &self.spec
        }
        fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Result<(), EnvError> {
            self.x = seed.map_or(0.0, |s| (s % 2) as f32 * 0.0);
            obs[0] = self.x;
            Ok(())
        }
        fn step(&mut self, _a: &[f32], obs: &mut [f32]) -> Result<StepInfo, EnvError> {
            self.x += 1.0;
            obs[0] = if Some(self.x) == self.nan_at {
                f32::NAN
            } else {
                self.x
            };
            Ok(StepInfo {
                reward: 1.0,
                terminated: self.x >= 3.0,
                truncated: false,
            })
        }
        fn render_rgb(&mut self) -> Option<Frame> {
            Some(Frame {
                width: 1,
                height: 1,
                rgb: vec![self.x as u8; 3],
            })
        }
    }

    fn factory(nan_at: Option<f32>) -> EnvFactory {
        Arc::new(move |_| {
            Ok(Box::new(Counter {
                spec: EnvSpec::new(
                    "Counter",
                    Space::boxed(vec![0.0], vec![9.0]),
                    Space::discrete(2),
                ),
                x: 0.0,
                nan_at,
            }) as Box<dyn Env>)
        })
    }

    #[test]
    fn auto_reset_keeps_final_observation() {
        let mut shard = EnvShard::new(&factory(None), 10, 2, SeedStream::new(0)).unwrap();
        let mut pol = RandomPolicy::new(Space::discrete(2));
        let mut b = TransitionBatch::default();
        shard
            .rollout(&mut pol, ActMode::Explore, 4, &mut b)
            .unwrap();
        assert_eq!(b.len(), 8);
        assert_eq!(b.env_ids[..2], [10, 11]);
        // step 3 of env 10 (row 4) terminated with final obs 3; next row starts from reset obs 0
        assert_eq!(b.next_obs_row(4), &[3.0]);
        assert_eq!(b.terminated[4], 1);
        assert_eq!(b.obs_row(6), &[0.0]);
        assert_eq!(b.episodes.len(), 2);
        assert_eq!(b.episodes[0].length, 3);
    }

    #[test]
    fn nan_observation_is_an_error() {
        let mut shard = EnvShard::new(&factory(Some(2.0)), 0, 1, SeedStream::new(0)).unwrap();
        let mut pol = RandomPolicy::new(Space::discrete(2));
        let mut b = TransitionBatch::default();
        let err = shard
            .rollout(&mut pol, ActMode::Explore, 3, &mut b)
            .unwrap_err();
        assert!(
            err.to_string().contains("observation[0] is not finite"),
            "{err}"
        );
    }

    #[test]
    fn frames_come_from_every_nth_episode_without_changing_transitions() {
        let mut plain = EnvShard::new(&factory(None), 0, 2, SeedStream::new(3)).unwrap();
        let mut filmed = EnvShard::new(&factory(None), 0, 2, SeedStream::new(3)).unwrap();
        filmed.capture_frames(FrameCapture {
            every_episodes: 2,
            stride: 1,
            max_frames: 10,
            min_gap_secs: 0.0,
        });
        let mut pol = RandomPolicy::new(Space::discrete(2));
        let (mut a, mut b) = (TransitionBatch::default(), TransitionBatch::default());
        plain
            .rollout(&mut pol, ActMode::Explore, 12, &mut a)
            .unwrap();
        let mut pol = RandomPolicy::new(Space::discrete(2));
        filmed
            .rollout(&mut pol, ActMode::Explore, 12, &mut b)
            .unwrap();
        assert_eq!(a.actions, b.actions);
        assert_eq!(a.obs, b.obs);
        // episodes of env 0 are 3 steps long: episodes 0 and 2 of the 4 are filmed, 4 frames
        // each (the reset state and the three steps), then the reset state of episode 4
        let frames = filmed.take_frames();
        let xs: Vec<u8> = frames.iter().map(|(_, f)| f.rgb[0]).collect();
        assert_eq!(xs, [0, 1, 2, 3, 0, 1, 2, 3, 0]);
        assert!(frames.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(filmed.take_frames().is_empty());
    }
}
