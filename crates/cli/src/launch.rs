//! `mirrorflow launch --local N`: starts N processes of one run on this machine, lets them form
//! their mesh through a private rendezvous directory (each binds port 0 and publishes it: no port
//! races), supervises them and returns one exit status. The first process to fail stops the
//! others (SIGTERM, then SIGKILL after a grace period); its exit code is the launcher's.

use crate::train::{self, exit};
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
    let mut children: Vec<(usize, Child)> = Vec::new();
    for i in 0..n {
        let mut cmd = Command::new(&exe);
        cmd.arg("train").arg(config);
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
        cmd.arg("--rendezvous").arg(&rdv);
        cmd.args(["--watchdog", &watchdog.to_string()]);
        if i == 0 {
            cmd.arg("--run-dir").arg(dir.path());
        }
        match cmd.spawn() {
            Ok(c) => children.push((i, c)),
            Err(e) => {
                eprintln!("error: cannot start process {i}: {e}");
                terminate(&mut children);
                let _ = std::fs::remove_dir_all(&rdv);
                return exit::FAILED;
            }
        }
    }
    eprintln!(
        "launch: {n} processes ({}), run directory {}",
        children
            .iter()
            .map(|(i, c)| format!("{i}: pid {}", c.id()))
            .collect::<Vec<_>>()
            .join(", "),
        dir.path().display()
    );
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
    let _ = std::fs::remove_dir_all(&rdv);
    match first_failure {
        Some((i, code)) => {
            eprintln!("launch: failed (process {i} exited with code {code})");
            u8::try_from(code).unwrap_or(exit::FAILED)
        }
        None => exit::OK,
    }
}
