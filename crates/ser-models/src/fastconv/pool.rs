//! Non-overlapping 2-D max pooling (stride = kernel, no padding, floor mode) on plain `f32`
//! slices, forward with the winning positions and backward by scattering to them.
//!
//! burn Flex 0.22.1 runs every 2-D max pool through its 3-D kernel with integer divisions in
//! the innermost loop; for the CRNN's 2x2 pools after the second and third blocks this was
//! ~16% of a training epoch (perf, docs/benchmarks.md). Ties keep the first position in
//! row-major window order and NaN wins, as burn does.

use rayon::prelude::*;

/// `[batch * channels, h, w]` -> `(y [.., h / kh, w / kw], argmax offsets within each plane)`.
///
/// # Panics
/// When `x.len() != planes * h * w` or a kernel side is 0.
pub fn max_pool2d_forward(
    x: &[f32],
    [planes, h, w]: [usize; 3],
    [kh, kw]: [usize; 2],
) -> (Vec<f32>, Vec<u32>) {
    assert_eq!(x.len(), planes * h * w, "max pool input length");
    assert!(kh > 0 && kw > 0, "max pool kernel");
    assert!(
        h * w <= u32::MAX as usize,
        "max pool plane too large for u32 offsets"
    );
    let (oh, ow) = (h / kh, w / kw);
    let mut y = vec![0.0f32; planes * oh * ow];
    let mut idx = vec![0u32; planes * oh * ow];
    if oh * ow == 0 {
        return (y, idx);
    }
    y.par_chunks_mut(oh * ow)
        .zip(idx.par_chunks_mut(oh * ow))
        .zip(x.par_chunks(h * w))
        .for_each(|((yp, ip), xp)| {
            for r in 0..oh {
                for c in 0..ow {
                    let mut best = (r * kh) * w + c * kw;
                    for i in 0..kh {
                        let row = (r * kh + i) * w + c * kw;
                        for j in 0..kw {
                            let v = xp[row + j];
                            if v > xp[best] || (v.is_nan() && !xp[best].is_nan()) {
                                best = row + j;
                            }
                        }
                    }
                    yp[r * ow + c] = xp[best];
                    ip[r * ow + c] = best as u32;
                }
            }
        });
    (y, idx)
}

/// The input gradient: each output gradient goes to its window's winning position.
///
/// # Panics
/// When `dy` and `idx` differ in length or do not divide into `planes`.
pub fn max_pool2d_backward(dy: &[f32], idx: &[u32], [planes, h, w]: [usize; 3]) -> Vec<f32> {
    assert_eq!(dy.len(), idx.len(), "max pool gradient and indices");
    let mut dx = vec![0.0f32; planes * h * w];
    if dy.is_empty() || planes == 0 {
        return dx;
    }
    let per_plane = dy.len() / planes;
    assert_eq!(per_plane * planes, dy.len(), "max pool gradient length");
    dx.par_chunks_mut(h * w)
        .zip(dy.par_chunks(per_plane).zip(idx.par_chunks(per_plane)))
        .for_each(|(dxp, (dyp, ip))| {
            // Windows do not overlap, so every position receives at most one gradient.
            for (&g, &i) in dyp.iter().zip(ip) {
                dxp[i as usize] = g;
            }
        });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_first_maximum_and_routes_the_gradient_there() {
        // One 4x5 plane, 2x2 windows -> 2x2 output; the last column is dropped (floor).
        #[rustfmt::skip]
        let x = [
            1.0, 5.0,  2.0, 2.0,  9.0,
            5.0, 0.0,  1.0, 3.0,  9.0,
            -1.0, -2.0,  f32::NAN, 4.0,  0.0,
            -3.0, -1.0,  7.0, 8.0,  0.0,
        ];
        let (y, idx) = max_pool2d_forward(&x, [1, 4, 5], [2, 2]);
        assert_eq!(idx, vec![1, 8, 10, 12]);
        assert_eq!((y[0], y[1], y[2]), (5.0, 3.0, -1.0));
        assert!(y[3].is_nan());
        let dx = max_pool2d_backward(&[1.0, 2.0, 3.0, 4.0], &idx, [1, 4, 5]);
        let mut want = [0.0f32; 20];
        for (i, g) in [(1, 1.0), (8, 2.0), (10, 3.0), (12, 4.0)] {
            want[i] = g;
        }
        assert_eq!(dx, want);
    }
}
