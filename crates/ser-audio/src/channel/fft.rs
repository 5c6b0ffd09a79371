//! The FFT work of the channel simulator: linear convolution (room reverberation) and noise
//! with a prescribed power spectrum, on realfft plans cached across calls.

use std::sync::{Arc, Mutex};

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::error::{Error, Result};
use crate::rng::SplitMix64;

/// A realfft planner shared by the threads that use one simulator. Plans are cached by
/// length inside the planner ("plan once, process many"); the lock is held only while a plan
/// is looked up, never while it runs.
#[derive(Default)]
pub(crate) struct FftCache {
    planner: Mutex<RealFftPlanner<f32>>,
}

impl std::fmt::Debug for FftCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FftCache")
    }
}

type Plans = (Arc<dyn RealToComplex<f32>>, Arc<dyn ComplexToReal<f32>>);

impl FftCache {
    fn plans(&self, len: usize) -> Plans {
        // A panic elsewhere while the lock was held cannot leave the planner half-updated in
        // a way that matters (it only caches plans), so a poisoned lock is used as is.
        let mut planner = self
            .planner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (planner.plan_fft_forward(len), planner.plan_fft_inverse(len))
    }
}

fn fft_error(stage: &'static str) -> impl Fn(realfft::FftError) -> Error {
    move |e| Error::Dsp {
        stage,
        reason: e.to_string(),
    }
}

/// The first `x.len()` samples of the linear convolution `x * h`, by one zero-padded FFT of
/// a power-of-two length `>= x.len() + h.len() - 1` (so the circular wrap-around never reaches
/// the samples kept).
pub(crate) fn convolve_prefix(x: &[f32], h: &[f32], fft: &FftCache) -> Result<Vec<f32>> {
    if x.is_empty() || h.is_empty() {
        return Ok(vec![0.0; x.len()]);
    }
    let len = (x.len() + h.len() - 1).next_power_of_two();
    let (forward, inverse) = fft.plans(len);
    let err = fft_error("reverberation FFT");
    let mut buf = forward.make_input_vec();
    buf[..x.len()].copy_from_slice(x);
    let mut spec_x = forward.make_output_vec();
    forward.process(&mut buf, &mut spec_x).map_err(&err)?;
    buf.fill(0.0);
    buf[..h.len()].copy_from_slice(h);
    let mut spec_h = forward.make_output_vec();
    forward.process(&mut buf, &mut spec_h).map_err(&err)?;
    // realfft's transforms are unnormalised: forward then inverse multiplies by `len`.
    let scale = 1.0 / len as f32;
    for (a, b) in spec_x.iter_mut().zip(&spec_h) {
        *a = *a * *b * scale;
    }
    zero_imaginary_edges(&mut spec_x);
    inverse.process(&mut spec_x, &mut buf).map_err(&err)?;
    buf.truncate(x.len());
    Ok(buf)
}

/// `n` samples of Gaussian noise whose power spectral density goes as `1 / f^beta` above
/// `f_min_hz` and is zero below it (beta 0: white, 1: pink, 2: brown/red), scaled to unit
/// RMS. Made in the frequency domain: independent random bins shaped by `f^(-beta/2)`, one
/// inverse FFT of a power-of-two length `>= n`, truncated to `n` (the truncation is a
/// rectangular window; it does not change the slope).
///
/// The bins' real and imaginary parts are uniform in [-1, 1) rather than Gaussian: each time
/// sample is a weighted sum of thousands of independent bins, so it is Gaussian all the same
/// (central limit theorem), and the expected power per bin, which sets the slope, only scales
/// (by 1/3, undone by the RMS normalisation). Uniform draws cost a fraction of Box-Muller's
/// logarithm, square root and cosine, which dominated the cost (4 s at 16 kHz: 65 536 draws).
pub(crate) fn coloured_noise(
    n: usize,
    sample_rate: f64,
    beta: f64,
    f_min_hz: f64,
    rng: &mut SplitMix64,
    fft: &FftCache,
) -> Result<Vec<f32>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let len = n.next_power_of_two().max(2);
    let (_, inverse) = fft.plans(len);
    let mut spec = inverse.make_input_vec();
    let bin_hz = sample_rate / len as f64;
    for (k, c) in spec.iter_mut().enumerate() {
        let f = k as f64 * bin_hz;
        *c = if f < f_min_hz || k == 0 {
            Complex::new(0.0, 0.0)
        } else {
            // f^(-beta/2); integer slopes (all the noise kinds use) without a powf per bin.
            let amp = if beta.fract() == 0.0 && beta.abs() <= 8.0 {
                f.sqrt().recip().powi(beta as i32)
            } else {
                f.powf(-beta / 2.0)
            };
            let (re, im) = (rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0));
            Complex::new((amp * re) as f32, (amp * im) as f32)
        };
    }
    zero_imaginary_edges(&mut spec);
    let mut out = inverse.make_output_vec();
    inverse
        .process(&mut spec, &mut out)
        .map_err(fft_error("noise FFT"))?;
    out.truncate(n);
    let rms = (out.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / n as f64).sqrt();
    if rms > 0.0 && rms.is_finite() {
        let g = (1.0 / rms) as f32;
        out.iter_mut().for_each(|v| *v *= g);
    }
    Ok(out)
}

/// The DC bin (and the Nyquist bin of an even length, which realfft makes the last one) of a
/// real signal's spectrum are real; realfft's inverse refuses them otherwise.
fn zero_imaginary_edges(spec: &mut [Complex<f32>]) {
    if let Some(first) = spec.first_mut() {
        first.im = 0.0;
    }
    if let Some(last) = spec.last_mut() {
        last.im = 0.0;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fft_convolution_matches_the_direct_sum() {
        let fft = FftCache::default();
        let mut rng = SplitMix64::new(5);
        for (nx, nh) in [(1, 1), (1, 7), (7, 1), (100, 33), (257, 300), (1000, 64)] {
            let x: Vec<f32> = (0..nx).map(|_| rng.normal() as f32).collect();
            let h: Vec<f32> = (0..nh).map(|_| rng.normal() as f32).collect();
            let got = convolve_prefix(&x, &h, &fft).unwrap();
            assert_eq!(got.len(), nx);
            for (i, g) in got.iter().enumerate() {
                let want: f32 = (0..=i.min(nh - 1)).map(|k| h[k] * x[i - k]).sum();
                assert!(
                    (g - want).abs() < 1e-4 * (1.0 + want.abs()),
                    "{nx}x{nh} [{i}]"
                );
            }
        }
        assert!(convolve_prefix(&[], &[1.0], &fft).unwrap().is_empty());
    }

    /// Slope of the power spectrum in dB per decade, fitted on log-log axes over 100-4000 Hz
    /// from the average of non-overlapping Hann-windowed 2048-sample periodograms (Welch).
    fn slope_db_per_decade(x: &[f32], fs: f64) -> f64 {
        let seg = 2048;
        let fft = FftCache::default();
        let (forward, _) = fft.plans(seg);
        let mut psd = vec![0.0f64; seg / 2 + 1];
        for chunk in x.chunks_exact(seg) {
            let mut buf = chunk.to_vec();
            // Hann window against leakage from the strong low bins of brown noise.
            for (i, v) in buf.iter_mut().enumerate() {
                *v *=
                    (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / seg as f64).cos()) as f32;
            }
            let mut spec = forward.make_output_vec();
            forward.process(&mut buf, &mut spec).unwrap();
            for (p, c) in psd.iter_mut().zip(&spec) {
                *p += f64::from(c.norm_sqr());
            }
        }
        let pts: Vec<(f64, f64)> = (1..psd.len())
            .map(|k| (k as f64 * fs / seg as f64, psd[k]))
            .filter(|&(f, _)| (100.0..=4000.0).contains(&f))
            .map(|(f, p)| (f.log10(), 10.0 * p.log10()))
            .collect();
        let n = pts.len() as f64;
        let (mx, my) = (
            pts.iter().map(|p| p.0).sum::<f64>() / n,
            pts.iter().map(|p| p.1).sum::<f64>() / n,
        );
        let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
        sxy / sxx
    }

    #[test]
    fn coloured_noise_has_the_requested_slope_and_unit_rms() {
        let fft = FftCache::default();
        let fs = 16_000.0;
        // beta = 1 is -10 dB per decade (-3.01 dB per octave), beta = 2 is -20.
        for (beta, want) in [(0.0, 0.0), (1.0, -10.0), (2.0, -20.0)] {
            let x = coloured_noise(131_072, fs, beta, 20.0, &mut SplitMix64::new(9), &fft).unwrap();
            let rms = (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / 131_072.0).sqrt();
            assert!((rms - 1.0).abs() < 1e-4);
            let slope = slope_db_per_decade(&x, fs);
            assert!(
                (slope - want).abs() < 1.0,
                "beta {beta}: {slope:.2} dB/decade"
            );
        }
        for n in [0, 1, 2, 3] {
            let x = coloured_noise(n, fs, 1.0, 20.0, &mut SplitMix64::new(1), &fft).unwrap();
            assert_eq!(x.len(), n);
            assert!(x.iter().all(|v| v.is_finite()));
        }
    }
}
