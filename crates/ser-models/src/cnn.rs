//! 2-D CNN over the log-mel image.

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;

use crate::conv::{ConvBlock, conv_stack, forward_masked};
use crate::pooling::{PoolingKind, TemporalPool, TemporalPoolConfig, time_mask};

/// Configuration of [`Cnn`].
#[derive(Config, Debug)]
pub struct CnnConfig {
    /// Feature rows per frame (mel bands or MFCCs).
    pub n_bins: usize,
    /// Number of classes.
    pub n_classes: usize,
    /// Output channels of each conv block; every block halves bins and frames.
    #[config(default = "vec![16, 32, 64]")]
    pub channels: Vec<usize>,
    /// Dropout before the linear head.
    #[config(default = 0.3)]
    pub dropout: f64,
    /// Pooling over time.
    #[config(default = "PoolingKind::MeanMax")]
    pub pooling: PoolingKind,
}

impl CnnConfig {
    /// Builds the model with freshly initialised weights.
    pub fn init(&self, device: &Device) -> Cnn {
        let c = self.channels.last().copied().unwrap_or(1);
        let pool = TemporalPoolConfig::new(c)
            .with_kind(self.pooling)
            .init(device);
        Cnn {
            blocks: conv_stack(&self.channels, &[], false, device),
            pool,
            dropout: DropoutConfig::new(self.dropout).init(),
            head: LinearConfig::new(self.pooling.output_dim(c), self.n_classes).init(device),
        }
    }
}

/// Conv blocks (3x3, BN, ReLU, 2x2 max-pool) -> mean over frequency -> masked pooling over
/// time -> dropout -> linear.
#[derive(Module, Debug)]
pub struct Cnn {
    /// Conv blocks.
    pub blocks: Vec<ConvBlock>,
    /// Pooling over time.
    pub pool: TemporalPool,
    /// Dropout.
    pub dropout: Dropout,
    /// Classifier.
    pub head: Linear,
}

impl Cnn {
    /// Class logits.
    ///
    /// # Shapes
    /// `x: [batch, bins, frames]`, `lengths: batch` -> `[batch, n_classes]`
    pub fn forward(&self, x: Tensor<3>, lengths: &[usize]) -> Tensor<2> {
        // [B, 1, bins, T] -> [B, C, bins/2^k, T/2^k]
        let (h, lens) = forward_masked(&self.blocks, x.unsqueeze_dim::<4>(1), lengths);
        let [b, c, _f, t] = h.dims();
        let h = h.mean_dim(2).reshape([b, c, t]).swap_dims(1, 2); // [B, T', C]
        let mask = time_mask(&lens, t, &h.device());
        let pooled = self.pool.forward(h, mask);
        self.head.forward(self.dropout.forward(pooled))
    }
}
