//! Training on several corpora at once (issue 27, item 1): `ser-train` and `ser-train cv` on
//! two generated corpora, one RAVDESS-shaped and one with EMO-DB names in label folders
//! (EMO-DB's six shared emotions plus `boredom`, which the shipped label map drops).

#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{emodb_like, emodb_map, read_json, run, strings, text};
use ravdess_loader::synth::{self, SynthConfig};

/// Generated RAVDESS actors 01-04 (`Actor_NN/`) and the EMO-DB-like corpus, under `root`.
fn corpora(root: &Path) -> (PathBuf, PathBuf) {
    let (r, e) = (root.join("ravdess-like"), root.join("emodb-like"));
    synth::write(
        &r,
        &SynthConfig {
            actors: vec![1, 2, 3, 4],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(emodb_like(&e, &["a01", "a02", "b01", "b02"], true), 16);
    (r, e)
}

#[test]
fn two_corpora_train_with_namespaced_speakers_per_corpus_rows_and_the_label_map() {
    let tmp = tempfile::tempdir().unwrap();
    let (r, e) = corpora(tmp.path());
    let out = tmp.path().join("model");
    let (rd, ed, map) = (
        format!("ravdess={}", r.display()),
        format!("emodb={}", e.display()),
        format!("emodb={}", emodb_map().display()),
    );
    let common = [
        "--model",
        "crnn",
        "--tiny",
        "--epochs",
        "1",
        "--quiet",
        "--crop-seconds",
        "1.5",
        "--data",
        &rd,
        "--data",
        &ed,
        "--label-map",
        &map,
    ];
    // A bare speaker both corpora have is refused, naming the choices.
    let mut ambiguous = common.to_vec();
    ambiguous.extend(["--test-actors", "03", "--out", out.to_str().unwrap()]);
    let o = run(&ambiguous);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("--test-actors") && t.contains("emodb:03 or ravdess:03"),
        "{t}"
    );

    let mut args = common.to_vec();
    args.extend(["--out", out.to_str().unwrap()]);
    let o = run(&args);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    // The label map's message, once, at the start.
    let note = "note: corpus `emodb`: left out 16 clip(s) labelled `boredom`: dropped by the \
                label map";
    assert_eq!(t.matches(note).count(), 1, "{t}");
    // Held out per corpus: RAVDESS-like 04 (test) / 03 (validation), EMO-DB-like 10 / 09.
    assert!(
        t.contains("test actors emodb:10, ravdess:04 never seen in training"),
        "{t}"
    );
    assert!(t.contains("by corpus (UA and macro-F1 over the labels each corpus has)"));
    let row = |corpus: &str| {
        t.lines()
            .find(|l| l.split_whitespace().next() == Some(corpus))
            .unwrap_or_else(|| panic!("no {corpus} row in {t}"))
            .split_whitespace()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    // corpus, n, labels, UA, WA, macro-F1: EMO-DB-like speaker 10 has 6 labels x 4 clips.
    assert_eq!(row("emodb")[1..3], ["24", "6"]);
    assert_eq!(row("ravdess")[1..3], ["60", "8"]);

    let m = read_json(&out.join("manifest.json"));
    assert_eq!(
        m["labels"].as_array().unwrap().len(),
        8,
        "the union of labels"
    );
    assert_eq!(
        strings(&m["training"]["train_speakers"]),
        ["emodb:03", "emodb:08", "ravdess:01", "ravdess:02"]
    );
    let corpora: Vec<(String, String)> = m["training"]["corpora"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["root"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        corpora,
        [
            ("ravdess".to_string(), r.display().to_string()),
            ("emodb".to_string(), e.display().to_string())
        ]
    );
    let by_corpus = m["metrics"]["test"]["by_corpus"].as_array().unwrap();
    assert_eq!(by_corpus.len(), 2);
    assert_eq!(by_corpus[1]["corpus"], "emodb");
    assert_eq!(by_corpus[1]["labels"].as_array().unwrap().len(), 6);
    let data = &m["training"]["config"]["data"]["source"]["corpora"];
    assert_eq!(
        data["corpora"][1]["label_map"],
        emodb_map().display().to_string()
    );

    // A bare id only one corpus has is that corpus's speaker.
    let mut bare = common.to_vec();
    let out2 = tmp.path().join("model2");
    bare.extend(["--test-actors", "10", "--out", out2.to_str().unwrap()]);
    let o = run(&bare);
    assert!(o.status.success(), "{}", text(&o));
    let m = read_json(&out2.join("manifest.json"));
    assert_eq!(strings(&m["metrics"]["test_actors"]), ["emodb:10"]);
}

#[test]
fn two_corpora_cross_validation_keeps_every_speaker_in_one_fold_with_per_corpus_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let (r, e) = corpora(tmp.path());
    let out = tmp.path().join("cv");
    let (rd, ed, map) = (
        format!("ravdess={}", r.display()),
        format!("emodb={}", e.display()),
        format!("emodb={}", emodb_map().display()),
    );
    let o = run(&[
        "cv",
        "--model-type",
        "crnn",
        "--tiny",
        "--epochs",
        "1",
        "--folds",
        "2",
        "--bootstrap",
        "20",
        "--data",
        &rd,
        "--data",
        &ed,
        "--label-map",
        &map,
        // Bare ids one corpus has, namespaced ones where both have the speaker.
        "--actors",
        "1,2,ravdess:3,ravdess:4,emodb:3,8,9,10",
        "--out",
        out.to_str().unwrap(),
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert_eq!(
        t.matches("labelled `boredom`: dropped by the label map")
            .count(),
        1
    );

    let cv = read_json(&out.join("cv.json"));
    let all: BTreeSet<String> = [
        "emodb:03",
        "emodb:08",
        "emodb:09",
        "emodb:10",
        "ravdess:01",
        "ravdess:02",
        "ravdess:03",
        "ravdess:04",
    ]
    .map(String::from)
    .into();
    assert_eq!(
        cv["config"]["actors"].as_array().unwrap().len(),
        8,
        "{}",
        cv["config"]
    );
    let mut tested = Vec::new();
    for f in cv["folds"].as_array().unwrap() {
        let test = strings(&f["test_actors"]);
        let train = strings(&f["train_actors"]);
        // Each speaker wholly on one side: the fold's sides partition the speakers.
        assert!(test.iter().all(|s| !train.contains(s)), "{f}");
        let union: BTreeSet<String> = test.iter().chain(&train).cloned().collect();
        assert_eq!(union, all);
        tested.extend(test);
        let fold_dir = out.join(format!("fold-{}", f["fold"]));
        let report = read_json(&fold_dir.join("report.json"));
        assert_eq!(report["protocol"]["speaker_independent"], true);
        let rows = f["by_corpus"].as_array().unwrap();
        assert_eq!(rows, report["by_corpus"].as_array().unwrap());
        for row in rows {
            let labels = row["labels"].as_array().unwrap().len();
            assert_eq!(
                labels,
                if row["corpus"] == "emodb" { 6 } else { 8 },
                "{row}"
            );
        }
        // Every clip of a held-out speaker was scored in its fold.
        let n: u64 = rows.iter().map(|r| r["n"].as_u64().unwrap()).sum();
        assert_eq!(n, f["n"].as_u64().unwrap());
    }
    tested.sort();
    assert_eq!(tested, all.iter().cloned().collect::<Vec<_>>());
    let corpora: Vec<&str> = cv["config"]["corpora"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(corpora, ["ravdess", "emodb"]);

    let md = std::fs::read_to_string(out.join("cv.md")).unwrap();
    assert!(
        md.contains("| corpus | labels | folds | n | UA | WA | macro-F1 |"),
        "{md}"
    );
    // corpus, labels, folds holding some of its speakers out, clips over all folds.
    let md_row = |corpus: &str| {
        md.lines()
            .find(|l| l.starts_with(&format!("| {corpus} | ")))
            .unwrap_or_else(|| panic!("no {corpus} row in {md}"))
            .split('|')
            .map(|c| c.trim().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(md_row("emodb")[2], "6");
    assert_eq!(md_row("emodb")[4], "96");
    assert_eq!(md_row("ravdess")[2], "8");
    assert_eq!(md_row("ravdess")[4], "240");
    assert!(md.contains("Pooled, by corpus"), "{md}");
    let pooled = read_json(&out.join("pooled.json"));
    let rows = pooled["by_corpus"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["n"], 96);
    assert_eq!(rows[1]["labels"].as_array().unwrap().len(), 6);
}
