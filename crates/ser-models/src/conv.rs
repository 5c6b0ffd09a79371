//! The 2-D convolution front end shared by the CNN and the CRNN.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::prelude::*;

/// Configuration of one [`ConvBlock`]: 3x3 conv (same padding) -> batch norm -> ReLU ->
/// max-pool `[freq_pool, time_pool]`.
#[derive(Config, Debug)]
pub struct ConvBlockConfig {
    /// Input channels.
    pub channels_in: usize,
    /// Output channels.
    pub channels_out: usize,
    /// Pooling factor along frequency (bins).
    #[config(default = 2)]
    pub freq_pool: usize,
    /// Pooling factor along time (frames).
    #[config(default = 2)]
    pub time_pool: usize,
    /// Downsample with the convolution's stride (`[freq_pool, time_pool]`, padding 1) instead
    /// of conv at full resolution + max-pool: the convolution, batch norm and ReLU then run on
    /// a quarter of the positions. For the CRNN's first block (the largest feature map) this
    /// made a one-thread ser training epoch 14-19% faster (docs/benchmarks.md).
    #[config(default = false)]
    pub strided: bool,
}

impl ConvBlockConfig {
    /// Builds the block.
    pub fn init(&self, device: &Device) -> ConvBlock {
        let pool = [self.freq_pool.max(1), self.time_pool.max(1)];
        let conv = Conv2dConfig::new([self.channels_in, self.channels_out], [3, 3]);
        let (conv, pool) = if self.strided {
            // Output ceil(n / stride) per axis (floor((n + 2 - 3) / s) + 1), so even sizes
            // shrink exactly as with max-pooling.
            let conv = conv
                .with_stride(pool)
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1));
            (conv, [1, 1])
        } else {
            (conv.with_padding(PaddingConfig2d::Same), pool)
        };
        ConvBlock {
            conv: conv.init(device),
            norm: BatchNormConfig::new(self.channels_out).init(device),
            pool: MaxPool2dConfig::new(pool).init(),
        }
    }
}

/// Conv -> BN -> ReLU -> max-pool.
#[derive(Module, Debug)]
pub struct ConvBlock {
    /// 3x3 convolution.
    pub conv: Conv2d,
    /// Batch normalisation over channels.
    pub norm: BatchNorm,
    /// Max pooling `[freq, time]`.
    pub pool: MaxPool2d,
}

impl ConvBlock {
    /// # Shapes
    /// `[batch, c_in, bins, frames]` -> `[batch, c_out, bins / freq_pool, frames / time_pool]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        crate::fastconv::conv_block(x, &self.conv, &self.norm, &self.pool)
    }
}

/// Builds a stack of blocks with the given output channels and time pooling per block
/// (frequency is always pooled by 2). `time_pools` shorter than `channels` pads with 2.
/// `strided_stem` makes the first block downsample by its conv stride (see
/// [`ConvBlockConfig::strided`]).
pub fn conv_stack(
    channels: &[usize],
    time_pools: &[usize],
    strided_stem: bool,
    device: &Device,
) -> Vec<ConvBlock> {
    let mut c_in = 1;
    channels
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let block = ConvBlockConfig::new(c_in, c)
                .with_time_pool(time_pools.get(i).copied().unwrap_or(2))
                .with_strided(strided_stem && i == 0)
                .init(device);
            c_in = c;
            block
        })
        .collect()
}

/// Output `(bins, frames)` of a stack for an input of `(bins, frames)` (floor division, as
/// max-pooling without padding).
pub fn stack_output_size(
    bins: usize,
    frames: usize,
    n_blocks: usize,
    time_pools: &[usize],
) -> (usize, usize) {
    let mut f = bins;
    let mut t = frames;
    for i in 0..n_blocks {
        // A strided first block rounds up instead of down; the models only use `f`, and
        // every bin count they accept (64, 40, 128 ...) is a multiple of 2^blocks.
        f /= 2;
        t /= time_pools.get(i).copied().unwrap_or(2).max(1);
    }
    (f, t)
}

/// Runs a stack, zeroing padded frames after every block so that padding cannot leak into
/// valid frames through the next convolution (batch norm maps zeros to non-zero values).
///
/// # Shapes
/// `x: [batch, 1, bins, frames]` -> `([batch, C, bins', frames'], valid frames' per item)`
pub fn forward_masked(
    blocks: &[ConvBlock],
    x: Tensor<4>,
    lengths: &[usize],
) -> (Tensor<4>, Vec<usize>) {
    let mut h = x;
    let mut lens = lengths.to_vec();
    let batch_padded = lengths.iter().any(|&l| l < h.dims()[3]);
    for block in blocks {
        let t_in = h.dims()[3];
        h = block.forward(h);
        let t_out = h.dims()[3];
        lens = crate::pooling::pooled_lengths(&lens, t_in, t_out);
        if batch_padded {
            let b = lens.len();
            let mask =
                crate::pooling::time_mask(&lens, t_out, &h.device()).reshape([b, 1, 1, t_out]);
            h = h * mask;
        }
    }
    (h, lens)
}
