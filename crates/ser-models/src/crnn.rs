//! Convolutional front end + bidirectional RNN over the shortened time axis.

use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;

use crate::conv::{ConvBlock, conv_stack, forward_masked, stack_output_size};
use crate::pooling::{PoolingKind, TemporalPool, TemporalPoolConfig, time_mask};
use crate::recurrent::{BiRecurrent, CellKind};

/// Configuration of [`Crnn`].
#[derive(Config, Debug)]
pub struct CrnnConfig {
    /// Feature rows per frame.
    pub n_bins: usize,
    /// Number of classes.
    pub n_classes: usize,
    /// Output channels of each conv block (each halves the bins).
    #[config(default = "vec![16, 32, 64]")]
    pub channels: Vec<usize>,
    /// Time pooling of each conv block. The default `[2, 2, 2]` shortens 300 frames (3 s) to
    /// 37 steps before the RNN: burn's recurrent layers step one frame at a time, so the RNN
    /// cost is proportional to the number of steps.
    #[config(default = "vec![2, 2, 2]")]
    pub time_pools: Vec<usize>,
    /// Downsample in the first conv block by stride instead of max-pooling (~15% faster
    /// training epoch on Flex; see [`crate::conv::ConvBlockConfig::strided`]). `None` means
    /// `false`: an `Option` so that artifacts saved before this field existed still load
    /// (burn's `Config` derive fills only `Option` fields when a key is missing);
    /// [`crate::ModelConfig::default_for`] sets `Some(true)` for new models.
    pub strided_stem: Option<bool>,
    /// Width of the linear projection from the flattened conv output to the RNN input.
    #[config(default = 128)]
    pub projection: usize,
    /// Recurrent cell.
    #[config(default = "CellKind::Gru")]
    pub cell: CellKind,
    /// Hidden units per direction.
    #[config(default = 64)]
    pub hidden: usize,
    /// Dropout before the projection and before the head.
    #[config(default = 0.3)]
    pub dropout: f64,
    /// Pooling over time.
    #[config(default = "PoolingKind::Attention")]
    pub pooling: PoolingKind,
}

impl CrnnConfig {
    /// Builds the model with freshly initialised weights.
    pub fn init(&self, device: &Device) -> Crnn {
        let c = self.channels.last().copied().unwrap_or(1);
        let (f, _) = stack_output_size(self.n_bins, 0, self.channels.len(), &self.time_pools);
        let rnn_out = 2 * self.hidden;
        Crnn {
            blocks: conv_stack(
                &self.channels,
                &self.time_pools,
                self.strided_stem.unwrap_or(false),
                device,
            ),
            projection: LinearConfig::new(c * f.max(1), self.projection).init(device),
            rnn: BiRecurrent::new(self.cell, self.projection, self.hidden, device),
            pool: TemporalPoolConfig::new(rnn_out)
                .with_kind(self.pooling)
                .init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            head: LinearConfig::new(self.pooling.output_dim(rnn_out), self.n_classes).init(device),
        }
    }
}

/// Conv blocks -> flatten (channels x bins) per step -> linear + ReLU -> BiGRU/BiLSTM ->
/// masked pooling (attention or mean+max) -> dropout -> linear.
#[derive(Module, Debug)]
pub struct Crnn {
    /// Conv front end.
    pub blocks: Vec<ConvBlock>,
    /// Per-step projection to the RNN width.
    pub projection: Linear,
    /// Recurrent layer.
    pub rnn: BiRecurrent,
    /// Pooling over time.
    pub pool: TemporalPool,
    /// Dropout.
    pub dropout: Dropout,
    /// Classifier.
    pub head: Linear,
}

impl Crnn {
    /// Class logits.
    ///
    /// # Shapes
    /// `x: [batch, bins, frames]`, `lengths: batch` -> `[batch, n_classes]`
    /// (needs `bins >= 2^blocks` and `frames >= product(time_pools)`).
    pub fn forward(&self, x: Tensor<3>, lengths: &[usize]) -> Tensor<2> {
        // [B, 1, bins, T] -> [B, C, F, T']
        let (h, lens) = forward_masked(&self.blocks, x.unsqueeze_dim::<4>(1), lengths);
        let [b, c, f, t] = h.dims();
        let h = h.permute([0, 3, 1, 2]).reshape([b, t, c * f]); // [B, T', C*F]
        let h = relu(self.projection.forward(self.dropout.forward(h))); // [B, T', P]
        let h = self.rnn.forward(h); // [B, T', 2H]
        let mask = time_mask(&lens, t, &h.device());
        let pooled = self.pool.forward(h, mask);
        self.head.forward(self.dropout.forward(pooled))
    }
}
