//! Mel scales and the mel filterbank, exactly as `librosa.filters.mel` (librosa 0.11).
//!
//! The filterbank is built in f64 like librosa and rounded to f32 (librosa's default
//! `dtype=np.float32`). Each filter is stored sparsely as the range of FFT bins where it is
//! non-zero, so applying it costs about two multiply-adds per FFT bin instead of `n_mels`.

use crate::config::{MelNorm, MelScale};

// Slaney's Auditory Toolbox scale (librosa `hz_to_mel(htk=False)`): linear 200/3 Hz per mel below
// 1 kHz, logarithmic above with 27 mels per factor 6.4.
const F_SP: f64 = 200.0 / 3.0;
const MIN_LOG_HZ: f64 = 1000.0;
const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;

fn logstep() -> f64 {
    6.4f64.ln() / 27.0
}

/// Hz to mel (librosa `hz_to_mel`).
pub fn hz_to_mel(hz: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 2595.0 * (1.0 + hz / 700.0).log10(),
        MelScale::Slaney => {
            if hz >= MIN_LOG_HZ {
                MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / logstep()
            } else {
                hz / F_SP
            }
        }
    }
}

/// Mel to Hz (librosa `mel_to_hz`).
pub fn mel_to_hz(mel: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 700.0 * (10f64.powf(mel / 2595.0) - 1.0),
        MelScale::Slaney => {
            if mel >= MIN_LOG_MEL {
                MIN_LOG_HZ * (logstep() * (mel - MIN_LOG_MEL)).exp()
            } else {
                F_SP * mel
            }
        }
    }
}

/// `n` frequencies evenly spaced on the mel scale from `fmin` to `fmax` (librosa
/// `mel_frequencies`, with numpy `linspace` rounding: `start + i * step`, last = `stop`).
pub fn mel_frequencies(n: usize, fmin: f64, fmax: f64, scale: MelScale) -> Vec<f64> {
    let lo = hz_to_mel(fmin, scale);
    let hi = hz_to_mel(fmax, scale);
    let step = if n > 1 {
        (hi - lo) / (n - 1) as f64
    } else {
        0.0
    };
    (0..n)
        .map(|i| {
            let m = if n > 1 && i == n - 1 {
                hi
            } else {
                lo + i as f64 * step
            };
            mel_to_hz(m, scale)
        })
        .collect()
}

/// Centre frequency of each FFT bin (numpy `rfftfreq(n_fft, 1/sr)`).
pub fn fft_frequencies(sample_rate: f64, n_fft: usize) -> Vec<f64> {
    let val = 1.0 / (n_fft as f64 * (1.0 / sample_rate));
    (0..=n_fft / 2).map(|i| i as f64 * val).collect()
}

/// One triangular filter: its weights for FFT bins `start .. start + weights.len()`.
#[derive(Debug, Clone, PartialEq)]
pub struct MelFilter {
    /// First FFT bin with a non-zero weight.
    pub start: usize,
    /// The non-zero weights (may be empty for an empty filter).
    pub weights: Vec<f32>,
}

/// A mel filterbank `[n_mels, 1 + n_fft/2]`, stored sparsely.
#[derive(Debug, Clone, PartialEq)]
pub struct MelFilterbank {
    filters: Vec<MelFilter>,
    n_freqs: usize,
    /// The same filters with their weights zero-extended to a multiple of 4, so [`dot4`] has no
    /// scalar remainder loop; used when the power buffer has [`MEL_POWER_PADDING`] spare zeros.
    packed: Vec<MelFilter>,
}

/// Spare zeros after the `n_freqs` power values that let [`MelFilterbank::apply`] use the
/// packed filters (see [`MelFilterbank::power_buffer`]).
pub const MEL_POWER_PADDING: usize = 3;

/// Parameters of [`MelFilterbank::new`] (librosa's `filters.mel` arguments).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MelParams {
    /// Sample rate (Hz).
    pub sample_rate: f64,
    /// FFT size.
    pub n_fft: usize,
    /// Number of bands.
    pub n_mels: usize,
    /// Lowest edge (Hz).
    pub fmin: f64,
    /// Highest edge (Hz).
    pub fmax: f64,
    /// Mel scale.
    pub scale: MelScale,
    /// Normalisation.
    pub norm: MelNorm,
}

impl MelFilterbank {
    /// Build the filterbank like `librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk, norm)`.
    pub fn new(p: &MelParams) -> Self {
        let fftfreqs = fft_frequencies(p.sample_rate, p.n_fft);
        let mel_f = mel_frequencies(p.n_mels + 2, p.fmin, p.fmax, p.scale);
        let n_freqs = fftfreqs.len();
        let mut filters = Vec::with_capacity(p.n_mels);
        for i in 0..p.n_mels {
            let fdiff_lo = mel_f[i + 1] - mel_f[i];
            let fdiff_hi = mel_f[i + 2] - mel_f[i + 1];
            // librosa: 2 / (mel_f[i+2] - mel_f[i]) (area normalisation)
            let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
            let dense: Vec<f32> = fftfreqs
                .iter()
                .map(|&f| {
                    // ramps = mel_f - fftfreqs; lower = -ramps[i] / fdiff[i]; upper = ramps[i+2] / fdiff[i+1]
                    let lower = -(mel_f[i] - f) / fdiff_lo;
                    let upper = (mel_f[i + 2] - f) / fdiff_hi;
                    // librosa stores the triangle in a float32 array, then multiplies in place by
                    // the float64 enorm: two roundings, reproduced here.
                    let tri = 0f64.max(lower.min(upper)) as f32;
                    match p.norm {
                        MelNorm::Slaney => (tri as f64 * enorm) as f32,
                        MelNorm::None => tri,
                    }
                })
                .collect();
            let first = dense.iter().position(|&w| w != 0.0);
            let filter = match first {
                None => MelFilter {
                    start: 0,
                    weights: Vec::new(),
                },
                Some(s) => {
                    let last = dense.iter().rposition(|&w| w != 0.0).unwrap_or(s);
                    MelFilter {
                        start: s,
                        weights: dense[s..=last].to_vec(),
                    }
                }
            };
            filters.push(filter);
        }
        let packed = filters
            .iter()
            .map(|f| {
                let mut weights = f.weights.clone();
                weights.resize(f.weights.len().div_ceil(4) * 4, 0.0);
                MelFilter {
                    start: f.start,
                    weights,
                }
            })
            .collect();
        MelFilterbank {
            filters,
            n_freqs,
            packed,
        }
    }

    /// The filters, one per mel band.
    pub fn filters(&self) -> &[MelFilter] {
        &self.filters
    }

    /// Number of mel bands.
    pub fn n_mels(&self) -> usize {
        self.filters.len()
    }

    /// Number of FFT bins the filterbank expects.
    pub fn n_freqs(&self) -> usize {
        self.n_freqs
    }

    /// Indices of bands with no non-zero weight (librosa warns "Empty filters detected").
    pub fn empty_bands(&self) -> Vec<usize> {
        self.filters
            .iter()
            .enumerate()
            .filter(|(_, f)| f.weights.is_empty())
            .map(|(i, _)| i)
            .collect()
    }

    /// The dense matrix `[n_mels, n_freqs]` (row-major), as librosa returns it.
    pub fn to_dense(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.filters.len() * self.n_freqs];
        for (m, f) in self.filters.iter().enumerate() {
            out[m * self.n_freqs + f.start..][..f.weights.len()].copy_from_slice(&f.weights);
        }
        out
    }

    /// A zeroed power buffer of `n_freqs + MEL_POWER_PADDING` values: filling its first
    /// `n_freqs` and passing it whole to [`MelFilterbank::apply`] enables the fast path.
    pub fn power_buffer(&self) -> Vec<f32> {
        vec![0.0; self.n_freqs + MEL_POWER_PADDING]
    }

    /// `out[m] = sum_k weights[m][k] * power[k]` for one frame (`power.len() >= n_freqs`).
    #[inline]
    pub fn apply(&self, power: &[f32], out: &mut [f32]) {
        if power.len() >= self.n_freqs + MEL_POWER_PADDING {
            for (o, f) in out.iter_mut().zip(&self.packed) {
                *o = dot4(&power[f.start..f.start + f.weights.len()], &f.weights);
            }
        } else {
            for (o, f) in out.iter_mut().zip(&self.filters) {
                let seg = &power[f.start..f.start + f.weights.len()];
                *o = dot(seg, &f.weights);
            }
        }
    }
}

/// Dot product of slices whose length is a multiple of 4.
#[inline]
fn dot4(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 4];
    for (x, y) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}

/// Dot product with four independent accumulators so the compiler can vectorise it.
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 4];
    let (ca, ra) = a.split_at(a.len() / 4 * 4);
    let (cb, rb) = b.split_at(ca.len());
    for (x, y) in ca.chunks_exact(4).zip(cb.chunks_exact(4)) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slaney_golden_values() {
        // librosa.hz_to_mel([0, 500, 1000, 2000, 3000]) == [0, 7.5, 15, 25.08188016, 30.97940199]
        let expect = [
            (0.0, 0.0),
            (500.0, 7.5),
            (1000.0, 15.0),
            (2000.0, 25.08188016),
            (3000.0, 30.97940199),
        ];
        for (hz, mel) in expect {
            assert!((hz_to_mel(hz, MelScale::Slaney) - mel).abs() < 1e-7, "{hz}");
            assert!(
                (mel_to_hz(mel, MelScale::Slaney) - hz).abs() < 1e-5,
                "{mel}"
            );
        }
        // librosa.hz_to_mel(1000, htk=True) == 999.9855371396243
        assert!((hz_to_mel(1000.0, MelScale::Htk) - 999.985_537_139_624_3).abs() < 1e-9);
        assert!((mel_to_hz(hz_to_mel(1234.5, MelScale::Htk), MelScale::Htk) - 1234.5).abs() < 1e-9);
    }

    #[test]
    fn sparse_matches_dense_and_slaney_area_is_constant() {
        let fb = MelFilterbank::new(&MelParams {
            sample_rate: 16000.0,
            n_fft: 512,
            n_mels: 40,
            fmin: 0.0,
            fmax: 8000.0,
            scale: MelScale::Slaney,
            norm: MelNorm::Slaney,
        });
        assert!(fb.empty_bands().is_empty());
        let dense = fb.to_dense();
        let power: Vec<f32> = (0..257).map(|k| (k as f32 * 0.37).sin().abs()).collect();
        let mut out = vec![0.0; 40];
        fb.apply(&power, &mut out);
        let mut padded = fb.power_buffer();
        padded[..257].copy_from_slice(&power);
        let mut fast = vec![0.0; 40];
        fb.apply(&padded, &mut fast);
        for (a, b) in out.iter().zip(&fast) {
            assert!((a - b).abs() <= 1e-6 * a.abs().max(1e-6));
        }
        for m in 0..40 {
            let naive: f32 = (0..257).map(|k| dense[m * 257 + k] * power[k]).sum();
            assert!((naive - out[m]).abs() <= 1e-5 * naive.abs().max(1e-6));
        }
    }
}
