//! Artifact round trips through `save` and `Classifier::load`.

use burn::prelude::Device;
use ravdess_loader::Audio;
use ser_models::ModelConfig;
use ser_models::artifact::{Classifier, Manifest, save};
use ser_models::cnn::CnnConfig;

/// Saves a small untrained CNN artifact into `dir` and returns the manifest.
fn write_artifact(dir: &std::path::Path) -> Manifest {
    let features = dsp_features::FeatureConfig::default();
    let labels: Vec<String> = ["neutral", "angry", "sad"].map(String::from).to_vec();
    let config = ModelConfig::Cnn(
        CnnConfig::new(features.output_bins(), labels.len()).with_channels(vec![4, 8]),
    );
    let model = config.init(&Device::default());
    let manifest = Manifest::single(
        "untrained",
        config,
        features,
        labels,
        "none: untrained test model",
    );
    save(dir, &manifest, &[model]).expect("saving the test artifact");
    manifest
}

/// A 1 s 220 Hz tone with a little vibrato: enough to give the model some non-silent frames.
fn tone() -> Audio {
    let sr = 16_000u32;
    let samples = (0..sr)
        .map(|i| {
            let t = i as f32 / sr as f32;
            0.3 * (2.0 * std::f32::consts::PI * (220.0 * t + 3.0 * (5.0 * t).sin())).sin()
        })
        .collect();
    Audio::new(samples, sr)
}

#[test]
fn loaded_classifier_does_not_need_its_files_any_more() {
    // Regression: burn's file reader is lazy, so a classifier loaded with `try_load_file`
    // panicked on its first prediction once the artifact directory had been replaced.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    write_artifact(&dir);
    let classifier = Classifier::load(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let prediction = classifier.predict(&tone()).unwrap();
    assert_eq!(prediction.probabilities.len(), 3);
    let sum: f32 = prediction.probabilities.iter().sum();
    assert!((sum - 1.0).abs() < 1e-4, "probabilities sum to {sum}");
}

#[test]
fn reload_gives_identical_probabilities() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    write_artifact(&dir);
    let a = Classifier::load(&dir).unwrap().predict(&tone()).unwrap();
    let b = Classifier::load(&dir).unwrap().predict(&tone()).unwrap();
    assert_eq!(a.probabilities, b.probabilities);
    assert_eq!(a.label, b.label);
}

#[test]
fn corrupt_weights_name_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    write_artifact(&dir);
    std::fs::write(dir.join("model.bpk"), b"not a burnpack file").unwrap();
    let Err(err) = Classifier::load(&dir) else {
        panic!("corrupt weights must fail to load");
    };
    assert!(err.to_string().contains("model.bpk"), "{err}");
}
