//! The evaluation report of a model on a corpus: metrics with names, protocol and breakdowns.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::corpora::{CorpusRef, CorpusScore};
use crate::error::{EvalError, Result};
use crate::labels::UnmappedLabel;
use crate::metrics::{
    Averages, BootstrapCi, BootstrapConfig, ClassMetrics, ClassificationReport, bootstrap_ci,
};

/// One evaluated utterance: where it came from, its true class and the model's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionRecord {
    /// Utterance id (path relative to the corpus root).
    pub id: String,
    /// The corpus of the clip ([`ravdess_loader::Utterance::corpus`]; empty when unknown).
    /// Reports over several corpora have one row per corpus.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub corpus: String,
    /// The file, when there is one.
    pub path: Option<PathBuf>,
    /// Speaker (RAVDESS: actor `"01"`..`"24"`).
    pub speaker: Option<String>,
    /// `"male"` / `"female"`, when known.
    pub gender: Option<String>,
    /// RAVDESS intensity (`"normal"` / `"strong"`), when known.
    pub intensity: Option<String>,
    /// The data's label as written in the corpus.
    pub true_label: String,
    /// The model class index that label maps to.
    pub true_index: usize,
    /// The predicted model class index.
    pub predicted_index: usize,
    /// Class probabilities in model label order.
    pub probabilities: Vec<f32>,
}

/// Metrics of one class, by name (the `per_class` entries of the JSON report).
pub type PerClass = BTreeMap<String, ClassMetrics>;

/// The confusion matrix with its labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfusionReport {
    /// Class names; row `i` and column `i` are `labels[i]`.
    pub labels: Vec<String>,
    /// Counts, rows true and columns predicted.
    pub counts: Vec<Vec<u64>>,
    /// Row-normalised rates (each row sums to 1, or is all 0 for an absent class).
    pub normalized: Vec<Vec<f64>>,
}

/// How the numbers were obtained: which speakers were tested and whether any were seen in
/// training.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Protocol {
    /// Model directory (or a description such as `"cv fold 3"`).
    pub model: String,
    /// Data directory.
    pub data: String,
    /// Speakers whose utterances were evaluated, sorted.
    pub actors_evaluated: Vec<String>,
    /// Speakers the model was trained on, when its manifest records them.
    pub training_actors: Option<Vec<String>>,
    /// The corpora the model heard, as its manifest records them or as inferred from its
    /// recorded data paths (see [`crate::heard`]); absent when unknown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub training_corpora: Vec<CorpusRef>,
    /// How evaluated and training speakers were compared when corpora are involved (see
    /// [`crate::heard`]), e.g. that the evaluated corpus is not one the model heard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker_check: Option<String>,
    /// Evaluated speakers that the model also saw in training.
    pub overlapping_actors: Vec<String>,
    /// Speakers the model used for early stopping / model selection only, when recorded.
    #[serde(default)]
    pub validation_actors: Option<Vec<String>>,
    /// Evaluated speakers that were validation speakers: not trained on, but the model was
    /// selected on them, so their scores are optimistic.
    #[serde(default)]
    pub validation_overlap: Vec<String>,
    /// `true` when the training speakers are known and disjoint from the tested ones, `false`
    /// when they overlap (the numbers are then NOT a speaker-independent result), `null`
    /// when it cannot be checked.
    pub speaker_independent: Option<bool>,
    /// How the clips were altered before prediction (a robustness check such as
    /// `ser-eval --noise-snr 20`); absent when they were evaluated as recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub perturbation: Option<String>,
}

impl Protocol {
    /// Fills `overlapping_actors`, `speaker_independent` and `validation_overlap` from the
    /// speaker lists.
    pub fn check_overlap(&mut self) {
        self.validation_overlap = match &self.validation_actors {
            Some(val) => self
                .actors_evaluated
                .iter()
                .filter(|a| val.contains(a))
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        match &self.training_actors {
            Some(train) => {
                let train: BTreeSet<&String> = train.iter().collect();
                self.overlapping_actors = self
                    .actors_evaluated
                    .iter()
                    .filter(|a| train.contains(a))
                    .cloned()
                    .collect();
                self.speaker_independent = Some(self.overlapping_actors.is_empty());
            }
            None => {
                self.overlapping_actors.clear();
                self.speaker_independent = None;
            }
        }
    }
}

/// Scores of one subgroup (an actor, a gender, an intensity).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupScore {
    /// Group value (`"07"`, `"female"`, `"strong"`).
    pub group: String,
    /// Utterances in the group.
    pub n: usize,
    /// Accuracy within the group.
    pub wa: f64,
    /// UA within the group (over the classes present in it).
    pub ua: f64,
    /// Macro-F1 within the group (over all classes).
    pub macro_f1: f64,
}

/// Scores broken down by actor, gender and intensity (each empty when the corpus lacks it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    /// Per speaker.
    pub by_actor: Vec<GroupScore>,
    /// Per gender.
    pub by_gender: Vec<GroupScore>,
    /// Per RAVDESS intensity.
    pub by_intensity: Vec<GroupScore>,
}

/// A file that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedFile {
    /// The file (or utterance id).
    pub path: String,
    /// What went wrong.
    pub reason: String,
}

/// The full report `ser-eval` prints and writes as `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Evaluated utterances.
    pub n: usize,
    /// Unweighted accuracy (balanced accuracy; mean recall over classes present).
    pub ua: f64,
    /// Weighted accuracy (plain accuracy).
    pub wa: f64,
    /// Macro-averaged F1 over all model classes.
    pub macro_f1: f64,
    /// Support-weighted F1.
    pub weighted_f1: f64,
    /// Cohen's kappa.
    pub kappa: f64,
    /// Bootstrap confidence intervals of UA and macro-F1.
    pub ci: BootstrapCi,
    /// Model classes, in model output order.
    pub labels: Vec<String>,
    /// Per-class precision, recall, F1, support, by class name.
    pub per_class: PerClass,
    /// Macro averages of precision, recall, F1.
    pub macro_avg: Averages,
    /// Support-weighted averages.
    pub weighted_avg: Averages,
    /// Confusion matrix.
    pub confusion: ConfusionReport,
    /// Protocol: tested speakers, training speakers, speaker independence.
    pub protocol: Protocol,
    /// Model classes with no utterance in the evaluated data (their recall is undefined and
    /// they are left out of UA).
    pub classes_absent_from_data: Vec<String>,
    /// Data labels the model has no class for (excluded from the metrics).
    pub unmapped_labels: Vec<UnmappedLabel>,
    /// Files that could not be read or predicted.
    pub skipped_files: Vec<SkippedFile>,
    /// Scores by actor, gender and intensity.
    pub breakdown: Breakdown,
    /// One row per corpus when several were evaluated, each with UA and macro-F1 over that
    /// corpus's own labels (see [`corpus_scores`](crate::corpus_scores)); absent for one corpus.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_corpus: Vec<CorpusScore>,
}

impl EvalReport {
    /// Computes the report from per-utterance predictions over `labels` (the model's classes).
    ///
    /// # Errors
    ///
    /// [`EvalError::Empty`] when there are no records; label-range errors when a record's
    /// index is not a class of `labels`; invalid bootstrap settings.
    pub fn build(
        labels: &[String],
        records: &[PredictionRecord],
        protocol: Protocol,
        bootstrap: &BootstrapConfig,
    ) -> Result<Self> {
        if records.is_empty() {
            return Err(EvalError::Empty {
                what: "the list of predictions",
            });
        }
        let k = labels.len();
        let y_true: Vec<usize> = records.iter().map(|r| r.true_index).collect();
        let y_pred: Vec<usize> = records.iter().map(|r| r.predicted_index).collect();
        let rep = ClassificationReport::new(&y_true, &y_pred, k)?;
        let ci = bootstrap_ci(&y_true, &y_pred, k, bootstrap)?;
        let per_class = labels
            .iter()
            .cloned()
            .zip(rep.per_class.iter().copied())
            .collect();
        let classes_absent_from_data = rep
            .classes_absent_from_truth()
            .into_iter()
            .map(|c| labels[c].clone())
            .collect();
        let breakdown = Breakdown {
            by_actor: group_scores(records, k, |r| r.speaker.clone())?,
            by_gender: group_scores(records, k, |r| r.gender.clone())?,
            by_intensity: group_scores(records, k, |r| r.intensity.clone())?,
        };
        Ok(Self {
            n: rep.n,
            ua: rep.balanced_accuracy,
            wa: rep.accuracy,
            macro_f1: rep.macro_avg.f1,
            weighted_f1: rep.weighted_avg.f1,
            kappa: rep.kappa,
            ci,
            labels: labels.to_vec(),
            per_class,
            macro_avg: rep.macro_avg,
            weighted_avg: rep.weighted_avg,
            confusion: ConfusionReport {
                labels: labels.to_vec(),
                counts: rep.confusion.counts().to_vec(),
                normalized: rep.confusion.row_normalized(),
            },
            protocol,
            classes_absent_from_data,
            unmapped_labels: Vec::new(),
            skipped_files: Vec::new(),
            breakdown,
            by_corpus: Vec::new(),
        })
    }
}

/// Scores per distinct value of `key` (records without a value are left out), sorted by value.
fn group_scores(
    records: &[PredictionRecord],
    n_classes: usize,
    key: impl Fn(&PredictionRecord) -> Option<String>,
) -> Result<Vec<GroupScore>> {
    let mut groups: BTreeMap<String, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
    for r in records {
        if let Some(g) = key(r) {
            let entry = groups.entry(g).or_default();
            entry.0.push(r.true_index);
            entry.1.push(r.predicted_index);
        }
    }
    groups
        .into_iter()
        .map(|(group, (t, p))| {
            let rep = ClassificationReport::new(&t, &p, n_classes)?;
            Ok(GroupScore {
                group,
                n: t.len(),
                wa: rep.accuracy,
                ua: rep.balanced_accuracy,
                macro_f1: rep.macro_avg.f1,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(speaker: &str, t: usize, p: usize) -> PredictionRecord {
        PredictionRecord {
            id: format!("{speaker}-{t}-{p}"),
            corpus: String::new(),
            path: None,
            speaker: Some(speaker.into()),
            gender: None,
            intensity: Some(if t == 0 { "normal" } else { "strong" }.into()),
            true_label: t.to_string(),
            true_index: t,
            predicted_index: p,
            probabilities: vec![0.5, 0.5],
        }
    }

    #[test]
    fn builds_named_report_with_breakdowns() {
        let labels = vec!["calm".to_string(), "angry".to_string()];
        let records = vec![
            rec("01", 0, 0),
            rec("01", 1, 0),
            rec("02", 1, 1),
            rec("02", 0, 0),
        ];
        let r = EvalReport::build(
            &labels,
            &records,
            Protocol::default(),
            &BootstrapConfig::default(),
        )
        .unwrap();
        assert_eq!(r.n, 4);
        assert!((r.wa - 0.75).abs() < 1e-12);
        assert_eq!(r.per_class["angry"].support, 2);
        assert_eq!(r.by_actor_names(), vec!["01", "02"]);
        assert!((r.breakdown.by_actor[0].wa - 0.5).abs() < 1e-12);
        assert!(r.breakdown.by_gender.is_empty());
        assert_eq!(r.breakdown.by_intensity.len(), 2);
    }

    impl EvalReport {
        fn by_actor_names(&self) -> Vec<&str> {
            self.breakdown
                .by_actor
                .iter()
                .map(|g| g.group.as_str())
                .collect()
        }
    }

    #[test]
    fn overlap_check() {
        let mut p = Protocol {
            actors_evaluated: vec!["01".into(), "02".into()],
            training_actors: Some(vec!["02".into(), "03".into()]),
            ..Default::default()
        };
        p.check_overlap();
        assert_eq!(p.overlapping_actors, vec!["02"]);
        assert_eq!(p.speaker_independent, Some(false));
        p.training_actors = Some(vec!["03".into()]);
        p.check_overlap();
        assert_eq!(p.speaker_independent, Some(true));
        p.validation_actors = Some(vec!["01".into()]);
        p.check_overlap();
        assert_eq!(p.validation_overlap, vec!["01"]);
        assert_eq!(p.speaker_independent, Some(true));
        p.training_actors = None;
        p.check_overlap();
        assert_eq!(p.speaker_independent, None);
    }
}
