//! Running (or resuming) cross-validation by actor.

use std::path::{Path, PathBuf};

use ravdess_loader::{Corpus, Layout, Utterance, split};
use serde::Serialize;

use super::summary::{CvConfig, CvSummary, FoldResult, MeanStd, machine_description, markdown};
use crate::error::{EvalError, Result};
use crate::evaluate::{EvalOptions, Predictor, Scored, evaluate_corpus};
use crate::fsutil::write_atomic;
use crate::output::write_outputs;

/// Trains one model per fold.
pub trait FoldTrainer {
    /// Trains on `train` (the fold's training utterances, with or without audio loaded, as
    /// the corpus gives them) and returns a predictor. The trainer must never use the
    /// `test_speakers` (the held-out actors of this fold) for anything but excluding them;
    /// trainers that hold out speakers by name (like `ser_train`) take them from here.
    /// `dir` is the fold's directory, for the trainer's artifact and logs; `fold` counts from 1.
    fn train_fold(
        &self,
        fold: usize,
        train: &[Utterance],
        test_speakers: &[String],
        dir: &Path,
    ) -> std::result::Result<Box<dyn Predictor>, String>;
}

/// Events reported while cross-validating.
#[derive(Debug, Clone, PartialEq)]
pub enum CvEvent {
    /// A fold starts training.
    Training {
        /// Fold number (from 1).
        fold: usize,
        /// Number of folds.
        of: usize,
    },
    /// A fold's result was found on disk and is reused.
    Resumed {
        /// Fold number.
        fold: usize,
    },
    /// A fold finished.
    Done(FoldResult),
}

/// Runs (or resumes) cross-validation by actor over `utts` and writes, in `out`:
/// `cv-config.json`, `fold-N/` (the trainer's files, the fold's evaluation outputs and
/// `fold.json`), then `cv.json` and `cv.md`. Every file is written atomically and `fold.json`
/// last, so an interrupted fold is simply redone.
///
/// # Errors
///
/// Split errors (too few speakers, missing speaker ids), a previous run in `out` with other
/// settings, training failures (naming the fold), evaluation and I/O errors.
pub fn run_cv(
    utts: Vec<Utterance>,
    trainer: &dyn FoldTrainer,
    config: &CvConfig,
    out: &Path,
    on_event: &mut dyn FnMut(CvEvent),
) -> Result<CvSummary> {
    match run_cv_folds(utts, trainer, config, out, None, on_event)? {
        CvProgress::Complete(summary) => Ok(*summary),
        // Unreachable with `only = None`, which trains every missing fold.
        CvProgress::Partial { pending, .. } => Err(EvalError::InvalidConfig {
            field: "--fold",
            value: format!("{pending:?}"),
            expected: "every fold trained",
        }),
    }
}

/// A fold's directory in a cross-validation's `out` (`<out>/fold-N`, numbered from 1): the one
/// place that spells the layout `ser-eval cv`, `cv-combine`, the pooled report and the ensemble
/// export all read.
pub fn fold_dir(out: &Path, number: usize) -> PathBuf {
    out.join(format!("fold-{number}"))
}

/// Written last in a fold's directory: its presence means the fold is finished.
const DONE_FILE: &str = "fold.json";

/// Where a cross-validation stands after [`run_cv_folds`].
#[derive(Debug, Clone)]
pub enum CvProgress {
    /// Every fold is done: `cv.json` and `cv.md` were written.
    Complete(Box<CvSummary>),
    /// Some folds are still to be trained (by another process, or a later run); nothing but
    /// the finished folds' files was written.
    Partial {
        /// Folds finished (now or earlier), from 1.
        done: Vec<usize>,
        /// Folds not yet finished.
        pending: Vec<usize>,
    },
}

/// [`run_cv`], training only the folds in `only` (numbered from 1; `None` = all). Several
/// processes, on one machine or on machines sharing `out`, can each train some folds into
/// the same directory; a final run (with `only = None`, or naming the last folds) finds every
/// fold done and writes the summary. Folds finished earlier are always reused.
///
/// # Errors
///
/// As [`run_cv`]; also a fold number outside `1..=config.folds`.
pub fn run_cv_folds(
    utts: Vec<Utterance>,
    trainer: &dyn FoldTrainer,
    config: &CvConfig,
    out: &Path,
    only: Option<&[usize]>,
    on_event: &mut dyn FnMut(CvEvent),
) -> Result<CvProgress> {
    if let Some(bad) = only
        .into_iter()
        .flatten()
        .find(|&&f| f == 0 || f > config.folds)
    {
        return Err(EvalError::InvalidConfig {
            field: "--fold",
            value: bad.to_string(),
            expected: "fold numbers from 1 to --folds",
        });
    }
    check_config(out, config)?;
    let folds = split::kfold_by_speaker(&utts, config.folds, config.seed).map_err(|e| {
        EvalError::Loader {
            source: Box::new(e),
        }
    })?;
    let mut results = Vec::with_capacity(folds.len());
    let mut resumed = Vec::new();
    let mut pending = Vec::new();
    for (i, fold) in folds.iter().enumerate() {
        let number = i + 1;
        let dir = fold_dir(out, number);
        let done_file = dir.join(DONE_FILE);
        if let Some(r) = read_json::<FoldResult>(&done_file)? {
            on_event(CvEvent::Resumed { fold: number });
            resumed.push(number);
            results.push(r);
            continue;
        }
        if only.is_some_and(|o| !o.contains(&number)) {
            pending.push(number);
            continue;
        }
        on_event(CvEvent::Training {
            fold: number,
            of: folds.len(),
        });
        let started = std::time::Instant::now();
        let train: Vec<Utterance> = fold.train.iter().map(|&j| utts[j].clone()).collect();
        let test: Vec<Utterance> = fold.test.iter().map(|&j| utts[j].clone()).collect();
        let train_actors = speakers(&train);
        let model = trainer
            .train_fold(number, &train, &fold.test_speakers, &dir)
            .map_err(|reason| EvalError::Training {
                fold: number,
                reason,
            })?;
        // The trainer tells us exactly which actors it saw; use that rather than relying on
        // the artifact's manifest.
        let model = KnownTraining {
            inner: model.as_ref(),
            speakers: train_actors.clone(),
        };
        let opts = EvalOptions {
            actors: None,
            bootstrap: config.bootstrap,
            batch_size: 32,
            model_name: format!("cv fold {number} ({})", config.model_type),
            noise_snr_db: None,
        };
        let corpus = Corpus::from_utterances(config.data.clone(), Layout::Generated, test);
        let eval = evaluate_corpus(&model, corpus, &opts, &|_, _| {})?;
        write_outputs(&dir, &eval)?;
        let r = FoldResult {
            fold: number,
            test_actors: fold.test_speakers.clone(),
            train_actors,
            n: eval.report.n,
            ua: eval.report.ua,
            wa: eval.report.wa,
            macro_f1: eval.report.macro_f1,
            kappa: eval.report.kappa,
            seconds: started.elapsed().as_secs_f64(),
        };
        write_json(&done_file, &r)?;
        on_event(CvEvent::Done(r.clone()));
        results.push(r);
    }
    // Another process may have finished a pending fold while this one trained: a process
    // given `--fold 2` looks at fold 1 before its own training starts, so without this second
    // look the two processes of a `--fold 1` / `--fold 2` pair that both outlive each other's
    // start would each leave the summary to the other, and neither would write it.
    let mut still_pending = Vec::new();
    for number in pending {
        let done_file = fold_dir(out, number).join(DONE_FILE);
        match read_json::<FoldResult>(&done_file)? {
            Some(r) => {
                on_event(CvEvent::Resumed { fold: number });
                resumed.push(number);
                results.push(r);
            }
            None => still_pending.push(number),
        }
    }
    let pending = still_pending;
    results.sort_by_key(|r| r.fold);
    resumed.sort_unstable();
    if !pending.is_empty() {
        return Ok(CvProgress::Partial {
            done: results.iter().map(|r| r.fold).collect(),
            pending,
        });
    }
    let pick = |f: fn(&FoldResult) -> f64| MeanStd::of(&results.iter().map(f).collect::<Vec<_>>());
    let summary = CvSummary {
        protocol: format!(
            "speaker-independent {}-fold cross-validation by actor (ravdess_loader::split::\
             kfold_by_speaker, seed {}): each fold trains on the other folds' actors and is \
             evaluated on its held-out actors",
            config.folds, config.seed
        ),
        config: config.clone(),
        ua: pick(|r| r.ua),
        wa: pick(|r| r.wa),
        macro_f1: pick(|r| r.macro_f1),
        kappa: pick(|r| r.kappa),
        folds: results,
        resumed_folds: resumed,
        machine: machine_description(),
        written_unix: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    };
    write_json(&out.join("cv.json"), &summary)?;
    write_atomic(&out.join("cv.md"), markdown(&summary).as_bytes())?;
    Ok(CvProgress::Complete(Box::new(summary)))
}

/// Refuses to mix folds of runs with different settings in one directory.
fn check_config(out: &Path, config: &CvConfig) -> Result<()> {
    let path = out.join("cv-config.json");
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

fn speakers(utts: &[Utterance]) -> Vec<String> {
    let set: std::collections::BTreeSet<String> =
        utts.iter().filter_map(|u| u.speaker.clone()).collect();
    set.into_iter().collect()
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

/// A predictor whose training speakers are known from the fold rather than its manifest.
struct KnownTraining<'a> {
    inner: &'a dyn Predictor,
    speakers: Vec<String>,
}

impl Predictor for KnownTraining<'_> {
    fn labels(&self) -> &[String] {
        self.inner.labels()
    }
    fn sample_rate(&self) -> u32 {
        self.inner.sample_rate()
    }
    fn training_speakers(&self) -> Option<Vec<String>> {
        Some(self.speakers.clone())
    }
    fn validation_speakers(&self) -> Option<Vec<String>> {
        self.inner.validation_speakers()
    }
    fn predict_batch(
        &self,
        audio: &[ravdess_loader::Audio],
    ) -> std::result::Result<Vec<Scored>, String> {
        self.inner.predict_batch(audio)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::BootstrapConfig;
    use ravdess_loader::synth::{self, SynthConfig};
    use ravdess_loader::{Audio, Emotion, LoadOptions, load_audio};
    use std::cell::Cell;

    /// Nearest class centroid on (log RMS, zero-crossing rate): a real, weak classifier.
    struct Centroid {
        labels: Vec<String>,
        centroids: Vec<[f64; 2]>,
    }

    fn features(a: &Audio) -> [f64; 2] {
        let n = a.samples.len().max(1) as f64;
        let rms = (a.samples.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / n).sqrt();
        let zc = a
            .samples
            .windows(2)
            .filter(|w| (w[0] >= 0.0) != (w[1] >= 0.0))
            .count() as f64;
        [(rms + 1e-6).ln(), zc / n * 100.0]
    }

    impl Predictor for Centroid {
        fn labels(&self) -> &[String] {
            &self.labels
        }
        fn sample_rate(&self) -> u32 {
            16_000
        }
        fn training_speakers(&self) -> Option<Vec<String>> {
            None
        }
        fn predict_batch(&self, audio: &[Audio]) -> std::result::Result<Vec<Scored>, String> {
            Ok(audio
                .iter()
                .map(|a| {
                    let f = features(a);
                    let d: Vec<f64> = self
                        .centroids
                        .iter()
                        .map(|c| (c[0] - f[0]).powi(2) + (c[1] - f[1]).powi(2))
                        .collect();
                    let best = (0..d.len())
                        .min_by(|&i, &j| d[i].total_cmp(&d[j]))
                        .unwrap_or(0);
                    let w: Vec<f32> = d.iter().map(|x| (-x).exp() as f32).collect();
                    let s: f32 = w.iter().sum::<f32>().max(1e-12);
                    (best, w.iter().map(|x| x / s).collect())
                })
                .collect())
        }
    }

    struct CentroidTrainer {
        calls: Cell<usize>,
    }

    impl FoldTrainer for CentroidTrainer {
        fn train_fold(
            &self,
            _fold: usize,
            train: &[Utterance],
            test_speakers: &[String],
            _dir: &Path,
        ) -> std::result::Result<Box<dyn Predictor>, String> {
            self.calls.set(self.calls.get() + 1);
            assert!(
                train
                    .iter()
                    .all(|u| !test_speakers.contains(u.speaker.as_ref().unwrap()))
            );
            let labels: Vec<String> = Emotion::ALL.iter().map(|e| e.name().to_string()).collect();
            let loaded = load_audio(train.to_vec(), &LoadOptions::default(), |_, _| {})
                .map_err(|e| e.to_string())?;
            let mut sums = vec![[0.0f64; 3]; labels.len()];
            for u in &loaded.utterances {
                let c = labels.iter().position(|l| *l == u.label).ok_or("label")?;
                let f = features(u.audio.as_ref().ok_or("audio")?);
                sums[c][0] += f[0];
                sums[c][1] += f[1];
                sums[c][2] += 1.0;
            }
            let centroids = sums
                .iter()
                .map(|s| [s[0] / s[2].max(1.0), s[1] / s[2].max(1.0)])
                .collect();
            Ok(Box::new(Centroid { labels, centroids }))
        }
    }

    /// The generated corpus with six actors (three folds of two).
    fn six_actors() -> Vec<Utterance> {
        synth::generate(&SynthConfig {
            actors: (1..=6).collect(),
            ..Default::default()
        })
    }

    fn config() -> CvConfig {
        CvConfig {
            model_type: "centroid".into(),
            data: "generated".into(),
            folds: 3,
            seed: 1,
            train_seed: None,
            epochs: None,
            recipe: None,
            actors: None,
            bootstrap: BootstrapConfig {
                resamples: 50,
                ..Default::default()
            },
        }
    }

    #[test]
    fn cross_validates_by_actor_and_resumes() {
        let utts = six_actors();
        let dir = tempfile::tempdir().unwrap();
        let trainer = CentroidTrainer {
            calls: Cell::new(0),
        };
        let mut events = Vec::new();
        let s = run_cv(utts.clone(), &trainer, &config(), dir.path(), &mut |e| {
            events.push(e)
        })
        .unwrap();
        assert_eq!(trainer.calls.get(), 3);
        assert_eq!(s.folds.len(), 3);
        // Every actor tested exactly once, never in its own fold's training set.
        let mut tested: Vec<String> = s.folds.iter().flat_map(|f| f.test_actors.clone()).collect();
        tested.sort();
        assert_eq!(tested, ["01", "02", "03", "04", "05", "06"]);
        for f in &s.folds {
            assert!(f.test_actors.iter().all(|a| !f.train_actors.contains(a)));
            assert_eq!(f.n, 120);
            let report: serde_json::Value = serde_json::from_slice(
                &std::fs::read(dir.path().join(format!("fold-{}/report.json", f.fold))).unwrap(),
            )
            .unwrap();
            assert_eq!(report["protocol"]["speaker_independent"], true);
        }
        let mean = s.folds.iter().map(|f| f.ua).sum::<f64>() / 3.0;
        assert!((s.ua.mean - mean).abs() < 1e-12);
        let md = std::fs::read_to_string(dir.path().join("cv.md")).unwrap();
        assert!(md.contains("mean ± std"), "{md}");

        // Resume: remove fold 2's result; only fold 2 is retrained.
        std::fs::remove_file(dir.path().join("fold-2/fold.json")).unwrap();
        let trainer = CentroidTrainer {
            calls: Cell::new(0),
        };
        let again = run_cv(utts.clone(), &trainer, &config(), dir.path(), &mut |_| {}).unwrap();
        assert_eq!(trainer.calls.get(), 1);
        assert_eq!(again.resumed_folds, vec![1, 3]);
        // Reused folds are the stored ones; the retrained fold is deterministic (same seed),
        // except for its wall-clock time.
        let untimed = |folds: &[FoldResult]| {
            folds
                .iter()
                .map(|f| FoldResult {
                    seconds: 0.0,
                    ..f.clone()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(again.folds[0], s.folds[0]);
        assert_eq!(untimed(&again.folds), untimed(&s.folds));

        // Different settings in the same directory are refused.
        let other = CvConfig {
            seed: 2,
            ..config()
        };
        let err = run_cv(utts, &trainer, &other, dir.path(), &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("cv-config.json"), "{err}");
    }

    #[test]
    fn trains_only_the_named_folds_and_summarises_once_all_are_done() {
        let utts = six_actors();
        let dir = tempfile::tempdir().unwrap();
        let trainer = CentroidTrainer {
            calls: Cell::new(0),
        };
        let cfg = config();
        let p = run_cv_folds(
            utts.clone(),
            &trainer,
            &cfg,
            dir.path(),
            Some(&[2]),
            &mut |_| {},
        )
        .unwrap();
        match p {
            CvProgress::Partial { done, pending } => {
                assert_eq!(done, vec![2]);
                assert_eq!(pending, vec![1, 3]);
            }
            CvProgress::Complete(_) => panic!("folds 1 and 3 were not trained"),
        }
        assert_eq!(trainer.calls.get(), 1);
        assert!(dir.path().join("fold-2/fold.json").is_file());
        assert!(!dir.path().join("cv.json").exists());

        // A second process (here: call) trains the rest and writes the summary.
        let p = run_cv_folds(
            utts.clone(),
            &trainer,
            &cfg,
            dir.path(),
            Some(&[1, 3]),
            &mut |_| {},
        )
        .unwrap();
        let CvProgress::Complete(s) = p else {
            panic!("every fold is done")
        };
        assert_eq!(trainer.calls.get(), 3);
        assert_eq!(s.resumed_folds, vec![2]);
        assert!(dir.path().join("cv.json").is_file());

        let err =
            run_cv_folds(utts, &trainer, &cfg, dir.path(), Some(&[4]), &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("--fold"), "{err}");
    }

    /// Runs `during` once, in the middle of the first fold it is asked to train, as a second
    /// process sharing `out` would finish its own folds meanwhile.
    struct Concurrent<'a> {
        inner: &'a CentroidTrainer,
        during: std::cell::RefCell<Option<Box<dyn FnOnce() + 'a>>>,
    }

    impl FoldTrainer for Concurrent<'_> {
        fn train_fold(
            &self,
            fold: usize,
            train: &[Utterance],
            test_speakers: &[String],
            dir: &Path,
        ) -> std::result::Result<Box<dyn Predictor>, String> {
            if let Some(f) = self.during.borrow_mut().take() {
                f();
            }
            self.inner.train_fold(fold, train, test_speakers, dir)
        }
    }

    #[test]
    fn a_fold_finished_by_another_process_during_training_still_completes_the_summary() {
        // `--fold 2` sees fold 1 unfinished when it starts; the `--fold 1` process finishes
        // while fold 2 trains. The process that ends last must write the summary.
        let utts = six_actors();
        let dir = tempfile::tempdir().unwrap();
        let cfg = config();
        let other = CentroidTrainer {
            calls: Cell::new(0),
        };
        run_cv_folds(
            utts.clone(),
            &other,
            &cfg,
            dir.path(),
            Some(&[3]),
            &mut |_| {},
        )
        .unwrap();
        let inner = CentroidTrainer {
            calls: Cell::new(0),
        };
        let (u, c, d) = (utts.clone(), cfg.clone(), dir.path().to_path_buf());
        let other = &other;
        let trainer = Concurrent {
            inner: &inner,
            during: std::cell::RefCell::new(Some(Box::new(move || {
                let p = run_cv_folds(u, other, &c, &d, Some(&[1]), &mut |_| {}).unwrap();
                assert!(
                    matches!(p, CvProgress::Partial { .. }),
                    "fold 2 is not done yet"
                );
            }))),
        };
        let mut events = Vec::new();
        let p = run_cv_folds(utts, &trainer, &cfg, dir.path(), Some(&[2]), &mut |e| {
            events.push(e)
        })
        .unwrap();
        let CvProgress::Complete(s) = p else {
            panic!("folds 1 and 3 were finished by the other process")
        };
        assert_eq!(inner.calls.get(), 1);
        assert_eq!(s.resumed_folds, vec![1, 3]);
        assert_eq!(
            s.folds.iter().map(|f| f.fold).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert!(events.contains(&CvEvent::Resumed { fold: 1 }));
        assert!(dir.path().join("cv.json").is_file());
    }

    /// Copies a directory tree (test helper).
    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let target = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy_tree(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), target).unwrap();
            }
        }
    }

    #[test]
    fn combined_runs_average_probabilities_clip_by_clip() {
        use crate::cv::combine_runs;
        let utts = six_actors();
        let root = tempfile::tempdir().unwrap();
        let (a, b) = (root.path().join("a"), root.path().join("b"));
        let trainer = CentroidTrainer {
            calls: Cell::new(0),
        };
        let sa = run_cv(utts.clone(), &trainer, &config(), &a, &mut |_| {}).unwrap();

        // Run b: a copy of a whose first clip of fold 1 is predicted one-hot "surprised".
        copy_tree(&a, &b);
        let csv_path = b.join("fold-1/predictions.csv");
        let text = std::fs::read_to_string(&csv_path).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let header: Vec<&str> = lines[0].split(',').collect();
        let n_probs = header.iter().filter(|h| h.starts_with("prob_")).count();
        let mut row: Vec<String> = lines[1].split(',').map(String::from).collect();
        let first_prob = row.len() - n_probs;
        let a_probs: Vec<f32> = row[first_prob..]
            .iter()
            .map(|v| v.parse().unwrap())
            .collect();
        for (i, v) in row[first_prob..].iter_mut().enumerate() {
            *v = if i == n_probs - 1 {
                "1.0".into()
            } else {
                "0.0".into()
            };
        }
        lines[1] = row.join(",");
        std::fs::write(&csv_path, lines.join("\n") + "\n").unwrap();

        let out = root.path().join("ab");
        let (s, labels) = combine_runs(&[a.clone(), b.clone()], &out).unwrap();
        assert_eq!(labels.len(), n_probs);
        assert_eq!(s.folds.len(), sa.folds.len());
        // Folds 2 and 3 are a run combined with itself: the same scores.
        for k in 1..3 {
            assert!((s.folds[k].ua - sa.folds[k].ua).abs() < 1e-12);
        }
        let combined = std::fs::read_to_string(out.join("fold-1/predictions.csv")).unwrap();
        let row: Vec<&str> = combined.lines().nth(1).unwrap().split(',').collect();
        let got: Vec<f32> = row[row.len() - n_probs..]
            .iter()
            .map(|v| v.parse().unwrap())
            .collect();
        for (i, (g, p)) in got.iter().zip(&a_probs).enumerate() {
            let want = (p + if i == n_probs - 1 { 1.0 } else { 0.0 }) / 2.0;
            assert!((g - want).abs() < 1e-5, "class {i}: {g} vs {want}");
        }
        assert!(out.join("cv.json").is_file() && out.join("fold-1/report.json").is_file());

        // Runs with other folds, and unfinished runs, are refused by name.
        let c = root.path().join("c");
        let other = CvConfig {
            seed: 2,
            ..config()
        };
        run_cv(utts, &trainer, &other, &c, &mut |_| {}).unwrap();
        let err = combine_runs(&[a.clone(), c], &out).unwrap_err();
        assert!(err.to_string().contains("--runs"), "{err}");
        let err = combine_runs(&[a, root.path().join("missing")], &out).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }
}
