//! Per-class precision/recall/F1 and the summary scores (WA, UA, macro/weighted F1, kappa).

use serde::{Deserialize, Serialize};

use super::confusion::ConfusionMatrix;
use crate::error::Result;

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// `tp / (tp + fp)`; `0.0` when the class is never predicted.
    pub precision: f64,
    /// `tp / (tp + fn)`; `0.0` when the class never occurs in `y_true`.
    pub recall: f64,
    /// `2 tp / (2 tp + fp + fn)` (the harmonic mean of precision and recall); `0.0` when the
    /// class neither occurs nor is predicted.
    pub f1: f64,
    /// Number of samples whose true class is this one.
    pub support: u64,
}

/// Averaged precision, recall and F1 (sklearn's "macro avg" / "weighted avg" rows).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Averages {
    /// Averaged precision.
    pub precision: f64,
    /// Averaged recall.
    pub recall: f64,
    /// Averaged F1 (the average of per-class F1, not the F1 of averaged P and R).
    pub f1: f64,
}

/// Everything sklearn's `classification_report` reports, plus UA and Cohen's kappa.
///
/// See the crate-level "Conventions" section for how classes that never occur or are never
/// predicted are treated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Number of samples.
    pub n: usize,
    /// WA, weighted accuracy: the fraction of samples classified correctly (sklearn
    /// `accuracy_score`).
    pub accuracy: f64,
    /// UA, unweighted accuracy: mean per-class recall over the classes that occur in `y_true`
    /// (sklearn `balanced_accuracy_score`).
    pub balanced_accuracy: f64,
    /// Per-class metrics, indexed by class.
    pub per_class: Vec<ClassMetrics>,
    /// Unweighted mean over **all** classes `0..n_classes` (sklearn `average="macro"` with
    /// `labels=range(n_classes)`).
    pub macro_avg: Averages,
    /// Mean over all classes weighted by support (sklearn `average="weighted"`).
    pub weighted_avg: Averages,
    /// Cohen's kappa (see [`ConfusionMatrix::cohen_kappa`]).
    pub kappa: f64,
    /// The confusion matrix the report was computed from.
    pub confusion: ConfusionMatrix,
}

impl ClassificationReport {
    /// Computes the report for class indices in `0..n_classes`.
    ///
    /// # Errors
    ///
    /// As [`ConfusionMatrix::new`]: length mismatch, empty input, label out of range.
    pub fn new(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Result<Self> {
        Ok(Self::from_confusion(ConfusionMatrix::new(
            y_true, y_pred, n_classes,
        )?))
    }

    /// Computes the report from a confusion matrix (rows true, columns predicted).
    pub fn from_confusion(confusion: ConfusionMatrix) -> Self {
        let k = confusion.n_classes();
        let total = confusion.total();
        let per_class: Vec<ClassMetrics> = (0..k).map(|c| class_metrics(&confusion, c)).collect();

        let correct: u64 = (0..k).map(|c| confusion.true_positives(c)).sum();
        let accuracy = ratio(correct, total);
        let balanced_accuracy = balanced_accuracy(&per_class);

        let macro_avg = Averages {
            precision: mean(per_class.iter().map(|m| m.precision)),
            recall: mean(per_class.iter().map(|m| m.recall)),
            f1: mean(per_class.iter().map(|m| m.f1)),
        };
        let weighted = |f: fn(&ClassMetrics) -> f64| {
            if total == 0 {
                0.0
            } else {
                per_class
                    .iter()
                    .map(|m| f(m) * m.support as f64)
                    .sum::<f64>()
                    / total as f64
            }
        };
        let weighted_avg = Averages {
            precision: weighted(|m| m.precision),
            recall: weighted(|m| m.recall),
            f1: weighted(|m| m.f1),
        };
        let kappa = confusion.cohen_kappa();
        Self {
            n: usize::try_from(total).unwrap_or(usize::MAX),
            accuracy,
            balanced_accuracy,
            per_class,
            macro_avg,
            weighted_avg,
            kappa,
            confusion,
        }
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.per_class.len()
    }

    /// Indices of classes that never occur in `y_true` (support 0): their recall is undefined,
    /// reported as 0 and left out of UA.
    pub fn classes_absent_from_truth(&self) -> Vec<usize> {
        (0..self.n_classes())
            .filter(|&c| self.per_class[c].support == 0)
            .collect()
    }

    /// Indices of classes that are never predicted: their precision is undefined, reported as 0.
    pub fn classes_never_predicted(&self) -> Vec<usize> {
        (0..self.n_classes())
            .filter(|&c| self.confusion.predicted(c) == 0)
            .collect()
    }
}

/// Precision, recall, F1 and support of `class`, with `zero_division = 0`.
fn class_metrics(cm: &ConfusionMatrix, class: usize) -> ClassMetrics {
    let tp = cm.true_positives(class);
    let support = cm.support(class);
    let predicted = cm.predicted(class);
    // 2tp + fp + fn = predicted + support. sklearn >= 1.3 computes F1 this way too, so a class
    // with P or R undefined gets F1 = 0 rather than NaN.
    ClassMetrics {
        precision: ratio(tp, predicted),
        recall: ratio(tp, support),
        f1: ratio(2 * tp, predicted + support),
        support,
    }
}

/// Mean recall over classes with support > 0 (sklearn `balanced_accuracy_score`, which drops
/// the NaN recalls of classes absent from `y_true`).
fn balanced_accuracy(per_class: &[ClassMetrics]) -> f64 {
    mean(per_class.iter().filter(|m| m.support > 0).map(|m| m.recall))
}

/// `num / den`, or `0.0` when `den == 0` (sklearn's `zero_division=0`).
pub(crate) fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Arithmetic mean, `0.0` for no values.
fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
    if count == 0 { 0.0 } else { sum / count as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slow, obviously-right per-class metrics straight from the definitions.
    fn reference(y_true: &[usize], y_pred: &[usize], c: usize) -> (f64, f64, f64) {
        let tp = y_true
            .iter()
            .zip(y_pred)
            .filter(|&(&t, &p)| t == c && p == c)
            .count() as f64;
        let fp = y_true
            .iter()
            .zip(y_pred)
            .filter(|&(&t, &p)| t != c && p == c)
            .count() as f64;
        let fn_ = y_true
            .iter()
            .zip(y_pred)
            .filter(|&(&t, &p)| t == c && p != c)
            .count() as f64;
        let p = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
        let r = if tp + fn_ > 0.0 { tp / (tp + fn_) } else { 0.0 };
        let f = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        (p, r, f)
    }

    #[test]
    fn matches_definitions_over_many_random_cases() {
        // Fixed-seed sweep over sizes and class counts (RustFFT-style accuracy test).
        let mut rng = ser_audio::rng::SplitMix64::new(0x5E7_E7A1);
        for n_classes in 1..=9 {
            for n in [1usize, 2, 3, 7, 20, 101] {
                let y_true: Vec<usize> = (0..n).map(|_| rng.below(n_classes)).collect();
                // Mostly-correct predictions so metrics are not all near chance.
                let y_pred: Vec<usize> = y_true
                    .iter()
                    .map(|&t| {
                        if rng.below(3) == 0 {
                            rng.below(n_classes)
                        } else {
                            t
                        }
                    })
                    .collect();
                let rep = ClassificationReport::new(&y_true, &y_pred, n_classes).unwrap();
                let correct = y_true.iter().zip(&y_pred).filter(|(t, p)| t == p).count();
                assert!((rep.accuracy - correct as f64 / n as f64).abs() < 1e-12);
                let mut recalls = Vec::new();
                for c in 0..n_classes {
                    let (p, r, f) = reference(&y_true, &y_pred, c);
                    let m = rep.per_class[c];
                    assert!((m.precision - p).abs() < 1e-12, "precision {c}");
                    assert!((m.recall - r).abs() < 1e-12, "recall {c}");
                    assert!((m.f1 - f).abs() < 1e-12, "f1 {c}");
                    if y_true.contains(&c) {
                        recalls.push(r);
                    }
                }
                let ua = recalls.iter().sum::<f64>() / recalls.len() as f64;
                assert!((rep.balanced_accuracy - ua).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn absent_and_never_predicted_classes_are_listed() {
        let rep = ClassificationReport::new(&[0, 0, 1], &[0, 2, 2], 4).unwrap();
        assert_eq!(rep.classes_absent_from_truth(), vec![2, 3]);
        assert_eq!(rep.classes_never_predicted(), vec![1, 3]);
        // UA averages classes 0 and 1 only: (1/2 + 0) / 2.
        assert!((rep.balanced_accuracy - 0.25).abs() < 1e-12);
        // Macro recall averages all four classes: (1/2 + 0 + 0 + 0) / 4.
        assert!((rep.macro_avg.recall - 0.125).abs() < 1e-12);
    }
}
