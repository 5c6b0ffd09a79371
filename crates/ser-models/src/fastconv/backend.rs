//! The [`kernel`](super::kernel), [`norm`](super::norm) and [`pool`](super::pool) slice
//! kernels as a burn backend extension: three operations on Flex, each with a hand-written
//! backward pass on `Autodiff<Flex>`.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Flex, TensorMetadata, backend_extension};
use burn::tensor::TensorData;

use super::kernel::{
    BlockEpilogue, ConvGeometry, conv2d_backward, conv2d_block_inference, conv2d_forward,
};
use super::norm::{batch_norm_train, batch_norm_train_backward};
use super::pool::{max_pool2d_backward, max_pool2d_forward};
use std::sync::Arc;

/// A 2-D convolution (`groups = 1`, `dilation = 1`, symmetric zero padding, f32) computed by
/// [`kernel`](super::kernel). Routed by burn's dispatch to Flex and to `Autodiff<Flex>`; the
/// caller ([`super::conv2d`]) only sends tensors on those devices.
#[backend_extension(Flex, Autodiff)]
pub trait GemmConv2dBackend: Backend {
    /// `x [b, c_in, h, w]`, `weight [c_out, c_in, kh, kw]`, `bias [c_out]` ->
    /// `[b, c_out, oh, ow]`.
    fn gemm_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> FloatTensor<Self>;

    /// Batch normalisation of `x [b, c, ...]` with the batch's statistics:
    /// `(y, mean [c], biased variance [c])`; the statistics carry no gradient.
    fn fast_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// Max pooling of `x [b, c, h, w]` over non-overlapping `kernel` windows (stride =
    /// kernel, no padding, floor mode) -> `[b, c, h / kh, w / kw]`.
    fn fast_max_pool2d(x: FloatTensor<Self>, kernel: [usize; 2]) -> FloatTensor<Self>;

    /// An inference-mode conv block, fused ([`conv2d_block_inference`]): `x [b, c_in, h, w]`
    /// convolved by `weight [c_out, c_in, kh, kw]`, then `relu(y * scale + shift)` per
    /// channel (`[c_out]` each) and max-pooled over `pool` windows ->
    /// `[b, c_out, oh / pool[0], ow / pool[1]]`. Carries no gradient: callers use it only
    /// outside autodiff.
    fn fast_conv_block_inference(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        scale: FloatTensor<Self>,
        shift: FloatTensor<Self>,
        conv: ([usize; 2], [usize; 2]),
        pool: [usize; 2],
    ) -> FloatTensor<Self>;
}

/// `[b * c, h, w]`: the planes of a max-pool input `[b, c, h, w]`.
fn pool_planes(x: &[usize]) -> [usize; 3] {
    [x[0] * x[1], x[2], x[3]]
}

/// The max-pool output shape `[b, c, h / kh, w / kw]`.
fn pool_output(x: &[usize], [kh, kw]: [usize; 2]) -> Vec<usize> {
    vec![x[0], x[1], x[2] / kh, x[3] / kw]
}

/// `[batch, channels, product of the other dims]` of a batch-norm input.
fn norm_shape(x: &[usize]) -> [usize; 3] {
    [x[0], x[1], x[2..].iter().product()]
}

/// The geometry of `x` convolved with `weight`.
fn geometry(
    x: &[usize],
    weight: &[usize],
    stride: [usize; 2],
    padding: [usize; 2],
) -> ConvGeometry {
    ConvGeometry {
        batch: x[0],
        c_in: x[1],
        h: x[2],
        w: x[3],
        c_out: weight[0],
        kh: weight[2],
        kw: weight[3],
        stride,
        padding,
    }
}

/// A contiguous, offset-0 copy-or-share of `t`, so that `storage()` is exactly its elements
/// in row-major order (`to_contiguous` shares the buffer when it already is).
fn contiguous(t: &FlexTensor) -> FlexTensor {
    t.to_contiguous()
}

fn from_vec(data: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(data, shape))
}

impl GemmConv2dBackend for Flex {
    fn gemm_conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> FlexTensor {
        let g = geometry(
            x.shape().as_slice(),
            weight.shape().as_slice(),
            stride,
            padding,
        );
        let (x, weight, bias) = (contiguous(&x), contiguous(&weight), contiguous(&bias));
        let y = conv2d_forward(
            &g,
            x.storage::<f32>(),
            weight.storage::<f32>(),
            Some(bias.storage::<f32>()),
        );
        from_vec(y, vec![g.batch, g.c_out, g.out_h(), g.out_w()])
    }

    fn fast_batch_norm_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let shape = x.shape().as_slice().to_vec();
        let (x, gamma, beta) = (contiguous(&x), contiguous(&gamma), contiguous(&beta));
        let (y, mean, var) = batch_norm_train(
            x.storage::<f32>(),
            norm_shape(&shape),
            gamma.storage::<f32>(),
            beta.storage::<f32>(),
            epsilon,
        );
        let c = shape[1];
        (
            from_vec(y, shape),
            from_vec(mean, vec![c]),
            from_vec(var, vec![c]),
        )
    }

    fn fast_max_pool2d(x: FlexTensor, kernel: [usize; 2]) -> FlexTensor {
        let shape = x.shape().as_slice().to_vec();
        let (y, _) =
            max_pool2d_forward(contiguous(&x).storage::<f32>(), pool_planes(&shape), kernel);
        from_vec(y, pool_output(&shape, kernel))
    }

    fn fast_conv_block_inference(
        x: FlexTensor,
        weight: FlexTensor,
        scale: FlexTensor,
        shift: FlexTensor,
        (stride, padding): ([usize; 2], [usize; 2]),
        pool: [usize; 2],
    ) -> FlexTensor {
        let g = geometry(
            x.shape().as_slice(),
            weight.shape().as_slice(),
            stride,
            padding,
        );
        let [x, weight, scale, shift] = [&x, &weight, &scale, &shift].map(contiguous);
        let epi = BlockEpilogue {
            scale: scale.storage::<f32>(),
            shift: shift.storage::<f32>(),
            pool,
        };
        let y = conv2d_block_inference(&g, x.storage::<f32>(), weight.storage::<f32>(), epi);
        let out = vec![g.batch, g.c_out, g.out_h() / pool[0], g.out_w() / pool[1]];
        from_vec(y, out)
    }
}

/// The max-pool backward step.
#[derive(Debug)]
struct MaxPoolGrad;

impl Backward<Flex, 1> for MaxPoolGrad {
    /// The input shape and the winning offsets of the forward pass.
    type State = (Vec<usize>, Arc<Vec<u32>>);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x_shape, idx) = ops.state;
        if let Some(node) = node_x {
            let dy = contiguous(&dy);
            let dx = max_pool2d_backward(dy.storage::<f32>(), &idx, pool_planes(&x_shape));
            grads.register::<Flex>(node.id, from_vec(dx, x_shape));
        }
    }
}

/// The batch-norm backward step.
#[derive(Debug)]
struct BatchNormGrad;

impl Backward<Flex, 3> for BatchNormGrad {
    /// Input, gamma, the batch mean and variance, epsilon.
    type State = (FlexTensor, FlexTensor, FlexTensor, FlexTensor, f64);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x, gamma, mean, var, epsilon) = ops.state;
        let shape = x.shape().as_slice().to_vec();
        let c = shape[1];
        let [x, gamma, mean, var, dy] = [&x, &gamma, &mean, &var, &dy].map(contiguous);
        let (dx, dgamma, dbeta) = batch_norm_train_backward(
            x.storage::<f32>(),
            norm_shape(&shape),
            gamma.storage::<f32>(),
            mean.storage::<f32>(),
            var.storage::<f32>(),
            epsilon,
            dy.storage::<f32>(),
        );
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, from_vec(dx, shape));
        }
        if let Some(node) = node_gamma {
            grads.register::<Flex>(node.id, from_vec(dgamma, vec![c]));
        }
        if let Some(node) = node_beta {
            grads.register::<Flex>(node.id, from_vec(dbeta, vec![c]));
        }
    }
}

/// The backward step: gradients for input, weight and bias from one im2col per image.
#[derive(Debug)]
struct GemmConv2dGrad;

impl Backward<Flex, 3> for GemmConv2dGrad {
    /// Input, weight and the convolution's stride and padding.
    type State = (FlexTensor, FlexTensor, [usize; 2], [usize; 2]);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let dy = grads.consume::<Flex>(&ops.node);
        let (x, weight, stride, padding) = ops.state;
        let (x_shape, w_shape) = (
            x.shape().as_slice().to_vec(),
            weight.shape().as_slice().to_vec(),
        );
        let g = geometry(&x_shape, &w_shape, stride, padding);
        let (x, weight, dy) = (contiguous(&x), contiguous(&weight), contiguous(&dy));
        // The first block's input (the features) needs no gradient: skip its GEMM and col2im.
        let (dx, dw, db) = conv2d_backward(
            &g,
            x.storage::<f32>(),
            weight.storage::<f32>(),
            dy.storage::<f32>(),
            node_x.is_some(),
        );
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, from_vec(dx, x_shape));
        }
        if let Some(node) = node_w {
            grads.register::<Flex>(node.id, from_vec(dw, w_shape));
        }
        if let Some(node) = node_b {
            grads.register::<Flex>(node.id, from_vec(db, vec![g.c_out]));
        }
    }
}

impl<C: CheckpointStrategy> GemmConv2dBackend for Autodiff<Flex, C> {
    fn gemm_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> FloatTensor<Self> {
        let prepared = GemmConv2dGrad
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful();
        // The input and weight are kept (reference-counted, not copied) for the backward
        // pass, as burn's own conv2d keeps them.
        let (x, weight) = (x.into_primitive(), weight.into_primitive());
        let y = Flex::gemm_conv2d(
            x.clone(),
            weight.clone(),
            bias.into_primitive(),
            stride,
            padding,
        );
        match prepared {
            OpsKind::Tracked(prep) => prep.finish((x, weight, stride, padding), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }

    fn fast_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let prepared = BatchNormGrad
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful();
        let (x, gamma) = (x.into_primitive(), gamma.into_primitive());
        let (y, mean, var) =
            Flex::fast_batch_norm_train(x.clone(), gamma.clone(), beta.into_primitive(), epsilon);
        let y = match prepared {
            OpsKind::Tracked(prep) => {
                prep.finish((x, gamma, mean.clone(), var.clone(), epsilon), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(y),
        };
        // The statistics feed the running averages only: new leaves, outside the graph.
        (
            y,
            FloatTensor::<Self>::new(mean),
            FloatTensor::<Self>::new(var),
        )
    }

    fn fast_max_pool2d(x: FloatTensor<Self>, kernel: [usize; 2]) -> FloatTensor<Self> {
        let prepared = MaxPoolGrad
            .prepare::<C>([x.node()])
            // Keep the winning offsets (burn's own max pool keeps its indices too).
            .compute_bound()
            .stateful();
        let x = x.into_primitive();
        let x_shape = x.shape().as_slice().to_vec();
        let (y, idx) = max_pool2d_forward(
            contiguous(&x).storage::<f32>(),
            pool_planes(&x_shape),
            kernel,
        );
        let y = from_vec(y, pool_output(&x_shape, kernel));
        match prepared {
            OpsKind::Tracked(prep) => prep.finish((x_shape, Arc::new(idx)), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }

    fn fast_conv_block_inference(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        scale: FloatTensor<Self>,
        shift: FloatTensor<Self>,
        conv: ([usize; 2], [usize; 2]),
        pool: [usize; 2],
    ) -> FloatTensor<Self> {
        // Inference only: the result is a new leaf, outside any graph.
        FloatTensor::<Self>::new(Flex::fast_conv_block_inference(
            x.into_primitive(),
            weight.into_primitive(),
            scale.into_primitive(),
            shift.into_primitive(),
            conv,
            pool,
        ))
    }
}
