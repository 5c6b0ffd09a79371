//! Batch normalisation over `[batch, channels, ...]` in training mode, forward and backward,
//! on plain `f32` slices: one pass per statistic instead of burn's composite of swap-dims,
//! reshapes (layout copies) and broadcasts.
//!
//! The formulas are the standard ones (Ioffe & Szegedy 2015, section 3; PyTorch's
//! `batch_norm_backward` in `aten/src/ATen/native/Normalization.cpp`), with `N` the elements
//! per channel and the biased variance, as burn's `batch_norm_train` returns:
//!
//! * `y = γ (x - μ) / sqrt(σ² + ε) + β`
//! * `dβ = Σ dy`, `dγ = Σ dy x̂`, `dx = γ / sqrt(σ² + ε) · (dy - dβ / N - x̂ dγ / N)`.
//!
//! Sums are taken per plane (one image's one channel, at most a few thousand values) in eight
//! f32 lanes, which the compiler vectorises, and the planes' sums are added in f64: `N`
//! reaches 32 × 4800 here, where a single f32 running sum would lose ~3 digits.

use rayon::prelude::*;

/// `Σ f(a[i], b[i])` in eight independent f32 lanes (a single accumulator is one dependent add
/// per element, ~4x slower), returned in f64.
#[inline]
fn lane_sum(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f64 {
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (xa, xb) in ca.zip(cb) {
        for k in 0..8 {
            lanes[k] += f(xa[k], xb[k]);
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(&x, &y)| f(x, y) as f64).sum();
    lanes.iter().map(|&v| v as f64).sum::<f64>() + tail
}

/// `Σ f(a[i])`, as [`lane_sum`].
#[inline]
fn lane_sum1(a: &[f32], f: impl Fn(f32) -> f32) -> f64 {
    lane_sum(a, a, |v, _| f(v))
}

/// f64 statistics back to the f32 the tensors hold.
fn to_f32(v: Vec<f64>) -> Vec<f32> {
    v.into_iter().map(|v| v as f32).collect()
}

/// Per-channel sums over `x`'s `[batch, channels, plane]` layout, in parallel over channels.
fn per_channel<F>(batch: usize, channels: usize, plane: usize, f: F) -> Vec<f64>
where
    F: Fn(usize, std::ops::Range<usize>) -> f64 + Sync,
{
    (0..channels)
        .into_par_iter()
        .map(|c| {
            (0..batch)
                .map(|b| {
                    let start = (b * channels + c) * plane;
                    f(c, start..start + plane)
                })
                .sum()
        })
        .collect()
}

/// Forward pass with the batch's own statistics: `(y, mean, biased variance)`.
///
/// # Panics
/// When `x.len() != batch * channels * plane` or `gamma`/`beta` are not `channels` long.
pub fn batch_norm_train(
    x: &[f32],
    [batch, channels, plane]: [usize; 3],
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    assert_eq!(x.len(), batch * channels * plane, "batch norm input length");
    assert_eq!(
        (gamma.len(), beta.len()),
        (channels, channels),
        "batch norm parameters"
    );
    let n = (batch * plane).max(1) as f64;
    let mean: Vec<f64> = per_channel(batch, channels, plane, |_, r| lane_sum1(&x[r], |v| v))
        .into_iter()
        .map(|s| s / n)
        .collect();
    let var: Vec<f64> = per_channel(batch, channels, plane, |c, r| {
        let m = mean[c] as f32;
        lane_sum1(&x[r], |v| (v - m) * (v - m))
    })
    .into_iter()
    .map(|s| s / n)
    .collect();
    // y = x * scale + shift per channel.
    let scale: Vec<f32> = (0..channels)
        .map(|c| (gamma[c] as f64 / (var[c] + epsilon).sqrt()) as f32)
        .collect();
    let shift: Vec<f32> = (0..channels)
        .map(|c| beta[c] - (mean[c] as f32) * scale[c])
        .collect();
    let mut y = vec![0.0f32; x.len()];
    if plane > 0 {
        y.par_chunks_mut(plane)
            .zip(x.par_chunks(plane))
            .enumerate()
            .for_each(|(i, (yp, xp))| {
                let c = i % channels;
                for (o, &v) in yp.iter_mut().zip(xp) {
                    *o = v * scale[c] + shift[c];
                }
            });
    }
    (y, to_f32(mean), to_f32(var))
}

/// Gradients of [`batch_norm_train`]: `(dx, dgamma, dbeta)`.
///
/// # Panics
/// When the lengths disagree with the shape.
#[allow(clippy::too_many_arguments)]
pub fn batch_norm_train_backward(
    x: &[f32],
    [batch, channels, plane]: [usize; 3],
    gamma: &[f32],
    mean: &[f32],
    var: &[f32],
    epsilon: f64,
    dy: &[f32],
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    assert_eq!(x.len(), batch * channels * plane, "batch norm input length");
    assert_eq!(dy.len(), x.len(), "batch norm output gradient length");
    assert_eq!(
        (gamma.len(), mean.len(), var.len()),
        (channels, channels, channels)
    );
    let n = (batch * plane).max(1) as f64;
    let inv_std: Vec<f64> = var
        .iter()
        .map(|&v| 1.0 / (v as f64 + epsilon).sqrt())
        .collect();
    let dbeta = per_channel(batch, channels, plane, |_, r| lane_sum1(&dy[r], |g| g));
    let dgamma = per_channel(batch, channels, plane, |c, r| {
        let m = mean[c];
        lane_sum(&dy[r.clone()], &x[r], |g, v| g * (v - m)) * inv_std[c]
    });
    // dx = k (dy - a - x̂ b) with k = γ inv_std, a = dβ / N, b = dγ / N; x̂ = (x - μ) inv_std.
    let mut dx = vec![0.0f32; x.len()];
    if plane > 0 {
        dx.par_chunks_mut(plane)
            .zip(dy.par_chunks(plane).zip(x.par_chunks(plane)))
            .enumerate()
            .for_each(|(i, (dxp, (dyp, xp)))| {
                let c = i % channels;
                let s = inv_std[c];
                let k = (gamma[c] as f64 * s) as f32;
                let a = (dbeta[c] / n) as f32;
                // x̂ b = (x - μ) s b: fold s b into one factor.
                let sb = (s * dgamma[c] / n) as f32;
                let m = mean[c];
                for ((o, &g), &v) in dxp.iter_mut().zip(dyp).zip(xp) {
                    *o = k * (g - a - (v - m) * sb);
                }
            });
    }
    (dx, to_f32(dgamma), to_f32(dbeta))
}
