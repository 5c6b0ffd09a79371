//! Rendering an [`EvalReport`]: terminal table, CSV, JSON, predictions CSV.

use std::fmt::Write as _;

use crate::corpora::CorpusScore;
use crate::error::{EvalError, Result};
use crate::report::{EvalReport, GroupScore, PredictionRecord};

/// Digits after the decimal point in the terminal table (sklearn's `digits` argument).
const DIGITS: usize = 4;

/// The warning printed (and embedded in reports) when tested speakers were seen in training.
pub fn overlap_warning(report: &EvalReport) -> Option<String> {
    if report.protocol.speaker_independent != Some(false) {
        return None;
    }
    let bar = "!".repeat(78);
    Some(format!(
        "{bar}\n!! WARNING: actors {} were in this model's TRAINING set.\n!! These numbers are \
         NOT speaker-independent and are not a result: evaluate on held-out actors\n!! \
         (pass --actors with actors the model never saw).\n{bar}",
        report.protocol.overlapping_actors.join(", ")
    ))
}

/// A note when evaluated actors were the model's validation (early-stopping) actors.
pub fn validation_note(report: &EvalReport) -> Option<String> {
    let v = &report.protocol.validation_overlap;
    (!v.is_empty()).then(|| {
        format!(
            "actors {} were this model's validation actors (used for early stopping, not \
             trained on): their scores are optimistic",
            v.join(", ")
        )
    })
}

/// A classification report in the layout of sklearn's `classification_report`, followed by
/// UA/WA/kappa with confidence intervals, the confusion matrix, breakdowns and the protocol.
pub fn table(report: &EvalReport) -> String {
    let mut s = String::new();
    if let Some(w) = overlap_warning(report) {
        let _ = writeln!(s, "{w}\n");
    }
    let width = report
        .labels
        .iter()
        .map(|l| l.chars().count())
        .chain(["weighted avg".len()])
        .max()
        .unwrap_or(12);
    let d = DIGITS;
    let _ = writeln!(
        s,
        "{:>width$} {:>9} {:>9} {:>9} {:>9}\n",
        "", "precision", "recall", "f1-score", "support"
    );
    for label in &report.labels {
        if let Some(m) = report.per_class.get(label) {
            let _ = writeln!(
                s,
                "{label:>width$} {:>9.d$} {:>9.d$} {:>9.d$} {:>9}",
                m.precision, m.recall, m.f1, m.support
            );
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:>width$} {:>9} {:>9} {:>9.d$} {:>9}",
        "accuracy", "", "", report.wa, report.n
    );
    for (name, a) in [
        ("macro avg", report.macro_avg),
        ("weighted avg", report.weighted_avg),
    ] {
        let _ = writeln!(
            s,
            "{name:>width$} {:>9.d$} {:>9.d$} {:>9.d$} {:>9}",
            a.precision, a.recall, a.f1, report.n
        );
    }
    let pct = report.ci.config.confidence * 100.0;
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "UA (balanced accuracy) {:.d$}   {pct:.0}% CI [{:.d$}, {:.d$}]",
        report.ua, report.ci.ua.low, report.ci.ua.high
    );
    let _ = writeln!(s, "WA (accuracy)          {:.d$}", report.wa);
    let _ = writeln!(
        s,
        "macro-F1               {:.d$}   {pct:.0}% CI [{:.d$}, {:.d$}]",
        report.macro_f1, report.ci.macro_f1.low, report.ci.macro_f1.high
    );
    let _ = writeln!(s, "weighted-F1            {:.d$}", report.weighted_f1);
    let _ = writeln!(s, "Cohen's kappa          {:.d$}", report.kappa);
    let _ = writeln!(
        s,
        "(bootstrap: {} resamples of files, seed {})",
        report.ci.config.resamples, report.ci.config.seed
    );

    let _ = writeln!(s, "\nConfusion matrix (rows = true, columns = predicted):");
    s.push_str(&confusion_text(report, width));

    if !report.by_corpus.is_empty() {
        let _ = writeln!(
            s,
            "\nBy corpus (UA and macro-F1 over the labels each corpus has):"
        );
        s.push_str(&corpus_text(&report.by_corpus));
    }
    for (title, groups) in [
        ("actor", &report.breakdown.by_actor),
        ("gender", &report.breakdown.by_gender),
        ("intensity", &report.breakdown.by_intensity),
    ] {
        if !groups.is_empty() {
            let _ = writeln!(s, "\nBy {title}:");
            s.push_str(&groups_text(title, groups));
        }
    }
    s.push_str(&notes_text(report));
    s
}

/// The per-corpus rows: n, UA over the corpus's labels (how many), WA, macro-F1.
pub fn corpus_text(rows: &[CorpusScore]) -> String {
    let width = rows
        .iter()
        .map(|r| r.corpus.chars().count())
        .chain(["corpus".len()])
        .max()
        .unwrap_or(6);
    let mut s = format!(
        "{:>width$} {:>6} {:>8} {:>8} {:>8} {:>9}\n",
        "corpus", "n", "labels", "UA", "WA", "macro-F1"
    );
    for r in rows {
        let _ = writeln!(
            s,
            "{:>width$} {:>6} {:>8} {:>8.4} {:>8.4} {:>9.4}",
            r.corpus,
            r.n,
            r.labels.len(),
            r.ua,
            r.wa,
            r.macro_f1
        );
    }
    s
}

fn confusion_text(report: &EvalReport, width: usize) -> String {
    let mut s = String::new();
    let col = report
        .labels
        .iter()
        .map(|l| l.chars().count().min(9))
        .chain(
            report
                .confusion
                .counts
                .iter()
                .flatten()
                .map(|c| c.to_string().len()),
        )
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = write!(s, "{:>width$}", "");
    for l in &report.labels {
        let short: String = l.chars().take(col).collect();
        let _ = write!(s, " {short:>col$}");
    }
    let _ = writeln!(s);
    for (l, row) in report.labels.iter().zip(&report.confusion.counts) {
        let _ = write!(s, "{l:>width$}");
        for c in row {
            let _ = write!(s, " {c:>col$}");
        }
        let _ = writeln!(s);
    }
    s
}

fn groups_text(title: &str, groups: &[GroupScore]) -> String {
    let mut s = format!(
        "{title:>10} {:>6} {:>8} {:>8} {:>9}\n",
        "n", "WA", "UA", "macro-F1"
    );
    for g in groups {
        let _ = writeln!(
            s,
            "{:>10} {:>6} {:>8.4} {:>8.4} {:>9.4}",
            g.group, g.n, g.wa, g.ua, g.macro_f1
        );
    }
    s
}

fn notes_text(report: &EvalReport) -> String {
    let mut s = String::new();
    let p = &report.protocol;
    let _ = writeln!(s, "\nProtocol:");
    let _ = writeln!(s, "  model: {}", p.model);
    let _ = writeln!(s, "  data:  {}", p.data);
    let _ = writeln!(
        s,
        "  actors evaluated: {}",
        if p.actors_evaluated.is_empty() {
            "(speakers unknown)".to_string()
        } else {
            p.actors_evaluated.join(",")
        }
    );
    let status = match p.speaker_independent {
        Some(true) => "yes: no evaluated actor was in the model's training actors".to_string(),
        Some(false) => format!(
            "NO: actors {} were seen in training",
            p.overlapping_actors.join(",")
        ),
        None => "unknown: the model manifest does not record its training actors".to_string(),
    };
    let _ = writeln!(s, "  speaker-independent: {status}");
    if let Some(check) = &p.speaker_check {
        let _ = writeln!(s, "  speaker check: {check}");
    }
    if let Some(pert) = &p.perturbation {
        let _ = writeln!(s, "  clips perturbed: {pert}");
    }
    if let Some(n) = validation_note(report) {
        let _ = writeln!(s, "  note: {n}");
    }
    if !report.classes_absent_from_data.is_empty() {
        let _ = writeln!(
            s,
            "  model classes with no data (left out of UA, recall reported as 0): {}",
            report.classes_absent_from_data.join(", ")
        );
    }
    if !report.unmapped_labels.is_empty() {
        let list: Vec<String> = report
            .unmapped_labels
            .iter()
            .map(|u| format!("{} ({} files)", u.label, u.count))
            .collect();
        let _ = writeln!(
            s,
            "  data labels the model does not know (excluded): {}",
            list.join(", ")
        );
    }
    if !report.skipped_files.is_empty() {
        let _ = writeln!(
            s,
            "  {} file(s) skipped (unreadable or failed):",
            report.skipped_files.len()
        );
        for f in &report.skipped_files {
            let _ = writeln!(s, "    {}: {}", f.path, f.reason);
        }
    }
    s
}

/// The report as tidy CSV with columns `metric,class,value` (one number per row; `class` is
/// empty for whole-set metrics), easy to load with pandas or a spreadsheet.
///
/// # Errors
///
/// [`EvalError::Csv`] if writing fails (only on I/O errors of the sink).
pub fn csv_string(report: &EvalReport) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |source| EvalError::Csv {
        path: "report.csv".into(),
        source,
    };
    w.write_record(["metric", "class", "value"]).map_err(err)?;
    let mut row = |metric: &str, class: &str, value: String| {
        w.write_record([metric, class, value.as_str()]).map_err(err)
    };
    row("n", "", report.n.to_string())?;
    row("ua", "", report.ua.to_string())?;
    row("ua_ci_low", "", report.ci.ua.low.to_string())?;
    row("ua_ci_high", "", report.ci.ua.high.to_string())?;
    row("wa", "", report.wa.to_string())?;
    row("macro_f1", "", report.macro_f1.to_string())?;
    row("macro_f1_ci_low", "", report.ci.macro_f1.low.to_string())?;
    row("macro_f1_ci_high", "", report.ci.macro_f1.high.to_string())?;
    row("weighted_f1", "", report.weighted_f1.to_string())?;
    row("kappa", "", report.kappa.to_string())?;
    row(
        "macro_precision",
        "",
        report.macro_avg.precision.to_string(),
    )?;
    row("macro_recall", "", report.macro_avg.recall.to_string())?;
    row(
        "speaker_independent",
        "",
        match report.protocol.speaker_independent {
            Some(b) => b.to_string(),
            None => "unknown".into(),
        },
    )?;
    for label in &report.labels {
        if let Some(m) = report.per_class.get(label) {
            row("precision", label, m.precision.to_string())?;
            row("recall", label, m.recall.to_string())?;
            row("f1", label, m.f1.to_string())?;
            row("support", label, m.support.to_string())?;
        }
    }
    // Several corpora: the `class` column names the corpus.
    for c in &report.by_corpus {
        row("corpus_n", &c.corpus, c.n.to_string())?;
        row("corpus_labels", &c.corpus, c.labels.len().to_string())?;
        row("corpus_ua", &c.corpus, c.ua.to_string())?;
        row("corpus_wa", &c.corpus, c.wa.to_string())?;
        row("corpus_macro_f1", &c.corpus, c.macro_f1.to_string())?;
    }
    let bytes = w.into_inner().map_err(|e| EvalError::Io {
        action: "flushing CSV for",
        path: "report.csv".into(),
        source: e.into_error(),
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// One row per utterance: `path,actor,true,predicted,prob_<label>...`.
///
/// # Errors
///
/// [`EvalError::Csv`] if writing fails.
pub fn predictions_csv(labels: &[String], records: &[PredictionRecord]) -> Result<String> {
    let err = |source| EvalError::Csv {
        path: crate::output::PREDICTIONS_FILE.into(),
        source,
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "path".to_string(),
        "actor".into(),
        "true".into(),
        "predicted".into(),
    ];
    header.extend(labels.iter().map(|l| format!("prob_{l}")));
    w.write_record(&header).map_err(err)?;
    for r in records {
        let path = r
            .path
            .as_ref()
            .map_or_else(|| r.id.clone(), |p| p.display().to_string());
        let predicted = labels
            .get(r.predicted_index)
            .cloned()
            .unwrap_or_else(|| r.predicted_index.to_string());
        let mut fields = vec![
            path,
            r.speaker.clone().unwrap_or_default(),
            r.true_label.clone(),
            predicted,
        ];
        fields.extend(r.probabilities.iter().map(|p| format!("{p:.6}")));
        w.write_record(&fields).map_err(err)?;
    }
    let bytes = w.into_inner().map_err(|e| EvalError::Io {
        action: "flushing CSV for",
        path: crate::output::PREDICTIONS_FILE.into(),
        source: e.into_error(),
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The report as pretty JSON.
///
/// # Errors
///
/// [`EvalError::Json`] (cannot happen for finite numbers).
pub fn json_string(report: &EvalReport) -> Result<String> {
    serde_json::to_string_pretty(report).map_err(|source| EvalError::Json {
        path: "report.json".into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::BootstrapConfig;
    use crate::report::Protocol;

    fn report(speaker_independent: bool) -> EvalReport {
        let labels = vec!["neutral".to_string(), "angry".to_string()];
        let records: Vec<PredictionRecord> = [(0, 0), (1, 1), (1, 0)]
            .iter()
            .enumerate()
            .map(|(i, &(t, p))| PredictionRecord {
                id: format!("f{i}.wav"),
                corpus: String::new(),
                path: None,
                speaker: Some("03".into()),
                gender: Some("male".into()),
                intensity: None,
                true_label: labels[t].clone(),
                true_index: t,
                predicted_index: p,
                probabilities: vec![0.25, 0.75],
            })
            .collect();
        let mut protocol = Protocol {
            actors_evaluated: vec!["03".into()],
            training_actors: Some(vec![if speaker_independent { "01" } else { "03" }.into()]),
            ..Default::default()
        };
        protocol.check_overlap();
        EvalReport::build(&labels, &records, protocol, &BootstrapConfig::default()).unwrap()
    }

    #[test]
    fn table_has_sklearn_layout_and_summary() {
        let t = table(&report(true));
        assert!(t.contains("precision    recall  f1-score   support"), "{t}");
        assert!(t.contains("macro avg") && t.contains("weighted avg"));
        assert!(t.contains("UA (balanced accuracy) 0.7500"), "{t}");
        assert!(t.contains("speaker-independent: yes"));
        assert!(!t.contains("WARNING"));
    }

    #[test]
    fn overlap_is_a_prominent_warning() {
        let t = table(&report(false));
        assert!(t.starts_with("!!!!"), "{t}");
        assert!(t.contains("actors 03 were in this model's TRAINING set"));
        let j: serde_json::Value =
            serde_json::from_str(&json_string(&report(false)).unwrap()).unwrap();
        assert_eq!(j["protocol"]["speaker_independent"], false);
    }

    #[test]
    fn csv_outputs_parse() {
        let r = report(true);
        let c = csv_string(&r).unwrap();
        assert!(c.starts_with("metric,class,value\n"));
        assert!(c.contains("recall,angry,0.5\n"), "{c}");
        let p = predictions_csv(&r.labels, &[]).unwrap();
        assert_eq!(p, "path,actor,true,predicted,prob_neutral,prob_angry\n");
    }
}
