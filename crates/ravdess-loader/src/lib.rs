//! Typed RAVDESS (and bring-your-own) speech corpora: names, scanning, loading,
//! speaker-independent splits and a generated emotional-speech corpus.
//!
//! Reading, resampling and preprocessing audio is `ser_audio`'s job; this crate uses it and
//! re-exports only [`Audio`], the type an [`Utterance`] holds.
//!
//! * [`name`]: RAVDESS file names `MM-VV-EE-II-SS-RR-AA.wav` <-> [`name::RavdessName`].
//! * [`open_corpus`]: auto-detects RAVDESS / flat / `label/*.wav` / CSV-manifest layouts,
//!   reports bad files in [`Corpus::problems`] instead of aborting; [`load_audio`] decodes in
//!   parallel.
//! * [`split`]: speaker-independent hold-out and k-fold (gender-balanced, seeded).
//! * [`synth`]: a deterministic, RAVDESS-shaped generated corpus for tests and demos.
//!
//! ```
//! use ravdess_loader::{load_audio, open_corpus, split, synth, LoadOptions};
//!
//! // Write a small generated corpus (2 actors) and open it like a downloaded RAVDESS.
//! let dir = tempfile::tempdir()?;
//! let cfg = synth::SynthConfig { actors: vec![1, 2], ..Default::default() };
//! synth::write(dir.path(), &cfg)?;
//! let corpus = open_corpus(dir.path())?;
//! assert_eq!(corpus.utterances.len(), 120);
//! assert!(corpus.problems.is_empty());
//!
//! let loaded = load_audio(corpus.utterances, &LoadOptions::default(), |_done, _total| {})?;
//! assert_eq!(loaded.utterances[0].audio.as_ref().map(|a| a.sample_rate), Some(16_000));
//! let fold = split::holdout(&loaded.utterances, &["02"])?;
//! assert_eq!(fold.test.len(), 60);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod corpus;
mod error;
mod load;
mod manifest;
pub mod name;
mod scan;
pub mod split;
mod summary;
pub mod synth;
mod utterance;

pub use corpus::{Corpus, Duplicate, Filter, Layout, Problem};
pub use error::{Error, Result};
pub use load::{LoadOptions, Loaded, load_audio};
pub use manifest::{open_manifest, write_manifest};
pub use name::{Emotion, NameError, RavdessName};
pub use scan::open_corpus;
pub use ser_audio::Audio;
pub use summary::{DurationStats, Summary};
pub use utterance::{Gender, Utterance};
