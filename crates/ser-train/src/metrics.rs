//! Classification metrics used for early stopping and the artifact: UA (unweighted accuracy =
//! mean per-class recall, the usual SER headline number because emotion classes are
//! imbalanced), WA (weighted accuracy = plain accuracy) and the confusion matrix.

use serde::{Deserialize, Serialize};

/// Metrics of predictions against targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Unweighted accuracy: mean recall over classes that occur in the targets.
    pub ua: f64,
    /// Weighted accuracy: fraction correct.
    pub wa: f64,
    /// Recall per class (label order; `None` when the class does not occur).
    pub recall: Vec<Option<f64>>,
    /// `confusion[true][pred]` counts.
    pub confusion: Vec<Vec<usize>>,
    /// Number of examples.
    pub n: usize,
}

impl Metrics {
    /// Computes metrics for `n_classes` classes.
    pub fn compute(targets: &[usize], preds: &[usize], n_classes: usize) -> Self {
        let mut confusion = vec![vec![0usize; n_classes]; n_classes];
        for (&t, &p) in targets.iter().zip(preds) {
            if t < n_classes && p < n_classes {
                confusion[t][p] += 1;
            }
        }
        let recall: Vec<Option<f64>> = confusion
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let total: usize = row.iter().sum();
                (total > 0).then(|| row[i] as f64 / total as f64)
            })
            .collect();
        let present: Vec<f64> = recall.iter().flatten().copied().collect();
        let ua = if present.is_empty() {
            0.0
        } else {
            present.iter().sum::<f64>() / present.len() as f64
        };
        let correct = targets.iter().zip(preds).filter(|(t, p)| t == p).count();
        let n = targets.len();
        Self {
            ua,
            wa: if n == 0 {
                0.0
            } else {
                correct as f64 / n as f64
            },
            recall,
            confusion,
            n,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ua_weights_classes_equally() {
        // sklearn: balanced_accuracy_score([0,0,0,0,1,1],[0,0,0,0,0,1]) = (1 + 0.5) / 2 = 0.75
        // accuracy_score(...) = 5 / 6
        let m = Metrics::compute(&[0, 0, 0, 0, 1, 1], &[0, 0, 0, 0, 0, 1], 3);
        assert!((m.ua - 0.75).abs() < 1e-12);
        assert!((m.wa - 5.0 / 6.0).abs() < 1e-12);
        assert_eq!(m.recall[2], None);
        assert_eq!(m.confusion[1], vec![1, 1, 0]);
    }
}
