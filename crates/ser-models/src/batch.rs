//! From [`dsp_features::FeatureBatch`] (ndarray, host memory) to burn tensors plus lengths.
//!
//! Models take the padded features and the number of valid frames per item; every pooling
//! over time ignores frames at or beyond an item's length (see [`crate::pooling`]).

use burn::prelude::*;
use dsp_features::FeatureBatch;

use crate::error::{ModelError, Result};

/// A padded batch of feature matrices on a device.
///
/// # Shapes
/// - `features`: `[batch, bins, max_frames]` (zero-padded after each item's length)
/// - `lengths`: `batch` valid frame counts, each in `1..=max_frames`
#[derive(Debug, Clone)]
pub struct InputBatch {
    /// Padded features `[batch, bins, max_frames]`.
    pub features: Tensor<3>,
    /// Valid frames per item.
    pub lengths: Vec<usize>,
}

impl InputBatch {
    /// Copies a [`FeatureBatch`] to `device` (one contiguous upload).
    pub fn from_feature_batch(batch: &FeatureBatch, device: &Device) -> Result<Self> {
        let (b, bins, frames) = batch.data.dim();
        // `as_standard_layout` is a no-op for the usual C-ordered batch.
        let data: Vec<f32> = batch.data.as_standard_layout().iter().copied().collect();
        Self::from_raw(data, [b, bins, frames], batch.lengths.clone(), device)
    }

    /// Builds a batch from a row-major `[batch, bins, frames]` buffer.
    ///
    /// Errors when the buffer size, the number of lengths or a length is inconsistent.
    pub fn from_raw(
        data: Vec<f32>,
        shape: [usize; 3],
        lengths: Vec<usize>,
        device: &Device,
    ) -> Result<Self> {
        let [b, bins, frames] = shape;
        if b == 0 || bins == 0 || frames == 0 {
            return Err(ModelError::Input {
                reason: format!("empty batch of shape {shape:?}"),
            });
        }
        if data.len() != b * bins * frames {
            return Err(ModelError::Input {
                reason: format!(
                    "buffer has {} values, shape {shape:?} needs {}",
                    data.len(),
                    b * bins * frames
                ),
            });
        }
        if lengths.len() != b {
            return Err(ModelError::Input {
                reason: format!("{} lengths for a batch of {b}", lengths.len()),
            });
        }
        if let Some(bad) = lengths.iter().find(|&&l| l == 0 || l > frames) {
            return Err(ModelError::Input {
                reason: format!("length {bad} outside 1..={frames}"),
            });
        }
        let features = Tensor::from_data(TensorData::new(data, [b, bins, frames]), device);
        Ok(Self { features, lengths })
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    /// True when the batch has no items (never true for a batch built by this module).
    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsp_features::{FeatureConfig, FeatureExtractor};

    #[test]
    fn feature_batch_round_trips_with_lengths() {
        let ex = FeatureExtractor::new(FeatureConfig::default()).unwrap();
        let a = ex.extract(&vec![0.1f32; 1600]).unwrap();
        let b = ex.extract(&vec![0.2f32; 3200]).unwrap();
        let fb = FeatureBatch::from_matrices(&[&a, &b]).unwrap();
        let dev = Device::default();
        let ib = InputBatch::from_feature_batch(&fb, &dev).unwrap();
        assert_eq!(ib.features.dims(), [2, 64, b.frames()]);
        assert_eq!(ib.lengths, vec![a.frames(), b.frames()]);
        let v = ib.features.into_data().try_into_vec::<f32>().unwrap();
        assert_eq!(v[0], a.data[[0, 0]]);
    }

    #[test]
    fn inconsistent_raw_input_is_an_error() {
        let dev = Device::default();
        assert!(InputBatch::from_raw(vec![0.0; 5], [1, 2, 3], vec![3], &dev).is_err());
        assert!(InputBatch::from_raw(vec![0.0; 6], [1, 2, 3], vec![4], &dev).is_err());
        assert!(InputBatch::from_raw(vec![0.0; 6], [1, 2, 3], vec![], &dev).is_err());
    }
}
