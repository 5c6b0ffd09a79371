//! The short-time Fourier transform, planned once (window + realfft plan) and run frame by frame.
//!
//! Conventions (librosa 0.11 `stft`): frame `t` starts at sample `t * hop_length` of the signal
//! padded by `n_fft / 2` on both sides when `center` is true (so it is centred on sample
//! `t * hop_length`), or of the raw signal otherwise. The window is periodic and centred in
//! `n_fft`. The FFT is unnormalised (`X[k] = sum_n w[n] x[n] e^{-2 pi i k n / N}`), bins `0..=n_fft/2`.

use std::borrow::Cow;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use crate::config::{PadMode, Precision, WindowKind};
use crate::error::{FeatureError, Result};
use crate::window::{pad_signal, padded_window_f64, reflect_index};

/// A planned STFT: window, FFT plan and framing. Cheap to share between threads.
#[derive(Clone)]
pub struct StftPlan {
    n_fft: usize,
    hop_length: usize,
    center: bool,
    pad_mode: PadMode,
    window: Vec<f32>,
    /// Samples outside `win_lo..win_hi` get a zero weight, so they are not even read.
    win_lo: usize,
    win_hi: usize,
    fft: Fft,
}

/// The FFT in the precision asked for.
#[derive(Clone)]
enum Fft {
    F32(Arc<dyn RealToComplex<f32>>),
    /// f64 FFT with the f64 window: what librosa computes (numpy's FFT is f64).
    F64(Arc<dyn RealToComplex<f64>>, Vec<f64>),
}

impl std::fmt::Debug for StftPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StftPlan")
            .field("n_fft", &self.n_fft)
            .field("hop_length", &self.hop_length)
            .field("center", &self.center)
            .field("pad_mode", &self.pad_mode)
            .field("precision", &self.precision())
            .finish_non_exhaustive()
    }
}

/// Reusable buffers for [`StftPlan::power_frame`]; one per thread.
#[derive(Debug, Clone)]
pub struct StftScratch {
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    fft_scratch: Vec<Complex<f32>>,
    input64: Vec<f64>,
    spectrum64: Vec<Complex<f64>>,
    fft_scratch64: Vec<Complex<f64>>,
}

impl StftPlan {
    /// Plan an STFT. Parameters must already be validated (see [`crate::FeatureConfig::validate`]).
    pub fn new(
        n_fft: usize,
        win_length: usize,
        hop_length: usize,
        window: WindowKind,
        center: bool,
        pad_mode: PadMode,
        precision: Precision,
    ) -> Self {
        let window64 = padded_window_f64(window, win_length, n_fft);
        let window: Vec<f32> = window64.iter().map(|&w| w as f32).collect();
        let win_lo = window.iter().position(|&w| w != 0.0).unwrap_or(0);
        let win_hi = window.iter().rposition(|&w| w != 0.0).map_or(0, |i| i + 1);
        let fft = match precision {
            Precision::F32 => Fft::F32(RealFftPlanner::<f32>::new().plan_fft_forward(n_fft)),
            Precision::F64 => Fft::F64(
                RealFftPlanner::<f64>::new().plan_fft_forward(n_fft),
                window64,
            ),
        };
        StftPlan {
            n_fft,
            hop_length,
            center,
            pad_mode,
            window,
            win_lo,
            win_hi,
            fft,
        }
    }

    /// Precision of the FFT.
    pub fn precision(&self) -> Precision {
        match self.fft {
            Fft::F32(_) => Precision::F32,
            Fft::F64(..) => Precision::F64,
        }
    }

    /// FFT size.
    pub fn n_fft(&self) -> usize {
        self.n_fft
    }

    /// Hop length.
    pub fn hop_length(&self) -> usize {
        self.hop_length
    }

    /// Number of output bins, `1 + n_fft / 2`.
    pub fn n_freqs(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// The window, zero-padded to `n_fft`.
    pub fn window(&self) -> &[f32] {
        &self.window
    }

    /// Fresh buffers for this plan.
    pub fn scratch(&self) -> StftScratch {
        let n_freqs = self.n_freqs();
        match &self.fft {
            Fft::F32(fft) => StftScratch {
                input: vec![0.0; self.n_fft],
                spectrum: fft.make_output_vec(),
                fft_scratch: fft.make_scratch_vec(),
                input64: Vec::new(),
                spectrum64: Vec::new(),
                fft_scratch64: Vec::new(),
            },
            Fft::F64(fft, _) => StftScratch {
                input: Vec::new(),
                spectrum: vec![Complex::new(0.0, 0.0); n_freqs],
                fft_scratch: Vec::new(),
                input64: vec![0.0; self.n_fft],
                spectrum64: fft.make_output_vec(),
                fft_scratch64: fft.make_scratch_vec(),
            },
        }
    }

    /// Left padding added when `center` is true.
    pub fn center_pad(&self) -> usize {
        if self.center { self.n_fft / 2 } else { 0 }
    }

    /// Frames for a signal of `len` samples (0 when it is too short and `center` is false).
    pub fn n_frames(&self, len: usize) -> usize {
        crate::window::frame_count(len, self.n_fft, self.hop_length, self.center)
    }

    /// Check the signal (non-empty, finite, long enough) and pad it when `center` is true.
    pub fn prepare<'a>(&self, y: &'a [f32]) -> Result<Cow<'a, [f32]>> {
        check_samples(y)?;
        if self.center {
            Ok(Cow::Owned(pad_signal(y, self.n_fft / 2, self.pad_mode)))
        } else if y.len() < self.n_fft {
            Err(FeatureError::InputTooShort {
                len: y.len(),
                min: self.n_fft,
                reason: "center = false needs at least n_fft samples",
            })
        } else {
            Ok(Cow::Borrowed(y))
        }
    }

    /// Check the signal like [`StftPlan::prepare`] without copying it; returns the frame count.
    pub fn check(&self, y: &[f32]) -> Result<usize> {
        check_samples(y)?;
        if !self.center && y.len() < self.n_fft {
            return Err(FeatureError::InputTooShort {
                len: y.len(),
                min: self.n_fft,
                reason: "center = false needs at least n_fft samples",
            });
        }
        Ok(self.n_frames(y.len()))
    }

    /// The `n_fft` samples of frame `t` of the (virtually) padded signal: a slice of `y` when
    /// the frame lies inside it, otherwise assembled in `buf` (only the first and last few
    /// frames touch the padding, so the signal is never copied whole).
    #[inline]
    pub fn frame<'a>(&self, y: &'a [f32], t: usize, buf: &'a mut Vec<f32>) -> &'a [f32] {
        let start = (t * self.hop_length) as isize - self.center_pad() as isize;
        let end = start + self.n_fft as isize;
        if start >= 0 && end <= y.len() as isize {
            return &y[start as usize..end as usize];
        }
        buf.clear();
        let len = y.len() as isize;
        buf.extend((start..end).map(|i| {
            if (0..len).contains(&i) {
                y[i as usize]
            } else {
                match self.pad_mode {
                    PadMode::Constant => 0.0,
                    PadMode::Reflect => y[reflect_index(i, y.len())],
                }
            }
        }));
        buf
    }

    /// Power spectrum `|X[k]|^2` of one frame of exactly `n_fft` (padded-signal) samples.
    #[inline]
    pub fn power_frame(&self, frame: &[f32], s: &mut StftScratch, out: &mut [f32]) -> Result<()> {
        if self.run_fft(frame, s)? {
            for (o, c) in out.iter_mut().zip(&s.spectrum64) {
                *o = (c.re * c.re + c.im * c.im) as f32;
            }
        } else {
            for (o, c) in out.iter_mut().zip(&s.spectrum) {
                *o = c.re * c.re + c.im * c.im;
            }
        }
        Ok(())
    }

    /// Magnitude spectrum `|X[k]|` of one frame.
    pub fn magnitude_frame(
        &self,
        frame: &[f32],
        s: &mut StftScratch,
        out: &mut [f32],
    ) -> Result<()> {
        if self.run_fft(frame, s)? {
            for (o, c) in out.iter_mut().zip(&s.spectrum64) {
                *o = c.re.hypot(c.im) as f32;
            }
        } else {
            for (o, c) in out.iter_mut().zip(&s.spectrum) {
                *o = c.re.hypot(c.im);
            }
        }
        Ok(())
    }

    /// Complex spectrum of one frame (rounded to f32 for the f64 FFT), left in the scratch.
    pub fn spectrum_frame<'s>(
        &self,
        frame: &[f32],
        s: &'s mut StftScratch,
    ) -> Result<&'s [Complex<f32>]> {
        if self.run_fft(frame, s)? {
            for (o, c) in s.spectrum.iter_mut().zip(&s.spectrum64) {
                *o = Complex::new(c.re as f32, c.im as f32);
            }
        }
        Ok(&s.spectrum)
    }

    /// Window and transform one frame; true when the result is in the f64 buffers.
    #[inline]
    fn run_fft(&self, frame: &[f32], s: &mut StftScratch) -> Result<bool> {
        if frame.len() != self.n_fft {
            return Err(FeatureError::Fft(format!(
                "frame of {} samples, plan is for {}",
                frame.len(),
                self.n_fft
            )));
        }
        let (lo, hi) = (self.win_lo, self.win_hi);
        let fft_err = |e: realfft::FftError| FeatureError::Fft(e.to_string());
        match &self.fft {
            Fft::F32(fft) => {
                // realfft uses the input as scratch, so the zero regions are rewritten every frame.
                s.input[..lo].fill(0.0);
                s.input[hi..].fill(0.0);
                for ((i, x), w) in s.input[lo..hi]
                    .iter_mut()
                    .zip(&frame[lo..hi])
                    .zip(&self.window[lo..hi])
                {
                    *i = x * w;
                }
                fft.process_with_scratch(&mut s.input, &mut s.spectrum, &mut s.fft_scratch)
                    .map_err(fft_err)?;
                Ok(false)
            }
            Fft::F64(fft, window) => {
                s.input64[..lo].fill(0.0);
                s.input64[hi..].fill(0.0);
                for ((i, &x), w) in s.input64[lo..hi]
                    .iter_mut()
                    .zip(&frame[lo..hi])
                    .zip(&window[lo..hi])
                {
                    *i = x as f64 * w;
                }
                fft.process_with_scratch(&mut s.input64, &mut s.spectrum64, &mut s.fft_scratch64)
                    .map_err(fft_err)?;
                Ok(true)
            }
        }
    }
}

/// Empty or non-finite input is an error (a NaN would silently poison every frame it touches).
pub fn check_samples(y: &[f32]) -> Result<()> {
    if y.is_empty() {
        return Err(FeatureError::EmptyInput);
    }
    // Branch-free scan per chunk (vectorises); locate the culprit only when there is one.
    const CHUNK: usize = 1024;
    for (c, chunk) in y.chunks(CHUNK).enumerate() {
        if chunk.iter().fold(false, |bad, v| bad | !v.is_finite()) {
            let i = chunk.iter().position(|v| !v.is_finite()).unwrap_or(0);
            return Err(FeatureError::NonFiniteSample {
                index: c * CHUNK + i,
                value: chunk[i],
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slow, obviously-right f64 DFT power spectrum of one windowed frame.
    fn naive_power(frame: &[f32], window: &[f64]) -> Vec<f64> {
        let n = frame.len();
        (0..=n / 2)
            .map(|k| {
                let (mut re, mut im) = (0.0f64, 0.0f64);
                for (t, (&x, &w)) in frame.iter().zip(window).enumerate() {
                    let v = x as f64 * w;
                    let ang = -2.0 * std::f64::consts::PI * (k * t % n) as f64 / n as f64;
                    re += v * ang.cos();
                    im += v * ang.sin();
                }
                re * re + im * im
            })
            .collect()
    }

    /// Deterministic xorshift noise (fixed seed) so the test is reproducible.
    fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    // Power relative to the frame's maximum; f32 FFT rounding is ~1e-7 of the peak.
    const NAIVE_POWER_REL_TOL: f64 = 1e-5;
    // The f64 FFT is only rounded once, to f32, at the end.
    const NAIVE_POWER_REL_TOL_F64: f64 = 1e-6;

    #[test]
    fn matches_naive_dft_over_many_sizes() {
        const RNG_SEED: u64 = 0x5eed_1234;
        for n_fft in (1..=130).chain([255, 256, 400, 512, 1000, 1024, 2048]) {
            for (win, kind, precision) in [
                (n_fft, WindowKind::Hann, Precision::F32),
                ((n_fft * 3 / 4).max(1), WindowKind::Hamming, Precision::F32),
                (n_fft, WindowKind::Hamming, Precision::F64),
                ((n_fft * 3 / 4).max(1), WindowKind::Hann, Precision::F64),
            ] {
                {
                    let plan =
                        StftPlan::new(n_fft, win, 1, kind, false, PadMode::Constant, precision);
                    let frame = noise(n_fft, RNG_SEED + n_fft as u64);
                    let mut s = plan.scratch();
                    let mut out = vec![0.0; plan.n_freqs()];
                    plan.power_frame(&frame, &mut s, &mut out).unwrap();
                    let expect = naive_power(&frame, &padded_window_f64(kind, win, n_fft));
                    let peak = expect.iter().cloned().fold(1e-30, f64::max);
                    for (k, (&a, &b)) in out.iter().zip(&expect).enumerate() {
                        let tol = match precision {
                            Precision::F32 => NAIVE_POWER_REL_TOL,
                            Precision::F64 => NAIVE_POWER_REL_TOL_F64,
                        };
                        assert!(
                            ((a as f64 - b) / peak).abs() < tol,
                            "n_fft {n_fft} win {win} {precision:?} bin {k}: {a} vs {b}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn frames_equal_slices_of_the_padded_signal() {
        let y: Vec<f32> = (0..37).map(|i| i as f32).collect();
        for pad_mode in [PadMode::Constant, PadMode::Reflect] {
            for center in [true, false] {
                let plan = StftPlan::new(
                    16,
                    12,
                    5,
                    WindowKind::Hann,
                    center,
                    pad_mode,
                    Precision::F32,
                );
                let padded = plan.prepare(&y).unwrap();
                let n = plan.check(&y).unwrap();
                assert_eq!(n, 1 + (padded.len() - 16) / 5);
                let mut buf = Vec::new();
                for t in 0..n {
                    assert_eq!(
                        plan.frame(&y, t, &mut buf),
                        &padded[t * 5..t * 5 + 16],
                        "{pad_mode:?} {center} {t}"
                    );
                }
            }
        }
    }

    #[test]
    fn input_checks() {
        let plan = StftPlan::new(
            8,
            8,
            2,
            WindowKind::Hann,
            false,
            PadMode::Constant,
            Precision::F32,
        );
        assert!(matches!(plan.prepare(&[]), Err(FeatureError::EmptyInput)));
        assert!(matches!(
            plan.prepare(&[0.0; 7]),
            Err(FeatureError::InputTooShort { len: 7, min: 8, .. })
        ));
        assert!(matches!(
            plan.prepare(&[0.0, f32::NAN]),
            Err(FeatureError::NonFiniteSample { index: 1, .. })
        ));
        assert!(matches!(
            plan.prepare(&[0.0, f32::INFINITY]),
            Err(FeatureError::NonFiniteSample { index: 1, .. })
        ));
        assert_eq!(plan.prepare(&[0.0; 8]).unwrap().len(), 8);
        assert!(
            plan.power_frame(&[0.0; 7], &mut plan.scratch(), &mut [0.0; 5])
                .is_err()
        );
    }
}
