//! The online-learning job: an example stream through an online learner with progressive
//! validation (each example is predicted before it is learned from), on one worker or sharded
//! over several (threads, processes) with periodic weight averaging
//! ([`mirrorflow_runtime::online`]).
//!
//! Metrics, on the env-steps timeline (one step = one example), about 200 points per run (every
//! 1 000 examples when the stream is read to its end):
//! `online/progressive_loss` (mean loss of the predictions so far, in the agent's loss),
//! `online/progressive_logloss` and `online/progressive_accuracy` (classification losses; the
//! logistic loss's probability `σ(m)`, the hinge's sign), `online/cumulative_loss`,
//! `online/skipped_lines`, `system/sps`.

use crate::registry::OnlineAgent;
use mirrorflow_agent_online::offline::best_fixed;
use mirrorflow_core::{ExampleSource, MetricSink, Timeline};
use mirrorflow_core::{ParamSnapshot, Tensor, TensorData};
use mirrorflow_env_streams::FileStream;
use mirrorflow_runtime::online::{
    FinishHook, OnlineOutcome as Sharded, OnlinePlan, SourceFactory, run_online as run_sharded,
};
use mirrorflow_runtime::{Placement, RuntimeError, SendSink};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// How an online run ended.
pub struct OnlineOutcome {
    /// `completed`, `interrupted` or `failed`.
    pub status: &'static str,
    /// Examples learned from (all workers).
    pub examples: u64,
    /// The final weights (`w`).
    pub params: ParamSnapshot,
    /// What failed, if anything.
    pub error: Option<String>,
}

/// Runs `agent` over the stream on `placement`: at most `max_examples` examples (0 = the
/// whole file). `Ok(None)` in processes other than 0 of a cluster.
pub fn run_online(
    agent: &OnlineAgent,
    stream: &FileStream,
    placement: Placement,
    max_examples: u64,
    average_every: u64,
    average_lag: u64,
    offline_passes: usize,
    mut sink: SendSink,
    stop: Arc<AtomicBool>,
) -> Result<Option<OnlineOutcome>, RuntimeError> {
    if let Some(cache) = stream.cache_path() {
        sink.event(&if stream.cache_is_current() {
            format!("example cache: reading {}", cache.display())
        } else {
            format!(
                "example cache: {} is missing or stale; a whole unsharded pass writes it",
                cache.display()
            )
        });
    }
    let plan = OnlinePlan {
        loss: agent.loss,
        bias: agent.bias,
        max_examples,
        average_every,
        average_lag,
        record_every: if max_examples > 0 {
            (max_examples / 200).max(1)
        } else {
            1_000
        },
    };
    let s = stream.clone();
    let sources: SourceFactory = Arc::new(move |i, n| s.open(i, n).map_err(|e| e.to_string()));
    let hook = (offline_passes > 0).then(|| comparator(stream.clone(), agent, offline_passes));
    let Some(o) = run_sharded(
        placement,
        plan,
        sources,
        agent.make.clone(),
        sink,
        stop,
        hook,
    )?
    else {
        return Ok(None);
    };
    Ok(Some(OnlineOutcome {
        status: o.status,
        examples: o.examples,
        params: ParamSnapshot {
            version: o.examples,
            tensors: vec![Tensor {
                name: "w".into(),
                shape: vec![o.weights.len()],
                data: TensorData::F64(o.weights),
            }],
        },
        error: o.error,
    }))
}

/// After a completed pass: the best fixed linear predictor in hindsight on the same examples
/// (L-BFGS from the final weights, `passes` passes at most) and the static regret against it.
fn comparator(stream: FileStream, agent: &OnlineAgent, passes: usize) -> FinishHook {
    let (loss, bias) = (agent.loss, agent.bias);
    Box::new(move |o: &Sharded, sink: &mut dyn MetricSink| {
        if o.status != "completed" || o.examples == 0 {
            return;
        }
        let mut open = || -> Result<Box<dyn ExampleSource>, String> {
            stream.open(0, 1).map_err(|e| e.to_string())
        };
        let t = Timeline::EnvSteps;
        match best_fixed(&mut open, loss, bias, o.examples, &o.weights, passes, 1e-9) {
            Ok(fit) => {
                let regret = o.loss_sum - fit.loss;
                sink.record(t, o.examples, "online/offline_loss", fit.loss);
                sink.record(t, o.examples, "online/offline_grad_norm", fit.grad_norm);
                sink.record(t, o.examples, "online/static_regret", regret);
                sink.event(&format!(
                    "best fixed predictor in hindsight: summed loss {:.6} after {} passes \
                     (mean-gradient norm {:.2e}); static regret {regret:.6}",
                    fit.loss, fit.passes, fit.grad_norm
                ));
            }
            Err(e) => sink.event(&format!("offline comparator failed: {e}")),
        }
    })
}
