//! Opt-in tests on the real corpus. They return early (with a note) when the variables are
//! unset, so the suite passes without RAVDESS:
//!
//! * `SER_RAVDESS_DIR`: the 16 kHz copy of actors 01-20 (1200 files);
//! * `SER_RAVDESS_48K_DIR`: the nine untouched 48 kHz originals (extra RIFF chunks, two stereo);
//! * `SER_EMODB_DIR`: EMO-DB's 535 clips sorted into label folders (`emodb-16k`).

#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use std::path::PathBuf;

use ravdess_loader::labelmap::LeftOutReason;
use ravdess_loader::{
    CorpusSpec, Gender, LabelMap, Layout, LoadOptions, load_audio, open_corpora, open_corpus, split,
};
use ser_audio::{Preprocess, read_wav_with_info, resample};

fn dir(var: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(d) => Some(PathBuf::from(d)),
        None => {
            eprintln!("skipping: {var} is not set");
            None
        }
    }
}

#[test]
fn ravdess_16k_counts() {
    let Some(d) = dir("SER_RAVDESS_DIR") else {
        return;
    };
    let corpus = open_corpus(&d).unwrap();
    assert!(corpus.problems.is_empty(), "{:?}", corpus.problems);
    let s = corpus.summary();
    assert_eq!(s.clips, 1200);
    assert_eq!(s.actors, (1..=20).collect::<Vec<u32>>());
    for (label, count) in &s.per_emotion {
        let expect = if label == "neutral" { 80 } else { 160 };
        assert_eq!(*count, expect, "{label}");
    }
    assert_eq!(s.per_emotion.len(), 8);
    assert_eq!(s.sample_rates.get("16000"), Some(&1200));
    // The known byte-identical pair in Actor_07.
    assert_eq!(s.duplicates.len(), 1, "{:?}", s.duplicates);
    assert_eq!(
        s.duplicates[0].ids,
        vec![
            "Actor_07/03-01-03-01-02-01-07.wav".to_string(),
            "Actor_07/03-01-03-01-02-02-07.wav".to_string()
        ]
    );
    let loaded = load_audio(corpus.utterances, &LoadOptions::default(), |_, _| {}).unwrap();
    assert!(loaded.problems.is_empty());
    assert_eq!(loaded.utterances.len(), 1200);
}

#[test]
fn ravdess_48k_originals_read() {
    let Some(d) = dir("SER_RAVDESS_48K_DIR") else {
        return;
    };
    let corpus = open_corpus(&d).unwrap();
    assert!(corpus.problems.is_empty(), "{:?}", corpus.problems);
    assert_eq!(corpus.utterances.len(), 9);
    let mut stereo = 0;
    for u in &corpus.utterances {
        let path = u.path.as_ref().unwrap();
        let (audio, info) = read_wav_with_info(path).unwrap();
        assert_eq!(info.sample_rate, 48_000);
        assert_eq!(info.bits_per_sample, 16);
        if info.channels == 2 {
            stereo += 1;
        }
        // hound alone also reads these files (extra chunks are skipped) and agrees with us.
        let mut r = hound::WavReader::open(path).unwrap();
        let n = r.len() as usize / usize::from(info.channels);
        assert_eq!(n, audio.samples.len());
        let first: Vec<i16> = r.samples::<i16>().take(2000).map(|s| s.unwrap()).collect();
        let ours = (first[1998] as f32 / 32768.0 + first[1999] as f32 / 32768.0) / 2.0;
        if info.channels == 2 {
            assert!((audio.samples[999] - ours).abs() < 1e-6);
        }
        let a16 = resample(&audio, 16_000).unwrap();
        assert_eq!(
            a16.samples.len(),
            (audio.samples.len() as f64 / 3.0).ceil() as usize
        );
        let mut p = a16.clone();
        Preprocess::default().apply(&mut p);
        assert!(p.samples.len() < a16.samples.len());
    }
    assert_eq!(stereo, 2);
}

#[test]
fn emodb_16k_speakers_genders_and_default_label_map() {
    let Some(d) = dir("SER_EMODB_DIR") else {
        return;
    };
    // No flags: speakers and genders come from the EMO-DB names.
    let corpus = open_corpus(&d).unwrap();
    assert!(corpus.problems.is_empty(), "{:?}", corpus.problems);
    assert_eq!(corpus.layout, Layout::LabelFolders);
    let s = corpus.summary();
    assert_eq!(s.clips, 535);
    let expect: Vec<&str> = vec!["03", "08", "09", "10", "11", "12", "13", "14", "15", "16"];
    assert_eq!(s.speakers, expect);
    for u in &corpus.utterances {
        let spk = u.speaker.as_deref().unwrap();
        let male = ["03", "10", "11", "12", "15"].contains(&spk);
        let want = if male { Gender::Male } else { Gender::Female };
        assert_eq!(u.gender, Some(want), "{}", u.id);
        // The folder label agrees with the emotion letter of the name.
        let letter = ravdess_loader::emodb::EmodbName::from_path(u.path.as_ref().unwrap()).unwrap();
        assert_eq!(letter.label(), u.label, "{}", u.id);
    }
    let counts: Vec<(&str, usize)> = s
        .per_emotion
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        counts,
        [
            ("angry", 127),
            ("boredom", 81),
            ("disgust", 46),
            ("fearful", 69),
            ("happy", 71),
            ("neutral", 79),
            ("sad", 62)
        ]
    );

    // The shipped label map leaves boredom out, with the message the CLIs print.
    let spec = CorpusSpec::new("emodb", &d)
        .unwrap()
        .with_label_map(LabelMap::emodb());
    let c = open_corpora(std::slice::from_ref(&spec)).unwrap();
    assert_eq!(c.utterances.len(), 535 - 81);
    assert_eq!(c.left_out.len(), 1);
    assert_eq!(
        (c.left_out[0].label.as_str(), c.left_out[0].clips),
        ("boredom", 81)
    );
    assert!(matches!(
        c.left_out[0].reason,
        LeftOutReason::DroppedByMap { .. }
    ));
    eprintln!("{}", c.left_out[0]);
    let folds = split::kfold_by_speaker(&c.utterances, 5, 0).unwrap();
    for f in &folds {
        // Gender-balanced dealing: one male and one female speaker per fold.
        assert_eq!(f.test_speakers.len(), 2, "{:?}", f.test_speakers);
    }

    // With RAVDESS too (when both are set): namespaced speakers, 30 of them.
    let Some(r) = dir("SER_RAVDESS_DIR") else {
        return;
    };
    let both = open_corpora(&[CorpusSpec::new("ravdess", &r).unwrap(), spec]).unwrap();
    assert_eq!(both.utterances.len(), 1200 + 454);
    assert_eq!(both.speakers().len(), 30);
    assert!(both.speakers().contains(&"emodb:03".to_string()));
    assert!(both.speakers().contains(&"ravdess:01".to_string()));
    let folds = split::kfold_by_speaker(&both.utterances, 5, 0).unwrap();
    assert!(folds.iter().all(|f| f.test_speakers.len() == 6));
}
