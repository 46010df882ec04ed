//! `mirrorflow train` and `mirrorflow check`.

use crate::checkpoints::{self, FileCheckpoints};
use crate::config::{ConfigError, ExperimentFile, Schedule, cfg_err, load};
use crate::registry::{
    AgentKind, ResolvedAgent, ResolvedEnv, RuntimeShape, resolve_agent, resolve_env,
};
use anyhow::Context;
use mirrorflow_core::{FrameCapture, MetricSink, ParamSnapshot, SeedStream, Timeline};
use mirrorflow_runtime::cluster::{ClusterSpec, EXIT_RENDEZVOUS, Peers};
use mirrorflow_runtime::{
    Checkpoint, CheckpointSink, LoopPlan, Placement, RuntimeError, Status, run_loop, run_planner,
};
use mirrorflow_telemetry::jsonl::JsonlSink;
use mirrorflow_telemetry::progress::ProgressSink;
use mirrorflow_telemetry::run_dir::RunDir;
use mirrorflow_telemetry::summary::SummarySink;
use mirrorflow_telemetry::{Fanout, Shared, npy};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Version and commit written into every run.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Commit the binary was built from.
pub const GIT_COMMIT: &str = env!("MIRRORFLOW_GIT_COMMIT");

/// A validated experiment, ready to run.
pub struct Plan {
    /// The parsed file (after overrides).
    pub file: ExperimentFile,
    /// The env.
    pub env: ResolvedEnv,
    /// The agent.
    pub agent: ResolvedAgent,
}

/// Parses and validates everything; writes nothing.
pub fn prepare(config: &Path, sets: &[String], seed: Option<u64>) -> Result<Plan, ConfigError> {
    let file = load(config, sets, seed)?;
    if file.name.is_empty() || file.name.contains(['/', '\\']) {
        return Err(cfg_err(format!(
            "name = {:?}: must be non-empty and contain no path separator",
            file.name
        )));
    }
    if file.run.iterations == 0 {
        return Err(cfg_err("[run] iterations = 0: must be at least 1"));
    }
    file.runtime.validate()?;
    file.telemetry.validate()?;
    let mut env = resolve_env(&file.env)?;
    let agent = resolve_agent(
        &file.agent,
        &env,
        SeedStream::new(file.seed).learner(),
        file.run.iterations,
    )?;
    let mut file = file;
    match &agent.runtime_shape {
        Some(RuntimeShape::Generative { mdp, per_iteration }) => {
            generative_plan(&mut file, &mut env, mdp.clone(), *per_iteration)?;
        }
        Some(RuntimeShape::Episodes { horizon }) => {
            // one round = one whole episode on one env; no checkpoints (see the agent)
            let r = &mut file.runtime;
            (r.num_shards, r.envs_per_shard, r.batches_per_version) = (1, 1, 1);
            (r.steps_per_env, r.checkpoint_every, r.lag) = (*horizon, 0, 0);
            r.schedule = Schedule::Sync;
            file.run.env_steps = file.run.iterations * *horizon as u64;
        }
        None => {}
    }
    Ok(Plan { file, env, agent })
}

/// A learner that samples a known model through env shards: the envs become generative
/// samplers sweeping the state–action pairs, one version is one iteration (`per_iteration`
/// samples), `steps_per_env` is derived, and the budget is `[run] iterations`.
fn generative_plan(
    file: &mut ExperimentFile,
    env: &mut ResolvedEnv,
    mdp: Arc<mirrorflow_core::TabularMdp>,
    per_iteration: u64,
) -> Result<(), ConfigError> {
    let r = &mut file.runtime;
    let per_batch_row =
        r.num_shards as u64 * r.envs_per_shard as u64 * r.batches_per_version as u64;
    if per_batch_row == 0 || !per_iteration.is_multiple_of(per_batch_row) {
        return Err(cfg_err(format!(
            "[runtime] num_shards × envs_per_shard × batches_per_version = {} × {} × {} must divide the {per_iteration} samples of one iteration (m·S·A·n); e.g. num_shards = 1, envs_per_shard = 1",
            r.num_shards, r.envs_per_shard, r.batches_per_version
        )));
    }
    r.steps_per_env = (per_iteration / per_batch_row) as usize;
    file.run.env_steps = file.run.iterations * per_iteration;
    let total = per_batch_row / r.batches_per_version as u64;
    let id = format!("{}-generative", env.id);
    let sampler = mirrorflow_env_tabular::GenerativeEnv::new(&id, mdp.clone(), 0, total);
    let spec = mirrorflow_core::Env::spec(&sampler).clone();
    env.spec = spec;
    env.factory = Arc::new(move |i| {
        Ok(Box::new(mirrorflow_env_tabular::GenerativeEnv::new(
            &id,
            mdp.clone(),
            i,
            total,
        )) as Box<dyn mirrorflow_core::Env>)
    });
    Ok(())
}

/// The fully resolved config, with provenance in a comment header. Feeding it back to
/// `mirrorflow train` reproduces the run.
pub fn resolved_toml(plan: &Plan) -> String {
    let mut t = toml::Table::new();
    t.insert("name".into(), toml::Value::String(plan.file.name.clone()));
    t.insert("seed".into(), toml::Value::Integer(plan.file.seed as i64));
    t.insert("env".into(), toml::Value::Table(plan.env.params.clone()));
    t.insert(
        "agent".into(),
        toml::Value::Table(plan.agent.params.clone()),
    );
    t.insert(
        "run".into(),
        toml::Value::try_from(&plan.file.run).unwrap_or(toml::Value::Table(toml::Table::new())),
    );
    if matches!(plan.agent.agent, AgentKind::Rollout(_)) {
        t.insert(
            "runtime".into(),
            toml::Value::try_from(&plan.file.runtime)
                .unwrap_or(toml::Value::Table(toml::Table::new())),
        );
    }
    format!(
        "# Resolved by mirrorflow {VERSION} (git {GIT_COMMIT}); every default is written out.\n{}",
        toml::to_string(&t).unwrap_or_default()
    )
}

/// Hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `mirrorflow check`: validate and describe.
pub fn check(config: &Path, sets: &[String], seed: Option<u64>) -> Result<(), ConfigError> {
    let plan = prepare(config, sets, seed)?;
    println!(
        "{}: OK — env {} (observation {}, action {}), agent {}, {} iterations, seed {}",
        config.display(),
        plan.env.id,
        plan.env.spec.observation_space,
        plan.env.spec.action_space,
        plan.agent.kind_name,
        plan.file.run.iterations,
        plan.file.seed
    );
    Ok(())
}

/// Exit codes of `train`.
pub mod exit {
    /// Completed.
    pub const OK: u8 = 0;
    /// The run failed (agent or env error); `summary.json` says why.
    pub const FAILED: u8 = 1;
    /// Usage or config error; nothing was written.
    pub const USAGE: u8 = 2;
    /// Interrupted by Ctrl-C; everything done so far was saved.
    pub const INTERRUPTED: u8 = 130;
}

fn install_ctrlc(stop: Arc<AtomicBool>) {
    let _ = ctrlc::set_handler(move || {
        if stop.swap(true, Ordering::SeqCst) {
            eprintln!("second interrupt: exiting now");
            std::process::exit(exit::INTERRUPTED as i32);
        }
        eprintln!("interrupt: stopping after the current iteration (Ctrl-C again to exit at once)");
    });
}

/// Multi-process placement given on the command line (or by SLURM).
#[derive(Clone, Debug, Default)]
pub struct ClusterArgs {
    /// Number of processes.
    pub processes: Option<usize>,
    /// This process's index.
    pub process_id: Option<usize>,
    /// Hostfile: one `host:port` per process.
    pub hosts: Option<PathBuf>,
    /// Rendezvous directory shared by the processes (single machine / shared filesystem).
    pub rendezvous: Option<PathBuf>,
    /// Cluster generation (the launcher increments it at each restart).
    pub generation: u64,
    /// Progress watchdog in seconds (0 = off).
    pub watchdog_secs: f64,
    /// Mesh-formation deadline in seconds.
    pub rendezvous_timeout_secs: f64,
}

impl ClusterArgs {
    /// Resolves to a cluster spec, reading `SLURM_NTASKS` / `SLURM_PROCID` when the flags are
    /// absent; `None` for a single-process run.
    pub fn resolve(&self, threads: usize, run_id: u64) -> Result<Option<ClusterSpec>, ConfigError> {
        let slurm = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<usize>().ok());
        let processes = self
            .processes
            .or_else(|| slurm("SLURM_NTASKS"))
            .unwrap_or(1);
        if processes <= 1 {
            return Ok(None);
        }
        let process_id = self
            .process_id
            .or_else(|| slurm("SLURM_PROCID"))
            .ok_or_else(|| {
                cfg_err(format!(
                    "--processes {processes} needs --process-id I (0..{processes}) or SLURM_PROCID"
                ))
            })?;
        if process_id >= processes {
            return Err(cfg_err(format!(
                "--process-id {process_id}: must be in 0..{processes}"
            )));
        }
        let peers = match (&self.hosts, &self.rendezvous) {
            (Some(h), None) => {
                let text = std::fs::read_to_string(h).map_err(|e| {
                    cfg_err(format!("{}: cannot read the hostfile: {e}", h.display()))
                })?;
                let lines: Vec<String> = text
                    .lines()
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .collect();
                if lines.len() < processes {
                    return Err(cfg_err(format!(
                        "{}: lists {} addresses, --processes {processes} needs one host:port line per process",
                        h.display(),
                        lines.len()
                    )));
                }
                Peers::Hostfile(lines.into_iter().take(processes).collect())
            }
            (None, Some(d)) => Peers::Rendezvous(d.clone()),
            _ => {
                return Err(cfg_err(
                    "a multi-process run needs exactly one of --hosts HOSTFILE or --rendezvous DIR",
                ));
            }
        };
        Ok(Some(ClusterSpec {
            processes,
            process_id,
            threads: threads.max(1),
            peers,
            run_id,
            generation: self.generation,
            rendezvous_timeout: Duration::from_secs_f64(self.rendezvous_timeout_secs.max(0.1)),
        }))
    }
}

/// `mirrorflow train`. Config errors come back as `Err(ConfigError)` before anything is written.
/// With `resume`, the config is `RUN_DIR/config.toml` and the run continues from its newest
/// checkpoint.
pub fn train(
    config: Option<&Path>,
    sets: &[String],
    seed: Option<u64>,
    run_dir: Option<PathBuf>,
    cluster: &ClusterArgs,
    resume: Option<&Path>,
) -> Result<anyhow::Result<u8>, ConfigError> {
    let config_path = match (config, resume) {
        (Some(c), None) => c.to_path_buf(),
        (None, Some(r)) => r.join("config.toml"),
        (Some(_), Some(_)) => {
            return Err(cfg_err(
                "give either CONFIG or --resume RUN_DIR (which uses RUN_DIR/config.toml), not both",
            ));
        }
        (None, None) => {
            return Err(cfg_err(
                "give an experiment file (CONFIG) or --resume RUN_DIR",
            ));
        }
    };
    if resume.is_some() && run_dir.is_some() {
        return Err(cfg_err(
            "--resume continues in RUN_DIR itself; drop --run-dir",
        ));
    }
    let plan = prepare(&config_path, sets, seed)?;
    if let AgentKind::Online(o) = &plan.agent.agent
        && plan.file.run.offline_passes > 0
        && o.loss == mirrorflow_core::LinearLoss::Hinge
    {
        return Err(cfg_err(
            "[run] offline_passes > 0 fits the best fixed predictor by L-BFGS, which needs a \
             smooth loss: use loss = \"logistic\" or \"squared\", or offline_passes = 0",
        ));
    }
    let run_id = run_id(&plan);
    let spec = cluster.resolve(plan.file.runtime.workers, run_id)?;
    if resume.is_some() && !matches!(plan.agent.agent, AgentKind::Rollout(_)) {
        return Err(cfg_err(format!(
            "agent `{}` runs from the start; --resume is for rollout agents",
            plan.agent.kind_name
        )));
    }
    if spec.is_some() && matches!(plan.agent.agent, AgentKind::Planner(_)) {
        return Err(cfg_err(format!(
            "agent `{}` runs in one process; --processes is for rollout and online agents",
            plan.agent.kind_name
        )));
    }
    let checkpoint = match resume {
        Some(r) => Some(checkpoints::latest(r).map_err(cfg_err)?),
        None => None,
    };
    let watchdog =
        (cluster.watchdog_secs > 0.0).then(|| Duration::from_secs_f64(cluster.watchdog_secs));
    if let Some(c) = &spec
        && c.process_id != 0
    {
        return Ok(follow(plan, c.clone(), watchdog, checkpoint.map(|c| c.0)));
    }
    let dir = match (&run_dir, resume) {
        (_, Some(r)) => Ok(RunDir::open(r)),
        (Some(d), None) => RunDir::create_exact(d),
        (None, None) => RunDir::create_new(
            Path::new(&plan.file.run.runs_dir),
            &plan.file.name,
            plan.file.seed,
        ),
    }
    .map_err(|e| cfg_err(e.to_string()))?;
    let placement = match spec {
        Some(c) => Placement::Cluster(c),
        None => Placement::Threads(plan.file.runtime.workers),
    };
    Ok(execute(plan, dir, placement, watchdog, checkpoint))
}

/// The run id every process of a cluster agrees on: a hash of the resolved config.
pub fn run_id(plan: &Plan) -> u64 {
    let h = Sha256::digest(resolved_toml(plan).as_bytes());
    u64::from_le_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
}

/// A process other than 0 of a cluster: runs its actors, writes nothing.
fn follow(
    plan: Plan,
    spec: ClusterSpec,
    watchdog: Option<Duration>,
    resume: Option<Checkpoint>,
) -> anyhow::Result<u8> {
    let stop = Arc::new(AtomicBool::new(false));
    install_ctrlc(stop.clone());
    let Plan { file, env, agent } = plan;
    let me = spec.process_id;
    let result = match (agent.agent, &env.kind) {
        (AgentKind::Rollout(builder), _) => run_loop(
            Placement::Cluster(spec),
            loop_plan(&file),
            env.spec.clone(),
            env.factory.clone(),
            builder,
            Box::new(mirrorflow_core::metrics::NullSink),
            None,
            resume,
            stop,
            watchdog,
        )
        .map(|_| ()),
        (AgentKind::Online(online), crate::registry::EnvKind::Stream(stream)) => {
            crate::online::run_online(
                &online,
                stream,
                Placement::Cluster(spec),
                file.run.env_steps,
                file.runtime.average_every,
                file.runtime.average_lag,
                0,
                Box::new(mirrorflow_core::metrics::NullSink),
                stop,
            )
            .map(|_| ())
        }
        _ => return Ok(exit::USAGE),
    };
    match result {
        Ok(()) => Ok(exit::OK),
        Err(RuntimeError::Rendezvous(e)) => {
            eprintln!("error: process {me}: {e}");
            Ok(EXIT_RENDEZVOUS as u8)
        }
        Err(e) => {
            eprintln!("error: process {me}: {e}");
            Ok(exit::FAILED)
        }
    }
}

/// What a finished run reports into `summary.json`.
struct Finish {
    status: &'static str,
    env_steps: u64,
    learner_steps: u64,
    wall_secs: f64,
    final_params: Option<ParamSnapshot>,
    error: Option<String>,
}

/// What process 0 of a runtime job reports: `ok` of worker 0's outcome; a runtime error or a
/// missing outcome is a failed run; a failed rendezvous is its exit code (`Err`).
fn finish_of<T>(
    result: Result<Option<T>, RuntimeError>,
    start: Instant,
    ok: impl FnOnce(T) -> Finish,
) -> Result<Finish, u8> {
    if let Err(RuntimeError::Rendezvous(e)) = &result {
        eprintln!("error: process 0: {e}");
        return Err(EXIT_RENDEZVOUS as u8);
    }
    Ok(
        match result
            .and_then(|o| o.ok_or_else(|| RuntimeError::Worker("no outcome from worker 0".into())))
        {
            Ok(o) => ok(o),
            Err(e) => Finish {
                status: "failed",
                env_steps: 0,
                learner_steps: 0,
                wall_secs: start.elapsed().as_secs_f64(),
                final_params: None,
                error: Some(e.to_string()),
            },
        },
    )
}

fn execute(
    plan: Plan,
    dir: RunDir,
    placement: Placement,
    watchdog: Option<Duration>,
    resume: Option<(Checkpoint, u64)>,
) -> anyhow::Result<u8> {
    let stop = Arc::new(AtomicBool::new(false));
    install_ctrlc(stop.clone());
    dir.write("config.toml", resolved_toml(&plan).as_bytes())?;
    eprintln!("run directory: {}", dir.path().display());
    let resolved = resolved_toml(&plan);
    let Plan { file, env, agent } = plan;
    let summary = Shared::new(SummarySink::default());
    let mut sinks = Fanout::new();
    let jsonl = match &resume {
        Some((c, metrics_bytes)) => {
            eprintln!(
                "resuming from the checkpoint at version {} ({} env steps)",
                c.version, c.env_steps
            );
            JsonlSink::resume(dir.path(), *metrics_bytes)?
        }
        None => JsonlSink::create(dir.path())?,
    };
    sinks.push(Box::new(jsonl));
    let timeline = match agent.agent {
        AgentKind::Planner(_) => Timeline::LearnerSteps,
        AgentKind::Rollout(_) | AgentKind::Online(_) => Timeline::EnvSteps,
    };
    if let Some(r) = rerun_sink(&file, dir.path(), &resolved, resume.is_some(), timeline) {
        sinks.push(r);
    }
    sinks.push(Box::new(summary.clone()));
    let (timeline, total) = match &agent.agent {
        AgentKind::Planner(_) => (Timeline::LearnerSteps, file.run.iterations),
        AgentKind::Rollout(_) => (
            Timeline::EnvSteps,
            loop_plan(&file).versions * loop_plan(&file).steps_per_version(),
        ),
        AgentKind::Online(_) => (Timeline::EnvSteps, file.run.env_steps),
    };
    let progress = Shared::new(ProgressSink::new(timeline, total, agent.key_metric));
    sinks.push(Box::new(progress.clone()));
    sinks.event(&format!("config: {}", file.name));
    let start = Instant::now();

    let finish = match agent.agent {
        AgentKind::Online(online) => {
            let crate::registry::EnvKind::Stream(stream) = &env.kind else {
                anyhow::bail!("online agents need an example stream (checked when resolving)");
            };
            let result = crate::online::run_online(
                &online,
                stream,
                placement,
                file.run.env_steps,
                file.runtime.average_every,
                file.runtime.average_lag,
                file.run.offline_passes,
                Box::new(sinks),
                stop.clone(),
            );
            sinks = Fanout::new();
            match finish_of(result, start, |o| Finish {
                status: o.status,
                env_steps: o.examples,
                learner_steps: o.examples,
                wall_secs: start.elapsed().as_secs_f64(),
                final_params: Some(o.params),
                error: o.error,
            }) {
                Ok(f) => f,
                Err(code) => return Ok(code),
            }
        }
        AgentKind::Planner(mut planner) => {
            let result = run_planner(planner.as_mut(), file.run.iterations, &mut sinks, &stop);
            for (name, array) in planner.artifacts() {
                npy::write_f64_2d(&dir.path().join(format!("{name}.npy")), &array)
                    .with_context(|| format!("writing {name}.npy"))?;
            }
            let (status, error) = match &result {
                Ok(o) => (o.status.as_str(), None),
                Err(e) => ("failed", Some(e.to_string())),
            };
            Finish {
                status,
                env_steps: 0,
                learner_steps: planner.iterations(),
                wall_secs: start.elapsed().as_secs_f64(),
                final_params: Some(planner.snapshot()),
                error,
            }
        }
        AgentKind::Rollout(builder) => {
            let result = run_loop(
                placement,
                loop_plan(&file),
                env.spec.clone(),
                env.factory.clone(),
                builder,
                Box::new(sinks),
                (file.runtime.checkpoint_every > 0).then(|| {
                    Box::new(FileCheckpoints::new(dir.path())) as Box<dyn CheckpointSink + Send>
                }),
                resume.map(|r| r.0),
                stop.clone(),
                watchdog,
            );
            sinks = Fanout::new();
            match finish_of(result, start, |o| Finish {
                status: if o.error.is_some() {
                    "failed"
                } else if o.interrupted {
                    Status::Interrupted.as_str()
                } else {
                    Status::Completed.as_str()
                },
                env_steps: o.env_steps,
                learner_steps: o.versions,
                wall_secs: start.elapsed().as_secs_f64(),
                final_params: o.final_params,
                error: o.error,
            }) {
                Ok(f) => f,
                Err(code) => return Ok(code),
            }
        }
    };
    progress.with(|p| p.finish());
    sinks.flush();
    drop(sinks);
    if let Some(p) = &finish.final_params {
        let mut w = mirrorflow_core::codec::Writer::new();
        w.snapshot(p);
        dir.write(crate::eval::FINAL_PARAMS, &w.bytes)?;
    }
    summary.with(|s| write_summary(&dir, &file, &env, &agent.kind_name, &finish, s))?;
    match (&finish.error, finish.status) {
        (Some(e), _) => {
            eprintln!("error: run failed: {e}");
            Ok(exit::FAILED)
        }
        (None, "interrupted") => Ok(exit::INTERRUPTED),
        _ => {
            if let Some(v) = summary.with(|s| s.last.get(agent.key_metric).copied()) {
                eprintln!("done: {} = {v:.6e}", agent.key_metric);
            }
            Ok(exit::OK)
        }
    }
}

/// The rerun sink for `[telemetry] rerun` (none for `off`). A failure to open it is reported
/// and the run goes on with its files.
fn rerun_sink(
    file: &ExperimentFile,
    dir: &Path,
    resolved: &str,
    resumed: bool,
    timeline: Timeline,
) -> Option<Box<dyn MetricSink + Send>> {
    use mirrorflow_telemetry::rerun_sink::{DEFAULT_CONNECT, RerunSink, RerunTarget};
    let modes: Vec<&str> = file
        .telemetry
        .rerun
        .iter()
        .map(String::as_str)
        .filter(|m| *m != "off")
        .collect();
    if modes.is_empty() {
        return None;
    }
    let rrd = {
        let mut p = dir.join("telemetry.rrd");
        let mut k = 1;
        while resumed && p.exists() {
            p = dir.join(format!("telemetry.{k}.rrd"));
            k += 1;
        }
        p
    };
    let targets: Vec<RerunTarget> = modes
        .iter()
        .map(|m| match *m {
            "file" => RerunTarget::File(rrd.clone()),
            "spawn" => RerunTarget::Spawn,
            "connect" => RerunTarget::Connect(DEFAULT_CONNECT.to_string()),
            other => RerunTarget::Connect(other.trim_start_matches("connect=").to_string()),
        })
        .collect();
    let recording_id = format!("{:016x}", {
        let h = Sha256::digest(resolved.as_bytes());
        u64::from_le_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
    });
    match RerunSink::new(
        &targets,
        "mirrorflow",
        &recording_id,
        resolved,
        file.telemetry.max_points_per_sec,
        timeline,
    ) {
        Ok(s) => Some(Box::new(s)),
        Err(e) => {
            eprintln!("warning: {e}; continuing without the rerun dashboard");
            None
        }
    }
}

/// The loop shape from `[runtime]` and `[run] env_steps` (rounded up to whole versions).
pub fn loop_plan(file: &ExperimentFile) -> LoopPlan {
    let r = &file.runtime;
    let mut plan = LoopPlan {
        num_shards: r.num_shards,
        envs_per_shard: r.envs_per_shard,
        steps_per_env: r.steps_per_env,
        batches_per_version: r.batches_per_version,
        versions: 0,
        seed: file.seed,
        lag: r.lag,
        checkpoint_every: r.checkpoint_every,
        schedule: match r.schedule {
            Schedule::Sync => mirrorflow_runtime::Schedule::Sync,
            Schedule::Async => mirrorflow_runtime::Schedule::Async,
        },
        frames: (file.telemetry.frames_every > 0).then_some(FrameCapture {
            every_episodes: file.telemetry.frames_every,
            stride: 2,
            max_frames: 250,
            min_gap_secs: file.telemetry.frames_min_gap_secs,
        }),
        eval: (file.run.eval_episodes > 0).then_some(mirrorflow_runtime::EvalPlan {
            every_steps: file.run.eval_every,
            episodes: file.run.eval_episodes,
        }),
    };
    plan.versions = file
        .run
        .env_steps
        .div_ceil(plan.steps_per_version().max(1))
        .max(1);
    plan
}

fn write_summary(
    dir: &RunDir,
    file: &ExperimentFile,
    env: &ResolvedEnv,
    agent: &str,
    finish: &Finish,
    summary: &SummarySink,
) -> anyhow::Result<()> {
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: serde_json::Value| {
        m.insert(k.to_string(), v);
    };
    put("status", finish.status.into());
    put("name", file.name.clone().into());
    put("seed", file.seed.into());
    put("env", env.id.clone().into());
    put("agent", agent.into());
    put("env_steps", finish.env_steps.into());
    put("learner_steps", finish.learner_steps.into());
    put("wall_secs", finish.wall_secs.into());
    put(
        "final_params_sha256",
        finish
            .final_params
            .as_ref()
            .map_or(serde_json::Value::Null, |p| {
                sha256_hex(&p.canonical_bytes()).into()
            }),
    );
    put("mirrorflow_version", VERSION.into());
    put("git_commit", GIT_COMMIT.into());
    if let Some(e) = &finish.error {
        put("error", e.clone().into());
    }
    for (k, v) in &summary.last {
        m.insert(
            k.clone(),
            serde_json::Number::from_f64(*v)
                .map_or_else(|| v.to_string().into(), serde_json::Value::Number),
        );
    }
    let text = serde_json::to_string_pretty(&serde_json::Value::Object(m))?;
    dir.write("summary.json", format!("{text}\n").as_bytes())?;
    Ok(())
}
