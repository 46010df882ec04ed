//! File streams beyond one plain pass: the binary example cache (same examples and counts as
//! the text, rebuilt when stale, an error when damaged, never left half-written), shards (every
//! example in exactly one shard, the same from text and cache) and CSV files.
#![allow(clippy::unwrap_used, reason = "tests")]

use mirrorflow_core::{Example, ExampleSource};
use mirrorflow_env_streams::{CsvConfig, FileStream, LabelColumn, LibsvmConfig, Malformed};
use std::path::{Path, PathBuf};

type Rows = Vec<(u64, u64, Vec<u32>, Vec<u32>)>; // label bits, -, index, value bits

fn text(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        if i % 7 == 3 {
            s.push_str("1 4:nan\n"); // malformed
        } else if i % 11 == 5 {
            s.push_str("# comment\n");
        } else {
            let y = if i % 3 == 0 { "+1" } else { "-1" };
            s.push_str(&format!(
                "{y} 1:{}.25 {}:-0.{} 130:1e-3\n",
                i % 5,
                2 + i % 9,
                i
            ));
        }
    }
    s
}

fn libsvm(path: &Path, cache: bool) -> FileStream {
    FileStream::Libsvm(LibsvmConfig {
        path: path.to_path_buf(),
        malformed: Malformed::Skip,
        cache,
        cache_file: None,
    })
}

fn drain(s: &mut dyn ExampleSource) -> (Rows, u64, Vec<String>) {
    let mut e = Example::default();
    let mut rows = Vec::new();
    while s.next_into(&mut e).unwrap() {
        rows.push((
            e.label.to_bits(),
            0,
            e.features.index.clone(),
            e.features.value.iter().map(|v| v.to_bits()).collect(),
        ));
    }
    (rows, s.skipped(), s.first_skipped())
}

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn cache_of(p: &Path) -> PathBuf {
    PathBuf::from(format!("{}.mfcache", p.display()))
}

#[test]
fn the_cache_gives_the_same_examples_and_counts_as_the_text() {
    let t = tempfile::tempdir().unwrap();
    let p = write(t.path(), "d.libsvm", &text(300));
    let (plain, skipped, msgs) = drain(libsvm(&p, false).open(0, 1).unwrap().as_mut());
    assert!(!cache_of(&p).exists());
    let first = drain(libsvm(&p, true).open(0, 1).unwrap().as_mut());
    assert!(cache_of(&p).exists(), "a full pass writes the cache");
    let cached = drain(libsvm(&p, true).open(0, 1).unwrap().as_mut());
    assert_eq!(first, (plain.clone(), skipped, msgs.clone()));
    assert_eq!(cached, (plain.clone(), skipped, msgs));
    assert_eq!(
        skipped, 43,
        "no silent loss: the cache keeps the skipped count"
    );
    // 300 lines: 43 malformed, 23 comments (27 minus 4 that are malformed lines instead)
    assert_eq!(plain.len(), 300 - 43 - (27 - 4));
}

#[test]
fn a_stale_cache_is_rebuilt_and_a_damaged_one_is_an_error() {
    let t = tempfile::tempdir().unwrap();
    let p = write(t.path(), "d.libsvm", &text(50));
    drain(libsvm(&p, true).open(0, 1).unwrap().as_mut());
    std::thread::sleep(std::time::Duration::from_millis(20));
    let p = write(t.path(), "d.libsvm", &text(60));
    let (rows, ..) = drain(libsvm(&p, true).open(0, 1).unwrap().as_mut());
    let (fresh, ..) = drain(libsvm(&p, false).open(0, 1).unwrap().as_mut());
    assert_eq!(rows, fresh, "a changed source rebuilds the cache");
    let c = cache_of(&p);
    let bytes = std::fs::read(&c).unwrap();
    std::fs::write(&c, &bytes[..bytes.len() - 5]).unwrap();
    let err = libsvm(&p, true).open(0, 1).err().unwrap().to_string();
    assert!(
        err.contains("d.libsvm.mfcache") && err.contains("unfinished or damaged"),
        "{err}"
    );
    assert!(err.contains("rebuilt when deleted"), "{err}");
    std::fs::write(&c, b"garbage").unwrap();
    let err = libsvm(&p, true).open(0, 1).err().unwrap().to_string();
    assert!(err.contains("bad magic"), "{err}");
}

#[test]
fn an_unfinished_first_pass_leaves_no_cache() {
    let t = tempfile::tempdir().unwrap();
    let p = write(t.path(), "d.libsvm", &text(100));
    {
        let mut s = libsvm(&p, true).open(0, 1).unwrap();
        let mut e = Example::default();
        for _ in 0..10 {
            assert!(s.next_into(&mut e).unwrap());
        }
    }
    let left: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "only the data file: {left:?}");
}

#[test]
fn shards_split_every_example_once_and_text_and_cache_agree() {
    let t = tempfile::tempdir().unwrap();
    // 5 000 lines: 5 blocks of 1 024 data lines dealt round-robin to the shards
    let p = write(t.path(), "d.libsvm", &text(5_000));
    let (whole, skipped, _) = drain(libsvm(&p, true).open(0, 1).unwrap().as_mut());
    for count in [2, 3] {
        let mut union = Vec::new();
        let mut skip_sum = (0, 0);
        for index in 0..count {
            let from_text = drain(libsvm(&p, false).open(index, count).unwrap().as_mut());
            let from_cache = drain(libsvm(&p, true).open(index, count).unwrap().as_mut());
            assert_eq!(from_text.0, from_cache.0, "shard {index}/{count}");
            assert!(!from_text.0.is_empty() && from_text.0.len() < whole.len());
            skip_sum.0 += from_text.1;
            skip_sum.1 += from_cache.1;
            union.extend(from_text.0);
        }
        assert_eq!(
            skip_sum,
            (skipped, skipped),
            "skipped lines counted once over shards"
        );
        union.sort();
        let mut w = whole.clone();
        w.sort();
        assert_eq!(union, w);
    }
}

#[test]
fn csv_with_a_named_label_reads_like_the_libsvm_file() {
    let t = tempfile::tempdir().unwrap();
    let csv = write(t.path(), "d.csv", "a,y,b\n0.5,1,-2\n0,-1,3\n\n1.5,1,0\n");
    let svm = write(t.path(), "d.libsvm", "1 1:0.5 2:-2\n-1 2:3\n1 1:1.5\n");
    let c = FileStream::Csv(CsvConfig {
        path: csv.clone(),
        label: LabelColumn::Name("y".into()),
        ..CsvConfig::default()
    });
    let a = drain(c.open(0, 1).unwrap().as_mut());
    let b = drain(libsvm(&svm, false).open(0, 1).unwrap().as_mut());
    assert_eq!(a, b);
    let bad = FileStream::Csv(CsvConfig {
        path: csv,
        label: LabelColumn::Name("z".into()),
        ..CsvConfig::default()
    });
    let err = bad.open(0, 1).err().unwrap().to_string();
    assert!(
        err.contains("d.csv:1") && err.contains("no column named `z`"),
        "{err}"
    );
    let err = FileStream::Csv(CsvConfig {
        delimiter: ";;".into(),
        ..CsvConfig::default()
    })
    .open(0, 1)
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("one ASCII character"), "{err}");
}
