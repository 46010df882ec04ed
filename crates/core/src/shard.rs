//! [`EnvShard`]: several envs stepped together with auto-reset; the unit of placement.

use crate::batch::{EpisodeStat, TransitionBatch};
use crate::codec::{Reader, Writer};
use crate::env::{BatchEnv, Env, EnvFactory, EnvSpec, Frame, StepInfo};
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

    fn maybe_render(&mut self, render: impl FnOnce() -> Option<Frame>, ep_len: u32, steps: u64) {
        if self.recording
            && self.taken < self.cfg.max_frames
            && ep_len.is_multiple_of(self.cfg.stride.max(1))
        {
            if let Some(f) = render() {
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
    /// The envs when they step one by one (empty when `batch` steps them).
    envs: Vec<Box<dyn Env>>,
    /// The envs when they step together ([`Env::batch`]).
    batch: Option<Box<dyn BatchEnv>>,
    /// Per-env step results and reset observations of a batched step.
    infos: Vec<StepInfo>,
    next_all: Vec<f32>,
    reset_all: Vec<f32>,
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
    /// Builds envs `first..first + count` with `factory` and resets each with its seed. Envs
    /// that offer a [`BatchEnv`] ([`Env::batch`]) are stepped together through it.
    pub fn new(
        factory: &EnvFactory,
        first: u64,
        count: usize,
        seeds: SeedStream,
    ) -> Result<Self, EnvError> {
        if count == 0 {
            return Err(EnvError::Failed {
                env: "<none>".into(),
                call: "shard",
                message: "a shard needs at least one env".into(),
            });
        }
        let probe = factory(first)?;
        let spec = probe.spec().clone();
        let od = spec.obs_dim();
        let mut obs = vec![0.0; count * od];
        let env_seeds: Vec<u64> = (0..count as u64).map(|i| seeds.env(first + i)).collect();
        let (envs, batch) = match probe.batch(count) {
            Some(b) => {
                drop(probe);
                let mut b = b?;
                b.reset_all(&env_seeds, &mut obs)?;
                (Vec::new(), Some(b))
            }
            None => {
                let mut envs = Vec::with_capacity(count);
                envs.push(probe);
                for i in 1..count as u64 {
                    envs.push(factory(first + i)?);
                }
                for (i, env) in envs.iter_mut().enumerate() {
                    env.reset(Some(env_seeds[i]), &mut obs[i * od..(i + 1) * od])?;
                }
                (envs, None)
            }
        };
        for i in 0..count {
            check_finite(&spec, &obs[i * od..(i + 1) * od], "reset")?;
        }
        let rngs = (0..count as u64)
            .map(|i| Rng::seed_from(seeds.policy(first + i)))
            .collect();
        let batched = batch.is_some();
        Ok(Self {
            act: vec![0.0; count * spec.act_dim()],
            next: vec![0.0; od],
            infos: vec![StepInfo::default(); if batched { count } else { 0 }],
            next_all: vec![0.0; if batched { count * od } else { 0 }],
            reset_all: vec![0.0; if batched { count * od } else { 0 }],
            spec,
            envs,
            batch,
            first,
            obs,
            rngs,
            ep_return: vec![0.0; count],
            ep_len: vec![0; count],
            steps: 0,
            capture: None,
        })
    }

    /// Whether the envs step together through a [`BatchEnv`].
    pub fn is_batched(&self) -> bool {
        self.batch.is_some()
    }

    /// The envs' spec.
    pub fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    /// Number of envs.
    pub fn num_envs(&self) -> usize {
        self.rngs.len()
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
        match (&mut self.batch, self.envs.first_mut()) {
            (Some(b), _) => c.maybe_render(|| b.render_rgb(0), len, self.steps),
            (None, Some(e)) => c.maybe_render(|| e.render_rgb(), len, self.steps),
            (None, None) => {}
        }
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
    /// episode accumulators) for checkpoints; `None` if an env cannot save its state (batched
    /// envs never can).
    pub fn save_state(&self) -> Option<Vec<u8>> {
        if self.batch.is_some() {
            return None;
        }
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
        if self.batch.is_some() {
            return self.rollout_batched(policy, mode, steps_per_env, batch);
        }
        for _ in 0..steps_per_env {
            for i in 0..self.envs.len() {
                let o = &self.obs[i * od..(i + 1) * od];
                let a = &mut self.act[i * ad..(i + 1) * ad];
                policy.act(o, &mut self.rngs[i], mode, a);
                let info = self.envs[i].step(a, &mut self.next)?;
                let id = (self.first + i as u64) as u32;
                push_row(&self.spec, batch, id, (o, a, &self.next), info)?;
                self.ep_return[i] += info.reward;
                self.ep_len[i] += 1;
                self.steps += 1;
                if i == 0
                    && let Some(c) = self.capture.as_mut()
                {
                    let env = self.envs[0].as_mut();
                    c.maybe_render(|| env.render_rgb(), self.ep_len[0], self.steps);
                    if info.done() {
                        c.episodes += 1;
                        c.episode_starts();
                    }
                }
                if info.done() {
                    close_episode(batch, id, &mut self.ep_return[i], &mut self.ep_len[i]);
                    self.envs[i].reset(None, &mut self.obs[i * od..(i + 1) * od])?;
                    check_finite(&self.spec, &self.obs[i * od..(i + 1) * od], "reset")?;
                    if i == 0
                        && let Some(c) = self.capture.as_mut()
                    {
                        let env = self.envs[0].as_mut();
                        c.maybe_render(|| env.render_rgb(), 0, self.steps);
                    }
                } else {
                    self.obs[i * od..(i + 1) * od].copy_from_slice(&self.next);
                }
            }
        }
        Ok(())
    }

    /// [`EnvShard::rollout`] through the [`BatchEnv`]: act for every env, one batched step, then
    /// the same rows, statistics and frames as the one-by-one loop.
    fn rollout_batched(
        &mut self,
        policy: &mut dyn Policy,
        mode: ActMode,
        steps_per_env: usize,
        batch: &mut TransitionBatch,
    ) -> Result<(), EnvError> {
        let (od, ad) = (self.spec.obs_dim(), self.spec.act_dim());
        let n = self.rngs.len();
        let Some(envs) = self.batch.as_mut() else {
            return Ok(());
        };
        for _ in 0..steps_per_env {
            for i in 0..n {
                let o = &self.obs[i * od..(i + 1) * od];
                policy.act(
                    o,
                    &mut self.rngs[i],
                    mode,
                    &mut self.act[i * ad..(i + 1) * ad],
                );
            }
            envs.step_all(
                &self.act,
                &mut self.next_all,
                &mut self.reset_all,
                &mut self.infos,
            )?;
            for i in 0..n {
                let info = self.infos[i];
                let id = (self.first + i as u64) as u32;
                let row = (
                    &self.obs[i * od..(i + 1) * od],
                    &self.act[i * ad..(i + 1) * ad],
                    &self.next_all[i * od..(i + 1) * od],
                );
                push_row(&self.spec, batch, id, row, info)?;
                self.ep_return[i] += info.reward;
                self.ep_len[i] += 1;
                self.steps += 1;
                let row = i * od..(i + 1) * od;
                if info.done() {
                    close_episode(batch, id, &mut self.ep_return[i], &mut self.ep_len[i]);
                    check_finite(&self.spec, &self.reset_all[row.clone()], "reset")?;
                    self.obs[row.clone()].copy_from_slice(&self.reset_all[row]);
                } else {
                    self.obs[row.clone()].copy_from_slice(&self.next_all[row]);
                }
                if i == 0
                    && let Some(c) = self.capture.as_mut()
                {
                    if info.done() {
                        c.episodes += 1;
                        c.episode_starts();
                    }
                    c.maybe_render(|| envs.render_rgb(0), self.ep_len[0], self.steps);
                }
            }
        }
        Ok(())
    }
}

/// Checks one step's output (finite next observation and reward) and appends its row
/// `(obs, action, next_obs)` with the reward and flags to `batch`; both rollout loops use it.
fn push_row(
    spec: &EnvSpec,
    batch: &mut TransitionBatch,
    id: u32,
    (obs, action, next): (&[f32], &[f32], &[f32]),
    info: StepInfo,
) -> Result<(), EnvError> {
    check_finite(spec, next, "step")?;
    if !info.reward.is_finite() {
        return Err(EnvError::NonFinite {
            env: spec.id.clone(),
            what: "reward".into(),
            value: info.reward,
            call: "step",
        });
    }
    batch.env_ids.push(id);
    batch.obs.extend_from_slice(obs);
    batch.actions.extend_from_slice(action);
    batch.rewards.push(info.reward as f32);
    batch.next_obs.extend_from_slice(next);
    batch.terminated.push(info.terminated as u8);
    batch.truncated.push(info.truncated as u8);
    Ok(())
}

/// Records a finished episode's statistics and clears its accumulators.
fn close_episode(batch: &mut TransitionBatch, id: u32, ret: &mut f64, len: &mut u32) {
    batch.episodes.push(EpisodeStat {
        env_id: id,
        episode_return: std::mem::take(ret),
        length: std::mem::take(len),
    });
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

#[cfg(test)]
mod batched_tests {
    use super::*;
    use crate::policy::RandomPolicy;
    use crate::space::Space;
    use std::sync::Arc;

    /// A random walk with its own seeded generator: terminates at |x| = 3, truncates at 7 steps.
    struct Walk {
        spec: EnvSpec,
        x: f32,
        t: u32,
        rng: Rng,
        batched: bool,
    }

    fn walk(batched: bool) -> Walk {
        Walk {
            spec: EnvSpec::new(
                "Walk",
                Space::boxed(vec![-9.0], vec![9.0]),
                Space::discrete(2),
            ),
            x: 0.0,
            t: 0,
            rng: Rng::seed_from(0),
            batched,
        }
    }

    impl Env for Walk {
        fn spec(&self) -> &EnvSpec {
            &self.spec
        }
        fn reset(&mut self, seed: Option<u64>, obs: &mut [f32]) -> Result<(), EnvError> {
            if let Some(s) = seed {
                self.rng = Rng::seed_from(s);
            }
            (self.x, self.t) = (self.rng.below(3) as f32 - 1.0, 0);
            obs[0] = self.x;
            Ok(())
        }
        fn step(&mut self, a: &[f32], obs: &mut [f32]) -> Result<StepInfo, EnvError> {
            self.x += if a[0] == 1.0 { 1.0 } else { -1.0 } * (1.0 + self.rng.below(2) as f32);
            self.t += 1;
            obs[0] = self.x;
            Ok(StepInfo {
                reward: self.x as f64,
                terminated: self.x.abs() >= 3.0,
                truncated: self.t >= 7,
            })
        }
        fn render_rgb(&mut self) -> Option<Frame> {
            Some(Frame {
                width: 1,
                height: 1,
                rgb: vec![(self.x + 10.0) as u8; 3],
            })
        }
        fn batch(&self, count: usize) -> Option<Result<Box<dyn BatchEnv>, EnvError>> {
            self.batched.then(|| {
                Ok(Box::new(Serial((0..count).map(|_| walk(false)).collect()))
                    as Box<dyn BatchEnv>)
            })
        }
    }

    /// The reference batch: the envs one after another, with the shard's auto-reset rule.
    struct Serial(Vec<Walk>);

    impl BatchEnv for Serial {
        fn spec(&self) -> &EnvSpec {
            &self.0[0].spec
        }
        fn num_envs(&self) -> usize {
            self.0.len()
        }
        fn reset_all(&mut self, seeds: &[u64], obs: &mut [f32]) -> Result<(), EnvError> {
            for (i, e) in self.0.iter_mut().enumerate() {
                e.reset(Some(seeds[i]), &mut obs[i..i + 1])?;
            }
            Ok(())
        }
        fn step_all(
            &mut self,
            actions: &[f32],
            next: &mut [f32],
            reset_obs: &mut [f32],
            infos: &mut [StepInfo],
        ) -> Result<(), EnvError> {
            for (i, e) in self.0.iter_mut().enumerate() {
                infos[i] = e.step(&actions[i..i + 1], &mut next[i..i + 1])?;
                if infos[i].done() {
                    e.reset(None, &mut reset_obs[i..i + 1])?;
                }
            }
            Ok(())
        }
        fn render_rgb(&mut self, i: usize) -> Option<Frame> {
            self.0[i].render_rgb()
        }
    }

    fn run(batched: bool) -> (TransitionBatch, bool) {
        let f: EnvFactory = Arc::new(move |_| Ok(Box::new(walk(batched)) as Box<dyn Env>));
        let mut shard = EnvShard::new(&f, 4, 3, SeedStream::new(11)).unwrap();
        let mut pol = RandomPolicy::new(Space::discrete(2));
        let mut b = TransitionBatch::default();
        for _ in 0..5 {
            shard
                .rollout(&mut pol, ActMode::Explore, 9, &mut b)
                .unwrap();
        }
        (b, shard.is_batched())
    }

    #[test]
    fn batched_stepping_gives_the_same_transitions_as_one_by_one() {
        let (one, b1) = run(false);
        let (many, b2) = run(true);
        assert!(!b1 && b2);
        assert_eq!(one.len(), 3 * 45);
        assert!(one.episodes.len() > 10);
        assert_eq!(one.obs, many.obs);
        assert_eq!(one.actions, many.actions);
        assert_eq!(one.rewards, many.rewards);
        assert_eq!(one.next_obs, many.next_obs);
        assert_eq!(one.terminated, many.terminated);
        assert_eq!(one.truncated, many.truncated);
        assert_eq!(one.episodes, many.episodes);
    }
}
