//! The typed feature tensors shared by every layer (features -> models -> training -> web).
//!
//! # Axis order
//! Everywhere in this workspace a feature matrix is **`[bins, frames]`**, exactly like librosa
//! (`librosa.feature.melspectrogram(...).shape == (n_mels, n_frames)`), so a `.npy` written by
//! `ser-features` compares with librosa's output without a transpose. A batch is
//! **`[batch, bins, max_frames]`**, zero-padded at the end of the time axis, with the true
//! length of every item kept in [`FeatureBatch::lengths`].

use ndarray::{Array2, Array3};
use serde::{Deserialize, Serialize};

/// What a feature matrix holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureKind {
    /// STFT power (or magnitude) spectrogram, `1 + n_fft / 2` bins.
    Stft,
    /// Log-mel spectrogram in dB (`power_to_db` of the mel power spectrogram), `n_mels` bins.
    LogMel,
    /// MFCCs (DCT-II, orthonormal, of the log-mel), `n_mfcc` bins (more with deltas).
    Mfcc,
}

/// Metadata that travels with every feature matrix so a consumer can check what it got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureMeta {
    /// What the rows are.
    pub kind: FeatureKind,
    /// Sample rate of the audio the features came from (Hz).
    pub sample_rate: u32,
    /// FFT size in samples.
    pub n_fft: usize,
    /// Hop between frames in samples.
    pub hop_length: usize,
}

/// One utterance's features, `[bins, frames]` (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    /// The values, shape `[bins, frames]`.
    pub data: Array2<f32>,
    /// How they were made.
    pub meta: FeatureMeta,
}

impl FeatureMatrix {
    /// Number of feature rows (frequency bins, mel bands or coefficients).
    pub fn bins(&self) -> usize {
        self.data.nrows()
    }

    /// Number of frames (time steps).
    pub fn frames(&self) -> usize {
        self.data.ncols()
    }
}

/// Many utterances padded to one shape: `data` is `[batch, bins, max_frames]`, zero-padded at the
/// end of the time axis; `lengths[i]` is item `i`'s true number of frames.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureBatch {
    /// Padded values, `[batch, bins, max_frames]`.
    pub data: Array3<f32>,
    /// True frame count of every item (`<= max_frames`).
    pub lengths: Vec<usize>,
}
