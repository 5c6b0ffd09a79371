//! Reading configs saved before [`TrainConfig`] was nested: until issue 26 a run's config was
//! one flat struct (`family`, `epochs`, `lr`, `out`, ... side by side), and manifests written
//! then still carry it under `training.config`.

use std::path::PathBuf;

use dsp_features::FeatureConfig;
use ser_audio::Preprocess;
use ser_models::{Family, ModelConfig};
use serde::Deserialize;

use super::augment::AugmentConfig;
use super::train::{
    BackendKind, ComputeConfig, DataConfig, DataSource, Distill, ModelSpec, OptimConfig,
    OutputConfig, RunControl, ScheduleConfig, SpeakerSplit, TrainConfig,
};

/// The flat layout, field for field as it was serialised (options added later were left out
/// while off, hence the defaults).
#[derive(Deserialize)]
struct Flat {
    family: Family,
    #[serde(default)]
    model: Option<ModelConfig>,
    #[serde(default)]
    data: DataSource,
    #[serde(default)]
    features: FeatureConfig,
    #[serde(default)]
    preprocess: Preprocess,
    epochs: usize,
    batch_size: usize,
    lr: f64,
    weight_decay: f32,
    patience: usize,
    #[serde(default)]
    split: SpeakerSplit,
    seed: u64,
    #[serde(default)]
    backend: BackendKind,
    out: PathBuf,
    #[serde(default)]
    cache_dir: Option<PathBuf>,
    #[serde(default)]
    resume: bool,
    #[serde(default = "yes")]
    class_weights: bool,
    #[serde(default)]
    augment: AugmentConfig,
    #[serde(default)]
    stop_after_batches: Option<usize>,
    #[serde(default)]
    tiny: bool,
    #[serde(default)]
    pooled_stem: bool,
    #[serde(default)]
    channels: Option<Vec<usize>>,
    #[serde(default)]
    hidden: Option<usize>,
    #[serde(default)]
    label_smoothing: f32,
    #[serde(default)]
    min_epochs: usize,
    #[serde(default)]
    keep_last: bool,
    #[serde(default)]
    distill: Option<Distill>,
    #[serde(default)]
    burn_ops: bool,
    #[serde(default)]
    no_val: bool,
    #[serde(default)]
    no_test: bool,
}

fn yes() -> bool {
    true
}

impl From<Flat> for TrainConfig {
    fn from(f: Flat) -> Self {
        Self {
            model: ModelSpec {
                family: f.family,
                config: f.model,
                tiny: f.tiny,
                pooled_stem: f.pooled_stem,
                channels: f.channels,
                hidden: f.hidden,
            },
            data: DataConfig {
                source: f.data,
                split: f.split,
                no_val: f.no_val,
                no_test: f.no_test,
            },
            features: f.features,
            preprocess: f.preprocess,
            optim: OptimConfig {
                lr: f.lr,
                weight_decay: f.weight_decay,
                batch_size: f.batch_size,
                class_weights: f.class_weights,
                label_smoothing: f.label_smoothing,
            },
            schedule: ScheduleConfig {
                epochs: f.epochs,
                patience: f.patience,
                min_epochs: f.min_epochs,
                keep_last: f.keep_last,
            },
            augment: f.augment,
            distill: f.distill,
            init: None,
            seed: f.seed,
            compute: ComputeConfig {
                backend: f.backend,
                burn_ops: f.burn_ops,
            },
            output: OutputConfig {
                dir: f.out,
                cache_dir: f.cache_dir,
            },
            control: RunControl {
                resume: f.resume,
                stop_after_batches: f.stop_after_batches,
            },
        }
    }
}

impl TrainConfig {
    /// A config from its JSON: today's nested layout, or the flat one of configs saved before
    /// it (recognised by its top-level `family`).
    ///
    /// # Errors
    ///
    /// What serde found wrong, naming the layout it tried.
    pub fn from_json(value: serde_json::Value) -> std::result::Result<Self, String> {
        if value.get("family").is_some() {
            serde_json::from_value::<Flat>(value)
                .map(Self::from)
                .map_err(|e| format!("not a training config (flat layout of older runs): {e}"))
        } else {
            serde_json::from_value(value).map_err(|e| format!("not a training config: {e}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `training.config` of a manifest written by `ser-train --model crnn --epochs 3` before
    /// the config was nested (2026-12-05).
    const FLAT: &str = r#"{"augment": {"crop_seconds": 3.0, "freq_mask_bins": 8, "freq_masks": 2,
        "freq_warp": 0.11999999731779099, "gain_db": 6.0, "lowpass_prob": 0.20000000298023224,
        "noise_prob": 0.30000001192092896, "noise_snr_db": [20.0, 40.0], "time_mask_frames": 20,
        "time_masks": 2}, "backend": "flex", "batch_size": 32, "cache_dir": null,
        "channels": null, "class_weights": true, "data": {"synth": {"actors": [1, 2, 3],
        "emotion_scale": 1.0, "sample_rate": 16000, "seed": 1, "speaker_variation": 1.0}},
        "epochs": 3, "family": "crnn", "hidden": null, "lr": 0.001, "model": null,
        "out": "/tmp/base/train", "patience": 8, "pooled_stem": false, "progress": false,
        "resume": false, "seed": 42, "split": {"test": [], "val": []},
        "stop_after_batches": null, "tiny": false, "weight_decay": 9.999999747378752e-05,
        "keep_last": true, "min_epochs": 2}"#;

    #[test]
    fn flat_configs_of_older_runs_read_into_the_nested_layout() {
        let cfg = TrainConfig::from_json(serde_json::from_str(FLAT).unwrap()).unwrap();
        assert_eq!(cfg.model.family, Family::Crnn);
        assert_eq!((cfg.schedule.epochs, cfg.schedule.patience), (3, 8));
        assert_eq!((cfg.schedule.min_epochs, cfg.schedule.keep_last), (2, true));
        assert_eq!((cfg.optim.lr, cfg.optim.batch_size), (0.001, 32));
        assert_eq!(cfg.output.dir, PathBuf::from("/tmp/base/train"));
        assert_eq!(cfg.augment, AugmentConfig::default());
        // Fields the flat file leaves out take their defaults.
        assert_eq!(cfg.features, FeatureConfig::default());
        // And the nested layout round-trips.
        let json = serde_json::to_value(&cfg).unwrap();
        assert!(json.get("family").is_none() && json["schedule"]["epochs"] == 3);
        let again = TrainConfig::from_json(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&again).unwrap(), json);
        let err = TrainConfig::from_json(serde_json::json!({"family": 7})).unwrap_err();
        assert!(err.contains("flat layout"), "{err}");
    }
}
