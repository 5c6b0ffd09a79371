//! Writing one feature matrix as .npy or .csv, atomically (temp file + rename).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use dsp_features::FeatureMatrix;
use dsp_features::npy::write_npy_matrix;

use crate::cli::Format;

/// Write `m` (`[bins, frames]`) to `path`; parent folders are created.
pub fn write(path: &Path, m: &FeatureMatrix, format: Format) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating output folder {}", dir.display()))?;
    }
    ser_fs::write_atomic_with(path, |w| match format {
        Format::Npy => write_npy_matrix(w, &m.data),
        Format::Csv => write_csv(w, m),
    })
    .with_context(|| format!("writing {}", path.display()))
}

fn write_csv<W: Write>(w: &mut W, m: &FeatureMatrix) -> std::io::Result<()> {
    for row in m.data.rows() {
        let mut first = true;
        for v in row {
            if !first {
                w.write_all(b",")?;
            }
            first = false;
            // Display of f32 is the shortest string that parses back to the same value.
            write!(w, "{v}")?;
        }
        w.write_all(b"\n")?;
    }
    Ok(())
}
