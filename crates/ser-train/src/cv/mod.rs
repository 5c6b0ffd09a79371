//! Cross-validation by actor on the training side: the fold loop with resume, every fold
//! trained by a `ser-train` recipe (optionally fused with a functionals head), the final fit
//! on every actor, ensembles of fold models or final fits, and the combination of runs that
//! share their folds. Scoring, summaries and pooled reports are `ser_eval::cv`'s.
//!
//! [`cross_validate`] is the `ser-train cv` command and [`combine`] is `ser-train cv-combine`;
//! both report through [`CvEvent`]s and print nothing. [`attach_cv`] (`ser-train cv-attach`)
//! records a further cross-validation in an artifact's manifest.

mod ensemble;
mod finetune;
mod folds;
mod heads;
mod recipe_folds;
mod run;

use std::path::PathBuf;

use ser_eval::cv::FoldResult;

use crate::trainer::TrainEvent;

pub use ensemble::{
    CvAttached, EnsembleWritten, Fit, attach_cv, fold_models, refit_dir, write_ensemble,
};
pub use folds::{CvProgress, FoldPool, FoldSpec, FoldTrainer, run_cv, run_cv_folds, run_cv_pool};
pub use heads::Heads;
pub use recipe_folds::RecipeFolds;
pub use run::{CombineOptions, CvOptions, CvOutcome, combine, cross_validate};

/// What a cross-validation reports while it runs (the caller prints or draws it).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CvEvent {
    /// The recipe every fold trains, in one line (it also goes into `cv.md`).
    Recipe(String),
    /// The folds, before anything is trained: each fold's held-out speakers, with their
    /// gender where the corpus gives it (`emodb:03 (m)`).
    Folds(Vec<Vec<String>>),
    /// What the training side reports: loading the corpus and features, the functionals of
    /// the heads (`fold: None`), or the epochs of a fold's network (`fold: Some(n)`) or of the
    /// final fit (`fold: None`).
    Train {
        /// The fold, when the event belongs to one.
        fold: Option<usize>,
        /// The event.
        event: TrainEvent,
    },
    /// A fold starts training.
    Training {
        /// Fold number (from 1).
        fold: usize,
        /// Number of folds.
        of: usize,
    },
    /// A fold's result was found on disk and is reused.
    Resumed {
        /// Fold number.
        fold: usize,
    },
    /// A fold's network was found in its directory and is reused (only its head, if any, and
    /// its evaluation are redone).
    ReusedModel {
        /// Fold number.
        fold: usize,
        /// The artifact.
        dir: PathBuf,
    },
    /// A fold finished.
    Done(FoldResult),
    /// Some folds are left to other processes or a later run; no summary was written.
    Partial {
        /// Folds finished, from 1.
        done: Vec<usize>,
        /// Folds still to train.
        pending: Vec<usize>,
    },
    /// The summary was written: `markdown` is `cv.md` (per fold, mean ± std, pooled).
    Summary {
        /// The cross-validation directory.
        out: PathBuf,
        /// The contents of `cv.md`.
        markdown: String,
    },
    /// The final fit on every actor starts training.
    RefitTraining,
    /// A finished final fit was found and is reused.
    RefitReused {
        /// The artifact.
        dir: PathBuf,
    },
    /// The final fit is ready (with its head, if any).
    RefitWritten {
        /// The artifact.
        dir: PathBuf,
    },
    /// An artifact of fold models or final fits was written.
    Ensemble(EnsembleWritten),
}
