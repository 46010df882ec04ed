//! Data-parallel online learning on timely (VW-style averaging).
//!
//! The stream is sharded over all workers of the run (threads, processes, hosts): worker `w` of
//! `W` reads data lines `w, w + W, w + 2W, …`. Each worker runs the round-based protocol on
//! its shard (predict, score the prediction — progressive validation —, then learn), and every
//! `average_every` of its examples (a round) all workers broadcast their change of the weights
//! in that round through timely. The average of round `r`'s changes is folded in at the end of
//! round `r + L` (`w ← w + mean_j Δ_j(r) − Δ_own(r)`, `L = average_lag`), so the exchange
//! overlaps the next rounds' work instead of stalling it; after every fold all workers hold the
//! same consensus plus their own changes of the last `L` rounds, and the last folds (when every
//! shard is exhausted) leave them all on the plain average. `L = 0` is lock-step averaging. Sums are taken in worker order, so the result is deterministic
//! for a given stream, config and number of workers (the sharding); with one worker there is
//! nothing to average and the run is the plain sequential pass.
//!
//! Worker 0 receives the global progressive-validation metrics (sums over all workers) at
//! every averaging round where a multiple of `record_every` examples was crossed.

use crate::{Placement, RuntimeError, SendSink, spawn};
use mirrorflow_core::online::{log_loss, sigmoid};
use mirrorflow_core::{Example, ExampleSource, LinearLoss, MetricSink, OnlineLearner, Timeline};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use timely::dataflow::operators::vec::{Broadcast, Input};
use timely::dataflow::operators::{Inspect, Probe};

/// Opens shard `index` of `count` of the stream.
pub type SourceFactory =
    Arc<dyn Fn(usize, usize) -> Result<Box<dyn ExampleSource>, String> + Send + Sync>;

/// Makes one worker's learner (all workers start from the same state).
pub type LearnerFactory = Arc<dyn Fn() -> Box<dyn OnlineLearner> + Send + Sync>;

/// What to run.
#[derive(Clone, Copy, Debug)]
pub struct OnlinePlan {
    /// The loss paid and learned from.
    pub loss: LinearLoss,
    /// Add a constant feature (index 0, value 1) to every example.
    pub bias: bool,
    /// Examples over all workers (0 = the whole stream); worker `w` takes
    /// `⌊n/W⌋ + [w < n mod W]` of them.
    pub max_examples: u64,
    /// Examples per worker between two weight averages (several workers only).
    pub average_every: u64,
    /// Rounds an average may arrive late: round `r`'s average is folded in at the end of
    /// round `r + L` (0 = lock-step; larger hides more latency and stragglers).
    pub average_lag: u64,
    /// Record the metrics each time the global example count crosses a multiple of this.
    pub record_every: u64,
}

/// How an online run ended (worker 0's view, which is everyone's after the last round).
#[derive(Clone, Debug, Default)]
pub struct OnlineOutcome {
    /// `completed`, `interrupted` or `failed`.
    pub status: &'static str,
    /// Examples learned from, over all workers.
    pub examples: u64,
    /// Averaging rounds done.
    pub rounds: u64,
    /// The final weights (averaged over workers).
    pub weights: Vec<f64>,
    /// What failed (the first worker's message, in worker order).
    pub error: Option<String>,
    /// Malformed records skipped, over all workers.
    pub skipped: u64,
    /// The first messages of skipped records (worker order).
    pub first_skipped: Vec<String>,
    /// The summed loss of the predictions (progressive validation), over all workers.
    pub loss_sum: f64,
}

/// Run on worker 0 after the last round, with the outcome and the metric sink (e.g. to fit the
/// best fixed comparator in hindsight and record the static regret).
pub type FinishHook = Box<dyn FnOnce(&OnlineOutcome, &mut dyn MetricSink) + Send>;

/// Running sums of one worker (all rounds so far).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct Sums {
    examples: u64,
    loss: f64,
    logloss: f64,
    correct: u64,
    skipped: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct RoundMsg {
    worker: u32,
    sums: Sums,
    weights: Vec<f64>,
    done: bool,
    stop: bool,
    error: Option<String>,
    first_skipped: Vec<String>,
}

/// Runs the online loop on `placement`. The sink gets the metrics on global worker 0; the
/// outcome is `Some` in process 0 and `None` in the others.
pub fn run_online(
    placement: Placement,
    plan: OnlinePlan,
    sources: SourceFactory,
    learners: LearnerFactory,
    sink: SendSink,
    stop: Arc<AtomicBool>,
    finish: Option<FinishHook>,
) -> Result<Option<OnlineOutcome>, RuntimeError> {
    let sink = Arc::new(Mutex::new(Some(sink)));
    let finish = Arc::new(Mutex::new(finish));
    let work = move |worker: &mut timely::worker::Worker| {
        let my_sink = if worker.index() == 0 {
            sink.lock().ok().and_then(|mut s| s.take())
        } else {
            None
        };
        let hook = if worker.index() == 0 {
            finish.lock().ok().and_then(|mut h| h.take())
        } else {
            None
        };
        let out = run_worker(worker, plan, &sources, &learners, my_sink, &stop, hook);
        (worker.index() == 0).then_some(out)
    };
    let (guards, _) = spawn(placement, work)?;
    let mut result = None;
    for r in guards.join() {
        match r {
            Ok(Some(o)) => result = Some(o),
            Ok(None) => {}
            Err(panic) => return Err(RuntimeError::Worker(panic)),
        }
    }
    Ok(result)
}

fn run_worker(
    worker: &mut timely::worker::Worker,
    plan: OnlinePlan,
    sources: &SourceFactory,
    learners: &LearnerFactory,
    mut sink: Option<SendSink>,
    stop: &AtomicBool,
    mut hook: Option<FinishHook>,
) -> OnlineOutcome {
    let (index, peers) = (worker.index(), worker.peers());
    let inbox: Rc<RefCell<BTreeMap<u64, Vec<RoundMsg>>>> = Rc::default();
    let seen = inbox.clone();
    let (mut input, probe) = worker.dataflow::<u64, _, _>(|scope| {
        let (input, stream) = scope.new_input::<(u64, RoundMsg)>();
        let (probe, _) = stream
            .broadcast()
            .inspect(move |(round, m): &(u64, RoundMsg)| {
                seen.borrow_mut().entry(*round).or_default().push(m.clone());
            })
            .probe();
        (input, probe)
    });

    let mut learner = learners();
    // a worker whose shard cannot be opened still takes part in the first round, so that
    // every worker learns of the failure and stops
    let (mut source, mut error) = match sources(index, peers) {
        Ok(s) => (Some(s), None),
        Err(e) => (None, Some(e)),
    };
    let quota = if plan.max_examples == 0 {
        u64::MAX
    } else {
        plan.max_examples / peers as u64
            + u64::from((index as u64) < plan.max_examples % peers as u64)
    };
    let per_round = if peers > 1 {
        plan.average_every.max(1)
    } else {
        plan.record_every.max(1)
    };
    let classify = plan.loss.is_classification();
    let mut sums = Sums::default();
    let mut ex = Example::default();
    let mut done = source.is_none();
    let mut out = OnlineOutcome {
        status: "completed",
        ..OnlineOutcome::default()
    };
    let start = Instant::now();
    let mut recorded = 0u64;
    // the weights at the start of this round, and this worker's change in the last round
    let (mut base, mut own_deltas) = (learner.weights(), std::collections::VecDeque::new());
    for round in 0u64.. {
        let mut k = 0;
        while !done && k < per_round {
            if sums.examples >= quota {
                done = true;
                break;
            }
            let Some(src) = source.as_mut() else { break };
            match src.next_into(&mut ex) {
                Ok(true) => {}
                Ok(false) => {
                    done = true;
                    break;
                }
                Err(e) => {
                    error = Some(e.to_string());
                    done = true;
                    break;
                }
            }
            if plan.bias {
                ex.features.index.push(0);
                ex.features.value.push(1.0);
            }
            let y = if classify {
                if ex.label > 0.0 { 1.0 } else { -1.0 }
            } else {
                ex.label
            };
            let m = learner.predict(&ex.features);
            sums.loss += plan.loss.value(m, y);
            if classify {
                if plan.loss == LinearLoss::Logistic {
                    sums.logloss += log_loss(sigmoid(m), y);
                }
                sums.correct += u64::from(m * y > 0.0);
            }
            learner.learn(&ex.features, y, plan.loss);
            sums.examples += 1;
            k += 1;
        }
        if let Some(src) = &source {
            sums.skipped = src.skipped();
        }
        // this round's change of the weights since its start (only several workers average)
        let delta = if peers > 1 {
            let mut w = learner.weights();
            for (x, b) in w.iter_mut().zip(&base) {
                *x -= b;
            }
            w
        } else {
            Vec::new()
        };
        let msg = RoundMsg {
            worker: index as u32,
            sums,
            weights: delta.clone(),
            done,
            stop: stop.load(Ordering::Relaxed),
            error: error.clone(),
            first_skipped: if done {
                source
                    .as_ref()
                    .map(|s| s.first_skipped())
                    .unwrap_or_default()
            } else {
                Vec::new()
            },
        };
        input.send((round, msg));
        input.advance_to(round + 1);
        own_deltas.push_back(delta);
        if round < plan.average_lag {
            // nothing to fold in yet: round r's average arrives while rounds r + 1 … r + L work
            base = learner.weights();
            continue;
        }
        let own = own_deltas.pop_front().unwrap_or_default();
        let done_round = round - plan.average_lag;
        while probe.less_than(&(done_round + 1)) {
            worker.step_or_park(None);
        }
        let mut msgs = inbox.borrow_mut().remove(&done_round).unwrap_or_default();
        msgs.sort_by_key(|m| m.worker);
        // the global picture after round r − 1, summed in worker order
        let mut total = Sums::default();
        for m in &msgs {
            total.examples += m.sums.examples;
            total.loss += m.sums.loss;
            total.logloss += m.sums.logloss;
            total.correct += m.sums.correct;
            total.skipped += m.sums.skipped;
        }
        if peers > 1 {
            // w ← w + mean_j(Δ_j) − Δ_own: the consensus through round r − 1 plus this
            // worker's own change in round r (every worker holds the same consensus)
            let mut w = learner.weights();
            let d = msgs
                .iter()
                .map(|m| m.weights.len())
                .max()
                .unwrap_or(0)
                .max(w.len());
            w.resize(d, 0.0);
            let inv = 1.0 / msgs.len().max(1) as f64;
            for m in &msgs {
                for (x, dj) in w.iter_mut().zip(&m.weights) {
                    *x += inv * dj;
                }
            }
            for (x, o) in w.iter_mut().zip(&own) {
                *x -= o;
            }
            learner.set_weights(&w);
            base = learner.weights();
        }
        let all_done = msgs.iter().all(|m| m.done);
        let failed = msgs.iter().find_map(|m| m.error.clone());
        let stopped = msgs.iter().any(|m| m.stop);
        let finished = all_done || failed.is_some() || stopped;
        if let Some(s) = sink.as_mut() {
            let due =
                total.examples / plan.record_every.max(1) > recorded / plan.record_every.max(1);
            if (due || finished) && total.examples > recorded {
                record(s.as_mut(), &total, plan.loss, start);
                recorded = total.examples;
            }
        }
        if finished {
            out.examples = total.examples;
            out.loss_sum = total.loss;
            out.rounds = round;
            out.skipped = total.skipped;
            out.first_skipped = msgs
                .iter()
                .flat_map(|m| m.first_skipped.clone())
                .take(10)
                .collect();
            out.weights = learner.weights();
            if let Some(e) = failed {
                out.status = "failed";
                out.error = Some(e);
            } else if stopped && !all_done {
                out.status = "interrupted";
            }
            if let Some(s) = sink.as_mut() {
                if out.skipped > 0 {
                    s.event(&format!(
                        "{} malformed lines skipped (over {peers} worker(s)); first: {}",
                        out.skipped,
                        out.first_skipped.join(" | ")
                    ));
                }
                if out.status == "interrupted" {
                    s.event(&format!("interrupted after {} examples", out.examples));
                }
                if let Some(h) = hook.take() {
                    h(&out, s.as_mut());
                }
            }
            break;
        }
    }
    drop(input);
    while worker.has_dataflows() {
        worker.step_or_park(None);
    }
    out
}

fn record(s: &mut dyn MetricSink, t: &Sums, loss: LinearLoss, start: Instant) {
    let n = t.examples;
    let nf = n as f64;
    let tl = Timeline::EnvSteps;
    s.record(tl, n, "online/progressive_loss", t.loss / nf);
    s.record(tl, n, "online/cumulative_loss", t.loss);
    if loss.is_classification() {
        s.record(tl, n, "online/progressive_accuracy", t.correct as f64 / nf);
        if loss == LinearLoss::Logistic {
            s.record(tl, n, "online/progressive_logloss", t.logloss / nf);
        }
    }
    s.record(tl, n, "online/skipped_lines", t.skipped as f64);
    s.record(
        tl,
        n,
        "system/sps",
        nf / start.elapsed().as_secs_f64().max(1e-9),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use mirrorflow_core::Features;

    /// Examples `i = 0..n` with two features; shard `w` of `W` gets `i ≡ w (mod W)`.
    struct Counting {
        next: u64,
        n: u64,
        step: u64,
        fail_at: Option<u64>,
    }

    impl ExampleSource for Counting {
        fn next_into(&mut self, out: &mut Example) -> Result<bool, mirrorflow_core::Error> {
            if Some(self.next) == self.fail_at {
                return Err(mirrorflow_core::Error::Stream(format!(
                    "data:{}: broken",
                    self.next + 1
                )));
            }
            if self.next >= self.n {
                return Ok(false);
            }
            let i = self.next as f32;
            out.features = Features {
                index: vec![1, 2],
                value: vec![(i * 0.37).sin(), (i * 0.11).cos()],
            };
            out.label = if (i * 0.37).sin() + 0.3 * (i * 0.11).cos() > 0.0 {
                1.0
            } else {
                -1.0
            };
            self.next += self.step;
            Ok(true)
        }
    }

    /// Plain OGD with a constant step (enough to test the loop).
    #[derive(Default)]
    struct Sgd(Vec<f64>);

    impl OnlineLearner for Sgd {
        fn predict(&mut self, f: &Features) -> f64 {
            f.dot(&self.0)
        }
        fn learn(&mut self, f: &Features, y: f64, loss: LinearLoss) {
            let d = loss.derivative(f.dot(&self.0), y);
            if self.0.len() < f.dim() {
                self.0.resize(f.dim(), 0.0);
            }
            for (&i, &v) in f.index.iter().zip(&f.value) {
                self.0[i as usize] -= 0.1 * d * f64::from(v);
            }
        }
        fn weights(&self) -> Vec<f64> {
            self.0.clone()
        }
        fn set_weights(&mut self, w: &[f64]) {
            self.0 = w.to_vec();
        }
    }

    fn run(workers: usize, fail_at: Option<u64>) -> OnlineOutcome {
        run_every(workers, fail_at, 50)
    }

    fn run_every(workers: usize, fail_at: Option<u64>, average_every: u64) -> OnlineOutcome {
        let sources: SourceFactory = Arc::new(move |w, count| {
            Ok(Box::new(Counting {
                next: w as u64,
                n: 1_000,
                step: count as u64,
                fail_at: fail_at.filter(|_| w == count - 1),
            }) as Box<dyn ExampleSource>)
        });
        let learners: LearnerFactory = Arc::new(|| Box::new(Sgd::default()));
        let plan = OnlinePlan {
            loss: LinearLoss::Logistic,
            bias: true,
            max_examples: 0,
            average_every,
            average_lag: 1,
            record_every: 100,
        };
        run_online(
            Placement::Threads(workers),
            plan,
            sources,
            learners,
            Box::new(mirrorflow_core::metrics::NullSink),
            Arc::new(AtomicBool::new(false)),
            None,
        )
        .unwrap()
        .unwrap()
    }

    /// One sequential pass over examples `first, first + step, …` (with the bias feature).
    fn sequential(first: u64, step: u64) -> Vec<f64> {
        let mut sgd = Sgd::default();
        let mut src = Counting {
            next: first,
            n: 1_000,
            step,
            fail_at: None,
        };
        let mut ex = Example::default();
        while src.next_into(&mut ex).unwrap() {
            ex.features.index.push(0);
            ex.features.value.push(1.0);
            sgd.learn(&ex.features, ex.label, LinearLoss::Logistic);
        }
        sgd.0
    }

    #[test]
    fn one_worker_is_the_sequential_pass() {
        let o = run(1, None);
        assert_eq!(o.status, "completed");
        assert_eq!(o.examples, 1_000);
        assert_eq!(o.weights, sequential(0, 1));
    }

    #[test]
    fn averaging_over_workers_is_deterministic_for_a_sharding() {
        let (a, b) = (run(3, None), run(3, None));
        assert_eq!(a.status, "completed");
        assert_eq!(a.examples, 1_000);
        assert_eq!(a.weights, b.weights);
        assert_eq!(a.rounds, 334 / 50 + 1);
        assert_ne!(
            a.weights,
            run(2, None).weights,
            "another sharding, another run"
        );
    }

    #[test]
    fn one_round_per_worker_ends_on_the_plain_average_of_the_shard_models() {
        let o = run_every(2, None, 10_000);
        let models = [sequential(0, 2), sequential(1, 2)];
        assert_eq!(o.examples, 1_000);
        for (k, w) in o.weights.iter().enumerate() {
            let avg = 0.5 * (models[0][k] + models[1][k]);
            assert!((w - avg).abs() < 1e-12, "{k}: {w} vs {avg}");
        }
    }

    #[test]
    fn a_failing_shard_stops_every_worker_with_its_message() {
        let o = run(2, Some(301));
        assert_eq!(o.status, "failed");
        assert!(
            o.error
                .as_deref()
                .unwrap_or("")
                .contains("data:302: broken"),
            "{o:?}"
        );
    }
}
