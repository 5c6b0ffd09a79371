//! Cross-validation of a fine-tuning recipe (`ser-train cv --init DIR`, issue 27): the folds
//! over one corpus's speakers (`--test-corpus NAME`, the other corpora in every fold's
//! training set), the check that no fold holds out a speaker the parent heard, and the
//! protocol sentence that says so.
//!
//! Why the check: a fine-tune starts from weights that have already learnt the parent's
//! training speakers. A fold that holds one of them out would score the fine-tune on a voice
//! it has heard, and the cross-validation would claim a speaker independence it does not
//! have. The comparison is `ser_eval::heard`'s, corpus by corpus, as `ser-eval` makes it for
//! any model on any corpus: RAVDESS actor `03` and EMO-DB speaker `03` are different people,
//! and a parent that records bare ids (the shipped model: `01`-`20`, its data path naming
//! RAVDESS) heard them in the corpora its manifest names or lets us infer.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ravdess_loader::split::Fold;
use ravdess_loader::{Gender, Utterance};
use ser_eval::cv::fold_dir;
use ser_eval::heard::EvaluatedCorpus;

use super::folds::FoldPool;
use crate::error::{Result, TrainError};
use crate::finetune::{InitConfig, Parent};
use ser_models::artifact::MANIFEST_FILE;

/// Splits `utts` into the clips of corpus `name` (the folds are made of them) and the rest
/// (in every fold's training set).
///
/// # Errors
///
/// No clip of corpus `name`: the message lists the corpora there are.
pub(super) fn pool_of(utts: Vec<Utterance>, name: &str) -> Result<FoldPool> {
    let names: BTreeSet<String> = utts.iter().map(|u| u.corpus.clone()).collect();
    if !names.contains(name) {
        return Err(TrainError::config(
            "--test-corpus",
            format!(
                "{name}: no such corpus; the corpora are {} (the NAME of --data NAME=PATH; a \
                 bare PATH is named after its folder)",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let (held_out, always_train) = utts.into_iter().partition(|u| u.corpus == name);
    Ok(FoldPool {
        held_out,
        always_train,
        protocol: None,
    })
}

/// Each fold's held-out speakers, with their gender where the corpus gives it
/// (`emodb:03 (m)`), to show that the folds are `kfold_by_speaker`'s gender-balanced ones.
pub(super) fn fold_list(folds: &[Fold], utts: &[Utterance]) -> Vec<Vec<String>> {
    let gender: BTreeMap<&str, Option<Gender>> = utts
        .iter()
        .filter_map(|u| u.speaker.as_deref().map(|s| (s, u.gender)))
        .collect();
    folds
        .iter()
        .map(|f| {
            f.test_speakers
                .iter()
                .map(|s| match gender.get(s.as_str()).copied().flatten() {
                    Some(Gender::Male) => format!("{s} (m)"),
                    Some(Gender::Female) => format!("{s} (f)"),
                    None => s.clone(),
                })
                .collect()
        })
        .collect()
}

/// Refuses folds that hold out a speaker `parent` heard (trained or validated on).
/// `evaluated` are the corpora of the data (`EvaluatedCorpus::list`), `utts` the clips the
/// folds were made of.
///
/// # Errors
///
/// [`TrainError::Config`] naming the fold, the speakers, the parent and the fix; or, for a
/// parent whose manifest records no training speakers and shares a corpus with the data,
/// saying that the check cannot be made.
pub(super) fn check_parent(
    parent: &Parent,
    evaluated: &[EvaluatedCorpus],
    folds: &[Fold],
    utts: &[Utterance],
    test_corpus: Option<&str>,
) -> Result<()> {
    let fix = match test_corpus {
        Some(name) => format!(
            "--test-corpus {name} holds out speakers the parent heard; name a corpus it never \
             heard"
        ),
        None => "hold out only the speakers of a corpus the parent never heard with \
                 --test-corpus NAME (that corpus's speakers are split into folds, the other \
                 corpora train in every fold)"
            .to_string(),
    };
    let corpus_of = corpus_of(utts);
    for (i, fold) in folds.iter().enumerate() {
        check_fold(parent, evaluated, i + 1, fold, &corpus_of, ("--init", &fix))?;
    }
    Ok(())
}

/// `--init-folds RUN`: checks that the parent of every fold to train (`only`, or all),
/// `RUN/fold-K/model`, exists and heard none of fold K's held-out speakers. `init` is how
/// each starts (its `from` is replaced by the fold's model).
///
/// # Errors
///
/// A missing or unreadable fold model, or a fold parent that heard one of its fold's
/// held-out speakers (the run was made with other folds, `--seed` or speakers).
pub(super) fn check_fold_parents(
    run: &Path,
    init: &InitConfig,
    only: Option<&[usize]>,
    evaluated: &[EvaluatedCorpus],
    folds: &[Fold],
    utts: &[Utterance],
) -> Result<()> {
    let fix = format!(
        "make {} with `ser-train cv` and the same --folds, --seed and speakers as this run \
         (its fold K must hold out this run's fold K)",
        run.display()
    );
    let corpus_of = corpus_of(utts);
    for (i, fold) in folds.iter().enumerate() {
        let number = i + 1;
        if only.is_some_and(|o| !o.contains(&number)) {
            continue;
        }
        let mut init = init.clone();
        init.from = fold_dir(run, number).join("model");
        if !init.from.join(MANIFEST_FILE).is_file() {
            return Err(TrainError::config(
                "--init-folds",
                format!(
                    "fold {number}'s parent {} has no {MANIFEST_FILE}: {} has not finished \
                     fold {number}. Fix: finish it (`ser-train cv ... --out {} --fold \
                     {number}`), or train only the folds whose parents exist with --fold",
                    init.from.display(),
                    run.display(),
                    run.display()
                ),
            ));
        }
        let parent = Parent::open(&init)?;
        check_fold(
            &parent,
            evaluated,
            number,
            fold,
            &corpus_of,
            ("--init-folds", &fix),
        )?;
    }
    Ok(())
}

/// Each speaker's corpus name.
fn corpus_of(utts: &[Utterance]) -> BTreeMap<&str, &str> {
    utts.iter()
        .filter_map(|u| u.speaker.as_deref().map(|s| (s, u.corpus.as_str())))
        .collect()
}

/// Refuses fold `number` when it holds out a speaker `parent` heard. `(flag, fix)`: the flag
/// that named the parent and the sentence that ends the message.
fn check_fold(
    parent: &Parent,
    evaluated: &[EvaluatedCorpus],
    number: usize,
    fold: &Fold,
    corpus_of: &BTreeMap<&str, &str>,
    (flag, fix): (&str, &str),
) -> Result<()> {
    let speakers: Vec<(String, String)> = fold
        .test_speakers
        .iter()
        .map(|s| {
            let c = corpus_of.get(s.as_str()).copied().unwrap_or_default();
            (s.clone(), c.to_string())
        })
        .collect();
    parent.refuse_heard(evaluated, &speakers, &format!("fold {number}"), (flag, fix))
}

/// The parent's directory as the record names it: canonical where it can be (`--init
/// default` resolves through the source tree, `crates/ser-models/../../models/default`).
pub(super) fn parent_dir(p: &Parent) -> std::path::PathBuf {
    std::fs::canonicalize(&p.init.from).unwrap_or_else(|_| p.init.from.clone())
}

/// The protocol sentence of a cross-validation made with `--init` or `--test-corpus` (the
/// plain one is `ser_eval::cv::summarise`'s).
pub(super) fn protocol(
    folds: usize,
    seed: u64,
    parent: Option<&Parent>,
    init_folds: Option<&Path>,
    test_corpus: Option<(&str, &[String])>,
) -> String {
    let what = match (parent, init_folds) {
        (Some(_), Some(run)) => format!(
            "of a fine-tune of each fold's own parent (fold K from {}, a model trained \
             without fold K's held-out speakers)",
            run.join("fold-K").join("model").display()
        ),
        (Some(p), None) => format!(
            "of a fine-tune of {} (member {}, `{}`)",
            parent_dir(p).display(),
            p.init.member,
            p.member_name()
        ),
        (None, _) => "by speaker".to_string(),
    };
    let trains = if parent.is_some() {
        "fine-tunes the parent"
    } else {
        "trains"
    };
    let checked = if parent.is_some() {
        ", none of whom the parent heard (its manifest's training speakers, compared corpus by \
         corpus)"
    } else {
        ""
    };
    match test_corpus {
        Some((name, others)) => format!(
            "speaker-independent {folds}-fold cross-validation {what} over the speakers of \
             corpus `{name}` (ravdess_loader::split::kfold_by_speaker on them, seed {seed}): \
             each fold {trains} on the other folds' `{name}` speakers and every clip of {} \
             (never held out), and is evaluated on its held-out `{name}` speakers{checked}; \
             every score is on `{name}` alone (UA and macro-F1 over the labels it has)",
            if others.is_empty() {
                "no other corpus".to_string()
            } else {
                others
                    .iter()
                    .map(|o| format!("`{o}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
        None => format!(
            "speaker-independent {folds}-fold cross-validation {what} (ravdess_loader::split::\
             kfold_by_speaker, seed {seed}): each fold {trains} on the other folds' speakers \
             and is evaluated on its held-out speakers{checked}"
        ),
    }
}
