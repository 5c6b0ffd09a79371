//! Speech emotion recognition in Rust: the `ser` libraries behind one dependency.
//!
//! Each layer is its own crate, re-exported here under a short name, so that a project can
//! depend on `ser` alone and still reach every part (the layers depend on each other in this
//! order only; see `docs/architecture.md`):
//!
//! | module | crate | what it owns |
//! |---|---|---|
//! | [`audio`] | `ser-audio` | [`Audio`](prelude::Audio), decoding WAV/FLAC/MP3/OGG, resampling, preprocessing |
//! | [`features`] | `dsp-features` | librosa-exact STFT, log-mel, MFCC, deltas, pitch, utterance functionals |
//! | [`corpus`] | `ravdess-loader` | corpora (RAVDESS, folders, CSV), speaker-independent splits, the generated corpus |
//! | [`models`] | `ser-models` | CNN/RNN/CRNN, the model artifact, [`EmotionModel`](prelude::EmotionModel), the clip analysis |
//! | [`eval`] | `ser-eval` | metrics (UA, WA, F1, kappa, bootstrap intervals) and evaluation reports |
//! | [`train`] | `ser-train` | speaker-independent training, cross-validation, fine-tuning |
//!
//! [`prelude`] holds the handful of names most programs need. Predicting the emotion of a clip
//! with the shipped model (found the way the `ser` tools find it: `SER_MODEL`, then the
//! documented places of [`find_model`](prelude::find_model)):
//!
//! ```no_run
//! use ser::prelude::*;
//!
//! let model = Classifier::load(find_default_model()?.dir)?;
//! let decoded = decode_file("clip.wav", &DecodeLimits::default())?;
//! let answer = analyse(&model, &decoded.audio, &AnalysisConfig::default())?;
//! match answer.emotion {
//!     Some(emotion) => println!("{emotion} ({:.2})", answer.confidence.unwrap_or(0.0)),
//!     None => println!("{}", answer.message.unwrap_or_default()), // "no speech: ..."
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The layers below the model need no model file. A generated utterance (the embedded
//! emotional-speech generator) turned into the log-mel features the models read:
//!
//! ```
//! use ser::prelude::*;
//!
//! let cfg = SynthConfig { actors: vec![3], ..SynthConfig::default() };
//! let name = ser::corpus::synth::clip_names(3)[10]; // actor 03, calm
//! let audio: Audio = ser::corpus::synth::synthesize(&cfg, &name);
//! assert_eq!(audio.sample_rate, 16_000);
//!
//! let features = FeatureExtractor::new(FeatureConfig::default())?.extract(&audio.samples)?;
//! assert_eq!(features.bins(), 64); // [bins, frames], as librosa
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Training is [`train::train`](prelude::train) with a [`TrainConfig`](prelude::TrainConfig)
//! (the repository's `examples/train-small` trains, saves, reloads and predicts in ~20 lines).
#![warn(missing_docs)]

pub use dsp_features as features;
pub use ravdess_loader as corpus;
pub use ser_audio as audio;
pub use ser_eval as eval;
pub use ser_models as models;
pub use ser_train as train;

/// The names most programs need: audio in, a model, its answer; a training configuration.
///
/// `use ser::prelude::*;` brings no traits into scope other than
/// [`EmotionModel`](prelude::EmotionModel), and no name that clashes with the standard
/// library's prelude.
pub mod prelude {
    pub use dsp_features::{FeatureConfig, FeatureExtractor, FeatureKind, FeatureMatrix};
    pub use ravdess_loader::synth::SynthConfig;
    pub use ravdess_loader::{Corpus, Emotion, Utterance, open_corpus};
    pub use ser_audio::{Audio, DecodeLimits, Preprocess, decode, decode_file};
    pub use ser_eval::metrics::ClassificationReport;
    pub use ser_models::analysis::{Analysis, AnalysisConfig, analyse};
    pub use ser_models::artifact::{find_default_model, find_model};
    pub use ser_models::{Classifier, EmotionModel, Family, ModelError, Prediction};
    pub use ser_train::{
        DataSource, Preset, SpeakerSplit, TrainConfig, TrainError, TrainEvent, TrainOutcome,
        Trainer, train,
    };
}

/// The README's code blocks, compiled (and run unless `no_run`) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
