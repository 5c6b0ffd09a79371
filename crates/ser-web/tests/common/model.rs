//! The model every test uses: a real ser-models artifact (a small, untrained CNN over the
//! default 64-band log-mel features), saved with `ser_models::artifact::save` to a temporary
//! directory and loaded back through `ser_web::load_model`, exactly like `--model DIR`.
//!
//! Untrained weights give arbitrary but deterministic probabilities: enough to test decoding,
//! resampling, limits, the answer's shape and that the page shows what the API says. Accuracy
//! is measured by ser-eval on trained models, never here.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use burn::prelude::Device;
use ser_models::EmotionModel;
use ser_models::ModelConfig;
use ser_models::artifact::{Manifest, save};
use ser_models::cnn::CnnConfig;

/// Writes the untrained test artifact to `dir` (created or replaced).
pub fn write_test_artifact(dir: &Path) {
    write_test_artifact_with_metrics(dir, serde_json::json!({}));
}

/// The untrained test artifact with `metrics` recorded in its manifest (the page reads the
/// accuracy it shows from there; the figures are made up, the weights untrained).
pub fn write_test_artifact_with_metrics(dir: &Path, metrics: serde_json::Value) {
    let features = dsp_features::FeatureConfig::default();
    let labels: Vec<String> = ravdess_loader::Emotion::ALL
        .iter()
        .map(|e| e.name().to_string())
        .collect();
    let config = ModelConfig::Cnn(
        CnnConfig::new(features.output_bins(), labels.len()).with_channels(vec![4, 8]),
    );
    let model = config.init(&Device::default());
    let mut manifest = Manifest::single(
        "untrained-test-cnn",
        config,
        features,
        labels,
        "none: untrained test model",
    );
    manifest.metrics = metrics;
    save(dir, &manifest, &[model]).unwrap();
}

/// Builds (once per test binary), saves and loads the test artifact.
pub fn test_model() -> Arc<dyn EmotionModel> {
    static MODEL: OnceLock<Arc<dyn EmotionModel>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path().join("model");
            write_test_artifact(&dir);
            // `tmp` is deleted when this closure returns, on purpose: the server must not need
            // the model files after loading (load_model's warm-up reads every weight).
            ser_web::load_model(&dir).unwrap()
        })
        .clone()
}

/// The test model with `metrics` as its manifest's scores, built fresh on each call.
#[allow(dead_code)] // each test binary compiles `common` and uses part of it
pub fn test_model_with_metrics(metrics: serde_json::Value) -> Arc<dyn EmotionModel> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    write_test_artifact_with_metrics(&dir, metrics);
    ser_web::load_model(&dir).unwrap()
}

/// The test model with a made-up cross-validation record, `metrics.cv.ua.mean = ua`, in the
/// shape `ser-train cv` writes (models/default/manifest.json), built fresh on each call.
pub fn test_model_with_cv_ua(ua: f64) -> Arc<dyn EmotionModel> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    write_test_artifact_with_metrics(
        &dir,
        serde_json::json!({ "cv": { "ua": { "mean": ua, "std": 0.05 } } }),
    );
    ser_web::load_model(&dir).unwrap()
}
