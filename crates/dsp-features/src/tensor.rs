//! The typed feature tensors shared by every layer (features -> models -> training -> web).
//!
//! # Axis order
//! Everywhere in this workspace a feature matrix is **`[bins, frames]`**, exactly like librosa
//! (`librosa.feature.melspectrogram(...).shape == (n_mels, n_frames)`), so a `.npy` written by
//! `ser-features` compares with librosa's output without a transpose. A batch is
//! **`[batch, bins, max_frames]`**, zero-padded at the end of the time axis, with the true
//! length of every item kept in [`FeatureBatch::lengths`].

use ndarray::{Array2, Array3, Axis, Slice};
use serde::{Deserialize, Serialize};

use crate::error::{FeatureError, Result};

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

impl FeatureBatch {
    /// Stack matrices with the same number of bins into `[batch, bins, max_frames]`, zero-padding
    /// the time axis at the end. Errors on an empty list or differing bin counts.
    pub fn from_matrices(matrices: &[&FeatureMatrix]) -> Result<Self> {
        let first = matrices.first().ok_or(FeatureError::Empty {
            context: "FeatureBatch::from_matrices",
        })?;
        let bins = first.bins();
        let max_frames = matrices.iter().map(|m| m.frames()).max().unwrap_or(0);
        let mut data = Array3::<f32>::zeros((matrices.len(), bins, max_frames));
        let mut lengths = Vec::with_capacity(matrices.len());
        for (i, m) in matrices.iter().enumerate() {
            if m.bins() != bins {
                return Err(FeatureError::BinMismatch {
                    context: "FeatureBatch::from_matrices",
                    expected: bins,
                    got: m.bins(),
                });
            }
            data.index_axis_mut(Axis(0), i)
                .slice_axis_mut(Axis(1), Slice::from(0..m.frames()))
                .assign(&m.data);
            lengths.push(m.frames());
        }
        Ok(FeatureBatch { data, lengths })
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// True when the batch has no items.
    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn fm(data: Array2<f32>) -> FeatureMatrix {
        FeatureMatrix {
            data,
            meta: FeatureMeta {
                kind: FeatureKind::Mfcc,
                sample_rate: 16000,
                n_fft: 512,
                hop_length: 160,
            },
        }
    }

    #[test]
    fn from_matrices_pads_at_the_end() {
        let a = fm(array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let b = fm(array![[7.0], [8.0]]);
        let batch = FeatureBatch::from_matrices(&[&a, &b]).unwrap();
        assert_eq!(batch.data.dim(), (2, 2, 3));
        assert_eq!(batch.lengths, vec![3, 1]);
        assert_eq!(
            batch.data.index_axis(Axis(0), 1),
            array![[7.0, 0.0, 0.0], [8.0, 0.0, 0.0]]
        );
        assert_eq!(batch.data.index_axis(Axis(0), 0), a.data);
        assert_eq!(batch.len(), 2);
    }

    #[test]
    fn from_matrices_errors() {
        assert!(matches!(
            FeatureBatch::from_matrices(&[]),
            Err(FeatureError::Empty { .. })
        ));
        let a = fm(array![[1.0]]);
        let b = fm(array![[1.0], [2.0]]);
        assert!(matches!(
            FeatureBatch::from_matrices(&[&a, &b]),
            Err(FeatureError::BinMismatch {
                expected: 1,
                got: 2,
                ..
            })
        ));
    }
}
