//! [`EmotionModel`]: the one interface every tool reaches a model through.
//!
//! [`Classifier`] (a model artifact) is the implementation every `ser` tool uses. The trait
//! exists so that the clip analysis ([`crate::analysis`]), the server, `ser-predict` and
//! evaluation work with any model that maps audio to class probabilities: a model of your own,
//! an artifact whose training record is known from elsewhere, or a tiny hand-written model in
//! a unit test. Errors are this crate's typed [`ModelError`](crate::ModelError), never strings.

use ser_audio::Audio;

use crate::artifact::{Classifier, Manifest, Prediction};
use crate::error::Result;

/// A trained emotion classifier: label names, its input rate, and batched probabilities.
///
/// `Send + Sync`, so one model can be shared (in an `Arc`) by the server's workers.
///
/// ```
/// use ser_audio::Audio;
/// use ser_models::{EmotionModel, ModelError, Prediction};
///
/// /// Calls everything loud "angry".
/// struct Loudness(Vec<String>);
///
/// impl EmotionModel for Loudness {
///     fn labels(&self) -> &[String] {
///         &self.0
///     }
///     fn sample_rate(&self) -> u32 {
///         16_000
///     }
///     fn predict_batch(&self, clips: &[Audio]) -> Result<Vec<Prediction>, ModelError> {
///         clips
///             .iter()
///             .map(|c| {
///                 let loud = ser_audio::checks::rms_dbfs(&c.samples) > -20.0;
///                 let p = if loud { vec![0.1, 0.9] } else { vec![0.9, 0.1] };
///                 Prediction::from_probabilities(self.labels(), p)
///             })
///             .collect()
///     }
/// }
///
/// let model = Loudness(vec!["neutral".into(), "angry".into()]);
/// let clip = Audio::new(vec![0.5; 16_000], 16_000);
/// assert_eq!(model.predict_batch(&[clip])?[0].label, "angry");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait EmotionModel: Send + Sync {
    /// Class names, in the order of every probability vector this model returns.
    fn labels(&self) -> &[String];

    /// The sample rate (Hz) the model's features are computed at. Callers may pass audio at
    /// any rate; the clip analysis resamples once to this rate before it cuts windows.
    fn sample_rate(&self) -> u32;

    /// The class probabilities of each clip (in [`Self::labels`] order, summing to 1).
    ///
    /// # Errors
    ///
    /// [`ModelError::Input`](crate::ModelError::Input) when a clip itself is unusable (e.g.
    /// nothing is left after the model's own silence trimming): callers may then retry clip
    /// by clip to find it. Any other error is a fault of the model.
    fn predict_batch(&self, clips: &[Audio]) -> Result<Vec<Prediction>>;

    /// The artifact's manifest (labels, features, training record, metrics), when the model
    /// is an artifact; `None` (the default) for other models.
    fn manifest(&self) -> Option<&Manifest> {
        None
    }

    /// The speakers the model was trained on, when recorded (evaluation uses them to check
    /// that test speakers were never heard). Default: the manifest's record.
    fn training_speakers(&self) -> Option<Vec<String>> {
        self.manifest().and_then(Manifest::training_speakers)
    }

    /// Speakers used only for model selection (early stopping), when recorded. Default: the
    /// manifest's record.
    fn validation_speakers(&self) -> Option<Vec<String>> {
        self.manifest().and_then(Manifest::validation_speakers)
    }
}

impl EmotionModel for Classifier {
    fn labels(&self) -> &[String] {
        Classifier::labels(self)
    }

    fn sample_rate(&self) -> u32 {
        self.manifest().features.sample_rate
    }

    fn predict_batch(&self, clips: &[Audio]) -> Result<Vec<Prediction>> {
        Classifier::predict_batch(self, clips)
    }

    fn manifest(&self) -> Option<&Manifest> {
        Some(Classifier::manifest(self))
    }
}

impl<M: EmotionModel + ?Sized> EmotionModel for std::sync::Arc<M> {
    fn labels(&self) -> &[String] {
        (**self).labels()
    }

    fn sample_rate(&self) -> u32 {
        (**self).sample_rate()
    }

    fn predict_batch(&self, clips: &[Audio]) -> Result<Vec<Prediction>> {
        (**self).predict_batch(clips)
    }

    fn manifest(&self) -> Option<&Manifest> {
        (**self).manifest()
    }

    fn training_speakers(&self) -> Option<Vec<String>> {
        (**self).training_speakers()
    }

    fn validation_speakers(&self) -> Option<Vec<String>> {
        (**self).validation_speakers()
    }
}
