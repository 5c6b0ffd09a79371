//! The generated corpus: shape, determinism, durations.

#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use ravdess_loader::name::Intensity;
use ravdess_loader::synth::{self, SynthConfig, clip_names};
use ravdess_loader::{Emotion, Gender, open_corpus};
use ser_audio::encode_wav_16;

#[test]
fn ravdess_shape() {
    let names = clip_names(7);
    assert_eq!(names.len(), 60);
    let neutral: Vec<_> = names
        .iter()
        .filter(|n| n.emotion == Emotion::Neutral)
        .collect();
    assert_eq!(neutral.len(), 4);
    assert!(neutral.iter().all(|n| n.intensity == Intensity::Normal));
    for e in &Emotion::ALL[1..] {
        assert_eq!(names.iter().filter(|n| n.emotion == *e).count(), 8);
    }
    let utts = synth::generate_labels_only(&SynthConfig::default());
    assert_eq!(utts.len(), 1440);
    assert_eq!(utts[0].id, "Actor_01/03-01-01-01-01-01-01.wav");
    assert_eq!(
        utts.iter()
            .filter(|u| u.gender == Some(Gender::Female))
            .count(),
        720
    );
}

#[test]
fn same_seed_identical_bytes_different_seed_different() {
    let cfg = SynthConfig {
        actors: vec![2, 5],
        ..Default::default()
    };
    let a = synth::generate(&cfg);
    let b = synth::generate(&cfg);
    let c = synth::generate(&SynthConfig {
        seed: 2,
        ..cfg.clone()
    });
    assert_eq!(a.len(), 120);
    for ((x, y), z) in a.iter().zip(&b).zip(&c) {
        let (x, y, z) = (
            x.audio.as_ref().unwrap(),
            y.audio.as_ref().unwrap(),
            z.audio.as_ref().unwrap(),
        );
        assert_eq!(encode_wav_16(x).unwrap(), encode_wav_16(y).unwrap());
        assert_ne!(encode_wav_16(x).unwrap(), encode_wav_16(z).unwrap());
    }
    // Writing to disk gives the same bytes as in memory, and the files open as a corpus.
    let dir = tempfile::tempdir().unwrap();
    synth::write(dir.path(), &cfg).unwrap();
    for u in &a {
        let on_disk = std::fs::read(dir.path().join(&u.id)).unwrap();
        assert_eq!(
            on_disk,
            encode_wav_16(u.audio.as_ref().unwrap()).unwrap(),
            "{}",
            u.id
        );
    }
    let corpus = open_corpus(dir.path()).unwrap();
    assert_eq!(corpus.utterances.len(), 120);
    assert!(dir.path().join("synth-config.json").is_file());
}

#[test]
fn durations_and_levels_are_ravdess_like() {
    let utts = synth::generate(&SynthConfig {
        actors: vec![1, 2],
        ..Default::default()
    });
    let durs: Vec<f64> = utts
        .iter()
        .map(|u| u.audio.as_ref().unwrap().duration_secs())
        .collect();
    let mean = durs.iter().sum::<f64>() / durs.len() as f64;
    assert!(durs.iter().all(|&d| (2.4..=6.0).contains(&d)), "{durs:?}");
    assert!((3.0..=4.2).contains(&mean), "mean duration {mean}");
    for u in &utts {
        let a = u.audio.as_ref().unwrap();
        let peak = a.samples.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(peak > 0.01 && peak <= 0.99, "{} peak {peak}", u.id);
        assert!(a.samples.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn invalid_config_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = SynthConfig {
        actors: vec![25],
        ..Default::default()
    };
    assert!(synth::write(dir.path(), &bad).is_err());
}

/// Mean over clips of (trimmed duration, high-frequency energy ratio) for one emotion and
/// intensity, over actors 1-4.
fn cues(emotion: Emotion, intensity: Intensity) -> (f64, f64) {
    let cfg = SynthConfig::default();
    let mut dur = 0.0;
    let mut hf = 0.0;
    let mut n = 0.0;
    for actor in 1..=4 {
        for name in clip_names(actor)
            .into_iter()
            .filter(|c| c.emotion == emotion && c.intensity == intensity)
        {
            let mut a = synth::synthesize(&cfg, &name);
            ser_audio::Preprocess::default().apply(&mut a);
            dur += a.duration_secs();
            // First-difference energy over signal energy: grows with high-frequency content.
            let e: f64 = a.samples.iter().map(|&v| f64::from(v).powi(2)).sum();
            let d: f64 = a
                .samples
                .windows(2)
                .map(|w| f64::from(w[1] - w[0]).powi(2))
                .sum();
            hf += d / e;
            n += 1.0;
        }
    }
    (dur / n, hf / n)
}

#[test]
fn emotion_cues_point_the_documented_way() {
    // Juslin & Laukka (2003): anger fast with much high-frequency energy, sadness slow with
    // little; strong intensity further from neutral than normal.
    let (d_neutral, hf_neutral) = cues(Emotion::Neutral, Intensity::Normal);
    let (d_angry, hf_angry) = cues(Emotion::Angry, Intensity::Normal);
    let (d_angry_strong, hf_angry_strong) = cues(Emotion::Angry, Intensity::Strong);
    let (d_sad, hf_sad) = cues(Emotion::Sad, Intensity::Normal);
    let (d_sad_strong, _) = cues(Emotion::Sad, Intensity::Strong);
    assert!(
        d_angry < d_neutral && d_neutral < d_sad,
        "{d_angry} {d_neutral} {d_sad}"
    );
    assert!(d_sad_strong > d_sad && d_angry_strong < d_angry);
    assert!(
        hf_angry > hf_neutral && hf_neutral > hf_sad,
        "{hf_angry} {hf_neutral} {hf_sad}"
    );
    assert!(hf_angry_strong > hf_angry);
}
