//! Loading a trained model directory (`ser_models::artifact::Classifier`) behind
//! [`EmotionModel`], and where the shipped default model lives.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ser_audio::Audio;
use ser_models::{Classifier, ModelError};

use crate::error::{Error, Result, error_chain};
use crate::model::EmotionModel;

/// The shipped model directory, resolved at compile time (`<repo>/models/default`), when it
/// holds a `manifest.json`.
pub fn default_model_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/default"));
    dir.join("manifest.json").is_file().then_some(dir)
}

/// Loads the model directory `dir` (manifest.json + weights, as written by `ser-train`) on
/// burn's default CPU device.
pub fn load_model(dir: &Path) -> Result<Arc<dyn EmotionModel>> {
    let classifier = Classifier::load(dir).map_err(|e| Error::Model {
        detail: error_chain(&e),
    })?;
    let model = ClassifierModel::new(classifier);
    model.warm_up()?;
    Ok(Arc::new(model))
}

/// [`Classifier`] as an [`EmotionModel`].
#[derive(Debug)]
pub struct ClassifierModel {
    inner: Classifier,
}

impl ClassifierModel {
    /// Wraps a loaded classifier (e.g. one built in memory with `Classifier::from_parts`).
    pub fn new(inner: Classifier) -> Self {
        Self { inner }
    }

    /// Runs one prediction on a second of a quiet 220 Hz tone.
    ///
    /// Why: burn reads burnpack weights lazily, from the file, on first use. Touching every
    /// tensor once at start-up surfaces a broken weights file before the first request, keeps
    /// the server working if the model directory is later replaced (e.g. by a new `ser-train`
    /// run), and makes the first request as fast as the others.
    pub fn warm_up(&self) -> Result<()> {
        let rate = self.sample_rate();
        let tone: Vec<f32> = (0..rate)
            .map(|i| 0.1 * (2.0 * std::f32::consts::PI * 220.0 * i as f32 / rate as f32).sin())
            .collect();
        self.predict_batch(&[Audio::new(tone, rate)]).map(|_| ())
    }

    /// The wrapped classifier.
    pub fn classifier(&self) -> &Classifier {
        &self.inner
    }
}

fn model_error(e: ModelError) -> Error {
    match e {
        // The clip itself is unusable (e.g. nothing left after the model's own silence trim).
        ModelError::Input { reason } => Error::Unusable { detail: reason },
        other => Error::Model {
            detail: error_chain(&other),
        },
    }
}

impl EmotionModel for ClassifierModel {
    fn labels(&self) -> &[String] {
        self.inner.labels()
    }

    fn sample_rate(&self) -> u32 {
        self.inner.manifest().features.sample_rate
    }

    fn predict_batch(&self, clips: &[Audio]) -> Result<Vec<Vec<f32>>> {
        self.inner
            .predict_batch(clips)
            .map(|ps| ps.into_iter().map(|p| p.probabilities).collect())
            .map_err(model_error)
    }

    fn describe(&self) -> serde_json::Value {
        let m = self.inner.manifest();
        // The manifest minus the per-bin normalisation vectors (hundreds of numbers a client
        // has no use for).
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
}
