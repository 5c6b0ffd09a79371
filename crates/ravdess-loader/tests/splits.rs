//! Speaker-independent splits: property checks over many seeds and fold counts.

#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use std::collections::{BTreeMap, BTreeSet};

use ravdess_loader::split::{holdout, kfold_by_speaker};
use ravdess_loader::synth::{SynthConfig, generate_labels_only};
use ravdess_loader::{Gender, Utterance};

fn corpus() -> Vec<Utterance> {
    generate_labels_only(&SynthConfig::default())
}

#[test]
fn kfold_properties_over_many_seeds_and_k() {
    let utts = corpus();
    let all: BTreeSet<&str> = utts.iter().filter_map(|u| u.speaker.as_deref()).collect();
    for k in 2..=12 {
        for seed in 0..40u64 {
            let folds = kfold_by_speaker(&utts, k, seed).unwrap();
            assert_eq!(folds.len(), k);
            let mut test_count: BTreeMap<&str, usize> = BTreeMap::new();
            for f in &folds {
                let train: BTreeSet<usize> = f.train.iter().copied().collect();
                let test: BTreeSet<usize> = f.test.iter().copied().collect();
                assert!(train.is_disjoint(&test));
                assert_eq!(train.len() + test.len(), utts.len());
                let train_spk: BTreeSet<&str> = f
                    .train
                    .iter()
                    .map(|&i| utts[i].speaker.as_deref().unwrap())
                    .collect();
                let test_spk: BTreeSet<&str> = f
                    .test
                    .iter()
                    .map(|&i| utts[i].speaker.as_deref().unwrap())
                    .collect();
                assert!(
                    train_spk.is_disjoint(&test_spk),
                    "speaker in train and test"
                );
                assert_eq!(
                    test_spk.iter().copied().collect::<Vec<_>>(),
                    f.test_speakers
                );
                for s in test_spk {
                    *test_count.entry(s).or_default() += 1;
                }
                // Gender balance: with 12 + 12 speakers, each fold's male and female counts
                // are within one of 12 / k rounded either way.
                let males = f
                    .test_speakers
                    .iter()
                    .filter(|s| s.parse::<u8>().unwrap() % 2 == 1)
                    .count();
                assert!(
                    males >= 12 / k && males <= 12_usize.div_ceil(k),
                    "k={k} males={males}"
                );
                let n = f.test_speakers.len();
                assert!(n >= 24 / k && n <= 24_usize.div_ceil(k));
            }
            assert_eq!(test_count.len(), all.len(), "every speaker tested");
            assert!(
                test_count.values().all(|&c| c == 1),
                "every speaker in exactly one test fold"
            );
        }
    }
}

#[test]
fn kfold_is_deterministic_and_seed_dependent() {
    let utts = corpus();
    assert_eq!(
        kfold_by_speaker(&utts, 5, 7).unwrap(),
        kfold_by_speaker(&utts, 5, 7).unwrap()
    );
    let differ = (0..10u64).any(|s| {
        kfold_by_speaker(&utts, 5, s).unwrap() != kfold_by_speaker(&utts, 5, s + 100).unwrap()
    });
    assert!(differ);
}

#[test]
fn holdout_and_errors() {
    let utts = corpus();
    let f = holdout(&utts, &["21", "22", "23", "24"]).unwrap();
    assert_eq!(f.test.len(), 240);
    assert_eq!(f.train.len(), 1200);
    assert!(f.test.iter().all(|&i| utts[i].ravdess.unwrap().actor > 20));
    assert!(holdout(&utts, &["99"]).is_err());
    assert!(kfold_by_speaker(&utts, 1, 0).is_err());
    assert!(kfold_by_speaker(&utts, 25, 0).is_err());
    let mut anon = utts.clone();
    anon[3].speaker = None;
    let e = kfold_by_speaker(&anon, 5, 0).unwrap_err();
    assert!(e.to_string().contains(&anon[3].id));
    // Unknown gender still works (dealt after the known genders).
    let mut ungendered = utts;
    for u in &mut ungendered {
        if u.speaker.as_deref() == Some("24") {
            u.gender = None;
        }
    }
    assert!(ungendered.iter().any(|u| u.gender.is_none()));
    assert_eq!(kfold_by_speaker(&ungendered, 4, 3).unwrap().len(), 4);
    let _ = Gender::Male;
}
