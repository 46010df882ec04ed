//! LIBSVM / SVMlight files as a stream.
//!
//! A line is `label index:value index:value … [# comment]`; indices are integers (1-based in
//! LIBSVM, 0 accepted), values finite reals, blank lines and `#` lines are skipped. Labels are
//! read as numbers: for classification `> 0` is the class `+1` and anything else `−1` (so
//! `{0, 1}` and `{−1, +1}` files both work). A file whose first two bytes are gzip's magic
//! number is decompressed on the fly; a truncated or corrupt gzip stream is always fatal (what
//! follows the damage cannot be read), with the line it stopped at.

use flate2::read::MultiGzDecoder;
use mirrorflow_core::{Example, Features};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
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

/// `[env]` parameters of `id = "libsvm"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LibsvmConfig {
    /// The file (`.gz` or not: detected from its first bytes).
    pub path: PathBuf,
    /// Malformed lines: `fatal` (default) or `skip`.
    pub malformed: Malformed,
}

impl Default for LibsvmConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("data.libsvm"),
            malformed: Malformed::Fatal,
        }
    }
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

/// A LIBSVM file read as a stream of [`Example`]s.
pub struct LibsvmReader {
    path: String,
    input: Box<dyn BufRead>,
    gzip: bool,
    malformed: Malformed,
    line: String,
    stats: StreamStats,
}

impl LibsvmReader {
    /// Opens `cfg.path`, gzip or plain.
    pub fn open(cfg: &LibsvmConfig) -> Result<Self, StreamError> {
        Self::open_path(&cfg.path, cfg.malformed)
    }

    /// Opens a file, gzip or plain.
    pub fn open_path(path: &Path, malformed: Malformed) -> Result<Self, StreamError> {
        let name = path.display().to_string();
        let io = |e: std::io::Error| StreamError::Io {
            path: name.clone(),
            message: format!("{e} (check env.path)"),
        };
        let mut file = BufReader::new(File::open(path).map_err(io)?);
        let gzip = file.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
        let input: Box<dyn BufRead> = if gzip {
            Box::new(BufReader::with_capacity(1 << 16, MultiGzDecoder::new(file)))
        } else {
            Box::new(file)
        };
        Ok(Self {
            path: name,
            input,
            gzip,
            malformed,
            line: String::new(),
            stats: StreamStats::default(),
        })
    }

    /// What was read so far.
    pub fn stats(&self) -> &StreamStats {
        &self.stats
    }

    /// Reads the next example into `out`; `Ok(false)` at the end of the file.
    pub fn next_into(&mut self, out: &mut Example) -> Result<bool, StreamError> {
        loop {
            self.line.clear();
            let n = match self.input.read_line(&mut self.line) {
                Ok(n) => n,
                Err(e) if self.gzip => {
                    return Err(StreamError::Gzip {
                        path: self.path.clone(),
                        line: self.stats.lines,
                        examples: self.stats.examples,
                        message: e.to_string(),
                    });
                }
                Err(e) => {
                    return Err(StreamError::Io {
                        path: self.path.clone(),
                        message: format!("after line {}: {e}", self.stats.lines),
                    });
                }
            };
            if n == 0 {
                return Ok(false);
            }
            self.stats.lines += 1;
            let text = self.line.split('#').next().unwrap_or("").trim();
            if text.is_empty() {
                continue;
            }
            match parse_line(text, out) {
                Ok(()) => {
                    self.stats.examples += 1;
                    return Ok(true);
                }
                Err(message) => match self.malformed {
                    Malformed::Fatal => {
                        return Err(StreamError::Line {
                            path: self.path.clone(),
                            line: self.stats.lines,
                            message,
                        });
                    }
                    Malformed::Skip => {
                        self.stats.skipped += 1;
                        if self.stats.first_skipped.len() < 10 {
                            self.stats
                                .first_skipped
                                .push(format!("{}:{}: {message}", self.path, self.stats.lines));
                        }
                    }
                },
            }
        }
    }
}

/// Parses `label index:value …` (comment already stripped, non-empty).
fn parse_line(text: &str, out: &mut Example) -> Result<(), String> {
    let mut parts = text.split_ascii_whitespace();
    let label = parts.next().unwrap_or("");
    out.label = match label.parse::<f64>() {
        Ok(y) if y.is_finite() => y,
        _ => return Err(format!("bad label `{label}` (a number is needed)")),
    };
    out.features.clear();
    for item in parts {
        let Some((i, v)) = item.split_once(':') else {
            return Err(format!("bad feature `{item}` (expected index:value)"));
        };
        let index: u32 = i.parse().map_err(|_| {
            format!("bad index `{i}` in `{item}` (a non-negative integer is needed)")
        })?;
        let value: f32 = v
            .parse()
            .map_err(|_| format!("bad value `{v}` in `{item}` (a number is needed)"))?;
        if !value.is_finite() {
            return Err(format!("value {value} of feature {index} is not finite"));
        }
        out.features.index.push(index);
        out.features.value.push(value);
    }
    Ok(())
}

impl Iterator for LibsvmReader {
    type Item = Result<Example, StreamError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut e = Example {
            features: Features::default(),
            label: 0.0,
        };
        match self.next_into(&mut e) {
            Ok(true) => Some(Ok(e)),
            Ok(false) => None,
            Err(err) => Some(Err(err)),
        }
    }
}
