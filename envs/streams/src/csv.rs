//! CSV lines: one example per line, one column is the label, the others are numeric features.
//!
//! Feature `j` (1-based, counting the non-label columns from the left) gets index `j`, so a
//! CSV and the LIBSVM file with the same columns give the same examples; zero values are left
//! out (sparse). Fields may be quoted with `"`; an empty field, a non-number or a non-finite
//! value is a malformed line.

use crate::libsvm::parse_f64;
use mirrorflow_core::Example;
use serde::{Deserialize, Serialize};

/// Which column holds the label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LabelColumn {
    /// 0-based column position.
    Index(usize),
    /// Column name in the header line.
    Name(String),
}

impl Default for LabelColumn {
    fn default() -> Self {
        LabelColumn::Index(0)
    }
}

/// Resolves a label column against the header's names; `Err` says what is wrong.
pub(crate) fn resolve_label(
    label: &LabelColumn,
    header: Option<&[u8]>,
    delimiter: u8,
) -> Result<usize, String> {
    match label {
        LabelColumn::Index(i) => Ok(*i),
        LabelColumn::Name(name) => {
            let Some(h) = header else {
                return Err(format!(
                    "label = \"{name}\" names a column but header = false; give its position (label = 0, 1, …)"
                ));
            };
            let names: Vec<String> = split(h, delimiter)
                .map(|f| String::from_utf8_lossy(unquote(f)).trim().to_string())
                .collect();
            names.iter().position(|n| n == name).ok_or_else(|| {
                format!(
                    "no column named `{name}` in the header (columns: {})",
                    names.join(", ")
                )
            })
        }
    }
}

fn split(text: &[u8], delimiter: u8) -> impl Iterator<Item = &[u8]> {
    text.split(move |&b| b == delimiter)
}

fn unquote(f: &[u8]) -> &[u8] {
    let f = f.trim_ascii();
    if f.len() >= 2 && f[0] == b'"' && f[f.len() - 1] == b'"' {
        &f[1..f.len() - 1]
    } else {
        f
    }
}

/// Parses one data line (already trimmed, non-empty) with the label in column `label`.
pub(crate) fn parse_line(
    text: &[u8],
    label: usize,
    delimiter: u8,
    out: &mut Example,
) -> Result<(), String> {
    let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    out.features.clear();
    let mut seen_label = false;
    let mut feature = 0u32;
    for (col, field) in split(text, delimiter).enumerate() {
        let f = unquote(field);
        let value = parse_f64(f);
        if col == label {
            out.label = match value {
                Some(y) if y.is_finite() => y,
                _ => {
                    return Err(format!(
                        "bad label `{}` in column {col} (a number is needed)",
                        show(f)
                    ));
                }
            };
            seen_label = true;
            continue;
        }
        feature += 1;
        let v = match value {
            Some(v) => v as f32,
            None if f.is_empty() => return Err(format!("empty value in column {col}")),
            None => {
                return Err(format!(
                    "bad value `{}` in column {col} (a number is needed)",
                    show(f)
                ));
            }
        };
        if !v.is_finite() {
            return Err(format!("value {v} in column {col} is not finite"));
        }
        if v != 0.0 {
            out.features.index.push(feature);
            out.features.value.push(v);
        }
    }
    if !seen_label {
        return Err(format!(
            "no label column {label} (the line has {} columns)",
            feature
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_become_one_based_sparse_features() {
        let mut e = Example::default();
        parse_line(b"0.5,1,\"-2\",0", 1, b',', &mut e).unwrap();
        assert_eq!(e.label, 1.0);
        assert_eq!(e.features.index, vec![1, 2]);
        assert_eq!(e.features.value, vec![0.5, -2.0]);
        assert!(
            parse_line(b"1,,3", 0, b',', &mut e)
                .unwrap_err()
                .contains("empty value in column 1")
        );
        assert!(
            parse_line(b"x,1", 0, b',', &mut e)
                .unwrap_err()
                .contains("bad label `x`")
        );
        assert!(
            parse_line(b"1,nan", 0, b',', &mut e)
                .unwrap_err()
                .contains("not finite")
        );
        assert!(
            parse_line(b"1;2", 3, b';', &mut e)
                .unwrap_err()
                .contains("no label column 3")
        );
        assert_eq!(
            resolve_label(&LabelColumn::Name("y".into()), Some(b"a, \"y\" ,b"), b','),
            Ok(1)
        );
        assert!(
            resolve_label(&LabelColumn::Name("z".into()), Some(b"a,y"), b',')
                .unwrap_err()
                .contains("columns: a, y")
        );
    }
}
