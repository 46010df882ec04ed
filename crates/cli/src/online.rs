//! The online-learning loop: an example stream through an online learner with progressive
//! validation (each example is predicted before it is learned from).
//!
//! Metrics, on the env-steps timeline (one step = one example), about 200 points per run (every
//! 1 000 examples when the stream is read to its end):
//! `online/progressive_loss` (mean loss of the predictions so far, in the agent's loss),
//! `online/progressive_logloss` and `online/progressive_accuracy` (classification losses; the
//! logistic loss's probability `σ(m)`, the hinge's sign), `online/cumulative_loss`,
//! `online/skipped_lines`, `system/sps`.

use crate::registry::OnlineAgent;
use mirrorflow_core::online::{log_loss, sigmoid};
use mirrorflow_core::{
    Example, LinearLoss, MetricSink, ParamSnapshot, Tensor, TensorData, Timeline,
};
use mirrorflow_env_streams::{LibsvmConfig, LibsvmReader};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// How an online run ended.
pub struct OnlineOutcome {
    /// `completed`, `interrupted` or `failed`.
    pub status: &'static str,
    /// Examples learned from.
    pub examples: u64,
    /// The final weights (`w`).
    pub params: ParamSnapshot,
    /// What failed, if anything.
    pub error: Option<String>,
}

/// Runs `agent` over the stream: at most `max_examples` examples (0 = the whole file).
pub fn run_online(
    agent: &mut OnlineAgent,
    stream: &LibsvmConfig,
    max_examples: u64,
    metrics: &mut dyn MetricSink,
    stop: &AtomicBool,
) -> OnlineOutcome {
    let mut out = OnlineOutcome {
        status: "completed",
        examples: 0,
        params: ParamSnapshot::default(),
        error: None,
    };
    let mut reader = match LibsvmReader::open(stream) {
        Ok(r) => r,
        Err(e) => {
            out.status = "failed";
            out.error = Some(e.to_string());
            return out;
        }
    };
    let every = if max_examples > 0 {
        (max_examples / 200).max(1)
    } else {
        1_000
    };
    let classify = agent.loss.is_classification();
    let (mut loss_sum, mut log_sum, mut correct) = (0.0f64, 0.0f64, 0u64);
    let mut ex = Example::default();
    let start = Instant::now();
    let t = Timeline::EnvSteps;
    loop {
        if max_examples > 0 && out.examples >= max_examples {
            break;
        }
        if stop.load(Ordering::Relaxed) {
            out.status = "interrupted";
            metrics.event(&format!("interrupted after {} examples", out.examples));
            break;
        }
        match reader.next_into(&mut ex) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                out.status = "failed";
                out.error = Some(e.to_string());
                break;
            }
        }
        if agent.bias {
            ex.features.index.push(0);
            ex.features.value.push(1.0);
        }
        let y = if classify {
            if ex.label > 0.0 { 1.0 } else { -1.0 }
        } else {
            ex.label
        };
        let m = agent.learner.predict(&ex.features);
        loss_sum += agent.loss.value(m, y);
        if classify {
            if agent.loss == LinearLoss::Logistic {
                log_sum += log_loss(sigmoid(m), y);
            }
            correct += u64::from(m * y > 0.0);
        }
        agent.learner.learn(&ex.features, y, agent.loss);
        out.examples += 1;
        let n = out.examples;
        if n.is_multiple_of(every) {
            record(
                metrics, t, n, loss_sum, log_sum, correct, classify, agent.loss, &reader, start,
            );
        }
    }
    let n = out.examples;
    if n > 0 && !n.is_multiple_of(every) {
        record(
            metrics, t, n, loss_sum, log_sum, correct, classify, agent.loss, &reader, start,
        );
    }
    let s = reader.stats();
    if s.skipped > 0 {
        metrics.event(&format!(
            "{} malformed lines skipped of {} read; first: {}",
            s.skipped,
            s.lines,
            s.first_skipped.join(" | ")
        ));
    }
    let w = agent.learner.weights();
    out.params = ParamSnapshot {
        version: n,
        tensors: vec![Tensor {
            name: "w".into(),
            shape: vec![w.len()],
            data: TensorData::F64(w),
        }],
    };
    out
}

#[allow(
    clippy::too_many_arguments,
    reason = "one metrics row from the loop's accumulators"
)]
fn record(
    metrics: &mut dyn MetricSink,
    t: Timeline,
    n: u64,
    loss_sum: f64,
    log_sum: f64,
    correct: u64,
    classify: bool,
    loss: LinearLoss,
    reader: &LibsvmReader,
    start: Instant,
) {
    let nf = n as f64;
    metrics.record(t, n, "online/progressive_loss", loss_sum / nf);
    metrics.record(t, n, "online/cumulative_loss", loss_sum);
    if classify {
        metrics.record(t, n, "online/progressive_accuracy", correct as f64 / nf);
        if loss == LinearLoss::Logistic {
            metrics.record(t, n, "online/progressive_logloss", log_sum / nf);
        }
    }
    metrics.record(t, n, "online/skipped_lines", reader.stats().skipped as f64);
    metrics.record(
        t,
        n,
        "system/sps",
        nf / start.elapsed().as_secs_f64().max(1e-9),
    );
}
