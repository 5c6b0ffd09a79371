//! Shipping a cross-validated recipe as one artifact: the fold models (an ensemble that has
//! heard every actor) or the final fits on every actor (`--refit`), with the
//! cross-validation's scores in the manifest as their estimate.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ser_eval::EvalReport;
use ser_eval::cv::{CvSummary, MeanStd, fold_dir, read_summary};
use ser_models::artifact::{CvScores, MANIFEST_FILE, Manifest};

use crate::error::{Context, Result, TrainError};

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
        "cv": cv_scores(summary),
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

/// The manifest's record of a cross-validation (`metrics.cv`, and the scores of an entry of
/// `metrics.extra_cv`).
fn cv_scores(summary: &CvSummary) -> serde_json::Value {
    serde_json::json!({
        "ua": summary.ua, "wa": summary.wa, "macro_f1": summary.macro_f1,
        "kappa": summary.kappa, "folds": summary.folds, "machine": summary.machine,
    })
}

/// A further estimate added to an artifact by [`attach_cv`].
#[derive(Debug, Clone, PartialEq)]
pub struct CvAttached {
    /// The artifact whose manifest was rewritten.
    pub model: PathBuf,
    /// The cross-validation run it came from.
    pub run: PathBuf,
    /// Its UA over folds.
    pub ua: MeanStd,
    /// Its protocol (what was held out), as recorded in the entry.
    pub protocol: String,
    /// Whether it replaced an entry over the same held-out speakers (attached before).
    pub replaced: bool,
}

/// Adds the cross-validation in `run` (a finished `ser-train cv` or `cv-combine` directory)
/// to the artifact in `model` as a further estimate, `metrics.extra_cv` of its manifest, with
/// the run's protocol and pooled report. For a model whose own `metrics.cv` held out one
/// corpus's speakers (the shipped model: EMO-DB's), this records what the same recipe
/// scored on another corpus's (RAVDESS actors), so that readers such as the web page show
/// both. Attaching a run over the same held-out speakers again replaces its entry.
///
/// The run must be a cross-validation of speakers the model heard: every fold's training
/// and held-out speakers are among the manifest's training speakers. (A run over speakers
/// the model never heard estimates some other model; one identical to `metrics.cv` adds
/// nothing.) The manifest is rewritten atomically; the weights are not touched.
///
/// # Errors
///
/// An unreadable artifact or run, a model that records no training speakers, a fold with
/// speakers the model never heard (named with the fold), the model's own cross-validation,
/// I/O.
pub fn attach_cv(model: &Path, run: &Path) -> Result<CvAttached> {
    let mut manifest = Manifest::read(model)?;
    // read_summary's "no cv.json" error names cv-combine's `--runs`; this command's flag is
    // `--run`. Other errors (an unreadable cv.json) pass through.
    let summary = match read_summary(run) {
        Err(ser_eval::EvalError::InvalidConfig { .. }) => {
            return Err(TrainError::config(
                "--run",
                format!(
                    "{} has no cv.json: give a finished `ser-train cv` or `cv-combine` \
                     directory (re-run an unfinished one with its own command to complete it)",
                    run.display()
                ),
            ));
        }
        other => other?,
    };
    let Some(heard) = manifest.training_speakers() else {
        return Err(TrainError::config(
            "--model",
            format!(
                "{} records no training speakers, so {} cannot be checked to be a \
                 cross-validation of its recipe; attach runs to artifacts written by \
                 `ser-train` or `ser-train cv --ensemble-out`",
                model.display(),
                run.display()
            ),
        ));
    };
    let heard: BTreeSet<&str> = heard.iter().map(String::as_str).collect();
    for fold in &summary.folds {
        for (role, speakers) in [
            ("held out", &fold.test_actors),
            ("trained on", &fold.train_actors),
        ] {
            let unheard: Vec<&str> = speakers
                .iter()
                .map(String::as_str)
                .filter(|s| !heard.contains(s))
                .collect();
            if !unheard.is_empty() {
                return Err(TrainError::config(
                    "--run",
                    format!(
                        "fold {} of {} {role} {}, which {} never heard: its scores estimate a \
                         model of other speakers, not this one",
                        fold.fold,
                        run.display(),
                        unheard.join(", "),
                        model.display()
                    ),
                ));
            }
        }
    }
    // Whether a recorded cross-validation held out this run's speakers, fold by fold.
    let same = |cv: &CvScores| {
        cv.folds
            .iter()
            .map(|f| &f.test_actors)
            .eq(summary.folds.iter().map(|f| &f.test_actors))
    };
    let mut metrics = manifest.scores()?;
    if metrics.cv.as_ref().is_some_and(same) {
        return Err(TrainError::config(
            "--run",
            format!(
                "{} holds out the same speakers, fold by fold, as the cross-validation {} \
                 already records in `metrics.cv`; attach a run that scored other speakers \
                 (e.g. another corpus's, with `ser-train cv --test-corpus`)",
                run.display(),
                model.display()
            ),
        ));
    }
    let mut entry = cv_scores(&summary);
    entry["protocol"] = summary.protocol.clone().into();
    let pooled_path = run.join("pooled.json");
    if pooled_path.is_file() {
        let text =
            std::fs::read_to_string(&pooled_path).map_err(|e| TrainError::io(&pooled_path, e))?;
        let pooled: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            TrainError::config(
                "--run",
                format!("{} is not JSON ({e})", pooled_path.display()),
            )
        })?;
        entry["pooled"] = pooled;
    }
    let entry: CvScores = serde_json::from_value(entry).map_err(|e| {
        TrainError::config("--run", format!("{}: {e}", run.join("cv.json").display()))
    })?;
    let replaced = match metrics.extra_cv.iter().position(same) {
        Some(i) => {
            metrics.extra_cv[i] = entry;
            true
        }
        None => {
            metrics.extra_cv.push(entry);
            false
        }
    };
    manifest.metrics = serde_json::to_value(&metrics)
        .map_err(|e| TrainError::config("metrics", format!("cannot be written as JSON: {e}")))?;
    let path = model.join(MANIFEST_FILE);
    ser_fs::write_atomic(&path, manifest.to_json()?.as_bytes())
        .map_err(|e| TrainError::io(&path, e))?;
    Ok(CvAttached {
        model: model.to_path_buf(),
        run: run.to_path_buf(),
        ua: summary.ua,
        protocol: summary.protocol,
        replaced,
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

#[cfg(test)]
mod tests {
    use super::*;
    use dsp_features::FeatureConfig;
    use ser_models::{Family, ModelConfig};

    /// A manifest-only artifact that heard `heard` and whose own cross-validation held out
    /// `emodb:03` and `emodb:08`, one per fold.
    fn model(dir: &Path, heard: &[&str]) {
        let mut m = Manifest::single(
            "m",
            ModelConfig::default_for(Family::Crnn, 64, 8),
            FeatureConfig::default(),
            (0..8).map(|i| i.to_string()).collect(),
            "test",
        );
        m.training = serde_json::json!({ "train_speakers": heard });
        m.metrics = serde_json::json!({ "cv": { "ua": { "mean": 0.78, "std": 0.08 }, "folds": [
            { "fold": 1, "ua": 0.7, "test_actors": ["emodb:03"], "train_actors": ["emodb:08"] },
            { "fold": 2, "ua": 0.8, "test_actors": ["emodb:08"], "train_actors": ["emodb:03"] },
        ] } });
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(MANIFEST_FILE), m.to_json().unwrap()).unwrap();
        std::fs::write(dir.join("model.bpk"), b"weights").unwrap();
    }

    /// A finished cross-validation run over `folds` (held out, trained on), UA `ua` each.
    fn run(dir: &Path, folds: &[(&[&str], &[&str])], ua: f64) {
        let folds: Vec<_> = folds
            .iter()
            .enumerate()
            .map(|(i, (test, train))| {
                serde_json::json!({ "fold": i + 1, "test_actors": test, "train_actors": train,
                    "n": 10, "ua": ua, "wa": ua, "macro_f1": ua, "kappa": ua })
            })
            .collect();
        let ms = serde_json::json!({ "mean": ua, "std": 0.0 });
        let summary = serde_json::json!({
            "protocol": "5-fold CV over the speakers of corpus `ravdess`",
            "config": { "model_type": "crnn", "data": "d", "folds": folds.len(), "seed": 0,
                "epochs": null, "actors": null,
                "bootstrap": { "confidence": 0.95, "resamples": 10, "seed": 0 } },
            "folds": folds, "ua": ms, "wa": ms, "macro_f1": ms, "kappa": ms,
            "resumed_folds": [], "machine": "test", "written_unix": 0,
        });
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("cv.json"), summary.to_string()).unwrap();
        std::fs::write(dir.join("pooled.json"), r#"{"ua": 0.65}"#).unwrap();
    }

    const HEARD: [&str; 4] = ["emodb:03", "emodb:08", "ravdess:01", "ravdess:02"];

    #[test]
    fn a_cross_validation_of_other_speakers_is_added_and_replaced_when_attached_again() {
        let tmp = tempfile::tempdir().unwrap();
        let (m, r) = (tmp.path().join("m"), tmp.path().join("r"));
        model(&m, &HEARD);
        let other = ["emodb:03", "emodb:08", "ravdess:02"];
        run(&r, &[(&["ravdess:01"], &other)], 0.65);
        let a = attach_cv(&m, &r).unwrap();
        assert!(!a.replaced);
        assert_eq!(a.ua.mean, 0.65);
        let metrics = Manifest::read(&m).unwrap().scores().unwrap();
        // The model's own estimate is still its headline.
        assert_eq!(metrics.headline_ua(), Some(0.78));
        let extra = &metrics.extra_cv[..];
        assert_eq!(extra.len(), 1);
        assert_eq!(extra[0].ua.mean, 0.65);
        assert_eq!(extra[0].folds[0].test_actors, ["ravdess:01"]);
        assert_eq!(
            extra[0].protocol.as_deref(),
            Some("5-fold CV over the speakers of corpus `ravdess`")
        );
        assert_eq!(extra[0].other["pooled"], serde_json::json!({"ua": 0.65}));
        // The same held-out speakers again (a re-run scored 0.66): replaced, not added.
        run(&r, &[(&["ravdess:01"], &other)], 0.66);
        assert!(attach_cv(&m, &r).unwrap().replaced);
        let metrics = Manifest::read(&m).unwrap().scores().unwrap();
        assert_eq!(metrics.extra_cv.len(), 1);
        assert_eq!(metrics.extra_cv[0].ua.mean, 0.66);
        // Other held-out speakers: a second entry.
        run(&r, &[(&["ravdess:02"], &["ravdess:01"])], 0.6);
        assert!(!attach_cv(&m, &r).unwrap().replaced);
        assert_eq!(
            Manifest::read(&m).unwrap().scores().unwrap().extra_cv.len(),
            2
        );
        // Only the manifest is rewritten.
        assert_eq!(std::fs::read(m.join("model.bpk")).unwrap(), b"weights");
    }

    #[test]
    fn runs_that_do_not_estimate_this_model_are_refused_and_the_manifest_is_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let (m, r) = (tmp.path().join("m"), tmp.path().join("r"));
        model(&m, &HEARD);
        let before = std::fs::read(m.join(MANIFEST_FILE)).unwrap();
        let refused = |why: &str| {
            let e = attach_cv(&m, &r).unwrap_err().to_string();
            assert!(e.contains(why), "{e}");
            assert!(e.contains("--run"), "{e}");
            assert_eq!(std::fs::read(m.join(MANIFEST_FILE)).unwrap(), before);
        };
        // Not a finished run.
        refused("has no cv.json");
        // A fold that trained on a speaker the model never heard: another model's estimate.
        run(&r, &[(&["ravdess:01"], &["ravdess:02", "iemocap:05"])], 0.6);
        refused("fold 1 of");
        refused("trained on iemocap:05, which");
        // ... or held one out.
        run(&r, &[(&["ravdess:09"], &["ravdess:02"])], 0.6);
        refused("held out ravdess:09, which");
        // The model's own cross-validation.
        run(
            &r,
            &[
                (&["emodb:03"], &["emodb:08"]),
                (&["emodb:08"], &["emodb:03"]),
            ],
            0.78,
        );
        refused("already records in `metrics.cv`");
    }
}
