//! Cross-validation by actor: for every fold of `split::kfold_by_speaker`, train on the other
//! folds' actors, evaluate on the held-out actors, and summarise UA / WA / macro-F1 as
//! mean ± standard deviation. Resumable: a fold whose `fold.json` exists is not redone.
//!
//! Training is reached through the [`FoldTrainer`] trait (the `ser-eval cv` command implements
//! it with `ser_train`'s library API), so this module knows nothing about models.
//! [`combine_runs`] scores the ensemble of several runs that share their folds.

mod combine;
mod pooled;
mod run;
mod summary;

pub use combine::{combine_runs, labels_of, read_summary};
pub use pooled::{pooled_markdown, pooled_report};

pub use run::{CvEvent, CvProgress, FoldTrainer, fold_dir, run_cv, run_cv_folds};
pub use summary::{CvConfig, CvSummary, FoldResult, MeanStd, machine_description, markdown};
