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
    write_atomically(dir, |tmp| {
        write_into(tmp, manifest, models)?;
        copy_files(tmp, extra_files)
    })
}

/// Fills a staging directory beside `dir` with `fill`, then swaps it in
/// ([`ser_fs::StagedDir`]); on any error the staging directory is removed and `dir` is left as
/// it was.
fn write_atomically(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| ModelError::io(&parent, e))?;
    let staged = ser_fs::StagedDir::new(dir).map_err(|e| ModelError::io(dir, e))?;
    fill(staged.path())?;
    staged.commit().map_err(|e| ModelError::io(dir, e))
}

fn write_into(tmp: &Path, manifest: &Manifest, models: &[Model]) -> Result<()> {
    for (member, model) in manifest.members.iter().zip(models) {
        let path = tmp.join(&member.weights);
        // `valid()` syncs a batch norm's pending running-statistics update before saving
        // (burn-core `RunningState` keeps the latest one pending and saving does not sync), so
        // a model handed over straight from training is saved as it predicts.
        model
            .valid()
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

/// Combines single-model artifacts into one ensemble artifact at `out` (written atomically,
/// like [`save`]): members keep their configs, weights and normalisation statistics (weights
/// are copied as `member-<i>.bpk`) and their probabilities are averaged at prediction time.
///
/// The members must share feature extraction, preprocessing and labels, since the ensemble
/// extracts features once per clip. Each entry of `members` is `(name, artifact dir)`;
/// `training` and `metrics` become the ensemble manifest's records (the members' own are
/// kept under `training.members`).
pub fn combine(
    out: &Path,
    members: &[(String, PathBuf)],
    protocol: String,
    training: serde_json::Value,
    metrics: serde_json::Value,
) -> Result<Manifest> {
    let manifests = members
        .iter()
        .map(|(_, dir)| Manifest::read(dir))
        .collect::<Result<Vec<_>>>()?;
    let (Some(first), Some((_, first_dir))) = (manifests.first(), members.first()) else {
        return Err(ModelError::Invalid {
            field: "members".into(),
            reason: "an ensemble needs at least one member artifact".into(),
        });
    };
    let mut manifest = Manifest {
        // The ensemble is written by this build, whatever its members were written with.
        format_version: super::manifest::FORMAT_VERSION,
        kind: super::manifest::ArtifactKind::Ensemble,
        members: Vec::with_capacity(members.len()),
        protocol,
        metrics,
        training: serde_json::Value::Null,
        ..first.clone()
    };
    let mut member_training = Vec::with_capacity(members.len());
    let mut weights = Vec::with_capacity(members.len());
    for (i, ((name, dir), m)) in members.iter().zip(&manifests).enumerate() {
        let mismatch = |what: &str| ModelError::Invalid {
            field: format!("member {}", dir.display()),
            reason: format!(
                "its {what} differ from those of {}; ensemble members must share them",
                first_dir.display()
            ),
        };
        if m.features != first.features {
            return Err(mismatch("feature settings"));
        }
        if m.preprocess != first.preprocess {
            return Err(mismatch("preprocessing settings"));
        }
        if m.labels != first.labels {
            return Err(mismatch("labels"));
        }
        if m.functionals != first.functionals {
            return Err(mismatch("utterance-functionals settings"));
        }
        for (j, member) in m.members.iter().enumerate() {
            let file = format!("member-{}.bpk", weights.len());
            weights.push((dir.join(&member.weights), file.clone()));
            manifest.members.push(super::manifest::Member {
                name: if m.members.len() == 1 {
                    name.clone()
                } else {
                    format!("{name}/{j}")
                },
                model: member.model.clone(),
                weights: file,
                norm: member.norm.clone(),
                head: member.head.clone(),
            });
        }
        member_training
            .push(serde_json::json!({ "name": name, "index": i, "training": m.training }));
    }
    if manifest.members.len() == 1 {
        // One network (e.g. a single run's final fit): say so, as a trained model does.
        manifest.kind = super::manifest::ArtifactKind::Single;
    }
    let mut training = match training {
        serde_json::Value::Object(o) => o,
        _ => serde_json::Map::new(),
    };
    training.insert("members".into(), serde_json::Value::Array(member_training));
    manifest.training = serde_json::Value::Object(training);
    manifest.validate()?;

    write_atomically(out, |tmp| {
        for (from, to) in &weights {
            std::fs::copy(from, tmp.join(to)).map_err(|e| ModelError::io(from, e))?;
        }
        let path = tmp.join(MANIFEST_FILE);
        std::fs::write(&path, manifest.to_json()?).map_err(|e| ModelError::io(&path, e))
    })?;
    Ok(manifest)
}

/// Writes member `index` of the artifact in `dir` on its own as a single-model artifact at
/// `out` (atomically, like [`save`]): the manifest of [`Manifest::member_alone`] and a copy of
/// the member's weights file. With `networks_only`, the utterance-functionals heads are left
/// out ([`Manifest::without_functionals`]), e.g. to fit other heads on the same network.
///
/// ```no_run
/// use std::path::Path;
/// // Fold 3 of a fold ensemble written by `ser-train cv --ensemble-out`, as its own model.
/// let ensemble = Path::new("runs/fold-ensemble");
/// let manifest = ser_models::Manifest::read(ensemble)?;
/// let index = manifest.member_index("fold-3")?;
/// ser_models::artifact::unpack_member(ensemble, index, Path::new("runs/fold-3"), false)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// Reading errors of [`Manifest::read`], [`ModelError::Invalid`] for a position out of range,
/// I/O errors naming the file.
pub fn unpack_member(
    dir: &Path,
    index: usize,
    out: &Path,
    networks_only: bool,
) -> Result<Manifest> {
    let mut manifest = Manifest::read(dir)?.member_alone(index)?;
    if networks_only {
        manifest = manifest.without_functionals();
    }
    manifest.validate()?;
    let Some(weights) = manifest.members.first().map(|m| m.weights.clone()) else {
        return Err(ModelError::Invalid {
            field: "member".into(),
            reason: format!("position {index} gave no member"),
        });
    };
    write_atomically(out, |tmp| {
        let from = dir.join(&weights);
        std::fs::copy(&from, tmp.join(&weights)).map_err(|e| ModelError::io(&from, e))?;
        let path = tmp.join(MANIFEST_FILE);
        std::fs::write(&path, manifest.to_json()?).map_err(|e| ModelError::io(&path, e))
    })?;
    Ok(manifest)
}
