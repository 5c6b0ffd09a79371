//! Several corpora as one (issue 27, item 1): corpus specs, namespaced speakers, unique ids,
//! speaker rules, EMO-DB names, label maps and speaker folds across corpora, all on small
//! generated WAVs with EMO-DB-like and RAVDESS names.

#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ravdess_loader::labelmap::LeftOutReason;
use ravdess_loader::split::{holdout, kfold_by_speaker};
use ravdess_loader::synth::{self, SynthConfig};
use ravdess_loader::{
    Audio, CorporaOptions, CorpusSpec, Emotion, Gender, LabelMap, Layout, SpeakerRule,
    open_corpora, open_corpora_with, open_corpus,
};
use ser_audio::write_wav;

/// A 0.1 s tone whose pitch depends on `seed`, so no two files are byte-identical.
fn tone(seed: usize) -> Audio {
    let f = 0.02 + 0.001 * seed as f32;
    Audio::new(
        (0..1600).map(|i| 0.3 * (i as f32 * f).sin()).collect(),
        16_000,
    )
}

const LETTERS: [(char, &str); 4] = [
    ('W', "angry"),
    ('L', "boredom"),
    ('N', "neutral"),
    ('T', "sad"),
];

/// EMO-DB-like corpus sorted into label folders: speakers 03 (m), 08 (f), 10 (m), 13 (f), four
/// emotions, two texts each: 32 clips, 8 of them boredom.
fn emodb_folders(dir: &Path) -> usize {
    let mut n = 0;
    for spk in ["03", "08", "10", "13"] {
        for (letter, label) in LETTERS {
            for text in ["a01", "b02"] {
                let d = dir.join(label);
                std::fs::create_dir_all(&d).unwrap();
                write_wav(d.join(format!("{spk}{text}{letter}a.wav")), &tone(n)).unwrap();
                n += 1;
            }
        }
    }
    n
}

fn speakers_of(utts: &[ravdess_loader::Utterance]) -> BTreeSet<String> {
    utts.iter().filter_map(|u| u.speaker.clone()).collect()
}

#[test]
fn emodb_names_in_label_folders_give_speakers_and_genders() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("emodb-16k");
    assert_eq!(emodb_folders(&root), 32);
    // A file without an EMO-DB name: with no rule given, it keeps no speaker (as before).
    write_wav(root.join("angry/take1.wav"), &tone(99)).unwrap();
    let c = open_corpus(&root).unwrap();
    assert_eq!(c.layout, Layout::LabelFolders);
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    assert_eq!(c.utterances.len(), 33);
    assert!(c.utterances.iter().all(|u| u.corpus == "emodb-16k"));
    let u = c
        .utterances
        .iter()
        .find(|u| u.id == "sad/08a01Ta.wav")
        .unwrap();
    assert_eq!(
        (u.speaker.as_deref(), u.gender),
        (Some("08"), Some(Gender::Female))
    );
    let u = c
        .utterances
        .iter()
        .find(|u| u.id == "angry/10b02Wa.wav")
        .unwrap();
    assert_eq!((u.label.as_str(), u.gender), ("angry", Some(Gender::Male)));
    let u = c
        .utterances
        .iter()
        .find(|u| u.id == "angry/take1.wav")
        .unwrap();
    assert_eq!(u.speaker, None);
    assert_eq!(c.speakers(), vec!["03", "08", "10", "13"]);
    let s = c.summary();
    assert_eq!(s.per_gender.get("male"), Some(&16));
    assert_eq!(s.per_corpus.get("emodb-16k"), Some(&33));
}

#[test]
fn flat_folder_of_emodb_names_takes_labels_from_the_emotion_letter() {
    let tmp = tempfile::tempdir().unwrap();
    let mut n = 0;
    for spk in ["09", "15"] {
        for (letter, _) in ravdess_loader::emodb::EMOTIONS {
            write_wav(tmp.path().join(format!("{spk}a04{letter}b.wav")), &tone(n)).unwrap();
            n += 1;
        }
    }
    write_wav(tmp.path().join("stray.wav"), &tone(50)).unwrap();
    let c = open_corpus(tmp.path()).unwrap();
    assert_eq!(c.layout, Layout::EmodbFlat);
    assert_eq!(c.utterances.len(), 14);
    let labels: BTreeSet<&str> = c.utterances.iter().map(|u| u.label.as_str()).collect();
    assert_eq!(
        labels,
        BTreeSet::from([
            "angry", "boredom", "disgust", "fearful", "happy", "neutral", "sad"
        ])
    );
    let u = c.utterances.iter().find(|u| u.id == "15a04Fb.wav").unwrap();
    assert_eq!(
        (u.label.as_str(), u.speaker.as_deref(), u.gender),
        ("happy", Some("15"), Some(Gender::Male))
    );
    assert_eq!(c.problems.len(), 1);
    assert!(c.problems[0].path.ends_with("stray.wav"));
    assert!(
        c.problems[0].reason.contains("EMO-DB"),
        "{}",
        c.problems[0].reason
    );
}

#[test]
fn speaker_pattern_matches_and_reports_files_that_do_not() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("calls");
    for (i, name) in [
        "spkA_001.wav",
        "spkA_002.wav",
        "spkB_001.wav",
        "spk7_003.wav",
    ]
    .iter()
    .enumerate()
    {
        let d = root.join(if i % 2 == 0 { "angry" } else { "sad" });
        std::fs::create_dir_all(&d).unwrap();
        write_wav(d.join(name), &tone(i)).unwrap();
    }
    write_wav(root.join("sad/unknown_caller.wav"), &tone(9)).unwrap();
    let spec = CorpusSpec::parse(root.to_str().unwrap())
        .unwrap()
        .with_speaker_rule(SpeakerRule::parse(r"^spk([A-Z0-9])_").unwrap());
    assert_eq!(spec.name, "calls");
    let c = open_corpora(&[spec]).unwrap();
    assert_eq!(c.utterances.len(), 4);
    // Numeric captures are normalised like every other speaker id.
    assert_eq!(
        speakers_of(&c.utterances),
        BTreeSet::from(["07".into(), "A".into(), "B".into()])
    );
    assert_eq!(c.problems.len(), 1, "{:?}", c.problems);
    let p = &c.problems[0];
    assert!(p.path.ends_with("sad/unknown_caller.wav"));
    assert!(
        p.reason.contains("`unknown_caller.wav`") && p.reason.contains(r"^spk([A-Z0-9])_"),
        "{}",
        p.reason
    );

    // A rule that disagrees with an EMO-DB name drops the name's gender (it was for the
    // other speaker); one that agrees keeps it.
    let emo = tmp.path().join("emo");
    emodb_folders(&emo);
    let spec = |re: &str| {
        CorpusSpec::new("emo", &emo)
            .unwrap()
            .with_speaker_rule(SpeakerRule::parse(re).unwrap())
    };
    let c = open_corpora(&[spec(r"^(\d\d)")]).unwrap();
    assert!(c.utterances.iter().all(|u| u.gender.is_some()));
    let c = open_corpora(&[spec(r"^\d\d([ab])")]).unwrap();
    assert_eq!(
        speakers_of(&c.utterances),
        BTreeSet::from(["a".into(), "b".into()])
    );
    assert!(c.utterances.iter().all(|u| u.gender.is_none()));
}

#[test]
fn csv_manifest_speaker_column_and_gender() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..4 {
        write_wav(tmp.path().join(format!("c{i}.wav")), &tone(i)).unwrap();
    }
    let m = tmp.path().join("mine.csv");
    std::fs::write(
        &m,
        "path,label,caller,gender\nc0.wav,Angry,1,f\nc1.wav,sad,1,f\nc2.wav,sad,2,m\nc3.wav,sad,,m\n",
    )
    .unwrap();
    // Default: no `speaker` column, so no speakers from this manifest; gender still read.
    let c = open_corpus(&m).unwrap();
    assert_eq!(c.utterances.len(), 4);
    assert!(c.utterances.iter().all(|u| u.speaker.is_none()));
    assert_eq!(c.utterances[0].gender, Some(Gender::Female));
    assert_eq!(c.utterances[0].corpus, "mine");
    // With the column named, speakers are normalised and the empty one is a problem.
    let spec = CorpusSpec::parse(&format!("mine={}", m.display()))
        .unwrap()
        .with_speaker_rule(SpeakerRule::parse("column:caller").unwrap());
    let c = open_corpora(std::slice::from_ref(&spec)).unwrap();
    assert_eq!(c.utterances.len(), 3);
    assert_eq!(
        speakers_of(&c.utterances),
        BTreeSet::from(["01".into(), "02".into()])
    );
    assert_eq!(c.utterances[0].label, "angry");
    assert_eq!(c.problems.len(), 1);
    assert!(c.problems[0].reason.contains("speaker column `caller`"));
    // A column that the header lacks is an error naming the file and the line.
    let e = open_corpora(&[spec.with_speaker_rule(SpeakerRule::parse("column:spk").unwrap())])
        .unwrap_err()
        .to_string();
    assert!(e.contains("mine.csv:1") && e.contains("`spk`"), "{e}");

    // The usual `speaker` column, positional, no header.
    let m2 = tmp.path().join("plain.csv");
    std::fs::write(&m2, "c0.wav,angry,3\nc1.wav,sad,4,female\n").unwrap();
    let c = open_corpus(&m2).unwrap();
    assert_eq!(
        speakers_of(&c.utterances),
        BTreeSet::from(["03".into(), "04".into()])
    );

    // A speaker column on a folder corpus is refused, not ignored.
    let folders = tmp.path().join("emo");
    emodb_folders(&folders);
    let spec = CorpusSpec::new("emo", &folders)
        .unwrap()
        .with_speaker_rule(SpeakerRule::Column("speaker".into()));
    let e = open_corpora(&[spec]).unwrap_err().to_string();
    assert!(
        e.contains("speaker column") && e.contains("CSV manifests only"),
        "{e}"
    );
}

/// A RAVDESS-layout corpus (actors 1-4) and an EMO-DB-like one in label folders.
fn two_corpora(tmp: &Path) -> (PathBuf, PathBuf) {
    let rav = tmp.join("rav");
    synth::write(
        &rav,
        &SynthConfig {
            actors: vec![1, 2, 3, 4],
            ..Default::default()
        },
    )
    .unwrap();
    let emo = tmp.join("emo");
    emodb_folders(&emo);
    (rav, emo)
}

#[test]
fn one_spec_keeps_bare_ids_and_several_namespace_them() {
    let tmp = tempfile::tempdir().unwrap();
    let (rav, emo) = two_corpora(tmp.path());
    let alone = open_corpus(&rav).unwrap();
    let single = open_corpora(&[CorpusSpec::new("ravdess", &rav).unwrap()]).unwrap();
    assert_eq!(single.layout, Layout::RavdessActors);
    assert_eq!(single.root, alone.root);
    let ids = |c: &ravdess_loader::Corpus| {
        c.utterances
            .iter()
            .map(|u| u.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&single), ids(&alone));
    assert_eq!(single.speakers(), vec!["01", "02", "03", "04"]);
    assert!(single.utterances.iter().all(|u| u.corpus == "ravdess"));

    let specs = [
        CorpusSpec::parse(&format!("ravdess={}", rav.display())).unwrap(),
        CorpusSpec::parse(&format!("emodb={}", emo.display())).unwrap(),
    ];
    let c = open_corpora(&specs).unwrap();
    assert_eq!(c.utterances.len(), 4 * 60 + 32);
    assert_eq!(c.root, tmp.path());
    let Layout::Combined { corpora } = &c.layout else {
        panic!("{:?}", c.layout)
    };
    let parts: Vec<(&str, usize, usize)> = corpora
        .iter()
        .map(|p| (p.name.as_str(), p.clips, p.speakers))
        .collect();
    assert_eq!(parts, [("ravdess", 240, 4), ("emodb", 32, 4)]);
    let unique: BTreeSet<&str> = c.utterances.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(unique.len(), c.utterances.len(), "ids must stay unique");
    assert!(unique.contains("ravdess:Actor_01/03-01-01-01-01-01-01.wav"));
    assert!(unique.contains("emodb:angry/03a01Wa.wav"));
    assert_eq!(
        c.speakers(),
        vec![
            "emodb:03",
            "emodb:08",
            "emodb:10",
            "emodb:13",
            "ravdess:01",
            "ravdess:02",
            "ravdess:03",
            "ravdess:04"
        ]
    );
    for u in &c.utterances {
        let prefix = format!("{}:", u.corpus);
        assert!(u.id.starts_with(&prefix) && u.speaker.as_ref().unwrap().starts_with(&prefix));
    }
    assert_eq!(c.wav_info.len(), c.utterances.len());
    assert!(c.summary().actors.is_empty());

    // The same folder under two names: identical relative ids and speakers, kept apart.
    let twice = [
        CorpusSpec::new("a", &emo).unwrap(),
        CorpusSpec::new("b", &emo).unwrap(),
    ];
    let t = open_corpora(&twice).unwrap();
    let unique: BTreeSet<&str> = t.utterances.iter().map(|u| u.id.as_str()).collect();
    assert_eq!((unique.len(), t.utterances.len()), (64, 64));
    assert!(unique.contains("a:angry/03a01Wa.wav") && unique.contains("b:angry/03a01Wa.wav"));
    assert_eq!(t.speakers().len(), 8);

    // Hold-out by namespaced speaker; a bare one is refused with the namespaced candidate.
    let fold = holdout(&c.utterances, &["ravdess:1", "emodb:03"]).unwrap();
    assert_eq!(fold.test.len(), 60 + 8);
    let e = holdout(&c.utterances, &["01"]).unwrap_err().to_string();
    assert!(e.contains("did you mean ravdess:01"), "{e}");
}

#[test]
fn folds_across_two_corpora_never_split_a_speaker() {
    let tmp = tempfile::tempdir().unwrap();
    let (rav, emo) = two_corpora(tmp.path());
    let specs = [
        CorpusSpec::new("ravdess", &rav).unwrap(),
        CorpusSpec::new("emodb", &emo)
            .unwrap()
            .with_label_map(LabelMap::emodb()),
    ];
    let c = open_corpora(&specs).unwrap();
    for k in 2..=8 {
        for seed in 0..10 {
            let folds = kfold_by_speaker(&c.utterances, k, seed).unwrap();
            let mut tested: BTreeMap<String, usize> = BTreeMap::new();
            for f in &folds {
                let spk = |i: &usize| c.utterances[*i].speaker.clone().unwrap();
                let train: BTreeSet<String> = f.train.iter().map(spk).collect();
                let test: BTreeSet<String> = f.test.iter().map(spk).collect();
                assert!(train.is_disjoint(&test), "k={k} seed={seed}");
                for s in test {
                    *tested.entry(s).or_default() += 1;
                }
            }
            // Every speaker of both corpora is tested exactly once; "03" of RAVDESS and
            // "03" of EMO-DB are different speakers.
            assert_eq!(tested.len(), 8);
            assert!(tested.values().all(|&n| n == 1));
        }
    }
}

#[test]
fn label_maps_map_drop_and_report_left_out_clips() {
    let tmp = tempfile::tempdir().unwrap();
    let (rav, emo) = two_corpora(tmp.path());
    let ravdess = CorpusSpec::new("ravdess", &rav).unwrap();

    // The shipped map drops boredom and says how to keep it.
    let map_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/labelmaps/emodb.csv");
    let shipped = LabelMap::from_file(&map_file).unwrap();
    assert_eq!(shipped.rules(), LabelMap::emodb().rules());
    let emodb = CorpusSpec::new("emodb", &emo).unwrap();
    let c = open_corpora(&[ravdess.clone(), emodb.clone().with_label_map(shipped)]).unwrap();
    assert_eq!(c.utterances.len(), 240 + 24);
    assert!(c.utterances.iter().all(|u| u.label != "boredom"));
    assert_eq!(c.left_out.len(), 1);
    let l = &c.left_out[0];
    assert_eq!(
        (l.corpus.as_str(), l.label.as_str(), l.clips),
        ("emodb", "boredom", 8)
    );
    assert!(matches!(&l.reason, LeftOutReason::DroppedByMap { map: Some(p) } if p == &map_file));
    let msg = l.to_string();
    assert!(
        msg.contains("left out 8 clip(s) labelled `boredom`") && msg.contains("boredom,<class>"),
        "{msg}"
    );
    assert_eq!(c.summary().left_out, c.left_out);

    // Mapped by the user instead: kept under the new name.
    let merged = emodb
        .clone()
        .with_label_map(LabelMap::emodb().map("boredom", "neutral"));
    let c = open_corpora(&[ravdess.clone(), merged]).unwrap();
    assert!(c.left_out.is_empty());
    let neutral = c
        .utterances
        .iter()
        .filter(|u| u.corpus == "emodb" && u.label == "neutral")
        .count();
    assert_eq!(neutral, 16);

    // No map, but a target label set (RAVDESS's eight): boredom is left out with a message.
    let target: Vec<String> = Emotion::ALL.iter().map(|e| e.name().to_string()).collect();
    let opts = CorporaOptions {
        labels: Some(target.clone()),
    };
    let c = open_corpora_with(&[ravdess, emodb], &opts).unwrap();
    assert_eq!(c.utterances.len(), 240 + 24);
    assert_eq!(c.left_out.len(), 1);
    assert_eq!(
        c.left_out[0].reason,
        LeftOutReason::NotInTarget {
            target: {
                let mut t = target;
                t.sort();
                t
            }
        }
    );
    let msg = c.left_out[0].to_string();
    assert!(
        msg.contains("not one of the target labels") && msg.contains("`boredom,<class>`"),
        "{msg}"
    );
}

#[test]
fn label_map_file_errors_name_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("bad.csv");
    std::fs::write(&f, "# ok\nfrom,to\nanger,angry\nboredom;-\n").unwrap();
    let e = LabelMap::from_file(&f).unwrap_err().to_string();
    assert!(e.contains("bad.csv:4:") && e.contains("`from,to`"), "{e}");
    let e = LabelMap::from_file(tmp.path().join("missing.csv"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.csv"), "{e}");
}
