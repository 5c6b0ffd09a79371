//! [`ModelConfig`]: the serialisable choice of family, and [`Model`], the built network.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::cnn::{Cnn, CnnConfig};
use crate::crnn::{Crnn, CrnnConfig};
use crate::error::{ModelError, Result};
use crate::rnn::{Rnn, RnnConfig};

/// Model family and its hyper-parameters, stored in the artifact manifest as
/// `{"family": "crnn", ...fields}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "lowercase")]
pub enum ModelConfig {
    /// 2-D CNN.
    Cnn(CnnConfig),
    /// Bidirectional RNN.
    Rnn(RnnConfig),
    /// Conv front end + bidirectional RNN.
    Crnn(CrnnConfig),
}

/// The three families by name (for CLIs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// [`Cnn`].
    Cnn,
    /// [`Rnn`].
    Rnn,
    /// [`Crnn`].
    Crnn,
}

impl Family {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Cnn => "cnn",
            Self::Rnn => "rnn",
            Self::Crnn => "crnn",
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl ModelConfig {
    /// The default configuration of a family for `n_bins` feature rows and `n_classes`.
    pub fn default_for(family: Family, n_bins: usize, n_classes: usize) -> Self {
        match family {
            Family::Cnn => Self::Cnn(CnnConfig::new(n_bins, n_classes)),
            Family::Rnn => Self::Rnn(RnnConfig::new(n_bins, n_classes)),
            Family::Crnn => {
                Self::Crnn(CrnnConfig::new(n_bins, n_classes).with_strided_stem(Some(true)))
            }
        }
    }

    /// The family.
    pub fn family(&self) -> Family {
        match self {
            Self::Cnn(_) => Family::Cnn,
            Self::Rnn(_) => Family::Rnn,
            Self::Crnn(_) => Family::Crnn,
        }
    }

    /// Feature rows the model expects.
    pub fn n_bins(&self) -> usize {
        match self {
            Self::Cnn(c) => c.n_bins,
            Self::Rnn(c) => c.n_bins,
            Self::Crnn(c) => c.n_bins,
        }
    }

    /// Number of output classes.
    pub fn n_classes(&self) -> usize {
        match self {
            Self::Cnn(c) => c.n_classes,
            Self::Rnn(c) => c.n_classes,
            Self::Crnn(c) => c.n_classes,
        }
    }

    /// Smallest number of frames a clip must have (the conv stacks pool time).
    pub fn min_frames(&self) -> usize {
        match self {
            Self::Cnn(c) => 1 << c.channels.len(),
            Self::Rnn(_) => 1,
            Self::Crnn(c) => c.time_pools.iter().map(|&p| p.max(1)).product(),
        }
    }

    /// Checks sizes that would otherwise fail deep inside a layer.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| {
            Err(ModelError::Invalid {
                field: format!("model config ({})", self.family()),
                reason,
            })
        };
        if self.n_classes() < 2 {
            return bad(format!(
                "n_classes = {}; need at least 2 classes",
                self.n_classes()
            ));
        }
        let (channels, time_pools) = match self {
            Self::Cnn(c) => (&c.channels, None),
            Self::Crnn(c) => (&c.channels, Some(&c.time_pools)),
            Self::Rnn(c) => {
                if c.hidden == 0 {
                    return bad("hidden = 0".into());
                }
                return Ok(());
            }
        };
        if channels.is_empty() || channels.contains(&0) {
            return bad(format!(
                "channels {channels:?} must be non-empty and positive"
            ));
        }
        if self.n_bins() < 1 << channels.len() {
            return bad(format!(
                "{} conv blocks halve the bins {} times but the features have only {} bins",
                channels.len(),
                channels.len(),
                self.n_bins()
            ));
        }
        if let Some(tp) = time_pools
            && tp.len() != channels.len()
        {
            return bad(format!(
                "time_pools {tp:?} needs one entry per conv block ({})",
                channels.len()
            ));
        }
        Ok(())
    }

    /// Builds the network with fresh weights on `device`.
    pub fn init(&self, device: &Device) -> Model {
        match self {
            Self::Cnn(c) => Model::Cnn(c.init(device)),
            Self::Rnn(c) => Model::Rnn(c.init(device)),
            Self::Crnn(c) => Model::Crnn(c.init(device)),
        }
    }
}

/// Any of the three networks.
// One value per model: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Model {
    /// [`Cnn`].
    Cnn(Cnn),
    /// [`Rnn`].
    Rnn(Rnn),
    /// [`Crnn`].
    Crnn(Crnn),
}

impl Model {
    /// Class logits (apply softmax for probabilities).
    ///
    /// # Shapes
    /// `x: [batch, bins, frames]` (zero-padded), `lengths: batch` valid frames
    /// -> `[batch, n_classes]`
    pub fn forward(&self, x: Tensor<3>, lengths: &[usize]) -> Tensor<2> {
        match self {
            Self::Cnn(m) => m.forward(x, lengths),
            Self::Rnn(m) => m.forward(x, lengths),
            Self::Crnn(m) => m.forward(x, lengths),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn every_family_maps_a_padded_batch_to_logits() {
        let dev = Device::default();
        for family in [Family::Cnn, Family::Rnn, Family::Crnn] {
            let cfg = ModelConfig::default_for(family, 32, 8);
            cfg.validate().unwrap();
            let model = cfg.init(&dev).valid();
            let x = Tensor::<3>::random([3, 32, 50], Distribution::Normal(0.0, 1.0), &dev);
            let y = model.forward(x, &[50, 30, 9]);
            assert_eq!(y.dims(), [3, 8], "{family}");
        }
    }

    #[test]
    fn padding_does_not_change_a_prediction_of_the_cnn() {
        let dev = Device::default();
        let model = ModelConfig::default_for(Family::Cnn, 16, 4)
            .init(&dev)
            .valid();
        let x = Tensor::<3>::random([1, 16, 40], Distribution::Normal(0.0, 1.0), &dev);
        let alone = model
            .forward(x.clone(), &[40])
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let padded = Tensor::cat(vec![x, Tensor::zeros([1, 16, 24], &dev)], 2);
        let with_pad = model
            .forward(padded, &[40])
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        for (a, b) in alone.iter().zip(&with_pad) {
            assert!((a - b).abs() < 1e-4, "{alone:?} vs {with_pad:?}");
        }
    }

    #[test]
    fn config_round_trips_through_json_with_family_tag() {
        let cfg = ModelConfig::default_for(Family::Crnn, 64, 8);
        let s = serde_json::to_string(&cfg).unwrap();
        assert!(s.contains("\"family\":\"crnn\""), "{s}");
        let back: ModelConfig = serde_json::from_str(&s).unwrap();
        assert_eq!(back.family(), Family::Crnn);
        assert_eq!(back.n_bins(), 64);
    }

    #[test]
    fn too_few_bins_is_a_clear_error() {
        let err = ModelConfig::default_for(Family::Cnn, 4, 8)
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("bins"), "{err}");
    }
}
