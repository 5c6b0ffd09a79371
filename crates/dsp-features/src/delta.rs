//! Delta features with `librosa.feature.delta` semantics (librosa 0.11):
//! `scipy.signal.savgol_filter(data, width, polyorder=order, deriv=order, axis=-1, mode='interp')`.
//!
//! Interior frames use the Savitzky-Golay filter (least-squares polynomial of degree `order` over
//! `width` frames, differentiated `order` times at the centre). With `mode='interp'`, the first
//! and last `width / 2` frames instead take the derivative of one polynomial fitted to the first
//! (last) `width` frames, evaluated at their own positions. Both are linear in the data, so
//! every coefficient is precomputed in f64.

use ndarray::{Array2, ArrayView2};

use crate::error::{FeatureError, Result};

/// Planned Savitzky-Golay derivative filter for one `(width, order)`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeltaPlan {
    width: usize,
    /// `[width]`: output = sum_j centre[j] * x[i - width/2 + j]
    centre: Vec<f64>,
    /// `[width/2][width]`: output at frame q < width/2 from frames 0..width
    left: Vec<Vec<f64>>,
    /// `[width/2][width]`: output at frame n - width/2 + q from frames n-width..n
    right: Vec<Vec<f64>>,
}

/// `(A^T A)^{-1} A^T` for `A[j][k] = positions[j]^k`, `k = 0..=degree`: row `k` maps the data to
/// the `k`-th polynomial coefficient of the least-squares fit.
fn poly_fit_operator(positions: &[f64], degree: usize) -> Vec<Vec<f64>> {
    let m = degree + 1;
    let a: Vec<Vec<f64>> = positions
        .iter()
        .map(|&t| (0..m).map(|k| t.powi(k as i32)).collect())
        .collect();
    // Normal matrix, augmented with the identity for Gauss-Jordan inversion (m <= 3: well conditioned).
    let mut aug = vec![vec![0.0f64; 2 * m]; m];
    for r in 0..m {
        for c in 0..m {
            aug[r][c] = a.iter().map(|row| row[r] * row[c]).sum();
        }
        aug[r][m + r] = 1.0;
    }
    for col in 0..m {
        let piv = (col..m)
            .max_by(|&x, &y| aug[x][col].abs().total_cmp(&aug[y][col].abs()))
            .unwrap_or(col);
        aug.swap(col, piv);
        let d = aug[col][col];
        for v in aug[col].iter_mut() {
            *v /= d;
        }
        for r in 0..m {
            if r != col {
                let f = aug[r][col];
                let pivot_row = aug[col].clone();
                for (v, p) in aug[r].iter_mut().zip(pivot_row) {
                    *v -= f * p;
                }
            }
        }
    }
    (0..m)
        .map(|k| {
            positions
                .iter()
                .enumerate()
                .map(|(j, _)| (0..m).map(|c| aug[k][m + c] * a[j][c]).sum())
                .collect()
        })
        .collect()
}

/// Coefficients giving the `deriv`-th derivative at `t` of the fitted polynomial.
fn derivative_at(op: &[Vec<f64>], deriv: usize, t: f64) -> Vec<f64> {
    let width = op[0].len();
    (0..width)
        .map(|j| {
            (deriv..op.len())
                .map(|k| {
                    // d^deriv/dt^deriv t^k = k! / (k - deriv)! t^(k - deriv)
                    let falling: f64 = ((k - deriv + 1)..=k).map(|v| v as f64).product();
                    falling * t.powi((k - deriv) as i32) * op[k][j]
                })
                .sum()
        })
        .collect()
}

impl DeltaPlan {
    /// Plan deltas of `order` (1 or 2) over `width` frames (odd, `> order`).
    pub fn new(width: usize, order: usize) -> Result<Self> {
        if width < 3 || width.is_multiple_of(2) {
            return Err(FeatureError::param(
                "delta_width",
                width,
                "must be odd and >= 3",
            ));
        }
        if order == 0 || order >= width {
            return Err(FeatureError::param(
                "deltas",
                order,
                "order must be >= 1 and < width",
            ));
        }
        let h = width / 2;
        let centred: Vec<f64> = (0..width).map(|j| j as f64 - h as f64).collect();
        let centre = derivative_at(&poly_fit_operator(&centred, order), order, 0.0);
        let edge: Vec<f64> = (0..width).map(|j| j as f64).collect();
        let edge_op = poly_fit_operator(&edge, order);
        let left = (0..h)
            .map(|q| derivative_at(&edge_op, order, q as f64))
            .collect();
        let right = (0..h)
            .map(|q| derivative_at(&edge_op, order, (width - h + q) as f64))
            .collect();
        Ok(DeltaPlan {
            width,
            centre,
            left,
            right,
        })
    }

    /// Deltas of every row of `data` (`[bins, frames]`) along the frame axis.
    pub fn apply(&self, data: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        let (bins, n) = data.dim();
        if n < self.width {
            return Err(FeatureError::TooFewFramesForDeltas {
                frames: n,
                width: self.width,
            });
        }
        let h = self.width / 2;
        let mut out = Array2::<f32>::zeros((bins, n));
        for (row, mut orow) in data.rows().into_iter().zip(out.rows_mut()) {
            let x: Vec<f64> = row.iter().map(|&v| v as f64).collect();
            let dot = |c: &[f64], start: usize| -> f32 {
                c.iter()
                    .zip(&x[start..start + self.width])
                    .map(|(a, b)| a * b)
                    .sum::<f64>() as f32
            };
            for i in h..n - h {
                orow[i] = dot(&self.centre, i - h);
            }
            for q in 0..h {
                orow[q] = dot(&self.left[q], 0);
                orow[n - h + q] = dot(&self.right[q], n - self.width);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn first_order_centre_is_the_classic_regression() {
        // Savitzky-Golay order 1 derivative = sum t x[t] / sum t^2 (t = -4..4, sum t^2 = 60).
        let p = DeltaPlan::new(9, 1).unwrap();
        for (j, c) in p.centre.iter().enumerate() {
            assert!((c - (j as f64 - 4.0) / 60.0).abs() < 1e-12);
        }
    }

    #[test]
    fn polynomials_are_differentiated_exactly_everywhere() {
        // x = t^2: first derivative 2t, second derivative 2, at every frame including the edges.
        let n = 12;
        let x = Array2::from_shape_fn((1, n), |(_, t)| (t * t) as f32);
        let d1 = DeltaPlan::new(9, 2).unwrap().apply(x.view()).unwrap();
        for t in 0..n {
            assert!((d1[[0, t]] - 2.0).abs() < 1e-3, "{t}: {}", d1[[0, t]]);
        }
        let lin = Array2::from_shape_fn((1, n), |(_, t)| 3.0 * t as f32 + 1.0);
        let d = DeltaPlan::new(5, 1).unwrap().apply(lin.view()).unwrap();
        for t in 0..n {
            assert!((d[[0, t]] - 3.0).abs() < 1e-4);
        }
    }

    #[test]
    fn too_few_frames_is_an_error() {
        let x = array![[1.0f32, 2.0, 3.0]];
        assert!(matches!(
            DeltaPlan::new(9, 1).unwrap().apply(x.view()),
            Err(FeatureError::TooFewFramesForDeltas {
                frames: 3,
                width: 9
            })
        ));
        assert!(DeltaPlan::new(4, 1).is_err());
        assert!(DeltaPlan::new(3, 3).is_err());
    }
}
