//! Speaker-independent training of speech-emotion models (the library behind `ser-train`).
//!
//! [`train`] loads a corpus (or generates one), extracts features once (cached on disk),
//! holds out test and validation speakers, trains a CNN, RNN or CRNN from `ser-models` with
//! augmentation (random crop, SpecAugment, gain, noise in the features and in the waveform,
//! low-pass, frequency warp, optional mixup) and class weighting, stops early on
//! validation UA, and writes a model artifact with its test-speaker metrics. Ctrl-C (after
//! [`install_ctrlc_handler`]) or [`TrainConfig::stop_after_batches`] leaves a checkpoint that
//! [`TrainConfig::resume`] continues.
//!
//! ```no_run
//! use ser_models::{Classifier, Family};
//! use ser_train::{TrainConfig, TrainStatus, train};
//!
//! let mut cfg = TrainConfig::new(Family::Crnn); // generated corpus, test actors 21-24
//! cfg.out = "runs/crnn".into();
//! let outcome = train(&cfg)?;
//! assert_eq!(outcome.status, TrainStatus::Completed);
//! println!("test UA {:.3}", outcome.test.as_ref().map_or(0.0, |m| m.balanced_accuracy));
//! let classifier = Classifier::load("runs/crnn")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod augment;
pub mod backend;
pub mod cache;
pub mod checkpoint;
mod config;
pub mod cv;
pub mod data;
mod distill;
mod error;
pub mod head;
pub mod recipe;
pub mod report;
mod trainer;

pub use config::{
    AugmentConfig, BackendKind, DataSource, Distill, SpeakerSplit, TrainConfig, WaveNoise,
};
pub use data::{Dataset, Item, load_dataset, resolve_split};
pub use error::{Result, TrainError};
pub use head::{HeadFit, fit_head};
pub use recipe::{FeatureSet, Preset, RecipeArgs};
pub use report::EpochRow;
pub use trainer::{TrainOutcome, TrainStatus, install_ctrlc_handler, train, train_on};

/// The README's code blocks, compiled (and run unless `no_run`) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
