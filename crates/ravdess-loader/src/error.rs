//! The one error type of this crate.
//!
//! Every variant names the file and the field or reason, so a user can fix the input without
//! reading the source. Nothing in this crate panics on bad input.

use std::path::PathBuf;

use crate::name::NameError;

/// Result alias used throughout `ravdess-loader`.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong while naming, reading, scanning, loading or splitting.
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

    /// Reading, checking or resampling audio failed (the error names the file where there
    /// is one).
    #[error(transparent)]
    Audio(#[from] ser_audio::Error),

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

    /// A corpus spec (`NAME=PATH`), corpus name or speaker rule that cannot be used.
    #[error("invalid corpus spec `{spec}`: `{field}` {reason}")]
    InvalidSpec {
        /// The text or name as given.
        spec: String,
        /// The offending part (`name`, `path`, `speaker pattern`, `speaker column`, ...).
        field: &'static str,
        /// Why, and what is expected.
        reason: String,
    },

    /// A label-map file line that is not `from,to` (see [`crate::labelmap`]).
    #[error("{}:{line}: {reason}", path.display())]
    LabelMap {
        /// The label-map file (or the name given to inline text).
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
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
