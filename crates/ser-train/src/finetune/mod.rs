//! Fine-tuning: a training run that starts from a trained model (the *parent*, `ser-train
//! --init DIR`, [`crate::TrainConfig::init`]) instead of random weights.
//!
//! The rules, in the order a run applies them:
//!
//! - **Which network.** The parent's, one member of it: a single model has only member 0; an
//!   ensemble (the shipped `models/default` has three) gives member [`InitConfig::member`]
//!   (`--init-member N`, default 0, the run says so and lists the members). `--init default`
//!   is the shipped model, found as every tool finds it ([`resolve_parent`]).
//! - **Features and preprocessing** are the parent's ([`Parent::adopt`]): the network only
//!   knows inputs made that way. A flag that contradicts them (`--features`, `--cmvn`, a
//!   width flag, `--model` of another family) is refused naming both values, and a dataset
//!   made otherwise is refused by [`Parent::check`].
//! - **Weights** are the parent member's, every layer. The **output layer** is matched to the
//!   new labels by name ([`OutputRows`]): the same labels keep it whole; a subset or
//!   reordering keeps the parent's rows of those labels (e.g. EMO-DB's six labels keep six
//!   of the shipped model's eight rows); a label the parent does not have gets a freshly
//!   initialised row. The manifest lists which rows were kept and which are fresh.
//! - **Normalisation** ([`InitNorm`], `--init-norm`): by default the parent member's per-band
//!   statistics are kept, so before any training step (`--epochs 0`) the new model predicts
//!   exactly what the parent member does on the labels both have; `refit` fits them on the
//!   new training clips instead. docs/results.md ("Fine-tuning to a new corpus") measures both.
//! - **Freezing** (`--freeze-conv`, [`InitConfig::freeze_conv`]): the convolutional blocks
//!   are frozen whole with burn's `Module::freeze` (no gradient, so the optimiser never
//!   updates them, and batch norm runs on its running statistics, which stay the parent's).
//!   The projection, recurrent layer, pooling and output layer train.
//! - **The functionals head** of a parent that fuses one is fitted again on the new training
//!   speakers and labels with `--functionals` ([`InitConfig::functionals`], the parent's
//!   fusion weight), and dropped otherwise (the run says so): it was fitted on the parent's
//!   speakers and labels.
//! - **The record.** The new manifest's `training.parent` holds the parent's path, the MD5
//!   of its `manifest.json`, its labels, the member used, the kept and fresh output rows,
//!   the normalisation, freezing and head rules; `training.config.init` holds the settings.

mod freeze;
mod functionals;
mod parent;
mod rows;

use dsp_features::{FeatureConfig, FeatureKind};

pub use crate::config::{InitConfig, InitNorm};
pub use freeze::{conv_parameters, freeze_conv};
pub(crate) use functionals::refit_head;
pub use parent::{DEFAULT_PARENT, Parent, resolve_parent};
pub use rows::OutputRows;

/// A feature configuration in a few words, for messages: `logmel, 64 bands` or
/// `mfcc 40 + 2 deltas, cmvn`.
pub fn describe_features(f: &FeatureConfig) -> String {
    let kind = match f.kind {
        FeatureKind::LogMel => format!("logmel, {} bands", f.n_mels),
        FeatureKind::Mfcc => format!("mfcc {}", f.n_mfcc),
        other => format!("{other:?}").to_lowercase(),
    };
    let deltas = if f.deltas > 0 {
        format!(" + {} deltas", f.deltas)
    } else {
        String::new()
    };
    let cmvn = if f.cmvn { ", cmvn" } else { "" };
    format!(
        "{kind}{deltas}{cmvn}, {} Hz, hop {}",
        f.sample_rate, f.hop_length
    )
}
