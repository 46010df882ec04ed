//! `mirrorflow`: train, check and list.
//!
//! Exit codes: 0 completed, 1 run failed, 2 usage or config error (nothing written),
//! 130 interrupted (everything so far saved).

mod checkpoints;
mod config;
mod eval;
mod launch;
mod oco;
mod online;
mod plot;
mod registry;
mod train;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mirrorflow",
    version,
    about = "Distributed reinforcement learning and online learning"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Multi-process flags of `train`.
#[derive(clap::Args, Debug, Default)]
struct ClusterFlags {
    /// Number of processes in the run (default: SLURM_NTASKS, else 1).
    #[arg(long)]
    processes: Option<usize>,
    /// This process's index, 0..processes (default: SLURM_PROCID).
    #[arg(long)]
    process_id: Option<usize>,
    /// Hostfile: one host:port line per process, the same file on every node.
    #[arg(long, value_name = "HOSTFILE")]
    hosts: Option<PathBuf>,
    /// Shared directory where processes publish their addresses (instead of --hosts).
    #[arg(long, value_name = "DIR")]
    rendezvous: Option<PathBuf>,
    /// Cluster generation; stale processes of another generation are refused.
    #[arg(long, default_value_t = 0)]
    generation: u64,
    /// Progress watchdog, seconds: a process that sees no progress for this long exits with
    /// code 3 naming itself (0 = off).
    #[arg(long, default_value_t = 60.0)]
    watchdog: f64,
    /// Deadline for forming the process mesh, seconds (exit code 4 when it passes).
    #[arg(long, default_value_t = 30.0)]
    rendezvous_timeout: f64,
}

#[derive(Subcommand)]
enum Command {
    /// Train an agent from an experiment file.
    Train {
        /// Experiment file (TOML); omit with --resume.
        config: Option<PathBuf>,
        /// Continue the run in RUN_DIR from its newest checkpoint (uses RUN_DIR/config.toml).
        #[arg(long, value_name = "RUN_DIR")]
        resume: Option<PathBuf>,
        /// Override a config value, e.g. --set agent.lambda=0.5 (repeatable).
        #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
        sets: Vec<String>,
        /// Run seed (overrides `seed` in the file).
        #[arg(long)]
        seed: Option<u64>,
        /// Exact run directory (must not exist or be empty). Default: runs/<name>__s<seed>__<time>.
        #[arg(long)]
        run_dir: Option<PathBuf>,
        /// Worker threads in this process (overrides `runtime.workers`).
        #[arg(long)]
        workers: Option<usize>,
        /// Rerun dashboard: off, file, connect, connect=ADDR, spawn (repeatable; replaces
        /// `[telemetry] rerun`).
        #[arg(long = "rerun", value_name = "MODE")]
        rerun: Vec<String>,
        #[command(flatten)]
        cluster: ClusterFlags,
    },
    /// Start N processes of one run on this machine, form their mesh, supervise them.
    Launch {
        /// Number of local processes.
        #[arg(long)]
        local: usize,
        /// Experiment file (TOML).
        config: PathBuf,
        /// Override a config value (repeatable).
        #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
        sets: Vec<String>,
        /// Run seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Exact run directory (must not exist or be empty).
        #[arg(long)]
        run_dir: Option<PathBuf>,
        /// Worker threads per process.
        #[arg(long)]
        workers: Option<usize>,
        /// Progress watchdog per process, seconds (0 = off).
        #[arg(long, default_value_t = 60.0)]
        watchdog: f64,
        /// Restart the whole cluster from its newest checkpoint up to this many times when a
        /// process fails.
        #[arg(long, default_value_t = 3)]
        restarts: u32,
    },
    /// Validate an experiment file without running anything or writing any file.
    Check {
        /// Experiment file (TOML).
        config: PathBuf,
        /// Override a config value (repeatable).
        #[arg(long = "set", value_name = "KEY.PATH=VALUE")]
        sets: Vec<String>,
        /// Run seed.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Draw learning curves from run directories into a PNG: runs that differ only in their
    /// seed are averaged (mean ± std band), other differences make separate lines.
    Plot {
        /// Run directories (each with config.toml and metrics.jsonl).
        #[arg(required = true)]
        runs: Vec<PathBuf>,
        /// Output PNG file.
        #[arg(short, long)]
        out: PathBuf,
        /// Metric to draw (default: charts/episodic_return, tabular/q_error_inf or
        /// online/regret, whichever the runs record).
        #[arg(long)]
        metric: Option<String>,
        /// x-axis: `step` (the metric's own timeline), `wall` (seconds) or `config:KEY` (a sweep:
        /// each run's final value against its numeric config value, e.g.
        /// `config:agent.schedule.eta0`; runs that differ only in KEY and the seed form a line).
        #[arg(long, default_value = "step")]
        x: String,
        /// Config keys to average over besides the seed, e.g. env.model_seed (repeatable; a
        /// section name covers its keys).
        #[arg(long = "average-over", value_name = "KEY")]
        average_over: Vec<String>,
        /// Group runs by directory name without the seed (`sac-s3` → `sac`), labelled so,
        /// instead of by config.
        #[arg(long = "group-by-dir")]
        group_by_dir: bool,
        /// Logarithmic x-axis.
        #[arg(long)]
        log_x: bool,
        /// Logarithmic y-axis.
        #[arg(long)]
        log_y: bool,
        /// Title (default: the metric).
        #[arg(long)]
        title: Option<String>,
        /// Bins along the x-axis.
        #[arg(long, default_value_t = 200)]
        points: usize,
        /// Picture width in pixels.
        #[arg(long, default_value_t = 960)]
        width: u32,
        /// Picture height in pixels.
        #[arg(long, default_value_t = 600)]
        height: u32,
    },
    /// Play deterministic episodes with a trained policy and report the mean ± std return.
    Eval {
        /// Run directory.
        run_dir: PathBuf,
        /// Episodes to play.
        #[arg(long, default_value_t = 10)]
        episodes: u32,
        /// Evaluate a checkpoint instead of the final parameters: `latest` or a `.ckpt` file.
        #[arg(long, value_name = "latest|FILE")]
        checkpoint: Option<String>,
        /// Seed the episodes from this run seed (default: the run's own, as its evaluations).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// List environments with their spaces and parameters.
    Envs,
    /// List agents with their hyper-parameters.
    Agents,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Train {
            config,
            resume,
            mut sets,
            seed,
            run_dir,
            workers,
            rerun,
            cluster,
        } => {
            if let Some(w) = workers {
                sets.push(format!("runtime.workers={w}"));
            }
            if !rerun.is_empty() {
                let list: Vec<String> = rerun.iter().map(|m| format!("{m:?}")).collect();
                sets.push(format!("telemetry.rerun=[{}]", list.join(", ")));
            }
            let cluster = train::ClusterArgs {
                processes: cluster.processes,
                process_id: cluster.process_id,
                hosts: cluster.hosts,
                rendezvous: cluster.rendezvous,
                generation: cluster.generation,
                watchdog_secs: cluster.watchdog,
                rendezvous_timeout_secs: cluster.rendezvous_timeout,
            };
            match train::train(
                config.as_deref(),
                &sets,
                seed,
                run_dir,
                &cluster,
                resume.as_deref(),
            ) {
                Err(e) => {
                    eprintln!("error: {e}");
                    train::exit::USAGE
                }
                Ok(Ok(code)) => code,
                Ok(Err(e)) => {
                    eprintln!("error: {e:#}");
                    train::exit::FAILED
                }
            }
        }
        Command::Launch {
            local,
            config,
            sets,
            seed,
            run_dir,
            workers,
            watchdog,
            restarts,
        } => launch::launch_local(
            local, &config, &sets, seed, run_dir, workers, watchdog, restarts,
        ),
        Command::Check { config, sets, seed } => match train::check(&config, &sets, seed) {
            Ok(()) => train::exit::OK,
            Err(e) => {
                eprintln!("error: {e}");
                train::exit::USAGE
            }
        },
        Command::Plot {
            runs,
            out,
            metric,
            x,
            average_over,
            group_by_dir,
            log_x,
            log_y,
            title,
            points,
            width,
            height,
        } => {
            let args = plot::PlotArgs {
                runs,
                out,
                metric,
                x,
                average_over,
                log_x,
                log_y,
                title,
                points,
                size: (width, height),
                group_by_dir,
            };
            match plot::plot(&args) {
                Ok(groups) => {
                    for (label, n) in groups {
                        eprintln!("  {label}: {n} run(s)");
                    }
                    eprintln!("wrote {}", args.out.display());
                    train::exit::OK
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    train::exit::USAGE
                }
            }
        }
        Command::Eval {
            run_dir,
            episodes,
            checkpoint,
            seed,
        } => {
            let args = eval::EvalArgs {
                run_dir,
                episodes,
                checkpoint,
                seed,
            };
            match eval::eval(&args) {
                Ok((r, source)) => {
                    eprintln!(
                        "{source}: mean return {:.3} ± {:.3} over {} episodes (mean length {:.1})",
                        r.mean(),
                        r.std(),
                        r.returns.len(),
                        r.mean_length()
                    );
                    println!(
                        "{}",
                        serde_json::json!({
                            "episodes": r.returns.len(),
                            "mean_return": r.mean(),
                            "std_return": r.std(),
                            "mean_length": r.mean_length(),
                            "returns": r.returns,
                        })
                    );
                    train::exit::OK
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    train::exit::USAGE
                }
            }
        }
        Command::Envs => {
            list_envs();
            train::exit::OK
        }
        Command::Agents => {
            list_agents();
            train::exit::OK
        }
    };
    ExitCode::from(code)
}

fn params_line(t: &toml::Table) -> String {
    t.iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn list_envs() {
    for e in registry::envs() {
        println!("{}\n    {}", e.id, e.summary);
        match registry::resolve_env(&{
            let mut t = (e.defaults)();
            t.insert("id".into(), toml::Value::String(e.id.into()));
            t
        }) {
            Ok(r) => println!(
                "    observation: {}   action: {}   time limit: {}   model: {}",
                r.spec.observation_space,
                r.spec.action_space,
                r.spec
                    .max_episode_steps
                    .map_or("none".to_string(), |s| s.to_string()),
                match r.kind {
                    registry::EnvKind::Simulator => "no",
                    _ => "yes",
                }
            ),
            Err(_) => println!("    (spaces depend on the parameters)"),
        }
        println!("    parameters: {}\n", params_line(&(e.defaults)()));
    }
}

fn list_agents() {
    for a in registry::agents() {
        println!(
            "{}\n    {}\n    needs: {}\n    parameters: {}\n",
            a.kind,
            a.summary,
            a.needs,
            params_line(&(a.defaults)())
        );
    }
}
