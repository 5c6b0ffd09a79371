//! The model artifact (`ser_models::artifact::Classifier`) as a [`Predictor`].

use std::path::Path;

use ravdess_loader::Audio;
use ser_models::artifact::Classifier;

use crate::error::{EvalError, Result};
use crate::evaluate::{Predictor, Scored};

/// Keys under the manifest's `training` object that may list the training speakers, in the
/// order they are looked up. `ser-train` records its split there; any of these names, holding
/// an array of speaker ids (strings, or RAVDESS actor numbers), is understood.
pub const TRAINING_SPEAKER_KEYS: [&str; 4] = [
    "train_speakers",
    "train_actors",
    "training_speakers",
    "training_actors",
];

/// Where the validation (early-stopping) speakers may be recorded: `(object, key)` pairs of
/// the manifest, looked up in order (`ser-train` writes `metrics.val_actors`).
pub const VALIDATION_SPEAKER_KEYS: [(&str, &str); 3] = [
    ("metrics", "val_actors"),
    ("training", "val_speakers"),
    ("training", "val_actors"),
];

/// A loaded model artifact plus the training speakers its manifest records.
pub struct ArtifactPredictor {
    classifier: Classifier,
    training_speakers: Option<Vec<String>>,
    validation_speakers: Option<Vec<String>>,
}

impl ArtifactPredictor {
    /// Loads the artifact in `dir` (`manifest.json` + weights).
    ///
    /// # Errors
    ///
    /// [`EvalError::Model`] with ser-models' explanation (missing directory or manifest,
    /// unsupported format version, corrupt weights, ...).
    pub fn load(dir: &Path) -> Result<Self> {
        let classifier = Classifier::load(dir).map_err(|e| EvalError::Model {
            path: dir.to_path_buf(),
            source: Box::new(e),
        })?;
        Ok(Self::new(classifier))
    }

    /// Wraps an already loaded classifier.
    pub fn new(classifier: Classifier) -> Self {
        let m = classifier.manifest();
        let training_speakers = training_speakers(&m.training);
        let validation_speakers = VALIDATION_SPEAKER_KEYS.iter().find_map(|(obj, key)| {
            let section = if *obj == "metrics" {
                &m.metrics
            } else {
                &m.training
            };
            section.get(key).and_then(speaker_list)
        });
        Self {
            classifier,
            training_speakers,
            validation_speakers,
        }
    }

    /// The wrapped classifier.
    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }
}

impl Predictor for ArtifactPredictor {
    fn labels(&self) -> &[String] {
        self.classifier.labels()
    }

    fn sample_rate(&self) -> u32 {
        self.classifier.manifest().features.sample_rate
    }

    fn training_speakers(&self) -> Option<Vec<String>> {
        self.training_speakers.clone()
    }

    fn validation_speakers(&self) -> Option<Vec<String>> {
        self.validation_speakers.clone()
    }

    fn predict_batch(&self, audio: &[Audio]) -> std::result::Result<Vec<Scored>, String> {
        self.classifier
            .predict_batch(audio)
            .map(|preds| {
                preds
                    .into_iter()
                    .map(|p| (p.index, p.probabilities))
                    .collect()
            })
            .map_err(|e| e.to_string())
    }
}

/// Reads the training speakers from the manifest's `training` object (see
/// [`TRAINING_SPEAKER_KEYS`]); numbers are zero-padded to two digits like RAVDESS actors.
pub fn training_speakers(training: &serde_json::Value) -> Option<Vec<String>> {
    TRAINING_SPEAKER_KEYS
        .iter()
        .find_map(|k| training.get(k).and_then(speaker_list))
}

/// An array of speaker ids (strings, or numbers zero-padded to two digits), sorted.
fn speaker_list(value: &serde_json::Value) -> Option<Vec<String>> {
    let list = value.as_array()?;
    let mut out: Vec<String> = list
        .iter()
        .filter_map(|v| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => n.as_u64().map(|n| format!("{n:02}")),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_training_speakers_in_either_form() {
        let v = serde_json::json!({"train_actors": [3, 1, "02"]});
        assert_eq!(
            training_speakers(&v),
            Some(vec!["01".into(), "02".into(), "03".into()])
        );
        let v = serde_json::json!({"epochs": 3});
        assert_eq!(training_speakers(&v), None);
        assert_eq!(training_speakers(&serde_json::Value::Null), None);
    }
}
