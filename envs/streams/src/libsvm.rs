//! LIBSVM / SVMlight lines, and the error and statistics types of all file streams.
//!
//! A line is `label index:value index:value … [# comment]`; indices are integers (1-based in
//! LIBSVM, 0 accepted), values finite reals, blank lines and `#` lines are skipped. Labels are
//! read as numbers: for classification `> 0` is the class `+1` and anything else `−1` (so
//! `{0, 1}` and `{−1, +1}` files both work). A file whose first two bytes are gzip's magic
//! number is decompressed on the fly; a truncated or corrupt gzip stream is always fatal (what
//! follows the damage cannot be read), with the line it stopped at. The reader itself is
//! [`crate::file::TextReader`].

use mirrorflow_core::Example;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What to do with a malformed line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Malformed {
    /// Stop with an error naming the file, the line and what is wrong.
    #[default]
    Fatal,
    /// Skip it, count it ([`StreamStats::skipped`]) and keep the first few messages.
    Skip,
}

/// Stream failures; each names the file and, where there is one, the line.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The file cannot be opened or read.
    #[error("{path}: {message}")]
    Io {
        /// The file.
        path: String,
        /// What the OS said (with what to do).
        message: String,
    },
    /// A malformed line (with `malformed = "fatal"`).
    #[error("{path}:{line}: {message} (set malformed = \"skip\" to skip such lines)")]
    Line {
        /// The file.
        path: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The gzip stream ends early or is corrupt.
    #[error(
        "{path}: the gzip stream is truncated or corrupt after line {line} ({message}); {examples} examples were read before it"
    )]
    Gzip {
        /// The file.
        path: String,
        /// Last complete line.
        line: u64,
        /// Examples read before the damage.
        examples: u64,
        /// The decoder's message.
        message: String,
    },
}

impl StreamError {
    /// A cache file that cannot be used (with what to do).
    pub(crate) fn cache(path: &std::path::Path, message: impl std::fmt::Display) -> Self {
        StreamError::Io {
            path: path.display().to_string(),
            message: format!(
                "{message} (the example cache is rebuilt when deleted; or set env.cache = false)"
            ),
        }
    }
}

/// What a stream has read so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamStats {
    /// Lines read (including blank, comment and skipped ones).
    pub lines: u64,
    /// Examples returned.
    pub examples: u64,
    /// Malformed lines skipped.
    pub skipped: u64,
    /// The first messages of skipped lines (at most 10), `file:line: message`.
    pub first_skipped: Vec<String>,
}

/// Parses `label index:value …` (comment already stripped, non-empty). Numbers take a fast
/// path for plain decimals (`-12.345`, `1e-3` falls back to the standard parser).
pub(crate) fn parse_line(text: &[u8], out: &mut Example) -> Result<(), String> {
    let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut tokens = Tokens { text, at: 0 };
    let label = tokens.next().map_or(&b""[..], |t| t.0);
    out.label = match parse_f64(label) {
        Some(y) if y.is_finite() => y,
        _ => return Err(format!("bad label `{}` (a number is needed)", show(label))),
    };
    out.features.clear();
    while let Some((item, colon)) = tokens.next() {
        let Some(colon) = colon else {
            return Err(format!(
                "bad feature `{}` (expected index:value)",
                show(item)
            ));
        };
        let (i, v) = (&item[..colon], &item[colon + 1..]);
        let index = parse_index(i).ok_or_else(|| {
            format!(
                "bad index `{}` in `{}` (a non-negative integer is needed)",
                show(i),
                show(item)
            )
        })?;
        let value = parse_f64(v).ok_or_else(|| {
            format!(
                "bad value `{}` in `{}` (a number is needed)",
                show(v),
                show(item)
            )
        })? as f32;
        if !value.is_finite() {
            return Err(format!("value {value} of feature {index} is not finite"));
        }
        out.features.index.push(index);
        out.features.value.push(value);
    }
    Ok(())
}

/// Whitespace-separated tokens, each with the offset of its first `:` (one scan per byte).
struct Tokens<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Tokens<'a> {
    fn next(&mut self) -> Option<(&'a [u8], Option<usize>)> {
        let t = self.text;
        let mut k = self.at;
        while k < t.len() && t[k].is_ascii_whitespace() {
            k += 1;
        }
        if k == t.len() {
            self.at = k;
            return None;
        }
        let start = k;
        let mut colon = None;
        while k < t.len() && !t[k].is_ascii_whitespace() {
            if t[k] == b':' && colon.is_none() {
                colon = Some(k - start);
            }
            k += 1;
        }
        self.at = k;
        Some((&t[start..k], colon))
    }
}

fn parse_index(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 10 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u64;
    }
    u32::try_from(v).ok()
}

/// `[+-]digits[.digits]` exactly (correctly rounded through one division by a power of ten
/// for up to 15 significant digits); anything else goes to `str::parse`.
pub(crate) fn parse_f64(b: &[u8]) -> Option<f64> {
    let slow = || std::str::from_utf8(b).ok()?.parse::<f64>().ok();
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 16 {
        return slow();
    }
    let (mut mant, mut frac, mut seen_dot, mut n) = (0u64, 0i32, false, 0);
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                mant = mant * 10 + (c - b'0') as u64;
                n += 1;
                if seen_dot {
                    frac += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return slow(),
        }
    }
    if n == 0 || n > 15 {
        return slow();
    }
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    // both operands exact (< 2^53 and a power of ten ≤ 1e15): one correctly rounded division
    let v = mant as f64 / POW10[frac as usize];
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_number_parsing_matches_the_standard_parser() {
        for s in [
            "0",
            "-0",
            "1",
            "+1",
            "-1",
            "0.5",
            "-2.0000",
            "1.2345",
            "-0.0001",
            "123456.789012345",
            "3.14159",
            "1e-3",
            "-2.5E+4",
            "nan",
            "inf",
            "7.",
            ".5",
            "-.25",
        ] {
            let fast = parse_f64(s.as_bytes());
            let std = s.parse::<f64>().ok();
            assert_eq!(
                fast.map(f64::to_bits),
                std.map(f64::to_bits),
                "{s}: {fast:?} vs {std:?}"
            );
        }
        for bad in ["", "-", "1.2.3", "abc", "1,5", "0x10"] {
            assert!(
                parse_f64(bad.as_bytes()).is_none() || bad == "0x10",
                "{bad}"
            );
        }
        assert_eq!(parse_index(b"4294967295"), Some(u32::MAX));
        assert_eq!(parse_index(b"4294967296"), None);
        assert_eq!(parse_index(b"-3"), None);
        assert_eq!(parse_index(b""), None);
    }
}
