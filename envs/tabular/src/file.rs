//! A user's own MDP from a JSON file (`env.id = "tabular-file"`, `path = "..."`).
//!
//! Schema (all fields but `gamma` and `initial` required; unknown fields are errors):
//!
//! ```json
//! {
//!   "num_states": 2,
//!   "num_actions": 2,
//!   "gamma": 0.9,
//!   "transitions": [[0, 0, 0, 1.0], [0, 1, 1, 0.8], [0, 1, 0, 0.2],
//!                   [1, 0, 0, 1.0], [1, 1, 1, 1.0]],
//!   "rewards": [[0.0, 0.0], [0.0, 1.0]],
//!   "initial": [1.0, 0.0]
//! }
//! ```
//!
//! * `transitions`: rows `[s, a, s_next, prob]`, zero-based, in any order; a `(s, a)` without
//!   rows, probabilities of one `(s, a)` not summing to 1 (±1e-9), a negative probability, an
//!   index out of range or a repeated `(s, a, s_next)` is an error naming the row.
//! * `rewards`: an `S × A` array, `rewards[s][a] = r(s, a)`.
//! * `gamma` (default 0.99) in `[0, 1)`; `initial` (default uniform) sums to 1.

use crate::TabularError;
use mirrorflow_core::TabularMdp;
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileModel {
    num_states: usize,
    num_actions: usize,
    #[serde(default = "default_gamma")]
    gamma: f64,
    transitions: Vec<Vec<f64>>,
    rewards: Vec<Vec<f64>>,
    #[serde(default)]
    initial: Option<Vec<f64>>,
}

fn default_gamma() -> f64 {
    0.99
}

/// Loads and validates a model file. Errors carry the path and name the row or field.
pub fn load(path: &Path) -> Result<TabularMdp, TabularError> {
    let file_err = |message: String| TabularError::File {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| file_err(format!("cannot read: {e}")))?;
    parse(&text).map_err(file_err)
}

/// Parses a model from JSON text (see the module docs for the schema).
pub fn parse(text: &str) -> Result<TabularMdp, String> {
    let m: FileModel =
        serde_json::from_str(text).map_err(|e| format!("invalid model JSON: {e}"))?;
    if m.num_states == 0 || m.num_actions == 0 {
        return Err(format!(
            "num_states ({}) and num_actions ({}) must be positive",
            m.num_states, m.num_actions
        ));
    }
    let mut rows = Vec::with_capacity(m.transitions.len());
    for (i, row) in m.transitions.iter().enumerate() {
        if row.len() != 4 {
            return Err(format!(
                "transitions row {i} has {} values, expected [s, a, s_next, prob]",
                row.len()
            ));
        }
        let idx = |k: usize, name: &str, bound: usize| -> Result<usize, String> {
            let v = row[k];
            if v.fract() != 0.0 || v < 0.0 || v >= bound as f64 {
                Err(format!(
                    "transitions row {i} {row:?}: {name} = {v} must be an integer in 0..{bound}"
                ))
            } else {
                Ok(v as usize)
            }
        };
        rows.push((
            idx(0, "s", m.num_states)?,
            idx(1, "a", m.num_actions)?,
            idx(2, "s_next", m.num_states)?,
            row[3],
        ));
    }
    if m.rewards.len() != m.num_states {
        return Err(format!(
            "rewards has {} rows, expected num_states = {}",
            m.rewards.len(),
            m.num_states
        ));
    }
    let mut reward = Vec::with_capacity(m.num_states * m.num_actions);
    for (s, r) in m.rewards.iter().enumerate() {
        if r.len() != m.num_actions {
            return Err(format!(
                "rewards row {s} has {} values, expected num_actions = {}",
                r.len(),
                m.num_actions
            ));
        }
        reward.extend_from_slice(r);
    }
    TabularMdp::from_rows(
        m.num_states,
        m.num_actions,
        m.gamma,
        &rows,
        reward,
        m.initial,
    )
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"num_states": 2, "num_actions": 2, "gamma": 0.9,
        "transitions": [[0,0,0,1.0],[0,1,1,0.8],[0,1,0,0.2],[1,0,0,1.0],[1,1,1,1.0]],
        "rewards": [[0.0,0.0],[0.0,1.0]], "initial": [1.0, 0.0]}"#;

    #[test]
    fn parses_the_documented_example() {
        let m = parse(GOOD).unwrap();
        assert_eq!((m.num_states(), m.num_actions(), m.gamma()), (2, 2, 0.9));
        assert_eq!(m.rewards(), &[0.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn errors_name_the_row() {
        let bad_sum = GOOD.replace("[0,1,0,0.2]", "[0,1,0,0.3]");
        let e = parse(&bad_sum).unwrap_err();
        assert!(
            e.contains("state 0, action 1 sum to 1.1") && e.contains("transition rows [1, 2]"),
            "{e}"
        );
        let e = parse(&GOOD.replace("[1,1,1,1.0]", "[1,1,2,1.0]")).unwrap_err();
        assert!(
            e.contains("transitions row 4") && e.contains("s_next = 2"),
            "{e}"
        );
        let e = parse(&GOOD.replace("[1,0,0,1.0]", "[1,0,0,-1.0]")).unwrap_err();
        assert!(e.contains("transition row 3") && e.contains(">= 0"), "{e}");
        let e = parse(&GOOD.replace("\"gamma\"", "\"gama\"")).unwrap_err();
        assert!(e.contains("unknown field `gama`"), "{e}");
        let e = parse(&GOOD.replace("[0.0,1.0]]", "[0.0]]")).unwrap_err();
        assert!(e.contains("rewards row 1"), "{e}");
    }
}
