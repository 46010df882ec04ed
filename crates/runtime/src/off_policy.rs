//! Off-policy learning inside the learner operator: the replay lives here, next to the learner
//! (agents never see it, rule R3).
//!
//! [`ReplayLearner`] is the [`Learner`] the loop drives for an agent whose builder declares an
//! [`OffPolicySpec`]. For every collected batch, in the loop's (canonical, under `sync`) order:
//!
//! 1. the agent's learner observes it, and finished episodes are recorded
//!    (`charts/episodic_return`, `charts/episodic_length`);
//! 2. its rows are folded into n-step returns ([`NStepAdder`]) and stored ([`Replay`]);
//! 3. at every multiple of `train_freq` env steps past `learning_starts`, `gradient_steps`
//!    updates run, each on a freshly sampled batch; with prioritized replay the returned `|δ|` become the sampled
//!    rows' priorities.
//!
//! The replay is seeded from the learner's seed, so a run is reproducible. Checkpoints hold the
//! agent's parameters, not the replay: a resumed run refills it (documented deviation).

use mirrorflow_core::{
    AgentBuilder, EnvSpec, Error, Learner, MetricSink, OffPolicyLearner, OffPolicySpec,
    ParamSnapshot, SampledBatch, Timeline, TransitionBatch,
};
use mirrorflow_replay::{NStepAdder, Replay};

/// The learner of an off-policy agent: replay + n-step adder + update schedule.
pub struct ReplayLearner {
    inner: Box<dyn OffPolicyLearner>,
    spec: OffPolicySpec,
    adder: NStepAdder,
    replay: Replay,
    sampled: SampledBatch,
    env_steps: u64,
    /// Env-step count at which the next round of updates is due.
    next_round: u64,
    updates: u64,
}

impl ReplayLearner {
    /// Wraps `inner` with the replay its spec asks for.
    pub fn new(
        inner: Box<dyn OffPolicyLearner>,
        spec: OffPolicySpec,
        env: &EnvSpec,
        seed: u64,
    ) -> Result<Self, Error> {
        spec.validate().map_err(Error::Learner)?;
        let replay = Replay::new(&spec.replay, env.obs_dim(), env.act_dim(), seed)
            .map_err(|e| Error::Learner(e.to_string()))?;
        Ok(Self {
            adder: NStepAdder::new(spec.replay.n_step, spec.replay.gamma),
            inner,
            replay,
            sampled: SampledBatch::default(),
            env_steps: 0,
            // rounds fall on multiples of train_freq past learning_starts (as in SB3)
            next_round: (spec.learning_starts / spec.train_freq + 1) * spec.train_freq,
            updates: 0,
            spec,
        })
    }

    /// Updates run so far.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// Rows in the replay.
    pub fn replay_len(&self) -> usize {
        self.replay.len()
    }
}

impl Learner for ReplayLearner {
    fn learn(
        &mut self,
        batch: &TransitionBatch,
        metrics: &mut dyn MetricSink,
    ) -> Result<(), Error> {
        self.inner.observe(batch, metrics);
        let before = self.env_steps;
        self.env_steps += batch.len() as u64;
        for (k, e) in batch.episodes.iter().enumerate() {
            // episodes finished inside this batch, spread over its env steps for the x-axis
            let at = before + (k as u64 + 1) * batch.len() as u64 / batch.episodes.len() as u64;
            metrics.record(
                Timeline::EnvSteps,
                at,
                "charts/episodic_return",
                e.episode_return,
            );
            metrics.record(
                Timeline::EnvSteps,
                at,
                "charts/episodic_length",
                e.length as f64,
            );
        }
        let (folded, discounts) = self.adder.add(batch);
        self.replay
            .insert(folded, Some(discounts))
            .map_err(|e| Error::Learner(e.to_string()))?;
        while self.env_steps >= self.next_round && !self.replay.is_empty() {
            self.next_round += self.spec.train_freq;
            for _ in 0..self.spec.gradient_steps {
                self.replay
                    .sample(&mut self.sampled)
                    .map_err(|e| Error::Learner(e.to_string()))?;
                let td = self.inner.update(&self.sampled, metrics)?;
                if let Some(td) = td {
                    self.replay
                        .update_priorities(&self.sampled.slots, &td)
                        .map_err(|e| Error::Learner(e.to_string()))?;
                }
                self.updates += 1;
            }
        }
        metrics.record(
            Timeline::EnvSteps,
            self.env_steps,
            "replay/size",
            self.replay.len() as f64,
        );
        metrics.record(
            Timeline::EnvSteps,
            self.env_steps,
            "replay/updates",
            self.updates as f64,
        );
        Ok(())
    }

    fn snapshot(&self) -> ParamSnapshot {
        self.inner.snapshot()
    }

    fn state(&self) -> ParamSnapshot {
        self.inner.state()
    }

    fn restore(&mut self, snapshot: &ParamSnapshot) -> Result<(), Error> {
        self.inner.restore(snapshot)
    }
}

/// The learner the loop drives for `builder`: its own [`Learner`], or a [`ReplayLearner`]
/// around its off-policy learner.
pub fn make_learner(
    builder: &dyn AgentBuilder,
    spec: &EnvSpec,
    seed: u64,
) -> Result<Box<dyn Learner>, Error> {
    match builder.off_policy() {
        None => builder.make_learner(spec, seed),
        Some(off) => {
            let inner = builder.make_off_policy_learner(spec, seed)?;
            // the replay's stream differs from the learner's own
            let replay_seed = seed ^ 0x9e37_79b9_7f4a_7c15;
            Ok(Box::new(ReplayLearner::new(inner, off, spec, replay_seed)?))
        }
    }
}
