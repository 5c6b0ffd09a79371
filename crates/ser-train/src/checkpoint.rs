//! Resumable training state: `<out>.checkpoint/` holds `state.json` (epoch, next batch,
//! running sums, log, early-stopping state), `model.bpk`, `optim.bpk` and `best.bpk`.
//! It is written to a staging directory and swapped into place ([`ser_fs::StagedDir`]), so a
//! crash mid-write leaves the previous checkpoint intact.

use std::path::{Path, PathBuf};

use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use dsp_features::NormStats;
use ser_eval::metrics::{ClassificationReport, ConfusionMatrix};
use ser_models::{Model, ModelConfig};
use serde::{Deserialize, Deserializer, Serialize};

use crate::config::SpeakerSplit;
use crate::error::{Result, TrainError};
use crate::report::EpochRow;

/// Everything besides weights that a resumed run needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainState {
    /// Hash of the settings that must not change across a resume.
    pub fingerprint: String,
    /// Epoch in progress (0-based).
    pub epoch: usize,
    /// Next batch of that epoch.
    pub batch: usize,
    /// Running training loss sum of the epoch in progress.
    pub loss_sum: f64,
    /// Running correct count of the epoch in progress.
    pub correct: usize,
    /// Running example count of the epoch in progress.
    pub seen: usize,
    /// Seconds spent in the epoch in progress before the interruption.
    pub epoch_seconds: f64,
    /// Best validation UA so far.
    pub best_ua: f64,
    /// Epoch (1-based) of the best validation UA.
    pub best_epoch: usize,
    /// Validation metrics of the best epoch.
    #[serde(default, deserialize_with = "stored_scores")]
    pub best_metrics: Option<ClassificationReport>,
    /// Epochs since the last improvement.
    pub bad_epochs: usize,
    /// Per-epoch log.
    pub log: Vec<EpochRow>,
    /// Held-out speakers.
    pub split: SpeakerSplit,
    /// Normalisation fitted on the training speakers.
    pub norm: NormStats,
    /// The model configuration.
    pub model: ModelConfig,
    /// Total training seconds so far.
    pub seconds: f64,
}

/// Validation scores as `state.json` holds them: a [`ClassificationReport`]; checkpoints
/// written while ser-train had its own metrics type hold `{ua, wa, recall, confusion, n}`
/// instead, whose confusion matrix rebuilds the same report exactly, so they still resume.
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredScores {
    Report(ClassificationReport),
    Counts { confusion: Vec<Vec<u64>> },
}

fn stored_scores<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<ClassificationReport>, D::Error> {
    let stored = Option::<StoredScores>::deserialize(d)?;
    stored
        .map(|s| match s {
            StoredScores::Report(r) => Ok(r),
            StoredScores::Counts { confusion } => ConfusionMatrix::from_counts(confusion)
                .map(ClassificationReport::from_confusion)
                .map_err(serde::de::Error::custom),
        })
        .transpose()
}

/// Checkpoint directory for an artifact directory `out` (a sibling, so that replacing the
/// artifact atomically never deletes it).
pub fn dir_for(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    out.with_file_name(format!("{name}.checkpoint"))
}

/// Saves state, weights and optimizer atomically.
pub fn save(
    dir: &Path,
    state: &TrainState,
    model: &Model,
    optim: &ModuleOptimizer,
    best: Option<&Model>,
) -> Result<()> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| TrainError::io(parent, e))?;
    }
    let staged = ser_fs::StagedDir::new(dir).map_err(|e| TrainError::io(dir, e))?;
    let tmp = staged.path();
    let werr = |path: PathBuf, e: String| TrainError::Output { path, reason: e };
    // `valid()`, not `clone()`: burn keeps a batch norm's latest running-statistics update
    // pending until the next update or a sync (burn-core `RunningState`), and saving reads the
    // synced value, so a checkpoint written mid-epoch (Ctrl-C) would lose the last batch's
    // update and the resumed run would drift from an uninterrupted one. `valid()` syncs the
    // shared state first (the copy it returns holds the same numbers, without autodiff);
    // epoch-end checkpoints were already synced by the epoch's validation copy.
    model
        .valid()
        .save_file(tmp.join("model.bpk"))
        .map_err(|e| werr(tmp.join("model.bpk"), e.to_string()))?;
    optim
        .save(tmp.join("optim.bpk"))
        .map_err(|e| werr(tmp.join("optim.bpk"), e.to_string()))?;
    if let Some(b) = best {
        b.clone()
            .save_file(tmp.join("best.bpk"))
            .map_err(|e| werr(tmp.join("best.bpk"), e.to_string()))?;
    }
    // Keep the live log and plots that live in the checkpoint directory.
    for f in ["log.csv", "curve.png", "curve.svg"] {
        let src = dir.join(f);
        if src.is_file() {
            let _ = std::fs::copy(&src, tmp.join(f));
        }
    }
    let json = serde_json::to_vec_pretty(state)
        .map_err(|e| werr(tmp.join("state.json"), e.to_string()))?;
    std::fs::write(tmp.join("state.json"), json)
        .map_err(|e| TrainError::io(tmp.join("state.json"), e))?;
    staged.commit().map_err(|e| TrainError::io(dir, e))
}

/// What [`load`] restores.
pub struct Restored {
    /// State.
    pub state: TrainState,
    /// Model on the training device.
    pub model: Model,
    /// Optimizer.
    pub optim: ModuleOptimizer,
    /// Best model so far (inference device).
    pub best: Option<Model>,
}

/// Loads a checkpoint written by [`save`].
pub fn load(
    dir: &Path,
    optim: ModuleOptimizer,
    train_device: &Device,
    device: &Device,
) -> Result<Restored> {
    let err = |reason: String| TrainError::Resume {
        path: dir.to_path_buf(),
        reason,
    };
    if !dir.is_dir() {
        return Err(err("no checkpoint found; start without --resume".into()));
    }
    let text = std::fs::read_to_string(dir.join("state.json"))
        .map_err(|e| err(format!("state.json: {e}")))?;
    let state: TrainState =
        serde_json::from_str(&text).map_err(|e| err(format!("state.json is corrupt: {e}")))?;
    let model = state
        .model
        .init(train_device)
        .try_load_file(dir.join("model.bpk"))
        .map_err(|e| err(format!("model.bpk: {e}")))?;
    let optim = optim
        .load(dir.join("optim.bpk"))
        .map_err(|e| err(format!("optim.bpk: {e}")))?;
    let best_path = dir.join("best.bpk");
    let best = if best_path.is_file() {
        Some(
            state
                .model
                .init(device)
                .try_load_file(&best_path)
                .map_err(|e| err(format!("best.bpk: {e}")))?,
        )
    } else {
        None
    };
    Ok(Restored {
        state,
        model,
        optim,
        best,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Stored {
        #[serde(default, deserialize_with = "stored_scores")]
        best_metrics: Option<ClassificationReport>,
    }

    #[test]
    fn validation_scores_of_older_checkpoints_still_read() {
        // sklearn: balanced_accuracy_score([0,0,0,0,1,1],[0,0,0,0,0,1]) = 0.75, accuracy 5/6.
        let report =
            ClassificationReport::new(&[0, 0, 0, 0, 1, 1], &[0, 0, 0, 0, 0, 1], 3).unwrap();
        // What ser-train's own metrics type wrote into state.json before it used ser-eval's.
        let old = r#"{"best_metrics": {"ua": 0.75, "wa": 0.8333333333333334,
            "recall": [1.0, 0.5, null], "confusion": [[4, 0, 0], [1, 1, 0], [0, 0, 0]], "n": 6}}"#;
        let got: Stored = serde_json::from_str(old).unwrap();
        assert_eq!(got.best_metrics.as_ref(), Some(&report));
        let new = format!(
            "{{\"best_metrics\": {}}}",
            serde_json::to_string(&report).unwrap()
        );
        let got: Stored = serde_json::from_str(&new).unwrap();
        assert_eq!(got.best_metrics, Some(report));
        let none: Stored = serde_json::from_str(r#"{"best_metrics": null}"#).unwrap();
        assert!(none.best_metrics.is_none());
    }
}
