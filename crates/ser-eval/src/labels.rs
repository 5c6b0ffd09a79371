//! Mapping a corpus's label names onto a model's classes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result};

/// A data label the model has no class for, and how many utterances carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmappedLabel {
    /// The label as found in the data.
    pub label: String,
    /// Number of utterances with this label (they are left out of the evaluation).
    pub count: usize,
}

/// Maps data labels to model class indices by name, case-insensitively.
///
/// Cross-corpus evaluation is the reason this exists: a corpus labelled `Angry`, `Happy`,
/// `Bored` evaluated with a RAVDESS model maps `angry` and `happy` and reports `bored` as
/// unmapped (those utterances are excluded and counted, never silently relabelled).
#[derive(Debug, Clone)]
pub struct LabelMap {
    model_labels: Vec<String>,
    lookup: BTreeMap<String, usize>,
}

impl LabelMap {
    /// A map onto `model_labels` (the model's classes, in output order).
    pub fn new(model_labels: &[String]) -> Self {
        let lookup = model_labels
            .iter()
            .enumerate()
            .map(|(i, l)| (normalize(l), i))
            .collect();
        Self {
            model_labels: model_labels.to_vec(),
            lookup,
        }
    }

    /// The model class index of a data label, if any.
    pub fn index(&self, data_label: &str) -> Option<usize> {
        self.lookup.get(&normalize(data_label)).copied()
    }

    /// The model's labels, in class order.
    pub fn model_labels(&self) -> &[String] {
        &self.model_labels
    }

    /// Maps every label; returns the index per label (`None` = unmapped) and the unmapped labels
    /// with counts.
    ///
    /// # Errors
    ///
    /// [`EvalError::Empty`] for no labels, [`EvalError::LabelsDoNotMatch`] when not one label
    /// maps: the data and the model use different label sets, and any number computed would be
    /// meaningless.
    pub fn map_all<'a>(
        &self,
        data_labels: impl IntoIterator<Item = &'a str>,
    ) -> Result<(Vec<Option<usize>>, Vec<UnmappedLabel>)> {
        let mut unmapped: BTreeMap<String, usize> = BTreeMap::new();
        let mut mapped = Vec::new();
        for label in data_labels {
            let idx = self.index(label);
            if idx.is_none() {
                *unmapped.entry(label.to_string()).or_default() += 1;
            }
            mapped.push(idx);
        }
        if mapped.is_empty() {
            return Err(EvalError::Empty {
                what: "the list of utterances",
            });
        }
        if mapped.iter().all(Option::is_none) {
            return Err(EvalError::LabelsDoNotMatch {
                data_labels: unmapped.into_keys().collect(),
                model_labels: self.model_labels.clone(),
            });
        }
        let unmapped = unmapped
            .into_iter()
            .map(|(label, count)| UnmappedLabel { label, count })
            .collect();
        Ok((mapped, unmapped))
    }
}

fn normalize(label: &str) -> String {
    label.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> LabelMap {
        LabelMap::new(&["neutral".into(), "Angry".into(), "happy".into()])
    }

    #[test]
    fn maps_case_insensitively_and_reports_unmapped() {
        let (idx, unmapped) = model()
            .map_all(["ANGRY", "happy", "bored", "bored", " Neutral "])
            .unwrap();
        assert_eq!(idx, vec![Some(1), Some(2), None, None, Some(0)]);
        assert_eq!(
            unmapped,
            vec![UnmappedLabel {
                label: "bored".into(),
                count: 2
            }]
        );
    }

    #[test]
    fn nothing_maps_is_an_error_naming_both_sets() {
        let err = model().map_all(["dog", "cat"]).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, EvalError::LabelsDoNotMatch { .. }));
        assert!(msg.contains("do not match") && msg.contains("cat") && msg.contains("neutral"));
    }

    #[test]
    fn empty_is_an_error() {
        assert!(matches!(model().map_all([]), Err(EvalError::Empty { .. })));
    }
}
