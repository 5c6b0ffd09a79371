//! Bidirectional recurrent layers behind one type.

use burn::nn::{BiGru, BiGruConfig, BiLstm, BiLstmConfig};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Which recurrent cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    /// Long short-term memory (Hochreiter & Schmidhuber 1997).
    Lstm,
    /// Gated recurrent unit (Cho et al. 2014): fewer parameters, usually as accurate here.
    #[default]
    Gru,
}

/// A bidirectional LSTM or GRU, batch first.
// One value per model: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum BiRecurrent {
    /// BiLSTM.
    Lstm(BiLstm),
    /// BiGRU.
    Gru(BiGru),
}

impl BiRecurrent {
    /// Builds a bidirectional layer `d_input -> 2 * d_hidden`.
    pub fn new(kind: CellKind, d_input: usize, d_hidden: usize, device: &Device) -> Self {
        match kind {
            CellKind::Lstm => Self::Lstm(BiLstmConfig::new(d_input, d_hidden, true).init(device)),
            CellKind::Gru => Self::Gru(BiGruConfig::new(d_input, d_hidden, true).init(device)),
        }
    }

    /// # Shapes
    /// `[batch, time, d_input]` -> `[batch, time, 2 * d_hidden]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        match self {
            Self::Lstm(l) => l.forward(x, None).0,
            Self::Gru(g) => crate::fastconv::bi_gru(x, g),
        }
    }
}
