//! The fold loop of a cross-validation by actor: split the actors with
//! `ravdess_loader::split::kfold_by_speaker`, train every fold that is not finished yet,
//! score it on its held-out actors (`ser_eval::cv::score_fold`), and summarise once every fold
//! is done. Resumable: a fold whose `fold.json` exists is not redone.
//!
//! Training is reached through the [`FoldTrainer`] trait, so the loop (and its tests) do not
//! depend on how a fold's model is made; [`super::RecipeFolds`] trains a `ser-train` recipe.

use std::path::Path;

use ravdess_loader::{Utterance, split};
use ser_eval::cv::{
    CvConfig, CvSummary, TrainedFold, check_config, finished_fold_of, fold_dir, score_fold,
    summarise, write_summary,
};
use ser_models::EmotionModel;

use super::CvEvent;
use crate::error::{Context, Result, TrainError};

/// One fold to train.
#[derive(Debug, Clone, Copy)]
pub struct FoldSpec<'a> {
    /// Fold number, from 1.
    pub number: usize,
    /// The fold's training utterances (with or without audio, as the corpus gives them).
    pub train: &'a [Utterance],
    /// The fold's held-out actors: a trainer must use them for nothing but excluding them
    /// (trainers that hold out speakers by name, like `ser-train`'s, take them from here).
    pub test_speakers: &'a [String],
    /// The fold's directory, for the trainer's artifact and logs.
    pub dir: &'a Path,
}

/// Trains one model per fold.
pub trait FoldTrainer {
    /// Trains fold `fold` and returns its model; `events` hears about the training.
    ///
    /// # Errors
    ///
    /// Whatever stops the training; the loop names the fold.
    fn train_fold(
        &self,
        fold: &FoldSpec<'_>,
        events: &mut (dyn FnMut(CvEvent) + Send),
    ) -> Result<Box<dyn EmotionModel>>;
}

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

/// Runs (or resumes) cross-validation by actor over `utts` and writes, in `out`:
/// `cv-config.json`, `fold-N/` (the trainer's files, the fold's evaluation outputs and
/// `fold.json`), then `cv.json` and `cv.md` (the layout of `ser_eval::cv`).
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
    events: &mut (dyn FnMut(CvEvent) + Send),
) -> Result<CvSummary> {
    match run_cv_folds(utts, trainer, config, out, None, events)? {
        CvProgress::Complete(summary) => Ok(*summary),
        // Unreachable with `only = None`, which trains every missing fold.
        CvProgress::Partial { pending, .. } => Err(TrainError::config(
            "--fold",
            format!("folds {pending:?} were not trained"),
        )),
    }
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
    events: &mut (dyn FnMut(CvEvent) + Send),
) -> Result<CvProgress> {
    let pool = FoldPool {
        held_out: utts,
        ..FoldPool::default()
    };
    run_cv_pool(&pool, trainer, config, out, only, events)
}

/// The clips of a cross-validation: those the folds are made of, and those that every fold
/// trains on and none holds out (`ser-train cv --test-corpus NAME`: the other corpora).
#[derive(Debug, Clone, Default)]
pub struct FoldPool {
    /// Split into folds by speaker (`kfold_by_speaker`): each fold holds some of their
    /// speakers out and trains on the others.
    pub held_out: Vec<Utterance>,
    /// In every fold's training set, never held out nor scored.
    pub always_train: Vec<Utterance>,
    /// The summary's protocol sentence, when it is not the plain cross-validation's (which
    /// `ser_eval::cv::summarise` writes from the config alone and would not mention
    /// `always_train`).
    pub protocol: Option<String>,
}

/// [`run_cv_folds`] over a [`FoldPool`]: the folds are made of `pool.held_out` only, and every
/// fold's training set is its share of them plus all of `pool.always_train`.
///
/// # Errors
///
/// As [`run_cv_folds`].
pub fn run_cv_pool(
    pool: &FoldPool,
    trainer: &dyn FoldTrainer,
    config: &CvConfig,
    out: &Path,
    only: Option<&[usize]>,
    events: &mut (dyn FnMut(CvEvent) + Send),
) -> Result<CvProgress> {
    let utts = &pool.held_out;
    if let Some(bad) = only
        .into_iter()
        .flatten()
        .find(|&&f| f == 0 || f > config.folds)
    {
        return Err(TrainError::config(
            "--fold",
            format!("{bad}: give fold numbers from 1 to --folds"),
        ));
    }
    check_config(out, config)?;
    let folds = split::kfold_by_speaker(utts, config.folds, config.seed)?;
    let (mut results, mut resumed, mut pending) = (Vec::new(), Vec::new(), Vec::new());
    // Each fold's training speakers (sorted): those of its share of the held-out pool and of
    // every always-trained clip. A finished fold is reused only if it had the same.
    let train_speakers = |fold: &split::Fold| {
        let set: std::collections::BTreeSet<String> = fold
            .train
            .iter()
            .map(|&j| &utts[j])
            .chain(&pool.always_train)
            .filter_map(|u| u.speaker.clone())
            .collect();
        set.into_iter().collect::<Vec<_>>()
    };
    let finished = |number: usize| {
        let fold = &folds[number - 1];
        finished_fold_of(out, number, &fold.test_speakers, &train_speakers(fold))
    };
    for (i, fold) in folds.iter().enumerate() {
        let number = i + 1;
        if let Some(r) = finished(number)? {
            events(CvEvent::Resumed { fold: number });
            resumed.push(number);
            results.push(r);
            continue;
        }
        if only.is_some_and(|o| !o.contains(&number)) {
            pending.push(number);
            continue;
        }
        events(CvEvent::Training {
            fold: number,
            of: folds.len(),
        });
        let started = std::time::Instant::now();
        let train: Vec<Utterance> = fold
            .train
            .iter()
            .map(|&j| utts[j].clone())
            .chain(pool.always_train.iter().cloned())
            .collect();
        let test: Vec<Utterance> = fold.test.iter().map(|&j| utts[j].clone()).collect();
        let dir = fold_dir(out, number);
        let spec = FoldSpec {
            number,
            train: &train,
            test_speakers: &fold.test_speakers,
            dir: &dir,
        };
        let model = trainer
            .train_fold(&spec, events)
            .context(|| format!("training fold {number} failed"))?;
        // The trainer tells us exactly which actors it saw; the fold's report uses that
        // rather than the artifact's manifest.
        let trained = TrainedFold {
            number,
            model: model.as_ref(),
            train_actors: train_speakers(fold),
            test_actors: fold.test_speakers.clone(),
            test,
            started,
            test_corpus_only: !pool.always_train.is_empty(),
        };
        let r = score_fold(out, trained, config)?;
        events(CvEvent::Done(r.clone()));
        results.push(r);
    }
    // Another process may have finished a pending fold while this one trained: a process
    // given `--fold 2` looks at fold 1 before its own training starts, so without this second
    // look the two processes of a `--fold 1` / `--fold 2` pair that both outlive each other's
    // start would each leave the summary to the other, and neither would write it.
    let mut still_pending = Vec::new();
    for number in pending {
        match finished(number)? {
            Some(r) => {
                events(CvEvent::Resumed { fold: number });
                resumed.push(number);
                results.push(r);
            }
            None => still_pending.push(number),
        }
    }
    if !still_pending.is_empty() {
        let mut done: Vec<usize> = results.iter().map(|r| r.fold).collect();
        done.sort_unstable();
        return Ok(CvProgress::Partial {
            done,
            pending: still_pending,
        });
    }
    resumed.sort_unstable();
    if !pool.always_train.is_empty() {
        // Every held-out clip is of one corpus (`--test-corpus`): its macro-F1 over the
        // labels it has, as its UA. `score_fold` already wrote it so; this also mends folds
        // resumed from a `fold.json` written by a build before it did (8-label macro-F1).
        results
            .iter_mut()
            .for_each(ser_eval::cv::use_test_corpus_macro_f1);
    }
    let mut summary = summarise(config, results, resumed);
    if let Some(p) = &pool.protocol {
        summary.protocol = p.clone();
    }
    write_summary(out, &summary)?;
    Ok(CvProgress::Complete(Box::new(summary)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ravdess_loader::synth::{self, SynthConfig};
    use ravdess_loader::{Emotion, LoadOptions, load_audio};
    use ser_audio::Audio;
    use ser_eval::cv::FoldResult;
    use ser_eval::metrics::BootstrapConfig;
    use ser_models::Prediction;
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

    impl EmotionModel for Centroid {
        fn labels(&self) -> &[String] {
            &self.labels
        }
        fn sample_rate(&self) -> u32 {
            16_000
        }
        fn training_speakers(&self) -> Option<Vec<String>> {
            None
        }
        fn predict_batch(&self, audio: &[Audio]) -> ser_models::Result<Vec<Prediction>> {
            audio
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
                    // The nearest centroid, even where every weight underflows to 0.
                    Ok(Prediction {
                        label: self.labels[best].clone(),
                        index: best,
                        probabilities: w.iter().map(|x| x / s).collect(),
                    })
                })
                .collect()
        }
    }

    struct CentroidTrainer {
        calls: Cell<usize>,
    }

    impl FoldTrainer for CentroidTrainer {
        fn train_fold(
            &self,
            fold: &FoldSpec<'_>,
            _events: &mut (dyn FnMut(CvEvent) + Send),
        ) -> Result<Box<dyn EmotionModel>> {
            self.calls.set(self.calls.get() + 1);
            assert!(
                fold.train
                    .iter()
                    .all(|u| !fold.test_speakers.contains(u.speaker.as_ref().unwrap()))
            );
            let labels: Vec<String> = Emotion::ALL.iter().map(|e| e.name().to_string()).collect();
            let loaded = load_audio(fold.train.to_vec(), &LoadOptions::default(), |_, _| {})?;
            let mut sums = vec![[0.0f64; 3]; labels.len()];
            for u in &loaded.utterances {
                let c = labels.iter().position(|l| *l == u.label).unwrap();
                let f = features(u.audio.as_ref().unwrap());
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
            corpora: Vec::new(),
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

    /// A directory holding a fold of another split (here trained without the clips every fold
    /// of the second run also trains on, as `--test-corpus` adds them) is refused, not mixed
    /// into this run's scores: `cv-config.json` is the same for both.
    #[test]
    fn a_finished_fold_of_other_speakers_is_refused_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let trainer = CentroidTrainer {
            calls: Cell::new(0),
        };
        let only_1 = Some(&[1][..]);
        run_cv_folds(
            six_actors(),
            &trainer,
            &config(),
            dir.path(),
            only_1,
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(trainer.calls.get(), 1);
        let pool = FoldPool {
            held_out: six_actors(),
            always_train: synth::generate_labels_only(&SynthConfig {
                actors: vec![7],
                ..Default::default()
            }),
            protocol: None,
        };
        let trainer = CentroidTrainer {
            calls: Cell::new(0),
        };
        let err = run_cv_pool(&pool, &trainer, &config(), dir.path(), None, &mut |_| {})
            .unwrap_err()
            .to_string();
        assert_eq!(trainer.calls.get(), 0, "nothing trained before the refusal");
        assert!(err.contains("fold-1/fold.json"), "{err}");
        assert!(err.contains("trained on") && err.contains("07"), "{err}");
        assert!(err.contains("pick another --out"), "{err}");
    }

    /// With `--test-corpus` every held-out clip is of one corpus, which here lacks two of the
    /// model's eight labels (as EMO-DB lacks calm and surprised): each fold's progress line and
    /// `fold.json` give its macro-F1 over the six it has, as the summary does, not the
    /// evaluation report's over all eight (two classes without support counting as F1 0).
    #[test]
    fn a_test_corpus_fold_reports_macro_f1_over_the_labels_it_has() {
        let corpus = |utts: Vec<Utterance>, name: &str| -> Vec<Utterance> {
            utts.into_iter()
                .map(|mut u| {
                    u.corpus = name.to_string();
                    u.speaker = u
                        .speaker
                        .map(|s| ravdess_loader::speaker::namespaced(name, &s));
                    u
                })
                .collect()
        };
        let six_labels = six_actors()
            .into_iter()
            .filter(|u| u.label != "calm" && u.label != "surprised")
            .collect();
        let pool = FoldPool {
            held_out: corpus(six_labels, "emo"),
            always_train: corpus(
                synth::generate(&SynthConfig {
                    actors: vec![7, 8],
                    ..Default::default()
                }),
                "rav",
            ),
            protocol: None,
        };
        let cfg = CvConfig {
            corpora: ["emo", "rav"]
                .map(|name| ser_eval::CorpusRef {
                    name: name.into(),
                    root: None,
                })
                .to_vec(),
            ..config()
        };
        let trainer = CentroidTrainer {
            calls: Cell::new(0),
        };
        let dir = tempfile::tempdir().unwrap();
        let mut done = Vec::new();
        let p = run_cv_pool(&pool, &trainer, &cfg, dir.path(), None, &mut |e| {
            if let CvEvent::Done(r) = e {
                done.push(r)
            }
        })
        .unwrap();
        assert!(matches!(p, CvProgress::Complete(_)));
        assert_eq!(done.len(), 3);
        for r in &done {
            let [row] = &r.by_corpus[..] else {
                panic!(
                    "fold {}: one corpus row expected: {:?}",
                    r.fold, r.by_corpus
                )
            };
            assert_eq!((row.corpus.as_str(), row.labels.len()), ("emo", 6));
            let written: FoldResult = serde_json::from_slice(
                &std::fs::read(dir.path().join(format!("fold-{}/fold.json", r.fold))).unwrap(),
            )
            .unwrap();
            let report: serde_json::Value = serde_json::from_slice(
                &std::fs::read(dir.path().join(format!("fold-{}/report.json", r.fold))).unwrap(),
            )
            .unwrap();
            let eight = report["macro_f1"].as_f64().unwrap();
            assert!(
                row.macro_f1 > eight + 1e-6,
                "fold {}: the 6-label macro-F1 {} should exceed the 8-label {eight}",
                r.fold,
                row.macro_f1
            );
            assert_eq!(r.macro_f1, row.macro_f1, "progress line of fold {}", r.fold);
            assert_eq!(written.macro_f1, row.macro_f1, "fold-{}/fold.json", r.fold);
        }
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
            fold: &FoldSpec<'_>,
            events: &mut (dyn FnMut(CvEvent) + Send),
        ) -> Result<Box<dyn EmotionModel>> {
            if let Some(f) = self.during.borrow_mut().take() {
                f();
            }
            self.inner.train_fold(fold, events)
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
        assert!(
            events
                .iter()
                .any(|e| matches!(e, CvEvent::Resumed { fold: 1 }))
        );
        assert!(dir.path().join("cv.json").is_file());
    }
}
