//! The answer for one clip: the JSON body of `ser-web`'s `POST /api/predict` and of
//! `ser-predict --format json` (docs/web.md documents every field).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::vad::VoiceActivity;

/// One window of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// Start, seconds from the beginning of the clip.
    pub start_secs: f64,
    /// End (exclusive), seconds.
    pub end_secs: f64,
    /// Most probable emotion; `None` when the window was not classified (silent, no speech,
    /// or refused by the model).
    pub emotion: Option<String>,
    /// Probability of `emotion`.
    pub confidence: Option<f32>,
    /// Label -> probability (empty when not classified).
    pub probabilities: BTreeMap<String, f32>,
    /// The window is below the silence level and was not classified.
    pub silence: bool,
    /// The speech detector heard speech in the window (always `true` with the detector off).
    pub speech: bool,
    /// Why a window has no emotion (no speech and why, or the model refused it); absent
    /// otherwise and for silent windows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The answer for one clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Most probable emotion; `None` (JSON `null`) for silence or no speech.
    pub emotion: Option<String>,
    /// Probability of `emotion` (users may ignore answers below a threshold of their own).
    pub confidence: Option<f32>,
    /// Label -> probability; empty for silence or no speech.
    pub probabilities: BTreeMap<String, f32>,
    /// The model's labels in its own order (the order the page draws bars in).
    pub labels: Vec<String>,
    /// True when the clip (or, for a timeline, at least one window) holds speech and was
    /// classified; false for silence and for sounds that are not speech.
    pub speech: bool,
    /// True when the whole clip is below the silence level.
    pub silence: bool,
    /// A human-readable note: why there is no emotion, or how a long clip's answer was formed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Clip length in seconds.
    pub duration_secs: f64,
    /// The clip's own sample rate (before resampling to the model's).
    pub sample_rate: u32,
    /// RMS level of the clip in dBFS (`None` for digital silence).
    pub rms_dbfs: Option<f32>,
    /// What the speech detector measured on the whole clip (absent for silence or with the
    /// detector off); for a timeline, each window is judged on its own (`segments[].speech`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<VoiceActivity>,
    /// Timeline windows (empty for short clips).
    pub segments: Vec<Segment>,
    /// What the user should know about the input, e.g. "12 of 170 MP3 frames are damaged and
    /// were skipped" (absent when there is nothing to say).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}
