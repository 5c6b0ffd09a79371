//! [`AnalysisConfig`]: how a clip is judged and cut; one default for every tool.

use serde::{Deserialize, Serialize};

use super::vad::VadConfig;
use crate::error::{ModelError, Result};

/// How a clip is analysed. [`AnalysisConfig::default`] is what `ser-web` and `ser-predict`
/// use unless told otherwise (the server adds a duration limit).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalysisConfig {
    /// Window length in seconds; windows overlap by half (hop = `segment_secs / 2`).
    ///
    /// 3 s by default: RAVDESS utterances, which the models are trained on, last 3-5 s.
    pub segment_secs: f64,
    /// Clips longer than this get a timeline and their overall answer is the mean of the
    /// speech windows' probabilities; shorter clips are classified whole. 6 s by default (two
    /// RAVDESS utterances); `f64::INFINITY` = never, `0` = always.
    pub timeline_after_secs: f64,
    /// Refuse clips longer than this many seconds (`None`, the default, = no limit).
    pub max_duration_secs: Option<f64>,
    /// The speech detector's thresholds; `None` classifies whatever it is given (for models
    /// of non-speech sounds, or tests of the windowing with a toy model).
    pub vad: Option<VadConfig>,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self {
            segment_secs: 3.0,
            timeline_after_secs: 6.0,
            max_duration_secs: None,
            vad: Some(VadConfig::default()),
        }
    }
}

impl AnalysisConfig {
    /// Checks the settings.
    ///
    /// # Errors
    ///
    /// [`ModelError::Invalid`] naming the field: a window that is not a positive number of
    /// seconds, a negative or NaN `timeline_after_secs`, a duration limit that is not
    /// positive, or a VAD threshold out of range.
    pub fn validate(&self) -> Result<()> {
        let invalid = |field: &str, reason: String| {
            Err(ModelError::Invalid {
                field: field.into(),
                reason,
            })
        };
        if !(self.segment_secs.is_finite() && self.segment_secs > 0.0) {
            return invalid(
                "segment_secs",
                format!("{} is not a positive number of seconds", self.segment_secs),
            );
        }
        if self.timeline_after_secs.is_nan() || self.timeline_after_secs < 0.0 {
            return invalid(
                "timeline_after_secs",
                format!("{} is not a duration", self.timeline_after_secs),
            );
        }
        if let Some(max) = self.max_duration_secs
            && (max.is_nan() || max <= 0.0)
        {
            return invalid(
                "max_duration_secs",
                format!("{max} is not a positive number of seconds"),
            );
        }
        match &self.vad {
            Some(v) => v.validate(),
            None => Ok(()),
        }
    }
}
