//! The one error type of `ser-audio`: every way bytes can fail to become usable audio.
//!
//! Errors from in-memory bytes carry no path (there is none); the file-level functions
//! ([`crate::read_wav`], [`crate::decode_file`]) wrap them in [`Error::InFile`], which names
//! the file. [`Error::code`] gives a stable machine-readable name per kind of failure, the one
//! `ser-web` documents in its JSON errors (docs/web.md) and maps to HTTP statuses.

use std::path::{Path, PathBuf};

use crate::container::Container;

/// Result alias used throughout `ser-audio`.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong while reading, decoding, checking or resampling audio.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error on a file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },

    /// An error in a named file: what a bytes-level error becomes once the caller knows
    /// where the bytes came from. [`Error::code`] is the inner error's.
    // The inner error is part of the message rather than a `source()`: a report that prints
    // the chain (anyhow's `{:#}`) would otherwise say it twice.
    #[error("{}: {error}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        error: Box<Error>,
    },

    /// Zero bytes of input.
    #[error("empty input (0 bytes): expected WAV, FLAC, MP3 or OGG/Vorbis audio")]
    EmptyInput,

    /// Bytes in no container we decode, recognised by magic number (HTML, PNG, MP4, ...).
    #[error(
        "unsupported audio format ({detail}): send WAV (8/16/24/32-bit PCM or float), FLAC, MP3 \
         or OGG/Vorbis"
    )]
    UnsupportedFormat {
        /// What the bytes look like (e.g. "looks like an HTML page; first bytes 3c 21 ...").
        detail: String,
    },

    /// The WAV reader was given bytes that are not a RIFF/WAVE file at all.
    #[error("not a RIFF/WAVE file ({reason}); convert it to WAV, e.g. `sox in.mp3 out.wav`")]
    NotRiff {
        /// What was found instead.
        reason: String,
    },

    /// A recognised container holding an encoding we do not decode (A-law, mu-law, 64-bit
    /// float WAV, RF64, a codec other than Vorbis inside Ogg, ...).
    #[error(
        "unsupported {format} encoding: {reason}; convert to 16-bit PCM WAV, e.g. \
         `sox in.wav -e signed -b 16 out.wav`"
    )]
    Unsupported {
        /// The container.
        format: Container,
        /// The encoding found.
        reason: String,
    },

    /// The input ends before its header or its declared data does.
    #[error(
        "truncated {format} ({reason}); the file was probably cut short while copying or \
         downloading"
    )]
    Truncated {
        /// The container.
        format: Container,
        /// Which part is missing.
        reason: String,
    },

    /// A recognised container whose header or data is malformed.
    #[error("corrupt {format} audio: {detail}")]
    Corrupt {
        /// The container.
        format: Container,
        /// What is wrong (often the decoder's own message).
        detail: String,
    },

    /// A valid header with no audio samples.
    #[error("no audio samples: {reason}")]
    NoSamples {
        /// What was empty (e.g. "the WAV data chunk holds no complete sample frame").
        reason: String,
    },

    /// A sample is NaN or infinite (only float WAV can carry these).
    #[error("sample {index} is {value} (not a finite number): the file is corrupt")]
    NonFinite {
        /// Index of the first bad sample (mono, after downmixing).
        index: usize,
        /// The bad value.
        value: f32,
    },

    /// A sample rate outside what we accept.
    #[error("sample rate {rate} Hz is outside the supported {min}..={max} Hz")]
    SampleRate {
        /// The file's rate.
        rate: u32,
        /// Lowest accepted rate.
        min: u32,
        /// Highest accepted rate.
        max: u32,
    },

    /// A finite sample far outside full scale (see [`crate::MAX_SAMPLE_MAGNITUDE`]).
    #[error(
        "sample {index} (at {time_secs:.3} s) is {value:e}, beyond the {max} (42 dB over full \
         scale) that any recording reaches: the file is corrupt"
    )]
    SampleOutOfRange {
        /// Index of the first bad sample (mono frame index).
        index: usize,
        /// Its time from the start, in seconds.
        time_secs: f64,
        /// The bad value.
        value: f32,
        /// The largest accepted magnitude.
        max: f32,
    },

    /// The audio is longer than the caller's limit.
    #[error("{}", too_long(*duration_secs, *max_secs, *at_least))]
    TooLong {
        /// Duration of the audio: its length when `at_least` is false, else how much was
        /// decoded before decoding stopped at the limit.
        duration_secs: f64,
        /// The limit.
        max_secs: f64,
        /// `duration_secs` is where decoding stopped, not the real (unknown, longer) length.
        at_least: bool,
    },

    /// The stream holds more samples than the cap (see [`crate::DecodeLimits`]).
    #[error(
        "audio is {}{duration_secs:.1} s long, more than the {max_samples} samples (all \
         channels) decoded at once: split it, or raise the limit",
        if *at_least { "at least " } else { "" }
    )]
    TooManySamples {
        /// The cap, all channels together.
        max_samples: u64,
        /// The length, or with `at_least` how much was decoded when the cap was passed.
        duration_secs: f64,
        /// `duration_secs` is where decoding stopped, not the real (longer) length.
        at_least: bool,
    },

    /// Resampling failed (invalid rates or an internal resampler error).
    #[error("cannot resample {from} Hz -> {to} Hz: {reason}")]
    Resample {
        /// Source rate.
        from: u32,
        /// Target rate.
        to: u32,
        /// Why.
        reason: String,
    },

    /// Encoding audio as WAV failed.
    #[error("cannot encode WAV: {reason}")]
    Encode {
        /// The encoder's message.
        reason: String,
    },

    /// A signal-processing step failed inside the crate (an FFT refusing its buffers): a bug,
    /// reported rather than panicking.
    #[error("{stage} failed: {reason}")]
    Dsp {
        /// The step (e.g. "reverberation FFT").
        stage: &'static str,
        /// The underlying message.
        reason: String,
    },

    /// A configuration value is out of range.
    #[error("invalid configuration: `{field}` {reason}")]
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// Why it is invalid and what is allowed.
        reason: String,
    },
}

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Names the file this error came from ([`Error::InFile`]); errors that already name a
    /// path ([`Error::Io`], [`Error::InFile`]) are returned unchanged.
    pub fn in_file(self, path: impl AsRef<Path>) -> Self {
        match self {
            Error::Io { .. } | Error::InFile { .. } => self,
            other => Error::InFile {
                path: path.as_ref().to_path_buf(),
                error: Box::new(other),
            },
        }
    }

    /// The error without its file name: the inner error of [`Error::InFile`], else `self`.
    pub fn without_path(&self) -> &Error {
        match self {
            Error::InFile { error, .. } => error.without_path(),
            other => other,
        }
    }

    /// A stable machine-readable name for the kind of failure, e.g. `"corrupt_audio"`.
    ///
    /// These are the `error` codes of ser-web's JSON answers (docs/web.md): `empty_input`,
    /// `unsupported_format`, `corrupt_audio`, `no_samples`, `non_finite_samples`,
    /// `unsupported_sample_rate`, `too_long`, `resample_failed`; plus `io_error`,
    /// `encode_failed`, `dsp_failed` and `invalid_config`, which no upload can cause.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InFile { error, .. } => error.code(),
            Error::Io { .. } => "io_error",
            Error::EmptyInput => "empty_input",
            Error::UnsupportedFormat { .. } | Error::NotRiff { .. } | Error::Unsupported { .. } => {
                "unsupported_format"
            }
            Error::Truncated { .. } | Error::Corrupt { .. } => "corrupt_audio",
            Error::NoSamples { .. } => "no_samples",
            Error::NonFinite { .. } => "non_finite_samples",
            Error::SampleRate { .. } => "unsupported_sample_rate",
            Error::SampleOutOfRange { .. } => "corrupt_audio",
            Error::TooLong { .. } | Error::TooManySamples { .. } => "too_long",
            Error::Resample { .. } => "resample_failed",
            Error::Encode { .. } => "encode_failed",
            Error::Dsp { .. } => "dsp_failed",
            Error::InvalidConfig { .. } => "invalid_config",
        }
    }
}

/// The message of [`Error::TooLong`]: the real duration when it is known, else honestly "longer
/// than", and never two equal numbers (60.04 s against a 60.0 s limit prints 60.04).
fn too_long(duration_secs: f64, max_secs: f64, at_least: bool) -> String {
    let advice = "trim it or raise the limit";
    if at_least {
        return format!(
            "audio is longer than the {max_secs:.1} s limit (decoding stopped after \
             {duration_secs:.1} s); {advice}"
        );
    }
    let mut decimals = 1;
    while decimals < 6 && format!("{duration_secs:.decimals$}") == format!("{max_secs:.decimals$}")
    {
        decimals += 1;
    }
    format!("audio is {duration_secs:.decimals$} s long; the limit is {max_secs:.1} s ({advice})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_error_names_the_file_and_keeps_the_inner_code() {
        let e = Error::NoSamples {
            reason: "the WAV data chunk holds no complete sample frame".into(),
        }
        .in_file("clip.wav");
        assert_eq!(e.code(), "no_samples");
        assert!(
            e.to_string().starts_with("clip.wav: no audio samples"),
            "{e}"
        );
        assert!(matches!(e.without_path(), Error::NoSamples { .. }));
        // Naming twice does not nest.
        let again = e.in_file("other.wav");
        assert!(!again.to_string().contains("other.wav"), "{again}");
    }

    #[test]
    fn too_long_says_the_real_duration_or_that_decoding_stopped() {
        let msg = |d, at_least| {
            Error::TooLong {
                duration_secs: d,
                max_secs: 60.0,
                at_least,
            }
            .to_string()
        };
        assert!(msg(600.0, false).starts_with("audio is 600.0 s long; the limit is 60.0 s"));
        assert!(
            msg(60.04, false).starts_with("audio is 60.04 s long"),
            "{}",
            msg(60.04, false)
        );
        let m = msg(60.02, true);
        assert!(
            m.contains("longer than the 60.0 s limit (decoding stopped after 60.0 s)"),
            "{m}"
        );
    }
}
