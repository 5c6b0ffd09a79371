//! From audio to an answer people can read: the emotion, its probability, whether there is
//! speech at all, and a timeline of windows for long recordings. `ser-web`'s API and
//! `ser-predict` both call [`analyse`] (or [`analyse_bytes`]) with [`AnalysisConfig`], so the
//! same file gets the same answer from every tool.
//!
//! 1. The clip is checked ([`ser_audio::checks::check_audio`]: finite samples, supported rate,
//!    the duration limit).
//! 2. **Silence**: when even its loudest 16 ms frame is below
//!    [`ser_audio::checks::SILENCE_RMS_DBFS`], the answer is `silence` (no emotion).
//! 3. **Speech** ([`vad`]): a voice activity detector judges the clip; a tone, noise, music,
//!    clicks or a clip too short to hold speech get `speech: false` and no emotion.
//! 4. **Short clips** (up to [`AnalysisConfig::timeline_after_secs`], 6 s) are classified
//!    whole. **Long clips** are cut into windows of [`AnalysisConfig::segment_secs`] (3 s)
//!    every half window, the last one aligned to the end ([`windows`]); each window is judged
//!    for silence and speech on its own, only windows with speech are classified, and the
//!    overall probabilities are their mean.
//!
//! ```no_run
//! use ser_models::Classifier;
//! use ser_models::analysis::{AnalysisConfig, analyse};
//!
//! let model = Classifier::load("models/default")?;
//! let audio = ser_audio::read_wav("interview.wav")?;
//! let answer = analyse(&model, &audio, &AnalysisConfig::default())?;
//! match answer.emotion {
//!     Some(emotion) => println!("{emotion} ({:.0}%)", 100.0 * answer.confidence.unwrap_or(0.0)),
//!     None => println!("no speech: {}", answer.message.unwrap_or_default()),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod analyse;
mod answer;
mod config;
pub mod vad;
mod windows;

pub use analyse::{analyse, analyse_bytes, warm_up};
pub use answer::{Analysis, Segment};
pub use config::AnalysisConfig;
pub use vad::{NoSpeech, VadConfig, VoiceActivity, VoiceDetector};
pub use windows::windows;
