//! Atomic saving of an artifact directory.

use std::path::{Path, PathBuf};

use burn::prelude::*;

use super::manifest::{MANIFEST_FILE, Manifest};
use crate::error::{ModelError, Result};
use crate::model::Model;

/// Writes `manifest` and the weights of `models` (one per member, same order) to `dir`
/// atomically: everything goes to a temporary directory beside `dir`, which then replaces
/// `dir` by a rename, so readers see the old artifact or the new one, never half of one.
pub fn save(dir: &Path, manifest: &Manifest, models: &[Model]) -> Result<()> {
    save_with_files(dir, manifest, models, &[])
}

/// [`save`], also copying `extra_files` (e.g. a training log and plots) into the directory
/// before it is renamed into place.
pub fn save_with_files(
    dir: &Path,
    manifest: &Manifest,
    models: &[Model],
    extra_files: &[PathBuf],
) -> Result<()> {
    manifest.validate()?;
    if models.len() != manifest.members.len() {
        return Err(ModelError::Invalid {
            field: "members".into(),
            reason: format!(
                "{} members but {} models to save",
                manifest.members.len(),
                models.len()
            ),
        });
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| ModelError::io(&parent, e))?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| ModelError::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| ModelError::io(&tmp, e))?;
    let result = write_into(&tmp, manifest, models)
        .and_then(|()| copy_files(&tmp, extra_files))
        .and_then(|()| replace_dir(&tmp, dir));
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

fn write_into(tmp: &Path, manifest: &Manifest, models: &[Model]) -> Result<()> {
    for (member, model) in manifest.members.iter().zip(models) {
        let path = tmp.join(&member.weights);
        model
            .clone()
            .save_file(&path)
            .map_err(|e| ModelError::Weights {
                path: path.clone(),
                reason: e.to_string(),
            })?;
    }
    let path = tmp.join(MANIFEST_FILE);
    std::fs::write(&path, manifest.to_json()?).map_err(|e| ModelError::io(&path, e))
}

fn copy_files(tmp: &Path, files: &[PathBuf]) -> Result<()> {
    for f in files {
        let Some(name) = f.file_name() else { continue };
        std::fs::copy(f, tmp.join(name)).map_err(|e| ModelError::io(f, e))?;
    }
    Ok(())
}

/// Moves `tmp` to `dir`; an existing `dir` is first moved aside and removed after.
fn replace_dir(tmp: &Path, dir: &Path) -> Result<()> {
    if dir.exists() {
        let old = tmp.with_extension("old");
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(dir, &old).map_err(|e| ModelError::io(dir, e))?;
        std::fs::rename(tmp, dir).map_err(|e| ModelError::io(dir, e))?;
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(tmp, dir).map_err(|e| ModelError::io(dir, e))?;
    }
    Ok(())
}
