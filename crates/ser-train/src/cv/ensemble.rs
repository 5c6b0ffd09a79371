//! Shipping a cross-validated recipe as one artifact: the fold models (an ensemble that has
//! heard every actor) or the final fits on every actor (`--refit`), with the
//! cross-validation's scores in the manifest as their estimate.

use std::path::{Path, PathBuf};

use ser_eval::EvalReport;
use ser_eval::cv::{CvSummary, fold_dir};

use crate::error::{Context, Result};

/// Which models an artifact written from a cross-validation holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// The fold models themselves (each scored on the actors it never heard).
    Folds,
    /// Final fits on every actor (`--refit`), estimated by the cross-validation.
    Refit,
}

/// An ensemble artifact that was written.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsembleWritten {
    /// The artifact directory.
    pub dir: PathBuf,
    /// Its members.
    pub members: usize,
    /// What the members are.
    pub fit: Fit,
    /// Every actor some member heard (evaluate the artifact only on others).
    pub heard: Vec<String>,
}

/// The final fit of a cross-validation run (`--refit`): `<run>/refit/model`.
pub fn refit_dir(run: &Path) -> PathBuf {
    run.join("refit").join("model")
}

/// `(name, <cv>/fold-N/model)` for every fold of `summary`, names prefixed by `prefix`.
pub fn fold_models(cv_dir: &Path, summary: &CvSummary, prefix: &str) -> Vec<(String, PathBuf)> {
    summary
        .folds
        .iter()
        .map(|f| {
            (
                format!("{prefix}fold-{}", f.fold),
                fold_dir(cv_dir, f.fold).join("model"),
            )
        })
        .collect()
}

/// Every actor some fold model trained on (or validated on): the ensemble has heard them all.
fn heard_actors(summary: &CvSummary) -> Vec<String> {
    let mut all: Vec<String> = summary
        .folds
        .iter()
        .flat_map(|f| f.train_actors.iter().cloned())
        .collect();
    all.sort();
    all.dedup();
    all
}

/// Combines fold models, or final fits, into one artifact in `dir` whose manifest carries the
/// cross-validation scores that describe it (`summary`, `pooled`) and the `command` that made
/// it.
///
/// # Errors
///
/// A member artifact that cannot be read or combined, I/O.
pub fn write_ensemble(
    dir: &Path,
    members: Vec<(String, PathBuf)>,
    (summary, pooled): (&CvSummary, &EvalReport),
    fit: Fit,
    command: &str,
) -> Result<EnsembleWritten> {
    let heard = heard_actors(summary);
    let training = serde_json::json!({
        "train_speakers": heard,
        "cv": summary.config,
        "fit": match fit { Fit::Folds => "fold models", Fit::Refit => "refit on every actor" },
        "command": command,
    });
    let metrics = serde_json::json!({
        "cv": {
            "ua": summary.ua, "wa": summary.wa, "macro_f1": summary.macro_f1,
            "kappa": summary.kappa, "folds": summary.folds, "machine": summary.machine,
        },
        "pooled": pooled,
    });
    let protocol = protocol(fit, members.len(), summary, &heard);
    ser_models::artifact::combine(dir, &members, protocol, training, metrics)
        .context(|| format!("writing the ensemble {}", dir.display()))?;
    Ok(EnsembleWritten {
        dir: dir.to_path_buf(),
        members: members.len(),
        fit,
        heard,
    })
}

/// The artifact's protocol line: what it holds, what its scores mean, whom it has heard.
fn protocol(fit: Fit, members: usize, summary: &CvSummary, heard: &[String]) -> String {
    match fit {
        Fit::Folds => format!(
            "ensemble of the {members} fold models of a {}; its scores are those of each fold's \
             models on the actors they never heard (mean ± std over folds, and pooled). The \
             ensemble itself has heard actors {}: scores on them are not results.",
            summary.protocol,
            heard.join(", "),
        ),
        Fit::Refit => format!(
            "{k} trained on every actor ({}) by the recipe of a {}; its scores are that \
             cross-validation's: the same recipe and training seed(s), trained without each \
             fold's actors and scored on them (mean ± std over folds, and pooled), are the \
             estimate of this model on speakers it never heard. It has heard actors {}: scores \
             on them are not results.",
            heard.join(", "),
            summary.protocol,
            heard.join(", "),
            k = if members == 1 {
                "one network".to_string()
            } else {
                format!("ensemble of {members} networks, each")
            }
        ),
    }
}
