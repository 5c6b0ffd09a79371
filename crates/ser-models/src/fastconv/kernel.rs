//! 2-D convolution forward and backward on plain `f32` slices, by im2col + GEMM.
//!
//! Layouts are burn's: input `[batch, c_in, h, w]`, weight `[c_out, c_in, kh, kw]`, output
//! `[batch, c_out, oh, ow]`, all contiguous row-major. For one image the patch matrix `col`
//! is `[c_in * kh * kw, oh * ow]` (rows ordered `(c, i, j)`, the weight's own order), so
//!
//! * forward: `y[b] = W · col(x[b])` (`[c_out, K] x [K, L]`), written straight into NCHW;
//! * weight gradient: `dW = Σ_b dy[b] · col(x[b])ᵀ` (`[c_out, L] x [L, K]`);
//! * input gradient: `dx[b] = col2im(Wᵀ · dy[b])` (`[K, c_out] x [c_out, L]`).
//!
//! This is the formulation of Caffe and of PyTorch's non-oneDNN CPU path
//! (`aten/src/ATen/native/ConvolutionMM2d.cpp`). burn Flex 0.22.1 computes the weight
//! gradient as a convolution whose kernel is the whole output gradient, giving GEMMs only
//! `N = kh * kw = 9` columns wide (burn-backend 0.22.1, `conv2d_weight_backward`); the shapes
//! here are large on every side, which is what a GEMM wants.
//!
//! Images run in parallel on the rayon pool (each with its own patch buffer); the GEMMs are
//! `matrixmultiply`'s (through `ndarray::linalg::general_mat_mul`), single-threaded, so one
//! training thread (`RAYON_NUM_THREADS=1`) stays one thread.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

/// Shapes, stride and zero padding of one 2-D convolution (no dilation, no groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Images in the batch.
    pub batch: usize,
    /// Input channels.
    pub c_in: usize,
    /// Input height (rows).
    pub h: usize,
    /// Input width (columns).
    pub w: usize,
    /// Output channels.
    pub c_out: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Stride `[rows, columns]`.
    pub stride: [usize; 2],
    /// Zero padding on both sides `[rows, columns]`.
    pub padding: [usize; 2],
}

impl ConvGeometry {
    /// Output height: `(h + 2 p - kh) / s + 1` (floor), as burn and PyTorch.
    pub fn out_h(&self) -> usize {
        (self.h + 2 * self.padding[0] - self.kh) / self.stride[0] + 1
    }

    /// Output width.
    pub fn out_w(&self) -> usize {
        (self.w + 2 * self.padding[1] - self.kw) / self.stride[1] + 1
    }

    /// Rows of the patch matrix (`c_in * kh * kw`).
    fn k(&self) -> usize {
        self.c_in * self.kh * self.kw
    }

    /// Output positions per image.
    fn l(&self) -> usize {
        self.out_h() * self.out_w()
    }

    /// Whether the kernels can run this convolution: a non-empty input and kernel, non-zero
    /// strides, and a kernel that fits the padded input (otherwise there is no output).
    pub fn is_valid(&self) -> bool {
        self.stride[0] > 0
            && self.stride[1] > 0
            && self.kh > 0
            && self.kw > 0
            && self.c_in > 0
            && self.h > 0
            && self.w > 0
            && self.h + 2 * self.padding[0] >= self.kh
            && self.w + 2 * self.padding[1] >= self.kw
    }

    /// For output index `o` along an axis and kernel tap `t`, the input index, or `None` in
    /// the zero padding.
    #[inline]
    fn src(o: usize, t: usize, stride: usize, pad: usize, len: usize) -> Option<usize> {
        (o * stride + t).checked_sub(pad).filter(|&i| i < len)
    }

    /// The output range `[lo, hi)` along an axis whose input index for tap `t` is in bounds.
    #[inline]
    fn valid_range(t: usize, stride: usize, pad: usize, len: usize, out: usize) -> (usize, usize) {
        // o * stride + t - pad >= 0  <=>  o >= ceil((pad - t) / stride)
        let lo = pad.saturating_sub(t).div_ceil(stride);
        // o * stride + t - pad < len  <=>  o < (len + pad - t) / stride (ceil)
        let hi = (len + pad).saturating_sub(t).div_ceil(stride).min(out);
        (lo.min(hi), hi)
    }
}

/// Fills `col` (`[K, L]`) with the patches of one image `x` (`[c_in, h, w]`).
fn im2col(g: &ConvGeometry, x: &[f32], col: &mut [f32]) {
    im2col_rows(g, x, 0..g.out_h(), col);
}

/// Fills `col` (`[K, rows.len() * ow]`) with the patches of output rows `rows` of one image
/// `x` (`[c_in, h, w]`): [`im2col`] restricted to a band of the output, so that a caller
/// can convolve an image band by band with a patch buffer that stays in cache.
fn im2col_rows(g: &ConvGeometry, x: &[f32], rows: std::ops::Range<usize>, col: &mut [f32]) {
    let ow = g.out_w();
    let l = rows.len() * ow;
    let [sh, sw] = g.stride;
    let [ph, pw] = g.padding;
    for c in 0..g.c_in {
        let plane = &x[c * g.h * g.w..(c + 1) * g.h * g.w];
        for i in 0..g.kh {
            for j in 0..g.kw {
                let row = &mut col[((c * g.kh + i) * g.kw + j) * l..][..l];
                let (lo, hi) = ConvGeometry::valid_range(j, sw, pw, g.w, ow);
                for (o_r, out_row) in rows.clone().zip(row.chunks_exact_mut(ow)) {
                    let Some(r) = ConvGeometry::src(o_r, i, sh, ph, g.h) else {
                        out_row.fill(0.0);
                        continue;
                    };
                    let src = &plane[r * g.w..(r + 1) * g.w];
                    out_row[..lo].fill(0.0);
                    out_row[hi..].fill(0.0);
                    if sw == 1 {
                        let start = lo + j - pw;
                        out_row[lo..hi].copy_from_slice(&src[start..start + (hi - lo)]);
                    } else {
                        for (o_c, v) in out_row[lo..hi].iter_mut().enumerate() {
                            *v = src[(lo + o_c) * sw + j - pw];
                        }
                    }
                }
            }
        }
    }
}

/// Adds the patch-matrix gradient `dcol` (`[K, L]`) back onto one image's gradient `dx`
/// (`[c_in, h, w]`): the adjoint of [`im2col`].
fn col2im_add(g: &ConvGeometry, dcol: &[f32], dx: &mut [f32]) {
    let (oh, ow, l) = (g.out_h(), g.out_w(), g.l());
    let [sh, sw] = g.stride;
    let [ph, pw] = g.padding;
    for c in 0..g.c_in {
        let plane = &mut dx[c * g.h * g.w..(c + 1) * g.h * g.w];
        for i in 0..g.kh {
            for j in 0..g.kw {
                let row = &dcol[((c * g.kh + i) * g.kw + j) * l..][..l];
                let (lo, hi) = ConvGeometry::valid_range(j, sw, pw, g.w, ow);
                for (o_r, in_row) in row.chunks_exact(ow).enumerate().take(oh) {
                    let Some(r) = ConvGeometry::src(o_r, i, sh, ph, g.h) else {
                        continue;
                    };
                    let dst = &mut plane[r * g.w..(r + 1) * g.w];
                    if sw == 1 {
                        let start = lo + j - pw;
                        for (d, s) in dst[start..start + (hi - lo)]
                            .iter_mut()
                            .zip(&in_row[lo..hi])
                        {
                            *d += s;
                        }
                    } else {
                        for (o_c, s) in in_row[lo..hi].iter().enumerate() {
                            dst[(lo + o_c) * sw + j - pw] += s;
                        }
                    }
                }
            }
        }
    }
}

fn view(data: &[f32], rows: usize, cols: usize) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((rows, cols), data).expect("slice length checked by the caller")
}

fn view_mut(data: &mut [f32], rows: usize, cols: usize) -> ArrayViewMut2<'_, f32> {
    ArrayViewMut2::from_shape((rows, cols), data).expect("slice length checked by the caller")
}

fn check_lengths(g: &ConvGeometry, x: usize, w: usize) {
    assert!(g.is_valid(), "conv geometry {g:?} has no output");
    assert_eq!(x, g.batch * g.c_in * g.h * g.w, "input length for {g:?}");
    assert_eq!(w, g.c_out * g.k(), "weight length for {g:?}");
}

/// Forward pass: `[batch, c_out, oh, ow]`, plus `bias[c_out]` when given.
///
/// # Panics
/// When the slice lengths do not match `g` (a caller bug, not bad user input).
pub fn conv2d_forward(g: &ConvGeometry, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    check_lengths(g, x.len(), w.len());
    let (k, l) = (g.k(), g.l());
    let in_len = g.c_in * g.h * g.w;
    let mut y = vec![0.0f32; g.batch * g.c_out * l];
    if g.batch == 0 || l == 0 {
        return y;
    }
    let wv = view(w, g.c_out, k);
    y.par_chunks_mut(g.c_out * l)
        .zip(x.par_chunks(in_len))
        .for_each_init(
            || vec![0.0f32; k * l],
            |col, (yb, xb)| {
                im2col(g, xb, col);
                if let Some(bias) = bias {
                    for (row, &b) in yb.chunks_exact_mut(l).zip(bias) {
                        row.fill(b);
                    }
                }
                let beta = if bias.is_some() { 1.0 } else { 0.0 };
                general_mat_mul(
                    1.0,
                    &wv,
                    &view(col, k, l),
                    beta,
                    &mut view_mut(yb, g.c_out, l),
                );
            },
        );
    y
}

/// What follows the convolution in an inference-mode conv block (conv -> batch norm -> ReLU ->
/// max pool): per output channel `y = relu(conv * scale[c] + shift[c])` (batch norm with its
/// running statistics and the conv bias folded in), then the maximum over non-overlapping
/// `pool` windows (stride = window, no padding, floor mode).
#[derive(Debug, Clone, Copy)]
pub struct BlockEpilogue<'a> {
    /// Per-channel multiplier, `gamma / sqrt(running_var + epsilon)`.
    pub scale: &'a [f32],
    /// Per-channel offset, `beta + (bias - running_mean) * scale`.
    pub shift: &'a [f32],
    /// Max-pool window `[rows, columns]`; `[1, 1]` pools nothing.
    pub pool: [usize; 2],
}

/// Patch-buffer floats one band of [`conv2d_block_inference`] may use: 64 Ki floats
/// (256 KiB), so that the band's patches and its GEMM output can stay in a core's L2 cache
/// (512 KiB per core on the development VM, `lscpu`). A whole-image patch matrix is 7 MiB
/// for the CRNN's second block (288 x 6400 floats for a 4 s clip). Chosen by that
/// arithmetic, not tuned: other sizes were not benched.
const BAND_PATCH_FLOATS: usize = 64 * 1024;

/// Inference forward pass of a conv block, fused: the convolution of `x` by `w` (no bias:
/// it is in `epi.shift`) followed by `epi` (see [`BlockEpilogue`]), computed band by band of
/// output rows, so that neither the whole patch matrix nor the un-pooled output is ever
/// materialised. Output `[batch, c_out, oh / pool[0], ow / pool[1]]`.
///
/// Equal to [`conv2d_forward`] then the affine map, ReLU and max pool, up to float rounding
/// (the bias is added after the scale). ReLU and max commute (ReLU is non-decreasing), so the
/// ReLU is applied once per pooled value; a NaN anywhere in a window gives NaN, as burn's max
/// pool does.
///
/// # Panics
/// When the slice lengths do not match `g` and `epi`, or a pool side is 0.
pub fn conv2d_block_inference(
    g: &ConvGeometry,
    x: &[f32],
    w: &[f32],
    epi: BlockEpilogue<'_>,
) -> Vec<f32> {
    block_inference_in_bands(g, x, w, epi, BAND_PATCH_FLOATS)
}

/// [`conv2d_block_inference`] with bands of at most `band_floats` patch floats (but at least
/// one pooled row): tests use tiny bands to cover the band edges.
fn block_inference_in_bands(
    g: &ConvGeometry,
    x: &[f32],
    w: &[f32],
    epi: BlockEpilogue<'_>,
    band_floats: usize,
) -> Vec<f32> {
    check_lengths(g, x.len(), w.len());
    assert!(
        epi.scale.len() == g.c_out && epi.shift.len() == g.c_out,
        "epilogue length for {g:?}"
    );
    let [ph, pw] = epi.pool;
    assert!(ph > 0 && pw > 0, "max pool window {:?}", epi.pool);
    let (k, ow) = (g.k(), g.out_w());
    let (poh, pow) = (g.out_h() / ph, ow / pw);
    let in_len = g.c_in * g.h * g.w;
    let out_len = g.c_out * poh * pow;
    let mut y = vec![0.0f32; g.batch * out_len];
    if out_len == 0 {
        return y;
    }
    // Output rows per band: a multiple of the pool height, at least one pooled row and at
    // most the rows the pools use.
    let band = ph * (band_floats / (k * ow * ph)).clamp(1, poh);
    let wv = view(w, g.c_out, k);
    y.par_chunks_mut(out_len)
        .zip(x.par_chunks(in_len))
        .for_each_init(
            || {
                (
                    vec![0.0f32; k * band * ow],
                    vec![0.0f32; g.c_out * band * ow],
                )
            },
            |(col, acc), (yb, xb)| {
                // Rows past poh * ph fall outside every pool window (floor mode): skipped.
                for r0 in (0..poh * ph).step_by(band) {
                    let r1 = (r0 + band).min(poh * ph);
                    let l = (r1 - r0) * ow;
                    let (col, acc) = (&mut col[..k * l], &mut acc[..g.c_out * l]);
                    im2col_rows(g, xb, r0..r1, col);
                    general_mat_mul(
                        1.0,
                        &wv,
                        &view(col, k, l),
                        0.0,
                        &mut view_mut(acc, g.c_out, l),
                    );
                    for (c, conv) in acc.chunks_exact_mut(l).enumerate() {
                        let (s, t) = (epi.scale[c], epi.shift[c]);
                        // A separate pass, so that it vectorises.
                        for v in conv.iter_mut() {
                            *v = *v * s + t;
                        }
                        let plane = &mut yb[c * poh * pow..][..poh * pow];
                        for pr in r0 / ph..r1 / ph {
                            // The window rows' maximum into the first row (contiguous, so it
                            // vectorises), then the maximum of each `pw` run of that row.
                            let rows = &mut conv[(pr * ph - r0) * ow..][..ph * ow];
                            let (first, rest) = rows.split_at_mut(ow);
                            for row in rest.chunks_exact(ow) {
                                for (m, &v) in first.iter_mut().zip(row) {
                                    *m = max_nan_wins(*m, v);
                                }
                            }
                            let out = &mut plane[pr * pow..][..pow];
                            for (o, win) in out.iter_mut().zip(first.chunks_exact(pw)) {
                                let m = win
                                    .iter()
                                    .fold(f32::NEG_INFINITY, |m, &v| max_nan_wins(m, v));
                                // `< 0` is false for NaN, which therefore passes through.
                                *o = if m < 0.0 { 0.0 } else { m };
                            }
                        }
                    }
                }
            },
        );
    y
}

/// The larger of `m` and `v`, NaN if either is (burn's max-pool rule), without a branch:
/// `|` rather than `||`, so that both comparisons compile to a select.
#[inline]
fn max_nan_wins(m: f32, v: f32) -> f32 {
    if (v > m) | v.is_nan() { v } else { m }
}

/// Gradients of [`conv2d_forward`] for the output gradient `dy`: `(dx, dw, dbias)`. With
/// `want_dx` false (an input that needs no gradient, as the first layer's features) `dx` is
/// empty and its GEMM and col2im are skipped.
///
/// # Panics
/// When the slice lengths do not match `g`.
pub fn conv2d_backward(
    g: &ConvGeometry,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    want_dx: bool,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    check_lengths(g, x.len(), w.len());
    let (k, l) = (g.k(), g.l());
    assert_eq!(
        dy.len(),
        g.batch * g.c_out * l,
        "output gradient length for {g:?}"
    );
    let in_len = g.c_in * g.h * g.w;
    // Without dx, each image still gets a one-element placeholder chunk to zip with.
    let dx_chunk = if want_dx { in_len } else { 1 };
    let mut dx = vec![0.0f32; g.batch * dx_chunk];
    if g.batch == 0 || l == 0 {
        if !want_dx {
            dx.clear();
        }
        return (dx, vec![0.0; w.len()], vec![0.0; g.c_out]);
    }
    let wt = view(w, g.c_out, k).reversed_axes(); // [K, c_out]

    // One pass per image computes both gradients from one patch matrix. Each rayon job
    // accumulates its own (dW, db) partial sums; they are added at the end.
    let zero = || (vec![0.0f32; w.len()], vec![0.0f32; g.c_out]);
    let (dw, db) = dx
        .par_chunks_mut(dx_chunk)
        .zip(x.par_chunks(in_len))
        .zip(dy.par_chunks(g.c_out * l))
        .fold(
            || (zero(), vec![0.0f32; k * l]),
            |((mut dw, mut db), mut col), ((dxb, xb), dyb)| {
                let dyv = view(dyb, g.c_out, l);
                im2col(g, xb, &mut col);
                // dW += dy[b] · colᵀ
                general_mat_mul(
                    1.0,
                    &dyv,
                    &view(&col, k, l).reversed_axes(),
                    1.0,
                    &mut view_mut(&mut dw, g.c_out, k),
                );
                for (acc, row) in db.iter_mut().zip(dyb.chunks_exact(l)) {
                    *acc += row.iter().sum::<f32>();
                }
                if want_dx {
                    // dcol = Wᵀ · dy[b], reusing the patch buffer.
                    general_mat_mul(1.0, &wt, &dyv, 0.0, &mut view_mut(&mut col, k, l));
                    col2im_add(g, &col, dxb);
                }
                ((dw, db), col)
            },
        )
        .map(|(partial, _)| partial)
        .reduce(zero, |(mut dw, mut db), (dw2, db2)| {
            dw.iter_mut().zip(&dw2).for_each(|(a, b)| *a += b);
            db.iter_mut().zip(&db2).for_each(|(a, b)| *a += b);
            (dw, db)
        });
    if !want_dx {
        dx.clear();
    }
    (dx, dw, db)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fastconv::test_values as values;

    /// Direct 7-loop convolution, the definition, in f64.
    fn naive_forward(g: &ConvGeometry, x: &[f32], w: &[f32], bias: Option<&[f32]>) -> Vec<f64> {
        let (oh, ow) = (g.out_h(), g.out_w());
        let mut y = vec![0.0f64; g.batch * g.c_out * oh * ow];
        for b in 0..g.batch {
            for co in 0..g.c_out {
                for r in 0..oh {
                    for c in 0..ow {
                        let mut acc = bias.map_or(0.0, |bs| bs[co] as f64);
                        for ci in 0..g.c_in {
                            for i in 0..g.kh {
                                for j in 0..g.kw {
                                    let (Some(ir), Some(ic)) = (
                                        ConvGeometry::src(r, i, g.stride[0], g.padding[0], g.h),
                                        ConvGeometry::src(c, j, g.stride[1], g.padding[1], g.w),
                                    ) else {
                                        continue;
                                    };
                                    acc += x[((b * g.c_in + ci) * g.h + ir) * g.w + ic] as f64
                                        * w[((co * g.c_in + ci) * g.kh + i) * g.kw + j] as f64;
                                }
                            }
                        }
                        y[((b * g.c_out + co) * oh + r) * ow + c] = acc;
                    }
                }
            }
        }
        y
    }

    fn geometries() -> Vec<ConvGeometry> {
        let g = |batch, c_in, h, w, c_out, k: [usize; 2], stride, padding| ConvGeometry {
            batch,
            c_in,
            h,
            w,
            c_out,
            kh: k[0],
            kw: k[1],
            stride,
            padding,
        };
        vec![
            g(2, 3, 8, 11, 4, [3, 3], [1, 1], [1, 1]), // "same" 3x3, the CRNN's blocks
            g(3, 1, 9, 12, 5, [3, 3], [2, 2], [1, 1]), // strided stem, odd height
            g(1, 2, 7, 6, 3, [3, 3], [2, 3], [0, 1]),  // unequal strides and padding
            g(2, 2, 5, 9, 2, [1, 5], [1, 1], [0, 2]),  // non-square kernel
            g(1, 4, 4, 4, 6, [4, 4], [1, 1], [0, 0]),  // kernel as large as the input
            g(2, 1, 3, 3, 1, [3, 3], [3, 3], [2, 2]),  // padding wider than the stride
        ]
    }

    /// f32 GEMM against an f64 direct sum of at most a few hundred products of values in
    /// [-0.5, 0.5]: 1e-5 absolute is ~100x the rounding we expect.
    const TOL: f64 = 1e-5;

    #[test]
    fn forward_matches_the_definition() {
        for g in geometries() {
            let x = values(g.batch * g.c_in * g.h * g.w, 1);
            let w = values(g.c_out * g.k(), 2);
            let bias = values(g.c_out, 3);
            for b in [None, Some(bias.as_slice())] {
                let got = conv2d_forward(&g, &x, &w, b);
                let want = naive_forward(&g, &x, &w, b);
                assert_eq!(got.len(), want.len());
                for (i, (a, e)) in got.iter().zip(&want).enumerate() {
                    assert!((*a as f64 - e).abs() < TOL, "{g:?} y[{i}] = {a}, want {e}");
                }
            }
        }
    }

    #[test]
    fn fused_block_matches_the_definition_then_affine_relu_and_pool() {
        for g in geometries() {
            let x = values(g.batch * g.c_in * g.h * g.w, 7);
            let w = values(g.c_out * g.k(), 8);
            // Scales of both signs: the maximum of the affine map is then not always the
            // affine map of the maximum.
            let scale: Vec<f32> = values(g.c_out, 9).iter().map(|v| 4.0 * v).collect();
            let shift = values(g.c_out, 10);
            let conv = naive_forward(&g, &x, &w, None);
            let (oh, ow) = (g.out_h(), g.out_w());
            for pool in [[1, 1], [2, 2], [2, 3], [3, 1]] {
                let (poh, pow) = (oh / pool[0], ow / pool[1]);
                let epi = BlockEpilogue {
                    scale: &scale,
                    shift: &shift,
                    pool,
                };
                // One band per pooled row, and whole images.
                for band_floats in [1, usize::MAX / 2] {
                    let got = block_inference_in_bands(&g, &x, &w, epi, band_floats);
                    assert_eq!(got.len(), g.batch * g.c_out * poh * pow, "{g:?} {pool:?}");
                    for (i, &a) in got.iter().enumerate() {
                        let (bc, r, c) = (i / (poh * pow), i / pow % poh, i % pow);
                        let ch = bc % g.c_out;
                        let mut want = f64::NEG_INFINITY;
                        for rr in r * pool[0]..(r + 1) * pool[0] {
                            for cc in c * pool[1]..(c + 1) * pool[1] {
                                let v = conv[(bc * oh + rr) * ow + cc];
                                let v = (v * scale[ch] as f64 + shift[ch] as f64).max(0.0);
                                want = want.max(v);
                            }
                        }
                        // The scale multiplies the GEMM's rounding by up to 2.
                        assert!((a as f64 - want).abs() < 2.0 * TOL, "{g:?} {pool:?} y[{i}]");
                    }
                }
            }
        }
    }

    #[test]
    fn fused_block_lets_nan_through_the_pool_and_relu() {
        let g = geometries()[0];
        let mut x = values(g.batch * g.c_in * g.h * g.w, 11);
        x[0] = f32::NAN;
        let w = values(g.c_out * g.k(), 12);
        let (scale, shift) = (vec![1.0; g.c_out], vec![-10.0; g.c_out]);
        let epi = BlockEpilogue {
            scale: &scale,
            shift: &shift,
            pool: [2, 2],
        };
        let y = conv2d_block_inference(&g, &x, &w, epi);
        // The NaN at the first pixel reaches the first pooled value of every output channel
        // of image 0, though every other value there is clamped to 0 by the ReLU.
        let plane = (g.out_h() / 2) * (g.out_w() / 2);
        for c in 0..g.c_out {
            assert!(y[c * plane].is_nan(), "channel {c}");
            assert_eq!(y[c * plane + plane - 1], 0.0);
        }
        assert!(y[g.c_out * plane..].iter().all(|v| !v.is_nan()));
    }

    /// The gradients of `loss = Σ y ⊙ r` for a fixed random `r` are linear functionals of the
    /// definition; check each by its own finite difference in f64 (exact up to rounding, since
    /// the loss is linear in each argument).
    #[test]
    fn backward_matches_finite_differences_of_the_definition() {
        for g in geometries() {
            let x = values(g.batch * g.c_in * g.h * g.w, 4);
            let w = values(g.c_out * g.k(), 5);
            let r = values(g.batch * g.c_out * g.l(), 6);
            let loss = |x: &[f32], w: &[f32], b: &[f32]| -> f64 {
                naive_forward(&g, x, w, Some(b))
                    .iter()
                    .zip(&r)
                    .map(|(y, r)| y * *r as f64)
                    .sum()
            };
            let b0 = vec![0.0f32; g.c_out];
            let (dx, dw, db) = conv2d_backward(&g, &x, &w, &r, true);
            // Without dx: the same weight and bias gradients, bit for bit, and no dx.
            let (no_dx, dw2, db2) = conv2d_backward(&g, &x, &w, &r, false);
            assert!(no_dx.is_empty());
            assert_eq!((&dw2, &db2), (&dw, &db));
            let base = loss(&x, &w, &b0);
            // The loss is linear in x (and in w, and in b): a unit step in element i of one
            // argument changes it by exactly that element's derivative.
            let check = |name: &str, got: &[f32], stepped: &dyn Fn(usize) -> f64| {
                for (i, &got) in got.iter().enumerate() {
                    let want = stepped(i) - base;
                    assert!(
                        (got as f64 - want).abs() < TOL,
                        "{g:?} {name}[{i}] = {got}, want {want}"
                    );
                }
            };
            let step = |v: &[f32], i: usize| {
                let mut v = v.to_vec();
                v[i] += 1.0;
                v
            };
            check("dx", &dx, &|i| loss(&step(&x, i), &w, &b0));
            check("dw", &dw, &|i| loss(&x, &step(&w, i), &b0));
            check("db", &db, &|i| loss(&x, &w, &step(&b0, i)));
        }
    }

    #[test]
    fn valid_range_agrees_with_src() {
        for (stride, pad, len, t) in [
            (1, 1, 5, 0),
            (1, 1, 5, 2),
            (2, 1, 9, 0),
            (3, 2, 3, 1),
            (2, 0, 4, 3),
        ] {
            let out = (len + 2 * pad - 3) / stride + 1;
            let (lo, hi) = ConvGeometry::valid_range(t, stride, pad, len, out);
            for o in 0..out {
                let inside = ConvGeometry::src(o, t, stride, pad, len).is_some();
                assert_eq!(
                    inside,
                    (lo..hi).contains(&o),
                    "stride {stride} pad {pad} len {len} tap {t} o {o}"
                );
            }
        }
    }
}
