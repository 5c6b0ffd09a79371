//! Writing an evaluation to a directory: report.json, report.csv, predictions.csv,
//! breakdown.csv and the confusion-matrix images.

use std::path::{Path, PathBuf};

use crate::error::{EvalError, Result};
use crate::evaluate::Evaluation;
use crate::fsutil::write_atomic;
use crate::plot::{confusion_png, confusion_svg};
use crate::render::{csv_string, json_string, predictions_csv};
use crate::report::EvalReport;

/// The per-utterance predictions file (see [`predictions_csv`]). Cross-validation reads it back
/// from every fold to pool the folds and to combine runs, so every reader names it through this.
pub const PREDICTIONS_FILE: &str = "predictions.csv";

/// File names written by [`write_outputs`], in writing order.
pub const OUTPUT_FILES: [&str; 6] = [
    "report.json",
    "report.csv",
    PREDICTIONS_FILE,
    "breakdown.csv",
    "confusion.png",
    "confusion.svg",
];

/// Writes every output file into `dir` (created if needed), each atomically. Returns the paths.
///
/// # Errors
///
/// [`EvalError::Io`], [`EvalError::Csv`] or [`EvalError::Plot`] naming the file.
pub fn write_outputs(dir: &Path, eval: &Evaluation) -> Result<Vec<PathBuf>> {
    let report = &eval.report;
    let path = |name: &str| dir.join(name);
    write_atomic(&path("report.json"), json_string(report)?.as_bytes())?;
    write_atomic(&path("report.csv"), csv_string(report)?.as_bytes())?;
    write_atomic(
        &path(PREDICTIONS_FILE),
        predictions_csv(&report.labels, &eval.records)?.as_bytes(),
    )?;
    write_atomic(&path("breakdown.csv"), breakdown_csv(report)?.as_bytes())?;
    let title = format!(
        "UA {:.1}%  WA {:.1}%  n = {}",
        100.0 * report.ua,
        100.0 * report.wa,
        report.n
    );
    confusion_png(&path("confusion.png"), &report.confusion, &title)?;
    confusion_svg(&path("confusion.svg"), &report.confusion, &title)?;
    Ok(OUTPUT_FILES.iter().map(|n| path(n)).collect())
}

/// `by,group,n,wa,ua,macro_f1` rows for every actor, gender and intensity group, and for
/// every corpus when several were evaluated (`by` = `corpus`; UA and macro-F1 over the
/// corpus's own labels).
///
/// # Errors
///
/// [`EvalError::Csv`] if serialising fails.
pub fn breakdown_csv(report: &EvalReport) -> Result<String> {
    let err = |source| EvalError::Csv {
        path: "breakdown.csv".into(),
        source,
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["by", "group", "n", "wa", "ua", "macro_f1"])
        .map_err(err)?;
    for (by, groups) in [
        ("actor", &report.breakdown.by_actor),
        ("gender", &report.breakdown.by_gender),
        ("intensity", &report.breakdown.by_intensity),
    ] {
        for g in groups {
            w.write_record([
                by.to_string(),
                g.group.clone(),
                g.n.to_string(),
                g.wa.to_string(),
                g.ua.to_string(),
                g.macro_f1.to_string(),
            ])
            .map_err(err)?;
        }
    }
    for c in &report.by_corpus {
        w.write_record([
            "corpus".to_string(),
            c.corpus.clone(),
            c.n.to_string(),
            c.wa.to_string(),
            c.ua.to_string(),
            c.macro_f1.to_string(),
        ])
        .map_err(err)?;
    }
    let bytes = w.into_inner().map_err(|e| EvalError::Io {
        action: "flushing CSV for",
        path: "breakdown.csv".into(),
        source: e.into_error(),
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
