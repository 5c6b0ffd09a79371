//! [`InitConfig`]: fine-tuning, i.e. a run that starts from a trained model (`ser-train
//! --init DIR`) instead of random weights. What is taken from the parent and how is
//! [`crate::finetune`]'s business; this is only what the config records.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::train::is_default;

/// The per-band feature normalisation ([`dsp_features::NormStats`]) of a fine-tuned model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum InitNorm {
    /// The parent member's statistics, unchanged: the network sees its inputs on the scale
    /// it was trained on, and before any training step the fine-tuned model predicts exactly
    /// what the parent does. A level or channel offset of the new corpus then reaches the
    /// network, which the fine-tune has to absorb.
    #[default]
    Parent,
    /// Fitted again on the new run's training clips (as a run from scratch does): the new
    /// corpus's mean and spread per band are removed, so a recording-chain offset does not
    /// reach the first layer, but every layer sees inputs shifted from what it was trained on.
    Refit,
}

impl InitNorm {
    /// Lowercase name, as the flag takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Parent => "parent",
            Self::Refit => "refit",
        }
    }
}

/// Start a run from a trained model: the parent's network (one member of it), its features,
/// preprocessing and weights. See [`crate::finetune`] for every rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InitConfig {
    /// The parent artifact directory (`manifest.json` + weights).
    pub from: PathBuf,
    /// Which member of an ensemble parent to start from (0-based; a single model has only
    /// member 0).
    pub member: usize,
    /// Normalisation statistics of the new model.
    pub norm: InitNorm,
    /// Freeze the convolutional blocks whole (kernels, biases, batch-norm scale and shift
    /// and running statistics): only the layers after them train.
    #[serde(skip_serializing_if = "is_default")]
    pub freeze_conv: bool,
    /// Fit the parent's utterance-functionals head again on the new training speakers and
    /// fuse it as the parent did; without this a parent's head is dropped (it was fitted on
    /// the parent's labels and speakers).
    #[serde(skip_serializing_if = "is_default")]
    pub functionals: bool,
}

impl Default for InitConfig {
    fn default() -> Self {
        Self::new(PathBuf::new())
    }
}

impl InitConfig {
    /// Start from member 0 of the artifact in `from`, its normalisation kept, nothing frozen,
    /// a functionals head dropped.
    pub fn new(from: impl Into<PathBuf>) -> Self {
        Self {
            from: from.into(),
            member: 0,
            norm: InitNorm::Parent,
            freeze_conv: false,
            functionals: false,
        }
    }
}
