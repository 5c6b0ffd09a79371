//! YIN fundamental-frequency tracking, step for step as `librosa.yin` (librosa 0.11,
//! `librosa/core/pitch.py`), plus the per-frame aperiodicity that librosa computes but does not
//! return.
//!
//! For each frame of `frame_length` samples (centred frames, zero padding, like librosa):
//! 1. Autocorrelation `r(k)` through an FFT (librosa: `audio.autocorrelate`).
//! 2. Difference function with librosa's energy term: `d(0) = 0`,
//!    `d(k) = 2 (r(0) - r(k)) - E(k - 1)` where `E(j) = sum_{m <= j} x_m^2`, except that librosa
//!    zeroes row 0 of the energy cumsum before subtracting, so `d(1) = 2 (r(0) - r(1))`.
//! 3. Cumulative mean normalised difference (de Cheveigné & Kawahara 2002, eq. 8), over the lags
//!    `tau = min_period..=max_period`: `cmndf(tau) = d(tau) / (mean(d(1..=tau)) + tiny)`.
//! 4. Troughs (`util.localmin` along the lag; the first lag is a trough when it is below the
//!    second); the first trough below `trough_threshold` wins, else the global minimum.
//! 5. Parabolic interpolation around the chosen lag; `f0 = sr / (min_period + index + shift)`.
//!
//! The **aperiodicity** of a frame is `cmndf` at the chosen integer lag, before the shift: near 0
//! for a clean periodic frame, near 1 (or above) for noise.
//!
//! # Precision
//! Everything per frame is f64. librosa follows its input's dtype: float32 audio (what
//! `librosa.load` returns) gives a float32 CMNDF, float64 audio a float64 one. The parity test
//! (`tests/functionals_parity.rs`) compares with both: this module matches float64 librosa to
//! rounding (aperiodicity within 1.2e-7, f0 within 6e-8 relative, which is the f32 output), and
//! float32 librosa within ~1e-6 on periodic frames. On strongly aperiodic frames of real speech
//! (CMNDF > 1) float32 cancellation is worse: up to 1.9e-4 on 60 RAVDESS clips.
//!
//! # Silence
//! A frame of exact zeros has `d = 0`, so `cmndf = 0 / (0 + tiny) = 0` at every lag: librosa
//! then finds no trough, picks the global minimum at index 0 and returns `f0 = sr / min_period`
//! (615.4 Hz with the defaults) with aperiodicity 0. That is finite, so it is reproduced as is
//! (it means an all-zero frame counts as "voiced" for a voicing threshold on aperiodicity;
//! trimmed speech has a noise floor, so such frames are rare).

use std::borrow::Cow;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use serde::{Deserialize, Serialize};

use crate::config::PadMode;
use crate::error::{FeatureError, Result};
use crate::stft::check_samples;
use crate::window::pad_signal;

/// librosa's division guard `util.tiny(yin_denominator)`: the smallest normal number of the
/// CMNDF's dtype. Our samples are f32, and librosa computes the CMNDF of f32 audio in float32, so
/// the float32 value is used (it only matters for frames of amplitude ~1e-19, where float64
/// librosa would use 2.2e-308 instead).
const TINY: f64 = f32::MIN_POSITIVE as f64;

/// Frames longer than this are surely a unit mistake (2^24 samples is minutes of audio).
const MAX_FRAME_LENGTH: usize = 1 << 24;

/// Settings of [`yin`]; field names and defaults follow `librosa.yin`'s arguments, except the
/// defaults, which suit speech at 16 kHz.
///
/// `Default`: 16 kHz, `fmin` 65 Hz, `fmax` 600 Hz, 1024-sample frames (64 ms: more than two
/// periods of `fmin`, as librosa recommends), 160-sample hop (10 ms, the hop of the default
/// [`crate::FeatureConfig`], so pitch and spectral frames line up), `trough_threshold` 0.1
/// (librosa's default), centred frames with zero padding (librosa's `pad_mode='constant'`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct YinConfig {
    /// Sample rate of the audio (Hz); librosa's `sr`.
    #[serde(alias = "sr")]
    pub sample_rate: u32,
    /// Lowest frequency searched (Hz), `> 0`.
    pub fmin: f64,
    /// Highest frequency searched (Hz), `fmin < fmax <= sample_rate / 2`.
    pub fmax: f64,
    /// Analysis frame (samples); must hold more than one period of `fmin`
    /// (`sample_rate / fmin < frame_length - 1`, librosa's check).
    pub frame_length: usize,
    /// Hop between frames (samples).
    pub hop_length: usize,
    /// A trough of the CMNDF below this is taken as the period (the absolute threshold of YIN).
    pub trough_threshold: f64,
    /// Centre frame `t` on sample `t * hop_length` (zero padding of `frame_length / 2` on each
    /// side), giving `1 + len / hop_length` frames; otherwise frames start at `t * hop_length`.
    pub center: bool,
}

impl Default for YinConfig {
    fn default() -> Self {
        YinConfig {
            sample_rate: 16_000,
            fmin: 65.0,
            fmax: 600.0,
            frame_length: 1024,
            hop_length: 160,
            trough_threshold: 0.1,
            center: true,
        }
    }
}

impl YinConfig {
    /// Check every field (librosa's `__check_yin_params` plus sanity checks); errors name the field.
    pub fn validate(&self) -> Result<()> {
        let sr = self.sample_rate as f64;
        if self.sample_rate == 0 {
            return Err(FeatureError::param("sample_rate", 0, "must be > 0 Hz"));
        }
        if !(self.fmin.is_finite() && self.fmin > 0.0) {
            return Err(FeatureError::param(
                "fmin",
                self.fmin,
                "must be finite and > 0 Hz (default 65)",
            ));
        }
        if !self.fmax.is_finite() || self.fmax > sr / 2.0 {
            return Err(FeatureError::param(
                "fmax",
                self.fmax,
                format!("must be <= sample_rate / 2 = {} Hz", sr / 2.0),
            ));
        }
        if self.fmax <= self.fmin {
            return Err(FeatureError::param(
                "fmax",
                self.fmax,
                format!("must be greater than fmin ({} Hz)", self.fmin),
            ));
        }
        if self.frame_length < 2 || self.frame_length > MAX_FRAME_LENGTH {
            return Err(FeatureError::param(
                "frame_length",
                self.frame_length,
                "must be in 2..=2^24 (default 1024 at 16 kHz)",
            ));
        }
        // librosa: "At least one period of fmin needs to fit into the frame". It also guarantees
        // max_period > min_period, so the CMNDF has at least two lags.
        if sr / self.fmin >= (self.frame_length - 1) as f64 {
            return Err(FeatureError::param(
                "frame_length",
                self.frame_length,
                format!(
                    "is too short for fmin = {} Hz at {} Hz: need frame_length > {} (or raise fmin)",
                    self.fmin,
                    self.sample_rate,
                    (sr / self.fmin).ceil() as usize + 1
                ),
            ));
        }
        if self.hop_length == 0 {
            return Err(FeatureError::param(
                "hop_length",
                0,
                "must be > 0 (default 160 = 10 ms at 16 kHz)",
            ));
        }
        if !self.trough_threshold.is_finite() {
            return Err(FeatureError::param(
                "trough_threshold",
                self.trough_threshold,
                "must be finite (librosa default 0.1)",
            ));
        }
        Ok(())
    }

    /// Shortest period searched, `floor(sample_rate / fmax)` samples.
    pub fn min_period(&self) -> usize {
        (self.sample_rate as f64 / self.fmax).floor() as usize
    }

    /// Longest period searched, `min(ceil(sample_rate / fmin), frame_length - 1)` samples.
    pub fn max_period(&self) -> usize {
        ((self.sample_rate as f64 / self.fmin).ceil() as usize).min(self.frame_length - 1)
    }

    /// Number of frames for `len` samples (0 when `center` is false and `len < frame_length`).
    pub fn n_frames(&self, len: usize) -> usize {
        crate::window::frame_count(len, self.frame_length, self.hop_length, self.center)
    }
}

/// One value per frame: f0 (Hz) and aperiodicity (CMNDF at the chosen lag, see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YinTrack {
    /// Fundamental frequency (Hz) of every frame, voiced or not (as `librosa.yin`).
    pub f0: Vec<f32>,
    /// Aperiodicity of every frame: ~0 periodic, ~1 noise.
    pub aperiodicity: Vec<f32>,
}

/// YIN of `y` (mono, at `cfg.sample_rate`): plans and runs [`YinPlan`] once. To track many clips,
/// build a [`YinPlan`] and reuse it.
///
/// Errors: the config's [`FeatureError::InvalidParameter`], [`FeatureError::EmptyInput`],
/// [`FeatureError::NonFiniteSample`], [`FeatureError::InputTooShort`] (only when `center` is
/// false and `len < frame_length`).
pub fn yin(y: &[f32], cfg: &YinConfig) -> Result<YinTrack> {
    YinPlan::new(*cfg)?.track(y)
}

/// A planned YIN tracker: validated config and FFT plans, reusable and `Send + Sync`.
#[derive(Clone)]
pub struct YinPlan {
    cfg: YinConfig,
    min_period: usize,
    max_period: usize,
    /// FFT length of the autocorrelation (see [`acf_fft_len`]).
    n_fft: usize,
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
}

impl std::fmt::Debug for YinPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("YinPlan")
            .field("cfg", &self.cfg)
            .field("n_fft", &self.n_fft)
            .finish_non_exhaustive()
    }
}

/// Smallest even length `>= target` whose only prime factors are 2, 3 and 5 (fast for realfft).
///
/// The autocorrelation is only needed up to lag `max_period`, so a circular autocorrelation of
/// length `frame_length + max_period` already equals the linear one there. librosa pads to
/// `next_fast_len(2 * frame_length - 1)` instead; the values are the same up to rounding, and
/// the shorter FFT (1280 rather than 2048 points with the defaults) is faster.
fn acf_fft_len(target: usize) -> usize {
    let mut n = target.max(2);
    loop {
        let mut m = n;
        for p in [2, 3, 5] {
            while m.is_multiple_of(p) {
                m /= p;
            }
        }
        if m == 1 && n.is_multiple_of(2) {
            return n;
        }
        n += 1;
    }
}

/// Per-call buffers of [`YinPlan::track`].
struct YinScratch {
    input: Vec<f64>,
    spectrum: Vec<Complex<f64>>,
    acf: Vec<f64>,
    fwd_scratch: Vec<Complex<f64>>,
    inv_scratch: Vec<Complex<f64>>,
    /// `d(k)` for `k = 0..=max_period`.
    diff: Vec<f64>,
    /// CMNDF for lags `min_period..=max_period`.
    cmndf: Vec<f64>,
}

impl YinPlan {
    /// Validate `cfg` and plan the FFTs.
    pub fn new(cfg: YinConfig) -> Result<Self> {
        cfg.validate()?;
        let max_period = cfg.max_period();
        let n_fft = acf_fft_len(cfg.frame_length + max_period);
        let mut planner = RealFftPlanner::<f64>::new();
        Ok(YinPlan {
            cfg,
            min_period: cfg.min_period(),
            max_period,
            n_fft,
            forward: planner.plan_fft_forward(n_fft),
            inverse: planner.plan_fft_inverse(n_fft),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &YinConfig {
        &self.cfg
    }

    fn scratch(&self) -> YinScratch {
        YinScratch {
            input: self.forward.make_input_vec(),
            spectrum: self.forward.make_output_vec(),
            acf: self.inverse.make_output_vec(),
            fwd_scratch: self.forward.make_scratch_vec(),
            inv_scratch: self.inverse.make_scratch_vec(),
            diff: vec![0.0; self.max_period + 1],
            cmndf: vec![0.0; self.max_period - self.min_period + 1],
        }
    }

    /// Track one clip. Errors as [`yin`].
    pub fn track(&self, y: &[f32]) -> Result<YinTrack> {
        check_samples(y)?;
        let fl = self.cfg.frame_length;
        let padded: Cow<'_, [f32]> = if self.cfg.center {
            Cow::Owned(pad_signal(y, fl / 2, PadMode::Constant))
        } else if y.len() < fl {
            return Err(FeatureError::InputTooShort {
                len: y.len(),
                min: fl,
                reason: "YIN with center = false needs at least frame_length samples",
            });
        } else {
            Cow::Borrowed(y)
        };
        let n_frames = self.cfg.n_frames(y.len());
        let mut s = self.scratch();
        let mut track = YinTrack {
            f0: Vec::with_capacity(n_frames),
            aperiodicity: Vec::with_capacity(n_frames),
        };
        for t in 0..n_frames {
            let start = t * self.cfg.hop_length;
            let frame = &padded[start..start + fl];
            self.cmndf(frame, &mut s)?;
            let (f0, ap) = self.pick(&s.cmndf);
            track.f0.push(f0 as f32);
            track.aperiodicity.push(ap as f32);
        }
        Ok(track)
    }

    /// Fill `s.cmndf` for one frame (`librosa.core.pitch._cumulative_mean_normalized_difference`).
    fn cmndf(&self, frame: &[f32], s: &mut YinScratch) -> Result<()> {
        let fft_err = |e: realfft::FftError| FeatureError::Fft(e.to_string());
        let fl = frame.len();
        for (i, &x) in s.input[..fl].iter_mut().zip(frame) {
            *i = x as f64;
        }
        // realfft uses the input as scratch: re-zero the padding every frame.
        s.input[fl..].fill(0.0);
        self.forward
            .process_with_scratch(&mut s.input, &mut s.spectrum, &mut s.fwd_scratch)
            .map_err(fft_err)?;
        for c in s.spectrum.iter_mut() {
            *c = Complex::new(c.norm_sqr(), 0.0);
        }
        self.inverse
            .process_with_scratch(&mut s.spectrum, &mut s.acf, &mut s.inv_scratch)
            .map_err(fft_err)?;
        // realfft's inverse is unnormalised.
        let scale = 1.0 / self.n_fft as f64;
        let r0 = s.acf[0] * scale;

        // d(k) = 2 (r(0) - r(k)) - E'(k - 1), E' = energy cumsum with E'(0) zeroed (librosa
        // assigns `yin_frames[0] = 0` before the subtraction reads rows 0..max_period).
        s.diff[0] = 0.0;
        let mut energy = 0.0f64;
        for k in 1..=self.max_period {
            let x = frame[k - 1] as f64;
            energy += x * x; // E(k - 1)
            let e_prev = if k == 1 { 0.0 } else { energy };
            s.diff[k] = 2.0 * (r0 - s.acf[k] * scale) - e_prev;
        }

        // cmndf(tau) = d(tau) / (mean(d(1..=tau)) + tiny), tau = min_period..=max_period.
        let mut cumsum = 0.0f64;
        for tau in 1..=self.max_period {
            cumsum += s.diff[tau];
            if tau >= self.min_period {
                let mean = cumsum / tau as f64;
                s.cmndf[tau - self.min_period] = s.diff[tau] / (mean + TINY);
            }
        }
        Ok(())
    }

    /// Trough choice and parabolic refinement on one frame's CMNDF: `(f0, aperiodicity)`.
    fn pick(&self, c: &[f64]) -> (f64, f64) {
        let n = c.len(); // >= 2 (validated: max_period > min_period)
        let thr = self.cfg.trough_threshold;
        // util.localmin: x[i] < x[i-1] and x[i] <= x[i+1] inside; the last lag is a trough when
        // below its neighbour; yin overrides the first with x[0] < x[1].
        let is_trough = |i: usize| {
            if i == 0 {
                c[0] < c[1]
            } else if i == n - 1 {
                c[i] < c[i - 1]
            } else {
                c[i] < c[i - 1] && c[i] <= c[i + 1]
            }
        };
        let index = (0..n)
            .find(|&i| c[i] < thr && is_trough(i))
            .unwrap_or_else(|| {
                // np.argmin: first occurrence of the minimum.
                (1..n).fold(0, |best, i| if c[i] < c[best] { i } else { best })
            });
        // _parabolic_interpolation: no shift at the ends, nor when the vertex lies more than a
        // bin away (|b| >= |a|, which includes the flat a = b = 0 case).
        let shift = if index == 0 || index == n - 1 {
            0.0
        } else {
            let a = c[index + 1] + c[index - 1] - 2.0 * c[index];
            let b = (c[index + 1] - c[index - 1]) / 2.0;
            if b.abs() >= a.abs() { 0.0 } else { -b / a }
        };
        let period = (self.min_period + index) as f64 + shift;
        (self.cfg.sample_rate as f64 / period, c[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(f0: f64, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let t = i as f64 / 16_000.0;
                (0.3 * (1..=5)
                    .map(|k| (2.0 * std::f64::consts::PI * k as f64 * f0 * t).sin() / k as f64)
                    .sum::<f64>()) as f32
            })
            .collect()
    }

    /// Slow, obviously-right CMNDF: the autocorrelation by direct sums, the rest as librosa.
    fn naive_cmndf(frame: &[f32], min_p: usize, max_p: usize) -> Vec<f64> {
        let x: Vec<f64> = frame.iter().map(|&v| v as f64).collect();
        let r = |k: usize| (0..x.len() - k).map(|j| x[j] * x[j + k]).sum::<f64>();
        let energy: Vec<f64> = x
            .iter()
            .scan(0.0, |acc, v| {
                *acc += v * v;
                Some(*acc)
            })
            .collect();
        let mut d = vec![0.0; max_p + 1];
        for k in 1..=max_p {
            let e = if k == 1 { 0.0 } else { energy[k - 1] };
            d[k] = 2.0 * (r(0) - r(k)) - e;
        }
        (min_p..=max_p)
            .map(|tau| d[tau] / (d[1..=tau].iter().sum::<f64>() / tau as f64 + TINY))
            .collect()
    }

    // FFT autocorrelation vs direct sums, both f64: rounding only.
    const CMNDF_NAIVE_ABS_TOL: f64 = 1e-9;

    #[test]
    fn cmndf_matches_direct_autocorrelation() {
        let cfg = YinConfig {
            frame_length: 300,
            hop_length: 97,
            ..Default::default()
        };
        let plan = YinPlan::new(cfg).unwrap();
        let y = tone(130.0, 2000);
        let padded = pad_signal(&y, 150, PadMode::Constant);
        let mut s = plan.scratch();
        for t in 0..cfg.n_frames(y.len()) {
            let frame = &padded[t * 97..t * 97 + 300];
            plan.cmndf(frame, &mut s).unwrap();
            let expect = naive_cmndf(frame, plan.min_period, plan.max_period);
            for (a, b) in s.cmndf.iter().zip(&expect) {
                assert!((a - b).abs() < CMNDF_NAIVE_ABS_TOL, "frame {t}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn fft_lengths_are_even_and_smooth() {
        assert_eq!(acf_fft_len(1024 + 247), 1280);
        assert_eq!(acf_fft_len(1), 2);
        assert_eq!(acf_fft_len(7), 8);
        assert_eq!(acf_fft_len(11), 12);
        assert_eq!(acf_fft_len(31), 32);
    }

    #[test]
    fn finds_the_pitch_of_tones() {
        for f0 in [80.0, 150.0, 220.0, 400.0] {
            let track = yin(&tone(f0, 8000), &YinConfig::default()).unwrap();
            assert_eq!(track.f0.len(), 51);
            // Frames away from the zero-padded edges: periodic, pitch within 0.5 %. librosa's
            // energy term also counts the frame's last `tau` samples, which the true difference
            // function leaves out, so even a pure tone's aperiodicity grows with the period
            // (~0.1 at 80 Hz, i.e. tau = 200 of 1024 samples).
            for (f, ap) in track.f0[8..43].iter().zip(&track.aperiodicity[8..43]) {
                assert!(((*f as f64) / f0 - 1.0).abs() < 5e-3, "{f0}: {f}");
                assert!(*ap < 0.15, "{f0}: aperiodicity {ap}");
            }
        }
    }

    #[test]
    fn silence_is_finite_like_librosa() {
        let track = yin(&[0.0; 4000], &YinConfig::default()).unwrap();
        assert_eq!(track.f0.len(), 26);
        for (f, ap) in track.f0.iter().zip(&track.aperiodicity) {
            // sr / min_period = 16000 / 26, aperiodicity 0: what librosa returns.
            assert_eq!(*f, (16_000.0f64 / 26.0) as f32);
            assert_eq!(*ap, 0.0);
        }
    }

    #[test]
    fn bad_input_and_config_are_typed_errors() {
        let cfg = YinConfig::default();
        assert!(matches!(yin(&[], &cfg), Err(FeatureError::EmptyInput)));
        assert!(matches!(
            yin(&[0.0, f32::INFINITY], &cfg),
            Err(FeatureError::NonFiniteSample { index: 1, .. })
        ));
        // Shorter than a frame: centred, still one frame per hop, as librosa.
        assert_eq!(yin(&[0.1; 5], &cfg).unwrap().f0.len(), 1);
        let nc = YinConfig {
            center: false,
            ..cfg
        };
        assert!(matches!(
            yin(&[0.1; 1000], &nc),
            Err(FeatureError::InputTooShort { min: 1024, .. })
        ));
        assert_eq!(yin(&[0.1; 1024], &nc).unwrap().f0.len(), 1);

        let cases = [
            (
                "sample_rate",
                YinConfig {
                    sample_rate: 0,
                    ..cfg
                },
            ),
            ("fmin", YinConfig { fmin: 0.0, ..cfg }),
            (
                "fmin",
                YinConfig {
                    fmin: f64::NAN,
                    ..cfg
                },
            ),
            (
                "fmax",
                YinConfig {
                    fmax: 8000.5,
                    ..cfg
                },
            ),
            ("fmax", YinConfig { fmax: 60.0, ..cfg }),
            (
                "frame_length",
                YinConfig {
                    frame_length: 1,
                    ..cfg
                },
            ),
            (
                "frame_length",
                YinConfig {
                    frame_length: 200,
                    ..cfg
                },
            ),
            (
                "hop_length",
                YinConfig {
                    hop_length: 0,
                    ..cfg
                },
            ),
            (
                "trough_threshold",
                YinConfig {
                    trough_threshold: f64::NAN,
                    ..cfg
                },
            ),
        ];
        for (field, c) in cases {
            match yin(&[0.0; 100], &c) {
                Err(FeatureError::InvalidParameter { name, .. }) => assert_eq!(name, field),
                other => panic!("{field}: expected InvalidParameter, got {other:?}"),
            }
        }
    }

    #[test]
    fn serde_round_trip_with_librosa_alias() {
        let c = YinConfig {
            fmin: 80.0,
            ..Default::default()
        };
        let s = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<YinConfig>(&s).unwrap(), c);
        let partial: YinConfig = serde_json::from_str(r#"{"sr": 22050}"#).unwrap();
        assert_eq!(partial.sample_rate, 22050);
        assert_eq!(partial.frame_length, 1024);
    }
}
