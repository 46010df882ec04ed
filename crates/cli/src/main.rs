//! `mirrorflow`: train, check and list.
//!
//! Exit codes: 0 completed, 1 run failed, 2 usage or config error (nothing written),
//! 130 interrupted (everything so far saved).

mod config;
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

#[derive(Subcommand)]
enum Command {
    /// Train an agent from an experiment file.
    Train {
        /// Experiment file (TOML).
        config: PathBuf,
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
            mut sets,
            seed,
            run_dir,
            workers,
        } => {
            if let Some(w) = workers {
                sets.push(format!("runtime.workers={w}"));
            }
            match train::train(&config, &sets, seed, run_dir) {
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
        Command::Check { config, sets, seed } => match train::check(&config, &sets, seed) {
            Ok(()) => train::exit::OK,
            Err(e) => {
                eprintln!("error: {e}");
                train::exit::USAGE
            }
        },
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
