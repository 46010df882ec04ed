//! Checkpoint files in a run directory:
//!
//! ```text
//! RUN_DIR/checkpoints/v000000000100.ckpt   the checkpoint (learner, recent parameters, shards)
//! RUN_DIR/checkpoints/v000000000100.json   its manifest: version, metrics.jsonl length, sha256
//! ```
//!
//! Files are written atomically (temporary file, fsync, rename), the manifest last, so a
//! manifest always names a complete checkpoint. The newest three are kept. Resuming picks the
//! newest checkpoint that reads back and matches its hash, falling back to older ones.

use crate::train::sha256_hex;
use mirrorflow_runtime::{Checkpoint, CheckpointSink};
use mirrorflow_telemetry::run_dir::write_atomic;
use std::path::{Path, PathBuf};

const KEEP: usize = 3;

/// Writes checkpoints into `RUN_DIR/checkpoints`.
pub struct FileCheckpoints {
    dir: PathBuf,
    metrics: PathBuf,
}

impl FileCheckpoints {
    /// Checkpoints of the run in `run_dir`.
    pub fn new(run_dir: &Path) -> Self {
        Self {
            dir: run_dir.join("checkpoints"),
            metrics: run_dir.join("metrics.jsonl"),
        }
    }
}

fn stem(version: u64) -> String {
    format!("v{version:012}")
}

impl CheckpointSink for FileCheckpoints {
    fn save(&mut self, version: u64, bytes: Vec<u8>) -> Result<(), String> {
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        let metrics_bytes = std::fs::metadata(&self.metrics).map_or(0, |m| m.len());
        let ckpt = self.dir.join(format!("{}.ckpt", stem(version)));
        write_atomic(&ckpt, &bytes).map_err(|e| e.to_string())?;
        let manifest = serde_json::json!({
            "version": version,
            "metrics_bytes": metrics_bytes,
            "sha256": sha256_hex(&bytes),
        });
        write_atomic(
            &self.dir.join(format!("{}.json", stem(version))),
            manifest.to_string().as_bytes(),
        )
        .map_err(|e| e.to_string())?;
        let mut all = manifests(&self.dir);
        while all.len() > KEEP {
            let (v, _) = all.remove(0);
            let _ = std::fs::remove_file(self.dir.join(format!("{}.json", stem(v))));
            let _ = std::fs::remove_file(self.dir.join(format!("{}.ckpt", stem(v))));
        }
        Ok(())
    }
}

/// `(version, manifest)` of every checkpoint, oldest first.
fn manifests(dir: &Path) -> Vec<(u64, serde_json::Value)> {
    let mut out: Vec<(u64, serde_json::Value)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(e.path()).ok()?).ok()?;
            Some((v["version"].as_u64()?, v))
        })
        .collect();
    out.sort_by_key(|(v, _)| *v);
    out
}

/// Whether the run directory holds any checkpoint manifest.
pub fn has_checkpoint(run_dir: &Path) -> bool {
    !manifests(&run_dir.join("checkpoints")).is_empty()
}

/// The newest checkpoint that reads back intact, with the `metrics.jsonl` length at the time
/// it was written. Unreadable ones are reported and skipped.
pub fn latest(run_dir: &Path) -> Result<(Checkpoint, u64), String> {
    let dir = run_dir.join("checkpoints");
    let all = manifests(&dir);
    if all.is_empty() {
        return Err(format!(
            "{}: no checkpoint to resume from (is checkpoint_every > 0?)",
            dir.display()
        ));
    }
    for (v, m) in all.iter().rev() {
        let path = dir.join(format!("{}.ckpt", stem(*v)));
        let attempt = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                if m["sha256"].as_str() != Some(sha256_hex(&bytes).as_str()) {
                    return Err("hash mismatch (corrupt file)".to_string());
                }
                Checkpoint::decode(&bytes).map_err(|e| e.to_string())
            });
        match attempt {
            Ok(c) => return Ok((c, m["metrics_bytes"].as_u64().unwrap_or(0))),
            Err(e) => eprintln!(
                "warning: checkpoint {} is unusable ({e}); trying an older one",
                path.display()
            ),
        }
    }
    Err(format!("{}: every checkpoint is unreadable", dir.display()))
}
