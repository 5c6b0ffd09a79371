//! `--freeze-conv`: the convolutional blocks of a CNN or CRNN take no part in training.

use burn::module::Module;
use ser_models::Model;
use ser_models::conv::ConvBlock;

use crate::error::{Result, TrainError};

/// `model` with its convolutional blocks frozen by burn's `Module::freeze`: their parameters
/// (kernels, biases, batch-norm scale and shift) stop requiring gradients, so the optimiser
/// never updates them, and their batch norms leave training mode, so they normalise with the
/// running statistics they have and never update them. The flag is not stored in weight
/// files: a model loaded from a checkpoint is frozen again by the trainer. An RNN has no
/// convolutional layers and is returned as it is.
pub fn freeze_conv(model: Model) -> Model {
    let freeze = |blocks: Vec<ConvBlock>| blocks.into_iter().map(Module::freeze).collect();
    match model {
        Model::Cnn(mut m) => {
            m.blocks = freeze(m.blocks);
            Model::Cnn(m)
        }
        Model::Crnn(mut m) => {
            m.blocks = freeze(m.blocks);
            Model::Crnn(m)
        }
        rnn @ Model::Rnn(_) => rnn,
    }
}

/// Every value the convolutional blocks hold (per block: the kernel, the bias, batch norm's
/// scale, shift, running mean and running variance), flattened in that order; empty for an
/// RNN. For checking that a frozen model's blocks are bit for bit its parent's.
///
/// # Errors
///
/// A tensor the backend cannot read back.
pub fn conv_parameters(model: &Model) -> Result<Vec<Vec<f32>>> {
    let blocks = match model {
        Model::Cnn(m) => &m.blocks,
        Model::Crnn(m) => &m.blocks,
        Model::Rnn(_) => return Ok(Vec::new()),
    };
    let read = |t: burn::Tensor<1>| {
        t.into_data()
            .try_to_vec_as::<f32>()
            .map_err(|e| TrainError::config("backend", format!("unreadable tensor: {e:?}")))
    };
    let mut out = Vec::new();
    for b in blocks {
        out.push(read(b.conv.weight.val().flatten(0, 3))?);
        if let Some(bias) = &b.conv.bias {
            out.push(read(bias.val())?);
        }
        out.push(read(b.norm.gamma.val())?);
        out.push(read(b.norm.beta.val())?);
        out.push(read(b.norm.running_mean.value())?);
        out.push(read(b.norm.running_var.value())?);
    }
    Ok(out)
}
