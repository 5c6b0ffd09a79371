//! Bidirectional LSTM/GRU over feature frames.

use burn::nn::pool::{AvgPool1d, AvgPool1dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;

use crate::pooling::{PoolingKind, TemporalPool, TemporalPoolConfig, pooled_lengths, time_mask};
use crate::recurrent::{BiRecurrent, CellKind};

/// Configuration of [`Rnn`].
#[derive(Config, Debug)]
pub struct RnnConfig {
    /// Feature rows per frame.
    pub n_bins: usize,
    /// Number of classes.
    pub n_classes: usize,
    /// Recurrent cell.
    #[config(default = "CellKind::Gru")]
    pub cell: CellKind,
    /// Hidden units per direction.
    #[config(default = 64)]
    pub hidden: usize,
    /// Average `time_pool` consecutive frames before the RNN (1 = none). burn's recurrent
    /// layers run one time step after another, so 300 steps per clip are slow; 4 frames of
    /// 10 ms still resolve syllables.
    #[config(default = 4)]
    pub time_pool: usize,
    /// Dropout before the linear head.
    #[config(default = 0.3)]
    pub dropout: f64,
    /// Pooling over time.
    #[config(default = "PoolingKind::MeanMax")]
    pub pooling: PoolingKind,
}

impl RnnConfig {
    /// Builds the model with freshly initialised weights.
    pub fn init(&self, device: &Device) -> Rnn {
        let out = 2 * self.hidden;
        Rnn {
            frame_pool: (self.time_pool > 1).then(|| AvgPool1dConfig::new(self.time_pool).init()),
            rnn: BiRecurrent::new(self.cell, self.n_bins, self.hidden, device),
            pool: TemporalPoolConfig::new(out)
                .with_kind(self.pooling)
                .init(device),
            dropout: DropoutConfig::new(self.dropout).init(),
            head: LinearConfig::new(self.pooling.output_dim(out), self.n_classes).init(device),
        }
    }
}

/// Frame averaging -> BiLSTM/BiGRU -> masked pooling -> dropout -> linear.
#[derive(Module, Debug)]
pub struct Rnn {
    /// Optional frame averaging.
    pub frame_pool: Option<AvgPool1d>,
    /// Recurrent layer.
    pub rnn: BiRecurrent,
    /// Pooling over time.
    pub pool: TemporalPool,
    /// Dropout.
    pub dropout: Dropout,
    /// Classifier.
    pub head: Linear,
}

impl Rnn {
    /// Class logits.
    ///
    /// # Shapes
    /// `x: [batch, bins, frames]`, `lengths: batch` -> `[batch, n_classes]`
    pub fn forward(&self, x: Tensor<3>, lengths: &[usize]) -> Tensor<2> {
        let frames = x.dims()[2];
        let x = match &self.frame_pool {
            // A clip shorter than one pooling window keeps its frames unpooled.
            Some(p) if frames >= p.kernel_size => p.forward(x), // [B, bins, T']
            _ => x,
        };
        let t = x.dims()[2];
        let h = self.rnn.forward(x.swap_dims(1, 2)); // [B, T', 2H]
        let mask = time_mask(&pooled_lengths(lengths, frames, t), t, &h.device());
        let pooled = self.pool.forward(h, mask);
        self.head.forward(self.dropout.forward(pooled))
    }
}
