//! Faster layers for burn's Flex CPU backend: the conv blocks' convolution, training-mode
//! batch norm and non-overlapping max pool, forward and backward; and for inference a fused
//! conv block ([`conv_block`]) and a BiGRU on slices ([`bi_gru`]).
//!
//! Training a CRNN on a CPU spends most of its time in the convolutions' backward pass. burn
//! Flex 0.22.1 computes the weight gradient as a convolution whose kernel is the whole output
//! gradient (a GEMM only `kh * kw` columns wide); [`kernel`] computes it as Caffe and PyTorch's
//! CPU fallback do, one well-shaped GEMM per image on its patch matrix, which reuses that
//! patch matrix for the input gradient. On the reference CRNN's layers (batch 32, one thread)
//! that takes forward + backward from 469 to 230 ms (32->64 channels on 32x150), 309 to 207 ms
//! and 135 to 106 ms (`cargo bench -p ser-models --bench fastconv`, docs/benchmarks.md).
//!
//! [`conv2d`] is the entry point: it takes a burn [`Conv2d`] module and runs it through this
//! kernel when the tensors are f32 on Flex (with or without autodiff) and the layer is a plain
//! convolution (no groups, no dilation, symmetric padding); anything else goes to burn's own
//! `Conv2d::forward`, so every backend keeps working.
//!
//! Inference (no autodiff) is batch-1 latency bound rather than training's throughput: there
//! [`conv_block`] runs convolution, batch norm (running statistics), ReLU and max pool as one
//! banded pass ([`kernel::conv2d_block_inference`]), and [`bi_gru`] replaces burn's step-wise
//! GRU ([`gru`]). Together with the artifact's aligned weight read they took load + predict
//! of a 4 s clip with the shipped ensemble from 152.9 to 75.0 ms on one core of a CPU without
//! AVX-512 (docs/benchmarks.md, 2026-12-02).
//!
//! [`set_enabled`]`(false)` sends everything to burn's ops for the rest of the process: runs
//! trained before these kernels existed (the `models/default` shipped until 2026-12-01
//! among them) are reproduced bit for bit only that way, since the kernels sum in a different order
//! (`ser-train --burn-ops`). It stays a process-wide switch (issue 26 asked for a per-call or
//! per-classifier option "if small"): the kernels are chosen inside the layers' `forward`,
//! which burn calls without options, so a per-model flag would be a new field of every conv
//! and recurrent module of the three families (their records change) threaded through every
//! `forward`; a thread-local would not reach the rayon threads a classifier's members run on;
//! and its one user, a training run, sets it once before anything runs.
//!
//! ```
//! use burn::nn::conv::Conv2dConfig;
//! use burn::nn::PaddingConfig2d;
//! use burn::prelude::*;
//!
//! let device = Device::flex();
//! let conv = Conv2dConfig::new([2, 4], [3, 3])
//!     .with_padding(PaddingConfig2d::Same)
//!     .init(&device);
//! let x = Tensor::<4>::ones([1, 2, 8, 10], &device);
//! let y = ser_models::fastconv::conv2d(x.clone(), &conv);
//! let reference = conv.forward(x);
//! assert!(y.sub(reference).abs().max().into_scalar::<f32>() < 1e-5);
//! ```

#[cfg(feature = "flex-conv")]
mod backend;
pub mod gru;
pub mod kernel;
pub mod norm;
pub mod pool;

#[cfg(feature = "flex-conv")]
use burn::backend::{Dispatch, DispatchDevice};
use burn::nn::BatchNorm;
use burn::nn::BiGru;
#[cfg(feature = "flex-conv")]
use burn::nn::PaddingConfig2d;
#[cfg(feature = "flex-conv")]
use burn::nn::activation::Activation;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
#[cfg(feature = "flex-conv")]
use burn::nn::{GateController, Gru, Linear};
use burn::prelude::*;
#[cfg(feature = "flex-conv")]
use burn::tensor::DType;
use burn::tensor::activation::relu;

#[cfg(feature = "flex-conv")]
pub use backend::GemmConv2dBackend;

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether [`conv2d`], [`batch_norm`] and [`max_pool2d`] may use ser's kernels.
static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns ser's kernels on (the default) or off for the whole process; off, every layer runs
/// burn's own op. Meant to be set once, before a model runs (ser-train's `--burn-ops`).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether ser's kernels are on (see [`set_enabled`]); without the `flex-conv` feature they
/// are never used.
pub fn is_enabled() -> bool {
    cfg!(feature = "flex-conv") && ENABLED.load(Ordering::Relaxed)
}

/// The symmetric zero padding `[rows, columns]` of `conv`, or `None` when it has none
/// (`Same` with an even kernel or a stride pads unequally; so can `Explicit`).
#[cfg(feature = "flex-conv")]
fn symmetric_padding(conv: &Conv2d) -> Option<[usize; 2]> {
    let [kh, kw] = conv.kernel_size;
    match conv.padding {
        PaddingConfig2d::Valid => Some([0, 0]),
        PaddingConfig2d::Same if conv.stride == [1, 1] && kh % 2 == 1 && kw % 2 == 1 => {
            Some([(kh - 1) / 2, (kw - 1) / 2])
        }
        PaddingConfig2d::Explicit(top, left, bottom, right) if top == bottom && left == right => {
            Some([top, left])
        }
        _ => None,
    }
}

/// What [`kernel`] needs to run `conv` on `x` (its geometry, with the symmetric padding, and
/// the bias), or `None` when it cannot: not f32 on Flex (autodiff or not), not a plain layer,
/// or a geometry the kernel rejects ([`kernel::ConvGeometry::is_valid`]).
#[cfg(feature = "flex-conv")]
fn kernel_args(x: &Tensor<4>, conv: &Conv2d) -> Option<(kernel::ConvGeometry, Tensor<1>)> {
    let bias = conv.bias.as_ref()?.val();
    let weight = conv.weight.val();
    if conv.groups != 1 || conv.dilation != [1, 1] || !kernels_take(x) || !kernels_take(&weight) {
        return None;
    }
    let padding = symmetric_padding(conv)?;
    let ([batch, c_in, h, w], [c_out, _, kh, kw]) = (x.dims(), weight.dims());
    let geometry = kernel::ConvGeometry {
        batch,
        c_in,
        h,
        w,
        c_out,
        kh,
        kw,
        stride: conv.stride,
        padding,
    };
    geometry.is_valid().then_some((geometry, bias))
}

/// `conv.forward(x)`, through [`kernel`] where it applies (see the module docs).
///
/// # Shapes
/// `[batch, c_in, h, w]` -> `[batch, c_out, oh, ow]`, as [`Conv2d::forward`].
pub fn conv2d(x: Tensor<4>, conv: &Conv2d) -> Tensor<4> {
    #[cfg(feature = "flex-conv")]
    if let Some((geometry, bias)) = kernel_args(&x, conv) {
        let y = <Dispatch as GemmConv2dBackend>::gemm_conv2d(
            x.into_dispatch(),
            conv.weight.val().into_dispatch(),
            bias.into_dispatch(),
            conv.stride,
            geometry.padding,
        );
        return Tensor::from_dispatch(y);
    }
    conv.forward(x)
}

/// Whether ser's kernels take `x`: they are enabled and `x` is f32 on Flex (with or without
/// autodiff).
#[cfg(feature = "flex-conv")]
fn kernels_take<const D: usize>(x: &Tensor<D>) -> bool {
    is_enabled()
        && matches!(x.device().inner().as_dispatch(), DispatchDevice::Flex(_))
        && x.dtype() == DType::F32
}

/// `norm.forward(x)`, with the training-mode pass through [`norm`] on Flex.
///
/// Training mode is burn's own test (an autodiff device and the layer's training flag); the
/// running statistics are updated exactly as `BatchNorm::forward` does (momentum-weighted,
/// from the batch's mean and biased variance). Inference uses burn's `forward` unchanged.
pub fn batch_norm(x: Tensor<4>, norm: &BatchNorm) -> Tensor<4> {
    #[cfg(feature = "flex-conv")]
    if x.device().is_autodiff() && norm.training.is_enabled() && kernels_take(&x) {
        let (y, mean, var) = <Dispatch as GemmConv2dBackend>::fast_batch_norm_train(
            x.into_dispatch(),
            norm.gamma.val().into_dispatch(),
            norm.beta.val().into_dispatch(),
            norm.epsilon,
        );
        let (mean, var) = (
            Tensor::<1>::from_dispatch(mean),
            Tensor::<1>::from_dispatch(var),
        );
        let device = mean.device();
        let update = |old: Tensor<1>, batch: Tensor<1>| {
            old.to_device(&device)
                .mul_scalar(1.0 - norm.momentum)
                .add(batch.detach().mul_scalar(norm.momentum))
                .detach()
        };
        norm.running_mean
            .update(update(norm.running_mean.value_sync(), mean));
        norm.running_var
            .update(update(norm.running_var.value_sync(), var));
        return Tensor::from_dispatch(y);
    }
    norm.forward(x)
}

/// Whether `pool`'s windows do not overlap (stride = kernel, no padding, no dilation, floor
/// mode), as the conv blocks' pools are, and fit an input of `[h, w]` at least once.
#[cfg(feature = "flex-conv")]
fn plain_pool([h, w]: [usize; 2], pool: &MaxPool2d) -> bool {
    pool.stride == pool.kernel_size
        && pool.dilation == [1, 1]
        && !pool.ceil_mode
        && matches!(pool.padding, PaddingConfig2d::Valid)
        && h >= pool.kernel_size[0]
        && w >= pool.kernel_size[1]
}

/// `pool.forward(x)`, through [`pool`] on Flex when the windows do not overlap (stride =
/// kernel, no padding, no dilation, floor mode), as the conv blocks' pools are.
pub fn max_pool2d(x: Tensor<4>, pool: &MaxPool2d) -> Tensor<4> {
    #[cfg(feature = "flex-conv")]
    {
        let [_, _, h, w] = x.dims();
        if plain_pool([h, w], pool) && kernels_take(&x) {
            let y = <Dispatch as GemmConv2dBackend>::fast_max_pool2d(
                x.into_dispatch(),
                pool.kernel_size,
            );
            return Tensor::from_dispatch(y);
        }
    }
    pool.forward(x)
}

/// A conv block outside autodiff: `max_pool2d(relu(batch_norm(conv2d(x))))`, fused into one
/// pass over the image on Flex ([`kernel::conv2d_block_inference`]) when each layer is one
/// the kernels take; otherwise those three functions in turn.
///
/// Fusing matters for batch-1 inference: run layer by layer, the batch norm, ReLU and pool
/// each read and write the whole un-pooled feature map, and the patch matrix of the second
/// block does not fit in cache.
pub fn conv_block(x: Tensor<4>, conv: &Conv2d, norm: &BatchNorm, pool: &MaxPool2d) -> Tensor<4> {
    #[cfg(feature = "flex-conv")]
    if !x.device().is_autodiff()
        && let Some((geometry, bias)) = kernel_args(&x, conv)
        // The pool applies to the convolution's output.
        && plain_pool([geometry.out_h(), geometry.out_w()], pool)
    {
        let device = x.device();
        let mean = norm.running_mean.value().to_device(&device);
        let var = norm.running_var.value().to_device(&device);
        // burn's inference batch norm: (y - mean) / sqrt(var + eps) * gamma + beta, with
        // y = conv + bias.
        let scale = norm.gamma.val() / var.add_scalar(norm.epsilon).sqrt();
        let shift = norm.beta.val() + (bias - mean) * scale.clone();
        let y = <Dispatch as GemmConv2dBackend>::fast_conv_block_inference(
            x.into_dispatch(),
            conv.weight.val().into_dispatch(),
            scale.into_dispatch(),
            shift.into_dispatch(),
            (conv.stride, geometry.padding),
            pool.kernel_size,
        );
        return Tensor::from_dispatch(y);
    }
    let y = relu(batch_norm(conv2d(x, conv), norm));
    max_pool2d(y, pool)
}

/// `gru.forward(x, None).0` outside autodiff, through [`gru::bigru_inference`] on Flex when
/// both directions are burn's default cell (reset after the product, sigmoid gates, tanh
/// candidate, no clipping) and the layer is batch first; otherwise burn's own.
///
/// # Shapes
/// `[batch, time, d_input]` -> `[batch, time, 2 * d_hidden]`
pub fn bi_gru(x: Tensor<3>, gru: &BiGru) -> Tensor<3> {
    #[cfg(feature = "flex-conv")]
    if !x.device().is_autodiff()
        && kernels_take(&x)
        && gru.batch_first
        && default_cell(&gru.forward)
        && default_cell(&gru.reverse)
        && gru.forward.d_hidden == gru.reverse.d_hidden
    {
        let (fwd, rev) = (gru_weights(&gru.forward), gru_weights(&gru.reverse));
        // Always `Some` for f32 tensors, which `kernels_take` checked.
        if let (Some(fwd), Some(rev), Some(data)) = (fwd, rev, to_vec(x.clone())) {
            let [batch, time, d_input] = x.dims();
            let hidden = gru.forward.d_hidden;
            let y = gru::bigru_inference(&data, [batch, time, d_input], hidden, [&fwd, &rev]);
            return Tensor::from_data(TensorData::new(y, [batch, time, 2 * hidden]), &x.device());
        }
    }
    gru.forward(x, None).0
}

/// Whether `cell` computes [`gru`]'s equations.
#[cfg(feature = "flex-conv")]
fn default_cell(cell: &Gru) -> bool {
    cell.reset_after
        && cell.clip.is_none()
        && matches!(cell.gate_activation, Activation::Sigmoid(_))
        && matches!(cell.hidden_activation, Activation::Tanh(_))
}

/// The elements of `t` in row-major order, or `None` when they are not f32.
#[cfg(feature = "flex-conv")]
fn to_vec<const D: usize>(t: Tensor<D>) -> Option<Vec<f32>> {
    t.into_data().try_into_vec::<f32>().ok()
}

/// One direction's weights in [`gru::GruWeights`]'s layout (a missing bias is zero).
#[cfg(feature = "flex-conv")]
fn gru_weights(cell: &Gru) -> Option<gru::GruWeights> {
    let gates = [&cell.update_gate, &cell.reset_gate, &cell.new_gate];
    let cat = |part: fn(&GateController) -> &Linear| {
        let weight = Tensor::cat(gates.iter().map(|g| part(g).weight.val()).collect(), 1);
        let bias = gates
            .iter()
            .map(|g| {
                let l = part(g);
                l.bias
                    .as_ref()
                    .map(|b| b.val())
                    .unwrap_or_else(|| Tensor::zeros([l.weight.dims()[1]], &l.weight.device()))
            })
            .collect();
        (weight, Tensor::cat(bias, 0))
    };
    let (input, input_bias) = cat(|g| &g.input_transform);
    let (hidden, hidden_bias) = cat(|g| &g.hidden_transform);
    Some(gru::GruWeights {
        input: to_vec(input)?,
        input_bias: to_vec(input_bias)?,
        hidden_t: to_vec(hidden.transpose())?,
        hidden_bias: to_vec(hidden_bias)?,
    })
}

/// `n` values in [-0.5, 0.5) from a small LCG: deterministic test inputs for the slice
/// kernels, without a dependency.
#[cfg(test)]
pub(crate) fn test_values(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2654435761).wrapping_add(1);
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1664525).wrapping_add(1013904223);
            (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        })
        .collect()
}

#[cfg(all(test, feature = "flex-conv"))]
mod tests {
    use super::*;
    use burn::nn::conv::Conv2dConfig;
    use burn::tensor::Distribution;

    /// f32 sums of a few hundred products of N(0, 1) inputs and small weights, computed in a
    /// different order by burn's kernel and ours: 1e-4 absolute is ~10x the spread we see.
    const TOL: f32 = 1e-4;

    fn max_abs_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
        a.sub(b).abs().max().into_scalar::<f32>()
    }

    fn layers(device: &Device) -> Vec<Conv2d> {
        vec![
            Conv2dConfig::new([3, 5], [3, 3])
                .with_padding(PaddingConfig2d::Same)
                .init(device),
            Conv2dConfig::new([1, 4], [3, 3])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            Conv2dConfig::new([2, 3], [1, 5])
                .with_padding(PaddingConfig2d::Valid)
                .init(device),
        ]
    }

    #[test]
    fn forward_and_gradients_match_burn_conv2d_on_autodiff_flex() {
        let device = Device::flex().autodiff();
        for conv in layers(&device) {
            let c_in = conv.weight.dims()[1];
            let x = Tensor::<4>::random([3, c_in, 9, 13], Distribution::Normal(0.0, 1.0), &device)
                .require_grad();
            assert!(
                kernel_args(&x, &conv).is_some(),
                "{:?} should use the kernel",
                conv.padding
            );
            // A loss that is not linear in y, so dy varies per position.
            let ours = conv2d(x.clone(), &conv);
            let theirs = conv.forward(x.clone());
            assert!(max_abs_diff(ours.clone(), theirs.clone()) < TOL);
            let g_ours = ours.powi_scalar(2).sum().backward();
            let g_theirs = theirs.powi_scalar(2).sum().backward();
            let grad = |g: &burn::tensor::Gradients| {
                (
                    x.grad(g).expect("x grad"),
                    conv.weight.grad(g).expect("weight grad"),
                    conv.bias
                        .as_ref()
                        .expect("bias")
                        .grad(g)
                        .expect("bias grad"),
                )
            };
            let (dx_o, dw_o, db_o) = grad(&g_ours);
            let (dx_t, dw_t, db_t) = grad(&g_theirs);
            // Weight and bias gradients sum over every position of 3 images: scale the
            // tolerance by the number of terms.
            assert!(max_abs_diff(dx_o, dx_t) < TOL, "dx, {:?}", conv.padding);
            assert!(
                max_abs_diff(dw_o, dw_t) < TOL * 30.0,
                "dw, {:?}",
                conv.padding
            );
            assert!(
                max_abs_diff(db_o, db_t) < TOL * 30.0,
                "db, {:?}",
                conv.padding
            );
        }
    }

    #[test]
    fn inference_on_flex_matches_burn_conv2d() {
        let device = Device::flex();
        for conv in layers(&device) {
            let c_in = conv.weight.dims()[1];
            let x = Tensor::<4>::random([2, c_in, 8, 11], Distribution::Normal(0.0, 1.0), &device);
            assert!(max_abs_diff(conv2d(x.clone(), &conv), conv.forward(x)) < TOL);
        }
    }

    #[test]
    fn batch_norm_matches_burn_in_training_and_inference() {
        use burn::nn::BatchNormConfig;
        let device = Device::flex().autodiff();
        let ours = BatchNormConfig::new(3).init(&device);
        let theirs = BatchNormConfig::new(3).init(&device);
        // Two steps, so the running statistics carry over from the first.
        for seed in 0..2 {
            let x = Tensor::<4>::random(
                [4, 3, 5, 7],
                Distribution::Normal(seed as f64, 2.0),
                &device,
            )
            .require_grad();
            let (y_o, y_t) = (batch_norm(x.clone(), &ours), theirs.forward(x.clone()));
            assert!(max_abs_diff(y_o.clone(), y_t.clone()) < TOL);
            let weights = Tensor::<4>::random([4, 3, 5, 7], Distribution::Default, &device);
            let g_o = (y_o * weights.clone()).sum().backward();
            let g_t = (y_t * weights).sum().backward();
            assert!(max_abs_diff(x.grad(&g_o).expect("dx"), x.grad(&g_t).expect("dx")) < TOL);
            let dgamma = |g| ours.gamma.grad(g).expect("dgamma");
            let dgamma_t = |g| theirs.gamma.grad(g).expect("dgamma");
            assert!(max_abs_diff(dgamma(&g_o), dgamma_t(&g_t)) < TOL * 10.0);
            let dbeta = ours.beta.grad(&g_o).expect("dbeta");
            assert!(max_abs_diff(dbeta, theirs.beta.grad(&g_t).expect("dbeta")) < TOL * 10.0);
            let stats = |n: &BatchNorm| (n.running_mean.value(), n.running_var.value());
            let ((m_o, v_o), (m_t, v_t)) = (stats(&ours), stats(&theirs));
            assert!(max_abs_diff(m_o, m_t) < TOL && max_abs_diff(v_o, v_t) < TOL);
        }
        // Inference (no autodiff) uses the running statistics on both paths.
        let x = Tensor::<4>::random([2, 3, 4, 4], Distribution::Default, &Device::flex());
        let (ours, theirs) = (ours.valid(), theirs.valid());
        assert!(max_abs_diff(batch_norm(x.clone(), &ours), theirs.forward(x)) < TOL);
    }

    #[test]
    fn max_pool_matches_burn_forward_and_backward() {
        use burn::nn::pool::MaxPool2dConfig;
        let device = Device::flex().autodiff();
        for kernel in [[2, 2], [2, 1], [2, 3]] {
            let pool = MaxPool2dConfig::new(kernel).init();
            // Odd sizes: the floor mode drops the last row or column.
            let x = Tensor::<4>::random([2, 3, 9, 11], Distribution::Normal(0.0, 1.0), &device)
                .require_grad();
            let (ours, theirs) = (max_pool2d(x.clone(), &pool), pool.forward(x.clone()));
            assert_eq!(ours.dims(), theirs.dims());
            assert!(max_abs_diff(ours.clone(), theirs.clone()) == 0.0);
            let weights = Tensor::<4>::random(ours.dims(), Distribution::Default, &device);
            let g_o = (ours * weights.clone()).sum().backward();
            let g_t = (theirs * weights).sum().backward();
            let (dx_o, dx_t) = (x.grad(&g_o).expect("dx"), x.grad(&g_t).expect("dx"));
            assert!(max_abs_diff(dx_o, dx_t) == 0.0, "{kernel:?}");
        }
    }

    #[test]
    fn fused_conv_block_matches_the_layers_in_inference() {
        use burn::module::{Param, RunningState};
        use burn::nn::BatchNormConfig;
        use burn::nn::pool::MaxPool2dConfig;
        let device = Device::flex();
        for (conv, window) in layers(&device).into_iter().zip([[2, 2], [1, 1], [2, 3]]) {
            let [c_out, c_in, _, _] = conv.weight.dims();
            let uniform =
                |lo, hi| Tensor::<1>::random([c_out], Distribution::Uniform(lo, hi), &device);
            // Trained-looking statistics, and gammas of both signs.
            let mut norm = BatchNormConfig::new(c_out).init(&device);
            norm.running_mean = RunningState::new(uniform(-1.0, 1.0));
            norm.running_var = RunningState::new(uniform(0.2, 3.0));
            norm.gamma = Param::from_tensor(uniform(-2.0, 2.0));
            norm.beta = Param::from_tensor(uniform(-1.0, 1.0));
            let pool = MaxPool2dConfig::new(window).init();
            let x = Tensor::<4>::random([2, c_in, 9, 13], Distribution::Normal(0.0, 1.0), &device);
            let (g, _) = kernel_args(&x, &conv).expect("the kernel takes this layer");
            assert!(plain_pool([g.out_h(), g.out_w()], &pool));
            let fused = conv_block(x.clone(), &conv, &norm, &pool);
            let layered = pool.forward(relu(norm.forward(conv.forward(x))));
            assert_eq!(fused.dims(), layered.dims(), "{window:?}");
            assert!(max_abs_diff(fused, layered) < TOL, "{window:?}");
        }
    }

    #[test]
    fn bi_gru_matches_burn_and_leaves_other_cells_to_it() {
        use burn::nn::BiGruConfig;
        let device = Device::flex();
        let x = Tensor::<3>::random([2, 6, 5], Distribution::Normal(0.0, 1.0), &device);
        let gru = BiGruConfig::new(5, 7, true).init(&device);
        let ours = bi_gru(x.clone(), &gru);
        let theirs = gru.forward(x.clone(), None).0;
        assert_eq!(ours.dims(), [2, 6, 14]);
        assert!(max_abs_diff(ours, theirs) < TOL);
        // Reset before the product: not our cell, so burn computes it, bit for bit.
        let before = BiGruConfig::new(5, 7, false)
            .with_reset_after(false)
            .init(&device);
        assert!(!default_cell(&before.forward));
        let (ours, theirs) = (bi_gru(x.clone(), &before), before.forward(x, None).0);
        assert!(max_abs_diff(ours, theirs) == 0.0);
    }

    #[test]
    fn unsupported_layers_fall_back_to_burn() {
        let device = Device::flex();
        let grouped = Conv2dConfig::new([4, 4], [3, 3])
            .with_groups(2)
            .init(&device);
        let dilated = Conv2dConfig::new([1, 2], [3, 3])
            .with_dilation([2, 2])
            .init(&device);
        let uneven = Conv2dConfig::new([1, 2], [2, 2])
            .with_padding(PaddingConfig2d::Same)
            .init(&device);
        for conv in [grouped, dilated, uneven] {
            let c_in = conv.weight.dims()[1] * conv.groups;
            let x = Tensor::<4>::ones([1, c_in, 7, 7], &device);
            assert!(kernel_args(&x, &conv).is_none());
            assert!(max_abs_diff(conv2d(x.clone(), &conv), conv.forward(x)) == 0.0);
        }
        // An empty input whose padding alone would leave output positions: the kernel's
        // per-image chunks would be empty (rayon panics on a chunk size of 0), so it is
        // refused and burn decides.
        let padded_1x1 = Conv2dConfig::new([1, 2], [1, 1])
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init(&device);
        let empty = Tensor::<4>::zeros([1, 1, 3, 0], &device);
        assert!(kernel_args(&empty, &padded_1x1).is_none());
    }
}
