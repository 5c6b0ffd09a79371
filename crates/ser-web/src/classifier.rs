//! Loading a model directory for the server, and what `GET /api/model` says about it.

use std::path::Path;
use std::sync::Arc;

use ser_models::analysis::warm_up;
use ser_models::{Classifier, EmotionModel};

use crate::error::Result;

/// Loads the model directory `dir` (manifest.json + weights, as written by `ser-train`) on
/// burn's default CPU device and runs one warm-up prediction
/// ([`ser_models::analysis::warm_up`]), so a broken weights file fails at start-up and the
/// first request is as fast as the others.
///
/// # Errors
///
/// [`crate::Error::Model`] with ser-models' explanation (missing directory or manifest,
/// unknown format version, corrupt weights).
pub fn load_model(dir: &Path) -> Result<Arc<dyn EmotionModel>> {
    let classifier = Classifier::load(dir)?;
    warm_up(&classifier)?;
    Ok(Arc::new(classifier))
}

/// What `GET /api/model` answers for `model`: its manifest minus the per-bin normalisation
/// vectors (hundreds of numbers a client has no use for), or just the labels for a model
/// that is not an artifact.
pub fn describe(model: &dyn EmotionModel) -> serde_json::Value {
    let Some(m) = model.manifest() else {
        return serde_json::json!({ "labels": model.labels() });
    };
    let members: Vec<serde_json::Value> = m
        .members
        .iter()
        .map(|mem| {
            serde_json::json!({
                "name": mem.name,
                "model": mem.model,
                "normalised": mem.norm.is_some(),
            })
        })
        .collect();
    serde_json::json!({
        "labels": m.labels,
        "format_version": m.format_version,
        "kind": m.kind,
        "members": members,
        "features": m.features,
        "preprocess": m.preprocess,
        "protocol": m.protocol,
        "training": m.training,
        "metrics": m.metrics,
    })
}
