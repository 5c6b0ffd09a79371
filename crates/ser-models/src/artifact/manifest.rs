//! `manifest.json`: everything needed to turn audio into the model's input, and the record of
//! how the model was trained and how well it does.

use std::path::Path;

use dsp_features::{FeatureConfig, NormStats};
use ser_audio::Preprocess;
use serde::{Deserialize, Serialize};

use super::head::{FunctionalsFusion, LinearHead};
use super::metrics::{Metrics, TrainingRecord, speaker_list};
use crate::error::{ModelError, Result};
use crate::model::ModelConfig;

/// The manifest format this build writes. Bump on any incompatible change.
///
/// - 2 (2026-12-05): `metrics` follows the typed schema [`Metrics`] (checked on load: a
///   version-2 manifest whose `cv.ua` has no `mean`, say, is refused), and the training
///   speakers are recorded under `training.train_speakers`.
/// - 1: the same fields, `metrics` and `training` free-form JSON (speakers under any of
///   [`TRAINING_SPEAKER_KEYS`]). Still read: [`Manifest::scores`] types their `metrics` when
///   they follow the schema, as every manifest `ser-train` and `ser-eval` wrote does
///   (`models/default` among them).
pub const FORMAT_VERSION: u32 = 2;

/// The oldest manifest format this build reads.
pub const OLDEST_FORMAT_VERSION: u32 = 1;

/// File name of the manifest inside an artifact directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Keys under the manifest's `training` object that may list the training speakers, in the
/// order they are looked up: `train_speakers` (what format version 2 writes), then the names
/// version-1 manifests may use. Each holds an array of speaker ids (strings, or RAVDESS actor
/// numbers).
pub const TRAINING_SPEAKER_KEYS: [&str; 4] = [
    "train_speakers",
    "train_actors",
    "training_speakers",
    "training_actors",
];

/// Where the validation (early-stopping) speakers may be recorded: `(object, key)` pairs of
/// the manifest, looked up in order (`ser-train` writes `metrics.val_actors`).
pub const VALIDATION_SPEAKER_KEYS: [(&str, &str); 3] = [
    ("metrics", "val_actors"),
    ("training", "val_speakers"),
    ("training", "val_actors"),
];

/// Accepted `test_time_warps` factors. Wider than the training warp (`ser-train`'s
/// `freq_warp` default 0.12) so that a factor slightly outside it can be measured, narrow
/// enough that a typo (`10` for `1.0`) is caught instead of silently shifting every band.
pub const TEST_TIME_WARP_RANGE: (f32, f32) = (0.5, 2.0);

/// One model or an ensemble whose members' probabilities are averaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactKind {
    /// Exactly one member.
    Single,
    /// Several members (e.g. one per cross-validation fold); probabilities are averaged.
    Ensemble,
}

/// One network of the artifact.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Member {
    /// Human-readable name (e.g. `fold-3`).
    pub name: String,
    /// Family and hyper-parameters.
    pub model: ModelConfig,
    /// Weights file, relative to the artifact directory (burnpack `.bpk`).
    pub weights: String,
    /// Per-bin normalisation fitted on this member's training set (`None` = raw features).
    pub norm: Option<NormStats>,
    /// The member's utterance-functionals head, fitted on the same training speakers as the
    /// network; present exactly when the manifest has [`Manifest::functionals`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<LinearHead>,
}

/// Contents of `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT_VERSION`] for files this build writes.
    pub format_version: u32,
    /// Single model or ensemble.
    pub kind: ArtifactKind,
    /// The networks (one for [`ArtifactKind::Single`]).
    pub members: Vec<Member>,
    /// Feature extraction, shared by all members.
    pub features: FeatureConfig,
    /// Waveform preprocessing after resampling to `features.sample_rate` (`None` = none).
    pub preprocess: Option<Preprocess>,
    /// Class names in output order.
    pub labels: Vec<String>,
    /// Evaluation protocol of `metrics`, e.g. "speaker-independent: test actors 21, 22, 23, 24
    /// never seen in training".
    #[serde(default)]
    pub protocol: String,
    /// Training record: the training crate's own JSON (its config among it). Read what you
    /// need through [`Manifest::training_record`].
    #[serde(default)]
    pub training: serde_json::Value,
    /// Scores on held-out speakers, in the shape of [`Metrics`] (checked on load for format
    /// version 2); read them typed through [`Manifest::scores`].
    #[serde(default)]
    pub metrics: serde_json::Value,
    /// Test-time averaging: each member's probabilities are averaged over the clip's features
    /// warped along the frequency axis by each of these factors (the warp `ser-train`
    /// augments with: row `r` reads row `r / factor`, before normalisation). Empty (the
    /// default, and what older manifests mean) = the features as they are, once; list `1.0`
    /// to include them among the warped copies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test_time_warps: Vec<f32>,
    /// Utterance functionals fused with every member's network (each member's
    /// [`Member::head`]); `None` (the default, and what older manifests mean) = networks only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub functionals: Option<FunctionalsFusion>,
}

impl Manifest {
    /// The training speakers the manifest records (see [`TRAINING_SPEAKER_KEYS`]), sorted,
    /// numbers zero-padded to two digits like RAVDESS actors; `None` when it records none.
    pub fn training_speakers(&self) -> Option<Vec<String>> {
        self.training_record().train_speakers
    }

    /// What readers need from the training record, typed: the training speakers and the
    /// corpora.
    pub fn training_record(&self) -> TrainingRecord {
        TrainingRecord::from_value(&self.training)
    }

    /// The scores, typed (`null` = none recorded).
    ///
    /// # Errors
    ///
    /// [`ModelError::Invalid`] (field `metrics`) when a documented field has the wrong shape;
    /// only possible for a version-1 manifest, since version 2 is checked on load.
    pub fn scores(&self) -> Result<Metrics> {
        Metrics::from_value(&self.metrics).map_err(|e| ModelError::Invalid {
            field: "metrics".into(),
            reason: e.to_string(),
        })
    }

    /// The validation (early-stopping) speakers the manifest records (see
    /// [`VALIDATION_SPEAKER_KEYS`]); `None` when it records none.
    pub fn validation_speakers(&self) -> Option<Vec<String>> {
        VALIDATION_SPEAKER_KEYS.iter().find_map(|(obj, key)| {
            let section = if *obj == "metrics" {
                &self.metrics
            } else {
                &self.training
            };
            section.get(key).and_then(speaker_list)
        })
    }

    /// A manifest for one model (weights in `model.bpk`) with no preprocessing, no
    /// normalisation statistics and empty training record and metrics: what tests, examples and
    /// load benchmarks use to save an untrained artifact. Trained artifacts come from ser-train.
    pub fn single(
        name: impl Into<String>,
        model: ModelConfig,
        features: FeatureConfig,
        labels: Vec<String>,
        protocol: impl Into<String>,
    ) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            kind: ArtifactKind::Single,
            members: vec![Member {
                name: name.into(),
                model,
                weights: "model.bpk".into(),
                norm: None,
                head: None,
            }],
            features,
            preprocess: None,
            labels,
            protocol: protocol.into(),
            training: serde_json::json!({}),
            metrics: serde_json::json!({}),
            test_time_warps: Vec::new(),
            functionals: None,
        }
    }

    /// Checks internal consistency (member count vs kind, label count vs model outputs,
    /// feature rows vs model inputs and norm stats).
    pub fn validate(&self) -> Result<()> {
        let invalid = |field: &str, reason: String| {
            Err(ModelError::Invalid {
                field: field.to_string(),
                reason,
            })
        };
        if self.members.is_empty() {
            return invalid("members", "the manifest lists no model".into());
        }
        if self.format_version >= 2 {
            self.scores()?;
        }
        if self.kind == ArtifactKind::Single && self.members.len() != 1 {
            return invalid(
                "kind",
                format!("`single` but {} members", self.members.len()),
            );
        }
        if self.labels.len() < 2 {
            return invalid(
                "labels",
                format!(
                    "{} labels; a classifier needs at least 2",
                    self.labels.len()
                ),
            );
        }
        self.features.validate()?;
        if let Some(w) = self
            .test_time_warps
            .iter()
            .find(|w| !(TEST_TIME_WARP_RANGE.0..=TEST_TIME_WARP_RANGE.1).contains(*w))
        {
            return invalid(
                "test_time_warps",
                format!(
                    "{w} is outside [{}, {}]; use factors near 1 (ser-train warps by 1 +- 0.12)",
                    TEST_TIME_WARP_RANGE.0, TEST_TIME_WARP_RANGE.1
                ),
            );
        }
        let dim = match &self.functionals {
            Some(f) => {
                f.validate()?;
                if f.config.sample_rate != self.features.sample_rate {
                    return invalid(
                        "functionals.config.sample_rate",
                        format!(
                            "{} Hz, but the features (and so the preprocessed clip) are at {} Hz",
                            f.config.sample_rate, self.features.sample_rate
                        ),
                    );
                }
                Some(dsp_features::functionals::FUNCTIONALS_DIM)
            }
            None => None,
        };
        let bins = self.features.output_bins();
        for (i, m) in self.members.iter().enumerate() {
            match (&m.head, dim) {
                (Some(h), Some(dim)) => {
                    h.validate(&format!("members[{i}].head"), dim, self.labels.len())?;
                }
                (None, Some(_)) => {
                    return invalid(
                        &format!("members[{i}].head"),
                        "missing: the manifest fuses functionals, so every member needs a head"
                            .into(),
                    );
                }
                (Some(_), None) => {
                    return invalid(
                        &format!("members[{i}].head"),
                        "present, but the manifest has no `functionals` section to say how \
                         to compute its input"
                            .into(),
                    );
                }
                (None, None) => {}
            }
            m.model.validate()?;
            if m.model.n_classes() != self.labels.len() {
                return invalid(
                    &format!("members[{i}].model.n_classes"),
                    format!(
                        "{} outputs but {} labels",
                        m.model.n_classes(),
                        self.labels.len()
                    ),
                );
            }
            if m.model.n_bins() != bins {
                return invalid(
                    &format!("members[{i}].model.n_bins"),
                    format!(
                        "model expects {} feature rows, the feature config gives {bins}",
                        m.model.n_bins()
                    ),
                );
            }
            if let Some(n) = &m.norm
                && (n.mean.len() != bins || n.std.len() != bins)
            {
                return invalid(
                    &format!("members[{i}].norm"),
                    format!(
                        "{} means / {} stds for {bins} feature rows",
                        n.mean.len(),
                        n.std.len()
                    ),
                );
            }
            if m.weights.is_empty() || m.weights.contains(['/', '\\']) || m.weights.starts_with('.')
            {
                return invalid(
                    &format!("members[{i}].weights"),
                    format!(
                        "`{}` must be a plain file name inside the artifact directory",
                        m.weights
                    ),
                );
            }
        }
        Ok(())
    }

    /// Reads and validates `dir/manifest.json`.
    pub fn read(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(ModelError::MissingArtifact {
                path: dir.to_path_buf(),
            });
        }
        let path = dir.join(MANIFEST_FILE);
        if !path.is_file() {
            return Err(ModelError::MissingManifest {
                dir: dir.to_path_buf(),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(|e| ModelError::io(&path, e))?;
        Self::from_json(&text).map_err(|e| match e {
            ModelError::CorruptManifest { reason, .. } => ModelError::CorruptManifest {
                path: path.clone(),
                reason,
            },
            ModelError::UnsupportedFormat {
                found, supported, ..
            } => ModelError::UnsupportedFormat {
                path: path.clone(),
                found,
                supported,
            },
            other => other,
        })
    }

    /// Parses and validates manifest JSON (path fields of errors are empty).
    pub fn from_json(text: &str) -> Result<Self> {
        let corrupt = |reason: String| ModelError::CorruptManifest {
            path: Default::default(),
            reason,
        };
        // Check the version before the schema, so a future format gets the right error.
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
        let version = value
            .get("format_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| corrupt("no integer `format_version` field".into()))?;
        if !(u64::from(OLDEST_FORMAT_VERSION)..=u64::from(FORMAT_VERSION)).contains(&version) {
            return Err(ModelError::UnsupportedFormat {
                path: Default::default(),
                found: u32::try_from(version).unwrap_or(u32::MAX),
                supported: FORMAT_VERSION,
            });
        }
        let manifest: Self = serde_json::from_value(value).map_err(|e| corrupt(e.to_string()))?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| ModelError::Invalid {
            field: "manifest".into(),
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Family;

    fn recording(training: serde_json::Value, metrics: serde_json::Value) -> Manifest {
        let mut m = Manifest::single(
            "m",
            ModelConfig::default_for(Family::Crnn, 64, 8),
            FeatureConfig::default(),
            (0..8).map(|i| i.to_string()).collect(),
            "",
        );
        m.training = training;
        m.metrics = metrics;
        m
    }

    #[test]
    fn reads_training_speakers_in_either_form() {
        let m = recording(
            serde_json::json!({"train_actors": [3, 1, "02"]}),
            serde_json::Value::Null,
        );
        assert_eq!(
            m.training_speakers(),
            Some(vec!["01".into(), "02".into(), "03".into()])
        );
        let m = recording(serde_json::json!({"epochs": 3}), serde_json::Value::Null);
        assert_eq!(m.training_speakers(), None);
        let m = recording(serde_json::Value::Null, serde_json::Value::Null);
        assert_eq!(m.training_speakers(), None);
        assert_eq!(m.validation_speakers(), None);
        // ser-train writes the validation actors under metrics.
        let m = recording(
            serde_json::json!({"train_speakers": ["05"]}),
            serde_json::json!({"val_actors": ["20", "19"]}),
        );
        assert_eq!(
            m.validation_speakers(),
            Some(vec!["19".into(), "20".into()])
        );
    }

    #[test]
    fn test_time_warps_are_optional_validated_and_omitted_when_empty() {
        let m = recording(serde_json::Value::Null, serde_json::Value::Null);
        let json = m.to_json().unwrap();
        // Manifests written before the field existed, and those that do not use it, agree.
        assert!(!json.contains("test_time_warps"), "{json}");
        assert!(
            Manifest::from_json(&json)
                .unwrap()
                .test_time_warps
                .is_empty()
        );

        let mut warped = m.clone();
        warped.test_time_warps = vec![0.95, 1.0, 1.05];
        let back = Manifest::from_json(&warped.to_json().unwrap()).unwrap();
        assert_eq!(back.test_time_warps, vec![0.95, 1.0, 1.05]);

        for bad in [10.0, 0.0, -1.0, f32::NAN] {
            warped.test_time_warps = vec![1.0, bad];
            let err = warped.validate().unwrap_err().to_string();
            assert!(err.contains("test_time_warps"), "{bad}: {err}");
        }
    }
}
