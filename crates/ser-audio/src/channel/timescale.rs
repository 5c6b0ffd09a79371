//! Speed perturbation (tempo and pitch together) and pitch shifting (pitch alone).
//!
//! * [`change_speed`] is the speed perturbation of Ko, Peddinti, Povey & Khudanpur, "Audio
//!   augmentation for speech recognition", Interspeech 2015: the clip is resampled as if it
//!   had been recorded at `factor` times its rate, so it plays `factor` times faster and
//!   `factor` times higher (what `sox speed` does; the paper uses factors 0.9, 1.0 and 1.1).
//!   The length becomes `ceil(n / factor)`.
//! * [`pitch_shift`] stretches the clip by `r = 2^(semitones / 12)` with WSOLA (waveform-
//!   similarity overlap-add: Verhelst & Roelands, "An overlap-add technique based on waveform
//!   similarity (WSOLA) for high quality time-scale modification of speech", ICASSP 1993),
//!   which keeps the pitch, then changes its speed by `r`: the tempo comes back, the pitch
//!   moves by `semitones`. The length is kept exactly.
//!
//! Both go through [`crate::resample()`] (rubato's band-limited FFT resampler), so raising the
//! pitch removes what would alias above the Nyquist frequency instead of folding it back.
//! Factors are quantised to 1/1000 so that the resampler's rate pair stays small (see
//! [`change_speed`]).

use crate::Audio;
use crate::error::{Error, Result};
use crate::resample::resample;

/// Smallest and largest speed factors accepted (an octave either way).
pub const SPEED_RANGE: (f64, f64) = (0.5, 2.0);

/// Quantisation of speed factors: `factor = k / SPEED_STEPS`.
const SPEED_STEPS: u32 = 1000;

/// Resampling base rate for speed changes (Hz, see [`change_speed`]).
const SPEED_BASE: u32 = 16;

/// Plays `audio` `factor` times faster (and `factor` times higher), as a tape or `sox speed`
/// would: length `ceil(n / factor)`, same sample rate. `factor` is rounded to a multiple of
/// 0.001 and must be within [`SPEED_RANGE`].
///
/// How: only the ratio of the rates matters to a resampler, so the samples are relabelled as
/// recorded at `k x 16` Hz (`k = round(1000 factor)`) and resampled to 16 kHz, then the
/// result is relabelled with the clip's own rate. The pair `(16 k, 16000)` has a gcd of at
/// least 16, which keeps rubato's FFT sizes small for any factor and any rate.
pub fn change_speed(audio: &Audio, factor: f64) -> Result<Audio> {
    let k = quantise_factor(factor)?;
    if k == SPEED_STEPS {
        return Ok(audio.clone());
    }
    let relabelled = Audio::new(audio.samples.clone(), k * SPEED_BASE);
    let mut out = resample(&relabelled, SPEED_STEPS * SPEED_BASE)?;
    out.sample_rate = audio.sample_rate;
    Ok(out)
}

/// `round(1000 factor)`, after checking `factor` is within [`SPEED_RANGE`].
fn quantise_factor(factor: f64) -> Result<u32> {
    if !(factor.is_finite() && (SPEED_RANGE.0..=SPEED_RANGE.1).contains(&factor)) {
        return Err(Error::InvalidConfig {
            field: "speed factor",
            reason: format!("{factor} not within {SPEED_RANGE:?}"),
        });
    }
    Ok((factor * f64::from(SPEED_STEPS)).round() as u32)
}

/// Shifts the pitch by `semitones` (within +-12) keeping the tempo and the exact length: WSOLA
/// time stretch by `r = 2^(semitones/12)` (quantised like [`change_speed`]'s factor), then a
/// speed change by `r`.
pub fn pitch_shift(audio: &Audio, semitones: f64) -> Result<Audio> {
    if !(semitones.is_finite() && semitones.abs() <= 12.0) {
        return Err(Error::InvalidConfig {
            field: "pitch semitones",
            reason: format!("{semitones} not within +-12"),
        });
    }
    let k = quantise_factor(2f64.powf(semitones / 12.0))?;
    if k == SPEED_STEPS || audio.samples.is_empty() {
        return Ok(audio.clone());
    }
    let ratio = f64::from(k) / f64::from(SPEED_STEPS);
    let stretched = wsola(&audio.samples, audio.sample_rate, ratio);
    let mut out = change_speed(&Audio::new(stretched, audio.sample_rate), ratio)?;
    out.samples.resize(audio.samples.len(), 0.0);
    Ok(out)
}

/// WSOLA frame length, seconds: 32 ms holds two to six pitch periods of speech (F0 60-190 Hz
/// for two), the usual 20-40 ms analysis frame.
pub const WSOLA_FRAME_SECS: f64 = 0.032;

/// WSOLA search tolerance, seconds (+-): 8 ms covers a whole pitch period down to 62 Hz, so a
/// matching phase is always within reach.
pub const WSOLA_TOLERANCE_SECS: f64 = 0.008;

/// Time-stretches `x` by `stretch` (output length `round(n stretch)`) keeping its pitch, by
/// WSOLA (Verhelst & Roelands 1993, in the formulation of Driedger & Mueller, "A review of
/// time-scale modification of music signals", Applied Sciences 6(2), 2016, section 3):
/// Hann frames of [`WSOLA_FRAME_SECS`] are overlap-added at a synthesis hop of half a frame;
/// each analysis frame is taken near its nominal position `m Ha` (`Ha = Hs / stretch`), shifted
/// by up to [`WSOLA_TOLERANCE_SECS`] to the offset whose waveform best continues the previous
/// frame (maximum cross-correlation with the samples that followed it in the input).
pub fn wsola(x: &[f32], sample_rate: u32, stretch: f64) -> Vec<f32> {
    let out_len = (x.len() as f64 * stretch).round() as usize;
    if x.is_empty() || out_len == 0 || !(stretch.is_finite() && stretch > 0.0) {
        return vec![0.0; out_len];
    }
    let fs = f64::from(sample_rate.max(1));
    let hs = ((WSOLA_FRAME_SECS * fs / 2.0).round() as usize).max(2);
    let n = 2 * hs;
    let tol = ((WSOLA_TOLERANCE_SECS * fs).round() as usize).max(1);
    let ha = hs as f64 / stretch;
    let frames = out_len / hs + 2;
    // Zero padding so every frame, template and candidate lies inside `xp`.
    let pad = hs + tol;
    let mut xp = vec![0.0f32; pad];
    xp.extend_from_slice(x);
    xp.resize(
        pad + (frames as f64 * ha).ceil() as usize + 2 * n + 2 * tol,
        0.0,
    );
    // Periodic Hann: copies a hop of half a frame apart sum to exactly 1.
    let window: Vec<f32> = (0..n)
        .map(|k| (0.5 - 0.5 * (std::f64::consts::TAU * k as f64 / n as f64).cos()) as f32)
        .collect();
    // The even and the odd samples of `xp`, for the coarse search (see `best_offset`).
    let halves: [Vec<f32>; 2] = [
        xp.iter().step_by(2).copied().collect(),
        xp.iter().skip(1).step_by(2).copied().collect(),
    ];
    let mut out = vec![0.0f32; frames * hs + n];
    let mut weight = vec![0.0f32; frames * hs + n];
    let nominal = |m: usize| pad + (m as f64 * ha).round() as usize - hs;
    let mut start = nominal(0);
    for m in 0..frames {
        let frame = &xp[start..start + n];
        let (o, wsum) = (
            &mut out[m * hs..m * hs + n],
            &mut weight[m * hs..m * hs + n],
        );
        for (((o, s), w), &v) in o.iter_mut().zip(wsum).zip(&window).zip(frame) {
            *o += w * v;
            *s += w;
        }
        let base = nominal(m + 1);
        start = best_offset(&xp, &halves, start + hs, base - tol, 2 * tol, n);
    }
    (hs..hs + out_len)
        .map(|i| {
            if weight[i] > 1e-3 {
                out[i] / weight[i]
            } else {
                0.0
            }
        })
        .collect()
}

/// The start in `lo..=lo + span` whose `n` samples of `xp` correlate best with the `n`
/// samples at `template`. A coarse search on every other start and every other sample (over
/// `halves`, the even and odd samples of `xp`, so that both sides are contiguous), then the
/// neighbours of the coarse winner at full resolution: a quarter of the work of the full
/// search, and the correlation of speech is smooth over one sample at 16 kHz.
fn best_offset(
    xp: &[f32],
    halves: &[Vec<f32>; 2],
    template: usize,
    lo: usize,
    span: usize,
    n: usize,
) -> usize {
    let half = n / 2;
    let part = |i: usize| &halves[i % 2][i / 2..i / 2 + half];
    let t = part(template);
    let mut best = (lo, f32::NEG_INFINITY);
    for s in (lo..=lo + span).step_by(2) {
        let c = dot(part(s), t);
        if c > best.1 {
            best = (s, c);
        }
    }
    let full = &xp[template..template + n];
    let centre = best.0;
    let mut fine = (centre, f32::NEG_INFINITY);
    for s in centre.saturating_sub(1).max(lo)..=(centre + 1).min(lo + span) {
        let c = dot(&xp[s..s + n], full);
        if c > fine.1 {
            fine = (s, c);
        }
    }
    fine.0
}

/// Dot product with eight independent partial sums, which the compiler turns into SIMD (a
/// plain `zip().sum()` of floats must keep its order and stays scalar).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn tone(freq: f64, rate: u32, n: usize) -> Audio {
        Audio::new(
            (0..n)
                .map(|i| {
                    (0.5 * (std::f64::consts::TAU * freq * i as f64 / f64::from(rate)).sin()) as f32
                })
                .collect(),
            rate,
        )
    }

    /// Frequency of a clean tone from its upward zero crossings (linearly interpolated) over
    /// the middle 80 % of the clip.
    fn frequency(x: &[f32], rate: u32) -> f64 {
        let (lo, hi) = (x.len() / 10, x.len() * 9 / 10);
        let ups: Vec<f64> = (lo + 1..hi)
            .filter(|&i| x[i - 1] < 0.0 && x[i] >= 0.0)
            .map(|i| (i - 1) as f64 + f64::from(x[i - 1] / (x[i - 1] - x[i])))
            .collect();
        let (first, last) = (ups[0], ups[ups.len() - 1]);
        (ups.len() - 1) as f64 * f64::from(rate) / (last - first)
    }

    /// Measured frequency ratios are within this of the factor asked for (0.2 %: a third of
    /// the 0.6 % that separates a pitch from one 1/10 of a semitone away).
    const RATIO_TOL: f64 = 0.002;

    #[test]
    fn speed_changes_length_and_pitch_by_the_factor() {
        for rate in [8_000, 16_000, 44_100] {
            let a = tone(440.0, rate, rate as usize * 2);
            for factor in [0.9, 0.95, 1.1, 1.234] {
                let b = change_speed(&a, factor).unwrap();
                assert_eq!(b.sample_rate, rate);
                let want = (a.samples.len() as f64 / factor).ceil() as usize;
                assert!(
                    b.samples.len().abs_diff(want) <= 1,
                    "{} vs {want}",
                    b.samples.len()
                );
                let ratio = frequency(&b.samples, rate) / 440.0;
                assert!(
                    (ratio - factor).abs() < RATIO_TOL * factor,
                    "{rate}: {ratio}"
                );
            }
        }
        assert!(change_speed(&tone(440.0, 16_000, 100), 2.5).is_err());
        assert!(change_speed(&tone(440.0, 16_000, 100), f64::NAN).is_err());
        assert_eq!(
            change_speed(&Audio::new(vec![], 16_000), 1.1)
                .unwrap()
                .samples
                .len(),
            0
        );
    }

    #[test]
    fn wsola_keeps_the_pitch_and_the_level_while_changing_the_length() {
        let rate = 16_000;
        let a = tone(220.0, rate, 32_000);
        for stretch in [0.8, 0.9, 1.12, 1.25] {
            let y = wsola(&a.samples, rate, stretch);
            assert_eq!(y.len(), (32_000.0 * stretch).round() as usize);
            let ratio = frequency(&y, rate) / 220.0;
            assert!(
                (ratio - 1.0).abs() < RATIO_TOL,
                "stretch {stretch}: {ratio}"
            );
            // A steady tone stays steady: the RMS of every 20 ms window of the middle is within
            // 1 dB of the tone's (a bad splice would leave a dip).
            let mid = &y[y.len() / 10..y.len() * 9 / 10];
            for w in mid.chunks_exact(320) {
                let rms = (w.iter().map(|v| v * v).sum::<f32>() / 320.0).sqrt();
                let db = 20.0 * (rms / (0.5 / 2f32.sqrt())).log10();
                assert!(db.abs() < 1.0, "stretch {stretch}: window at {db:.2} dB");
            }
        }
    }

    #[test]
    fn pitch_shift_moves_the_pitch_and_keeps_the_length() {
        for rate in [16_000, 22_050] {
            let a = tone(300.0, rate, rate as usize * 2);
            for semitones in [-3.0, -1.0, 2.0, 4.0] {
                let b = pitch_shift(&a, semitones).unwrap();
                assert_eq!(b.samples.len(), a.samples.len());
                let want = (2f64.powf(semitones / 12.0) * 1000.0).round() / 1000.0;
                let ratio = frequency(&b.samples, rate) / 300.0;
                assert!(
                    (ratio - want).abs() < RATIO_TOL * want,
                    "{semitones}: {ratio}"
                );
            }
        }
        for n in [0, 1, 2, 50] {
            let b = pitch_shift(&Audio::new(vec![0.3; n], 16_000), 2.0).unwrap();
            assert_eq!(b.samples.len(), n);
            assert!(b.samples.iter().all(|v| v.is_finite()));
        }
        assert!(pitch_shift(&tone(300.0, 16_000, 100), 13.0).is_err());
    }
}
