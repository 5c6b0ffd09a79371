//! Atomic file writing: results are never left half-written (through `ser_fs`, creating the
//! directory first, with errors naming the file).

use std::path::Path;

use crate::error::{EvalError, Result};

/// Writes `bytes` to `path` atomically ([`ser_fs::write_atomic`]: a temporary file in the same
/// directory, synced, then renamed), creating the directory if needed, so an interrupted run
/// leaves either the old file or the complete new one — which is what makes resuming by "does
/// the file exist" safe.
///
/// # Errors
///
/// [`EvalError::Io`] naming the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |action, source| EvalError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| io("creating the directory of", e))?;
    }
    ser_fs::write_atomic(path, bytes).map_err(|e| io("writing", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_the_directory_and_names_the_file_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fold-1/report.json");
        write_atomic(&p, b"{}").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
        // A directory where the file should go: the error says which file.
        let e = write_atomic(dir.path(), b"{}").unwrap_err();
        assert!(matches!(e, EvalError::Io { .. }), "{e}");
        assert!(
            e.to_string().contains(&dir.path().display().to_string()),
            "{e}"
        );
    }
}
