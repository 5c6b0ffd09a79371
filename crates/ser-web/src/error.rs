//! The one error type of ser-web: every way an upload can be refused, and the HTTP status each
//! one maps to.
//!
//! The mapping follows RFC 9110: 415 when we cannot even tell what the bytes are, 422 when they
//! claim to be audio but do not decode to usable samples, 413 when they are too big or too long,
//! 400 when nothing was sent at all, 408 when the body stalls, 403 for a cross-site upload.

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
    /// Decoding or checking the audio failed (unsupported format, corrupt, no samples,
    /// non-finite samples, unsupported rate, too long, resampling); see [`ser_audio::Error`].
    #[error(transparent)]
    Audio(#[from] ser_audio::Error),
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
    /// The model refused this clip (e.g. nothing is left after its own silence trimming).
    #[error("the model cannot use this audio: {detail}")]
    Unusable {
        /// The model library's reason.
        detail: String,
    },
    /// The model could not be loaded or failed while predicting.
    #[error("model error: {}", error_chain(.0))]
    Model(ser_models::ModelError),
    /// The server could not run the request (shutting down, or an inference task failed).
    #[error("internal error: {detail}")]
    Internal {
        /// What happened.
        detail: String,
    },
    /// The request body did not arrive within the body timeout (a stalled or trickling upload).
    #[error(
        "the upload did not arrive within {timeout_secs} s: send it in one go (or raise \
         --body-timeout-secs for slow links)"
    )]
    BodyTimeout {
        /// The configured body timeout in seconds.
        timeout_secs: f64,
    },
    /// A browser request from another site (its `Origin` is not this server).
    #[error(
        "cross-site upload refused: Origin {origin} is not this server ({host}); use the page \
         served here, or a client that sends no Origin (curl, scripts)"
    )]
    CrossOrigin {
        /// The request's `Origin` (length-bounded).
        origin: String,
        /// The request's `Host` (length-bounded).
        host: String,
    },
    /// A known path with the wrong method (e.g. `GET /api/predict`).
    #[error("method not allowed here: POST audio to /api/predict; GET /, /api/model, /healthz")]
    MethodNotAllowed,
    /// No such route.
    #[error("no such page or endpoint: see GET / for the page and docs/web.md for the API")]
    NotFound,
}

/// ser-models' typed errors, sorted by whose fault they are: audio the checks or the decoder
/// refuse keeps its own code and status, a clip the model cannot use is 422
/// `unusable_audio`, anything else is the model's fault (500 `model_error`).
impl From<ser_models::ModelError> for Error {
    fn from(e: ser_models::ModelError) -> Self {
        match e {
            ser_models::ModelError::Audio(a) => Error::Audio(a),
            ser_models::ModelError::Input { reason } => Error::Unusable { detail: reason },
            other => Error::Model(other),
        }
    }
}

/// `Result` with ser-web's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// The HTTP status of an audio error, by its [`ser_audio::Error::code`] (the codes docs/web.md
/// documents): 400 for no bytes, 415 for a format we do not decode, 413 for too long, 422 for
/// audio that is recognised but unusable, 500 for what no upload should cause.
fn audio_status(e: &ser_audio::Error) -> StatusCode {
    match e.code() {
        "empty_input" => StatusCode::BAD_REQUEST,
        "unsupported_format" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "too_long" => StatusCode::PAYLOAD_TOO_LARGE,
        "corrupt_audio" | "no_samples" | "non_finite_samples" | "unsupported_sample_rate" => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `e` and its sources joined with ": ", like anyhow's `{:#}`.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        src = s.source();
    }
    out
}

impl Error {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::EmptyInput { .. } | Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Error::Audio(e) => audio_status(e),
            Error::Unusable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Error::CrossOrigin { .. } => StatusCode::FORBIDDEN,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::Model(_) | Error::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short machine-readable name for the `error` field of JSON answers.
    pub fn code(&self) -> &'static str {
        match self {
            Error::EmptyInput { .. } => "empty_input",
            Error::Audio(e) => e.code(),
            Error::TooLarge { .. } => "too_large",
            Error::BadRequest { .. } => "bad_request",
            Error::Unusable { .. } => "unusable_audio",
            Error::Model(_) => "model_error",
            Error::Internal { .. } => "internal_error",
            Error::NotFound => "not_found",
            Error::BodyTimeout { .. } => "body_timeout",
            Error::CrossOrigin { .. } => "cross_origin",
            Error::MethodNotAllowed => "method_not_allowed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_documented_mapping() {
        let e = Error::from(ser_audio::Error::UnsupportedFormat { detail: "x".into() });
        assert_eq!(e.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let e = Error::from(ser_audio::Error::NonFinite {
            index: 3,
            value: f32::NAN,
        });
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(e.to_string().contains("sample 3"));
        let e = Error::from(ser_audio::Error::TooLong {
            duration_secs: 61.0,
            max_secs: 60.0,
            at_least: false,
        });
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(e.to_string().contains("60.0 s"));
    }

    /// ser-models' typed errors keep whose fault they are across the crate boundary.
    #[test]
    fn model_errors_map_to_the_audio_client_or_server_status() {
        use ser_models::ModelError;
        let audio = Error::from(ModelError::Audio(ser_audio::Error::UnsupportedFormat {
            detail: "x".into(),
        }));
        assert_eq!(
            (audio.status(), audio.code()),
            (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_format")
        );
        let unusable = Error::from(ModelError::Input {
            reason: "nothing left after trimming".into(),
        });
        assert_eq!(
            (unusable.status(), unusable.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "unusable_audio")
        );
        let broken = Error::from(ModelError::Invalid {
            field: "labels".into(),
            reason: "none".into(),
        });
        assert_eq!(
            (broken.status(), broken.code()),
            (StatusCode::INTERNAL_SERVER_ERROR, "model_error")
        );
        assert!(broken.to_string().contains("labels"), "{broken}");
    }
}
