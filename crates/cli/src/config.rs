//! Experiment files: TOML with serde defaults and `deny_unknown_fields`, `--set` overrides, and
//! errors that name the field, the bad value and what is allowed (with a "did you mean" hint).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

/// A configuration problem: bad syntax, an unknown key, a value out of range, a missing env.
/// The CLI prints it and exits with code 2.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Shorthand constructor.
pub fn cfg_err(msg: impl Into<String>) -> ConfigError {
    ConfigError(msg.into())
}

/// The top level of an experiment file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentFile {
    /// Run name (the run directory is `<runs_dir>/<name>__s<seed>__<unix_secs>`).
    #[serde(default = "default_name")]
    pub name: String,
    /// Run seed: every random stream derives from it.
    #[serde(default)]
    pub seed: u64,
    /// The environment: `id = "..."` plus that env's parameters (`mirrorflow envs`).
    pub env: toml::Table,
    /// The agent: `kind = "..."` plus its hyper-parameters (`mirrorflow agents`).
    pub agent: toml::Table,
    /// How long to run and where to write.
    #[serde(default)]
    pub run: RunSection,
    /// How rollouts are sharded and scheduled (rollout agents).
    #[serde(default)]
    pub runtime: RuntimeSection,
    /// Where metrics go besides the always-on files.
    #[serde(default)]
    pub telemetry: TelemetrySection,
}

/// `[telemetry]`: the rerun dashboard. `metrics.jsonl` and `summary.json` are always written.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetrySection {
    /// Rerun modes, several at once allowed: `"off"`, `"file"` (RUN_DIR/telemetry.rrd),
    /// `"connect"` (a viewer at rerun+http://127.0.0.1:9876/proxy), `"connect=ADDR"`,
    /// `"spawn"` (start a viewer). `--rerun MODE` (repeatable) replaces this list.
    pub rerun: Vec<String>,
    /// At most this many points per second per metric reach rerun (faster series are averaged).
    pub max_points_per_sec: f64,
    /// Rerun gets the frames of one episode in this many (every 2nd step, env 0 of shard 0;
    /// envs that render only). 0 = no frames.
    pub frames_every: u32,
    /// At least this many seconds between two filmed episodes, so long runs stay light.
    pub frames_min_gap_secs: f64,
}

impl Default for TelemetrySection {
    fn default() -> Self {
        Self {
            rerun: vec!["file".to_string()],
            max_points_per_sec: 50.0,
            frames_every: 50,
            frames_min_gap_secs: 20.0,
        }
    }
}

impl TelemetrySection {
    /// Checks the modes and the rate.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for m in &self.rerun {
            let ok = matches!(m.as_str(), "off" | "file" | "connect" | "spawn")
                || m.starts_with("connect=");
            if !ok {
                return Err(cfg_err(format!(
                    "[telemetry] rerun mode {m:?}: expected \"off\", \"file\", \"connect\", \"connect=rerun+http://HOST:PORT/proxy\" or \"spawn\""
                )));
            }
        }
        if self.frames_min_gap_secs.is_nan() || self.frames_min_gap_secs < 0.0 {
            return Err(cfg_err(format!(
                "[telemetry] frames_min_gap_secs = {}: must be >= 0",
                self.frames_min_gap_secs
            )));
        }
        if self.max_points_per_sec.is_nan() || self.max_points_per_sec <= 0.0 {
            return Err(cfg_err(format!(
                "[telemetry] max_points_per_sec = {}: must be > 0",
                self.max_points_per_sec
            )));
        }
        Ok(())
    }
}

fn default_name() -> String {
    "run".to_string()
}

/// `[run]`: budget and output location.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunSection {
    /// Planner iterations (tabular planners).
    pub iterations: u64,
    /// Environment steps (rollout agents), rounded up to whole policy versions.
    pub env_steps: u64,
    /// Parent directory of run directories.
    pub runs_dir: String,
    /// Evaluate the deterministic policy every this many env steps (rollout agents; 0 = only
    /// at the end when `eval_episodes > 0`).
    pub eval_every: u64,
    /// Episodes per evaluation (0 = no evaluation).
    pub eval_episodes: u32,
    /// Example streams: after the online pass, fit the best fixed linear predictor in hindsight
    /// with at most this many L-BFGS passes over the stream and record `online/static_regret`
    /// (logistic and squared losses; 0 = off).
    pub offline_passes: usize,
}

impl Default for RunSection {
    fn default() -> Self {
        Self {
            iterations: 100,
            env_steps: 100_000,
            runs_dir: "runs".to_string(),
            eval_every: 0,
            eval_episodes: 0,
            offline_passes: 0,
        }
    }
}

/// `[runtime]`: sharding and schedule of the actor–learner loop.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeSection {
    /// Worker threads in this process (`--workers` overrides).
    pub workers: usize,
    /// Env shards, placed round-robin on workers; results do not depend on the placement.
    pub num_shards: u32,
    /// Envs per shard.
    pub envs_per_shard: usize,
    /// Steps per env in one batch (one message; keep envs × steps ≥ ~500 for cheap envs).
    pub steps_per_env: usize,
    /// Batches per shard per policy version.
    pub batches_per_version: usize,
    /// `sync`: deterministic, the learner consumes version v in canonical order; `async`:
    /// bounded staleness (policy lag ≤ `lag`), arrival order, not replayable.
    pub schedule: Schedule,
    /// `sync`: pipelining lag L — actors at version t act with the parameters of version t − L,
    /// so acting overlaps learning (still deterministic); 0 = lock-step. `async`: the largest
    /// allowed policy lag.
    pub lag: u64,
    /// Write a version-aligned checkpoint every this many versions (0 = never; `sync` only —
    /// ignored by `async`); `--resume` and the launcher's restarts start from the newest one.
    pub checkpoint_every: u64,
    /// Online learners on several workers: average the weights every this many examples per
    /// worker (a deterministic all-reduce; smaller = closer to one sequential pass, more
    /// rounds — each costs about a millisecond between processes).
    pub average_every: u64,
    /// Online learners on several workers: an average may arrive this many rounds late (it is
    /// folded in then), so the exchange overlaps the work; 0 = lock-step averaging.
    pub average_lag: u64,
}

/// Actor–learner schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Deterministic lock-step versions.
    Sync,
    /// Bounded-staleness asynchrony.
    Async,
}

impl Default for RuntimeSection {
    fn default() -> Self {
        Self {
            workers: 1,
            num_shards: 4,
            envs_per_shard: 4,
            steps_per_env: 32,
            batches_per_version: 1,
            schedule: Schedule::Sync,
            lag: 0,
            checkpoint_every: 100,
            average_every: 10_000,
            average_lag: 1,
        }
    }
}

impl RuntimeSection {
    /// Checks ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, v) in [
            ("workers", self.workers),
            ("num_shards", self.num_shards as usize),
            ("envs_per_shard", self.envs_per_shard),
            ("steps_per_env", self.steps_per_env),
            ("batches_per_version", self.batches_per_version),
            ("average_every", self.average_every as usize),
        ] {
            if v == 0 {
                return Err(cfg_err(format!("[runtime] {name} = 0: must be at least 1")));
            }
        }
        Ok(())
    }
}

/// Reads an experiment file, applies `--set key.path=value` overrides and `--seed`, and parses
/// the top level.
pub fn load(
    path: &Path,
    sets: &[String],
    seed: Option<u64>,
) -> Result<ExperimentFile, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| cfg_err(format!("{}: cannot read the config: {e}", path.display())))?;
    let mut table: toml::Table = text
        .parse()
        .map_err(|e| cfg_err(format!("{}: invalid TOML: {e}", path.display())))?;
    for s in sets {
        apply_set(&mut table, s)?;
    }
    if let Some(seed) = seed {
        table.insert("seed".into(), toml::Value::Integer(seed as i64));
    }
    for (section, example, list) in [
        ("env", "id = \"garnet\"", "envs"),
        ("agent", "kind = \"mdvi\"", "agents"),
    ] {
        if !table.contains_key(section) {
            return Err(cfg_err(format!(
                "{}: no [{section}] section; add one, e.g. [{section}] {example} (see `mirrorflow {list}`)",
                path.display()
            )));
        }
    }
    parse_section(
        path.display().to_string().as_str(),
        toml::Value::Table(table),
    )
}

/// Applies one `key.path=value` override. The value is read as TOML (`0.5`, `true`, `"x"`,
/// `[1, 2]`); anything that is not valid TOML is taken as a string.
pub fn apply_set(table: &mut toml::Table, set: &str) -> Result<(), ConfigError> {
    let (key, raw) = set.split_once('=').ok_or_else(|| {
        cfg_err(format!(
            "--set {set}: expected KEY.PATH=VALUE, e.g. --set agent.lambda=0.5"
        ))
    })?;
    let value = match format!("v = {raw}").parse::<toml::Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or(toml::Value::String(raw.to_string())),
        Err(_) => toml::Value::String(raw.to_string()),
    };
    let parts: Vec<&str> = key.trim().split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(cfg_err(format!(
            "--set {set}: empty key segment in `{key}`"
        )));
    }
    let mut cur = table;
    for p in &parts[..parts.len() - 1] {
        let entry = cur
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry
            .as_table_mut()
            .ok_or_else(|| cfg_err(format!("--set {set}: `{p}` is a value, not a table")))?;
    }
    cur.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

/// Deserializes a section into `T`, turning serde's message into one that names the section and,
/// for an unknown key, suggests the closest allowed one.
pub fn parse_section<T: DeserializeOwned>(
    section: &str,
    value: toml::Value,
) -> Result<T, ConfigError> {
    value.try_into::<T>().map_err(|e| {
        let msg = e.to_string().trim().to_string();
        let hint = did_you_mean_field(&msg)
            .map(|h| format!(" (did you mean `{h}`?)"))
            .unwrap_or_default();
        cfg_err(format!("{section}: {msg}{hint}"))
    })
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" (or "expected `a`"), the allowed
/// name closest to `x`, if it is close.
pub fn did_you_mean_field(msg: &str) -> Option<String> {
    let rest = msg.split("unknown field `").nth(1)?;
    let (bad, rest) = rest.split_once('`')?;
    let expected = rest.split("expected").nth(1)?;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    closest(bad, candidates.iter().copied())
}

/// The candidate closest to `word` by edit distance (case-insensitive), if within
/// `max(2, len/3)` edits.
pub fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let w = word.to_lowercase();
    let limit = (w.chars().count() / 3).max(2);
    candidates
        .map(|c| (strsim::levenshtein(&w, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_overrides_nested_values() {
        let mut t: toml::Table = "[agent]\nlambda = 1.0".parse().unwrap();
        apply_set(&mut t, "agent.lambda=0.5").unwrap();
        apply_set(&mut t, "env.id=garnet").unwrap();
        apply_set(&mut t, "agent.noise.kind=\"gaussian\"").unwrap();
        assert_eq!(t["agent"]["lambda"].as_float(), Some(0.5));
        assert_eq!(t["env"]["id"].as_str(), Some("garnet"));
        assert_eq!(t["agent"]["noise"]["kind"].as_str(), Some("gaussian"));
        assert!(apply_set(&mut t, "agent.lambda").is_err());
        assert!(apply_set(&mut t, "agent.lambda.x=1").is_err());
    }

    #[test]
    fn hints() {
        let m = "unknown field `lamda`, expected one of `lambda`, `tau`, `m`";
        assert_eq!(did_you_mean_field(m).as_deref(), Some("lambda"));
        assert_eq!(
            did_you_mean_field("unknown field `zzzzzz`, expected `lambda`"),
            None
        );
        assert_eq!(
            closest("cartpole-v1", ["CartPole-v1", "Pendulum-v1"].into_iter()).as_deref(),
            Some("CartPole-v1")
        );
    }
}
