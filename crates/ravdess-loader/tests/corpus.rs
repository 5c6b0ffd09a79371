//! Corpus scanning: layout detection, bad files reported and skipped, duplicates, filters,
//! manifests and parallel loading, all on generated audio.

#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use ravdess_loader::name::{Intensity, VocalChannel};
use ravdess_loader::synth::{self, SynthConfig};
use ravdess_loader::{
    Audio, Emotion, Filter, Gender, Layout, LoadOptions, load_audio, open_corpus, write_manifest,
};
use ser_audio::{Preprocess, write_wav};

fn tone(secs: f32, rate: u32) -> Audio {
    let n = (secs * rate as f32) as usize;
    Audio::new(
        (0..n).map(|i| 0.3 * (i as f32 * 0.05).sin()).collect(),
        rate,
    )
}

fn small_synth(dir: &Path) {
    let cfg = SynthConfig {
        actors: vec![1, 2, 3],
        ..Default::default()
    };
    synth::write(dir, &cfg).unwrap();
}

#[test]
fn official_layout_with_bad_files_reports_and_continues() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("Audio_Speech_Actors_01-24");
    small_synth(&root);
    let a1 = root.join("Actor_01");
    std::fs::write(a1.join("03-01-01-01-01-01-09.wav"), b"").unwrap(); // empty
    std::fs::write(a1.join("03-01-02-01-01-01-11.wav"), b"not a wav at all").unwrap(); // text
    let good = std::fs::read(a1.join("03-01-05-02-01-02-01.wav")).unwrap();
    std::fs::write(a1.join("03-01-05-02-01-02-13.wav"), &good[..good.len() / 2]).unwrap(); // truncated
    std::fs::write(a1.join("03-01-09-01-01-01-01.wav"), &good).unwrap(); // bad emotion field
    std::fs::write(a1.join("notes.txt"), b"ignored").unwrap();
    std::fs::write(a1.join(".DS_Store"), b"ignored").unwrap();
    // Byte-identical copy under another valid name.
    std::fs::write(a1.join("03-02-05-02-01-02-01.wav"), &good).unwrap();

    let corpus = open_corpus(tmp.path()).unwrap();
    assert_eq!(corpus.layout, Layout::RavdessActors);
    assert_eq!(corpus.utterances.len(), 3 * 60 + 1);
    assert_eq!(corpus.problems.len(), 4, "{:#?}", corpus.problems);
    let reasons: Vec<String> = corpus
        .problems
        .iter()
        .map(|p| format!("{}: {}", p.path.display(), p.reason))
        .collect();
    let joined = reasons.join("\n");
    assert!(
        joined.contains("03-01-01-01-01-01-09.wav") && joined.contains("empty"),
        "{joined}"
    );
    assert!(joined.contains("not a RIFF"), "{joined}");
    assert!(joined.contains("truncated"), "{joined}");
    assert!(joined.contains("emotion (field 3)"), "{joined}");
    assert_eq!(corpus.duplicates.len(), 1);
    assert_eq!(
        corpus.duplicates[0].ids,
        vec![
            "Actor_01/03-01-05-02-01-02-01.wav",
            "Actor_01/03-02-05-02-01-02-01.wav"
        ]
    );
    let s = corpus.summary();
    assert_eq!(s.actors, vec![1, 2, 3]);
    assert_eq!(s.per_emotion["neutral"], 12);
    assert_eq!(s.per_emotion["angry"], 25);
    assert_eq!(s.sample_rates["16000"], 181);

    // Filters: speech only, strong only, two actors, three emotions.
    let f = Filter {
        channel: Some(VocalChannel::Speech),
        intensity: Some(Intensity::Strong),
        emotions: Some(vec![Emotion::Angry, Emotion::Sad, Emotion::Neutral]),
        ..Filter::default()
    }
    .actors(&[1, 3]);
    let sub = corpus.filter(&f);
    assert_eq!(sub.utterances.len(), 2 * 2 * 4); // neutral has no strong
    assert_eq!(sub.wav_info.len(), sub.utterances.len());
    assert!(sub.duplicates.is_empty());
}

#[test]
fn flat_label_folder_and_manifest_layouts() {
    let tmp = tempfile::tempdir().unwrap();
    // Flat folder of RAVDESS names.
    let flat = tmp.path().join("flat");
    std::fs::create_dir_all(&flat).unwrap();
    write_wav(flat.join("03-01-04-01-02-01-22.wav"), &tone(1.0, 16_000)).unwrap();
    write_wav(flat.join("03-01-04-02-02-01-21.wav"), &tone(1.0, 16_000)).unwrap();
    write_wav(flat.join("03-01-04-02-02-01-99.wav"), &tone(1.0, 16_000)).unwrap();
    let c = open_corpus(&flat).unwrap();
    assert_eq!(c.layout, Layout::RavdessFlat);
    assert_eq!(c.utterances.len(), 2);
    assert_eq!(c.utterances[0].speaker.as_deref(), Some("22"));
    assert_eq!(c.utterances[0].gender, Some(Gender::Female));
    assert_eq!(c.utterances[1].gender, Some(Gender::Male));
    assert!(c.problems[0].reason.contains("actor (field 7)"));

    // label/*.wav
    let lab = tmp.path().join("labels");
    for (label, n) in [("Happy", 2), ("sad", 3)] {
        std::fs::create_dir_all(lab.join(label)).unwrap();
        for i in 0..n {
            write_wav(
                lab.join(label).join(format!("clip{i}.wav")),
                &tone(0.5, 8000),
            )
            .unwrap();
        }
    }
    std::fs::write(lab.join("sad/broken.wav"), b"RIFF").unwrap();
    let c = open_corpus(&lab).unwrap();
    assert_eq!(c.layout, Layout::LabelFolders);
    assert_eq!(c.utterances.len(), 5);
    assert_eq!(c.utterances[0].label, "happy");
    assert_eq!(c.utterances[0].speaker, None);
    assert_eq!(c.problems.len(), 1);

    // CSV manifest with header in another column order, relative paths, a missing file.
    let m = lab.join("list.csv");
    std::fs::write(
        &m,
        "path,speaker,label,gender\nHappy/clip0.wav,spk1,HAPPY,f\nsad/clip0.wav,spk2,sad,male\nsad/missing.wav,spk2,sad,m\n",
    )
    .unwrap();
    let c = open_corpus(&m).unwrap();
    assert!(matches!(c.layout, Layout::CsvManifest { .. }));
    assert_eq!(c.utterances.len(), 2);
    assert_eq!(c.utterances[0].label, "happy");
    assert_eq!(c.utterances[0].speaker.as_deref(), Some("spk1"));
    assert_eq!(c.utterances[0].gender, Some(Gender::Female));
    assert_eq!(c.problems.len(), 1);
    assert!(c.problems[0].reason.contains("does not exist"));

    // Headerless manifest, positional columns.
    std::fs::write(&m, "Happy/clip1.wav,happy\nsad/clip2.wav,sad,s9\n").unwrap();
    let c = open_corpus(&m).unwrap();
    assert_eq!(c.utterances.len(), 2);
    assert_eq!(c.utterances[1].speaker.as_deref(), Some("s9"));

    // Round trip: write a manifest of the flat corpus and reopen it.
    let flat_c = open_corpus(&flat).unwrap();
    let m2 = flat.join("manifest.csv");
    write_manifest(&m2, &flat_c.utterances).unwrap();
    let again = open_corpus(&m2).unwrap();
    assert_eq!(again.utterances.len(), 2);
    assert_eq!(again.utterances[0].speaker.as_deref(), Some("22"));
    assert_eq!(again.utterances[0].gender, Some(Gender::Female));
    assert_eq!(again.utterances[1].label, "sad");
}

#[test]
fn unknown_layout_is_an_error_naming_the_folder() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("readme.txt"), b"hi").unwrap();
    let e = open_corpus(tmp.path()).unwrap_err();
    assert!(e.to_string().contains(&tmp.path().display().to_string()));
    assert!(open_corpus(tmp.path().join("nope")).is_err());
}

#[test]
fn load_audio_resamples_preprocesses_and_reports_progress() {
    let tmp = tempfile::tempdir().unwrap();
    let flat = tmp.path();
    let mut a = tone(1.0, 48_000);
    a.samples.splice(0..0, vec![0.0; 48_000]); // 1 s of leading silence
    write_wav(flat.join("03-01-04-01-02-01-22.wav"), &a).unwrap();
    write_wav(flat.join("03-01-04-02-02-01-21.wav"), &tone(2.0, 22_050)).unwrap();
    let c = open_corpus(flat).unwrap();
    // Corrupt one file after scanning: load_audio must report it, not abort.
    std::fs::write(
        flat.join("03-01-04-02-02-01-21.wav"),
        b"RIFF\x10\0\0\0WAVEjunk",
    )
    .unwrap();
    let calls = AtomicUsize::new(0);
    let last = AtomicUsize::new(0);
    let loaded = load_audio(c.utterances, &LoadOptions::default(), |done, total| {
        calls.fetch_add(1, Ordering::Relaxed);
        last.fetch_max(done, Ordering::Relaxed);
        assert_eq!(total, 2);
    })
    .unwrap();
    assert_eq!(calls.load(Ordering::Relaxed), 2);
    assert_eq!(last.load(Ordering::Relaxed), 2);
    assert_eq!(loaded.utterances.len(), 1);
    assert_eq!(loaded.problems.len(), 1);
    let audio = loaded.utterances[0].audio.as_ref().unwrap();
    assert_eq!(audio.sample_rate, 16_000);
    assert!(
        audio.duration_secs() < 1.1,
        "silence not trimmed: {}",
        audio.duration_secs()
    );
    let peak = audio.samples.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!((peak - 0.95).abs() < 1e-3);

    // Invalid options are an error up front.
    let bad = LoadOptions {
        target_rate: 0,
        preprocess: Some(Preprocess::default()),
    };
    assert!(load_audio(Vec::new(), &bad, |_, _| {}).is_err());
}
