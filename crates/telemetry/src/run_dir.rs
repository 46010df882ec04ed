//! Run directories: `runs/<name>__s<seed>__<unix_secs>/`, never overwriting an existing one.

use crate::{TelemetryError, io_err};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A run's directory.
#[derive(Clone, Debug)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Creates `parent/<name>__s<seed>__<unix_secs>` (with `-1`, `-2`, … appended if that
    /// exists), creating `parent` as needed.
    pub fn create_new(parent: &Path, name: &str, seed: u64) -> Result<Self, TelemetryError> {
        std::fs::create_dir_all(parent).map_err(io_err(parent))?;
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let base = format!("{name}__s{seed}__{secs}");
        for i in 0.. {
            let dir = if i == 0 {
                parent.join(&base)
            } else {
                parent.join(format!("{base}-{i}"))
            };
            match std::fs::create_dir(&dir) {
                Ok(()) => return Ok(Self { path: dir }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_err(&dir)(e)),
            }
        }
        unreachable!("the loop above returns")
    }

    /// Uses exactly `dir`, which must not exist or be empty.
    pub fn create_exact(dir: &Path) -> Result<Self, TelemetryError> {
        if dir.exists() {
            let empty = std::fs::read_dir(dir)
                .map_err(io_err(dir))?
                .next()
                .is_none();
            if !empty {
                return Err(TelemetryError::RunDirExists(dir.display().to_string()));
            }
        } else {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        Ok(Self {
            path: dir.to_path_buf(),
        })
    }

    /// Opens an existing run directory (resume, eval).
    pub fn open(dir: &Path) -> Self {
        Self {
            path: dir.to_path_buf(),
        }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `name` inside the directory atomically.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), TelemetryError> {
        write_atomic(&self.path.join(name), bytes)
    }
}

/// Writes `bytes` to `path` via a temporary file, fsync and rename: readers see the old file or
/// the new one, never a torn one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TelemetryError> {
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_overwrites() {
        let t = tempfile::tempdir().unwrap();
        let a = RunDir::create_new(t.path(), "x", 1).unwrap();
        let b = RunDir::create_new(t.path(), "x", 1).unwrap();
        assert_ne!(a.path(), b.path());
        a.write("f.txt", b"hi").unwrap();
        assert!(matches!(
            RunDir::create_exact(a.path()),
            Err(TelemetryError::RunDirExists(_))
        ));
        assert!(RunDir::create_exact(&t.path().join("new")).is_ok());
    }
}
