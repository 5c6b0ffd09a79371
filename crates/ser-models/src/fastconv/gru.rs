//! Bidirectional GRU inference on plain `f32` slices.
//!
//! burn 0.22.1's `Gru` steps through time with six small matrix products per step (one per
//! gate for the input and for the hidden state, each allocating) and writes each step's state
//! with a `slice_assign` into the output; for the CRNN's BiGRU on a 4 s clip (50 steps,
//! 128 units) that was ~15% of a prediction (perf, docs/benchmarks.md). Here the input
//! products of every step and both directions are one GEMM before the loop, and each step is
//! one pass of dot products over the concatenated hidden weights.
//!
//! The cell is burn's default GRU (`reset_after = true`, sigmoid gates, tanh candidate, no
//! clipping), as in PyTorch's `nn.GRU`:
//!
//! ```text
//! z = σ(x Wxz + bxz + h Whz + bhz)
//! r = σ(x Wxr + bxr + h Whr + bhr)
//! n = tanh(x Wxn + bxn + r ⊙ (h Whn + bhn))
//! h' = (1 - z) ⊙ n + z ⊙ h
//! ```

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

/// The weights of one direction, gates concatenated in the order update, reset, new.
#[derive(Debug, Clone)]
pub struct GruWeights {
    /// Input weights `[d_input, 3 * hidden]` (burn's `Linear` layout: input-major).
    pub input: Vec<f32>,
    /// Input biases `[3 * hidden]`.
    pub input_bias: Vec<f32>,
    /// Hidden weights transposed, `[3 * hidden, hidden]`: row `g` holds the weights of
    /// output `g`, so that each step is `3 * hidden` contiguous dot products.
    pub hidden_t: Vec<f32>,
    /// Hidden biases `[3 * hidden]`.
    pub hidden_bias: Vec<f32>,
}

/// `x [batch, time, d_input]` through a bidirectional GRU with `hidden` units per direction
/// -> `[batch, time, 2 * hidden]` (forward direction first), every sequence run over all
/// `time` steps from a zero state, as burn's `BiGru::forward(x, None)`.
///
/// # Panics
/// When the slice lengths do not match the shapes.
pub fn bigru_inference(
    x: &[f32],
    [batch, time, d_input]: [usize; 3],
    hidden: usize,
    [fwd, rev]: [&GruWeights; 2],
) -> Vec<f32> {
    assert_eq!(x.len(), batch * time * d_input, "GRU input length");
    let g3 = 3 * hidden;
    for w in [fwd, rev] {
        assert_eq!(w.input.len(), d_input * g3, "GRU input weights");
        assert_eq!(w.hidden_t.len(), g3 * hidden, "GRU hidden weights");
        assert!(
            w.input_bias.len() == g3 && w.hidden_bias.len() == g3,
            "GRU biases"
        );
    }
    let mut out = vec![0.0f32; batch * time * 2 * hidden];
    if out.is_empty() {
        return out;
    }
    let rows = batch * time;
    let x = ArrayView2::from_shape((rows, d_input), x).expect("length checked above");
    let mut h = vec![0.0f32; hidden];
    let mut hp = vec![0.0f32; g3];
    let mut xp = vec![0.0f32; rows * g3];
    for (dir, w) in [fwd, rev].into_iter().enumerate() {
        // Input products of every step at once: xp = x Wx + bx, [batch * time, 3 * hidden].
        for row in xp.chunks_exact_mut(g3) {
            row.copy_from_slice(&w.input_bias);
        }
        let wx = ArrayView2::from_shape((d_input, g3), &w.input[..]).expect("checked above");
        let mut xpv = ArrayViewMut2::from_shape((rows, g3), &mut xp[..]).expect("sized above");
        general_mat_mul(1.0, &x, &wx, 1.0, &mut xpv);
        for b in 0..batch {
            h.fill(0.0);
            for step in 0..time {
                let t = if dir == 0 { step } else { time - 1 - step };
                for ((p, wrow), &bias) in hp
                    .iter_mut()
                    .zip(w.hidden_t.chunks_exact(hidden))
                    .zip(&w.hidden_bias)
                {
                    *p = dot(&h, wrow) + bias;
                }
                let xt = &xp[(b * time + t) * g3..][..g3];
                let (xz, xr, xn) = (&xt[..hidden], &xt[hidden..2 * hidden], &xt[2 * hidden..]);
                let (hz, hr, hn) = (&hp[..hidden], &hp[hidden..2 * hidden], &hp[2 * hidden..]);
                let o = &mut out[(b * time + t) * 2 * hidden + dir * hidden..][..hidden];
                for j in 0..hidden {
                    let z = sigmoid(xz[j] + hz[j]);
                    let r = sigmoid(xr[j] + hr[j]);
                    let n = (xn[j] + r * hn[j]).tanh();
                    h[j] = (1.0 - z) * n + z * h[j];
                    o[j] = h[j];
                }
            }
        }
    }
    out
}

fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + (-v).exp())
}

/// Dot product in eight independent lanes, so that the compiler can keep them in one SIMD
/// register (a single running sum is a dependency chain it may not reorder).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (ac, ar) = a.as_chunks::<8>();
    let (bc, br) = b.as_chunks::<8>();
    let mut lanes = [0.0f32; 8];
    for (x, y) in ac.iter().zip(bc) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    let tail: f32 = ar.iter().zip(br).map(|(x, y)| x * y).sum();
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fastconv::test_values as values;

    fn weights(d_input: usize, hidden: usize, seed: u32) -> GruWeights {
        GruWeights {
            input: values(d_input * 3 * hidden, seed),
            input_bias: values(3 * hidden, seed + 1),
            hidden_t: values(3 * hidden * hidden, seed + 2),
            hidden_bias: values(3 * hidden, seed + 3),
        }
    }

    /// The cell equations of the module docs, one scalar at a time, in f64.
    fn reference(
        x: &[f32],
        [batch, time, d]: [usize; 3],
        hid: usize,
        w: &GruWeights,
        rev: bool,
    ) -> Vec<f64> {
        let mut out = vec![0.0; batch * time * hid];
        for b in 0..batch {
            let mut h = vec![0.0f64; hid];
            for step in 0..time {
                let t = if rev { time - 1 - step } else { step };
                let xt = &x[(b * time + t) * d..][..d];
                let gate = |g: usize, h: &[f64]| {
                    let xs: f64 = (0..d)
                        .map(|i| xt[i] as f64 * w.input[i * 3 * hid + g] as f64)
                        .sum();
                    let hs: f64 = (0..hid)
                        .map(|i| h[i] * w.hidden_t[g * hid + i] as f64)
                        .sum();
                    (xs + w.input_bias[g] as f64, hs + w.hidden_bias[g] as f64)
                };
                let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
                let next: Vec<f64> = (0..hid)
                    .map(|j| {
                        let (xz, hz) = gate(j, &h);
                        let (xr, hr) = gate(hid + j, &h);
                        let (xn, hn) = gate(2 * hid + j, &h);
                        let (z, r) = (sig(xz + hz), sig(xr + hr));
                        let n = (xn + r * hn).tanh();
                        (1.0 - z) * n + z * h[j]
                    })
                    .collect();
                h = next;
                out[(b * time + t) * hid..][..hid].copy_from_slice(&h);
            }
        }
        out
    }

    #[test]
    fn both_directions_match_the_cell_equations() {
        // 11 units: not a multiple of the 8 dot-product lanes, so the tail runs too.
        let (batch, time, d, hid) = (2, 5, 6, 11);
        let x = values(batch * time * d, 1);
        let (f, r) = (weights(d, hid, 10), weights(d, hid, 20));
        let got = bigru_inference(&x, [batch, time, d], hid, [&f, &r]);
        let (want_f, want_r) = (
            reference(&x, [batch, time, d], hid, &f, false),
            reference(&x, [batch, time, d], hid, &r, true),
        );
        for bt in 0..batch * time {
            for j in 0..hid {
                let (a, b) = (got[bt * 2 * hid + j], got[bt * 2 * hid + hid + j]);
                assert!(
                    (a as f64 - want_f[bt * hid + j]).abs() < 1e-5,
                    "fwd {bt} {j}"
                );
                assert!(
                    (b as f64 - want_r[bt * hid + j]).abs() < 1e-5,
                    "rev {bt} {j}"
                );
            }
        }
    }

    #[test]
    fn an_empty_sequence_gives_an_empty_output() {
        let w = weights(3, 4, 1);
        assert!(bigru_inference(&[], [1, 0, 3], 4, [&w, &w]).is_empty());
    }
}
