//! Cross-validation predictions pooled over folds: every clip is predicted by the one fold
//! model that never heard its speaker, so the pooled per-class precision/recall/F1 and the
//! confusion matrix are speaker-independent figures over the whole corpus.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result};
use crate::metrics::ClassificationReport;
use crate::report::ConfusionReport;

/// Per-class scores of the pooled held-out predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledClass {
    /// Class name.
    pub label: String,
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// F1.
    pub f1: f64,
    /// Clips of this class.
    pub support: u64,
}

/// The pooled report (`pooled.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledReport {
    /// Clips (all folds).
    pub n: usize,
    /// UA of the pooled predictions (differs slightly from the mean of the fold UAs).
    pub ua: f64,
    /// WA of the pooled predictions.
    pub wa: f64,
    /// Macro-F1 of the pooled predictions.
    pub macro_f1: f64,
    /// Per class, in label order.
    pub per_class: Vec<PooledClass>,
    /// Confusion matrix (rows true, columns predicted).
    pub confusion: ConfusionReport,
}

/// Reads `<out>/fold-<i>/predictions.csv` for `i` in `1..=folds` (columns `path, actor, true,
/// predicted, ...`, as `ser-eval` writes them) and scores them together.
pub fn pooled_report(out: &Path, folds: usize, labels: &[String]) -> Result<PooledReport> {
    let mut y_true = Vec::new();
    let mut y_pred = Vec::new();
    let index = |name: &str, path: &Path| {
        labels
            .iter()
            .position(|l| l == name)
            .ok_or_else(|| EvalError::BadPredictions {
                path: path.to_path_buf(),
                reason: format!(
                    "label `{name}` is not one of {}; was this fold evaluated with another \
                     label set? Delete the fold directory to redo it",
                    labels.join(", ")
                ),
            })
    };
    for fold in 1..=folds {
        let path = out.join(format!("fold-{fold}")).join("predictions.csv");
        let mut reader = csv::Reader::from_path(&path).map_err(|source| EvalError::Csv {
            path: path.clone(),
            source,
        })?;
        for row in reader.records() {
            let row = row.map_err(|source| EvalError::Csv {
                path: path.clone(),
                source,
            })?;
            y_true.push(index(row.get(2).unwrap_or_default(), &path)?);
            y_pred.push(index(row.get(3).unwrap_or_default(), &path)?);
        }
    }
    let rep = ClassificationReport::new(&y_true, &y_pred, labels.len())?;
    Ok(PooledReport {
        n: rep.n,
        ua: rep.balanced_accuracy,
        wa: rep.accuracy,
        macro_f1: rep.macro_avg.f1,
        per_class: labels
            .iter()
            .zip(&rep.per_class)
            .map(|(l, c)| PooledClass {
                label: l.clone(),
                precision: c.precision,
                recall: c.recall,
                f1: c.f1,
                support: c.support,
            })
            .collect(),
        confusion: ConfusionReport {
            labels: labels.to_vec(),
            counts: rep.confusion.counts().to_vec(),
            normalized: rep.confusion.row_normalized(),
        },
    })
}

/// Markdown: per-class table and confusion-matrix counts.
pub fn pooled_markdown(p: &PooledReport) -> String {
    let mut md = format!(
        "\nPooled held-out predictions of all folds (n = {}): UA {:.4}, WA {:.4}, macro-F1 {:.4}.\n\n\
         | class | precision | recall | F1 | support |\n|---|---|---|---|---|\n",
        p.n, p.ua, p.wa, p.macro_f1
    );
    for c in &p.per_class {
        let _ = writeln!(
            md,
            "| {} | {:.3} | {:.3} | {:.3} | {} |",
            c.label, c.precision, c.recall, c.f1, c.support
        );
    }
    let labels = &p.confusion.labels;
    let _ = write!(
        md,
        "\nConfusion matrix (rows true, columns predicted):\n\n| true \\ predicted |"
    );
    for l in labels {
        let _ = write!(md, " {l} |");
    }
    let _ = write!(md, "\n|---|");
    for _ in labels {
        md.push_str("---|");
    }
    md.push('\n');
    for (l, row) in labels.iter().zip(&p.confusion.counts) {
        let _ = write!(md, "| **{l}** |");
        for c in row {
            let _ = write!(md, " {c} |");
        }
        md.push('\n');
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_every_fold_and_names_a_bad_label() {
        let tmp = tempfile::tempdir().unwrap();
        let labels: Vec<String> = ["a", "b"].map(String::from).to_vec();
        for (fold, rows) in [(1, "x,01,a,a\ny,01,b,a\n"), (2, "z,02,b,b\nw,02,a,a\n")] {
            let dir = tmp.path().join(format!("fold-{fold}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                dir.join("predictions.csv"),
                format!("path,actor,true,predicted\n{rows}"),
            )
            .unwrap();
        }
        let p = pooled_report(tmp.path(), 2, &labels).unwrap();
        assert_eq!(p.n, 4);
        assert_eq!(p.confusion.counts, vec![vec![2, 0], vec![1, 1]]);
        assert!((p.ua - 0.75).abs() < 1e-12);
        assert!(pooled_markdown(&p).contains("| **b** | 1 | 1 |"));

        std::fs::write(
            tmp.path().join("fold-2").join("predictions.csv"),
            "path,actor,true,predicted\nz,02,c,b\n",
        )
        .unwrap();
        let err = pooled_report(tmp.path(), 2, &labels)
            .unwrap_err()
            .to_string();
        assert!(err.contains("fold-2") && err.contains('c'), "{err}");
    }
}
