//! LIBSVM streams: plain and gzip read the same; each kind of malformed input gets its own
//! message with the line number, or is skipped and counted.
#![allow(clippy::unwrap_used, reason = "tests")]

use flate2::Compression;
use flate2::write::GzEncoder;
use mirrorflow_env_streams::{Malformed, TextReader};
use std::io::Write;
use std::path::{Path, PathBuf};

const GOOD: &str =
    "+1 1:0.5 3:-2\n# a comment line\n\n-1 2:1e-3 # trailing comment\n0 1:1 2:2 3:3\n";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn gzip(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    std::fs::write(&p, enc.finish().unwrap()).unwrap();
    p
}

/// Examples as (label, indices, values).
type Rows = Vec<(f64, Vec<u32>, Vec<f32>)>;

fn read_all(path: &Path, m: Malformed) -> (Rows, Result<(), String>, TextReader) {
    let mut r = TextReader::open_libsvm(path, m).unwrap();
    let mut out = Vec::new();
    let mut e = Default::default();
    let res = loop {
        match r.next_into(&mut e) {
            Ok(true) => out.push((e.label, e.features.index.clone(), e.features.value.clone())),
            Ok(false) => break Ok(()),
            Err(err) => break Err(err.to_string()),
        }
    };
    (out, res, r)
}

#[test]
fn plain_and_gzip_read_the_same_examples() {
    let t = tempfile::tempdir().unwrap();
    let (a, ra, r) = read_all(&write(t.path(), "a.libsvm", GOOD), Malformed::Fatal);
    let (b, rb, _) = read_all(&gzip(t.path(), "b.libsvm.gz", GOOD), Malformed::Fatal);
    assert!(ra.is_ok() && rb.is_ok());
    assert_eq!(a, b);
    assert_eq!(a.len(), 3);
    assert_eq!(a[0], (1.0, vec![1, 3], vec![0.5, -2.0]));
    assert_eq!(a[1], (-1.0, vec![2], vec![1e-3]));
    assert_eq!(r.stats().lines, 5);
    assert_eq!(r.stats().examples, 3);
}

fn fatal_message(text: &str) -> String {
    let t = tempfile::tempdir().unwrap();
    let (_, res, _) = read_all(&write(t.path(), "bad.libsvm", text), Malformed::Fatal);
    res.unwrap_err()
}

#[test]
fn a_bad_label_is_named_with_its_line() {
    let e = fatal_message("+1 1:1\nspam 1:1\n");
    assert!(e.contains("bad.libsvm:2: bad label `spam`"), "{e}");
}

#[test]
fn a_bad_index_is_named_with_its_line() {
    let e = fatal_message("+1 1:1\n-1 1:1\n+1 x7:1\n");
    assert!(e.contains(":3: bad index `x7`"), "{e}");
    let e = fatal_message("+1 -3:1\n");
    assert!(e.contains(":1: bad index `-3`"), "{e}");
    let e = fatal_message("+1 4\n");
    assert!(
        e.contains(":1: bad feature `4` (expected index:value)"),
        "{e}"
    );
}

#[test]
fn a_nan_value_is_named_with_its_line() {
    let e = fatal_message("+1 1:1\n+1 2:nan\n");
    assert!(
        e.contains(":2: value NaN of feature 2 is not finite"),
        "{e}"
    );
    let e = fatal_message("+1 2:inf\n");
    assert!(
        e.contains(":1: value inf of feature 2 is not finite"),
        "{e}"
    );
}

#[test]
fn a_truncated_gzip_is_fatal_and_says_how_far_it_got() {
    let t = tempfile::tempdir().unwrap();
    let text: String = (0..5000)
        .map(|i| format!("{} 1:{i} 2:0.5\n", if i % 2 == 0 { 1 } else { -1 }))
        .collect();
    let p = gzip(t.path(), "full.gz", &text);
    let bytes = std::fs::read(&p).unwrap();
    let cut = t.path().join("cut.gz");
    std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
    for m in [Malformed::Fatal, Malformed::Skip] {
        let (got, res, r) = read_all(&cut, m);
        let e = res.unwrap_err();
        assert!(
            e.contains("cut.gz: the gzip stream is truncated or corrupt"),
            "{e}"
        );
        assert!(
            e.contains(&format!("{} examples were read", got.len())),
            "{e}"
        );
        assert!(!got.is_empty() && got.len() < 5000);
        assert_eq!(r.stats().examples as usize, got.len());
    }
}

#[test]
fn skipped_lines_are_counted_never_silently_lost() {
    let t = tempfile::tempdir().unwrap();
    let p = write(
        t.path(),
        "mixed.libsvm",
        "+1 1:1\nspam\n-1 2:nan\n+1 3:1\n-1 z:1\n",
    );
    let (got, res, r) = read_all(&p, Malformed::Skip);
    assert!(res.is_ok());
    assert_eq!(got.len(), 2);
    let s = r.stats();
    assert_eq!((s.lines, s.examples, s.skipped), (5, 2, 3));
    assert_eq!(s.first_skipped.len(), 3);
    assert!(
        s.first_skipped[1].contains("mixed.libsvm:3: value NaN"),
        "{:?}",
        s.first_skipped
    );
}

#[test]
fn a_missing_file_names_the_path() {
    let e = TextReader::open_libsvm(Path::new("/nonexistent/data.libsvm"), Malformed::Fatal)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("/nonexistent/data.libsvm") && e.contains("env.path"),
        "{e}"
    );
}
