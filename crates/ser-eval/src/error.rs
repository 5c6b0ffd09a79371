//! The one error type of the `ser-eval` library.

use std::path::PathBuf;

/// Everything that can go wrong while computing metrics or evaluating a model.
///
/// Variants carry the offending values so a message can say what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// `y_true` and `y_pred` have different lengths.
    #[error("y_true has {y_true} labels but y_pred has {y_pred}: they must be the same length")]
    LengthMismatch {
        /// Length of `y_true`.
        y_true: usize,
        /// Length of `y_pred`.
        y_pred: usize,
    },
    /// No samples to evaluate.
    #[error("nothing to evaluate: {what} is empty")]
    Empty {
        /// What was empty (`"y_true"`, `"the class list"`, ...).
        what: &'static str,
    },
    /// A label index is not a valid class index.
    #[error(
        "{which}[{position}] = {value} is not a class index (there are {n_classes} classes: 0..{n_classes})"
    )]
    LabelOutOfRange {
        /// `"y_true"` or `"y_pred"`.
        which: &'static str,
        /// Position of the offending element.
        position: usize,
        /// The offending value.
        value: usize,
        /// Number of classes.
        n_classes: usize,
    },
    /// A configuration value is out of its valid range.
    #[error("invalid setting {field} = {value}: {expected}")]
    InvalidConfig {
        /// Field name.
        field: &'static str,
        /// The value given, as text.
        value: String,
        /// What a valid value looks like.
        expected: &'static str,
    },
    /// A speaker list cannot be applied to the corpus: a bare speaker id that several of the
    /// combined corpora have (the message names the flag and the namespaced ids to choose).
    #[error("{reason}")]
    AmbiguousSpeaker {
        /// The loader's explanation.
        reason: String,
    },
    /// None of the data's labels correspond to any of the model's labels.
    #[error(
        "the label sets do not match: the data has {data_labels:?} but the model predicts {model_labels:?}; \
         evaluate with data labelled with the model's classes (names are compared case-insensitively)"
    )]
    LabelsDoNotMatch {
        /// Labels found in the data.
        data_labels: Vec<String>,
        /// Labels the model predicts.
        model_labels: Vec<String>,
    },
    /// Nothing is left to evaluate (actor filter, decoding or prediction removed everything).
    #[error("nothing to evaluate: {reason}")]
    NoUtterances {
        /// Why, naming the data and the filter.
        reason: String,
    },
    /// The corpus loader failed (bad options or an unreadable corpus). The loader's message is
    /// part of this one's text and deliberately not its `source()`: a chain printed whole
    /// (anyhow's `{:#}`, as the binaries print errors) would otherwise say it twice.
    #[error("loading the corpus: {error}")]
    Loader {
        /// The loader's error.
        error: Box<ravdess_loader::Error>,
    },
    /// The model artifact could not be loaded (ser-models' message in the text, not as the
    /// `source()`, as above).
    #[error("loading the model {}: {error}", path.display())]
    Model {
        /// The model directory.
        path: PathBuf,
        /// ser-models' error.
        error: Box<ser_models::ModelError>,
    },
    /// A cross-validation directory holds a finished fold whose speakers are not those of
    /// the same fold of this run: the directory holds another cross-validation (other data,
    /// `--actors`, `--folds`, `--seed` or `--test-corpus`), whose folds must not be mixed in.
    #[error(
        "{}: fold {fold} {what} {found}, but this run's fold {fold} {what_now} {wanted}: the \
         directory holds a cross-validation of other folds (another --test-corpus, --actors or \
         data); pick another --out, or delete it to start over",
        path.display()
    )]
    FoldMismatch {
        /// The finished fold's `fold.json`.
        path: PathBuf,
        /// Fold number, from 1.
        fold: usize,
        /// `"held out"` or `"trained on"`.
        what: &'static str,
        /// The same in the present tense: `"holds out"` or `"trains on"`.
        what_now: &'static str,
        /// The finished fold's speakers, comma separated.
        found: String,
        /// This run's speakers for the fold, comma separated.
        wanted: String,
    },
    /// Reading or writing a file failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`"writing"`, `"reading"`, ...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Serialising or parsing JSON failed.
    #[error("JSON for {path}: {source}")]
    Json {
        /// The file (or a description of the value) concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// Writing CSV failed.
    #[error("CSV for {path}: {source}")]
    Csv {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: csv::Error,
    },
    /// A fold's predictions file holds something that cannot be scored.
    #[error("{path}: {reason}")]
    BadPredictions {
        /// The predictions file.
        path: PathBuf,
        /// What is wrong, and what to do.
        reason: String,
    },
    /// Drawing a plot failed.
    #[error("drawing {path}: {message}")]
    Plot {
        /// The image file.
        path: PathBuf,
        /// What the plotting backend reported.
        message: String,
    },
}

/// `Result` with [`EvalError`].
pub type Result<T, E = EvalError> = std::result::Result<T, E>;
