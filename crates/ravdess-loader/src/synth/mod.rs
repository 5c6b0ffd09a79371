//! A generated, RAVDESS-shaped emotional speech corpus (source-filter synthesis).
//!
//! 24 actors (odd male, even female) x 60 clips = 1440 clips at 16 kHz with genuine RAVDESS
//! file names, so every tool treats it exactly like the real corpus. Each clip is a glottal
//! pulse train (Rosenberg pulses with an F0 contour, jitter, shimmer, aspiration noise and
//! spectral tilt) through a cascade of formant resonators following the vowels of the
//! RAVDESS statement, with an amplitude envelope, pauses and background noise. Emotions move
//! F0 level/range, loudness, rate, tilt, breathiness, tremor, creak and contour away from
//! the speaker's neutral voice as summarised by Banse & Scherer (1996), Juslin & Laukka (2003)
//! and Scherer (2003); see [`profile`]. Speakers differ in F0, vocal-tract length, rate,
//! loudness and voice quality, and every clip has its own random variation, so a classifier
//! must generalise across speakers.
//!
//! Deterministic: a private SplitMix64 stream per actor and per clip, so the same seed gives
//! identical samples (and bytes) whatever the thread count or crate versions.
//!
//! [`write()`] saves the corpus in RAVDESS's layout; [`write_emodb_layout`] saves actors as
//! EMO-DB speakers in label folders, for code that reads several corpora.
//!
//! ```
//! use ravdess_loader::synth::{self, SynthConfig};
//!
//! let cfg = SynthConfig { actors: vec![3], ..Default::default() };
//! let utts = synth::generate(&cfg);
//! assert_eq!(utts.len(), 60);
//! assert_eq!(utts[0].speaker.as_deref(), Some("03"));
//! assert_eq!(utts[0].audio.as_ref().map(|a| a.sample_rate), Some(16_000));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod emodb_layout;
mod phonetics;
pub mod profile;
mod voice;

pub use config::{
    CORPUS_NAME, SynthConfig, clip_names, generate, generate_labels_only, synthesize, write,
    write_with_progress,
};
pub use emodb_layout::{EmodbLayout, EmodbWritten, MAX_TEXTS, write_emodb_layout};
