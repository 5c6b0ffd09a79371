//! Cross-validation by actor: for every fold of `split::kfold_by_speaker`, train on the other
//! folds' actors, evaluate on the held-out actors, and summarise UA / WA / macro-F1 as
//! mean ± standard deviation. Resumable: a fold whose `fold.json` exists is not redone.
//!
//! Training is reached through the [`FoldTrainer`] trait (the `ser-eval cv` command implements
//! it with `ser_train`'s library API), so this module knows nothing about models.

mod pooled;
mod run;
mod summary;

pub use pooled::{pooled_markdown, pooled_report};

pub use run::{CvEvent, FoldTrainer, run_cv};
pub use summary::{CvConfig, CvSummary, FoldResult, MeanStd, machine_description, markdown};
