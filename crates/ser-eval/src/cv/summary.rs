//! Cross-validation results: settings, per-fold scores, mean ± std and the `cv.md` table.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::corpora::{CorpusRef, CorpusScore};
use crate::metrics::BootstrapConfig;

/// Settings of a cross-validation run (saved as `cv-config.json`; a resumed run must match).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvConfig {
    /// Model architecture name (recorded, passed to the trainer by the caller).
    pub model_type: String,
    /// Data description (directory, or "generated").
    pub data: String,
    /// Number of folds.
    pub folds: usize,
    /// Fold-assignment seed (and the training seed unless `train_seed` is set).
    pub seed: u64,
    /// Seed of every fold's training (initialisation, shuffling, augmentation, dropout) when
    /// it differs from `seed`: runs with the same `seed` and different `train_seed`s share
    /// their folds, so their predictions can be averaged into a seed ensemble
    /// (`ser-train cv-combine`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_seed: Option<u64>,
    /// Training epochs, when set.
    pub epochs: Option<usize>,
    /// The training recipe of every fold (`RecipeArgs::describe`), when known.
    #[serde(default)]
    pub recipe: Option<String>,
    /// Speakers used (`None` = all).
    pub actors: Option<Vec<String>>,
    /// Bootstrap settings of each fold's report.
    pub bootstrap: BootstrapConfig,
    /// The corpora, when several were combined (speakers namespaced `name:speaker`): every
    /// report then has one row per corpus. Empty (and not written) for one corpus.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corpora: Vec<CorpusRef>,
}

/// The held-out scores of one fold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldResult {
    /// Fold number, from 1.
    pub fold: usize,
    /// Held-out actors.
    pub test_actors: Vec<String>,
    /// Training actors.
    pub train_actors: Vec<String>,
    /// Clips evaluated.
    pub n: usize,
    /// UA on the held-out actors.
    pub ua: f64,
    /// WA on the held-out actors.
    pub wa: f64,
    /// Macro-F1 on the held-out actors.
    pub macro_f1: f64,
    /// Cohen's kappa on the held-out actors.
    pub kappa: f64,
    /// Wall-clock seconds to train and evaluate the fold.
    #[serde(default)]
    pub seconds: f64,
    /// One row per corpus of the fold's held-out clips, when several corpora were combined
    /// (UA and macro-F1 over each corpus's own labels).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_corpus: Vec<CorpusScore>,
}

/// Mean and sample standard deviation over folds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (`n - 1` denominator; 0 for one fold).
    pub std: f64,
}

impl MeanStd {
    /// Mean and sample std of `values` (both 0 when empty).
    pub fn of(values: &[f64]) -> Self {
        let n = values.len();
        if n == 0 {
            return Self {
                mean: 0.0,
                std: 0.0,
            };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = if n < 2 {
            0.0
        } else {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        };
        Self { mean, std }
    }
}

/// The cross-validation summary written to `cv.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvSummary {
    /// Protocol description.
    pub protocol: String,
    /// Settings.
    pub config: CvConfig,
    /// Per fold.
    pub folds: Vec<FoldResult>,
    /// UA over folds.
    pub ua: MeanStd,
    /// WA over folds.
    pub wa: MeanStd,
    /// Macro-F1 over folds.
    pub macro_f1: MeanStd,
    /// Kappa over folds.
    pub kappa: MeanStd,
    /// Folds loaded from a previous run instead of recomputed.
    pub resumed_folds: Vec<usize>,
    /// The machine of this (last) invocation: OS, architecture, logical CPUs.
    pub machine: String,
    /// When the summary was written, seconds since the Unix epoch (UTC).
    pub written_unix: u64,
}

/// `"linux x86_64, 2 logical CPUs"`.
pub fn machine_description() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    format!(
        "{} {}, {cpus} logical CPUs",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// The `cv.md` table: one row per fold, then mean ± std.
pub fn markdown(s: &CvSummary) -> String {
    let mut md = String::new();
    let c = &s.config;
    let _ = writeln!(
        md,
        "**{}** on `{}`: {}.\n",
        c.model_type, c.data, s.protocol
    );
    let _ = writeln!(
        md,
        "| fold | test actors | n | UA | WA | macro-F1 | kappa | seconds |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
    for f in &s.folds {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.0} |",
            f.fold,
            f.test_actors.join(", "),
            f.n,
            f.ua,
            f.wa,
            f.macro_f1,
            f.kappa,
            f.seconds
        );
    }
    let n: usize = s.folds.iter().map(|f| f.n).sum();
    let ms = |m: MeanStd| format!("{:.4} ± {:.4}", m.mean, m.std);
    let _ = writeln!(
        md,
        "| **mean ± std** | | {n} | **{}** | {} | {} | {} | |",
        ms(s.ua),
        ms(s.wa),
        ms(s.macro_f1),
        ms(s.kappa)
    );
    md.push_str(&corpus_markdown(s));
    let training = c.recipe.clone().unwrap_or_else(|| {
        c.epochs
            .map_or_else(|| "trainer default".to_string(), |e| format!("epochs {e}"))
    });
    let _ = writeln!(
        md,
        "\nstd is the sample standard deviation over folds. Settings: folds {}, seed {}{}, \
         training recipe {training}. Machine: {}.",
        c.folds,
        c.seed,
        c.train_seed
            .map(|t| format!(", training seed {t}"))
            .unwrap_or_default(),
        s.machine
    );
    md
}

/// Whether every fold of `folds` held out clips of one and the same corpus while others were
/// trained on (`ser-train cv --test-corpus NAME`): then the scores are that corpus's.
pub fn holds_out_one_corpus(config: &CvConfig, folds: &[FoldResult]) -> bool {
    let mut held_out = folds.iter().map(|f| match &f.by_corpus[..] {
        [row] => Some(row.corpus.as_str()),
        _ => None,
    });
    config.corpora.len() >= 2
        && match held_out.next() {
            Some(Some(first)) => held_out.all(|c| c == Some(first)),
            _ => false,
        }
}

/// For a fold that held out one corpus's clips ([`holds_out_one_corpus`]): the fold's macro-F1
/// becomes that corpus's, over the labels it has. That corpus may lack some of the model's
/// labels (EMO-DB has 6 of 8); UA already averages only the labels present, but the fold
/// report's macro-F1 averages all the model's labels, a class without support counting as
/// F1 0. A fold with several corpus rows is left as it is.
pub fn use_test_corpus_macro_f1(fold: &mut FoldResult) {
    if let [row] = &fold.by_corpus[..] {
        fold.macro_f1 = row.macro_f1;
    }
}

/// Per-corpus rows of a cross-validation over several corpora (empty text for one corpus):
/// for each corpus, its clips over all folds and the mean ± std over the folds that held some
/// of its speakers out.
fn corpus_markdown(s: &CvSummary) -> String {
    if s.config.corpora.is_empty() {
        return String::new();
    }
    let mut md = String::from(
        "\nBy corpus (each corpus's UA and macro-F1 average over the labels that corpus has; \
         mean ± std over the folds that held out some of its speakers):\n\n\
         | corpus | labels | folds | n | UA | WA | macro-F1 |\n|---|---|---|---|---|---|---|\n",
    );
    let ms = |m: MeanStd| format!("{:.4} ± {:.4}", m.mean, m.std);
    for c in &s.config.corpora {
        let rows: Vec<&CorpusScore> = s
            .folds
            .iter()
            .flat_map(|f| f.by_corpus.iter().filter(|r| r.corpus == c.name))
            .collect();
        // A corpus no fold held out (only trained on, as with `ser-train cv --test-corpus`)
        // has no score: a row of zeros would read as one.
        if rows.is_empty() {
            continue;
        }
        let labels: std::collections::BTreeSet<&str> = rows
            .iter()
            .flat_map(|r| r.labels.iter().map(String::as_str))
            .collect();
        let pick = |f: fn(&CorpusScore) -> f64| {
            MeanStd::of(&rows.iter().map(|r| f(r)).collect::<Vec<_>>())
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            c.name,
            labels.len(),
            rows.len(),
            rows.iter().map(|r| r.n).sum::<usize>(),
            ms(pick(|r| r.ua)),
            ms(pick(|r| r.wa)),
            ms(pick(|r| r.macro_f1)),
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_std_is_sample_std() {
        let m = MeanStd::of(&[1.0, 2.0, 3.0, 4.0]);
        assert!((m.mean - 2.5).abs() < 1e-12);
        // numpy.std([1, 2, 3, 4], ddof=1) == 1.2909944487358056
        assert!((m.std - 1.290_994_448_735_805_6).abs() < 1e-12);
        assert_eq!(MeanStd::of(&[0.7]).std, 0.0);
    }
}
