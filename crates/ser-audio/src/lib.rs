//! Audio for `ser`, the lowest layer of the workspace: bytes or files in WAV, FLAC, MP3 or
//! OGG/Vorbis become mono `f32` [`Audio`], resampled and preprocessed, with sanity checks and
//! one typed [`Error`] that never panics on bad input.
//!
//! * [`decode`] / [`decode_file`]: any supported container, sniffed from its magic number
//!   ([`sniff`]); WAV through [`read_wav_bytes`] (hound), the rest through symphonia.
//! * [`read_wav`] / [`read_wav_bytes`]: any PCM 8/16/24/32-bit or 32-bit float WAV, extra
//!   chunks skipped, downmixed to mono; [`write_wav`] / [`encode_wav_16`] write 16-bit PCM.
//! * [`resample()`]: band-limited (rubato FFT) sample-rate conversion.
//! * [`Preprocess`]: DC removal, silence trim, normalisation, pad/crop (serde config).
//! * [`checks`]: finite samples, supported rate (8-192 kHz), duration limit, silence level.
//! * [`rng::SplitMix64`]: the workspace's one deterministic random number generator.
//!
//! ```
//! use ser_audio::{Audio, Preprocess, decode, encode_wav_16, resample};
//!
//! // One second of a 440 Hz tone at 48 kHz, as a 16-bit WAV file in memory.
//! let tone: Vec<f32> = (0..48_000)
//!     .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 48_000.0).sin())
//!     .collect();
//! let wav = encode_wav_16(&Audio::new(tone, 48_000))?;
//!
//! let audio = decode(&wav, Some(60.0))?; // sniffs the container, downmixes to mono
//! ser_audio::checks::check_audio(&audio, Some(60.0))?;
//! let mut audio = resample(&audio, 16_000)?;
//! Preprocess::default().apply(&mut audio);
//! assert_eq!(audio.sample_rate, 16_000);
//!
//! // Bad input is an error with a stable code, never a panic.
//! let err = decode(b"<!doctype html>", None).unwrap_err();
//! assert_eq!(err.code(), "unsupported_format");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod audio;
pub mod checks;
mod container;
mod decode;
mod error;
mod preprocess;
mod resample;
pub mod rng;
mod wav;

pub use audio::Audio;
pub use container::{Container, sniff};
pub use decode::{decode, decode_file};
pub use error::{Error, Result};
pub use preprocess::{CropAt, FixedDuration, Normalize, Preprocess, Trim, trim_range};
pub use resample::{FFT_CHUNK, chunk_size, resample};
pub use wav::{
    WavInfo, encode_wav_16, probe_wav_bytes, read_wav, read_wav_bytes, read_wav_bytes_with_info,
    read_wav_with_info, write_wav,
};
