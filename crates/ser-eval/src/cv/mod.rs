//! Cross-validation by actor, the report side: the layout of a cross-validation directory,
//! scoring a trained fold on its held-out actors, the summary (mean ± std over folds), the
//! pooled report of all held-out predictions, and [`combine_runs`], the cross-validation of an
//! ensemble of runs that share their folds.
//!
//! Training the folds is the training side's job (`ser_train::cv`, the `ser-train cv`
//! command): it calls [`check_config`], [`finished_fold`], [`score_fold`], [`summarise`] and
//! [`write_summary`] here, so this crate knows nothing about how models are trained.

mod combine;
mod layout;
mod pooled;
mod summary;

pub use combine::{combine_runs, labels_of, read_summary};
pub use layout::{
    CONFIG_FILE, DONE_FILE, TrainedFold, check_config, finished_fold, finished_fold_of, fold_dir,
    score_fold, summarise, write_summary,
};
pub use pooled::{pooled_markdown, pooled_report};
pub use summary::{
    CvConfig, CvSummary, FoldResult, MeanStd, holds_out_one_corpus, machine_description, markdown,
    use_test_corpus_macro_f1,
};
