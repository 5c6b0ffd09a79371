//! Speaker-independent training of speech-emotion models (the library behind `ser-train`).
//!
//! [`train`] loads a corpus (or generates one), extracts features once (cached on disk),
//! holds out test and validation speakers, trains a CNN, RNN or CRNN from `ser-models` with
//! augmentation (random crop, SpecAugment, gain, noise in the features and in the waveform,
//! low-pass, frequency warp, optional mixup) and class weighting, stops early on
//! validation UA, and writes a model artifact with its test-speaker metrics. The run reports
//! through a callback of [`TrainEvent`]s and prints nothing. [`request_stop`] (a binary's
//! Ctrl-C handler) or [`RunControl::stop_after_batches`] leaves a checkpoint that
//! [`RunControl::resume`] continues. [`Trainer`] exposes the same run in parts (set-up,
//! epoch, early stopping, artifact), and [`cv`] cross-validates a recipe by actor.
//!
//! ```no_run
//! use ser_models::{Classifier, Family};
//! use ser_train::{TrainConfig, TrainEvent, TrainStatus, train};
//!
//! let mut cfg = TrainConfig::new(Family::Crnn); // generated corpus, test actors 21-24
//! cfg.output.dir = "runs/crnn".into();
//! let outcome = train(&cfg, &mut |event| {
//!     if let TrainEvent::EpochEnd { row, .. } = event {
//!         eprintln!("epoch {}: validation UA {:?}", row.epoch, row.val_ua);
//!     }
//! })?;
//! assert_eq!(outcome.status, TrainStatus::Completed);
//! println!("test UA {:.3}", outcome.test.as_ref().map_or(0.0, |m| m.balanced_accuracy));
//! let classifier = Classifier::load("runs/crnn")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod augment;
pub mod backend;
mod cache;
mod checkpoint;
mod config;
pub mod cv;
pub mod data;
mod distill;
mod error;
pub mod finetune;
pub mod head;
pub mod report;
mod trainer;

pub use config::{
    AugmentConfig, BackendKind, ChannelAugment, ComputeConfig, DataConfig, DataSource, Distill,
    InitConfig, InitNorm, ModelSpec, OptimConfig, OutputConfig, Preset, RunControl, ScheduleConfig,
    SpeakerSplit, TrainConfig, WaveNoise,
};
pub use config::{CorporaSource, CorpusEntry};
pub use data::{Dataset, Item, load_dataset, resolve_split};
pub use error::{Result, TrainError};
pub use head::{HeadFit, fit_head};
pub use report::EpochRow;
pub use trainer::{
    Flow, Kept, Stage, TrainEvent, TrainOutcome, TrainStatus, Trainer, request_stop, train,
    train_on,
};

/// The README's code blocks, compiled (and run unless `no_run`) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
