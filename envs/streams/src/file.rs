//! Example streams from files: LIBSVM/SVMlight or CSV text (gzip detected from the first
//! bytes), read one line at a time in constant memory, optionally one shard of the file
//! (data line `k` goes to shard `⌊k / 1024⌋ mod count`: blocks of [`SHARD_BLOCK`] lines dealt
//! round-robin), optionally through the binary example cache.

use crate::cache::{CacheReader, CacheWriter, SHARD_BLOCK, SourceMeta};
use crate::csv::{self, LabelColumn};
use crate::libsvm::{self, Malformed, StreamError, StreamStats};
use flate2::read::MultiGzDecoder;
use mirrorflow_core::{Example, ExampleSource};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// `[env]` parameters of `id = "libsvm"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LibsvmConfig {
    /// The file (`.gz` or not: detected from its first bytes).
    pub path: PathBuf,
    /// Malformed lines: `fatal` (default) or `skip`.
    pub malformed: Malformed,
    /// Keep a binary cache of the parsed examples (made on the first full pass, used after).
    pub cache: bool,
    /// Where the cache lives (default: the data file's path with `.mfcache` appended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_file: Option<PathBuf>,
}

impl Default for LibsvmConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("data.libsvm"),
            malformed: Malformed::Fatal,
            cache: false,
            cache_file: None,
        }
    }
}

/// `[env]` parameters of `id = "csv"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CsvConfig {
    /// The file (`.gz` or not: detected from its first bytes).
    pub path: PathBuf,
    /// Malformed lines: `fatal` (default) or `skip`.
    pub malformed: Malformed,
    /// The label column: a 0-based position or a header name.
    pub label: LabelColumn,
    /// Whether the first line holds column names.
    pub header: bool,
    /// The field separator (one ASCII character).
    pub delimiter: String,
    /// Keep a binary cache of the parsed examples (made on the first full pass, used after).
    pub cache: bool,
    /// Where the cache lives (default: the data file's path with `.mfcache` appended).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_file: Option<PathBuf>,
}

impl Default for CsvConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("data.csv"),
            malformed: Malformed::Fatal,
            label: LabelColumn::Index(0),
            header: true,
            delimiter: ",".into(),
            cache: false,
            cache_file: None,
        }
    }
}

/// A file stream's configuration.
#[derive(Clone, Debug, PartialEq)]
pub enum FileStream {
    /// LIBSVM / SVMlight text.
    Libsvm(LibsvmConfig),
    /// CSV text.
    Csv(CsvConfig),
}

impl FileStream {
    /// The data file.
    pub fn path(&self) -> &Path {
        match self {
            FileStream::Libsvm(c) => &c.path,
            FileStream::Csv(c) => &c.path,
        }
    }

    fn malformed(&self) -> Malformed {
        match self {
            FileStream::Libsvm(c) => c.malformed,
            FileStream::Csv(c) => c.malformed,
        }
    }

    /// The cache file, when caching is on.
    pub fn cache_path(&self) -> Option<PathBuf> {
        let (on, file) = match self {
            FileStream::Libsvm(c) => (c.cache, &c.cache_file),
            FileStream::Csv(c) => (c.cache, &c.cache_file),
        };
        on.then(|| {
            file.clone().unwrap_or_else(|| {
                let mut p = self.path().as_os_str().to_owned();
                p.push(".mfcache");
                PathBuf::from(p)
            })
        })
    }

    /// Whether the cache is on and holds an up-to-date copy of the stream (the next open reads
    /// it instead of the text).
    pub fn cache_is_current(&self) -> bool {
        let Some(cache) = self.cache_path() else {
            return false;
        };
        let Ok(reader) = TextReader::open(self, (0, 1)) else {
            return false;
        };
        let Ok(meta) = SourceMeta::of(self.path()) else {
            return false;
        };
        let tag = reader.tag(self.malformed());
        matches!(CacheReader::open(&cache, &meta, &tag, (0, 1)), Ok(Some(_)))
    }

    /// Checks the settings that do not need the file.
    pub fn validate(&self) -> Result<(), String> {
        if let FileStream::Csv(c) = self
            && !(c.delimiter.len() == 1 && c.delimiter.is_ascii() && c.delimiter != "\"")
        {
            return Err(format!(
                "delimiter = {:?}: one ASCII character is needed (\",\", \";\", \"\\t\", …)",
                c.delimiter
            ));
        }
        Ok(())
    }

    /// Opens shard `index` of `count` (`(0, 1)`: the whole stream), from the cache when it
    /// is on and up to date; an unsharded text pass with the cache on writes the cache.
    pub fn open(&self, index: usize, count: usize) -> Result<Box<dyn ExampleSource>, StreamError> {
        self.validate().map_err(|m| StreamError::Io {
            path: self.path().display().to_string(),
            message: m,
        })?;
        let shard = (index as u64, count.max(1) as u64);
        let mut reader = TextReader::open(self, shard)?;
        if let Some(cache) = self.cache_path() {
            let meta = SourceMeta::of(self.path())?;
            let tag = reader.tag(self.malformed());
            if let Some(c) = CacheReader::open(&cache, &meta, &tag, shard)? {
                return Ok(Box::new(c));
            }
            if shard.1 == 1 {
                reader.tee = Some(CacheWriter::create(
                    &cache,
                    &meta,
                    &tag,
                    reader.header_lines,
                )?);
            }
        }
        Ok(Box::new(reader))
    }
}

#[derive(Clone, Copy, Debug)]
enum Format {
    Libsvm,
    Csv { label: usize, delimiter: u8 },
}

/// A LIBSVM or CSV text file read as a stream of [`Example`]s (or one shard of it).
pub struct TextReader {
    path: String,
    input: Box<dyn BufRead + Send>,
    gzip: bool,
    malformed: Malformed,
    format: Format,
    header_lines: u64,
    shard: (u64, u64),
    line: Vec<u8>,
    stats: StreamStats,
    tee: Option<CacheWriter>,
}

impl TextReader {
    /// Opens a LIBSVM file, gzip or plain, whole.
    pub fn open_libsvm(path: &Path, malformed: Malformed) -> Result<Self, StreamError> {
        let cfg = FileStream::Libsvm(LibsvmConfig {
            path: path.to_path_buf(),
            malformed,
            ..LibsvmConfig::default()
        });
        Self::open(&cfg, (0, 1))
    }

    fn open(cfg: &FileStream, shard: (u64, u64)) -> Result<Self, StreamError> {
        let path = cfg.path();
        let name = path.display().to_string();
        let io = |e: std::io::Error| StreamError::Io {
            path: name.clone(),
            message: format!("{e} (check env.path)"),
        };
        let mut file = BufReader::with_capacity(1 << 17, File::open(path).map_err(io)?);
        let gzip = file.fill_buf().map_err(io)?.starts_with(&[0x1f, 0x8b]);
        let input: Box<dyn BufRead + Send> = if gzip {
            Box::new(BufReader::with_capacity(1 << 17, MultiGzDecoder::new(file)))
        } else {
            Box::new(file)
        };
        let mut r = Self {
            path: name,
            input,
            gzip,
            malformed: cfg.malformed(),
            format: Format::Libsvm,
            header_lines: 0,
            shard,
            line: Vec::new(),
            stats: StreamStats::default(),
            tee: None,
        };
        if let FileStream::Csv(c) = cfg {
            let delimiter = c.delimiter.as_bytes().first().copied().unwrap_or(b',');
            let header = if c.header {
                r.header_lines = 1;
                r.read_line()?;
                Some(r.line.trim_ascii().to_vec())
            } else {
                None
            };
            let label =
                csv::resolve_label(&c.label, header.as_deref(), delimiter).map_err(|m| {
                    StreamError::Line {
                        path: r.path.clone(),
                        line: 1,
                        message: m,
                    }
                })?;
            r.format = Format::Csv { label, delimiter };
        }
        Ok(r)
    }

    /// The cache tag: the format and every setting that changes what is read.
    fn tag(&self, malformed: Malformed) -> String {
        let m = match malformed {
            Malformed::Fatal => "fatal",
            Malformed::Skip => "skip",
        };
        match self.format {
            Format::Libsvm => format!("libsvm malformed={m}"),
            Format::Csv { label, delimiter } => format!(
                "csv label={label} delimiter={} header={} malformed={m}",
                delimiter, self.header_lines
            ),
        }
    }

    /// What was read so far.
    pub fn stats(&self) -> &StreamStats {
        &self.stats
    }

    /// Reads one line into `self.line`; `Ok(0)` at the end.
    fn read_line(&mut self) -> Result<usize, StreamError> {
        self.line.clear();
        match self.input.read_until(b'\n', &mut self.line) {
            Ok(n) => {
                if n > 0 {
                    self.stats.lines += 1;
                }
                Ok(n)
            }
            Err(e) if self.gzip => Err(StreamError::Gzip {
                path: self.path.clone(),
                line: self.stats.lines,
                examples: self.stats.examples,
                message: e.to_string(),
            }),
            Err(e) => Err(StreamError::Io {
                path: self.path.clone(),
                message: format!("after line {}: {e}", self.stats.lines),
            }),
        }
    }

    /// Reads the next example (of this shard) into `out`; `Ok(false)` at the end of the file.
    pub fn next_into(&mut self, out: &mut Example) -> Result<bool, StreamError> {
        loop {
            if self.read_line()? == 0 {
                if let Some(t) = self.tee.take() {
                    t.finish(&self.stats)?;
                }
                return Ok(false);
            }
            let data_line = self.stats.lines - 1 - self.header_lines;
            if self.shard.1 > 1 && (data_line / SHARD_BLOCK) % self.shard.1 != self.shard.0 {
                continue;
            }
            let end = match self.format {
                Format::Libsvm => self.line.iter().position(|&b| b == b'#'),
                Format::Csv { .. } => None,
            }
            .unwrap_or(self.line.len());
            let text = self.line[..end].trim_ascii();
            if text.is_empty() {
                continue;
            }
            let parsed = match self.format {
                Format::Libsvm => libsvm::parse_line(text, out),
                Format::Csv { label, delimiter } => csv::parse_line(text, label, delimiter, out),
            };
            match parsed {
                Ok(()) => {
                    self.stats.examples += 1;
                    if let Some(t) = &mut self.tee {
                        t.push(self.stats.lines, out)?;
                    }
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

impl Iterator for TextReader {
    type Item = Result<Example, StreamError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut e = Example::default();
        match self.next_into(&mut e) {
            Ok(true) => Some(Ok(e)),
            Ok(false) => None,
            Err(err) => Some(Err(err)),
        }
    }
}

impl ExampleSource for TextReader {
    fn next_into(&mut self, out: &mut Example) -> Result<bool, mirrorflow_core::Error> {
        TextReader::next_into(self, out).map_err(|e| mirrorflow_core::Error::Stream(e.to_string()))
    }

    fn skipped(&self) -> u64 {
        self.stats.skipped
    }

    fn first_skipped(&self) -> Vec<String> {
        self.stats.first_skipped.clone()
    }
}

impl ExampleSource for CacheReader {
    fn next_into(&mut self, out: &mut Example) -> Result<bool, mirrorflow_core::Error> {
        CacheReader::next_into(self, out).map_err(|e| mirrorflow_core::Error::Stream(e.to_string()))
    }

    fn skipped(&self) -> u64 {
        self.stats().skipped
    }

    fn first_skipped(&self) -> Vec<String> {
        self.stats().first_skipped.clone()
    }
}
