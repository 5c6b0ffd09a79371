//! Typed RAVDESS (and bring-your-own) speech corpora: names, WAV reading, resampling,
//! preprocessing, speaker-independent splits and a generated emotional-speech corpus.
#![warn(missing_docs)]

mod audio;
pub mod name;
mod utterance;

pub use audio::Audio;
pub use name::Emotion;
pub use utterance::{Gender, Utterance};
