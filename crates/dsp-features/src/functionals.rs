//! Utterance-level functionals: one fixed-length vector per clip (prosody, energy, spectral shape,
//! MFCC statistics), for a small linear head fused with the sequence model.
//!
//! The definition comes from the Python (librosa 0.11) exploration that motivated the feature;
//! it is written out with librosa calls in `tests/fixtures/make_functionals_fixtures.py`
//! (`functionals`), and `tests/functionals_parity.rs` checks this module against it. All frame sizes are in samples
//! (25 ms windows, 10 ms hop at 16 kHz).
//!
//! `stats6(x)` = `[mean, std (population), p5, p50, p95, p95 - p5]`, percentiles as
//! `np.percentile` (linear interpolation), in f64; an empty `x` counts as `[0.0]`.
//! Names are `{prefix}_{mean,std,p5,p50,p95,range}`. In order ([`functional_names`]):
//!
//! | # | names | what |
//! |---|---|---|
//! | 1 | `dur` | `len / sample_rate` (s) |
//! | 6 | `lf0rel_*` | `stats6(lf0 - median(lf0))`, `lf0 = log2(f0)` of the voiced YIN frames (`[0.0]` if none) |
//! | 1 | `lf0_med` | `median(lf0)` |
//! | 1 | `voiced_frac` | fraction of YIN frames with aperiodicity `< voicing_threshold` |
//! | 6 | `dlf0_*` | `stats6(abs(diff(lf0)))` over the voiced-only sequence (`[0.0]` if under 2 values) |
//! | 6 | `rms_*` | `stats6(rdb)`, `rdb = 20 log10(rms + 1e-5)`, `librosa.feature.rms(frame_length=400, hop_length=160)` (centred, zero padding) |
//! | 6 | `drms_*` | `stats6(diff(rdb))` |
//! | 6 | `cent_*` | `librosa.feature.spectral_centroid` of the magnitude STFT (n_fft 512, Hann 400, hop 160, centred, zero padding) |
//! | 6 | `roll_*` | `librosa.feature.spectral_rolloff` (`roll_percent` 0.85) of the same |
//! | 6 | `flat_*` | `ln(librosa.feature.spectral_flatness + 1e-10)` (power 2, `amin` 1e-10) |
//! | 6 | `zcr_*` | `librosa.feature.zero_crossing_rate(frame_length=400, hop_length=160)` (centred with **edge** padding, as librosa) |
//! | 60 | `mfcc{k}_mean`, `mfcc{k}_std`, `dmfcc{k}_std`, k = 0..20 | 20 MFCCs of the default 64-band log-mel ([`crate::FeatureConfig::default`]) and their deltas (width 9) |
//! | 1 | `tilt` | mean of log-mel bands 0..20 minus mean of bands 40..64, over the voiced frames (all frames if none) |
//!
//! # Divergence from librosa
//! `librosa.feature.delta(mode='interp')` raises on fewer than 9 frames (clips under ~0.05 s);
//! here the `dmfcc{k}_std` of such clips are 0 instead, so every non-empty clip has a vector.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::config::FeatureConfig;
use crate::db::power_to_db;
use crate::dct::Dct;
use crate::delta::DeltaPlan;
use crate::error::{FeatureError, Result};
use crate::extractor::FeatureExtractor;
use crate::mel::fft_frequencies;
use crate::pitch::{YinConfig, YinPlan};
use crate::stats::{abs_diff, diff, mean_std, median, stats6};
use crate::stft::check_samples;
use crate::time_domain::{rms, zero_crossing_rate};

/// Length of the vector.
pub const FUNCTIONALS_DIM: usize = 112;

/// Suffixes of [`stats6`], in order.
const STATS: [&str; 6] = ["mean", "std", "p5", "p50", "p95", "range"];
/// RMS and zero-crossing frames (samples): 25 ms at 16 kHz, the STFT's window length.
const FRAME_LENGTH: usize = 400;
/// Hop of the RMS, zero-crossing and STFT frames (10 ms at 16 kHz), = `FeatureConfig::default()`.
const HOP_LENGTH: usize = 160;
/// Floor added to the RMS before the dB conversion (the definition's `rms + 1e-5`, -100 dB).
const RMS_FLOOR: f64 = 1e-5;
/// `librosa.feature.spectral_rolloff`'s default `roll_percent`.
const ROLL_PERCENT: f64 = 0.85;
/// `librosa.feature.spectral_flatness`'s default `amin` (on the power spectrum).
const FLATNESS_AMIN: f64 = 1e-10;
/// Added to the flatness before the log (the definition's `log(flatness + 1e-10)`).
const FLATNESS_LOG_FLOOR: f64 = 1e-10;
/// Number of MFCCs summarised.
const N_MFCC: usize = 20;
/// Log-mel bands averaged for the spectral tilt: low 0..20 (filters spanning 0-975 Hz) minus
/// high 40..64 (2.42-8 kHz), with the default 64 Slaney bands at 16 kHz
/// (`librosa.mel_frequencies(66, fmax=8000)`: band `m` spans edges `m..m + 2`).
const TILT_LOW: std::ops::Range<usize> = 0..20;
const TILT_HIGH: std::ops::Range<usize> = 40..64;
/// librosa's `util.tiny` of float32 spectra: columns with a smaller L1 norm are not normalised
/// by `spectral_centroid` (`util.normalize(threshold=tiny(S))`).
const CENTROID_TINY: f64 = f32::MIN_POSITIVE as f64;

/// Settings of [`FunctionalsExtractor`]; saved in a model manifest (serde).
///
/// `Default`: 16 kHz, [`YinConfig::default`], voicing threshold 0.3 on the YIN aperiodicity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FunctionalsConfig {
    /// Sample rate of the audio (Hz); must equal `yin.sample_rate`.
    #[serde(alias = "sr")]
    pub sample_rate: u32,
    /// Pitch tracker settings.
    pub yin: YinConfig,
    /// A YIN frame is voiced when its aperiodicity is below this.
    pub voicing_threshold: f32,
}

impl Default for FunctionalsConfig {
    fn default() -> Self {
        FunctionalsConfig {
            sample_rate: 16_000,
            yin: YinConfig::default(),
            voicing_threshold: 0.3,
        }
    }
}

impl FunctionalsConfig {
    /// Check every field (the log-mel settings are fixed and checked by
    /// [`FunctionalsExtractor::new`]); errors name the field.
    pub fn validate(&self) -> Result<()> {
        if self.sample_rate == 0 {
            return Err(FeatureError::param("sample_rate", 0, "must be > 0 Hz"));
        }
        if self.yin.sample_rate != self.sample_rate {
            return Err(FeatureError::param(
                "yin.sample_rate",
                self.yin.sample_rate,
                format!("must equal sample_rate ({} Hz)", self.sample_rate),
            ));
        }
        self.yin.validate()?;
        if !self.voicing_threshold.is_finite() {
            return Err(FeatureError::param(
                "voicing_threshold",
                self.voicing_threshold,
                "must be finite (default 0.3)",
            ));
        }
        Ok(())
    }
}

/// The names of the vector's values, in order (stable: models store vectors by position).
pub fn functional_names() -> Vec<String> {
    let stats = |prefix: &'static str| STATS.iter().map(move |s| format!("{prefix}_{s}"));
    let mut names = vec!["dur".to_string()];
    names.extend(stats("lf0rel"));
    names.push("lf0_med".into());
    names.push("voiced_frac".into());
    for prefix in ["dlf0", "rms", "drms", "cent", "roll", "flat", "zcr"] {
        names.extend(stats(prefix));
    }
    for k in 0..N_MFCC {
        names.push(format!("mfcc{k}_mean"));
        names.push(format!("mfcc{k}_std"));
        names.push(format!("dmfcc{k}_std"));
    }
    names.push("tilt".into());
    names
}

/// Computes the [`FUNCTIONALS_DIM`] utterance functionals (see the [module docs](self)).
/// Plans once (YIN FFTs, STFT, mel filterbank, DCT, delta filter); `Send + Sync`.
///
/// ```
/// use dsp_features::{FunctionalsConfig, FunctionalsExtractor, functional_names};
///
/// // Half a second of a 150 Hz tone with two harmonics, at 16 kHz.
/// let y: Vec<f32> = (0..8_000)
///     .map(|i| {
///         let p = 2.0 * std::f32::consts::PI * 150.0 * i as f32 / 16_000.0;
///         0.3 * p.sin() + 0.1 * (2.0 * p).sin() + 0.05 * (3.0 * p).sin()
///     })
///     .collect();
/// let ex = FunctionalsExtractor::new(FunctionalsConfig::default())?;
/// let v = ex.extract(&y)?;
/// assert_eq!(v.len(), ex.dim());
/// let names = functional_names();
/// let get = |name: &str| v[names.iter().position(|n| n == name).unwrap()];
/// assert_eq!(get("dur"), 0.5);
/// assert!((get("lf0_med").exp2() - 150.0).abs() < 1.0); // median f0 of the voiced frames
/// assert!(get("voiced_frac") > 0.9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct FunctionalsExtractor {
    config: FunctionalsConfig,
    yin: YinPlan,
    /// Default 64-band log-mel at `sample_rate`: its STFT plan and filterbank are used.
    logmel: FeatureExtractor,
    dct: Dct,
    delta: DeltaPlan,
    /// Centre frequency of every STFT bin (Hz).
    freqs: Vec<f64>,
}

impl FunctionalsExtractor {
    /// Validate `config` and plan everything. Errors name the bad field.
    pub fn new(config: FunctionalsConfig) -> Result<Self> {
        config.validate()?;
        let yin = YinPlan::new(config.yin)?;
        let logmel = FeatureExtractor::new(FeatureConfig {
            sample_rate: config.sample_rate,
            ..FeatureConfig::default()
        })?;
        let mel_cfg = logmel.config();
        let dct = Dct::new(mel_cfg.n_mels, N_MFCC, 0.0);
        let delta = DeltaPlan::new(mel_cfg.delta_width, 1)?;
        let freqs = fft_frequencies(config.sample_rate as f64, mel_cfg.n_fft);
        Ok(FunctionalsExtractor {
            config,
            yin,
            logmel,
            dct,
            delta,
            freqs,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &FunctionalsConfig {
        &self.config
    }

    /// Length of every vector, [`FUNCTIONALS_DIM`].
    pub fn dim(&self) -> usize {
        FUNCTIONALS_DIM
    }

    /// The vector of one clip (mono, at `sample_rate`, already trimmed and normalised as the
    /// caller's pipeline does). Any non-empty finite clip works, even one shorter than a frame
    /// (frames are centred and padded, as librosa's).
    ///
    /// Errors: [`FeatureError::EmptyInput`], [`FeatureError::NonFiniteSample`],
    /// [`FeatureError::InputTooShort`] (only with `yin.center = false`).
    pub fn extract(&self, y: &[f32]) -> Result<Vec<f32>> {
        check_samples(y)?;
        let mut v: Vec<f64> = Vec::with_capacity(FUNCTIONALS_DIM);
        v.push(y.len() as f64 / self.config.sample_rate as f64);

        // Prosody.
        let track = self.yin.track(y)?;
        let voiced: Vec<bool> = track
            .aperiodicity
            .iter()
            .map(|&a| a < self.config.voicing_threshold)
            .collect();
        let mut lf0: Vec<f64> = track
            .f0
            .iter()
            .zip(&voiced)
            .filter(|&(_, &v)| v)
            .map(|(&f, _)| (f as f64).log2())
            .collect();
        if lf0.is_empty() {
            lf0.push(0.0);
        }
        let med = median(&lf0);
        let rel: Vec<f64> = lf0.iter().map(|x| x - med).collect();
        v.extend(stats6(&rel));
        v.push(med);
        v.push(voiced.iter().filter(|&&b| b).count() as f64 / voiced.len().max(1) as f64);
        v.extend(stats6(&abs_diff(&lf0)));

        // Energy.
        let rdb: Vec<f64> = rms(y, FRAME_LENGTH, HOP_LENGTH)
            .into_iter()
            .map(|r| 20.0 * (r + RMS_FLOOR).log10())
            .collect();
        v.extend(stats6(&rdb));
        v.extend(stats6(&diff(&rdb)));

        // Spectral shape and mel power, from one STFT pass.
        let spec = self.spectral(y)?;
        v.extend(stats6(&spec.centroid));
        v.extend(stats6(&spec.rolloff));
        v.extend(stats6(&spec.log_flatness));
        v.extend(stats6(&zero_crossing_rate(y, FRAME_LENGTH, HOP_LENGTH)));

        // MFCCs of the log-mel, their deltas, and the tilt of the log-mel.
        let cfg = self.logmel.config();
        let n_mels = cfg.n_mels;
        let mut logmel = spec.mel_power;
        power_to_db(&mut logmel, cfg.db_ref, cfg.amin, cfg.top_db);
        let n_frames = logmel.len() / n_mels;
        let mut mfcc = Array2::<f32>::zeros((N_MFCC, n_frames));
        let mut coefs = [0.0f32; N_MFCC];
        for (t, frame) in logmel.chunks_exact(n_mels).enumerate() {
            self.dct.apply(frame, &mut coefs);
            mfcc.column_mut(t)
                .assign(&ndarray::ArrayView1::from(&coefs[..]));
        }
        // librosa raises with fewer frames than the delta width; see the module docs.
        let deltas = if n_frames >= cfg.delta_width {
            Some(self.delta.apply(mfcc.view())?)
        } else {
            None
        };
        for k in 0..N_MFCC {
            let row: Vec<f64> = mfcc.row(k).iter().map(|&x| x as f64).collect();
            let (mean, std) = mean_std(&row);
            v.push(mean);
            v.push(std);
            v.push(match &deltas {
                Some(d) => mean_std(&d.row(k).iter().map(|&x| x as f64).collect::<Vec<_>>()).1,
                None => 0.0,
            });
        }
        let n = n_frames.min(voiced.len());
        let mut cols: Vec<usize> = (0..n).filter(|&t| voiced[t]).collect();
        if cols.is_empty() {
            cols = (0..n_frames).collect();
        }
        let band_mean = |bands: std::ops::Range<usize>| {
            let sum: f64 = cols
                .iter()
                .flat_map(|&t| logmel[t * n_mels..][bands.clone()].iter())
                .map(|&x| x as f64)
                .sum();
            sum / (bands.len() * cols.len()).max(1) as f64
        };
        v.push(band_mean(TILT_LOW) - band_mean(TILT_HIGH));

        debug_assert_eq!(v.len(), FUNCTIONALS_DIM);
        Ok(v.into_iter().map(|x| x as f32).collect())
    }

    /// One pass over the STFT frames: centroid, rolloff and log-flatness per frame (from the
    /// power spectrum, `|X| = sqrt(|X|^2)`), and the mel power (frames-major, as
    /// [`FeatureExtractor`] computes it).
    fn spectral(&self, y: &[f32]) -> Result<Spectral> {
        let stft = self.logmel.stft_plan();
        let Some(mel) = self.logmel.mel_filterbank() else {
            return Err(FeatureError::Empty {
                context: "functionals: the log-mel extractor has no filterbank",
            });
        };
        let n_frames = stft.check(y)?;
        let n_freqs = stft.n_freqs();
        let n_mels = mel.n_mels();
        let mut out = Spectral {
            centroid: Vec::with_capacity(n_frames),
            rolloff: Vec::with_capacity(n_frames),
            log_flatness: Vec::with_capacity(n_frames),
            mel_power: vec![0.0; n_frames * n_mels],
        };
        let mut scratch = stft.scratch();
        let mut power = mel.power_buffer();
        let mut edge = Vec::with_capacity(stft.n_fft());
        let mut mag = vec![0.0f64; n_freqs];
        let mut clipped = vec![0.0f64; n_freqs];
        for (t, mel_out) in out.mel_power.chunks_exact_mut(n_mels).enumerate() {
            let frame = stft.frame(y, t, &mut edge);
            stft.power_frame(frame, &mut scratch, &mut power[..n_freqs])?;
            mel.apply(&power, mel_out);
            for (m, &p) in mag.iter_mut().zip(&power[..n_freqs]) {
                *m = (p as f64).sqrt();
            }
            let total: f64 = mag.iter().sum();

            // spectral_centroid: sum(f * S / ||S||_1); util.normalize leaves columns with a norm
            // below tiny unnormalised (silence gives 0).
            let norm = if total < CENTROID_TINY { 1.0 } else { total };
            let weighted: f64 = mag.iter().zip(&self.freqs).map(|(m, f)| m * f).sum();
            out.centroid.push(weighted / norm);

            // spectral_rolloff: the lowest bin frequency whose cumulative magnitude reaches
            // roll_percent of the total (silence: 0 >= 0 at bin 0, so 0 Hz).
            let threshold = ROLL_PERCENT * total;
            let mut cum = 0.0;
            let mut roll = self.freqs[n_freqs - 1];
            for (m, f) in mag.iter().zip(&self.freqs) {
                cum += m;
                if cum >= threshold {
                    roll = *f;
                    break;
                }
            }
            out.rolloff.push(roll);

            // spectral_flatness: geometric over arithmetic mean of max(amin, |X|^2).
            for (p, m) in clipped.iter_mut().zip(&mag) {
                *p = (m * m).max(FLATNESS_AMIN);
            }
            let sum: f64 = clipped.iter().sum();
            let flatness = (sum_ln(&clipped) / n_freqs as f64).exp() / (sum / n_freqs as f64);
            out.log_flatness.push((flatness + FLATNESS_LOG_FLOOR).ln());
        }
        Ok(out)
    }
}

/// Per-frame spectral results of [`FunctionalsExtractor::spectral`].
struct Spectral {
    centroid: Vec<f64>,
    rolloff: Vec<f64>,
    log_flatness: Vec<f64>,
    /// `[frames][n_mels]` mel power.
    mel_power: Vec<f32>,
}

/// `sum(ln(x))` for positive `x`, with one `ln` per 8 values: the logarithm of their product,
/// which stays a normal f64 for powers between 1e-10 (`amin`) and ~1e28 (the product's 7
/// roundings cost < 1e-15 in the log). Chunks whose product over- or underflows fall back to
/// one `ln` per value. Cuts the flatness's cost ~8x (257 logs per frame otherwise).
fn sum_ln(x: &[f64]) -> f64 {
    x.chunks(8)
        .map(|c| {
            let prod: f64 = c.iter().product();
            if prod.is_normal() {
                prod.ln()
            } else {
                c.iter().map(|v| v.ln()).sum()
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::FeatureKind;

    fn tone(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * std::f32::consts::PI * 150.0 * i as f32 / 16_000.0).sin() * 0.3)
            .collect()
    }

    #[test]
    fn names_are_unique_and_match_the_dimension() {
        let names = functional_names();
        assert_eq!(names.len(), FUNCTIONALS_DIM);
        let unique: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(unique.len(), FUNCTIONALS_DIM);
        assert_eq!(names[0], "dur");
        assert_eq!(names[7], "lf0_med");
        assert_eq!(names[51], "mfcc0_mean");
        assert_eq!(names[111], "tilt");
    }

    #[test]
    fn chunked_log_sum_equals_the_plain_one() {
        // Normal products, then chunks that overflow (1e200^2) and underflow (1e-200^2).
        for x in [
            (0..257).map(|i| 1e-10 + i as f64 * 3.7).collect::<Vec<_>>(),
            vec![1e200, 1e200, 2.0, 1e-200, 1e-200, 0.5, 3.0],
        ] {
            let plain: f64 = x.iter().map(|v| v.ln()).sum();
            assert!((sum_ln(&x) - plain).abs() <= 1e-12 * plain.abs().max(1.0));
        }
    }

    #[test]
    fn mfcc_part_equals_the_feature_extractor() {
        let y = tone(16_000);
        let ex = FunctionalsExtractor::new(FunctionalsConfig::default()).unwrap();
        let v = ex.extract(&y).unwrap();
        let m = FeatureExtractor::new(FeatureConfig {
            kind: FeatureKind::Mfcc,
            n_mfcc: 20,
            deltas: 1,
            ..FeatureConfig::default()
        })
        .unwrap()
        .extract(&y)
        .unwrap();
        let names = functional_names();
        for k in 0..N_MFCC {
            let row = |r: usize| m.data.row(r).iter().map(|&x| x as f64).collect::<Vec<_>>();
            let (mean, std) = mean_std(&row(k));
            let (_, dstd) = mean_std(&row(N_MFCC + k));
            let at = |n: String| v[names.iter().position(|x| *x == n).unwrap()];
            assert_eq!(at(format!("mfcc{k}_mean")), mean as f32);
            assert_eq!(at(format!("mfcc{k}_std")), std as f32);
            assert_eq!(at(format!("dmfcc{k}_std")), dstd as f32);
        }
    }

    #[test]
    fn silence_and_tiny_clips_give_finite_vectors() {
        let ex = FunctionalsExtractor::new(FunctionalsConfig::default()).unwrap();
        for y in [
            vec![0.0; 16_000],
            vec![0.0; 1],
            vec![0.2; 1],
            tone(100),
            tone(1500),
        ] {
            let v = ex.extract(&y).unwrap();
            assert_eq!(v.len(), FUNCTIONALS_DIM);
            assert!(
                v.iter().all(|x| x.is_finite()),
                "{} samples: {v:?}",
                y.len()
            );
        }
        // Under 9 frames: no deltas (librosa would raise), std 0.
        let v = ex.extract(&tone(1000)).unwrap();
        let names = functional_names();
        assert_eq!(
            v[names.iter().position(|n| n == "dmfcc3_std").unwrap()],
            0.0
        );
    }

    #[test]
    fn bad_input_and_config_are_typed_errors() {
        let ex = FunctionalsExtractor::new(FunctionalsConfig::default()).unwrap();
        assert!(matches!(ex.extract(&[]), Err(FeatureError::EmptyInput)));
        assert!(matches!(
            ex.extract(&[0.0, 0.1, f32::NAN]),
            Err(FeatureError::NonFiniteSample { index: 2, .. })
        ));
        let base = FunctionalsConfig::default();
        let cases = [
            (
                "sample_rate",
                FunctionalsConfig {
                    sample_rate: 0,
                    ..base.clone()
                },
            ),
            (
                "yin.sample_rate",
                FunctionalsConfig {
                    sample_rate: 22_050,
                    ..base.clone()
                },
            ),
            (
                "voicing_threshold",
                FunctionalsConfig {
                    voicing_threshold: f32::NAN,
                    ..base.clone()
                },
            ),
            (
                "fmin",
                FunctionalsConfig {
                    yin: YinConfig {
                        fmin: -1.0,
                        ..base.yin
                    },
                    ..base.clone()
                },
            ),
            (
                "hop_length",
                FunctionalsConfig {
                    yin: YinConfig {
                        hop_length: 0,
                        ..base.yin
                    },
                    ..base.clone()
                },
            ),
        ];
        for (field, cfg) in cases {
            match FunctionalsExtractor::new(cfg) {
                Err(FeatureError::InvalidParameter { name, .. }) => assert_eq!(name, field),
                other => panic!("{field}: expected InvalidParameter, got {other:?}"),
            }
        }
    }

    #[test]
    fn config_round_trips_through_json() {
        let c = FunctionalsConfig {
            voicing_threshold: 0.25,
            ..Default::default()
        };
        let s = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<FunctionalsConfig>(&s).unwrap(), c);
        assert_eq!(
            serde_json::from_str::<FunctionalsConfig>("{}").unwrap(),
            FunctionalsConfig::default()
        );
    }

    #[test]
    fn extractor_is_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<FunctionalsExtractor>();
    }
}
