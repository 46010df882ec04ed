//! Writes NumPy `.npy` files (format version 1.0), loadable with `numpy.load`.

use crate::{TelemetryError, io_err};
use mirrorflow_core::Array2;
use std::path::Path;

/// The bytes of a `.npy` file holding `a` as a C-ordered little-endian float64 array.
pub fn encode_f64_2d(a: &Array2) -> Vec<u8> {
    let mut header = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, {}), }}",
        a.rows, a.cols
    );
    // magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of
    // 64 and ended by a newline.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + a.data.len() * 8);
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in &a.data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Writes `a` to `path` atomically.
pub fn write_f64_2d(path: &Path, a: &Array2) -> Result<(), TelemetryError> {
    crate::run_dir::write_atomic(path, &encode_f64_2d(a))
}

/// Reads back a file written by [`write_f64_2d`] (for tests and tools).
pub fn read_f64_2d(path: &Path) -> Result<Array2, TelemetryError> {
    let bytes = std::fs::read(path).map_err(io_err(path))?;
    let bad = || TelemetryError::Io {
        path: path.display().to_string(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a 2-D float64 .npy file",
        ),
    };
    if bytes.len() < 10 || &bytes[..8] != b"\x93NUMPY\x01\x00" {
        return Err(bad());
    }
    let hl = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(bytes.get(10..10 + hl).ok_or_else(bad)?).map_err(|_| bad())?;
    let shape = header
        .split("'shape': (")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .ok_or_else(bad)?;
    let dims: Vec<usize> = shape
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [rows, cols] = dims[..] else {
        return Err(bad());
    };
    let data: Vec<f64> = bytes[10 + hl..]
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect();
    if data.len() != rows * cols || !header.contains("'<f8'") {
        return Err(bad());
    }
    Ok(Array2 { rows, cols, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_alignment() {
        let a = Array2 {
            rows: 2,
            cols: 3,
            data: vec![1.0, 2.0, 3.0, 4.0, 5.0, -0.5],
        };
        let bytes = encode_f64_2d(&a);
        let hl = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + hl) % 64, 0);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.npy");
        write_f64_2d(&p, &a).unwrap();
        assert_eq!(read_f64_2d(&p).unwrap(), a);
    }
}
