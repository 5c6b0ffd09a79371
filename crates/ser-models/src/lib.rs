//! CNN, RNN and CRNN speech-emotion models in burn, and the model artifact every tool loads.
//!
//! * [`cnn`], [`rnn`], [`crnn`]: the three families, each with a `#[derive(Config)]` config
//!   and `init(&device)`; [`ModelConfig`] selects one and is what the artifact stores.
//! * Variable-length input is a zero-padded `[batch, bins, frames]` tensor plus the valid
//!   frame count of each item ([`InputBatch`]); every pooling over time is masked
//!   ([`pooling`]), so padding never changes a clip's embedding.
//! * [`artifact`]: `manifest.json` + burnpack weights; [`Classifier`] loads it and predicts
//!   from audio at any sample rate with the training preprocessing;
//!   [`artifact::find_model`] finds the model a tool should use when given none.
//! * [`EmotionModel`]: the one interface every tool reaches a model through ([`Classifier`]
//!   implements it), with typed [`ModelError`]s.
//! * [`analysis`]: the answer for a clip, shared by `ser-web` and `ser-predict`: silence,
//!   voice activity detection ("no speech" for tones, noise, music, clicks), the emotion, and
//!   a timeline of windows for long recordings.
//!
//! The models know nothing about RAVDESS: labels come from the artifact.
//!
//! ```
//! use burn::prelude::*;
//! use ser_models::{Family, ModelConfig};
//!
//! let device = Device::default();
//! let config = ModelConfig::default_for(Family::Crnn, 64, 8); // 64 mel bands, 8 classes
//! config.validate()?;
//! let model = config.init(&device).valid();
//! // Two clips of 300 and 180 frames, zero-padded to 300.
//! let x = Tensor::<3>::zeros([2, 64, 300], &device);
//! let logits = model.forward(x, &[300, 180]);
//! assert_eq!(logits.dims(), [2, 8]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod analysis;
pub mod artifact;
mod batch;
pub mod cnn;
pub mod conv;
pub mod crnn;
mod emotion_model;
mod error;
pub mod fastconv;
mod model;
pub mod pooling;
pub mod recurrent;
pub mod rnn;

pub use artifact::{Classifier, FunctionalsFusion, LinearHead, Manifest, Prediction};
pub use batch::InputBatch;
pub use emotion_model::EmotionModel;
pub use error::{ModelError, Result};
pub use model::{Family, Model, ModelConfig};

/// The README's code blocks, compiled (and run unless `no_run`) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
