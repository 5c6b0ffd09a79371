//! Opt-in tests on the real corpus. They return early (with a note) when the variables are
//! unset, so the suite passes without RAVDESS:
//!
//! * `SER_RAVDESS_DIR`: the 16 kHz copy of actors 01-20 (1200 files);
//! * `SER_RAVDESS_48K_DIR`: the nine untouched 48 kHz originals (extra RIFF chunks, two stereo).

#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use std::path::PathBuf;

use ravdess_loader::{LoadOptions, load_audio, open_corpus};
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
