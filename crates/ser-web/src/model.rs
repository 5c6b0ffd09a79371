//! What the server and `ser-predict` need from a model, as a small trait.
//!
//! The only implementation shipped is `ser_models::artifact::Classifier` (see
//! [`crate::load_model`]); the trait exists so the HTTP layer and the timeline logic do not
//! depend on burn's types, and so they can be unit-tested with a tiny hand-written model.

use ser_audio::Audio;

use crate::error::Result;

/// A trained emotion classifier: label names, its input rate, and batched probabilities.
pub trait EmotionModel: Send + Sync {
    /// Class names, in the order of every probability vector this model returns.
    fn labels(&self) -> &[String];

    /// The sample rate (Hz) the model's features are computed at; audio is resampled to it once,
    /// before it is cut into timeline windows.
    fn sample_rate(&self) -> u32;

    /// Class probabilities for each clip (each vector sums to 1, in [`Self::labels`] order).
    fn predict_batch(&self, clips: &[Audio]) -> Result<Vec<Vec<f32>>>;

    /// What `GET /api/model` answers: labels, feature config, training metrics, ... as JSON.
    fn describe(&self) -> serde_json::Value;
}
