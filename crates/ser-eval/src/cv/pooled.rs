//! Cross-validation predictions pooled over folds: every clip is predicted by the one fold
//! model that never heard its speaker, so the pooled report (per-class precision/recall/F1,
//! confusion matrix, bootstrap CIs, per-actor scores) is a speaker-independent figure over the
//! whole corpus. It is an ordinary [`EvalReport`], built by [`EvalReport::build`] from the
//! folds' `predictions.csv` files.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::corpora::corpus_scores;
use crate::error::{EvalError, Result};
use crate::output::PREDICTIONS_FILE;
use crate::report::{EvalReport, PredictionRecord, Protocol};

use super::layout::fold_dir;
use super::summary::CvSummary;

/// Reads `<out>/fold-<i>/predictions.csv` of every fold of `summary` (as `ser-eval` writes
/// them: `path, actor, true, predicted, prob_<label>...`) and scores them together over
/// `labels` with the run's bootstrap settings.
///
/// # Errors
///
/// [`EvalError::Csv`] for an unreadable file, [`EvalError::BadPredictions`] for a missing
/// column, a label outside `labels`, or a clip whose actor its fold model trained on (the
/// pooled figure would then not be speaker-independent).
pub fn pooled_report(out: &Path, summary: &CvSummary, labels: &[String]) -> Result<EvalReport> {
    let mut records = Vec::new();
    for fold in &summary.folds {
        let path = fold_dir(out, fold.fold).join(PREDICTIONS_FILE);
        let before = records.len();
        read_predictions(&path, labels, &mut records)?;
        if let Some(r) = records[before..].iter().find(|r| {
            r.speaker
                .as_ref()
                .is_some_and(|s| fold.train_actors.contains(s))
        }) {
            return Err(bad(
                &path,
                format!(
                    "{} is by actor {}, whom fold {} trained on; delete the fold directory to \
                     redo it",
                    r.id,
                    r.speaker.as_deref().unwrap_or_default(),
                    fold.fold
                ),
            ));
        }
    }
    let mut protocol = Protocol {
        model: format!(
            "{} cross-validation fold models, pooled (each clip predicted by the model whose \
             training actors exclude its actor)",
            summary.config.model_type
        ),
        data: summary.config.data.clone(),
        actors_evaluated: records
            .iter()
            .filter_map(|r| r.speaker.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        ..Protocol::default()
    };
    // Checked per fold above; no single training set describes the pooled predictions.
    protocol.speaker_independent = Some(true);
    let mut report = EvalReport::build(labels, &records, protocol, &summary.config.bootstrap)?;
    if !summary.config.corpora.is_empty() {
        let names: Vec<String> = summary
            .config
            .corpora
            .iter()
            .map(|c| c.name.clone())
            .collect();
        report.by_corpus = corpus_scores(labels, &records, &names)?;
    }
    Ok(report)
}

fn bad(path: &Path, reason: String) -> EvalError {
    EvalError::BadPredictions {
        path: path.to_path_buf(),
        reason,
    }
}

/// Appends the rows of one `predictions.csv`, columns found by header name.
pub(super) fn read_predictions(
    path: &Path,
    labels: &[String],
    out: &mut Vec<PredictionRecord>,
) -> Result<()> {
    let csv_err = |source| EvalError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = csv::Reader::from_path(path).map_err(csv_err)?;
    let header = reader.headers().map_err(csv_err)?.clone();
    let column = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            bad(
                path,
                format!(
                    "no `{name}` column (found: {})",
                    header.iter().collect::<Vec<_>>().join(", ")
                ),
            )
        })
    };
    let (c_path, c_actor, c_true, c_pred) = (
        column("path")?,
        column("actor")?,
        column("true")?,
        column("predicted")?,
    );
    let c_probs = labels
        .iter()
        .map(|l| column(&format!("prob_{l}")))
        .collect::<Result<Vec<_>>>()?;
    let index = |name: &str| {
        labels.iter().position(|l| l == name).ok_or_else(|| {
            bad(
                path,
                format!(
                    "label `{name}` is not one of {}; was this fold evaluated with another \
                     label set? Delete the fold directory to redo it",
                    labels.join(", ")
                ),
            )
        })
    };
    for row in reader.records() {
        let row = row.map_err(csv_err)?;
        let field = |c: usize| row.get(c).unwrap_or_default();
        let probabilities = c_probs
            .iter()
            .map(|&c| {
                field(c)
                    .parse::<f32>()
                    .map_err(|e| bad(path, format!("probability `{}`: {e}", field(c))))
            })
            .collect::<Result<Vec<_>>>()?;
        let speaker = Some(field(c_actor))
            .filter(|s| !s.is_empty())
            .map(String::from);
        // Several corpora: speakers are namespaced `corpus:speaker`.
        let corpus = ravdess_loader::speaker::split(field(c_actor))
            .0
            .unwrap_or_default()
            .to_string();
        out.push(PredictionRecord {
            id: field(c_path).to_string(),
            corpus,
            path: Some(PathBuf::from(field(c_path))),
            speaker,
            gender: None,
            intensity: None,
            true_label: field(c_true).to_string(),
            true_index: index(field(c_true))?,
            predicted_index: index(field(c_pred))?,
            probabilities,
        });
    }
    Ok(())
}

/// Markdown for `cv.md`: pooled scores, per-class table and confusion-matrix counts.
pub fn pooled_markdown(r: &EvalReport) -> String {
    // The report's macro-F1 averages every model class, one the data lacks counting as F1 0
    // (EMO-DB has 6 of the 8): said beside the figure, which otherwise reads far below the
    // folds' (those of a `--test-corpus` run average that corpus's labels) and the per-corpus
    // rows below.
    let f1_over = match r.classes_absent_from_data.len() {
        0 => String::new(),
        absent => format!(
            " (over all {} model classes; the {absent} without clips here, {}, count as F1 \
             0{})",
            r.labels.len(),
            r.classes_absent_from_data.join(", "),
            // Only a run over several corpora has per-corpus rows to point to.
            if r.by_corpus.is_empty() {
                ""
            } else {
                ": see the per-corpus rows for the labels the data has"
            }
        ),
    };
    let mut md = format!(
        "\nPooled held-out predictions of all folds (n = {}): UA {:.4}, WA {:.4}, macro-F1 {:.4}{f1_over}.\n\n\
         | class | precision | recall | F1 | support |\n|---|---|---|---|---|\n",
        r.n, r.ua, r.wa, r.macro_f1
    );
    for label in &r.labels {
        if let Some(c) = r.per_class.get(label) {
            let _ = writeln!(
                md,
                "| {label} | {:.3} | {:.3} | {:.3} | {} |",
                c.precision, c.recall, c.f1, c.support
            );
        }
    }
    if !r.by_corpus.is_empty() {
        md.push_str(
            "\nPooled, by corpus (UA and macro-F1 over the labels each corpus has):\n\n\
             | corpus | labels | n | UA | WA | macro-F1 |\n|---|---|---|---|---|---|\n",
        );
        for c in &r.by_corpus {
            let _ = writeln!(
                md,
                "| {} | {} ({}) | {} | {:.4} | {:.4} | {:.4} |",
                c.corpus,
                c.labels.len(),
                c.labels.join(", "),
                c.n,
                c.ua,
                c.wa,
                c.macro_f1
            );
        }
    }
    let labels = &r.confusion.labels;
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
    for (l, row) in labels.iter().zip(&r.confusion.counts) {
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
    use crate::cv::layout::test_support::two_folds;

    fn summary() -> CvSummary {
        two_folds(0, 0.0)
    }

    fn write_fold(root: &Path, fold: usize, rows: &str) {
        let dir = fold_dir(root, fold);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(PREDICTIONS_FILE),
            format!("path,actor,true,predicted,prob_a,prob_b\n{rows}"),
        )
        .unwrap();
    }

    #[test]
    fn pools_every_fold_and_names_a_bad_label() {
        let tmp = tempfile::tempdir().unwrap();
        let labels: Vec<String> = ["a", "b"].map(String::from).to_vec();
        let s = summary();
        write_fold(tmp.path(), 1, "x,01,a,a,0.9,0.1\ny,01,b,a,0.6,0.4\n");
        write_fold(tmp.path(), 2, "z,02,b,b,0.2,0.8\nw,02,a,a,0.7,0.3\n");
        let p = pooled_report(tmp.path(), &s, &labels).unwrap();
        assert_eq!(p.n, 4);
        assert_eq!(p.confusion.counts, vec![vec![2, 0], vec![1, 1]]);
        assert!((p.ua - 0.75).abs() < 1e-12);
        assert_eq!(p.protocol.actors_evaluated, vec!["01", "02"]);
        assert_eq!(p.protocol.speaker_independent, Some(true));
        let md = pooled_markdown(&p);
        assert!(md.contains("| **b** | 1 | 1 |"));
        assert!(
            !md.contains("count as F1 0"),
            "both classes have clips: {md}"
        );

        // A class without clips (EMO-DB lacks two of the eight): the line says what its
        // macro-F1 averages.
        write_fold(tmp.path(), 2, "z,02,a,b,0.2,0.8\nw,02,a,a,0.7,0.3\n");
        write_fold(tmp.path(), 1, "x,01,a,a,0.9,0.1\n");
        let md = pooled_markdown(&pooled_report(tmp.path(), &s, &labels).unwrap());
        assert!(
            md.contains("over all 2 model classes; the 1 without clips here, b, count as F1 0"),
            "{md}"
        );

        write_fold(tmp.path(), 2, "z,02,c,b,0.2,0.8\n");
        let err = pooled_report(tmp.path(), &s, &labels)
            .unwrap_err()
            .to_string();
        assert!(err.contains("fold-2") && err.contains('c'), "{err}");
    }

    #[test]
    fn refuses_a_clip_whose_actor_its_fold_trained_on() {
        let tmp = tempfile::tempdir().unwrap();
        let labels: Vec<String> = ["a", "b"].map(String::from).to_vec();
        write_fold(tmp.path(), 1, "x,02,a,a,0.9,0.1\n");
        write_fold(tmp.path(), 2, "z,02,b,b,0.2,0.8\n");
        let err = pooled_report(tmp.path(), &summary(), &labels)
            .unwrap_err()
            .to_string();
        assert!(err.contains("fold-1") && err.contains("actor 02"), "{err}");
    }
}
