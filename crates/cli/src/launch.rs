//! `mirrorflow launch --local N`: starts N processes of one run on this machine, lets them form
//! their mesh through a private rendezvous directory (each binds port 0 and publishes it: no port
//! races), supervises them and returns one exit status. The first process to fail stops the
//! others (SIGTERM, then SIGKILL after a grace period). If the run has a checkpoint, the whole
//! cluster is restarted from it (`--resume`, next generation: stragglers of the old one are
//! refused by the handshake), up to `--restarts` times; otherwise the failing exit code is the
//! launcher's.

use crate::train::{self, exit};
use mirrorflow_runtime::cluster::EXIT_PEER_FAILED;
use mirrorflow_telemetry::run_dir::RunDir;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const GRACE: Duration = Duration::from_secs(2);

fn terminate(children: &mut [(usize, Child)]) {
    for (_, c) in children.iter_mut() {
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
    }
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline
        && children
            .iter_mut()
            .any(|(_, c)| matches!(c.try_wait(), Ok(None)))
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    for (_, c) in children.iter_mut() {
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// Runs the launcher; returns the process exit code.
pub fn launch_local(
    n: usize,
    config: &Path,
    sets: &[String],
    seed: Option<u64>,
    run_dir: Option<PathBuf>,
    workers: Option<usize>,
    watchdog: f64,
    restarts: u32,
) -> u8 {
    let mut sets = sets.to_vec();
    if let Some(w) = workers {
        sets.push(format!("runtime.workers={w}"));
    }
    if n == 0 {
        eprintln!("error: --local 0: start at least one process");
        return exit::USAGE;
    }
    let plan = match train::prepare(config, &sets, seed) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let dir = match &run_dir {
        Some(d) => RunDir::create_exact(d),
        None => RunDir::create_new(
            Path::new(&plan.file.run.runs_dir),
            &plan.file.name,
            plan.file.seed,
        ),
    };
    let dir = match dir {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let rdv = std::env::temp_dir().join(format!("mirrorflow-rdv-{}-{nanos}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&rdv) {
        eprintln!(
            "error: cannot create the rendezvous directory {}: {e}",
            rdv.display()
        );
        return exit::FAILED;
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot find the mirrorflow executable: {e}");
            return exit::FAILED;
        }
    };
    let spawn = |generation: u64, resume: bool| -> Result<Vec<(usize, Child)>, String> {
        let mut children: Vec<(usize, Child)> = Vec::new();
        for i in 0..n {
            let mut cmd = Command::new(&exe);
            cmd.arg("train");
            if resume {
                cmd.arg("--resume").arg(dir.path());
            } else {
                cmd.arg(config);
            }
            for s in &sets {
                cmd.arg("--set").arg(s);
            }
            if let Some(s) = seed {
                cmd.arg("--seed").arg(s.to_string());
            }
            cmd.args([
                "--processes",
                &n.to_string(),
                "--process-id",
                &i.to_string(),
            ]);
            cmd.args(["--generation", &generation.to_string()]);
            cmd.arg("--rendezvous").arg(&rdv);
            cmd.args(["--watchdog", &watchdog.to_string()]);
            if i == 0 && !resume {
                cmd.arg("--run-dir").arg(dir.path());
            }
            match cmd.spawn() {
                Ok(c) => children.push((i, c)),
                Err(e) => {
                    terminate(&mut children);
                    return Err(format!("cannot start process {i}: {e}"));
                }
            }
        }
        eprintln!(
            "launch: generation {generation}: {n} processes ({}), run directory {}",
            children
                .iter()
                .map(|(i, c)| format!("{i}: pid {}", c.id()))
                .collect::<Vec<_>>()
                .join(", "),
            dir.path().display()
        );
        Ok(children)
    };
    let mut generation = 0u64;
    let mut restarted = 0u32;
    let result = loop {
        let children = match spawn(generation, generation > 0) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                break exit::FAILED;
            }
        };
        match supervise(n, children) {
            None => break exit::OK,
            Some((i, code)) => {
                let retryable =
                    code != i32::from(exit::USAGE) && code != i32::from(exit::INTERRUPTED);
                if retryable
                    && restarted < restarts
                    && crate::checkpoints::has_checkpoint(dir.path())
                {
                    restarted += 1;
                    generation += 1;
                    eprintln!(
                        "launch: process {i} failed (exit code {code}); restarting the cluster from its newest checkpoint (restart {restarted} of {restarts})"
                    );
                    continue;
                }
                eprintln!("launch: failed (process {i} exited with code {code})");
                break u8::try_from(code).unwrap_or(exit::FAILED);
            }
        }
    };
    let _ = std::fs::remove_dir_all(&rdv);
    result
}

/// Waits for every child; on the first failure stops the others. Returns the first failure.
fn supervise(n: usize, mut children: Vec<(usize, Child)>) -> Option<(usize, i32)> {
    let mut first_failure: Option<(usize, i32)> = None;
    let mut codes: Vec<Option<i32>> = vec![None; n];
    while codes.iter().any(Option::is_none) {
        for (i, c) in children.iter_mut() {
            if codes[*i].is_some() {
                continue;
            }
            if let Ok(Some(status)) = c.try_wait() {
                let code = status.code().unwrap_or(128 + 9);
                codes[*i] = Some(code);
                if code != 0 && first_failure.is_none() {
                    first_failure = Some((*i, code));
                }
            }
        }
        if let Some((i, code)) = first_failure
            && codes.iter().any(Option::is_none)
        {
            // A process that lost a peer exits with EXIT_PEER_FAILED; give the peer that really
            // failed a moment to be reaped so the report names the root cause.
            if code == EXIT_PEER_FAILED {
                let until = Instant::now() + Duration::from_millis(500);
                while Instant::now() < until {
                    for (j, c) in children.iter_mut() {
                        if codes[*j].is_none()
                            && let Ok(Some(st)) = c.try_wait()
                        {
                            let cj = st.code().unwrap_or(128 + 9);
                            codes[*j] = Some(cj);
                            if cj != 0 && cj != EXIT_PEER_FAILED {
                                first_failure = Some((*j, cj));
                            }
                        }
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            let (i, code) = first_failure.unwrap_or((i, code));
            eprintln!("launch: process {i} exited with code {code}; stopping the others");
            let mut rest: Vec<(usize, Child)> = children
                .drain(..)
                .filter(|(j, _)| codes[*j].is_none())
                .collect();
            terminate(&mut rest);
            for (j, _) in rest {
                codes[j].get_or_insert(143);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    first_failure
}
