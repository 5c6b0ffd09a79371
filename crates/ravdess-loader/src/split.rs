//! Speaker-independent splits. Only speaker-grouped splits are offered: a random per-file
//! split puts the same actor in train and test and inflates accuracy (see the project brief).
//!
//! ```
//! use ravdess_loader::{split, synth};
//!
//! let utts = synth::generate_labels_only(&synth::SynthConfig::default());
//! let folds = split::kfold_by_speaker(&utts, 5, 42)?;
//! assert_eq!(folds.len(), 5);
//! let hold = split::holdout(&utts, &["21", "22", "23", "24"])?;
//! assert_eq!(hold.test.len(), 4 * 60);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use ser_audio::rng::SplitMix64;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::{Gender, Utterance};

/// One train/test split as indices into the utterance slice (both sorted ascending).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fold {
    /// Training indices.
    pub train: Vec<usize>,
    /// Test indices.
    pub test: Vec<usize>,
    /// Speakers in the test set (sorted).
    pub test_speakers: Vec<String>,
}

fn speaker_of(u: &Utterance) -> Result<&str> {
    u.speaker.as_deref().ok_or_else(|| Error::Split {
        reason: format!(
            "utterance `{}` has no speaker; speaker-independent splits need one \
             (use RAVDESS names or a `speaker` column in the CSV manifest)",
            u.id
        ),
    })
}

/// Tests on the given speakers, trains on all others.
///
/// Requested speakers are compared after [`crate::speaker::normalise`] (`"1"` finds `"01"`,
/// `"emodb:3"` finds `"emodb:03"`). Errors when an utterance has no speaker or a requested
/// speaker does not occur (naming namespaced candidates, e.g. `ravdess:01` for `01`, when the
/// corpus combines several).
pub fn holdout<S: AsRef<str>>(utts: &[Utterance], test_speakers: &[S]) -> Result<Fold> {
    let normalised = crate::speaker::normalise_all(test_speakers);
    let wanted: BTreeSet<&str> = normalised.iter().map(String::as_str).collect();
    let mut present = BTreeSet::new();
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (i, u) in utts.iter().enumerate() {
        let s = speaker_of(u)?;
        present.insert(s);
        if wanted.contains(s) {
            test.push(i);
        } else {
            train.push(i);
        }
    }
    if let Some(missing) = wanted.iter().find(|s| !present.contains(*s)) {
        let candidates: Vec<&str> = present
            .iter()
            .copied()
            .filter(|p| crate::speaker::split(p).1 == *missing && p != missing)
            .collect();
        let hint = if candidates.is_empty() {
            String::new()
        } else {
            format!(
                " (speakers are namespaced per corpus here: did you mean {}?)",
                candidates.join(" or ")
            )
        };
        return Err(Error::Split {
            reason: format!("test speaker `{missing}` does not occur in the corpus{hint}"),
        });
    }
    Ok(Fold {
        train,
        test,
        test_speakers: wanted.into_iter().map(str::to_string).collect(),
    })
}

/// Assigns each speaker to one of `k` folds, deterministically from `seed`, balanced by gender.
///
/// Speakers are grouped by gender (male, female, unknown), each group sorted and shuffled
/// with SplitMix64(`seed`), then dealt round-robin over the folds (male speakers first, the
/// females continuing where the males stopped), so fold sizes differ by at most one speaker
/// and each fold gets a near-equal share of each gender.
pub fn assign_speakers(utts: &[Utterance], k: usize, seed: u64) -> Result<BTreeMap<String, usize>> {
    let mut by_gender: BTreeMap<Option<Gender>, BTreeSet<String>> = BTreeMap::new();
    for u in utts {
        by_gender
            .entry(u.gender)
            .or_default()
            .insert(speaker_of(u)?.to_string());
    }
    let n: usize = by_gender.values().map(BTreeSet::len).sum();
    if k < 2 || k > n {
        return Err(Error::Split {
            reason: format!("k = {k} folds needs 2 <= k <= number of speakers ({n})"),
        });
    }
    let mut rng = SplitMix64::new(seed);
    let mut fold_of = BTreeMap::new();
    let mut next = 0usize;
    for gender in [Some(Gender::Male), Some(Gender::Female), None] {
        let Some(set) = by_gender.get(&gender) else {
            continue;
        };
        let mut speakers: Vec<&String> = set.iter().collect();
        rng.shuffle(&mut speakers);
        for s in speakers {
            if !fold_of.contains_key(s) {
                fold_of.insert(s.clone(), next % k);
                next += 1;
            }
        }
    }
    Ok(fold_of)
}

/// `k`-fold cross-validation grouped by speaker (see [`assign_speakers`]): every speaker is in
/// exactly one test fold and never in train and test of the same fold.
pub fn kfold_by_speaker(utts: &[Utterance], k: usize, seed: u64) -> Result<Vec<Fold>> {
    let fold_of = assign_speakers(utts, k, seed)?;
    let mut folds: Vec<Fold> = (0..k)
        .map(|f| Fold {
            train: Vec::new(),
            test: Vec::new(),
            test_speakers: fold_of
                .iter()
                .filter(|(_, v)| **v == f)
                .map(|(s, _)| s.clone())
                .collect(),
        })
        .collect();
    for (i, u) in utts.iter().enumerate() {
        let f = fold_of.get(speaker_of(u)?).copied().unwrap_or(0);
        for (j, fold) in folds.iter_mut().enumerate() {
            if j == f {
                fold.test.push(i);
            } else {
                fold.train.push(i);
            }
        }
    }
    Ok(folds)
}
