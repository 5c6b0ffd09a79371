//! Training-time augmentation: [`AugmentConfig`] and the waveform noise [`WaveNoise`].

use serde::{Deserialize, Serialize};

use super::train::is_default;

/// Training-time augmentation (applied to cached log-mel features, so extraction runs once).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AugmentConfig {
    /// Random crop of this many seconds per training example (shorter clips are padded and
    /// masked). 3 s covers a whole trimmed RAVDESS sentence.
    pub crop_seconds: f32,
    /// SpecAugment (Park et al. 2019) time masks per example.
    pub time_masks: usize,
    /// Maximum width of a time mask, frames.
    pub time_mask_frames: usize,
    /// Frequency masks per example.
    pub freq_masks: usize,
    /// Maximum width of a frequency mask, bins.
    pub freq_mask_bins: usize,
    /// Random gain, uniform in `[-gain_db, +gain_db]` dB (log-mel only: a dB offset).
    pub gain_db: f32,
    /// Probability of adding stationary white noise (log-mel only; power-domain addition).
    pub noise_prob: f32,
    /// SNR range of that noise relative to the clip's loudest band, dB.
    pub noise_snr_db: (f32, f32),
    /// Random frequency-axis warp factor range `1 +- freq_warp` (0 = off).
    pub freq_warp: f32,
    /// Random time-axis stretch factor range `1 +- time_stretch` (0 = off): a clip is
    /// resampled along its frames by linear interpolation, so 1.1 plays it 10% slower. With
    /// `freq_warp` above, it approximates the speed perturbation of Ko et al. 2015 ("Audio
    /// augmentation for speech recognition", factors 0.9, 1.0, 1.1) on the cached features,
    /// drawing tempo and spectral scale independently instead of coupling them.
    #[serde(default, skip_serializing_if = "is_default")]
    pub time_stretch: f32,
    /// Probability of a simulated low-pass channel (log-mel only): every band above a random
    /// cut-off between ~3 kHz and the top band is set to the clip's floor, as a telephone
    /// line or an 8 kHz recording would leave it.
    pub lowpass_prob: f32,
    /// Mixup (Zhang et al. 2018, "mixup: Beyond Empirical Risk Minimization"): each batch is
    /// blended with a shuffled copy of itself, `x = l x_i + (1 - l) x_j`, and the loss mixes
    /// both labels with the same weight `l ~ Beta(alpha, alpha)`. 0 turns it off; the paper
    /// uses 0.1-0.4 for speech commands.
    #[serde(default, skip_serializing_if = "is_default")]
    pub mixup_alpha: f32,
    /// Noise added to the waveform, before preprocessing and feature extraction, as a user's
    /// recording would carry it (the feature-domain `noise_prob` above adds it after the
    /// clean clip was trimmed and normalised). `None` = off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wave_noise: Option<WaveNoise>,
}

/// Waveform-domain noise augmentation: `copies` noisy versions of every clip are extracted
/// once (and cached) with white noise at an SNR drawn from `snr_db` relative to the whole
/// clip's RMS; a training example uses one of them, picked uniformly, with probability `prob`.
/// Validation and test clips are always clean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WaveNoise {
    /// Noisy copies per clip (each costs one more feature matrix in memory and cache).
    pub copies: usize,
    /// SNR range in dB, relative to the RMS of the whole clip (silences included), as in
    /// the robustness test of ser-models.
    pub snr_db: (f32, f32),
    /// Probability that a training example is drawn from the noisy copies.
    pub prob: f32,
}

impl WaveNoise {
    /// `copies` copies at 10-30 dB SNR, used half of the time. The range is centred on the
    /// 20 dB of the robustness test and reaches 10 dB below it for margin.
    pub fn new(copies: usize) -> Self {
        Self {
            copies,
            snr_db: (10.0, 30.0),
            prob: 0.5,
        }
    }
}

impl Default for AugmentConfig {
    fn default() -> Self {
        Self {
            crop_seconds: 3.0,
            time_masks: 2,
            time_mask_frames: 20,
            freq_masks: 2,
            freq_mask_bins: 8,
            gain_db: 6.0,
            noise_prob: 0.3,
            noise_snr_db: (20.0, 40.0),
            freq_warp: 0.12,
            time_stretch: 0.0,
            lowpass_prob: 0.2,
            mixup_alpha: 0.0,
            wave_noise: None,
        }
    }
}

impl AugmentConfig {
    /// No augmentation except the crop.
    pub fn none(crop_seconds: f32) -> Self {
        Self {
            crop_seconds,
            time_masks: 0,
            time_mask_frames: 0,
            freq_masks: 0,
            freq_mask_bins: 0,
            gain_db: 0.0,
            noise_prob: 0.0,
            noise_snr_db: (30.0, 30.0),
            freq_warp: 0.0,
            time_stretch: 0.0,
            lowpass_prob: 0.0,
            mixup_alpha: 0.0,
            wave_noise: None,
        }
    }
}
