//! The binary example cache: a file stream parsed once and stored as compact binary records,
//! so later passes skip text parsing (what Vowpal Wabbit's `--cache` does).
//!
//! Layout (little endian):
//!
//! ```text
//! header   "MFXCACHE" · version u32 · source length u64 · source mtime (s i64, ns u32)
//!          · tag length u32 · tag (the format and its settings, e.g. `libsvm malformed=skip`)
//! records  line delta u32 · payload length u32 · payload: label f64 · nnz (varint)
//!          · nnz index deltas (zigzag varint) · nnz values f32 (a shard skips the payloads
//!          of other shards' lines without reading them)
//! trailer  block index (per block of `SHARD_BLOCK` data lines: offset of its first record
//!          u64, line number before it u64) · skipped-line messages (length u32 + bytes each)
//!          · block count u64 · messages byte length u32 · message count u32 · lines u64
//!          · examples u64 · skipped u64 · "MFXCEND1"
//! ```
//!
//! The block index lets a shard seek straight to its own blocks, so `W` workers each read
//! about `1/W` of the file.
//!
//! A cache is written to a temporary file next to its final path and renamed when the source
//! was read to its end, so an interrupted or failed first pass leaves no cache behind. A cache
//! whose source (size, modification time) or settings changed is stale and rebuilt; one that
//! does not parse is an error naming the file.

use crate::libsvm::{StreamError, StreamStats};
use mirrorflow_core::Example;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

const MAGIC: &[u8; 8] = b"MFXCACHE";
const END: &[u8; 8] = b"MFXCEND1";
const VERSION: u32 = 3;
const TRAILER: u64 = 8 + 4 + 4 + 8 + 8 + 8 + 8;

/// Data lines per shard block: worker `w` of `W` reads the blocks `k` with `k mod W = w`
/// (data lines `kB … kB + B − 1`), the same in the text reader and the cache.
pub const SHARD_BLOCK: u64 = 1024;

/// What identifies the source a cache was made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SourceMeta {
    len: u64,
    secs: i64,
    nanos: u32,
}

impl SourceMeta {
    pub(crate) fn of(path: &Path) -> Result<Self, StreamError> {
        let m = std::fs::metadata(path).map_err(|e| StreamError::Io {
            path: path.display().to_string(),
            message: format!("{e} (check env.path)"),
        })?;
        let (secs, nanos) = match m.modified().ok().map(|t| t.duration_since(UNIX_EPOCH)) {
            Some(Ok(d)) => (d.as_secs() as i64, d.subsec_nanos()),
            Some(Err(e)) => (
                -(e.duration().as_secs() as i64),
                e.duration().subsec_nanos(),
            ),
            None => (0, 0),
        };
        Ok(Self {
            len: m.len(),
            secs,
            nanos,
        })
    }
}

fn header(meta: &SourceMeta, tag: &str) -> Vec<u8> {
    let mut h = Vec::with_capacity(40 + tag.len());
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&VERSION.to_le_bytes());
    h.extend_from_slice(&meta.len.to_le_bytes());
    h.extend_from_slice(&meta.secs.to_le_bytes());
    h.extend_from_slice(&meta.nanos.to_le_bytes());
    h.extend_from_slice(&(tag.len() as u32).to_le_bytes());
    h.extend_from_slice(tag.as_bytes());
    h
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(b: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*at)?;
        *at += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(v);
        }
    }
    None
}

/// Writes a cache while the text source is read; renamed into place by [`CacheWriter::finish`].
pub(crate) struct CacheWriter {
    out: Option<BufWriter<File>>,
    tmp: PathBuf,
    dest: PathBuf,
    record: Vec<u8>,
    last_line: u64,
    first_data_line: u64,
    written: u64,
    /// `(offset, line before)` of each block's first record.
    blocks: Vec<(u64, u64)>,
}

impl CacheWriter {
    pub(crate) fn create(
        dest: &Path,
        meta: &SourceMeta,
        tag: &str,
        first_data_line: u64,
    ) -> Result<Self, StreamError> {
        let tmp = dest.with_extension(format!("tmp-{}", std::process::id()));
        let io = |e: std::io::Error| StreamError::Io {
            path: tmp.display().to_string(),
            message: format!(
                "cannot write the example cache: {e} (set env.cache_file to a writable place, or env.cache = false)"
            ),
        };
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp).map_err(io)?);
        let h = header(meta, tag);
        out.write_all(&h).map_err(io)?;
        Ok(Self {
            out: Some(out),
            tmp,
            dest: dest.to_path_buf(),
            record: Vec::new(),
            last_line: 0,
            first_data_line,
            written: h.len() as u64,
            blocks: Vec::new(),
        })
    }

    /// Appends one example read at `line`.
    pub(crate) fn push(&mut self, line: u64, e: &Example) -> Result<(), StreamError> {
        let r = &mut self.record;
        r.clear();
        let delta = u32::try_from(line - self.last_line).map_err(|_| {
            StreamError::cache(&self.tmp, "over 4 billion lines without an example")
        })?;
        let block = line.saturating_sub(1 + self.first_data_line) / SHARD_BLOCK;
        while self.blocks.len() as u64 <= block {
            self.blocks.push((self.written, self.last_line));
        }
        self.last_line = line;
        r.extend_from_slice(&e.label.to_le_bytes());
        put_varint(r, e.features.index.len() as u64);
        let mut prev = 0i64;
        for &i in &e.features.index {
            let d = i64::from(i) - prev;
            prev = i64::from(i);
            put_varint(r, ((d << 1) ^ (d >> 63)) as u64);
        }
        for &v in &e.features.value {
            r.extend_from_slice(&v.to_le_bytes());
        }
        let mut head = [0u8; 8];
        head[..4].copy_from_slice(&delta.to_le_bytes());
        head[4..].copy_from_slice(&(r.len() as u32).to_le_bytes());
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| StreamError::cache(&self.tmp, "already finished"))?;
        self.written += 8 + r.len() as u64;
        out.write_all(&head)
            .and_then(|()| out.write_all(r))
            .map_err(|e| StreamError::cache(&self.tmp, format!("cannot write: {e}")))
    }

    /// Writes the trailer and moves the cache into place.
    pub(crate) fn finish(mut self, stats: &StreamStats) -> Result<(), StreamError> {
        let Some(mut out) = self.out.take() else {
            return Ok(());
        };
        let mut t = Vec::new();
        for &(offset, before) in &self.blocks {
            t.extend_from_slice(&offset.to_le_bytes());
            t.extend_from_slice(&before.to_le_bytes());
        }
        let index_bytes = t.len();
        for m in &stats.first_skipped {
            t.extend_from_slice(&(m.len() as u32).to_le_bytes());
            t.extend_from_slice(m.as_bytes());
        }
        let blob = (t.len() - index_bytes) as u32;
        t.extend_from_slice(&(self.blocks.len() as u64).to_le_bytes());
        t.extend_from_slice(&blob.to_le_bytes());
        t.extend_from_slice(&(stats.first_skipped.len() as u32).to_le_bytes());
        t.extend_from_slice(&stats.lines.to_le_bytes());
        t.extend_from_slice(&stats.examples.to_le_bytes());
        t.extend_from_slice(&stats.skipped.to_le_bytes());
        t.extend_from_slice(END);
        let err = |e: std::io::Error| StreamError::cache(&self.dest, format!("cannot write: {e}"));
        out.write_all(&t).map_err(err)?;
        out.into_inner()
            .map_err(|e| err(e.into_error()))?
            .sync_all()
            .map_err(err)?;
        std::fs::rename(&self.tmp, &self.dest).map_err(err)
    }
}

impl Drop for CacheWriter {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Reads a finished cache, optionally one shard of it (by blocks of data lines, as the text
/// reader does), seeking over the other shards' blocks.
pub struct CacheReader {
    path: PathBuf,
    input: BufReader<File>,
    at: u64,
    /// Where the current block's records end.
    stop: u64,
    end: u64,
    blocks: Vec<(u64, u64)>,
    /// The next block this shard reads.
    next_block: u64,
    record: Vec<u8>,
    line: u64,
    shard: (u64, u64),
    stats: StreamStats,
}

impl CacheReader {
    /// Opens `path` if it is a finished cache of this source and settings: `Ok(None)` when it
    /// does not exist or is stale, an error when it exists but cannot be read.
    pub(crate) fn open(
        path: &Path,
        meta: &SourceMeta,
        tag: &str,
        shard: (u64, u64),
    ) -> Result<Option<Self>, StreamError> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StreamError::cache(path, format!("cannot open: {e}"))),
        };
        let bad =
            |what: &str| StreamError::cache(path, format!("not a readable example cache ({what})"));
        let len = file
            .metadata()
            .map_err(|e| StreamError::cache(path, e))?
            .len();
        let mut input = BufReader::with_capacity(1 << 20, file);
        let want = header(meta, tag);
        let mut got = vec![0u8; want.len()];
        let n = read_up_to(&mut input, &mut got).map_err(|e| StreamError::cache(path, e))?;
        if n < 12 || &got[..8] != MAGIC {
            return Err(bad("bad magic"));
        }
        if n < want.len() || got != want {
            return Ok(None); // another version, source or setting: rebuild
        }
        if len < want.len() as u64 + TRAILER {
            return Err(bad("truncated"));
        }
        let mut t = [0u8; TRAILER as usize];
        input
            .seek(SeekFrom::Start(len - TRAILER))
            .and_then(|_| input.read_exact(&mut t))
            .map_err(|e| StreamError::cache(path, e))?;
        if &t[40..48] != END {
            return Err(bad("no end marker: an unfinished or damaged file"));
        }
        let word = |k: usize| u32::from_le_bytes([t[k], t[k + 1], t[k + 2], t[k + 3]]);
        let long = |k: usize| u64::from_le_bytes(t[k..k + 8].try_into().unwrap_or([0; 8]));
        let (nb, blob, count) = (long(0), u64::from(word(8)), word(12));
        let end = nb
            .checked_mul(16)
            .and_then(|ib| len.checked_sub(TRAILER + blob + ib))
            .filter(|&e| e >= want.len() as u64)
            .ok_or_else(|| bad("trailer does not fit"))?;
        let mut tail = vec![0u8; (len - TRAILER - end) as usize];
        input
            .seek(SeekFrom::Start(end))
            .and_then(|_| input.read_exact(&mut tail))
            .map_err(|e| StreamError::cache(path, e))?;
        let (index, messages) = tail.split_at(16 * nb as usize);
        let blocks: Vec<(u64, u64)> = index
            .chunks_exact(16)
            .map(|c| {
                let v = |k: usize| u64::from_le_bytes(c[k..k + 8].try_into().unwrap_or([0; 8]));
                (v(0), v(8))
            })
            .collect();
        if blocks.windows(2).any(|w| w[1].0 < w[0].0) || blocks.iter().any(|b| b.0 > end) {
            return Err(bad("block index"));
        }
        let mut first_skipped = Vec::new();
        let mut k = 0usize;
        for _ in 0..count {
            let l = messages
                .get(k..k + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
                .ok_or_else(|| bad("skipped-line messages"))?;
            let m = messages
                .get(k + 4..k + 4 + l)
                .ok_or_else(|| bad("skipped-line messages"))?;
            first_skipped.push(String::from_utf8_lossy(m).into_owned());
            k += 4 + l;
        }
        // the file's counts describe the whole source: shard 0 reports them
        let stats = if shard.0 == 0 {
            StreamStats {
                lines: long(16),
                examples: 0,
                skipped: long(32),
                first_skipped,
            }
        } else {
            StreamStats::default()
        };
        let at = want.len() as u64;
        if shard.1 > 1 && !blocks.is_empty() {
            // a buffer well below a block, so that reading a block does not also read the
            // next (another shard's) one
            let block = (end - at) / blocks.len() as u64;
            let cap = (block / 4).clamp(16 << 10, 1 << 20) as usize;
            input = BufReader::with_capacity(cap, input.into_inner());
        }
        input
            .seek(SeekFrom::Start(at))
            .map_err(|e| StreamError::cache(path, e))?;
        // one shard: the whole record region at once; several: block by block
        let (stop, next_block) = if shard.1 <= 1 {
            (end, nb)
        } else {
            (at, shard.0)
        };
        Ok(Some(Self {
            path: path.to_path_buf(),
            input,
            at,
            stop,
            end,
            blocks,
            next_block,
            record: Vec::new(),
            line: 0,
            shard,
            stats,
        }))
    }

    /// What was read so far (skipped lines: the counts of the pass that made the cache).
    pub fn stats(&self) -> &StreamStats {
        &self.stats
    }

    /// Reads the next example (of this shard) into `out`; `Ok(false)` at the end.
    pub fn next_into(&mut self, out: &mut Example) -> Result<bool, StreamError> {
        while self.at >= self.stop {
            // this block is done: seek to the next block of this shard
            let k = self.next_block as usize;
            let Some(&(offset, before)) = self.blocks.get(k) else {
                return Ok(false);
            };
            self.stop = self.blocks.get(k + 1).map_or(self.end, |b| b.0);
            self.next_block += self.shard.1;
            self.input
                .seek_relative(offset as i64 - self.at as i64)
                .map_err(|e| StreamError::cache(&self.path, e))?;
            self.at = offset;
            self.line = before;
        }
        let mut head = [0u8; 8];
        self.input
            .read_exact(&mut head)
            .map_err(|e| StreamError::cache(&self.path, format!("at byte {}: {e}", self.at)))?;
        let delta = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
        self.at += 8 + len as u64;
        if self.at > self.stop {
            return Err(StreamError::cache(
                &self.path,
                "a record runs past its block",
            ));
        }
        self.line += u64::from(delta);
        self.record.resize(len, 0);
        self.input
            .read_exact(&mut self.record)
            .map_err(|e| StreamError::cache(&self.path, e))?;
        decode(&self.record, out).ok_or_else(|| {
            StreamError::cache(
                &self.path,
                format!("damaged record before byte {}", self.at),
            )
        })?;
        self.stats.examples += 1;
        Ok(true)
    }
}

fn decode(b: &[u8], out: &mut Example) -> Option<()> {
    out.label = f64::from_le_bytes(b.get(0..8)?.try_into().ok()?);
    let mut k = 8;
    let nnz = usize::try_from(get_varint(b, &mut k)?).ok()?;
    let f = &mut out.features;
    f.clear();
    let mut prev = 0i64;
    for _ in 0..nnz {
        let z = get_varint(b, &mut k)?;
        prev += ((z >> 1) as i64) ^ -((z & 1) as i64);
        f.index.push(u32::try_from(prev).ok()?);
    }
    let vals = b.get(k..k + 4 * nnz)?;
    f.value.extend(
        vals.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
    );
    (k + 4 * nnz == b.len()).then_some(())
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
