//! TEMPORARY test model until `ser_models::artifact` lands: a deterministic function of the
//! clip's loudness and zero-crossing rate, so the HTTP layer can be exercised end to end.
//! Replaced by a real artifact built with ser-models' API.

use std::sync::Arc;

use ravdess_loader::Audio;
use ser_web::EmotionModel;

struct ZcrModel {
    labels: Vec<String>,
}

impl EmotionModel for ZcrModel {
    fn labels(&self) -> &[String] {
        &self.labels
    }
    fn sample_rate(&self) -> u32 {
        16_000
    }
    fn predict_batch(&self, clips: &[Audio]) -> ser_web::Result<Vec<Vec<f32>>> {
        Ok(clips
            .iter()
            .map(|a| {
                let n = a.samples.len().max(1) as f32;
                let zcr = a
                    .samples
                    .windows(2)
                    .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
                    .count() as f32
                    / n;
                let rms = (a.samples.iter().map(|s| s * s).sum::<f32>() / n).sqrt();
                let logits: Vec<f32> = (0..self.labels.len())
                    .map(|i| ((i as f32 + 1.0) * (zcr * 10.0 + rms)).sin())
                    .collect();
                let m = logits.iter().cloned().fold(f32::MIN, f32::max);
                let e: Vec<f32> = logits.iter().map(|l| (l - m).exp()).collect();
                let s: f32 = e.iter().sum();
                e.into_iter().map(|x| x / s).collect()
            })
            .collect())
    }
    fn describe(&self) -> serde_json::Value {
        serde_json::json!({ "labels": self.labels })
    }
}

/// The model every test uses, and its labels.
pub fn test_model() -> Arc<dyn EmotionModel> {
    Arc::new(ZcrModel {
        labels: ravdess_loader::Emotion::ALL
            .iter()
            .map(|e| e.name().to_string())
            .collect(),
    })
}
