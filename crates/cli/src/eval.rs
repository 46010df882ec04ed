//! `mirrorflow eval RUN_DIR`: deterministic episodes of a trained policy.
//!
//! The policy comes from `RUN_DIR/final_params.bin` (written at the end of every rollout run)
//! or from a checkpoint (`--checkpoint latest` or a `.ckpt` path: the actors' parameters of that
//! version). Episodes are seeded from the run seed exactly as the run's own evaluations
//! (`eval/mean_return`), so evaluating the final parameters with the same number of episodes
//! reproduces the run's last evaluation.

use crate::checkpoints;
use crate::registry::AgentKind;
use crate::train::prepare;
use mirrorflow_core::codec::Reader;
use mirrorflow_core::{ParamSnapshot, SeedStream};
use mirrorflow_runtime::{Checkpoint, EvalResult, evaluate};
use std::path::{Path, PathBuf};

/// File with the final actor parameters of a run.
pub const FINAL_PARAMS: &str = "final_params.bin";

/// What to evaluate.
pub struct EvalArgs {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Episodes to play.
    pub episodes: u32,
    /// `latest` or a checkpoint file; `None`: the final parameters.
    pub checkpoint: Option<String>,
    /// Episode seeds from this run seed instead of the run's own.
    pub seed: Option<u64>,
}

/// Plays the episodes; every failure names the file or the problem.
pub fn eval(args: &EvalArgs) -> Result<(EvalResult, String), String> {
    if args.episodes == 0 {
        return Err("--episodes 0: must be at least 1".into());
    }
    let config = args.run_dir.join("config.toml");
    if !config.is_file() {
        return Err(format!(
            "{}: not a run directory (no config.toml)",
            args.run_dir.display()
        ));
    }
    let plan = prepare(&config, &[], None).map_err(|e| format!("{}: {e}", config.display()))?;
    let AgentKind::Rollout(builder) = &plan.agent.agent else {
        return Err(format!(
            "{}: agent `{}` is a planner; its results are in metrics.jsonl and the .npy files",
            args.run_dir.display(),
            plan.agent.kind_name
        ));
    };
    let (params, source) = load_params(&args.run_dir, args.checkpoint.as_deref())?;
    let mut policy = builder
        .make_policy(&plan.env.spec, &params)
        .map_err(|e| format!("{source}: {e}"))?;
    let seeds = SeedStream::new(args.seed.unwrap_or(plan.file.seed));
    let result = evaluate(&plan.env.factory, policy.as_mut(), seeds, args.episodes)?;
    Ok((result, source))
}

fn load_params(
    run_dir: &Path,
    checkpoint: Option<&str>,
) -> Result<(ParamSnapshot, String), String> {
    let from_checkpoint = |c: Checkpoint, what: String| {
        c.recent
            .last()
            .cloned()
            .map(|p| (p, format!("{what} (version {})", c.version)))
            .ok_or_else(|| format!("{what}: holds no parameters"))
    };
    match checkpoint {
        None => {
            let path = run_dir.join(FINAL_PARAMS);
            let bytes = std::fs::read(&path).map_err(|e| {
                format!(
                    "{}: {e} (the run did not finish; try --checkpoint latest)",
                    path.display()
                )
            })?;
            let params = Reader::new(&bytes)
                .snapshot()
                .map_err(|e| format!("{}: corrupt parameter file: {e}", path.display()))?;
            Ok((params, path.display().to_string()))
        }
        Some("latest") => {
            let (c, _) = checkpoints::latest(run_dir)?;
            from_checkpoint(c, format!("{} latest checkpoint", run_dir.display()))
        }
        Some(file) => {
            let path = PathBuf::from(file);
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let c = Checkpoint::decode(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            from_checkpoint(c, path.display().to_string())
        }
    }
}
