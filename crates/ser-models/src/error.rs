//! The one error type of `ser-models`.

use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, ModelError>;

/// Everything that can go wrong when building, loading, saving or running a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The artifact directory does not exist.
    #[error("model directory `{}` does not exist; train one with `ser-train` or pass an existing model directory", path.display())]
    MissingArtifact {
        /// The directory that was asked for.
        path: PathBuf,
    },
    /// No model was given and none was found in the search order of
    /// [`crate::artifact::find_model`].
    #[error(
        "no model found: no --model flag, no SER_MODEL variable, and none of these holds a manifest.json: {}. Pass --model DIR or set SER_MODEL=DIR (a directory written by ser-train), or copy a model directory to the first of them",
        display_paths(searched)
    )]
    NoModelFound {
        /// Every candidate directory searched, in order.
        searched: Vec<PathBuf>,
    },
    /// `manifest.json` is missing from an artifact directory.
    #[error("`{}` has no manifest.json: it is not a ser model directory (train one with `ser-train`)", dir.display())]
    MissingManifest {
        /// The artifact directory.
        dir: PathBuf,
    },
    /// `manifest.json` is not valid JSON or does not have the expected fields.
    #[error("manifest `{}` is corrupt: {reason}", path.display())]
    CorruptManifest {
        /// Path of the manifest.
        path: PathBuf,
        /// What the parser said.
        reason: String,
    },
    /// The manifest was written by a newer (or unknown) version of the format.
    #[error("manifest `{}` has format_version {found}, this build reads versions 1 to {supported}; use a matching ser release or retrain", path.display())]
    UnsupportedFormat {
        /// Path of the manifest.
        path: PathBuf,
        /// The version found in the file.
        found: u32,
        /// The version this build understands.
        supported: u32,
    },
    /// A weights file named by the manifest is missing or cannot be read as burnpack.
    #[error("weights `{}` could not be loaded: {reason} (the artifact is incomplete or corrupt; retrain or re-copy it)", path.display())]
    Weights {
        /// Path of the weights file.
        path: PathBuf,
        /// Why loading failed.
        reason: String,
    },
    /// A field of the manifest or a config is inconsistent.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field (e.g. `labels`, `norm.mean`).
        field: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// The input to a model or the classifier is unusable.
    #[error("bad input: {reason}")]
    Input {
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("I/O error on `{}`: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Feature extraction failed.
    #[error("feature extraction failed: {0}")]
    Features(#[from] dsp_features::FeatureError),
    /// Audio handling (resampling, preprocessing config) failed.
    #[error("audio processing failed: {0}")]
    Audio(#[from] ser_audio::Error),
}

/// `a, b, c` (or "no place at all" when empty) for [`ModelError::NoModelFound`].
fn display_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "(no place to search: neither HOME nor the program's path is known)".into();
    }
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl ModelError {
    /// A short, stable, machine-readable name (the `error` field of `ser-web`'s and
    /// `ser-predict`'s JSON): an audio error's own [`ser_audio::Error::code`],
    /// `unusable_audio` for a clip the model cannot use, `no_model` when no model was found,
    /// `model_error` for the rest.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Audio(e) => e.code(),
            Self::Input { .. } => "unusable_audio",
            Self::NoModelFound { .. } => "no_model",
            _ => "model_error",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
