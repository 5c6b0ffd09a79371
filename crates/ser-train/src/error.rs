//! The one error type of `ser-train`.

use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, TrainError>;

/// Everything that can stop training.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// A configuration value is unusable.
    #[error("invalid {field}: {reason}")]
    Config {
        /// The option or field (e.g. `--batch-size`).
        field: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// The corpus cannot be used for speaker-independent training.
    #[error("unusable data in `{}`: {reason}", path.display())]
    Data {
        /// The corpus directory (or `<generated>`).
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
    /// The requested backend was not compiled in.
    #[error(
        "backend `{name}` is not compiled into this binary; rebuild with `--features {name}` or use `--backend flex`"
    )]
    BackendUnavailable {
        /// Backend name.
        name: String,
    },
    /// `--resume` found no usable checkpoint.
    #[error("cannot resume from `{}`: {reason}", path.display())]
    Resume {
        /// The checkpoint directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// File I/O failed.
    ///
    /// The I/O error's text is in this message, so it is not also this error's `source()`:
    /// a caller printing the chain (`anyhow`'s `{:#}`, as `ser-train` does) would repeat it.
    #[error("I/O error on `{}`: {error}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// Writing the log or plot failed.
    #[error("could not write `{}`: {reason}", path.display())]
    Output {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Corpus loading or splitting failed.
    #[error(transparent)]
    Loader(#[from] ravdess_loader::Error),
    /// Feature extraction failed.
    #[error(transparent)]
    Features(#[from] dsp_features::FeatureError),
    /// Model building, saving or evaluation failed.
    #[error(transparent)]
    Model(#[from] ser_models::ModelError),
    /// Scoring a model or writing a report failed.
    #[error(transparent)]
    Eval(#[from] ser_eval::EvalError),
    /// A run was stopped (Ctrl-C) with a checkpoint where a finished model was needed.
    #[error(
        "interrupted; the checkpoint in {} is resumed when the same command is run again",
        checkpoint.display()
    )]
    Interrupted {
        /// The checkpoint directory.
        checkpoint: PathBuf,
    },
    /// A step of a longer job failed: `what` names the step, `source` says why.
    #[error("{what}")]
    Context {
        /// The step, e.g. `training fold 2 failed`.
        what: String,
        /// The error of the step.
        #[source]
        source: Box<TrainError>,
    },
}

/// Names the step a [`TrainError`] happened in (`.context("fitting the head")`).
pub(crate) trait Context<T> {
    /// Wraps the error in [`TrainError::Context`].
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<TrainError>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| TrainError::Context {
            what: what(),
            source: Box::new(e.into()),
        })
    }
}

impl TrainError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error,
        }
    }

    pub(crate) fn config(field: &str, reason: impl Into<String>) -> Self {
        Self::Config {
            field: field.to_string(),
            reason: reason.into(),
        }
    }
}
