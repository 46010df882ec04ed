//! PNG encoding of RGB pictures (env frames for the dashboard, `mirrorflow plot` output).

use crate::{TelemetryError, io_err};
use mirrorflow_core::Frame;
use std::path::Path;

/// Encodes an RGB frame as PNG bytes.
///
/// ```
/// use mirrorflow_core::Frame;
/// let f = Frame { width: 2, height: 1, rgb: vec![255, 0, 0, 0, 0, 255] };
/// let png = mirrorflow_telemetry::png_file::encode(&f).unwrap();
/// assert_eq!(&png[1..4], b"PNG");
/// ```
pub fn encode(frame: &Frame) -> Result<Vec<u8>, String> {
    let expected = frame.width as usize * frame.height as usize * 3;
    if frame.rgb.len() != expected {
        return Err(format!(
            "frame of {}x{} has {} bytes, expected {expected}",
            frame.width,
            frame.height,
            frame.rgb.len()
        ));
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, frame.width, frame.height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let mut w = enc.write_header().map_err(|e| e.to_string())?;
    w.write_image_data(&frame.rgb).map_err(|e| e.to_string())?;
    w.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// Writes `frame` to `path` as a PNG file.
pub fn write(path: &Path, frame: &Frame) -> Result<(), TelemetryError> {
    let bytes = encode(frame).map_err(|e| io_err(path)(std::io::Error::other(e)))?;
    std::fs::write(path, bytes).map_err(io_err(path))
}
