//! The model artifact: a directory with `manifest.json` and one burnpack weights file per
//! member, read by every tool through [`Classifier::load`].
//!
//! ```text
//! my-model/
//!   manifest.json     format_version, kind, members (config + weights file + norm stats),
//!                     feature config, preprocessing, labels, training config, metrics
//!   model.bpk         weights of member 0 (ensembles: member-0.bpk, member-1.bpk, ...)
//! ```

mod classifier;
mod head;
mod locate;
mod manifest;
mod member;
mod metrics;
mod writer;

pub use classifier::{Classifier, Prediction, warp_bins, warp_source};
pub use head::{FunctionalsFusion, LinearHead, PROB_FLOOR, fuse};
pub use locate::{
    MODEL_ENV, ModelLocation, ModelSearch, ModelSource, find_default_model, find_model,
    source_tree_model,
};
pub use manifest::{
    ArtifactKind, FORMAT_VERSION, MANIFEST_FILE, Manifest, Member, OLDEST_FORMAT_VERSION,
    TRAINING_SPEAKER_KEYS, VALIDATION_SPEAKER_KEYS,
};
pub use metrics::{CvScores, FoldScores, MeanStd, Metrics, SplitScores, TrainingRecord};
pub use writer::{combine, save, save_with_files, unpack_member};
