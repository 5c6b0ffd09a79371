//! The MFCC step: orthonormal DCT-II of the log-mel frame and optional liftering.

/// DCT-II with `norm='ortho'` (scipy `fftpack.dct(type=2, norm='ortho')`, what
/// `librosa.feature.mfcc` uses), truncated to the first `n_out` coefficients, with librosa's
/// liftering folded into the rows.
///
/// `y[k] = s_k sum_n x[n] cos(pi k (2n + 1) / (2N))`, `s_0 = sqrt(1/N)`, `s_k = sqrt(2/N)`;
/// liftering multiplies `y[k]` by `1 + (L/2) sin(pi (k + 1) / L)` when `L > 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dct {
    n_in: usize,
    n_out: usize,
    /// Row-major `[n_out, n_in]`, built in f64 and rounded once.
    matrix: Vec<f32>,
}

impl Dct {
    /// Plan a DCT from `n_in` log-mel bands to `n_out <= n_in` coefficients.
    pub fn new(n_in: usize, n_out: usize, lifter: f32) -> Self {
        let n = n_in as f64;
        let mut matrix = Vec::with_capacity(n_in * n_out);
        for k in 0..n_out {
            let scale = if k == 0 {
                (1.0 / n).sqrt()
            } else {
                (2.0 / n).sqrt()
            };
            let lift = if lifter > 0.0 {
                let l = lifter as f64;
                1.0 + (l / 2.0) * (std::f64::consts::PI * (k + 1) as f64 / l).sin()
            } else {
                1.0
            };
            for i in 0..n_in {
                let c = (std::f64::consts::PI * k as f64 * (2 * i + 1) as f64 / (2.0 * n)).cos();
                matrix.push((scale * lift * c) as f32);
            }
        }
        Dct {
            n_in,
            n_out,
            matrix,
        }
    }

    /// Number of output coefficients.
    pub fn n_out(&self) -> usize {
        self.n_out
    }

    /// Transform one frame: `input.len() == n_in`, `out.len() == n_out`.
    #[inline]
    pub fn apply(&self, input: &[f32], out: &mut [f32]) {
        for (o, row) in out.iter_mut().zip(self.matrix.chunks_exact(self.n_in)) {
            let mut acc = [0.0f32; 4];
            for (x, w) in input.chunks_exact(4).zip(row.chunks_exact(4)) {
                for j in 0..4 {
                    acc[j] += x[j] * w[j];
                }
            }
            let tail = self.n_in / 4 * 4;
            let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
            for (x, w) in input[tail..].iter().zip(&row[tail..]) {
                s += x * w;
            }
            *o = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ortho_dct_is_orthonormal_and_matches_scipy() {
        // scipy.fftpack.dct([1., 2., 3., 4.], type=2, norm='ortho')
        //   == [5.0, -2.2304425, 0.0, -0.15851267]
        let d = Dct::new(4, 4, 0.0);
        let mut out = [0.0; 4];
        d.apply(&[1.0, 2.0, 3.0, 4.0], &mut out);
        for (a, b) in out.iter().zip([5.0, -2.230_442_5, 0.0, -0.158_512_67]) {
            assert!((a - b).abs() < 1e-5, "{out:?}");
        }
        // Orthonormal: energy is preserved for any input when n_out == n_in.
        let d = Dct::new(13, 13, 0.0);
        let x: Vec<f32> = (0..13).map(|i| (i as f32 * 1.7).cos()).collect();
        let mut y = vec![0.0; 13];
        d.apply(&x, &mut y);
        let ex: f32 = x.iter().map(|v| v * v).sum();
        let ey: f32 = y.iter().map(|v| v * v).sum();
        assert!((ex - ey).abs() < 1e-4 * ex);
    }

    #[test]
    fn lifter_follows_librosa() {
        // M *= 1 + (lifter / 2) * sin(pi * arange(1, 1 + n_mfcc) / lifter)
        let plain = Dct::new(8, 3, 0.0);
        let lift = Dct::new(8, 3, 22.0);
        let x = [1.0, -2.0, 0.5, 3.0, 0.0, 1.0, 2.0, -1.0];
        let (mut a, mut b) = ([0.0; 3], [0.0; 3]);
        plain.apply(&x, &mut a);
        lift.apply(&x, &mut b);
        for k in 0..3 {
            let f = 1.0 + 11.0 * (std::f32::consts::PI * (k + 1) as f32 / 22.0).sin();
            assert!((a[k] * f - b[k]).abs() < 1e-4, "{k}");
        }
    }
}
