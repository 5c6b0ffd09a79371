//! The one error type of ser-web: every way an upload can be refused, and the HTTP status each
//! one maps to.
//!
//! The mapping follows RFC 9110: 415 when we cannot even tell what the bytes are, 422 when they
//! claim to be audio but do not decode to usable samples, 413 when they are too big or too long,
//! 400 when nothing was sent at all.

use axum::http::StatusCode;

/// Everything that can go wrong between "bytes arrived" and "here are the probabilities".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request (or file) carried zero bytes.
    #[error("{what} is empty: send a WAV, FLAC, MP3 or OGG/Vorbis file")]
    EmptyInput {
        /// What was empty ("request body", "form field `file`", a file name).
        what: String,
    },
    /// The bytes are not in any container we decode (checked by magic number and by probing).
    #[error(
        "unsupported audio format ({detail}): send WAV (8/16/24/32-bit PCM or float), FLAC, MP3 \
         or OGG/Vorbis"
    )]
    UnsupportedFormat {
        /// What we saw (e.g. the first bytes, or the codec symphonia reported).
        detail: String,
    },
    /// The container was recognised but the data is malformed or cut short.
    #[error("corrupt or truncated {format} audio: {detail}")]
    Corrupt {
        /// The container we recognised ("WAV", "FLAC", ...).
        format: &'static str,
        /// The decoder's own message.
        detail: String,
    },
    /// The file decoded to zero samples.
    #[error("the {format} file holds no audio samples")]
    NoSamples {
        /// The container we recognised.
        format: &'static str,
    },
    /// A sample is NaN or infinite (only float WAV can carry these).
    #[error("sample {index} is {value} (not a finite number): the file is corrupt")]
    NonFinite {
        /// Index of the first bad sample (mono, after downmixing).
        index: usize,
        /// The bad value, printed ("NaN", "inf").
        value: String,
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
    /// The decoded clip is longer than the server's limit.
    #[error(
        "audio is {duration_secs:.1} s long; the limit is {max_secs:.1} s (trim it or raise --max-duration-secs)"
    )]
    TooLong {
        /// Duration of the upload.
        duration_secs: f64,
        /// The configured limit.
        max_secs: f64,
    },
    /// The request body is larger than the upload limit.
    #[error("upload is larger than the {limit_bytes}-byte limit (raise --max-upload-mb)")]
    TooLarge {
        /// The configured limit in bytes.
        limit_bytes: usize,
    },
    /// A multipart form without the `file` field, or a malformed form.
    #[error("bad request: {detail}")]
    BadRequest {
        /// What was wrong with the request.
        detail: String,
    },
    /// Resampling failed (should not happen for rates we accept).
    #[error("resampling {from} Hz -> {to} Hz failed: {detail}")]
    Resample {
        /// Source rate.
        from: u32,
        /// Target rate.
        to: u32,
        /// The resampler's message.
        detail: String,
    },
    /// The model refused this clip (e.g. nothing is left after its own silence trimming).
    #[error("the model cannot use this audio: {detail}")]
    Unusable {
        /// The model library's reason.
        detail: String,
    },
    /// The model could not be loaded or failed while predicting.
    #[error("model error: {detail}")]
    Model {
        /// The model library's message (with its cause chain).
        detail: String,
    },
    /// A known path with the wrong method (e.g. `GET /api/predict`).
    #[error("method not allowed here: POST audio to /api/predict; GET /, /api/model, /healthz")]
    MethodNotAllowed,
    /// No such route.
    #[error("no such page or endpoint: see GET / for the page and docs/web.md for the API")]
    NotFound,
    /// Reading a file from disk failed (CLI only).
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// `Result` with ser-web's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::EmptyInput { .. } | Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Error::UnsupportedFormat { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Corrupt { .. }
            | Error::NoSamples { .. }
            | Error::NonFinite { .. }
            | Error::SampleRate { .. }
            | Error::Unusable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::TooLong { .. } | Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::Resample { .. } | Error::Model { .. } | Error::Io { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// A short machine-readable name for the `error` field of JSON answers.
    pub fn code(&self) -> &'static str {
        match self {
            Error::EmptyInput { .. } => "empty_input",
            Error::UnsupportedFormat { .. } => "unsupported_format",
            Error::Corrupt { .. } => "corrupt_audio",
            Error::NoSamples { .. } => "no_samples",
            Error::NonFinite { .. } => "non_finite_samples",
            Error::SampleRate { .. } => "unsupported_sample_rate",
            Error::TooLong { .. } => "too_long",
            Error::TooLarge { .. } => "too_large",
            Error::BadRequest { .. } => "bad_request",
            Error::Resample { .. } => "resample_failed",
            Error::Unusable { .. } => "unusable_audio",
            Error::Model { .. } => "model_error",
            Error::NotFound => "not_found",
            Error::MethodNotAllowed => "method_not_allowed",
            Error::Io { .. } => "io_error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_documented_mapping() {
        let e = Error::UnsupportedFormat { detail: "x".into() };
        assert_eq!(e.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let e = Error::NonFinite {
            index: 3,
            value: "NaN".into(),
        };
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e.to_string().contains("sample 3"));
        let e = Error::TooLong {
            duration_secs: 61.0,
            max_secs: 60.0,
        };
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(e.to_string().contains("60.0 s"));
    }
}
