//! Ensembles of cross-validation runs, scored fold by fold.
//!
//! Runs that share their folds (the same fold-assignment `--seed` over the same actors) but
//! differ in training seed (`--train-seed`) or in model have, for every fold, models that
//! never heard that fold's actors. Averaging their class probabilities clip by clip gives the
//! held-out predictions of the *ensemble* of those models, so the combined per-fold scores
//! are as speaker-independent as the runs' own. Nothing is retrained: the runs'
//! `predictions.csv` files hold every probability needed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::corpora::{corpora_of, corpus_scores};
use crate::error::{EvalError, Result};
use crate::evaluate::Evaluation;
use crate::output::{PREDICTIONS_FILE, write_outputs};
use crate::report::{EvalReport, PredictionRecord, Protocol};

use super::layout::{fold_dir, now_unix, write_json, write_summary};
use super::pooled::read_predictions;
use super::summary::{
    CvSummary, FoldResult, MeanStd, holds_out_one_corpus, machine_description,
    use_test_corpus_macro_f1,
};

/// Reads the `cv.json` of a finished cross-validation run.
///
/// # Errors
///
/// [`EvalError::InvalidConfig`] naming `--runs` when the run has no `cv.json` (unfinished, or
/// not a cross-validation directory); [`EvalError::Json`] for an unreadable one.
pub fn read_summary(run: &Path) -> Result<CvSummary> {
    let path = run.join("cv.json");
    let bytes = std::fs::read(&path).map_err(|_| EvalError::InvalidConfig {
        field: "--runs",
        value: run.display().to_string(),
        expected: "finished `ser-train cv` directories (each with a cv.json; re-run an \
                   unfinished one with its own command to complete it)",
    })?;
    serde_json::from_slice(&bytes).map_err(|source| EvalError::Json { path, source })
}

/// The class labels of a `predictions.csv`, from its `prob_<label>` columns, in order.
///
/// # Errors
///
/// [`EvalError::Csv`] if the file cannot be read; [`EvalError::BadPredictions`] when it has
/// fewer than two `prob_` columns.
pub fn labels_of(predictions: &Path) -> Result<Vec<String>> {
    let csv_err = |source| EvalError::Csv {
        path: predictions.to_path_buf(),
        source,
    };
    let mut reader = csv::Reader::from_path(predictions).map_err(csv_err)?;
    let labels: Vec<String> = reader
        .headers()
        .map_err(csv_err)?
        .iter()
        .filter_map(|h| h.strip_prefix("prob_").map(String::from))
        .collect();
    if labels.len() < 2 {
        return Err(EvalError::BadPredictions {
            path: predictions.to_path_buf(),
            reason: "fewer than two `prob_<label>` columns".into(),
        });
    }
    Ok(labels)
}

/// Combines finished cross-validation `runs` into the cross-validation of their ensemble and
/// writes it to `out`: `fold-N/` with the ensemble's evaluation outputs (`predictions.csv`,
/// `report.json`, ...) and `fold.json`, then `cv.json` and `cv.md` as `ser-train cv` does.
/// Returns the summary and the labels.
///
/// # Errors
///
/// [`EvalError::InvalidConfig`] for fewer than two runs, unfinished runs, or runs whose folds
/// differ (fold count, held-out or training actors); [`EvalError::BadPredictions`] when two
/// runs predicted different clips or labels for a fold; I/O and CSV errors naming the file.
pub fn combine_runs(runs: &[PathBuf], out: &Path) -> Result<(CvSummary, Vec<String>)> {
    let invalid = |value: String, expected: &'static str| EvalError::InvalidConfig {
        field: "--runs",
        value,
        expected,
    };
    if runs.len() < 2 {
        return Err(invalid(
            format!("{} run(s)", runs.len()),
            "at least two cross-validation directories",
        ));
    }
    let summaries = runs
        .iter()
        .map(|r| read_summary(r))
        .collect::<Result<Vec<_>>>()?;
    let first = &summaries[0];
    for (run, s) in runs.iter().zip(&summaries).skip(1) {
        let same_folds = s.folds.len() == first.folds.len()
            && s.folds.iter().zip(&first.folds).all(|(a, b)| {
                a.fold == b.fold
                    && a.test_actors == b.test_actors
                    && a.train_actors == b.train_actors
            });
        if !same_folds {
            return Err(invalid(
                run.display().to_string(),
                "runs with the same folds (same --seed, --folds and actors; vary only \
                 --train-seed or the model)",
            ));
        }
    }
    let labels = labels_of(&fold_dir(&runs[0], first.folds[0].fold).join(PREDICTIONS_FILE))?;
    let names: Vec<String> = runs.iter().map(|r| r.display().to_string()).collect();
    // Runs of `ser-train cv --test-corpus`: their folds score one corpus, macro-F1 included
    // (over that corpus's labels), and so do the ensemble's.
    let one_corpus = holds_out_one_corpus(&first.config, &first.folds);
    let mut results = Vec::with_capacity(first.folds.len());
    for fold in &first.folds {
        let dir = fold_dir(out, fold.fold);
        let records = average_fold(runs, fold.fold, &labels)?;
        let mut protocol = Protocol {
            model: format!(
                "cv fold {} ensemble of {} runs ({})",
                fold.fold,
                runs.len(),
                names.join(", ")
            ),
            data: first.config.data.clone(),
            actors_evaluated: fold.test_actors.clone(),
            training_actors: Some(fold.train_actors.clone()),
            ..Protocol::default()
        };
        protocol.check_overlap();
        let mut report = EvalReport::build(&labels, &records, protocol, &first.config.bootstrap)?;
        if !first.config.corpora.is_empty() {
            report.by_corpus = corpus_scores(&labels, &records, &corpora_of(&records))?;
        }
        let eval = Evaluation { report, records };
        write_outputs(&dir, &eval)?;
        let mut r = FoldResult {
            fold: fold.fold,
            test_actors: fold.test_actors.clone(),
            train_actors: fold.train_actors.clone(),
            n: eval.report.n,
            ua: eval.report.ua,
            wa: eval.report.wa,
            macro_f1: eval.report.macro_f1,
            kappa: eval.report.kappa,
            // Training time of the ensemble: all of its members'.
            seconds: summaries
                .iter()
                .filter_map(|s| s.folds.iter().find(|f| f.fold == fold.fold))
                .map(|f| f.seconds)
                .sum(),
            by_corpus: eval.report.by_corpus.clone(),
        };
        if one_corpus {
            use_test_corpus_macro_f1(&mut r);
        }
        write_json(&dir.join("fold.json"), &r)?;
        results.push(r);
    }
    let pick = |f: fn(&FoldResult) -> f64| MeanStd::of(&results.iter().map(f).collect::<Vec<_>>());
    let mut config = first.config.clone();
    config.train_seed = None;
    config.recipe = Some(format!(
        "ensemble (class probabilities averaged) of {} runs: {}",
        runs.len(),
        summaries
            .iter()
            .zip(&names)
            .map(|(s, n)| format!(
                "{n} [{}{}]",
                s.config.recipe.as_deref().unwrap_or(&s.config.model_type),
                s.config
                    .train_seed
                    .map(|t| format!(", training seed {t}"))
                    .unwrap_or_default()
            ))
            .collect::<Vec<_>>()
            .join("; ")
    ));
    let summary = CvSummary {
        protocol: format!(
            "{}; every fold's prediction is the average of the {} runs' models for that fold, \
             none of which heard the fold's actors",
            runs_protocol(&summaries, &names),
            runs.len()
        ),
        config,
        ua: pick(|r| r.ua),
        wa: pick(|r| r.wa),
        macro_f1: pick(|r| r.macro_f1),
        kappa: pick(|r| r.kappa),
        folds: results,
        resumed_folds: Vec::new(),
        // The runs may have been trained on other machines; say which.
        machine: {
            let mut machines: Vec<&str> = summaries.iter().map(|s| s.machine.as_str()).collect();
            machines.dedup();
            format!(
                "runs trained on {}; combined on {}",
                machines.join(" / "),
                machine_description()
            )
        },
        written_unix: now_unix(),
    };
    write_summary(out, &summary)?;
    Ok((summary, labels))
}

/// The clip-by-clip average of every run's probabilities for one fold. Clips are matched by
/// file name (runs made on different machines store different directories).
fn average_fold(runs: &[PathBuf], fold: usize, labels: &[String]) -> Result<Vec<PredictionRecord>> {
    let path_of = |run: &Path| fold_dir(run, fold).join(PREDICTIONS_FILE);
    let mut base = Vec::new();
    read_predictions(&path_of(&runs[0]), labels, &mut base)?;
    // The file name, and the speaker: corpora combined from copies of one layout may share
    // file names, never namespaced speakers.
    let file = |r: &PredictionRecord| {
        Path::new(&r.id)
            .file_name()
            .map_or_else(|| r.id.clone(), |n| n.to_string_lossy().into_owned())
    };
    let key = |r: &PredictionRecord| (r.speaker.clone(), file(r));
    for run in &runs[1..] {
        let path = path_of(run);
        let mut other = Vec::new();
        read_predictions(&path, labels, &mut other)?;
        let mut by_key: HashMap<(Option<String>, String), PredictionRecord> =
            other.into_iter().map(|r| (key(&r), r)).collect();
        for r in &mut base {
            let o = by_key
                .remove(&key(r))
                .ok_or_else(|| EvalError::BadPredictions {
                    path: path.clone(),
                    reason: format!(
                        "no prediction for {} (the runs evaluated different clips)",
                        file(r)
                    ),
                })?;
            if o.true_index != r.true_index {
                return Err(EvalError::BadPredictions {
                    path: path.clone(),
                    reason: format!(
                        "{} has another true label than in {}",
                        file(r),
                        runs[0].display()
                    ),
                });
            }
            for (p, q) in r.probabilities.iter_mut().zip(&o.probabilities) {
                *p += q;
            }
        }
        if let Some((_, extra)) = by_key.keys().next() {
            return Err(EvalError::BadPredictions {
                path,
                reason: format!("{extra} is not among the clips of {}", runs[0].display()),
            });
        }
    }
    let n = runs.len() as f32;
    for r in &mut base {
        for p in &mut r.probabilities {
            *p /= n;
        }
        // First maximum, as the classifiers' own argmax picks.
        r.predicted_index = r
            .probabilities
            .iter()
            .enumerate()
            .fold((0, f32::NEG_INFINITY), |best, (i, &p)| {
                if p > best.1 { (i, p) } else { best }
            })
            .0;
    }
    Ok(base)
}

/// The protocol sentence of runs with the same folds: the first run's when all agree, else
/// each run's, named (runs fine-tuned from other parents say so in it, and every parent
/// should be named, not only the first run's).
fn runs_protocol(summaries: &[CvSummary], names: &[String]) -> String {
    let first = &summaries[0].protocol;
    if summaries.iter().all(|s| s.protocol == *first) {
        return first.clone();
    }
    summaries
        .iter()
        .zip(names)
        .map(|(s, n)| format!("{n}: {}", s.protocol))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpora::{CorpusRef, CorpusScore};
    use crate::cv::layout::test_support::two_folds;

    const LABELS: [&str; 2] = ["a", "b"];

    /// A finished two-fold run in `dir` (actor 01 held out in fold 1, 02 in fold 2) whose
    /// `predictions.csv` rows are `rows[fold - 1]`.
    fn run(dir: &Path, seed: u64, rows: [&str; 2]) {
        write_run(dir, &two_folds(seed, 1.0), "prob_a,prob_b", rows);
    }

    /// Writes `summary` as `dir/cv.json` and fold K's `predictions.csv` (probability columns
    /// `probs`) with the rows `rows[K - 1]`.
    fn write_run(dir: &Path, summary: &CvSummary, probs: &str, rows: [&str; 2]) {
        std::fs::create_dir_all(dir).unwrap();
        write_summary(dir, summary).unwrap();
        for (k, rows) in rows.iter().enumerate() {
            let d = fold_dir(dir, k + 1);
            std::fs::create_dir_all(&d).unwrap();
            let csv = format!("path,actor,true,predicted,{probs}\n{rows}");
            std::fs::write(d.join(PREDICTIONS_FILE), csv).unwrap();
        }
    }

    #[test]
    fn the_ensemble_of_two_runs_averages_their_probabilities_clip_by_clip() {
        let root = tempfile::tempdir().unwrap();
        let (a, b, out) = (
            root.path().join("a"),
            root.path().join("b"),
            root.path().join("ab"),
        );
        // Clips are matched by file name, whatever directory each run stored.
        run(
            &a,
            0,
            [
                "x/c1.wav,01,a,a,0.9,0.1\nx/c2.wav,01,b,a,0.6,0.4\n",
                "x/c3.wav,02,b,b,0.2,0.8\n",
            ],
        );
        run(
            &b,
            0,
            [
                "y/c2.wav,01,b,b,0.0,1.0\ny/c1.wav,01,a,a,0.7,0.3\n",
                "y/c3.wav,02,b,b,0.4,0.6\n",
            ],
        );
        let (s, labels) = combine_runs(&[a.clone(), b.clone()], &out).unwrap();
        assert_eq!(labels, LABELS);
        assert_eq!(s.folds.len(), 2);
        // Fold 1: c1 (0.8, 0.2) -> a, right; c2 (0.3, 0.7) -> b, right (run a alone had it wrong).
        assert_eq!(s.folds[0].ua, 1.0);
        assert_eq!(
            s.folds[0].seconds, 2.0,
            "the ensemble's training time is its members'"
        );
        let text = std::fs::read_to_string(fold_dir(&out, 1).join(PREDICTIONS_FILE)).unwrap();
        let c2 = text.lines().find(|l| l.contains("c2.wav")).unwrap();
        let probs: Vec<f32> = c2.rsplit(',').take(2).map(|v| v.parse().unwrap()).collect();
        assert!(
            (probs[0] - 0.7).abs() < 1e-6 && (probs[1] - 0.3).abs() < 1e-6,
            "{c2}"
        );
        assert!(out.join("cv.json").is_file() && out.join("cv.md").is_file());
        assert!(
            s.config
                .recipe
                .unwrap()
                .contains("ensemble (class probabilities averaged) of 2 runs")
        );

        // Runs with other folds, a single run and unfinished runs are refused by name.
        let c = root.path().join("c");
        run(&c, 0, ["z/c1.wav,01,a,a,1,0\n", "z/c3.wav,02,b,b,0,1\n"]);
        let mut summary = read_summary(&c).unwrap();
        summary.folds[0].test_actors = vec!["02".into()];
        write_summary(&c, &summary).unwrap();
        let err = combine_runs(&[a.clone(), c], &out).unwrap_err();
        assert!(err.to_string().contains("--runs"), "{err}");
        let err = combine_runs(std::slice::from_ref(&a), &out).unwrap_err();
        assert!(err.to_string().contains("at least two"), "{err}");
        let err = combine_runs(&[a, root.path().join("missing")], &out).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }

    /// A finished two-fold run of `ser-train cv --test-corpus e` in `dir`: corpora `r` (trained
    /// on only) and `e`, three model labels `a b c` of which `e` has `a b`; fold K holds out
    /// `e:0K` and predicts `rows[K - 1]`.
    fn test_corpus_run(dir: &Path, rows: [&str; 2]) {
        let mut summary = two_folds(0, 1.0);
        summary.config.corpora = ["r", "e"]
            .map(|name| CorpusRef {
                name: name.into(),
                root: None,
            })
            .to_vec();
        for (k, f) in summary.folds.iter_mut().enumerate() {
            f.test_actors = vec![format!("e:0{}", k + 1)];
            f.train_actors = vec![format!("e:0{}", 2 - k), "r:01".into()];
            f.by_corpus = vec![CorpusScore {
                corpus: "e".into(),
                n: 2,
                labels: vec!["a".into(), "b".into()],
                ua: 0.0,
                wa: 0.0,
                macro_f1: 0.0,
            }];
        }
        write_run(dir, &summary, "prob_a,prob_b,prob_c", rows);
    }

    #[test]
    fn test_corpus_runs_combine_into_macro_f1_over_the_corpus_labels() {
        let root = tempfile::tempdir().unwrap();
        let (a, b, out) = (
            root.path().join("a"),
            root.path().join("b"),
            root.path().join("ab"),
        );
        // Every clip right: F1 1 for `a` and `b`; `c`, which corpus `e` lacks, has no support.
        let rows = [
            "c1.wav,e:01,a,a,0.8,0.1,0.1\nc2.wav,e:01,b,b,0.1,0.8,0.1\n",
            "c3.wav,e:02,a,a,0.8,0.1,0.1\nc4.wav,e:02,b,b,0.1,0.8,0.1\n",
        ];
        test_corpus_run(&a, rows);
        test_corpus_run(&b, rows);
        let (s, _) = combine_runs(&[a, b], &out).unwrap();
        for f in &s.folds {
            assert_eq!(f.ua, 1.0, "fold {}", f.fold);
            // Over all three model labels it would be 2/3 (c's F1 counted as 0).
            assert_eq!(f.macro_f1, 1.0, "fold {}: {:?}", f.fold, f.by_corpus);
        }
        assert_eq!(s.macro_f1.mean, 1.0);
        let fold1: FoldResult =
            serde_json::from_slice(&std::fs::read(fold_dir(&out, 1).join("fold.json")).unwrap())
                .unwrap();
        assert_eq!(fold1.macro_f1, 1.0, "fold.json agrees with cv.json");
    }

    /// Runs fine-tuned from other parents have other protocol sentences (each names its
    /// parent): the ensemble's names every run's, not only the first's.
    #[test]
    fn runs_of_other_protocols_are_each_named_in_the_ensembles() {
        let root = tempfile::tempdir().unwrap();
        let rows = ["c1.wav,01,a,a,0.9,0.1\n", "c3.wav,02,b,b,0.2,0.8\n"];
        let mut runs = Vec::new();
        for parent in ["p0", "p1"] {
            let dir = root.path().join(format!("ft-{parent}"));
            let mut summary = two_folds(0, 1.0);
            summary.protocol = format!("fine-tune of each fold's parent from {parent}");
            write_run(&dir, &summary, "prob_a,prob_b", rows);
            runs.push(dir);
        }
        let (s, _) = combine_runs(&runs, &root.path().join("both")).unwrap();
        for (run, parent) in runs.iter().zip(["p0", "p1"]) {
            let named = format!(
                "{}: fine-tune of each fold's parent from {parent}",
                run.display()
            );
            assert!(s.protocol.contains(&named), "{}", s.protocol);
        }
        // Runs that agree keep the one sentence.
        let same = [runs[0].clone(), runs[0].clone()];
        let (s, _) = combine_runs(&same, &root.path().join("same")).unwrap();
        assert!(
            s.protocol
                .starts_with("fine-tune of each fold's parent from p0; every fold's prediction"),
            "{}",
            s.protocol
        );
    }

    #[test]
    fn runs_that_predicted_other_clips_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let (a, b) = (root.path().join("a"), root.path().join("b"));
        run(
            &a,
            0,
            ["c1.wav,01,a,a,0.9,0.1\n", "c3.wav,02,b,b,0.2,0.8\n"],
        );
        run(
            &b,
            0,
            ["c9.wav,01,a,a,0.9,0.1\n", "c3.wav,02,b,b,0.2,0.8\n"],
        );
        let err = combine_runs(&[a, b], &root.path().join("ab")).unwrap_err();
        assert!(
            err.to_string().contains("no prediction for c1.wav"),
            "{err}"
        );
    }
}
