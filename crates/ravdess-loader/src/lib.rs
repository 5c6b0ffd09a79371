//! Typed RAVDESS (and bring-your-own) speech corpora: names, WAV reading, resampling,
//! preprocessing, speaker-independent splits and a generated emotional-speech corpus.
//!
//! * [`name`]: RAVDESS file names `MM-VV-EE-II-SS-RR-AA.wav` <-> [`name::RavdessName`].
//! * [`read_wav`] / [`read_wav_bytes`]: any PCM 8/16/24/32-bit or 32-bit float WAV, extra
//!   chunks skipped, downmixed to mono [`Audio`]; bad files give an [`Error`] naming the file.
//! * [`resample()`]: band-limited (rubato FFT) sample-rate conversion.
//! * [`Preprocess`]: DC removal, silence trim, normalisation, pad/crop (serde config).
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

mod audio;
mod corpus;
mod error;
mod load;
mod manifest;
pub mod name;
mod preprocess;
mod resample;
pub mod rng;
mod scan;
pub mod split;
mod summary;
pub mod synth;
mod utterance;
mod wav;

pub use audio::Audio;
pub use corpus::{Corpus, Duplicate, Filter, Layout, Problem};
pub use error::{Error, Result};
pub use load::{LoadOptions, Loaded, load_audio};
pub use manifest::{open_manifest, write_manifest};
pub use name::{Emotion, NameError, RavdessName};
pub use preprocess::{CropAt, FixedDuration, Normalize, Preprocess, Trim, trim_range};
pub use resample::{FFT_CHUNK, chunk_size, resample};
pub use scan::open_corpus;
pub use summary::{DurationStats, Summary};
pub use utterance::{Gender, Utterance};
pub use wav::{
    WavInfo, encode_wav_16, probe_wav_bytes, read_wav, read_wav_bytes, read_wav_bytes_with_info,
    read_wav_with_info, write_wav,
};
