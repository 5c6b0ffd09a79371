//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong while planning or extracting features.
///
/// Bad parameters are reported when the [`crate::FeatureExtractor`] is built (never at extraction
/// time); bad input (empty, too short, NaN/inf samples) is reported per call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeatureError {
    /// A configuration field has a value that cannot work.
    #[error("invalid feature parameter `{name}` = {value}: {reason}")]
    InvalidParameter {
        /// Field name, as in [`crate::FeatureConfig`] (librosa's argument name).
        name: &'static str,
        /// The offending value, formatted.
        value: String,
        /// Why it is rejected and what to do instead.
        reason: String,
    },
    /// The input has no samples.
    #[error("empty input: there are no samples to extract features from")]
    EmptyInput,
    /// The input is shorter than the analysis needs.
    #[error("input too short: {len} samples, at least {min} needed ({reason})")]
    InputTooShort {
        /// Number of samples given.
        len: usize,
        /// Minimum number of samples.
        min: usize,
        /// Which setting imposes the minimum.
        reason: &'static str,
    },
    /// A sample is NaN or infinite (the whole spectrogram would be NaN).
    #[error(
        "non-finite sample {value} at index {index}: clean the audio (NaN/inf) before extracting features"
    )]
    NonFiniteSample {
        /// Index of the first offending sample.
        index: usize,
        /// Its value.
        value: f32,
    },
    /// Deltas need at least `width` frames (librosa raises the same error in `mode='interp'`).
    #[error(
        "{frames} frames are too few for deltas of width {width}: use a longer clip (at least {width} frames) or deltas = 0"
    )]
    TooFewFramesForDeltas {
        /// Frames available.
        frames: usize,
        /// Delta window width.
        width: usize,
    },
    /// Two feature matrices (or a matrix and statistics) disagree on the number of bins.
    #[error("bin count mismatch in {context}: expected {expected} bins, got {got}")]
    BinMismatch {
        /// What was being combined.
        context: &'static str,
        /// Bins expected.
        expected: usize,
        /// Bins found.
        got: usize,
    },
    /// An operation that needs at least one matrix (or one frame) got none.
    #[error(
        "nothing to work on in {context}: pass at least one feature matrix with at least one frame"
    )]
    Empty {
        /// What was empty.
        context: &'static str,
    },
    /// The FFT library rejected a buffer (a bug in this crate, never bad input).
    #[error("internal FFT error: {0}")]
    Fft(String),
    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file (for example saved [`crate::NormStats`]) could not be parsed or written.
    #[error("invalid JSON in {path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

/// Result with [`FeatureError`].
pub type Result<T> = std::result::Result<T, FeatureError>;

impl FeatureError {
    pub(crate) fn param(
        name: &'static str,
        value: impl std::fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        FeatureError::InvalidParameter {
            name,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}
