//! `gym:` env stepping through mirrorflow's shards: steps/s of one shard of N envs stepped in
//! one call into Python per step (random actions, auto-reset), in P processes at once (one
//! interpreter each). Run by `scripts/bench_gym.sh` next to gymnasium's own vector envs.
//!
//!   cargo bench -p mirrorflow-gym --bench throughput -- [--env gym:CartPole-v1] [--envs 8]
//!       [--procs 1] [--seconds 5]
//!
//! Prints one JSON line: {"env", "envs", "procs", "steps", "seconds", "steps_per_s"}.

use mirrorflow_core::{ActMode, EnvShard, RandomPolicy, SeedStream, TransitionBatch};
use mirrorflow_gym::{PyEnvConfig, Source, resolve};
use std::process::{Command, Stdio};
use std::time::Instant;

struct Args {
    env: String,
    envs: usize,
    procs: usize,
    seconds: f64,
    seed: u64,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        env: "gym:CartPole-v1".into(),
        envs: 8,
        procs: 1,
        seconds: 5.0,
        seed: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().ok_or(format!("{k} needs a value"));
        match k.as_str() {
            "--env" => a.env = v()?,
            "--envs" => a.envs = v()?.parse().map_err(|e| format!("--envs: {e}"))?,
            "--procs" => a.procs = v()?.parse().map_err(|e| format!("--procs: {e}"))?,
            "--seconds" => a.seconds = v()?.parse().map_err(|e| format!("--seconds: {e}"))?,
            "--seed" => a.seed = v()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--bench" => {}
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

/// Steps one shard for `seconds`; returns (env steps, seconds).
fn one(a: &Args) -> Result<(u64, f64), String> {
    let source = Source::parse(&a.env)
        .ok_or_else(|| format!("{}: not a gym: or py: id", a.env))?
        .map_err(|e| e.to_string())?;
    let (spec, factory) = resolve(&PyEnvConfig {
        source,
        kwargs: serde_json::json!({}),
        render: false,
    })
    .map_err(|e| e.to_string())?;
    let mut shard =
        EnvShard::new(&factory, 0, a.envs, SeedStream::new(a.seed)).map_err(|e| e.to_string())?;
    let mut policy = RandomPolicy::new(spec.action_space.clone());
    let mut batch = TransitionBatch::default();
    // warm-up
    shard
        .rollout(&mut policy, ActMode::Explore, 64, &mut batch)
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut steps = 0u64;
    while start.elapsed().as_secs_f64() < a.seconds {
        batch = TransitionBatch::default();
        shard
            .rollout(&mut policy, ActMode::Explore, 256, &mut batch)
            .map_err(|e| e.to_string())?;
        steps += batch.len() as u64;
    }
    Ok((steps, start.elapsed().as_secs_f64()))
}

fn main() {
    let a = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let (steps, seconds) = if a.procs <= 1 {
        match one(&a) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
    } else {
        // P copies of this bench at once, one interpreter each; their rates add up
        let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current exe: {e}"));
        let children: Vec<_> = (0..a.procs)
            .map(|p| {
                Command::new(&exe)
                    .args(["--env", &a.env, "--envs", &a.envs.to_string()])
                    .args(["--seconds", &a.seconds.to_string(), "--procs", "1"])
                    .args(["--seed", &(a.seed + 1000 * p as u64).to_string()])
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap_or_else(|e| panic!("starting a child: {e}"))
            })
            .collect();
        let mut total = (0u64, 0f64);
        for c in children {
            let out = c
                .wait_with_output()
                .unwrap_or_else(|e| panic!("child: {e}"));
            let line = String::from_utf8_lossy(&out.stdout);
            let v: serde_json::Value = serde_json::from_str(line.trim())
                .unwrap_or_else(|e| panic!("child output {line:?}: {e}"));
            total.0 += v["steps"].as_u64().unwrap_or(0);
            total.1 = total.1.max(v["seconds"].as_f64().unwrap_or(0.0));
        }
        total
    };
    // children run concurrently for the same wall time: their steps add up over it
    let rate = steps as f64 / seconds;
    println!(
        "{}",
        serde_json::json!({
            "env": a.env, "envs": a.envs, "procs": a.procs, "steps": steps,
            "seconds": seconds, "steps_per_s": rate,
        })
    );
}
