//! The axum application: routes, upload handling, bounded inference, JSON errors, and the
//! server around it (connection limits, timeouts and the shutdown deadline in
//! `server/connection.rs`; security headers and the Origin check in `server/security.rs`).

mod connection;
mod security;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower_http::trace::TraceLayer;

use ser_models::EmotionModel;
use ser_models::analysis::{AnalysisConfig, analyse_bytes};

use crate::classifier::describe;
use crate::error::Error;
use crate::page;

/// Server settings (the CLI flags of `ser-web`).
///
/// The connection limits and timeouts (issue 25) keep slow or hostile clients from holding
/// file descriptors, memory or the shutdown: together they bound what one client can hold to
/// one connection slot for at most `header_read_timeout + body_timeout` (plus inference), and
/// all clients together to `max_connections` slots, each buffering at most
/// `max_upload_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ServerConfig {
    /// Largest accepted request body in bytes (default 20 MiB); larger uploads get 413.
    pub max_upload_bytes: usize,
    /// Timeline and duration settings.
    pub analysis: AnalysisConfig,
    /// How many inferences run at once (default: the number of cores). Requests beyond that
    /// wait for a free worker instead of oversubscribing the CPU.
    pub workers: usize,
    /// Most connections served at once (default 64). Further connections are not accepted
    /// until one closes: they wait in the kernel's accept queue, holding no file descriptor
    /// or memory of the server's. 64 is ten browsers' worth (a browser opens at most 6
    /// connections to one host) and far below the usual 1024 file-descriptor soft limit; with
    /// 20 MiB uploads it bounds buffered uploads to 1.25 GiB at worst.
    pub max_connections: usize,
    /// How long a client has to send a request's headers (default 10 s), counted from the
    /// moment the server starts waiting for them: at accept, and after each answer on a
    /// kept-alive connection. A client that is slower is disconnected (no answer: it has not
    /// said what it wants). The page's requests carry under 1 KiB of headers, one round trip
    /// even on a slow mobile link; Apache's mod_reqtimeout allows 20 s, nginx 60 s.
    pub header_read_timeout: Duration,
    /// How long a client has to send a whole request body once its headers are in (default
    /// 60 s); a slower upload is answered 408 `body_timeout` and the connection closed. 60 s
    /// carries the 20 MiB maximum at 2.8 Mbit/s and a typical clip (under 1 MiB) at
    /// 140 kbit/s. A total deadline rather than a per-read one, because a client trickling one
    /// byte a second never trips a per-read timeout.
    pub body_timeout: Duration,
    /// How long a connection may sit with no request in flight and no byte moving (default
    /// 5 s): a silent new connection, or a kept-alive one between requests, is then closed. A
    /// browser reopens a connection when it needs one; 5 s is Apache's `KeepAliveTimeout`.
    /// The header timeout also runs while a kept-alive connection waits, so the effective
    /// idle limit is the smaller of the two.
    pub idle_timeout: Duration,
    /// After a shutdown signal, how long requests in flight get to finish (default 5 s):
    /// the listener closes at once, idle connections close, and whatever is still open at
    /// the deadline is dropped and the server returns. Over four times an inference on the
    /// longest clip (60 s in 1.01-1.15 s with the three-member models/default on a 2-core
    /// machine, docs/web.md), shorter than the grace period of `docker stop` (10 s) or Kubernetes
    /// (30 s) before they send SIGKILL.
    pub shutdown_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_upload_bytes: 20 * 1024 * 1024,
            // The tools' analysis, plus the server's duration limit.
            analysis: AnalysisConfig {
                max_duration_secs: Some(60.0),
                ..AnalysisConfig::default()
            },
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            max_connections: 64,
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(5),
            shutdown_timeout: Duration::from_secs(5),
        }
    }
}

/// Shared state of every request: the model, the limits and the inference permits.
#[derive(Clone)]
pub struct AppState {
    model: Arc<dyn EmotionModel>,
    config: ServerConfig,
    permits: Arc<Semaphore>,
}

impl AppState {
    /// Wraps a loaded model with the server's settings.
    pub fn new(model: Arc<dyn EmotionModel>, config: ServerConfig) -> Self {
        let workers = config.workers.max(1);
        let max_connections = config.max_connections.max(1);
        Self {
            model,
            config: ServerConfig {
                workers,
                max_connections,
                ..config
            },
            permits: Arc::new(Semaphore::new(workers)),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }
}

/// JSON error body: `{"error": "<code>", "detail": "<what happened and what to do>"}`.
#[derive(Debug, Serialize)]
struct ErrorBody {
    error: &'static str,
    detail: String,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody {
            error: self.code(),
            detail: self.to_string(),
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::REQUEST_TIMEOUT {
            // The rest of the body may still be on its way: this connection cannot carry
            // another request (RFC 9110 §15.5.9: a 408 SHOULD close the connection).
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

/// The router with every route, the body limit, the security headers and request logging.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_upload_bytes;
    Router::new()
        .route("/", get(page::index))
        .route("/app.js", get(page::script))
        .route("/style.css", get(page::style))
        .route("/healthz", get(healthz))
        .route("/api/model", get(model_info))
        .route("/api/predict", post(predict))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // `read_body` enforces the limit itself (with JSON errors); this sets the same limit for
        // the Multipart extractor that re-parses the buffered form.
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::map_response(security::security_headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until Ctrl-C or SIGTERM, then gives in-flight requests
/// [`ServerConfig::shutdown_timeout`] to finish.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    serve_with_shutdown(listener, state, shutdown_signal()).await
}

/// Serves until `signal` completes (tests pass a oneshot receiver), under the connection
/// limit and timeouts of the state's [`ServerConfig`]; then stops accepting, lets requests in
/// flight finish for at most [`ServerConfig::shutdown_timeout`], drops whatever connections
/// are still open and returns.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    state: AppState,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let config = state.config;
    connection::run(listener, router(state), &config, signal).await
}

/// Completes on Ctrl-C or (on Unix) SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received: finishing in-flight requests");
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn not_found() -> Error {
    Error::NotFound
}

async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}

async fn model_info(State(state): State<AppState>) -> Json<serde_json::Value> {
    let mut info = describe(state.model.as_ref());
    if let Some(obj) = info.as_object_mut() {
        obj.insert(
            "server".into(),
            serde_json::json!({
                "max_upload_bytes": state.config.max_upload_bytes,
                "max_duration_secs": state.config.analysis.max_duration_secs,
                "segment_secs": state.config.analysis.segment_secs,
                "timeline_after_secs": state.config.analysis.timeline_after_secs,
                "workers": state.config.workers,
                "body_timeout_secs": state.config.body_timeout.as_secs_f64(),
                "formats": ["wav", "flac", "mp3", "ogg"],
            }),
        );
    }
    Json(info)
}

/// How much of an oversize body is still read (and thrown away) before answering 413, as a
/// multiple of the limit.
///
/// Why read it at all: a client that is still sending when the server answers and closes gets
/// a connection reset instead of the answer (browsers then show "connection reset", not our
/// JSON error). Reading up to a few times the limit keeps ordinary "slightly too big" uploads
/// answered properly; anything bigger is cut off at once so it cannot waste bandwidth.
const DRAIN_FACTOR: u64 = 4;

/// Reads the whole body, at most `limit` bytes, within `timeout`; an oversize body is drained
/// up to `DRAIN_FACTOR * limit` and answered with [`Error::TooLarge`], a late one with
/// [`Error::BodyTimeout`].
async fn read_body(
    body: axum::body::Body,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, Error> {
    tokio::time::timeout(timeout, read_body_untimed(body, limit))
        .await
        .unwrap_or(Err(Error::BodyTimeout {
            timeout_secs: timeout.as_secs_f64(),
        }))
}

async fn read_body_untimed(body: axum::body::Body, limit: usize) -> Result<Bytes, Error> {
    use http_body_util::BodyExt;
    let too_large = || Error::TooLarge { limit_bytes: limit };
    let mut body = body;
    let mut buf: Vec<u8> = Vec::new();
    let mut seen: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Error::BadRequest {
            detail: format!("cannot read the request body: {e}"),
        })?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        seen += data.len() as u64;
        if seen > DRAIN_FACTOR * limit as u64 {
            return Err(too_large());
        }
        if seen <= limit as u64 {
            buf.extend_from_slice(&data);
        }
    }
    if seen > limit as u64 {
        return Err(too_large());
    }
    Ok(Bytes::from(buf))
}

/// Reads the upload: a multipart form's `file` field, or the raw body.
async fn read_upload(state: &AppState, req: Request) -> Result<Bytes, Error> {
    let limit = state.config.max_upload_bytes;
    let timeout = state.config.body_timeout;
    // Refuse a declared huge body before reading a byte of it.
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_FACTOR * limit as u64) {
        return Err(Error::TooLarge { limit_bytes: limit });
    }
    if let Err(refused) = security::check_origin(req.headers()) {
        // Read (and throw away) the body first, as for an oversize one (see DRAIN_FACTOR), so
        // that the client gets the 403 rather than a connection reset.
        let _ = read_body(req.into_body(), limit, timeout).await;
        return Err(refused);
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| security::is_multipart_form(v))
        .map(security::normalised_multipart);
    let (mut parts, body) = req.into_parts();
    let bytes = read_body(body, limit, timeout).await?;
    let Some(content_type) = content_type else {
        if bytes.is_empty() {
            return Err(Error::EmptyInput {
                what: "the request body".into(),
            });
        }
        return Ok(bytes);
    };
    // The form is already in memory (and within the limit): parse it from there, with the
    // media type spelled the way the multipart parser expects.
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        parts.headers.insert(header::CONTENT_TYPE, value);
    }
    let req = Request::from_parts(parts, axum::body::Body::from(bytes));
    // The parser's messages may quote names the client chose: bounded.
    let bad = |text: String| Error::BadRequest {
        detail: format!(
            "malformed multipart form: {}",
            security::bounded(&text, security::MAX_ECHOED_DETAIL_CHARS)
        ),
    };
    let mut form = Multipart::from_request(req, state)
        .await
        .map_err(|r| bad(r.body_text()))?;
    loop {
        let field = form.next_field().await.map_err(|e| bad(e.body_text()))?;
        let Some(field) = field else {
            return Err(Error::BadRequest {
                detail: "the multipart form has no field named `file`: send the audio as \
                         `file=@recording.wav`"
                    .into(),
            });
        };
        if field.name() == Some("file") {
            // Echoed back in errors: at most MAX_ECHOED_NAME_CHARS characters.
            let name = security::bounded(
                field.file_name().unwrap_or(""),
                security::MAX_ECHOED_NAME_CHARS,
            );
            let bytes = field.bytes().await.map_err(|e| bad(e.body_text()))?;
            if bytes.is_empty() {
                return Err(Error::EmptyInput {
                    what: if name.is_empty() {
                        "form field `file`".into()
                    } else {
                        format!("form field `file` ({name})")
                    },
                });
            }
            return Ok(bytes);
        }
    }
}

async fn predict(State(state): State<AppState>, req: Request) -> Response {
    let started = Instant::now();
    let bytes = match read_upload(&state, req).await {
        Ok(b) => b,
        Err(e) => {
            tracing::info!(status = e.status().as_u16(), error = %e, "upload refused");
            return e.into_response();
        }
    };
    let n_bytes = bytes.len();
    // Wait for a worker: at most `workers` decodes + inferences run at once.
    let permit = match state.permits.clone().acquire_owned().await {
        Ok(p) => p,
        Err(_) => {
            return Error::Internal {
                detail: "the server is shutting down".into(),
            }
            .into_response();
        }
    };
    let model = Arc::clone(&state.model);
    let config = state.config.analysis;
    let joined = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        analyse_bytes(model.as_ref(), &bytes, &config).map_err(Error::from)
    })
    .await;
    let result = match joined {
        Ok(r) => r,
        Err(e) => Err(Error::Internal {
            detail: format!("the inference task failed: {e}"),
        }),
    };
    let ms = started.elapsed().as_secs_f64() * 1e3;
    match result {
        Ok(answer) => {
            for warning in &answer.warnings {
                tracing::warn!(bytes = n_bytes, "{warning}");
            }
            tracing::info!(
                bytes = n_bytes,
                secs = answer.duration_secs,
                speech = answer.speech,
                emotion = answer.emotion.as_deref().unwrap_or("-"),
                ms,
                "predicted"
            );
            (StatusCode::OK, Json(answer)).into_response()
        }
        Err(e) => {
            tracing::info!(bytes = n_bytes, status = e.status().as_u16(), error = %e, ms, "refused");
            e.into_response()
        }
    }
}
