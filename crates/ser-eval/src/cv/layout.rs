//! A cross-validation's directory and the scoring of its folds: what the training side
//! (`ser-train cv`) calls after training each fold, and what `cv-combine`, the pooled report
//! and the ensemble export read back.
//!
//! ```text
//! <out>/cv-config.json   settings ([`CvConfig`]); a run with other settings is refused
//! <out>/fold-N/          a fold: the trainer's files, the evaluation outputs
//!                        ([`crate::output::write_outputs`]) and fold.json, written last
//! <out>/cv.json, cv.md   the summary ([`CvSummary`], [`markdown`])
//! ```
//!
//! Every file is written atomically and `fold.json` last, so a fold without it is simply
//! redone.

use std::path::{Path, PathBuf};

use ravdess_loader::{Corpus, Layout, Utterance};
use serde::Serialize;

use super::summary::{
    CvConfig, CvSummary, FoldResult, MeanStd, machine_description, markdown,
    use_test_corpus_macro_f1,
};
use crate::error::{EvalError, Result};
use ser_models::{EmotionModel, Prediction};

use crate::evaluate::{EvalOptions, evaluate_corpus};
use crate::fsutil::write_atomic;
use crate::output::write_outputs;

/// A fold's directory in a cross-validation's `out` (`<out>/fold-N`, numbered from 1): the one
/// place that spells the layout `ser-train cv`, `cv-combine`, the pooled report and the
/// ensemble export all read.
pub fn fold_dir(out: &Path, number: usize) -> PathBuf {
    out.join(format!("fold-{number}"))
}

/// Written last in a fold's directory: its presence means the fold is finished.
pub const DONE_FILE: &str = "fold.json";

/// The settings file of a cross-validation directory.
pub const CONFIG_FILE: &str = "cv-config.json";

/// The result of fold `number` in `out` if the fold is finished (its [`DONE_FILE`] exists).
///
/// # Errors
///
/// [`EvalError::Io`] or [`EvalError::Json`] for a file that exists but cannot be read.
pub fn finished_fold(out: &Path, number: usize) -> Result<Option<FoldResult>> {
    read_json(&fold_dir(out, number).join(DONE_FILE))
}

/// [`finished_fold`] for a run whose fold `number` holds out `test_actors` and trains on
/// `train_actors`: a finished fold of other speakers is refused, not reused. `cv-config.json`
/// ([`check_config`]) records the settings but not every choice that shapes the folds, and a
/// fold of another split would silently enter this run's scores.
///
/// # Errors
///
/// [`EvalError::FoldMismatch`] naming the fold's file and both speaker lists; as
/// [`finished_fold`].
pub fn finished_fold_of(
    out: &Path,
    number: usize,
    test_actors: &[String],
    train_actors: &[String],
) -> Result<Option<FoldResult>> {
    let Some(done) = finished_fold(out, number)? else {
        return Ok(None);
    };
    for (what, what_now, found, wanted) in [
        ("held out", "holds out", &done.test_actors, test_actors),
        ("trained on", "trains on", &done.train_actors, train_actors),
    ] {
        if found[..] != *wanted {
            return Err(EvalError::FoldMismatch {
                path: fold_dir(out, number).join(DONE_FILE),
                fold: number,
                what,
                what_now,
                found: found.join(", "),
                wanted: wanted.join(", "),
            });
        }
    }
    Ok(Some(done))
}

/// Refuses to mix folds of runs with different settings in one directory: writes
/// [`CONFIG_FILE`] for a new run, compares it for an existing one.
///
/// # Errors
///
/// [`EvalError::InvalidConfig`] naming `--out` when the directory holds a run of other
/// settings; I/O and JSON errors naming the file.
pub fn check_config(out: &Path, config: &CvConfig) -> Result<()> {
    let path = out.join(CONFIG_FILE);
    match read_json::<CvConfig>(&path)? {
        Some(previous) if previous != *config => Err(EvalError::InvalidConfig {
            field: "--out",
            value: out.display().to_string(),
            expected: "a directory without a cross-validation run of different settings \
                       (its cv-config.json differs from this run's; pick another --out or \
                       delete it to start over)",
        }),
        Some(_) => Ok(()),
        None => write_json(&path, config),
    }
}

/// One trained fold, ready to be scored.
pub struct TrainedFold<'a> {
    /// Fold number, from 1.
    pub number: usize,
    /// The fold's model.
    pub model: &'a dyn EmotionModel,
    /// The actors it trained on (known from the fold, not taken from the model's manifest).
    pub train_actors: Vec<String>,
    /// The held-out actors.
    pub test_actors: Vec<String>,
    /// The held-out utterances.
    pub test: Vec<Utterance>,
    /// When the fold's training started (its result records the seconds since).
    pub started: std::time::Instant,
    /// Every held-out clip is of one corpus, the other corpora only trained on (`ser-train cv
    /// --test-corpus`): the fold's macro-F1 is then that corpus's, over the labels it has
    /// ([`use_test_corpus_macro_f1`]), in its `fold.json` and progress line as in the summary.
    pub test_corpus_only: bool,
}

/// Evaluates a trained fold on its held-out utterances exactly as `ser-eval --model` would,
/// writes the evaluation outputs into `<out>/fold-N/` and then [`DONE_FILE`], and returns the
/// fold's result.
///
/// # Errors
///
/// Evaluation, I/O and JSON errors.
pub fn score_fold(out: &Path, fold: TrainedFold<'_>, config: &CvConfig) -> Result<FoldResult> {
    let dir = fold_dir(out, fold.number);
    let model = KnownTraining {
        inner: fold.model,
        speakers: fold.train_actors.clone(),
    };
    let opts = EvalOptions {
        actors: None,
        bootstrap: config.bootstrap,
        batch_size: 32,
        model_name: format!("cv fold {} ({})", fold.number, config.model_type),
        noise_snr_db: None,
        per_corpus: !config.corpora.is_empty(),
    };
    let corpus = Corpus::from_utterances(config.data.clone(), Layout::Generated, fold.test);
    let eval = evaluate_corpus(&model, corpus, &opts, &|_, _| {})?;
    write_outputs(&dir, &eval)?;
    let mut r = FoldResult {
        fold: fold.number,
        test_actors: fold.test_actors,
        train_actors: fold.train_actors,
        n: eval.report.n,
        ua: eval.report.ua,
        wa: eval.report.wa,
        macro_f1: eval.report.macro_f1,
        kappa: eval.report.kappa,
        seconds: fold.started.elapsed().as_secs_f64(),
        by_corpus: eval.report.by_corpus.clone(),
    };
    if fold.test_corpus_only {
        use_test_corpus_macro_f1(&mut r);
    }
    write_json(&dir.join(DONE_FILE), &r)?;
    Ok(r)
}

/// The summary of finished folds (sorted by fold): mean ± std of every score, the protocol and
/// the machine. `resumed` lists the folds reused from an earlier run.
pub fn summarise(
    config: &CvConfig,
    mut results: Vec<FoldResult>,
    resumed: Vec<usize>,
) -> CvSummary {
    results.sort_by_key(|r| r.fold);
    let pick = |f: fn(&FoldResult) -> f64| MeanStd::of(&results.iter().map(f).collect::<Vec<_>>());
    CvSummary {
        protocol: format!(
            "speaker-independent {}-fold cross-validation by actor (ravdess_loader::split::\
             kfold_by_speaker, seed {}): each fold trains on the other folds' actors and is \
             evaluated on its held-out actors{}",
            config.folds,
            config.seed,
            if config.corpora.is_empty() {
                String::new()
            } else {
                format!(
                    ", over the corpora {} together (speakers namespaced `corpus:speaker`; \
                     every clip of a speaker is in one fold)",
                    config
                        .corpora
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ),
        config: config.clone(),
        ua: pick(|r| r.ua),
        wa: pick(|r| r.wa),
        macro_f1: pick(|r| r.macro_f1),
        kappa: pick(|r| r.kappa),
        folds: results,
        resumed_folds: resumed,
        machine: machine_description(),
        written_unix: now_unix(),
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(super) fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Writes `cv.json` and `cv.md` into `out`.
///
/// # Errors
///
/// I/O and JSON errors naming the file.
pub fn write_summary(out: &Path, summary: &CvSummary) -> Result<()> {
    write_json(&out.join("cv.json"), summary)?;
    write_atomic(&out.join("cv.md"), markdown(summary).as_bytes())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| EvalError::Json {
                path: path.to_path_buf(),
                source,
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(EvalError::Io {
            action: "reading",
            path: path.to_path_buf(),
            source,
        }),
    }
}

pub(super) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|source| EvalError::Json {
        path: PathBuf::from(path),
        source,
    })?;
    write_atomic(path, text.as_bytes())
}

/// A model whose training speakers are known from the fold rather than its manifest.
///
/// It deliberately shows no manifest: the fold's own record (its training actors) is what the
/// speaker-independence check compares against, and the heard corpora stay unknown, so the
/// check compares speakers as the fold defined them.
struct KnownTraining<'a> {
    inner: &'a dyn EmotionModel,
    speakers: Vec<String>,
}

impl EmotionModel for KnownTraining<'_> {
    fn labels(&self) -> &[String] {
        self.inner.labels()
    }
    fn sample_rate(&self) -> u32 {
        self.inner.sample_rate()
    }
    fn predict_batch(&self, audio: &[ser_audio::Audio]) -> ser_models::Result<Vec<Prediction>> {
        self.inner.predict_batch(audio)
    }
    fn training_speakers(&self) -> Option<Vec<String>> {
        Some(self.speakers.clone())
    }
    fn validation_speakers(&self) -> Option<Vec<String>> {
        self.inner.validation_speakers()
    }
}

/// Cross-validation directories for tests.
#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use crate::metrics::BootstrapConfig;

    /// The summary of a finished two-fold run: actor 01 held out in fold 1 and 02 in fold 2,
    /// two clips each, `seconds` of training per fold, fold-assignment `seed`.
    pub(crate) fn two_folds(seed: u64, seconds: f64) -> CvSummary {
        let fold = |fold: usize, test: &str, train: &str| FoldResult {
            fold,
            test_actors: vec![test.into()],
            train_actors: vec![train.into()],
            n: 2,
            ua: 0.0,
            wa: 0.0,
            macro_f1: 0.0,
            kappa: 0.0,
            seconds,
            by_corpus: Vec::new(),
        };
        let config = CvConfig {
            model_type: "crnn".into(),
            data: "d".into(),
            folds: 2,
            seed,
            train_seed: None,
            epochs: None,
            recipe: None,
            actors: None,
            bootstrap: BootstrapConfig {
                resamples: 20,
                ..Default::default()
            },
            corpora: Vec::new(),
        };
        summarise(
            &config,
            vec![fold(1, "01", "02"), fold(2, "02", "01")],
            Vec::new(),
        )
    }
}
