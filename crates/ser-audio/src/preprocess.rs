//! Waveform preprocessing applied after decoding and resampling: DC removal, energy-based
//! silence trimming, level normalisation and padding/cropping to a fixed duration.
//!
//! Every step is optional and configured by the serde struct [`Preprocess`], which training
//! saves beside its artifacts so prediction preprocesses exactly the same way.
//!
//! ```
//! use ser_audio::{Audio, Preprocess};
//!
//! let mut audio = Audio::new(vec![0.0; 16000], 16000);
//! audio.samples.extend((0..8000).map(|i| (i as f32 * 0.05).sin() * 0.1));
//! audio.samples.extend(vec![0.0; 16000]);
//! Preprocess::default().apply(&mut audio);
//! assert!(audio.duration_secs() < 0.6); // the silent second on each side is trimmed
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::Audio;
use crate::error::{Error, Result};

/// Energy-based trimming of leading and trailing silence, like `librosa.effects.trim`.
///
/// Frames whose RMS is more than `top_db` below the loudest frame are silence. Frames are
/// given in seconds so the same config works at any sample rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Trim {
    /// Threshold below the loudest frame, in dB. Default 40 dB: librosa's default is 60 dB,
    /// but RAVDESS's studio noise floor sits roughly 45-60 dB under the speech peaks, so 60 dB
    /// would keep most of the ~1 s silence that leads every clip.
    pub top_db: f32,
    /// Frame length in seconds (default 0.025 s, the usual 25 ms speech analysis frame).
    pub frame_secs: f32,
    /// Hop in seconds (default 0.010 s).
    pub hop_secs: f32,
    /// Noise-aware threshold: a frame is also silence unless it is more than this many dB
    /// above the clip's noise floor (the 10th percentile of frame energies). `None` = off
    /// (pure `top_db`, as librosa). Default 10 dB: in a studio recording the floor sits
    /// 45-60 dB under the peaks and `top_db` decides alone, but with background noise at
    /// 20 dB SNR the `top_db` threshold falls below the noise and nothing would be trimmed,
    /// so a noisy recording would reach the model with a second of noise on each side that
    /// the training clips never had. 10 dB is our choice (not a published constant): the
    /// smallest margin that trims white noise at 20 dB SNR on RAVDESS clips
    /// (crates/ser-models/tests/robustness.rs).
    pub floor_margin_db: Option<f32>,
}

impl Default for Trim {
    fn default() -> Self {
        Self {
            top_db: 40.0,
            frame_secs: 0.025,
            hop_secs: 0.010,
            floor_margin_db: Some(10.0),
        }
    }
}

/// Percentile of frame energies taken as the noise floor by [`Trim::floor_margin_db`]: low
/// enough to land in the pauses of a clip that is mostly speech.
const NOISE_FLOOR_PERCENTILE: f32 = 0.10;

/// Level normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Normalize {
    /// Leave the level as recorded.
    None,
    /// Scale so the largest absolute sample equals `target` (linear, e.g. 0.95).
    Peak {
        /// Target peak (0, 1].
        target: f32,
    },
    /// Scale so the RMS equals `target_dbfs` dB re full scale, then limit the peak to 1.0.
    Rms {
        /// Target RMS level in dBFS (e.g. -20.0).
        target_dbfs: f32,
    },
    /// Scale so the ITU-R BS.1770-4 integrated loudness (K-weighted, gated: the level of the
    /// active speech, not of the pauses) equals `target_lufs`, then limit the peak to 1.0
    /// ([`crate::loudness::normalize_loudness`]). Silent clips, and rates too low for
    /// K-weighting (under 3.4 kHz), are left unscaled. Serialised as
    /// `{"kind": "loudness", "target_lufs": -23.0}`; configs written before this variant
    /// existed never name it, so they deserialise and behave exactly as before.
    Loudness {
        /// Target loudness in LUFS, within (-70, 0) (e.g. -23.0, EBU R 128).
        target_lufs: f32,
    },
}

/// Where to cut when a clip is longer than the fixed duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CropAt {
    /// Keep the beginning.
    Start,
    /// Keep the middle (default: speech is centred after trimming anyway).
    Center,
}

/// Pad (with zeros at the end) or crop to exactly `seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FixedDuration {
    /// Target length in seconds.
    pub seconds: f32,
    /// Which part to keep when cropping.
    pub crop: CropAt,
}

/// Preprocessing pipeline, applied in field order.
///
/// Defaults: `remove_dc = true`, `trim = Some(Trim::default())` (40 dB, 25 ms / 10 ms),
/// `normalize = Peak { target: 0.95 }`, `duration = None` (keep variable length; batching pads).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Preprocess {
    /// Subtract the mean (microphone/ADC DC offsets bias the lowest FFT bins).
    pub remove_dc: bool,
    /// Trim leading/trailing silence.
    pub trim: Option<Trim>,
    /// Level normalisation.
    pub normalize: Normalize,
    /// Pad/crop to a fixed duration.
    pub duration: Option<FixedDuration>,
}

impl Default for Preprocess {
    fn default() -> Self {
        Self {
            remove_dc: true,
            trim: Some(Trim::default()),
            normalize: Normalize::Peak { target: 0.95 },
            duration: None,
        }
    }
}

impl Preprocess {
    /// A pipeline that changes nothing.
    pub fn none() -> Self {
        Self {
            remove_dc: false,
            trim: None,
            normalize: Normalize::None,
            duration: None,
        }
    }

    /// Checks the ranges of all numeric fields.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, reason: &str| {
            Err(Error::InvalidConfig {
                field,
                reason: reason.to_string(),
            })
        };
        if let Some(t) = self.trim {
            if t.top_db.is_nan() || t.top_db <= 0.0 {
                return bad("trim.top_db", "must be > 0 dB");
            }
            if t.frame_secs.is_nan()
                || t.hop_secs.is_nan()
                || t.frame_secs <= 0.0
                || t.hop_secs <= 0.0
            {
                return bad("trim.frame_secs/hop_secs", "must be > 0 seconds");
            }
        }
        if let Normalize::Peak { target } = self.normalize
            && (target.is_nan() || target <= 0.0 || target > 1.0)
        {
            return bad("normalize.target", "must be in (0, 1]");
        }
        if let Normalize::Rms { target_dbfs } = self.normalize
            && (target_dbfs.is_nan() || target_dbfs >= 0.0)
        {
            return bad("normalize.target_dbfs", "must be < 0 dBFS");
        }
        if let Normalize::Loudness { target_lufs } = self.normalize {
            crate::loudness::check_target(f64::from(target_lufs))?;
        }
        if let Some(d) = self.duration
            && (d.seconds.is_nan() || d.seconds <= 0.0)
        {
            return bad("duration.seconds", "must be > 0");
        }
        Ok(())
    }

    /// Applies the pipeline in place. Never fails: silent or empty clips are left unscaled
    /// and untrimmed rather than emptied or divided by zero.
    pub fn apply(&self, audio: &mut Audio) {
        if self.remove_dc {
            remove_dc(&mut audio.samples);
        }
        if let Some(t) = self.trim {
            trim(audio, &t);
        }
        normalize(audio, self.normalize);
        if let Some(d) = self.duration {
            fix_duration(audio, &d);
        }
    }
}

fn remove_dc(x: &mut [f32]) {
    if x.is_empty() {
        return;
    }
    let mean = (x.iter().map(|&v| f64::from(v)).sum::<f64>() / x.len() as f64) as f32;
    x.iter_mut().for_each(|v| *v -= mean);
}

/// Returns the `[start, end)` sample range kept by energy trimming.
pub fn trim_range(audio: &Audio, t: &Trim) -> (usize, usize) {
    let n = audio.samples.len();
    let sr = audio.sample_rate as f32;
    let frame = ((t.frame_secs * sr).round() as usize).max(1);
    let hop = ((t.hop_secs * sr).round() as usize).max(1);
    if n == 0 {
        return (0, 0);
    }
    let energies: Vec<f32> = (0..n.div_ceil(hop))
        .map(|i| {
            let s = i * hop;
            let e = (s + frame).min(n);
            let w = &audio.samples[s..e];
            w.iter().map(|v| v * v).sum::<f32>() / frame as f32
        })
        .collect();
    let max = energies.iter().copied().fold(0.0f32, f32::max);
    if max <= 0.0 {
        return (0, n);
    }
    let mut threshold = max * 10f32.powf(-t.top_db / 10.0);
    if let Some(margin) = t.floor_margin_db {
        let mut scratch = energies.clone();
        let k = ((scratch.len() - 1) as f32 * NOISE_FLOOR_PERCENTILE).round() as usize;
        let (_, floor, _) = scratch.select_nth_unstable_by(k, f32::total_cmp);
        // If no frame clears it (steady noise, a constant tone) nothing is trimmed.
        threshold = threshold.max(*floor * 10f32.powf(margin / 10.0));
    }
    let first = energies.iter().position(|&e| e > threshold);
    let last = energies.iter().rposition(|&e| e > threshold);
    match (first, last) {
        (Some(f), Some(l)) => (f * hop, (l * hop + frame).min(n)),
        _ => (0, n),
    }
}

fn trim(audio: &mut Audio, t: &Trim) {
    let (s, e) = trim_range(audio, t);
    if e > s {
        audio.samples.truncate(e);
        audio.samples.drain(..s);
    }
}

fn normalize(audio: &mut Audio, how: Normalize) {
    if let Normalize::Loudness { target_lufs } = how {
        // Only a rate under 3.4 kHz or an invalid target (which `validate` reports) fail;
        // `apply` never fails, so those leave the clip as it is.
        let _ = crate::loudness::normalize_loudness(audio, f64::from(target_lufs));
        return;
    }
    let x = &mut audio.samples[..];
    let gain = match how {
        Normalize::None | Normalize::Loudness { .. } => return,
        Normalize::Peak { target } => {
            let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            if peak <= 0.0 {
                return;
            }
            target / peak
        }
        Normalize::Rms { target_dbfs } => {
            if x.is_empty() {
                return;
            }
            let rms = (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
            let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            if rms <= 0.0 {
                return;
            }
            (10f32.powf(target_dbfs / 20.0) / rms).min(1.0 / peak)
        }
    };
    x.iter_mut().for_each(|v| *v *= gain);
}

fn fix_duration(audio: &mut Audio, d: &FixedDuration) {
    let want = (d.seconds * audio.sample_rate as f32).round() as usize;
    let n = audio.samples.len();
    if n < want {
        audio.samples.resize(want, 0.0);
    } else if n > want {
        let start = match d.crop {
            CropAt::Start => 0,
            CropAt::Center => (n - want) / 2,
        };
        audio.samples.truncate(start + want);
        audio.samples.drain(..start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dc_is_removed() {
        let mut a = Audio::new(vec![0.5; 100], 16000);
        Preprocess {
            trim: None,
            normalize: Normalize::None,
            ..Preprocess::default()
        }
        .apply(&mut a);
        assert!(a.samples.iter().all(|v| v.abs() < 1e-6));
    }

    #[test]
    fn silent_clip_is_untouched_by_trim_and_normalise() {
        let mut a = Audio::new(vec![0.0; 1600], 16000);
        Preprocess::default().apply(&mut a);
        assert_eq!(a.samples.len(), 1600);
    }

    /// 1 s of white noise, a 1 s tone burst 20 dB above the noise (RMS), 1 s of noise.
    fn burst_in_noise() -> Audio {
        let mut rng = crate::rng::SplitMix64::new(7);
        let samples = (0..3 * 16000)
            .map(|i| {
                // Gaussian noise of RMS 0.01; the tone has RMS 0.1, 20 dB above it.
                let noise = 0.01 * rng.normal() as f32;
                let tone = if (16000..32000).contains(&i) {
                    0.1 * 2f32.sqrt() * (i as f32 * 0.1).sin()
                } else {
                    0.0
                };
                tone + noise
            })
            .collect();
        Audio::new(samples, 16000)
    }

    #[test]
    fn noise_aware_trim_cuts_noise_at_20_db_snr_that_top_db_alone_keeps() {
        let a = burst_in_noise();
        // top_db alone: the noise is only ~23 dB under the loudest frame, above -40 dB: kept.
        let plain = Trim {
            floor_margin_db: None,
            ..Trim::default()
        };
        assert_eq!(trim_range(&a, &plain), (0, a.samples.len()));
        // Noise-aware: cut to the burst, within a frame.
        let (s, e) = trim_range(&a, &Trim::default());
        assert!((15_600..=16_000).contains(&s), "start {s}");
        assert!((32_000..=32_400).contains(&e), "end {e}");
    }

    #[test]
    fn noise_aware_trim_leaves_steady_noise_alone() {
        let mut a = burst_in_noise();
        a.samples.drain(16000..32000);
        assert_eq!(trim_range(&a, &Trim::default()), (0, a.samples.len()));
    }

    #[test]
    fn peak_and_rms() {
        let mut x = Audio::new(vec![0.1, -0.2, 0.05], 16_000);
        normalize(&mut x, Normalize::Peak { target: 0.5 });
        assert!((x.samples[1] + 0.5).abs() < 1e-6);
        let mut y = Audio::new(
            (0..1000).map(|i| (i as f32 * 0.1).sin() * 0.01).collect(),
            16_000,
        );
        normalize(&mut y, Normalize::Rms { target_dbfs: -20.0 });
        let rms = (y.samples.iter().map(|v| v * v).sum::<f32>() / 1000.0).sqrt();
        assert!((20.0 * rms.log10() + 20.0).abs() < 0.1);
    }

    #[test]
    fn loudness_normalisation_reaches_its_target() {
        let mut a = burst_in_noise();
        let p = Preprocess {
            trim: None,
            normalize: Normalize::Loudness { target_lufs: -26.0 },
            ..Preprocess::default()
        };
        p.validate().unwrap();
        p.apply(&mut a);
        let lufs = crate::loudness::integrated_loudness(&a).unwrap().unwrap();
        assert!((lufs + 26.0).abs() < 0.01, "{lufs}");
        let bad = Preprocess {
            normalize: Normalize::Loudness { target_lufs: 1.0 },
            ..Preprocess::default()
        };
        assert!(bad.validate().is_err());
    }

    /// Configs written before `Normalize::Loudness` existed read back to the same pipeline,
    /// and the new variant round-trips.
    #[test]
    fn serde_stays_backward_compatible() {
        let old = [
            (
                r#"{"kind":"peak","target":0.95}"#,
                Normalize::Peak { target: 0.95 },
            ),
            (
                r#"{"kind":"rms","target_dbfs":-20.0}"#,
                Normalize::Rms { target_dbfs: -20.0 },
            ),
            (r#"{"kind":"none"}"#, Normalize::None),
        ];
        for (json, want) in old {
            assert_eq!(serde_json::from_str::<Normalize>(json).unwrap(), want);
            assert_eq!(serde_json::to_string(&want).unwrap(), json);
        }
        let full = r#"{"remove_dc":true,"trim":{"top_db":40.0,"frame_secs":0.025,"hop_secs":0.01,"floor_margin_db":10.0},"normalize":{"kind":"peak","target":0.95},"duration":null}"#;
        let p: Preprocess = serde_json::from_str(full).unwrap();
        assert_eq!(p, Preprocess::default());
        assert_eq!(serde_json::to_string(&p).unwrap(), full);
        let loud = Normalize::Loudness { target_lufs: -23.0 };
        let json = serde_json::to_string(&loud).unwrap();
        assert_eq!(json, r#"{"kind":"loudness","target_lufs":-23.0}"#);
        assert_eq!(serde_json::from_str::<Normalize>(&json).unwrap(), loud);
    }

    #[test]
    fn pad_and_crop() {
        let d = FixedDuration {
            seconds: 1.0,
            crop: CropAt::Center,
        };
        let mut a = Audio::new(vec![1.0; 500], 1000);
        fix_duration(&mut a, &d);
        assert_eq!(a.samples.len(), 1000);
        assert_eq!(a.samples[999], 0.0);
        let mut b = Audio::new((0..3000).map(|i| i as f32).collect(), 1000);
        fix_duration(&mut b, &d);
        assert_eq!(b.samples.len(), 1000);
        assert_eq!(b.samples[0], 1000.0);
    }

    #[test]
    fn validate_rejects_bad_values() {
        let p = Preprocess {
            normalize: Normalize::Peak { target: 2.0 },
            ..Preprocess::default()
        };
        assert!(p.validate().is_err());
        assert!(Preprocess::default().validate().is_ok());
    }
}
