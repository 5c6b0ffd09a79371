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
//! * [`open_corpora`]: several corpora ([`CorpusSpec`]: `emodb=../data/emodb-16k`) as one,
//!   speakers namespaced `emodb:03`, each with its [`SpeakerRule`] and [`LabelMap`]; clips
//!   left out are reported in [`Corpus::left_out`]. [`emodb`] reads EMO-DB names,
//!   [`speaker::normalise`] is the one speaker-id normaliser.
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

mod corpora;
mod corpus;
pub mod emodb;
mod error;
pub mod labelmap;
mod load;
mod manifest;
pub mod name;
mod scan;
pub mod speaker;
mod spec;
pub mod split;
mod summary;
pub mod synth;
mod utterance;

pub use corpora::{CorporaOptions, open_corpora, open_corpora_with};
pub use corpus::{Corpus, CorpusPart, Duplicate, Filter, Layout, Problem};
pub use error::{Error, Result};
pub use labelmap::{LabelMap, LeftOut};
pub use load::{LoadOptions, Loaded, load_audio};
pub use manifest::{open_manifest, write_manifest};
pub use name::{Emotion, NameError, RavdessName};
pub use scan::open_corpus;
pub use ser_audio::Audio;
pub use spec::{CorpusSpec, SpeakerRule, split_named};
pub use summary::{DurationStats, Summary};
pub use utterance::{Gender, Utterance};
