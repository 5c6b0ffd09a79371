//! Evaluations over several corpora: which corpus is which ([`CorpusRef`]) and one row of
//! scores per corpus ([`CorpusScore`], [`corpus_scores`]).
//!
//! # Per-corpus scores
//!
//! A corpus's row scores only its own clips, and its UA and macro-F1 average over **the
//! labels that corpus has** among them, not over every model class: EMO-DB (mapped to our
//! names) has 6 of RAVDESS's 8 emotions, so its UA is the mean recall of those 6, and `calm`
//! and `surprised`, which it never contains, do not pull its macro-F1 down with F1 = 0.
//! Predictions of a class the corpus lacks still count as errors (they lower the recall of
//! the true class). WA is plain accuracy on the corpus's clips.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::metrics::ClassificationReport;
use crate::report::PredictionRecord;

/// A corpus by name and, when known, its folder or manifest: what a model heard
/// (`ser-train` records its corpora this way) and what a cross-validation ran on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CorpusRef {
    /// The corpus name (`ravdess`, `emodb`; the prefix of its speakers when several corpora
    /// are combined).
    pub name: String,
    /// Its folder or manifest, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<PathBuf>,
}

impl CorpusRef {
    /// `name (root)`, or the name alone.
    pub fn describe(&self) -> String {
        match &self.root {
            Some(r) => format!("{} ({})", self.name, r.display()),
            None => self.name.clone(),
        }
    }
}

/// Scores of one corpus of an evaluation over several (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorpusScore {
    /// The corpus name.
    pub corpus: String,
    /// Clips of this corpus scored.
    pub n: usize,
    /// The labels of this corpus among them: UA and macro-F1 average over these.
    pub labels: Vec<String>,
    /// UA over [`Self::labels`] (mean recall of the corpus's own labels).
    pub ua: f64,
    /// WA (accuracy) on the corpus's clips.
    pub wa: f64,
    /// Macro-F1 over [`Self::labels`].
    pub macro_f1: f64,
}

/// One [`CorpusScore`] per corpus of `corpora` that has records (in that order), over the
/// model classes `labels`. A record's corpus is [`PredictionRecord::corpus`].
///
/// # Errors
///
/// A record whose class index is not one of `labels`.
pub fn corpus_scores(
    labels: &[String],
    records: &[PredictionRecord],
    corpora: &[String],
) -> Result<Vec<CorpusScore>> {
    let rows: Vec<(&str, usize, usize)> = records
        .iter()
        .map(|r| (r.corpus.as_str(), r.true_index, r.predicted_index))
        .collect();
    corpus_scores_of(labels, &rows, corpora)
}

/// [`corpus_scores`] of `(corpus, true class, predicted class)` rows.
///
/// # Errors
///
/// A class index that is not one of `labels`.
pub fn corpus_scores_of(
    labels: &[String],
    rows: &[(&str, usize, usize)],
    corpora: &[String],
) -> Result<Vec<CorpusScore>> {
    let mut out = Vec::with_capacity(corpora.len());
    for name in corpora {
        let (t, p): (Vec<usize>, Vec<usize>) = rows
            .iter()
            .filter(|r| r.0 == name)
            .map(|r| (r.1, r.2))
            .unzip();
        if t.is_empty() {
            continue;
        }
        let rep = ClassificationReport::new(&t, &p, labels.len())?;
        let present: Vec<usize> = (0..labels.len())
            .filter(|&c| rep.per_class[c].support > 0)
            .collect();
        let macro_f1 =
            present.iter().map(|&c| rep.per_class[c].f1).sum::<f64>() / present.len().max(1) as f64;
        out.push(CorpusScore {
            corpus: name.clone(),
            n: t.len(),
            labels: present.iter().map(|&c| labels[c].clone()).collect(),
            ua: rep.balanced_accuracy,
            wa: rep.accuracy,
            macro_f1,
        });
    }
    Ok(out)
}

/// The distinct corpora of `records`, sorted (records without one are left out).
pub fn corpora_of(records: &[PredictionRecord]) -> Vec<String> {
    records
        .iter()
        .filter(|r| !r.corpus.is_empty())
        .map(|r| r.corpus.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(corpus: &str, t: usize, p: usize) -> PredictionRecord {
        PredictionRecord {
            id: format!("{corpus}-{t}-{p}"),
            corpus: corpus.into(),
            path: None,
            speaker: None,
            gender: None,
            intensity: None,
            true_label: t.to_string(),
            true_index: t,
            predicted_index: p,
            probabilities: vec![0.25; 4],
        }
    }

    #[test]
    fn ua_and_macro_f1_average_over_the_corpus_own_labels() {
        let labels: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        // Corpus x has labels a, b only; one `a` clip is predicted as `c`, a class x lacks.
        let records = vec![
            rec("x", 0, 0),
            rec("x", 0, 2),
            rec("x", 1, 1),
            rec("x", 1, 1),
            rec("y", 2, 2),
            rec("y", 3, 2),
        ];
        let s = corpus_scores(&labels, &records, &["x".into(), "y".into(), "z".into()]).unwrap();
        assert_eq!(s.len(), 2, "no row for a corpus without clips");
        let x = &s[0];
        assert_eq!((x.corpus.as_str(), x.n), ("x", 4));
        assert_eq!(x.labels, ["a", "b"]);
        // recall a = 1/2, b = 1 -> UA 0.75 over 2 labels (over 4 classes it would be 0.375).
        assert!((x.ua - 0.75).abs() < 1e-12, "{}", x.ua);
        assert!((x.wa - 0.75).abs() < 1e-12);
        // F1 a = 2/3 (tp 1, fn 1), b = 1 -> 5/6 over the corpus's 2 labels.
        assert!((x.macro_f1 - 5.0 / 6.0).abs() < 1e-12, "{}", x.macro_f1);
        assert_eq!(s[1].labels, ["c", "d"]);
        assert_eq!(corpora_of(&records), ["x", "y"]);
    }
}
