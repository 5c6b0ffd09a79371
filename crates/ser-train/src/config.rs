//! [`TrainConfig`]: every knob of a training run, saved in the artifact manifest.

use std::path::PathBuf;

use dsp_features::FeatureConfig;
use ravdess_loader::synth::SynthConfig;
use ser_audio::Preprocess;
use ser_models::{Family, ModelConfig};
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// Compute backend for training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// burn's pure-Rust CPU backend (default, always compiled in).
    #[default]
    Flex,
    /// burn-ndarray (feature `ndarray`; deprecated upstream and ~8x slower here).
    Ndarray,
    /// wgpu (feature `wgpu`; GPU via Vulkan/Metal/DX12).
    Wgpu,
}

impl BackendKind {
    /// Lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Flex => "flex",
            Self::Ndarray => "ndarray",
            Self::Wgpu => "wgpu",
        }
    }
}

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

/// Knowledge distillation (Hinton, Vinyals and Dean 2015, "Distilling the Knowledge in a
/// Neural Network"): the training loss becomes `(1 - weight) CE(label) + weight CE(teacher)`,
/// where the second target is the mean of the teachers' class probabilities on the clean clip
/// (computed once, before the first epoch, on the run's cached features normalised with each
/// teacher's own statistics; teachers must share the run's features and preprocessing). A
/// teacher must never have heard the run's test speakers; [`crate::train_on`] refuses one that
/// has (its soft labels would carry what it learned about them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distill {
    /// Teacher artifacts (any model, single or ensemble, with the run's features and labels).
    pub teachers: Vec<PathBuf>,
    /// Weight of the teachers' targets in the loss, in (0, 1].
    pub weight: f32,
}

impl Distill {
    /// Distillation from `teachers` with `weight`, or [`Self::DEFAULT_WEIGHT`] when none is
    /// given (what `ser-train --teacher` and `ser-eval cv --teacher-runs` build).
    pub fn new(teachers: Vec<PathBuf>, weight: Option<f32>) -> Self {
        Self {
            teachers,
            weight: weight.unwrap_or(Self::DEFAULT_WEIGHT),
        }
    }

    /// Labels and teachers weighed equally: Hinton et al. (2015, section 2.1) found a weighted
    /// average of the two objectives best, and with teachers of the student's own size no
    /// prior favours either side.
    pub const DEFAULT_WEIGHT: f32 = 0.5;
}

/// Options added after the first release are left out of saved configs while off, so that
/// configs and checkpoint fingerprints of runs that do not use them stay as they were.
fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// Where the training data comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataSource {
    /// A corpus directory opened with `ravdess_loader::open_corpus`.
    Dir(PathBuf),
    /// The generated corpus, in memory.
    Synth(SynthConfig),
}

/// How to hold out speakers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SpeakerSplit {
    /// Test speakers (never seen in training or validation). Empty = choose by default.
    pub test: Vec<String>,
    /// Validation speakers for early stopping (never trained on). Empty = choose by default.
    pub val: Vec<String>,
}

/// Everything a training run needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Model family (used when `model` is `None`).
    pub family: Family,
    /// Explicit model configuration; `None` = `ModelConfig::default_for(family, bins, classes)`.
    pub model: Option<ModelConfig>,
    /// Training data.
    pub data: DataSource,
    /// Feature extraction.
    pub features: FeatureConfig,
    /// Waveform preprocessing (after resampling to `features.sample_rate`).
    pub preprocess: Preprocess,
    /// Maximum epochs.
    pub epochs: usize,
    /// Examples per batch.
    pub batch_size: usize,
    /// Peak learning rate (Adam), reached after one warm-up epoch, then cosine decay.
    pub lr: f64,
    /// Decoupled weight decay.
    pub weight_decay: f32,
    /// Stop when validation UA has not improved for this many epochs.
    pub patience: usize,
    /// Speaker hold-out.
    pub split: SpeakerSplit,
    /// Seed of everything random (init, shuffling, augmentation, dropout).
    pub seed: u64,
    /// Compute backend.
    pub backend: BackendKind,
    /// Output directory of the artifact; the checkpoint goes to `<out>.checkpoint`.
    pub out: PathBuf,
    /// Feature cache; `None` = `<out's parent>/.cache`.
    pub cache_dir: Option<PathBuf>,
    /// Continue from `<out>/checkpoint`.
    pub resume: bool,
    /// Weight the loss by inverse class frequency.
    pub class_weights: bool,
    /// Augmentation.
    pub augment: AugmentConfig,
    /// Testing aid: save a checkpoint and stop after this many batches, as Ctrl-C would.
    pub stop_after_batches: Option<usize>,
    /// Draw progress bars.
    pub progress: bool,
    /// When `model` is `None`, use a very small version of the family (smoke tests).
    #[serde(default)]
    pub tiny: bool,
    /// When `model` is `None` and the family is CRNN, down-sample in the first conv blocks with
    /// max-pooling after a stride-1 convolution instead of a strided convolution (4x the
    /// first block's convolution work; kept to measure what the stride costs in accuracy).
    #[serde(default)]
    pub pooled_stem: bool,
    /// When `model` is `None`: output channels of each conv block of the CNN or CRNN (e.g.
    /// `[32, 64, 128, 128]`, the PyTorch reference of issue 4), instead of the family's
    /// default `[16, 32, 64]`. A CRNN's extra blocks beyond the third keep the time
    /// resolution (time pool 1), so the RNN still steps over 37 frames per 3 s.
    #[serde(default)]
    pub channels: Option<Vec<usize>>,
    /// When `model` is `None`: hidden units per direction of the RNN or CRNN's recurrent
    /// layer, instead of the default 64 (the reference uses 128).
    #[serde(default)]
    pub hidden: Option<usize>,
    /// Label smoothing of the training loss (Szegedy et al. 2016): the target puts
    /// `1 - label_smoothing` on the true class and spreads the rest evenly. 0 = off.
    #[serde(default, skip_serializing_if = "is_default")]
    pub label_smoothing: f32,
    /// Early stopping never ends a run before this many epochs (0 = patience alone decides).
    #[serde(default, skip_serializing_if = "is_default")]
    pub min_epochs: usize,
    /// Keep the model of the last epoch instead of the one with the best validation UA, and
    /// train every epoch (no early stopping). The validation speakers are only 1-2 actors, so
    /// the best-validation epoch is a noisy choice: in the PyTorch cross-check
    /// (benches/cv_pytorch.py, docs/results.md) the last epoch scored higher on the test
    /// actors than the best-validation one for all 8 (configuration, seed) pairs, by 0.2-5.0
    /// points of mean UA. In ser's `speech` recipe, whose best epochs were already 31-40, it
    /// moved the CV UA from 0.559 to 0.564 (within noise), so it stays off by default.
    #[serde(default, skip_serializing_if = "is_default")]
    pub keep_last: bool,
    /// Learn from teacher models' probabilities as well as the labels. `None` = off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distill: Option<Distill>,
    /// Train (and evaluate) with burn Flex's own convolution, batch norm and max pool instead
    /// of `ser_models::fastconv`'s kernels, process-wide. The kernels make an epoch ~1.5x
    /// faster but sum in another order, so a run is then a different draw; with this set, a
    /// run made before they existed (2026-11-25, the shipped `models/default` among them) is
    /// reproduced bit for bit.
    #[serde(default, skip_serializing_if = "is_default")]
    pub burn_ops: bool,
    /// Train on every speaker that is not a test speaker: no validation speakers, so no
    /// early stopping, and the last epoch's model is kept (as with `keep_last`). With the
    /// `speech` recipe the validation speakers are 2 of the 16 non-test actors of a RAVDESS
    /// fold and they only choose among epochs 30-40, a choice that was no better than the
    /// last epoch (see `keep_last`); this gives their clips to training instead.
    #[serde(default, skip_serializing_if = "is_default")]
    pub no_val: bool,
    /// Train on every speaker: no test speakers, so the artifact carries no score of its own.
    /// This is the final fit of a recipe whose accuracy was measured by cross-validation by
    /// speaker (`ser-eval cv --refit`): the same recipe on all the data, its estimate that
    /// cross-validation. Combined with `no_val` every clip trains.
    #[serde(default, skip_serializing_if = "is_default")]
    pub no_test: bool,
}

impl TrainConfig {
    /// Defaults for a family: the generated corpus, 64-band log-mel, 3 s crops, batch 32,
    /// lr 1e-3, at most 16 epochs with patience 5, seed 42, Flex, output `runs/<family>`.
    /// (On the generated corpus lr 2e-3 made validation UA peak after 3-4 epochs and then
    /// collapse as the model fit the training speakers; 1e-3 kept improving for 12 epochs.)
    pub fn new(family: Family) -> Self {
        Self {
            family,
            model: None,
            data: DataSource::Synth(SynthConfig::default()),
            features: FeatureConfig::default(),
            preprocess: Preprocess::default(),
            epochs: 16,
            batch_size: 32,
            lr: 1e-3,
            weight_decay: 1e-4,
            patience: 5,
            split: SpeakerSplit::default(),
            seed: 42,
            backend: BackendKind::Flex,
            out: PathBuf::from("runs").join(family.name()),
            cache_dir: None,
            resume: false,
            class_weights: true,
            augment: AugmentConfig::default(),
            stop_after_batches: None,
            progress: true,
            tiny: false,
            pooled_stem: false,
            channels: None,
            hidden: None,
            label_smoothing: 0.0,
            min_epochs: 0,
            keep_last: false,
            distill: None,
            burn_ops: false,
            no_val: false,
            no_test: false,
        }
    }

    /// Checks ranges before any work starts.
    pub fn validate(&self) -> Result<()> {
        if self.no_val && !self.split.val.is_empty() {
            return Err(TrainError::config(
                "--no-val",
                "trains on every non-test speaker, so it cannot be combined with --val-actors; \
                 drop one of the two",
            ));
        }
        if self.no_test && !self.split.test.is_empty() {
            return Err(TrainError::config(
                "--all-actors",
                "trains on every speaker, so it cannot be combined with --test-actors; \
                 drop one of the two",
            ));
        }
        if self.epochs == 0 {
            return Err(TrainError::config("--epochs", "must be at least 1"));
        }
        if self.batch_size == 0 {
            return Err(TrainError::config("--batch-size", "must be at least 1"));
        }
        if !(self.lr.is_finite() && self.lr > 0.0 && self.lr < 1.0) {
            return Err(TrainError::config(
                "--lr",
                format!("{} is not in (0, 1)", self.lr),
            ));
        }
        if !(self.augment.crop_seconds > 0.0 && self.augment.crop_seconds.is_finite()) {
            return Err(TrainError::config("crop_seconds", "must be > 0"));
        }
        if !(0.0..0.5).contains(&self.augment.time_stretch) {
            return Err(TrainError::config(
                "--time-stretch",
                format!(
                    "{} is not in [0, 0.5); 0.1 stretches clips by factors 0.9-1.1",
                    self.augment.time_stretch
                ),
            ));
        }
        if self.split.test.iter().any(|t| self.split.val.contains(t)) {
            return Err(TrainError::config(
                "--val-actors",
                "a speaker cannot be both a test and a validation speaker",
            ));
        }
        if let Some(ch) = &self.channels
            && (ch.is_empty() || ch.contains(&0))
        {
            return Err(TrainError::config(
                "--channels",
                format!("{ch:?}: give one positive channel count per conv block, e.g. 32,64,128"),
            ));
        }
        if self.hidden == Some(0) {
            return Err(TrainError::config("--hidden", "must be at least 1"));
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return Err(TrainError::config(
                "--label-smoothing",
                format!(
                    "{} is not in [0, 1); 0.1 is the usual value",
                    self.label_smoothing
                ),
            ));
        }
        if let Some(w) = self.augment.wave_noise {
            let (lo, hi) = w.snr_db;
            if w.copies == 0 || w.copies > 16 {
                return Err(TrainError::config(
                    "--wave-noise",
                    format!(
                        "{} copies: give 1-16 (each is one more feature matrix per clip)",
                        w.copies
                    ),
                ));
            }
            if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                return Err(TrainError::config(
                    "--wave-noise-snr",
                    format!("{lo},{hi}: give LOW,HIGH in dB with LOW <= HIGH, e.g. 10,30"),
                ));
            }
            if !(0.0..=1.0).contains(&w.prob) {
                return Err(TrainError::config(
                    "--wave-noise-prob",
                    format!("{} is not a probability in [0, 1]", w.prob),
                ));
            }
        }
        if let Some(d) = &self.distill {
            if d.teachers.is_empty() {
                return Err(TrainError::config(
                    "--teacher",
                    "distillation needs at least one teacher model directory",
                ));
            }
            if !(d.weight > 0.0 && d.weight <= 1.0) {
                return Err(TrainError::config(
                    "--distill-weight",
                    format!(
                        "{} is not in (0, 1]; 0.5 weighs labels and teachers equally",
                        d.weight
                    ),
                ));
            }
        }
        let alpha = self.augment.mixup_alpha;
        if !(alpha.is_finite() && (0.0..=10.0).contains(&alpha)) {
            return Err(TrainError::config(
                "--mixup",
                format!("{alpha} is not in [0, 10]; 0 turns mixup off, 0.2 is the usual value"),
            ));
        }
        self.features.validate()?;
        Ok(())
    }

    /// Where checkpoints go: `<out>.checkpoint`, a sibling of the artifact so that replacing
    /// the artifact atomically never deletes it.
    pub fn checkpoint_dir(&self) -> PathBuf {
        crate::checkpoint::dir_for(&self.out)
    }

    /// Where the feature cache goes.
    pub fn cache_dir(&self) -> PathBuf {
        self.cache_dir.clone().unwrap_or_else(|| {
            let parent = self.out.parent().filter(|p| !p.as_os_str().is_empty());
            parent
                .map(|p| p.join(".cache"))
                .unwrap_or_else(|| PathBuf::from(".cache"))
        })
    }
}
