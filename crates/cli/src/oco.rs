//! Online convex optimization runs: a loss stream (the SEA model's quadratics, expert losses)
//! played against an [`OcoLearner`] round by round, with exact regret. Driven as a planner
//! (one iteration = one round; `[run] iterations` rounds).
//!
//! Metrics, on the learner-steps timeline (one step = one round), at `1, 2, 5 × 10^k` rounds
//! and every `rounds/200`:
//! * `online/cumulative_loss`: `Σ f_t(x_t)` as paid (with the SEA noise);
//! * `online/static_regret`: against the best fixed point of the rounds so far — for SEA the
//!   expected losses `F_t` (`Σ F_t(x_t) − min_u Σ F_t(u)`, closed form: the projected mean
//!   centre), for experts the best expert in hindsight;
//! * `online/dynamic_regret`: against the best point of every round in expectation
//!   (`Σ F_t(x_t) − Σ min_x F_t(x)`; for experts the pseudo-regret `Σ ⟨p_t, μ_t⟩ − Σ min_a μ_{t,a}`
//!   with the expected losses `μ_t` — the adversarial regime's losses are their own means).

use mirrorflow_agent_online::omd::project_ball;
use mirrorflow_core::{
    Error, MetricSink, OcoLearner, ParamSnapshot, Planner, Tensor, TensorData, Timeline,
};
use mirrorflow_env_streams::{ExpertStream, ExpertsConfig, SeaConfig, SeaStream};

/// Which loss stream (the env section of an OCO run).
#[derive(Clone, Debug)]
pub enum OcoEnv {
    /// SEA quadratics on the unit ball.
    Sea(SeaConfig),
    /// Expert losses on the simplex.
    Experts(ExpertsConfig),
}

impl OcoEnv {
    /// The dimension the learner plays in.
    pub fn dim(&self) -> usize {
        match self {
            OcoEnv::Sea(c) => c.dim,
            OcoEnv::Experts(c) => c.experts,
        }
    }

    /// Whether the learner must play in the simplex (experts) rather than the ball (SEA).
    pub fn simplex(&self) -> bool {
        matches!(self, OcoEnv::Experts(_))
    }
}

enum Source {
    Sea {
        stream: SeaStream,
        sum_c: Vec<f64>,
        sum_half_c2: f64,
    },
    Experts {
        stream: ExpertStream,
        cum: Vec<f64>,
    },
}

/// An OCO run as a planner.
pub struct OcoRun {
    learner: Box<dyn OcoLearner>,
    source: Source,
    t: u64,
    paid: f64,
    /// `Σ F_t(x_t)` (SEA) or `Σ ⟨p_t, ℓ_t⟩` (experts): the static regret's first term.
    expected: f64,
    /// `Σ F_t(x_t)` (SEA) or `Σ ⟨p_t, μ_t⟩` (experts): the dynamic regret's first term.
    expected_dynamic: f64,
    per_round_best: f64,
    every: u64,
    x: Vec<f64>,
}

impl OcoRun {
    /// `rounds` rounds of `env` against `learner`, the stream seeded by `seed`.
    pub fn new(env: &OcoEnv, learner: Box<dyn OcoLearner>, rounds: u64, seed: u64) -> Self {
        let source = match env {
            OcoEnv::Sea(c) => Source::Sea {
                stream: SeaStream::new(c.dim, c.amplitude, c.block, c.noise, seed),
                sum_c: vec![0.0; c.dim],
                sum_half_c2: 0.0,
            },
            OcoEnv::Experts(c) => Source::Experts {
                stream: ExpertStream::new(c.clone(), seed),
                cum: vec![0.0; c.experts],
            },
        };
        Self {
            learner,
            source,
            t: 0,
            paid: 0.0,
            expected: 0.0,
            expected_dynamic: 0.0,
            per_round_best: 0.0,
            every: (rounds / 200).max(1),
            x: Vec::new(),
        }
    }

    fn static_regret(&self) -> f64 {
        match &self.source {
            Source::Sea {
                sum_c, sum_half_c2, ..
            } => {
                // min_{‖u‖≤1} (t/2)‖u‖² − ⟨u, C⟩ + Q at u = Π(C/t)
                let t = self.t as f64;
                let mut u: Vec<f64> = sum_c.iter().map(|c| c / t).collect();
                project_ball(&mut u, 1.0);
                let uu: f64 = u.iter().map(|v| v * v).sum();
                let uc: f64 = u.iter().zip(sum_c).map(|(a, b)| a * b).sum();
                self.expected - (0.5 * t * uu - uc + sum_half_c2)
            }
            Source::Experts { cum, .. } => {
                self.expected - cum.iter().copied().fold(f64::INFINITY, f64::min)
            }
        }
    }

    fn record(&self, m: &mut dyn MetricSink) {
        let (tl, t) = (Timeline::LearnerSteps, self.t);
        m.record(tl, t, "online/cumulative_loss", self.paid);
        m.record(tl, t, "online/static_regret", self.static_regret());
        m.record(
            tl,
            t,
            "online/dynamic_regret",
            self.expected - self.per_round_best,
        );
    }
}

fn on_grid(t: u64) -> bool {
    let mut p = 1;
    while p <= t {
        if t == p || t == 2 * p || t == 5 * p {
            return true;
        }
        p *= 10;
    }
    false
}

impl Planner for OcoRun {
    fn iterate(&mut self, metrics: &mut dyn MetricSink) -> Result<(), Error> {
        self.t += 1;
        let x = self.learner.play().to_vec();
        if let Some(bad) = x.iter().find(|v| !v.is_finite()) {
            return Err(Error::Learner(format!(
                "round {}: the learner played {bad}",
                self.t
            )));
        }
        match &mut self.source {
            Source::Sea {
                stream,
                sum_c,
                sum_half_c2,
            } => {
                let c = stream.centre(self.t);
                let xi = stream.next_target();
                let grad: Vec<f64> = x.iter().zip(&xi).map(|(a, b)| a - b).collect();
                self.paid += 0.5 * grad.iter().map(|g| g * g).sum::<f64>();
                let gap: f64 = x.iter().zip(&c).map(|(a, b)| (a - b) * (a - b)).sum();
                self.expected += 0.5 * gap;
                self.expected_dynamic += 0.5 * gap;
                let cn = c.iter().map(|v| v * v).sum::<f64>().sqrt();
                self.per_round_best += 0.5 * (cn - 1.0).max(0.0).powi(2);
                for (s, ci) in sum_c.iter_mut().zip(&c) {
                    *s += ci;
                }
                *sum_half_c2 += 0.5 * cn * cn;
                self.learner.observe(&grad);
            }
            Source::Experts { stream, cum } => {
                let mu = stream.means(self.t);
                let l = stream.next_losses();
                let pay: f64 = x.iter().zip(&l).map(|(p, v)| p * v).sum();
                self.paid += pay;
                self.expected += pay;
                self.expected_dynamic += x.iter().zip(&mu).map(|(p, m)| p * m).sum::<f64>();
                self.per_round_best += mu.iter().copied().fold(f64::INFINITY, f64::min);
                for (c, v) in cum.iter_mut().zip(&l) {
                    *c += v;
                }
                self.learner.observe(&l);
            }
        }
        self.x = x;
        if self.t.is_multiple_of(self.every) || on_grid(self.t) {
            self.record(metrics);
        }
        Ok(())
    }

    fn iterations(&self) -> u64 {
        self.t
    }

    fn snapshot(&self) -> ParamSnapshot {
        ParamSnapshot {
            version: self.t,
            tensors: vec![Tensor {
                name: "x".into(),
                shape: vec![self.x.len()],
                data: TensorData::F64(self.x.clone()),
            }],
        }
    }

    fn finish(&mut self, metrics: &mut dyn MetricSink) -> Result<(), Error> {
        if self.t > 0 && !(self.t.is_multiple_of(self.every) || on_grid(self.t)) {
            self.record(metrics);
        }
        Ok(())
    }
}
