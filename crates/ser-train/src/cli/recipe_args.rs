//! The flags that choose and adjust a training recipe, shared by `ser-train` and
//! `ser-train cv` so that a cross-validation trains every fold exactly as `ser-train` would.

use clap::{Args, ValueEnum};
use dsp_features::FeatureConfig;
use ser_audio::Normalize;
use ser_audio::channel::ChannelConfig;
use ser_models::Family;
use ser_train::{ChannelAugment, Preset, TrainConfig, WaveNoise};

use super::choice;

/// Feature sets selectable on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FeatureSet {
    /// 64-band log-mel spectrogram (librosa-compatible).
    Logmel,
    /// 40 MFCCs with deltas and delta-deltas (120 rows).
    Mfcc,
}

/// The flags that choose and adjust a recipe. Every flag left out keeps the preset's value.
#[derive(Debug, Clone, Default, Args)]
pub struct RecipeArgs {
    /// Training recipe [default: speech with --data, generated without]. `generated`: at most
    /// 24 epochs, patience 8, lr 1e-3. `speech`: at most 40 epochs, patience 12 (from epoch
    /// 30), lr 2e-3, batch 16, 2 noisy copies per clip, CRNN conv 32,64,128,128 with 128 GRU
    /// units.
    #[arg(long, value_parser = choice::preset())]
    pub preset: Option<Preset>,
    /// Features [default: logmel].
    #[arg(long, value_enum)]
    pub features: Option<FeatureSet>,
    /// Per-utterance mean/variance normalisation of every feature row (removes speaker and
    /// channel offsets; also disables the gain/noise augmentation, which it would undo).
    #[arg(long)]
    pub cmvn: bool,
    /// Maximum epochs; early stopping may end sooner [default: from the preset].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Examples per batch [default: 16 for `speech`, 32 for `generated`].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Peak learning rate (AdamW; one warm-up epoch, then cosine decay) [default: from the
    /// preset].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Stop after this many epochs without a better validation UA [default: from the preset].
    #[arg(long)]
    pub patience: Option<usize>,
    /// Never stop early before this many epochs [default: 30 for `speech`, 0 for `generated`].
    #[arg(long, value_name = "N")]
    pub min_epochs: Option<usize>,
    /// Keep the last epoch's model instead of the best validation epoch's, and train every
    /// epoch (no early stopping; validation is still logged).
    #[arg(long)]
    pub keep_last: bool,
    /// Use burn Flex's own convolution, batch norm and max pool instead of ser's faster
    /// kernels (ser_models::fastconv). Training is then ~1.5x slower but reproduces runs made
    /// before the kernels existed bit for bit (the models/default shipped until 2026-12-01
    /// among them).
    #[arg(long)]
    pub burn_ops: bool,
    /// Train on every actor that is not held out for testing: no validation actors, no early
    /// stopping, the last epoch's model kept. (Validation actors are only 1-2 of a fold's
    /// training actors and chose epochs no better than the last one: docs/results.md.) With
    /// no early stopping, a longer schedule pays on RAVDESS: `--no-val --epochs 80` trains the
    /// shipped model (5-fold CV UA 0.629, against 0.582 with the preset's 40 epochs).
    #[arg(long)]
    pub no_val: bool,
    /// Training crop length in seconds [default: 3].
    #[arg(long)]
    pub crop_seconds: Option<f32>,
    /// CRNN only: max-pool after stride-1 convolutions in the front end instead of strided
    /// convolutions (slower; for comparing the two).
    #[arg(long)]
    pub pooled_stem: bool,
    /// CNN/CRNN: output channels of each conv block, comma separated [default: 16,32,64;
    /// 32,64,128,128 for a CRNN with the `speech` preset]. Every block halves the mel bands.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub channels: Option<Vec<usize>>,
    /// RNN/CRNN: hidden units per direction of the recurrent layer [default: 64; 128 for a
    /// CRNN with the `speech` preset].
    #[arg(long, value_name = "N")]
    pub hidden: Option<usize>,
    /// Mixup: blend every training batch with a shuffled copy of itself and mix the two
    /// labels' losses with weight lambda ~ Beta(ALPHA, ALPHA) [default: 0 = off].
    #[arg(long, value_name = "ALPHA")]
    pub mixup: Option<f32>,
    /// Label smoothing of the training loss: the true class gets 1 - X, the rest share X
    /// [default: 0 = off; 0.1 is usual].
    #[arg(long, value_name = "X")]
    pub label_smoothing: Option<f32>,
    /// Time-stretch augmentation: every training example is resampled along time by a factor
    /// drawn from 1 +- X (linear interpolation of the cached features; 0.1 gives 0.9-1.1, the
    /// speed factors of Ko et al. 2015) [default: 0 = off].
    #[arg(long, value_name = "X")]
    pub time_stretch: Option<f32>,
    /// Waveform-domain noise: extract N noisy copies of every training clip (white noise
    /// added before trimming and normalisation, as in a noisy recording; cached) and train on
    /// one of them instead of the clean clip with probability --wave-noise-prob; 0 turns it
    /// off [default: 2 for `speech`, 0 for `generated`].
    #[arg(long, value_name = "N")]
    pub wave_noise: Option<usize>,
    /// SNR range of --wave-noise in dB below the whole clip's RMS [default: 10,30].
    #[arg(long, value_delimiter = ',', value_name = "LOW,HIGH")]
    pub wave_noise_snr: Option<Vec<f32>>,
    /// Probability that a training example is one of its --wave-noise copies [default: 0.5].
    #[arg(long, value_name = "P")]
    pub wave_noise_prob: Option<f32>,
    /// Channel augmentation: extract N copies of every training clip, each through a random
    /// recording chain (room reverberation, pink/brown/babble noise, microphone EQ, band
    /// limits, telephone band, G.711, dropouts, speed and pitch; ser_audio::channel) before
    /// trimming and normalisation, seeded by --seed, the clip and the copy (cached), and train
    /// on one of them with probability --channel-augment-prob; 0 turns it off [default: 0].
    /// With --wave-noise too, an example is a channel copy with that probability, else the
    /// wave-noise rule decides.
    #[arg(long, value_name = "N")]
    pub channel_augment: Option<usize>,
    /// Probability that a training example is one of its --channel-augment copies
    /// [default: 0.5].
    #[arg(long, value_name = "P", requires = "channel_augment")]
    pub channel_augment_prob: Option<f32>,
    /// JSON file of the --channel-augment chain (ser_audio::channel::ChannelConfig: each
    /// step's probability and ranges; fields left out keep their defaults) [default: the
    /// simulator's default chain].
    #[arg(
        long,
        value_name = "FILE",
        requires = "channel_augment",
        value_parser = channel_config_file
    )]
    pub channel_config: Option<ChannelConfig>,
    /// Normalise every clip's level to LUFS integrated loudness (ITU-R BS.1770-4, gated, so
    /// the level of the speech and not of the pauses) instead of to a 0.95 peak; saved in the
    /// model's manifest, so ser-predict, ser-web and ser-eval apply it too [default: peak
    /// normalisation; LUFS defaults to -23, EBU R 128's programme level].
    #[arg(
        long,
        value_name = "LUFS",
        num_args = 0..=1,
        default_missing_value = "-23",
        allow_negative_numbers = true
    )]
    pub loudness_normalize: Option<f32>,
}

/// Reads a `--channel-config` file: a JSON `ChannelConfig`, checked. The error says which of
/// the three went wrong (clap adds the flag and the value).
fn channel_config_file(path: &str) -> Result<ChannelConfig, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    let config: ChannelConfig = serde_json::from_str(&text).map_err(|e| {
        format!("not a channel config (JSON of ser_audio::channel::ChannelConfig): {e}")
    })?;
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

impl RecipeArgs {
    /// The preset these flags name, or the default one for the data source.
    pub fn preset(&self, has_data_dir: bool) -> Preset {
        self.preset
            .unwrap_or_else(|| Preset::default_for(has_data_dir))
    }

    /// The preset's configuration with every given flag applied.
    pub fn config(&self, family: Family, has_data_dir: bool) -> TrainConfig {
        let mut cfg = TrainConfig::preset(family, self.preset(has_data_dir));
        if let Some(f) = self.features {
            cfg.features = match f {
                FeatureSet::Logmel => FeatureConfig::logmel(),
                FeatureSet::Mfcc => FeatureConfig {
                    deltas: 2,
                    ..FeatureConfig::mfcc()
                },
            };
        }
        cfg.features.cmvn |= self.cmvn;
        cfg.model.pooled_stem |= self.pooled_stem;
        cfg.schedule.keep_last |= self.keep_last;
        cfg.compute.burn_ops |= self.burn_ops;
        cfg.data.no_val |= self.no_val;
        if let Some(ch) = &self.channels {
            cfg.model.channels = Some(ch.clone());
        }
        if let Some(h) = self.hidden {
            cfg.model.hidden = Some(h);
        }
        if let Some(v) = self.epochs {
            cfg.schedule.epochs = v;
        }
        if let Some(v) = self.batch_size {
            cfg.optim.batch_size = v;
        }
        if let Some(v) = self.lr {
            cfg.optim.lr = v;
        }
        if let Some(v) = self.patience {
            cfg.schedule.patience = v;
        }
        if let Some(v) = self.min_epochs {
            cfg.schedule.min_epochs = v;
        }
        if let Some(v) = self.crop_seconds {
            cfg.augment.crop_seconds = v;
        }
        if let Some(v) = self.mixup {
            cfg.augment.mixup_alpha = v;
        }
        if let Some(v) = self.label_smoothing {
            cfg.optim.label_smoothing = v;
        }
        if let Some(v) = self.time_stretch {
            cfg.augment.time_stretch = v;
        }
        match self.wave_noise {
            Some(0) => cfg.augment.wave_noise = None,
            Some(n) => {
                let w = cfg.augment.wave_noise.unwrap_or(WaveNoise::new(n));
                cfg.augment.wave_noise = Some(WaveNoise { copies: n, ..w });
            }
            None => {}
        }
        // The SNR range and probability adjust the preset's noise or that of --wave-noise.
        if let Some(w) = cfg.augment.wave_noise.as_mut() {
            match self.wave_noise_snr.as_deref() {
                Some(&[lo, hi]) => w.snr_db = (lo, hi),
                // Anything but two values fails `validate` with a message naming the flag.
                Some(_) => w.snr_db = (f32::NAN, f32::NAN),
                None => {}
            }
            if let Some(p) = self.wave_noise_prob {
                w.prob = p;
            }
        }
        match self.channel_augment {
            Some(0) | None => {}
            Some(n) => {
                let mut c = ChannelAugment::new(n);
                if let Some(p) = self.channel_augment_prob {
                    c.prob = p;
                }
                if let Some(config) = &self.channel_config {
                    c.config = config.clone();
                }
                cfg.augment.channel = Some(c);
            }
        }
        if let Some(target_lufs) = self.loudness_normalize {
            cfg.preprocess.normalize = Normalize::Loudness { target_lufs };
        }
        cfg
    }

    /// A one-line description of the recipe for logs and result tables, e.g.
    /// `speech (epochs 40, patience 12, lr 0.002, logmel)`.
    pub fn describe(&self, family: Family, has_data_dir: bool) -> String {
        self.config(family, has_data_dir)
            .describe(self.preset(has_data_dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The speech CRNN config of default flags changed by `set` fails validation naming `flag`.
    fn rejected(set: impl FnOnce(&mut RecipeArgs), flag: &str) {
        let mut args = RecipeArgs::default();
        set(&mut args);
        let err = args.config(Family::Crnn, true).validate().unwrap_err();
        assert!(err.to_string().contains(flag), "{err}");
    }

    #[test]
    fn speech_is_the_default_for_a_corpus_on_disk() {
        let a = RecipeArgs::default();
        assert_eq!(a.preset(true), Preset::Speech);
        assert_eq!(a.preset(false), Preset::Generated);
        assert_eq!(a.config(Family::Crnn, false).schedule.epochs, 24);
        assert_eq!(a.config(Family::Crnn, true).optim.batch_size, 16);
        assert_eq!(a.config(Family::Crnn, true).schedule.epochs, 40);
        // Only the CRNN of the speech preset is widened; the generated preset keeps defaults.
        let wide = a.config(Family::Crnn, true);
        assert_eq!(
            wide.model.channels.as_deref(),
            Some(&[32, 64, 128, 128][..])
        );
        assert_eq!(wide.model.hidden, Some(128));
        assert_eq!(a.config(Family::Crnn, false).model.channels, None);
        assert_eq!(a.config(Family::Cnn, true).model.channels, None);
        assert_eq!(a.config(Family::Rnn, true).model.hidden, None);
    }

    #[test]
    fn flags_override_the_preset() {
        let a = RecipeArgs {
            preset: Some(Preset::Speech),
            lr: Some(5e-4),
            epochs: Some(3),
            cmvn: true,
            features: Some(FeatureSet::Mfcc),
            ..Default::default()
        };
        let c = a.config(Family::Cnn, false);
        assert_eq!(
            (c.optim.lr, c.schedule.epochs, c.schedule.patience),
            (5e-4, 3, 12)
        );
        assert!(c.features.cmvn);
        assert_eq!(c.features.deltas, 2);
        assert!(
            a.describe(Family::Cnn, false)
                .starts_with("speech (epochs 3, patience 12")
        );
    }

    #[test]
    fn width_flags_reach_the_config_and_are_validated() {
        let a = RecipeArgs {
            channels: Some(vec![32, 64, 128, 128]),
            hidden: Some(128),
            ..Default::default()
        };
        let c = a.config(Family::Crnn, true);
        assert_eq!(c.model.channels.as_deref(), Some(&[32, 64, 128, 128][..]));
        assert_eq!(c.model.hidden, Some(128));
        assert!(
            a.describe(Family::Crnn, true)
                .contains("channels [32, 64, 128, 128], hidden 128, wave noise")
        );
        c.validate().unwrap();
        rejected(|a| a.channels = Some(vec![32, 0]), "--channels");
        rejected(|a| a.hidden = Some(0), "--hidden");
    }

    #[test]
    fn regularisation_flags_reach_the_config_and_are_validated() {
        let a = RecipeArgs {
            mixup: Some(0.2),
            label_smoothing: Some(0.1),
            ..Default::default()
        };
        let c = a.config(Family::Crnn, true);
        assert_eq!((c.augment.mixup_alpha, c.optim.label_smoothing), (0.2, 0.1));
        assert!(
            a.describe(Family::Crnn, true)
                .contains("hidden 128, mixup 0.2, label smoothing 0.1, wave noise")
        );
        c.validate().unwrap();
        // Off by default, and then absent from the saved config (old fingerprints hold).
        let plain = RecipeArgs::default().config(Family::Crnn, true);
        let json = serde_json::to_string(&plain).unwrap();
        assert!(
            !json.contains("mixup") && !json.contains("label_smoothing"),
            "{json}"
        );
        rejected(|a| a.mixup = Some(-1.0), "--mixup");
        rejected(|a| a.label_smoothing = Some(1.0), "--label-smoothing");
    }

    #[test]
    fn wave_noise_flags_reach_the_config_and_are_validated() {
        // The speech preset trains on 2 noisy copies with early stopping held off to epoch 30;
        // the generated preset does neither.
        let speech = RecipeArgs::default().config(Family::Crnn, true);
        assert_eq!(speech.augment.wave_noise, Some(WaveNoise::new(2)));
        assert_eq!(speech.schedule.min_epochs, 30);
        let generated = RecipeArgs::default().config(Family::Crnn, false);
        assert_eq!(
            (generated.augment.wave_noise, generated.schedule.min_epochs),
            (None, 0)
        );
        assert!(
            RecipeArgs::default()
                .describe(Family::Crnn, true)
                .contains("patience 12 after epoch 30")
        );
        // --wave-noise 0 turns it off; --wave-noise N on the generated preset turns it on.
        let off = RecipeArgs {
            wave_noise: Some(0),
            min_epochs: Some(0),
            ..Default::default()
        };
        let c = off.config(Family::Crnn, true);
        assert_eq!((c.augment.wave_noise, c.schedule.min_epochs), (None, 0));
        let a = RecipeArgs {
            wave_noise: Some(3),
            wave_noise_prob: Some(0.25),
            ..Default::default()
        };
        let c = a.config(Family::Crnn, false);
        let w = c.augment.wave_noise.unwrap();
        assert_eq!((w.copies, w.snr_db, w.prob), (3, (10.0, 30.0), 0.25));
        c.validate().unwrap();
        assert!(
            a.describe(Family::Crnn, false)
                .ends_with("wave noise 3 copies at 10-30 dB SNR, p 0.25)")
        );
        // The SNR range adjusts the preset's noise without --wave-noise.
        let snr = RecipeArgs {
            wave_noise_snr: Some(vec![5.0, 15.0]),
            ..Default::default()
        };
        let w = snr.config(Family::Crnn, true).augment.wave_noise.unwrap();
        assert_eq!((w.copies, w.snr_db), (2, (5.0, 15.0)));
        let two_copies = |a: &mut RecipeArgs| a.wave_noise = Some(2);
        rejected(
            |a| {
                two_copies(a);
                a.wave_noise_snr = Some(vec![30.0, 10.0]);
            },
            "--wave-noise-snr",
        );
        rejected(
            |a| {
                two_copies(a);
                a.wave_noise_snr = Some(vec![10.0]);
            },
            "--wave-noise-snr",
        );
        rejected(
            |a| {
                two_copies(a);
                a.wave_noise_prob = Some(1.5);
            },
            "--wave-noise-prob",
        );
        rejected(|a| a.wave_noise = Some(100), "--wave-noise");
        rejected(|a| a.time_stretch = Some(0.7), "--time-stretch");
        rejected(|a| a.time_stretch = Some(f32::NAN), "--time-stretch");
    }

    /// Issue 27, item 3: `--channel-augment`, its probability and chain file, and
    /// `--loudness-normalize` reach the config, are described, and bad values name the flag.
    #[test]
    fn channel_and_loudness_flags_reach_the_config_and_are_validated() {
        let plain = RecipeArgs::default().config(Family::Crnn, true);
        assert_eq!(plain.augment.channel, None);
        assert_eq!(plain.preprocess, ser_audio::Preprocess::default());
        let off = RecipeArgs {
            channel_augment: Some(0),
            channel_augment_prob: Some(0.3),
            ..Default::default()
        };
        assert_eq!(off.config(Family::Crnn, true).augment.channel, None);

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("chain.json");
        std::fs::write(
            &file,
            r#"{"reverb": {"prob": 1.0}, "mu_law": {"prob": 0.0}}"#,
        )
        .unwrap();
        let chain = channel_config_file(file.to_str().unwrap()).unwrap();
        assert_eq!(chain.reverb.prob, 1.0);
        assert_eq!(
            chain.noise,
            ChannelConfig::default().noise,
            "unnamed steps keep defaults"
        );
        let a = RecipeArgs {
            channel_augment: Some(3),
            channel_augment_prob: Some(0.25),
            channel_config: Some(chain.clone()),
            loudness_normalize: Some(-23.0),
            ..Default::default()
        };
        let c = a.config(Family::Crnn, true);
        c.validate().unwrap();
        let ch = c.augment.channel.clone().unwrap();
        assert_eq!((ch.copies, ch.prob, ch.config), (3, 0.25, chain));
        assert_eq!(
            c.preprocess.normalize,
            Normalize::Loudness { target_lufs: -23.0 }
        );
        assert!(
            a.describe(Family::Crnn, true)
                .ends_with("channel 3 copies (own chain config), p 0.25, loudness -23 LUFS)"),
            "{}",
            a.describe(Family::Crnn, true)
        );
        let default_chain = RecipeArgs {
            channel_augment: Some(2),
            ..Default::default()
        };
        let c = default_chain.config(Family::Crnn, false);
        assert_eq!(c.augment.channel, Some(ChannelAugment::new(2)));

        let two = |a: &mut RecipeArgs| a.channel_augment = Some(2);
        rejected(
            |a| {
                two(a);
                a.channel_augment_prob = Some(2.0);
            },
            "--channel-augment-prob",
        );
        rejected(|a| a.channel_augment = Some(17), "--channel-augment");
        rejected(|a| a.loudness_normalize = Some(5.0), "--loudness-normalize");
        rejected(
            |a| a.loudness_normalize = Some(f32::NAN),
            "--loudness-normalize",
        );
        // A chain file that is missing, not JSON, misspelt or out of range.
        let bad = |text: Option<&str>, needle: &str| {
            let path = dir.path().join("bad.json");
            match text {
                Some(t) => std::fs::write(&path, t).unwrap(),
                None => {
                    let _ = std::fs::remove_file(&path);
                }
            }
            let e = channel_config_file(path.to_str().unwrap()).unwrap_err();
            assert!(e.contains(needle), "{e}");
        };
        bad(None, "cannot read");
        bad(Some("{"), "not a channel config");
        bad(Some(r#"{"reverbb": {}}"#), "reverbb");
        bad(Some(r#"{"reverb": {"prob": 2.0}}"#), "reverb.prob");
    }
}
