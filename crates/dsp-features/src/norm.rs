//! Feature normalisation: global per-bin statistics ([`NormStats`]) and per-utterance CMVN.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{FeatureError, Result};
use crate::tensor::FeatureMatrix;

/// Standard deviations below this are treated as this value when dividing, so a constant bin
/// (e.g. the clipped floor of silence) maps to 0 instead of inf/NaN.
pub const STD_FLOOR: f32 = 1e-5;

/// Per-bin mean and standard deviation over all frames of many utterances (the training set),
/// saved with a model and applied at inference: `x' = (x - mean[bin]) / max(std[bin], STD_FLOOR)`.
///
/// The standard deviation is the population one (divide by the frame count, numpy's default
/// `ddof=0`); accumulation is in f64 so millions of frames lose no precision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NormStats {
    /// Mean of every bin.
    pub mean: Vec<f32>,
    /// Standard deviation of every bin.
    pub std: Vec<f32>,
}

impl NormStats {
    /// Fit on every frame of `matrices` (all with the same number of bins).
    pub fn fit(matrices: &[&FeatureMatrix]) -> Result<Self> {
        let first = matrices.first().ok_or(FeatureError::Empty {
            context: "NormStats::fit",
        })?;
        let bins = first.bins();
        let mut sum = vec![0.0f64; bins];
        let mut sum_sq = vec![0.0f64; bins];
        let mut count = 0usize;
        for m in matrices {
            if m.bins() != bins {
                return Err(FeatureError::BinMismatch {
                    context: "NormStats::fit",
                    expected: bins,
                    got: m.bins(),
                });
            }
            for (b, row) in m.data.rows().into_iter().enumerate() {
                for &v in row {
                    sum[b] += v as f64;
                    sum_sq[b] += v as f64 * v as f64;
                }
            }
            count += m.frames();
        }
        if count == 0 {
            return Err(FeatureError::Empty {
                context: "NormStats::fit (no frames)",
            });
        }
        let n = count as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let std = sum_sq
            .iter()
            .zip(&mean)
            .map(|(sq, m)| ((sq / n - m * m).max(0.0)).sqrt() as f32)
            .collect();
        Ok(NormStats {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
        })
    }

    /// Number of bins the statistics describe.
    pub fn bins(&self) -> usize {
        self.mean.len()
    }

    /// Normalise `m` in place.
    pub fn apply(&self, m: &mut FeatureMatrix) -> Result<()> {
        if m.bins() != self.bins() || self.std.len() != self.bins() {
            return Err(FeatureError::BinMismatch {
                context: "NormStats::apply",
                expected: self.bins(),
                got: m.bins(),
            });
        }
        for ((mut row, &mu), &sd) in m.data.rows_mut().into_iter().zip(&self.mean).zip(&self.std) {
            let inv = 1.0 / sd.max(STD_FLOOR);
            row.mapv_inplace(|v| (v - mu) * inv);
        }
        Ok(())
    }

    /// Save as JSON, atomically (temp file + rename).
    pub fn save_json(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let json = serde_json::to_vec_pretty(self).map_err(|source| FeatureError::Json {
            path: path.into(),
            source,
        })?;
        ser_fs::write_atomic(path, &json).map_err(|source| FeatureError::Io {
            path: path.into(),
            source,
        })
    }

    /// Load from JSON written by [`NormStats::save_json`].
    pub fn load_json(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| FeatureError::Io {
            path: path.into(),
            source,
        })?;
        let s: NormStats = serde_json::from_slice(&bytes).map_err(|source| FeatureError::Json {
            path: path.into(),
            source,
        })?;
        if s.mean.len() != s.std.len() {
            return Err(FeatureError::BinMismatch {
                context: "NormStats::load_json (std vs mean)",
                expected: s.mean.len(),
                got: s.std.len(),
            });
        }
        Ok(s)
    }
}

/// Per-utterance cepstral mean and variance normalisation: every row (bin) of `m` gets zero mean
/// and unit standard deviation over its own frames (std floored at [`STD_FLOOR`]).
/// A matrix without frames is left unchanged.
pub fn cmvn(m: &mut FeatureMatrix) {
    let n = m.frames();
    if n == 0 {
        return;
    }
    for mut row in m.data.rows_mut() {
        let mean = row.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n as f64;
        let inv = 1.0 / (var.sqrt() as f32).max(STD_FLOOR);
        let mean = mean as f32;
        row.mapv_inplace(|v| (v - mean) * inv);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::{FeatureKind, FeatureMeta};
    use ndarray::array;

    fn fm(data: ndarray::Array2<f32>) -> FeatureMatrix {
        FeatureMatrix {
            data,
            meta: FeatureMeta {
                kind: FeatureKind::LogMel,
                sample_rate: 16000,
                n_fft: 512,
                hop_length: 160,
            },
        }
    }

    #[test]
    fn fit_pools_frames_of_all_utterances() {
        let a = fm(array![[1.0, 3.0], [0.0, 0.0]]);
        let b = fm(array![[5.0], [0.0]]);
        let s = NormStats::fit(&[&a, &b]).unwrap();
        // bin 0: values 1, 3, 5 -> mean 3, population std sqrt(8/3)
        assert!((s.mean[0] - 3.0).abs() < 1e-6);
        assert!((s.std[0] - (8.0f32 / 3.0).sqrt()).abs() < 1e-6);
        assert_eq!(s.std[1], 0.0);
        let mut c = a.clone();
        s.apply(&mut c).unwrap();
        assert!((c.data[[0, 0]] + 2.0 / (8.0f32 / 3.0).sqrt()).abs() < 1e-5);
        assert_eq!(c.data[[1, 0]], 0.0, "constant bin maps to 0, not NaN");
    }

    #[test]
    fn errors_and_json_round_trip() {
        assert!(matches!(
            NormStats::fit(&[]),
            Err(FeatureError::Empty { .. })
        ));
        let a = fm(array![[1.0, 2.0]]);
        let b = fm(array![[1.0], [2.0]]);
        assert!(matches!(
            NormStats::fit(&[&a, &b]),
            Err(FeatureError::BinMismatch { .. })
        ));
        let s = NormStats::fit(&[&a]).unwrap();
        let mut wrong = b.clone();
        assert!(s.apply(&mut wrong).is_err());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("norm.json");
        s.save_json(&p).unwrap();
        assert_eq!(NormStats::load_json(&p).unwrap(), s);
        assert!(matches!(
            NormStats::load_json(dir.path().join("missing.json")),
            Err(FeatureError::Io { .. })
        ));
    }

    #[test]
    fn cmvn_gives_zero_mean_unit_std_rows() {
        let mut m = fm(array![[1.0, 2.0, 3.0, 6.0], [4.0, 4.0, 4.0, 4.0]]);
        cmvn(&mut m);
        let r0 = m.data.row(0);
        let mean: f32 = r0.sum() / 4.0;
        let var: f32 = r0.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / 4.0;
        assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5);
        assert!(m.data.row(1).iter().all(|&v| v == 0.0));
    }
}
