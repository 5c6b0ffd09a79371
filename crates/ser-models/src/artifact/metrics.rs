//! The manifest's records, typed: [`Metrics`] (the speaker-independent scores) and
//! [`TrainingRecord`] (what readers need from the training crate's JSON).
//!
//! The JSON shape is the one `ser-train` writes (`metrics.test` after a held-out split,
//! `metrics.cv` after cross-validation by speaker): every documented field is typed, and
//! fields this crate does not know (the pooled report, per-class recalls, confusion matrices)
//! are kept as they are in `other`, so reading and writing a manifest loses nothing.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Scores on one set of held-out speakers (`metrics.test`, `metrics.validation`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitScores {
    /// Unweighted accuracy (mean per-class recall).
    pub ua: f64,
    /// Weighted accuracy (plain accuracy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa: Option<f64>,
    /// Clips scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<usize>,
    /// Everything else (per-class recall, confusion matrix, labels).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A mean and a standard deviation over folds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    /// Mean over folds.
    pub mean: f64,
    /// Standard deviation over folds.
    pub std: f64,
}

/// One fold of a cross-validation by speaker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldScores {
    /// Fold number (from 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fold: Option<usize>,
    /// Unweighted accuracy on the fold's held-out speakers.
    pub ua: f64,
    /// Weighted accuracy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa: Option<f64>,
    /// The speakers scored (never heard by the fold's model).
    #[serde(default)]
    pub test_actors: Vec<String>,
    /// The speakers the fold's model was trained on.
    #[serde(default)]
    pub train_actors: Vec<String>,
    /// Everything else (kappa, macro F1, clip count, seconds).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A cross-validation by speaker (`metrics.cv`): the estimate of a model trained on every
/// speaker by the same recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvScores {
    /// Unweighted accuracy over folds.
    pub ua: MeanStd,
    /// Weighted accuracy over folds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wa: Option<MeanStd>,
    /// Macro F1 over folds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub macro_f1: Option<MeanStd>,
    /// Cohen's kappa over folds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kappa: Option<MeanStd>,
    /// Each fold's scores and speakers: the protocol, fold by fold.
    #[serde(default)]
    pub folds: Vec<FoldScores>,
    /// Where the folds were trained and combined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    /// What was held out and how (written for the entries of [`Metrics::extra_cv`], whose
    /// protocol is not the manifest's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The manifest's `metrics`: scores on speakers the model (or, for `cv`, the recipe's fold
/// models) never heard.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// How the scores were obtained (which speakers were held out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// The held-out test speakers of `test`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_actors: Option<Vec<String>>,
    /// The validation (early-stopping) speakers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_actors: Option<Vec<String>>,
    /// Scores on the test speakers (`ser-train` with a held-out split).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<SplitScores>,
    /// Scores on the validation speakers at the kept epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<SplitScores>,
    /// Cross-validation by speaker (`ser-train cv`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv: Option<CvScores>,
    /// Further cross-validations by speaker of the model's recipe that scored other speakers
    /// than `cv` (`ser-train cv-attach`): when `cv` held out one corpus's speakers (RAVDESS
    /// actors, for the shipped model), the estimate on another corpus's speakers (EMO-DB's).
    /// Each names its protocol.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_cv: Vec<CvScores>,
    /// Everything else (e.g. the pooled report of a cross-validation).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Metrics {
    /// Reads the manifest's `metrics` JSON (`null` = no scores).
    ///
    /// # Errors
    ///
    /// What serde says when a documented field has the wrong type (e.g. `cv.ua` without a
    /// `mean`).
    pub fn from_value(value: &Value) -> serde_json::Result<Self> {
        if value.is_null() {
            return Ok(Self::default());
        }
        Self::deserialize(value)
    }

    /// The headline speaker-independent UA: the cross-validation mean if there is one, else
    /// the held-out test score (what the page shows as "accuracy").
    pub fn headline_ua(&self) -> Option<f64> {
        self.cv
            .as_ref()
            .map(|cv| cv.ua.mean)
            .or_else(|| self.test.as_ref().map(|t| t.ua))
    }
}

/// What readers need from the training record (`training`, the training crate's own JSON,
/// which this crate does not type: ser-models must not depend on ser-train).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrainingRecord {
    /// The speakers the model heard (sorted, numbers zero-padded like RAVDESS actors), when
    /// recorded.
    pub train_speakers: Option<Vec<String>>,
    /// The corpora the model was trained on, as recorded (data directories or corpus specs;
    /// an ensemble's members' included), sorted and deduplicated.
    pub corpora: Vec<String>,
}

impl TrainingRecord {
    /// Reads `training`: `train_speakers` (or, as manifests of format version 1 may have it,
    /// one of [`super::TRAINING_SPEAKER_KEYS`]) and every `data` entry of the record, of its
    /// `cv` section and of its `members`' records.
    pub fn from_value(training: &Value) -> Self {
        let train_speakers = super::TRAINING_SPEAKER_KEYS
            .iter()
            .find_map(|k| training.get(k).and_then(speaker_list));
        let mut corpora = Vec::new();
        let mut add = |v: Option<&Value>| match v {
            Some(Value::String(s)) => corpora.push(s.clone()),
            Some(Value::Array(items)) => {
                corpora.extend(items.iter().filter_map(|i| i.as_str().map(str::to_string)))
            }
            // ser-train's config records its data as `{"dir": ...}`.
            Some(Value::Object(o)) => {
                if let Some(Value::String(s)) = o.get("dir") {
                    corpora.push(s.clone());
                }
            }
            _ => {}
        };
        add(training.get("data"));
        add(training.get("cv").and_then(|cv| cv.get("data")));
        for member in training
            .get("members")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            add(member.get("training").and_then(|t| t.get("data")));
        }
        corpora.sort();
        corpora.dedup();
        Self {
            train_speakers,
            corpora,
        }
    }
}

/// An array of speaker ids (strings, or numbers zero-padded to two digits), sorted.
pub(super) fn speaker_list(value: &Value) -> Option<Vec<String>> {
    let list = value.as_array()?;
    let mut out: Vec<String> = list
        .iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => n.as_u64().map(|n| format!("{n:02}")),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let json = serde_json::json!({
            "test": {"ua": 0.5, "wa": 0.6, "n": 10, "recall": {"a": 0.5}},
            "cv": {"ua": {"mean": 0.7, "std": 0.1}, "folds": [
                {"fold": 1, "ua": 0.7, "test_actors": ["01"], "train_actors": ["02"], "kappa": 0.6}
            ]},
            "pooled": {"ua": 0.69},
        });
        let m = Metrics::from_value(&json).unwrap();
        assert_eq!(m.headline_ua(), Some(0.7));
        assert_eq!(m.cv.as_ref().unwrap().folds[0].test_actors, ["01"]);
        assert_eq!(serde_json::to_value(&m).unwrap(), json);
        assert_eq!(
            Metrics::from_value(&Value::Null).unwrap(),
            Metrics::default()
        );
        let bad = serde_json::json!({"cv": {"ua": 0.7}});
        assert!(Metrics::from_value(&bad).is_err());
    }

    #[test]
    fn further_cross_validations_are_typed_and_survive_a_round_trip() {
        let json = serde_json::json!({
            "cv": {"ua": {"mean": 0.78, "std": 0.08}, "folds": []},
            "extra_cv": [{
                "ua": {"mean": 0.66, "std": 0.05},
                "folds": [{"fold": 1, "ua": 0.65, "test_actors": ["ravdess:02"],
                           "train_actors": ["ravdess:01"]}],
                "protocol": "5-fold CV over the speakers of corpus `ravdess`",
                "pooled": {"ua": 0.66},
            }],
        });
        let m = Metrics::from_value(&json).unwrap();
        // The headline stays the manifest's own cross-validation.
        assert_eq!(m.headline_ua(), Some(0.78));
        let extra = &m.extra_cv[0];
        assert_eq!(extra.ua.mean, 0.66);
        assert_eq!(
            extra.protocol.as_deref(),
            Some("5-fold CV over the speakers of corpus `ravdess`")
        );
        assert_eq!(extra.folds[0].test_actors, ["ravdess:02"]);
        assert_eq!(serde_json::to_value(&m).unwrap(), json);
        // None recorded: nothing written.
        let plain = Metrics::from_value(&serde_json::json!({"test": {"ua": 0.5}})).unwrap();
        assert!(plain.extra_cv.is_empty());
        assert!(
            serde_json::to_value(&plain)
                .unwrap()
                .get("extra_cv")
                .is_none()
        );
        // A misshapen entry is an error, as for `cv`.
        let bad = serde_json::json!({"extra_cv": [{"ua": 0.7}]});
        assert!(Metrics::from_value(&bad).is_err());
    }

    #[test]
    fn the_training_record_finds_speakers_and_corpora() {
        let t = TrainingRecord::from_value(&serde_json::json!({
            "train_actors": [3, 1, "02"],
            "data": "data/ravdess",
            "cv": {"data": ["data/ravdess", "data/emodb"]},
            "members": [{"training": {"data": "data/emodb"}}, {"training": {"config": {}}}],
        }));
        assert_eq!(t.train_speakers.unwrap(), ["01", "02", "03"]);
        assert_eq!(t.corpora, ["data/emodb", "data/ravdess"]);
        assert_eq!(
            TrainingRecord::from_value(&Value::Null),
            TrainingRecord::default()
        );
    }
}
