//! The ser-web HTTP server and page: upload or record speech, see the emotion.
//!
//! The answer for a clip is ser-models' ([`ser_models::analysis`]: silence, speech
//! detection, emotion, timeline), the same function `ser-predict` calls; decoding and audio
//! checks come from [`ser_audio`]. This crate adds HTTP:
//!
//! - [`server`]: the axum router, [`serve`] and graceful shutdown, limits and timeouts;
//! - [`Error`]: every refusal with its HTTP status ([`Error::status`]) and code;
//! - [`load_model`] and [`describe`]: the model behind the API.
//!
//! ```no_run
//! use ser_web::{AppState, ServerConfig, load_model, serve};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let found = ser_models::artifact::find_default_model()?;
//! let model = load_model(&found.dir)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! serve(listener, AppState::new(model, ServerConfig::default())).await?;
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod classifier;
pub mod error;
mod page;
pub mod server;

pub use classifier::{describe, load_model};
pub use error::{Error, Result};
pub use server::{AppState, ServerConfig, router, serve, serve_with_shutdown, shutdown_signal};
