//! The model artifact (`ser_models::artifact::Classifier`) as a [`Predictor`].

use std::path::Path;

use ser_audio::Audio;
use ser_models::artifact::Classifier;

use crate::error::{EvalError, Result};
use crate::evaluate::{Predictor, Scored};

/// Where a manifest may record its training and validation speakers (read by
/// [`ser_models::Manifest::training_speakers`] and [`ser_models::Manifest::validation_speakers`]).
pub use ser_models::artifact::{TRAINING_SPEAKER_KEYS, VALIDATION_SPEAKER_KEYS};

/// A loaded model artifact; the speakers it heard come from its manifest.
pub struct ArtifactPredictor {
    classifier: Classifier,
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
        Self { classifier }
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
        self.classifier.manifest().training_speakers()
    }

    fn validation_speakers(&self) -> Option<Vec<String>> {
        self.classifier.manifest().validation_speakers()
    }

    fn training_corpora(&self) -> crate::heard::TrainingCorpora {
        crate::heard::TrainingCorpora::from_training_record(&self.classifier.manifest().training)
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
