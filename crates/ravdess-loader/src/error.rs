//! The one error type of this crate.
//!
//! Every variant names the file (or in-memory source) and the field or reason, so a user can
//! fix the input without reading the source. Nothing in this crate panics on bad input.

use std::path::PathBuf;

use crate::name::NameError;

/// Result alias used throughout `ravdess-loader`.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong while naming, reading, resampling, scanning or splitting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error on a file or directory.
    #[error("{}: {source}", path.display())]
    Io {
        /// File or directory being accessed.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A file name that is not a valid RAVDESS name `MM-VV-EE-II-SS-RR-AA.wav`.
    #[error(transparent)]
    Name(#[from] NameError),

    /// The bytes are not a RIFF/WAVE file at all (e.g. an MP3 or text renamed to `.wav`).
    #[error("{}: not a RIFF/WAVE file ({reason}); convert it to WAV, e.g. `sox in.mp3 out.wav`", path.display())]
    NotRiff {
        /// File (or `<bytes>` for in-memory input).
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },

    /// A zero-length file, or a WAV with no samples.
    #[error("{}: empty audio ({reason})", path.display())]
    Empty {
        /// File (or `<bytes>`).
        path: PathBuf,
        /// What was empty.
        reason: String,
    },

    /// The file ends before the header or the declared data chunk does.
    #[error("{}: truncated WAV ({reason}); the file was probably cut short while copying or downloading", path.display())]
    Truncated {
        /// File (or `<bytes>`).
        path: PathBuf,
        /// Which part is missing.
        reason: String,
    },

    /// A valid WAV in an encoding this crate does not decode (A-law, mu-law, 64-bit float, ...).
    #[error("{}: unsupported WAV encoding: {reason}; convert to 16-bit PCM, e.g. `sox in.wav -e signed -b 16 out.wav`", path.display())]
    Unsupported {
        /// File (or `<bytes>`).
        path: PathBuf,
        /// The encoding found.
        reason: String,
    },

    /// A malformed WAV header or chunk structure.
    #[error("{}: malformed WAV: {reason}", path.display())]
    Malformed {
        /// File (or `<bytes>`).
        path: PathBuf,
        /// What is wrong.
        reason: String,
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

    /// A configuration value is out of range.
    #[error("invalid configuration: `{field}` {reason}")]
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// Why it is invalid and what is allowed.
        reason: String,
    },

    /// A CSV manifest row or header is invalid.
    #[error("{}:{line}: {reason}", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// 1-based line number (1 = header).
        line: u64,
        /// What is wrong.
        reason: String,
    },

    /// A directory whose layout is none of the supported corpus layouts.
    #[error("{}: {reason}", path.display())]
    UnknownLayout {
        /// The directory.
        path: PathBuf,
        /// What was found and what is supported.
        reason: String,
    },

    /// A split request that cannot be satisfied (e.g. more folds than speakers).
    #[error("cannot split: {reason}")]
    Split {
        /// Why.
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
}
