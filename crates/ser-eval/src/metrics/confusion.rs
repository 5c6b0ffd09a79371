//! Confusion matrices: counts, row-normalised rates and Cohen's kappa.

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result};

/// A square confusion matrix of counts.
///
/// # Conventions
///
/// Like scikit-learn's `confusion_matrix`, **rows are true classes and columns are predicted
/// classes**: `counts[i][j]` is the number of samples whose true class is `i` and that were
/// predicted as `j`. Every class index in `0..n_classes` has a row and a column, including
/// classes that never occur (the equivalent of passing `labels=range(n_classes)` to sklearn).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    counts: Vec<Vec<u64>>,
}

impl ConfusionMatrix {
    /// Counts `(y_true[k], y_pred[k])` pairs over `n_classes` classes.
    ///
    /// # Errors
    ///
    /// [`EvalError::LengthMismatch`] when the slices differ in length, [`EvalError::Empty`] when
    /// they are empty or `n_classes == 0`, [`EvalError::LabelOutOfRange`] for an index
    /// `>= n_classes`.
    pub fn new(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Result<Self> {
        validate(y_true, y_pred, n_classes)?;
        let mut counts = vec![vec![0u64; n_classes]; n_classes];
        for (&t, &p) in y_true.iter().zip(y_pred) {
            counts[t][p] += 1;
        }
        Ok(Self { counts })
    }

    /// Builds a matrix from counts (rows true, columns predicted).
    ///
    /// # Errors
    ///
    /// [`EvalError::Empty`] for no rows, [`EvalError::InvalidConfig`] when a row's length differs
    /// from the number of rows.
    pub fn from_counts(counts: Vec<Vec<u64>>) -> Result<Self> {
        if counts.is_empty() {
            return Err(EvalError::Empty {
                what: "the confusion matrix",
            });
        }
        let n = counts.len();
        if let Some(row) = counts.iter().find(|r| r.len() != n) {
            return Err(EvalError::InvalidConfig {
                field: "confusion matrix row length",
                value: row.len().to_string(),
                expected: "every row as long as the number of rows (a square matrix)",
            });
        }
        Ok(Self { counts })
    }

    /// Number of classes (rows = columns).
    pub fn n_classes(&self) -> usize {
        self.counts.len()
    }

    /// The counts, `[true][predicted]`.
    pub fn counts(&self) -> &[Vec<u64>] {
        &self.counts
    }

    /// Total number of samples.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// Samples whose true class is `class` (the row sum, sklearn's "support").
    pub fn support(&self, class: usize) -> u64 {
        self.counts[class].iter().sum()
    }

    /// Samples predicted as `class` (the column sum).
    pub fn predicted(&self, class: usize) -> u64 {
        self.counts.iter().map(|row| row[class]).sum()
    }

    /// Correct predictions of `class` (the diagonal entry).
    pub fn true_positives(&self, class: usize) -> u64 {
        self.counts[class][class]
    }

    /// Row-normalised matrix: each row divided by its sum, so entry `[i][j]` is the fraction
    /// of class `i` predicted as `j` and the diagonal is per-class recall.
    ///
    /// Rows of classes that never occur in `y_true` are all zeros, as in sklearn's
    /// `confusion_matrix(..., normalize="true")` (which turns the 0/0 into 0).
    pub fn row_normalized(&self) -> Vec<Vec<f64>> {
        self.counts
            .iter()
            .map(|row| {
                let sum: u64 = row.iter().sum();
                row.iter()
                    .map(|&c| if sum == 0 { 0.0 } else { c as f64 / sum as f64 })
                    .collect()
            })
            .collect()
    }

    /// Cohen's kappa between true and predicted labels (unweighted).
    ///
    /// `kappa = (p_o - p_e) / (1 - p_e)` with observed agreement `p_o = trace / n` and chance
    /// agreement `p_e = sum_i rowsum_i * colsum_i / n^2`. Computed the way sklearn's
    /// `cohen_kappa_score` does (`1 - sum(W*C) / sum(W*E)`, `W` = 1 off the diagonal) so that
    /// results agree to rounding.
    ///
    /// When chance agreement is total (`p_e == 1`: every true label and every prediction are the
    /// same single class) kappa is 0/0; we return `0.0`, the `zero_division=0` convention used
    /// for every other undefined metric here (sklearn returns NaN with a warning).
    pub fn cohen_kappa(&self) -> f64 {
        let n = self.total() as f64;
        if n == 0.0 {
            return 0.0;
        }
        let k = self.n_classes();
        let rows: Vec<f64> = (0..k).map(|i| self.support(i) as f64).collect();
        let cols: Vec<f64> = (0..k).map(|j| self.predicted(j) as f64).collect();
        let mut observed_disagreement = 0.0;
        let mut expected_disagreement = 0.0;
        for (i, (row, col_i)) in self.counts.iter().zip(&cols).enumerate() {
            for (j, (&count, row_j)) in row.iter().zip(&rows).enumerate() {
                if i != j {
                    observed_disagreement += count as f64;
                    // sklearn: expected = outer(colsum, rowsum) / n; W is symmetric so the
                    // orientation does not change the sum.
                    expected_disagreement += col_i * row_j / n;
                }
            }
        }
        if expected_disagreement == 0.0 {
            return 0.0;
        }
        1.0 - observed_disagreement / expected_disagreement
    }
}

/// Checks lengths, emptiness and label ranges (shared by every metric entry point).
pub(crate) fn validate(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Result<()> {
    if y_true.len() != y_pred.len() {
        return Err(EvalError::LengthMismatch {
            y_true: y_true.len(),
            y_pred: y_pred.len(),
        });
    }
    if y_true.is_empty() {
        return Err(EvalError::Empty { what: "y_true" });
    }
    if n_classes == 0 {
        return Err(EvalError::Empty {
            what: "the class list",
        });
    }
    for (which, ys) in [("y_true", y_true), ("y_pred", y_pred)] {
        if let Some((position, &value)) = ys.iter().enumerate().find(|&(_, &v)| v >= n_classes) {
            return Err(EvalError::LabelOutOfRange {
                which,
                position,
                value,
                n_classes,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_true_columns_are_predicted() {
        // sklearn: confusion_matrix([0, 0, 1], [1, 0, 1]) == [[1, 1], [0, 1]]
        let cm = ConfusionMatrix::new(&[0, 0, 1], &[1, 0, 1], 2).unwrap();
        assert_eq!(cm.counts(), &[vec![1, 1], vec![0, 1]]);
        assert_eq!(cm.support(0), 2);
        assert_eq!(cm.predicted(1), 2);
        assert_eq!(cm.total(), 3);
    }

    #[test]
    fn absent_class_has_zero_row_when_normalised() {
        let cm = ConfusionMatrix::new(&[0, 0], &[0, 2], 3).unwrap();
        let norm = cm.row_normalized();
        assert_eq!(norm[0], vec![0.5, 0.0, 0.5]);
        assert_eq!(norm[1], vec![0.0, 0.0, 0.0]);
        assert_eq!(norm[2], vec![0.0, 0.0, 0.0]);
    }

    #[test]
    fn kappa_matches_textbook_formula() {
        // Slow, obviously-right version: (p_o - p_e) / (1 - p_e).
        let y_true = [0, 1, 2, 2, 1, 0, 0, 2, 1, 1];
        let y_pred = [0, 2, 2, 2, 1, 0, 1, 2, 1, 0];
        let cm = ConfusionMatrix::new(&y_true, &y_pred, 3).unwrap();
        let n = y_true.len() as f64;
        let po = (0..3).map(|i| cm.counts()[i][i] as f64).sum::<f64>() / n;
        let pe = (0..3)
            .map(|i| cm.support(i) as f64 * cm.predicted(i) as f64)
            .sum::<f64>()
            / (n * n);
        let expected = (po - pe) / (1.0 - pe);
        assert!((cm.cohen_kappa() - expected).abs() < 1e-12);
    }

    #[test]
    fn kappa_undefined_is_zero() {
        let cm = ConfusionMatrix::new(&[1, 1, 1], &[1, 1, 1], 3).unwrap();
        assert_eq!(cm.cohen_kappa(), 0.0);
    }

    #[test]
    fn typed_errors() {
        assert!(matches!(
            ConfusionMatrix::new(&[0, 1], &[0], 2),
            Err(EvalError::LengthMismatch {
                y_true: 2,
                y_pred: 1
            })
        ));
        assert!(matches!(
            ConfusionMatrix::new(&[], &[], 2),
            Err(EvalError::Empty { .. })
        ));
        assert!(matches!(
            ConfusionMatrix::new(&[0, 1], &[0, 5], 2),
            Err(EvalError::LabelOutOfRange {
                which: "y_pred",
                position: 1,
                value: 5,
                n_classes: 2
            })
        ));
        assert!(matches!(
            ConfusionMatrix::from_counts(vec![vec![1, 2], vec![3]]),
            Err(EvalError::InvalidConfig { .. })
        ));
    }
}
