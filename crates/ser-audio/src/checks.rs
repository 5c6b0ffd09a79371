//! Sanity checks on decoded audio before it reaches the model: finite samples of a sane
//! magnitude, a sample rate we support, a length within the limit, and a loudness test for
//! silence. The decoders apply the sample and rate checks themselves, before decoding or
//! resampling; [`check_audio`] is for audio that arrives already in memory.

use crate::Audio;
use crate::error::{Error, Result};

/// Lowest accepted sample rate (Hz): telephone-band audio.
pub const MIN_SAMPLE_RATE: u32 = 8_000;
/// Highest accepted sample rate (Hz): studio recorders top out at 192 kHz.
pub const MAX_SAMPLE_RATE: u32 = 192_000;

/// Largest magnitude accepted for a sample: 2^7 = 128, 42.1 dB over full scale.
///
/// Float WAV (`WAVE_FORMAT_IEEE_FLOAT`) and the MP3/Vorbis decoders' output are nominally in
/// [-1, 1]; float formats allow "overs" beyond full scale, but no recording or mix is 42 dB
/// over, while a bit flip in a float's exponent easily is. Such values are not harmless: near
/// `f32::MAX` they overflow the resampler's FFT (issue 25: two samples of 3.4e38 panicked
/// rubato; samples of 1e36 turned every resampled sample into NaN). They are refused, not
/// clamped: clamping would hand the model a click train and call the answer an emotion.
pub const MAX_SAMPLE_MAGNITUDE: f32 = 128.0;

/// A clip whose RMS level is below this (dB relative to full scale) is treated as silence.
///
/// Why -60 dBFS: conversational speech recorded with a phone or laptop sits around -35 to
/// -20 dBFS RMS, and the self-noise of a muted or unplugged microphone is below -70 dBFS; -60 dB
/// leaves a 25 dB margin to quiet speech while still catching digital zero and near-zero
/// recordings (16-bit dither is about -96 dBFS).
pub const SILENCE_RMS_DBFS: f32 = -60.0;

/// Returns the first non-finite sample as an error.
pub fn check_finite(samples: &[f32]) -> Result<()> {
    match samples.iter().position(|s| !s.is_finite()) {
        Some(index) => Err(Error::NonFinite {
            index,
            value: samples[index],
        }),
        None => Ok(()),
    }
}

/// The first sample that is not finite, or whose magnitude exceeds [`MAX_SAMPLE_MAGNITUDE`],
/// as an error naming its index and (at `sample_rate` Hz) its time.
pub fn check_samples(samples: &[f32], sample_rate: u32) -> Result<()> {
    samples
        .iter()
        .enumerate()
        .try_for_each(|(i, &x)| check_sample(x, i, sample_rate))
}

/// [`check_samples`] for one sample at mono index `index`.
#[inline]
pub(crate) fn check_sample(value: f32, index: usize, sample_rate: u32) -> Result<()> {
    // One comparison in the common case: NaN fails `<=`, and so does anything too large.
    if value.abs() <= MAX_SAMPLE_MAGNITUDE {
        return Ok(());
    }
    if !value.is_finite() {
        return Err(Error::NonFinite { index, value });
    }
    Err(Error::SampleOutOfRange {
        index,
        time_secs: index as f64 / f64::from(sample_rate.max(1)),
        value,
        max: MAX_SAMPLE_MAGNITUDE,
    })
}

/// Checks the rate against [`MIN_SAMPLE_RATE`]..=[`MAX_SAMPLE_RATE`].
pub fn check_rate(rate: u32) -> Result<()> {
    if (MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&rate) {
        Ok(())
    } else {
        Err(Error::SampleRate {
            rate,
            min: MIN_SAMPLE_RATE,
            max: MAX_SAMPLE_RATE,
        })
    }
}

/// Checks everything the model needs: samples present, finite and within
/// [`MAX_SAMPLE_MAGNITUDE`], rate in range, and (when `max_secs` is set) not longer than the
/// limit.
pub fn check_audio(audio: &Audio, max_secs: Option<f64>) -> Result<()> {
    check_rate(audio.sample_rate)?;
    if audio.samples.is_empty() {
        return Err(Error::NoSamples {
            reason: "the decoded clip is empty".into(),
        });
    }
    if let Some(max) = max_secs
        && audio.duration_secs() > max
    {
        return Err(Error::TooLong {
            duration_secs: audio.duration_secs(),
            max_secs: max,
            at_least: false,
        });
    }
    check_samples(&audio.samples, audio.sample_rate)
}

/// RMS level in dB relative to full scale (a full-scale square wave is 0 dBFS); `-inf` for
/// digital silence or an empty slice.
pub fn rms_dbfs(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return f32::NEG_INFINITY;
    }
    // Accumulate in f64: a minute at 96 kHz is 5.8 M squares.
    let mean_sq = samples
        .iter()
        .map(|&s| f64::from(s) * f64::from(s))
        .sum::<f64>()
        / samples.len() as f64;
    if mean_sq <= 0.0 {
        f32::NEG_INFINITY
    } else {
        (10.0 * mean_sq.log10()) as f32
    }
}

/// True when the clip is below [`SILENCE_RMS_DBFS`].
pub fn is_silent(samples: &[f32]) -> bool {
    rms_dbfs(samples) < SILENCE_RMS_DBFS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rms_of_known_signals() {
        assert_eq!(rms_dbfs(&[]), f32::NEG_INFINITY);
        assert_eq!(rms_dbfs(&[0.0; 100]), f32::NEG_INFINITY);
        assert!(rms_dbfs(&[1.0, -1.0, 1.0, -1.0]).abs() < 1e-6);
        // A sine of amplitude 1 has RMS 1/sqrt(2) = -3.01 dBFS.
        let sine: Vec<f32> = (0..16_000)
            .map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16_000.0).sin())
            .collect();
        assert!((rms_dbfs(&sine) + 3.0103).abs() < 0.01);
        assert!(!is_silent(&sine));
        let faint: Vec<f32> = sine.iter().map(|s| s * 1e-4).collect();
        assert!(is_silent(&faint));
    }

    #[test]
    fn finds_the_first_nan() {
        let mut s = vec![0.1_f32; 10];
        s[4] = f32::NAN;
        s[7] = f32::INFINITY;
        match check_finite(&s) {
            Err(Error::NonFinite { index, value }) => {
                assert_eq!(index, 4);
                assert!(value.is_nan());
            }
            other => panic!("expected NonFinite, got {other:?}"),
        }
    }

    #[test]
    fn huge_finite_samples_are_refused_naming_index_and_time() {
        let mut s = vec![0.5_f32; 48_000];
        assert!(check_samples(&s, 48_000).is_ok());
        s[24_000] = -MAX_SAMPLE_MAGNITUDE; // the bound itself is accepted
        assert!(check_samples(&s, 48_000).is_ok());
        s[36_000] = 3.4e38;
        match check_samples(&s, 48_000) {
            Err(Error::SampleOutOfRange {
                index, time_secs, ..
            }) => {
                assert_eq!(index, 36_000);
                assert!((time_secs - 0.75).abs() < 1e-9);
            }
            other => panic!("expected SampleOutOfRange, got {other:?}"),
        }
        s[10] = f32::NEG_INFINITY;
        assert!(matches!(
            check_samples(&s, 48_000),
            Err(Error::NonFinite { index: 10, .. })
        ));
    }

    #[test]
    fn rejects_rates_and_lengths_outside_the_limits() {
        let a = Audio::new(vec![0.1; 4000], 4000);
        assert!(matches!(
            check_audio(&a, None),
            Err(Error::SampleRate { rate: 4000, .. })
        ));
        let a = Audio::new(vec![0.1; 16_000 * 3], 16_000);
        assert!(check_audio(&a, Some(3.0)).is_ok());
        assert!(matches!(
            check_audio(&a, Some(2.5)),
            Err(Error::TooLong { .. })
        ));
    }
}
