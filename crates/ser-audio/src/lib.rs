//! Audio for `ser`, the lowest layer of the workspace: bytes or files in WAV, FLAC, MP3 or
//! OGG/Vorbis become mono `f32` [`Audio`], resampled and preprocessed, with sanity checks and
//! one typed [`Error`] that never panics on bad input.
//!
//! * [`decode`] / [`decode_file`]: any supported container, sniffed from its magic number
//!   ([`sniff`]); WAV through the RIFF walker and hound, the rest through symphonia; every
//!   path bounded by [`DecodeLimits`] (rate and channels checked from the header before
//!   decoding, a duration limit, a cap on decoded samples).
//! * [`read_wav`] / [`read_wav_bytes`]: any PCM 8/16/24/32-bit or 32-bit float WAV, extra
//!   chunks skipped, downmixed to mono; [`write_wav`] / [`encode_wav_16`] write 16-bit PCM.
//! * [`resample()`]: band-limited (rubato FFT) sample-rate conversion.
//! * [`Preprocess`]: DC removal, silence trim, normalisation, pad/crop (serde config).
//! * [`checks`]: finite samples within [`MAX_SAMPLE_MAGNITUDE`], supported rate (8-192 kHz),
//!   duration limit, silence level.
//! * [`loudness`]: ITU-R BS.1770-4 integrated loudness (K-weighted, gated) and
//!   [`loudness::normalize_loudness`]; also a [`Normalize`] mode of [`Preprocess`].
//! * [`channel`]: random recording chains (speed, pitch, room, noise, equaliser, band limits,
//!   gain, telephone band, codecs, dropouts) for training on other channels than the corpus's.
//! * [`filter`]: RBJ-cookbook biquads.
//! * [`rng::SplitMix64`]: the workspace's one deterministic random number generator.
//!
//! ```
//! use ser_audio::{Audio, DecodeLimits, Preprocess, decode, encode_wav_16, resample};
//!
//! // One second of a 440 Hz tone at 48 kHz, as a 16-bit WAV file in memory.
//! let tone: Vec<f32> = (0..48_000)
//!     .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 48_000.0).sin())
//!     .collect();
//! let wav = encode_wav_16(&Audio::new(tone, 48_000))?;
//!
//! // Sniffs the container, checks the header, decodes at most 60 s, downmixes to mono.
//! let decoded = decode(&wav, &DecodeLimits::with_max_secs(Some(60.0)))?;
//! assert_eq!(decoded.damaged_packets, 0);
//! let mut audio = resample(&decoded.audio, 16_000)?;
//! Preprocess::default().apply(&mut audio);
//! assert_eq!(audio.sample_rate, 16_000);
//!
//! // Bad input is an error with a stable code, never a panic.
//! let err = decode(b"<!doctype html>", &DecodeLimits::default()).unwrap_err();
//! assert_eq!(err.code(), "unsupported_format");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod audio;
pub mod channel;
pub mod checks;
mod compressed;
mod container;
mod decode;
mod error;
pub mod filter;
mod limits;
pub mod loudness;
mod preprocess;
mod resample;
mod riff;
pub mod rng;
mod wav;

pub use audio::Audio;
pub use checks::MAX_SAMPLE_MAGNITUDE;
pub use compressed::MAX_DAMAGED_FRACTION;
pub use container::{Container, sniff};
pub use decode::{Decoded, decode, decode_file};
pub use error::{Error, Result};
pub use limits::{DEFAULT_MAX_SAMPLES, DecodeLimits, MAX_CHANNELS};
pub use preprocess::{CropAt, FixedDuration, Normalize, Preprocess, Trim, trim_range};
pub use resample::{FFT_CHUNK, RESAMPLE_MIN_RATE, chunk_size, resample};
pub use wav::{
    WavInfo, encode_wav_16, probe_wav_bytes, read_wav, read_wav_bytes, read_wav_bytes_with_info,
    read_wav_with_info, write_wav,
};
