//! Training-time augmentation: [`AugmentConfig`], the waveform noise [`WaveNoise`] and the
//! simulated recording chains [`ChannelAugment`].

use ser_audio::channel::ChannelConfig;
use serde::{Deserialize, Serialize};

use super::train::is_default;

/// Training-time augmentation (applied to cached log-mel features, so extraction runs once).
///
/// Not `Copy` since [`ChannelAugment`] holds a [`ChannelConfig`] (its noise kinds are a list).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Copies of every clip through simulated recording chains (room, noise, microphone, band
    /// limits, codecs, speed and pitch; `ser_audio::channel`), made in the waveform before
    /// preprocessing like `wave_noise`. `None` = off; configs saved before it existed read
    /// back as `None` and runs without it save exactly what they did before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<ChannelAugment>,
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

/// Waveform-domain channel augmentation (issue 27, item 3): `copies` versions of every clip,
/// each the raw clip (resampled to the feature rate, before preprocessing) through one
/// recording chain that [`ser_audio::channel::ChannelSimulator`] draws from `config`, then
/// preprocessed and extracted like the clean clip; extracted once and cached like the
/// [`WaveNoise`] copies. Copy `k` of clip `id` draws its chain from a stream seeded by the
/// run's seed, `id` and `k` (`data::channel_rng`), so it is reproducible and a change of any
/// of the three (or of `config` or `copies`) gives other copies and another cache file.
///
/// A training example is one of its clip's channel copies, picked uniformly, with
/// probability `prob`; otherwise the [`WaveNoise`] rule applies to it as before (a white-noise
/// copy with that probability, else the clean clip). With both on, the example is thus drawn
/// from the union: a channel copy with `prob`, a noisy copy with `(1 - prob) wave_noise.prob`,
/// the clean clip with the rest. The channel goes first so that `prob` is the share of
/// channel copies whatever the noise does. Validation and test clips are always clean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelAugment {
    /// Channel copies per clip (1-16; each costs one more feature matrix in memory and cache).
    pub copies: usize,
    /// Probability that a training example is drawn from the channel copies.
    pub prob: f32,
    /// The simulator's transforms, probabilities and ranges (`ChannelConfig::default()`
    /// documents each default and its source).
    #[serde(default)]
    pub config: ChannelConfig,
}

impl ChannelAugment {
    /// Probability [`Self::new`] gives: half of the training examples are channel copies, as
    /// the speech recipe does for its white-noise copies (`WaveNoise::new`), so the clean
    /// studio clips stay as frequent as the simulated chains.
    pub const DEFAULT_PROB: f32 = 0.5;

    /// `copies` copies through the simulator's default chain, used with
    /// [`Self::DEFAULT_PROB`].
    pub fn new(copies: usize) -> Self {
        Self {
            copies,
            prob: Self::DEFAULT_PROB,
            config: ChannelConfig::default(),
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
            channel: None,
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
            channel: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TrainConfig;
    use ser_models::Family;

    /// Issue 27, item 3: the channel augmentation is left out of saved configs while off, so
    /// a config saved before it existed reads back unchanged and saves byte for byte as it
    /// was (checkpoint fingerprints hold); a config with it round-trips.
    #[test]
    fn channel_augment_round_trips_and_old_configs_read_as_before() {
        let old = serde_json::to_string(&TrainConfig::new(Family::Crnn)).unwrap();
        assert!(!old.contains("\"channel\""), "{old}");
        let back: TrainConfig = serde_json::from_str(&old).unwrap();
        assert_eq!(back.augment.channel, None);
        assert_eq!(serde_json::to_string(&back).unwrap(), old);
        // An augment block written before `channel` (and `time_stretch`, `mixup_alpha`,
        // `wave_noise`) existed.
        let before = r#"{"crop_seconds":3.0,"time_masks":2,"time_mask_frames":20,
            "freq_masks":2,"freq_mask_bins":8,"gain_db":6.0,"noise_prob":0.3,
            "noise_snr_db":[20.0,40.0],"freq_warp":0.12,"lowpass_prob":0.2}"#;
        let a: AugmentConfig = serde_json::from_str(before).unwrap();
        assert_eq!(a, AugmentConfig::default());

        let mut on = AugmentConfig::default();
        let mut chain = ChannelConfig::none();
        chain.reverb.prob = 1.0;
        on.channel = Some(ChannelAugment {
            copies: 3,
            prob: 0.25,
            config: chain,
        });
        let json = serde_json::to_string(&on).unwrap();
        assert_eq!(serde_json::from_str::<AugmentConfig>(&json).unwrap(), on);
        // A hand-written block may leave the chain out: the simulator's default chain.
        let short: ChannelAugment = serde_json::from_str(r#"{"copies":2,"prob":0.5}"#).unwrap();
        assert_eq!(short, ChannelAugment::new(2));
        // A misspelt field is an error, not a silent default.
        assert!(serde_json::from_str::<ChannelAugment>(r#"{"copies":2,"prb":0.5}"#).is_err());
    }
}
