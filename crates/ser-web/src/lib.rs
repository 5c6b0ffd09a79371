//! The ser-web HTTP server and page: upload or record speech, see the emotion.
//!
//! The library holds everything the `ser-web` and `ser-predict` binaries share:
//!
//! - decoding and audio checks come from [`ser_audio`] ([`ser_audio::decode`],
//!   [`ser_audio::checks`]); their errors map to HTTP statuses in [`Error::status`];
//! - [`analysis`]: the answer for a clip (emotion, probabilities, timeline windows);
//! - [`server`]: the axum router, [`serve`] and graceful shutdown.
//!
//! ```no_run
//! use ser_web::{AppState, ServerConfig, load_model, serve};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let model = load_model(std::path::Path::new("models/default"))?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! serve(listener, AppState::new(model, ServerConfig::default())).await?;
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod analysis;
pub mod classifier;
pub mod error;
pub mod model;
mod page;
pub mod server;

pub use analysis::{Analysis, AnalysisConfig, Segment, analyse, analyse_bytes};
pub use classifier::{ClassifierModel, default_model_dir, load_model};
pub use error::{Error, Result};
pub use model::EmotionModel;
pub use server::{AppState, ServerConfig, router, serve, serve_with_shutdown, shutdown_signal};
