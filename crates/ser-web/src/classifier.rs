//! Loading a trained model directory (`ser_models::artifact::Classifier`) behind
//! [`EmotionModel`], and where the shipped default model lives.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::model::EmotionModel;

/// The shipped model directory, resolved at compile time (`<repo>/models/default`), when it
/// holds a `manifest.json`.
pub fn default_model_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/default"));
    dir.join("manifest.json").is_file().then_some(dir)
}

/// Loads the model directory `dir` (manifest.json + weights, as written by `ser-train`).
pub fn load_model(dir: &Path) -> Result<Arc<dyn EmotionModel>> {
    // TEMPORARY until ser_models::artifact::Classifier lands.
    Err(Error::Model {
        detail: format!(
            "cannot load {}: ser-models' artifact API is not available yet",
            dir.display()
        ),
    })
}
