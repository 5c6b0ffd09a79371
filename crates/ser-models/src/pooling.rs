//! Pooling over time that ignores padded frames.
//!
//! Padded frames must not leak into the clip embedding: a clip padded to the longest clip in
//! its batch would otherwise get a different prediction than the same clip alone. Every pool
//! here takes a `[batch, time]` mask of ones (valid) and zeros (padding).

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use serde::{Deserialize, Serialize};

/// A large negative logit for masked frames: exp(-1e4) underflows to 0 in f32, while
/// the value stays far from f32::MIN so sums never overflow.
const MASK_NEG: f32 = -1.0e4;

/// How a model summarises a sequence `[batch, time, channels]` into `[batch, channels']`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PoolingKind {
    /// Masked mean over valid frames (`channels' = channels`).
    Mean,
    /// Masked mean and masked max, concatenated (`channels' = 2 * channels`).
    #[default]
    MeanMax,
    /// Additive attention (one learned score per frame, masked softmax over time) giving a
    /// weighted mean, concatenated with the masked max (`channels' = 2 * channels`).
    Attention,
}

impl PoolingKind {
    /// Output width for `channels` input channels.
    pub fn output_dim(self, channels: usize) -> usize {
        match self {
            Self::Mean => channels,
            Self::MeanMax | Self::Attention => 2 * channels,
        }
    }
}

/// Frame counts after a model shortened `t_in` frames to `t_out`: an output frame is valid
/// when it covers at least one valid input frame, i.e. `ceil(len * t_out / t_in)`, clamped to
/// `1..=t_out` so every item keeps one frame.
pub fn pooled_lengths(lengths: &[usize], t_in: usize, t_out: usize) -> Vec<usize> {
    lengths
        .iter()
        .map(|&l| (l * t_out).div_ceil(t_in.max(1)).clamp(1, t_out.max(1)))
        .collect()
}

/// `[batch, time]` mask: 1.0 for frames `< lengths[b]`, else 0.0.
pub fn time_mask(lengths: &[usize], time: usize, device: &Device) -> Tensor<2> {
    let mut m = vec![0.0f32; lengths.len() * time];
    for (b, &l) in lengths.iter().enumerate() {
        m[b * time..b * time + l.min(time)].fill(1.0);
    }
    Tensor::from_data(TensorData::new(m, [lengths.len(), time]), device)
}

/// Masked mean over time.
///
/// # Shapes
/// `x: [batch, time, channels]`, `mask: [batch, time]` -> `[batch, channels]`
pub fn masked_mean(x: Tensor<3>, mask: Tensor<2>) -> Tensor<2> {
    let m = mask.unsqueeze_dim::<3>(2); // [B, T, 1]
    let count = m.clone().sum_dim(1).clamp_min(1.0); // [B, 1, 1]
    (x * m).sum_dim(1).div(count).squeeze_dim(1)
}

/// Masked max over time.
///
/// # Shapes
/// `x: [batch, time, channels]`, `mask: [batch, time]` -> `[batch, channels]`
pub fn masked_max(x: Tensor<3>, mask: Tensor<2>) -> Tensor<2> {
    let m = mask.unsqueeze_dim::<3>(2);
    // Padding gets a huge negative offset so it never wins the max.
    let offset = (m - 1.0) * (-MASK_NEG);
    (x + offset).max_dim(1).squeeze_dim(1)
}

/// Configuration of [`TemporalPool`].
#[derive(Config, Debug)]
pub struct TemporalPoolConfig {
    /// Channels of the input sequence.
    pub channels: usize,
    /// Pooling kind.
    #[config(default = "PoolingKind::MeanMax")]
    pub kind: PoolingKind,
}

impl TemporalPoolConfig {
    /// Builds the pool (a `channels -> 1` scoring layer for attention).
    pub fn init(&self, device: &Device) -> TemporalPool {
        TemporalPool {
            attention: (self.kind == PoolingKind::Attention)
                .then(|| LinearConfig::new(self.channels, 1).init(device)),
            kind: self.kind,
        }
    }
}

/// Masked pooling over time (see [`PoolingKind`]).
#[derive(Module, Debug)]
pub struct TemporalPool {
    /// Frame scorer for attention pooling.
    pub attention: Option<Linear>,
    /// Which pooling.
    #[module(skip)]
    pub kind: PoolingKind,
}

impl TemporalPool {
    /// Pools valid frames.
    ///
    /// # Shapes
    /// `x: [batch, time, channels]`, `mask: [batch, time]` -> `[batch, kind.output_dim(channels)]`
    pub fn forward(&self, x: Tensor<3>, mask: Tensor<2>) -> Tensor<2> {
        match (&self.attention, self.kind) {
            (Some(score), PoolingKind::Attention) => {
                let s = score.forward(x.clone()).squeeze_dim::<2>(2); // [B, T]
                let s = s + (mask.clone() - 1.0) * (-MASK_NEG);
                let w = softmax(s, 1).unsqueeze_dim::<3>(2); // [B, T, 1]
                let att = (x.clone() * w).sum_dim(1).squeeze_dim(1); // [B, C]
                Tensor::cat(vec![att, masked_max(x, mask)], 1)
            }
            (_, PoolingKind::Mean) => masked_mean(x, mask),
            _ => Tensor::cat(
                vec![masked_mean(x.clone(), mask.clone()), masked_max(x, mask)],
                1,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(dev: &Device) -> Tensor<3> {
        // batch 2, time 3, channels 1: [1, 2, 100] and [4, 5, 6]
        Tensor::from_data(
            TensorData::new(vec![1.0f32, 2.0, 100.0, 4.0, 5.0, 6.0], [2, 3, 1]),
            dev,
        )
    }

    #[test]
    fn padding_is_ignored_by_mean_and_max() {
        let dev = Device::default();
        let mask = time_mask(&[2, 3], 3, &dev);
        let mean = masked_mean(seq(&dev), mask.clone())
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert_eq!(mean, vec![1.5, 5.0]);
        let max = masked_max(seq(&dev), mask)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert_eq!(max, vec![2.0, 6.0]);
    }

    #[test]
    fn attention_weights_skip_padding() {
        let dev = Device::default();
        let pool = TemporalPoolConfig::new(1)
            .with_kind(PoolingKind::Attention)
            .init(&dev);
        let out = pool
            .forward(seq(&dev), time_mask(&[2, 3], 3, &dev))
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        // weighted mean of [1, 2] must lie in [1, 2] whatever the learned score is
        assert!((1.0..=2.0).contains(&out[0]), "{out:?}");
        assert_eq!(out[1], 2.0);
    }

    #[test]
    fn pooled_lengths_round_up_and_clamp() {
        assert_eq!(
            pooled_lengths(&[300, 150, 1, 0], 300, 75),
            vec![75, 38, 1, 1]
        );
    }
}
