//! The in-memory audio type every layer of the workspace passes around.

/// Mono audio as `f32` samples in `[-1.0, 1.0]` at a known sample rate.
///
/// Every reader in this crate downmixes to mono and converts to `f32`, so later layers
/// (features, models, the web server) only ever see this one shape.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Audio {
    /// Mono samples, nominally in `[-1.0, 1.0]`.
    pub samples: Vec<f32>,
    /// Samples per second (Hz).
    pub sample_rate: u32,
}

impl Audio {
    /// Wraps mono samples at `sample_rate` Hz.
    pub fn new(samples: Vec<f32>, sample_rate: u32) -> Self {
        Self {
            samples,
            sample_rate,
        }
    }

    /// Duration in seconds (0 for an empty clip or a zero rate).
    pub fn duration_secs(&self) -> f64 {
        if self.sample_rate == 0 {
            0.0
        } else {
            self.samples.len() as f64 / f64::from(self.sample_rate)
        }
    }
}
