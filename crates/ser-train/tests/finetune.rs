//! Fine-tuning (`ser-train --init`, `ser_train::finetune`; issue 27, item 2) on small
//! generated corpora with tiny models: the starting point is the parent, output rows follow
//! the labels by name, `--freeze-conv` keeps the conv blocks bit for bit, the parent is
//! recorded, and bad parents or contradicting flags are clear errors.

#![allow(clippy::unwrap_used)] // tests may unwrap

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use burn::prelude::*;
use dsp_features::functionals::{FUNCTIONALS_DIM, FunctionalsConfig};
use ravdess_loader::synth::SynthConfig;
use ser_models::artifact::{MANIFEST_FILE, Manifest};
use ser_models::{Classifier, Family, FunctionalsFusion, LinearHead, Model};
use ser_train::finetune::{InitConfig, Parent, conv_parameters};
use ser_train::{
    DataSource, Dataset, SpeakerSplit, TrainConfig, TrainError, TrainEvent, TrainStatus,
    load_dataset, train_on,
};

const BIN: &str = env!("CARGO_BIN_EXE_ser-train");

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A tiny CRNN recipe on generated actors 1-5 (test 05, validation 04), writing to `out`.
fn recipe(out: &Path, cache: &Path) -> TrainConfig {
    let mut cfg = TrainConfig::new(Family::Crnn);
    cfg.model.tiny = true;
    cfg.data.source = DataSource::Synth(SynthConfig {
        actors: vec![1, 2, 3, 4, 5],
        ..Default::default()
    });
    cfg.data.split = SpeakerSplit {
        test: vec!["05".into()],
        val: vec!["04".into()],
    };
    cfg.schedule.epochs = 1;
    cfg.augment.crop_seconds = 1.5;
    cfg.output.dir = out.to_path_buf();
    cfg.output.cache_dir = Some(cache.to_path_buf());
    cfg
}

/// A temporary directory holding a tiny trained parent (`parent/`) and the corpus features.
struct Fixture {
    dir: tempfile::TempDir,
    ds: Dataset,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cfg = recipe(&dir.path().join("parent"), &dir.path().join("cache"));
        let ds = load_dataset(&cfg, &mut |_| {}).unwrap();
        let out = train_on(&cfg, &ds, &mut |_| {}).unwrap();
        assert_eq!(out.status, TrainStatus::Completed);
        Self { dir, ds }
    }

    fn parent(&self) -> PathBuf {
        self.dir.path().join("parent")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The recipe as a fine-tune of the parent, writing to `name`.
    fn child(&self, name: &str, init: InitConfig) -> TrainConfig {
        let mut cfg = recipe(&self.path(name), &self.path("cache"));
        Parent::open(&init).unwrap().adopt(&mut cfg);
        cfg
    }
}

/// Member 0's network of the artifact in `dir`.
fn network(dir: &Path) -> Model {
    let m = Manifest::read(dir).unwrap();
    m.members[0].load_weights(dir, &Device::flex()).unwrap()
}

/// The output layer of a CRNN as (weights `[d, classes]` row-major, bias, classes).
fn head(model: &Model) -> (Vec<f32>, Vec<f32>, usize) {
    let Model::Crnn(m) = model else {
        panic!("not a CRNN")
    };
    let w = m.head.weight.val();
    let classes = w.dims()[1];
    let w = w.into_data().try_to_vec::<f32>().unwrap();
    let b = m.head.bias.as_ref().unwrap().val().into_data();
    (w, b.try_to_vec::<f32>().unwrap(), classes)
}

/// Column `c` of a row-major `[d, classes]` matrix.
fn column(w: &[f32], classes: usize, c: usize) -> Vec<f32> {
    w.iter().skip(c).step_by(classes).copied().collect()
}

/// `ds` with only `keep` labels, in that order (items relabelled).
fn relabelled(ds: &Dataset, keep: &[&str]) -> Dataset {
    let mut out = ds.clone();
    out.items
        .retain(|i| keep.contains(&ds.labels[i.label].as_str()));
    for it in &mut out.items {
        let name = &ds.labels[it.label];
        it.label = keep.iter().position(|k| k == name).unwrap();
    }
    out.labels = keep.iter().map(|s| s.to_string()).collect();
    out
}

fn record(dir: &Path) -> serde_json::Value {
    Manifest::read(dir).unwrap().training["parent"].clone()
}

#[test]
fn zero_epochs_give_the_parents_predictions_and_the_parent_is_recorded() {
    let f = Fixture::new();
    let mut cfg = f.child("start", InitConfig::new(f.parent()));
    cfg.schedule.epochs = 0;
    let out = train_on(&cfg, &f.ds, &mut |_| {}).unwrap();
    assert_eq!(out.status, TrainStatus::Completed);
    let (parent, child) = (
        Classifier::load(f.parent()).unwrap(),
        Classifier::load(f.path("start")).unwrap(),
    );
    for item in f.ds.items.iter().step_by(7) {
        let p = parent.predict_features(&item.features).unwrap();
        let c = child.predict_features(&item.features).unwrap();
        assert_eq!(p.probabilities, c.probabilities, "{}", item.id);
    }
    // Same labels: the test score is the parent's own.
    let m = |c: &Classifier| c.manifest().metrics["test"]["ua"].as_f64().unwrap();
    assert_eq!(m(&parent), m(&child));
    let rec = record(&f.path("start"));
    let bytes = std::fs::read(f.parent().join(MANIFEST_FILE)).unwrap();
    assert_eq!(rec["manifest_md5"], format!("{:x}", md5::compute(&bytes)));
    assert_eq!(
        rec["path"].as_str().map(PathBuf::from),
        Some(std::fs::canonicalize(f.parent()).unwrap())
    );
    assert_eq!(rec["labels"], serde_json::json!(parent.labels()));
    assert_eq!(rec["member"]["index"], 0);
    assert_eq!(rec["norm"], "parent");
    assert_eq!(rec["output_rows"]["fresh"], serde_json::json!([]));
    assert_eq!(rec["functionals"], "none");
    let config = &child.manifest().training["config"]["init"];
    assert_eq!(config["member"], 0);
}

#[test]
fn a_subset_of_labels_keeps_the_parents_rows_and_new_labels_get_fresh_ones() {
    let f = Fixture::new();
    let parent = network(&f.parent());
    let (pw, pb, p_classes) = head(&parent);
    let labels = Classifier::load(f.parent()).unwrap().labels().to_vec();
    let idx = |l: &str| labels.iter().position(|x| x == l).unwrap();

    // A subset, reordered: every row is the parent's row of the same label.
    let subset = relabelled(&f.ds, &["sad", "angry", "happy"]);
    let mut cfg = f.child("subset", InitConfig::new(f.parent()));
    cfg.schedule.epochs = 0;
    train_on(&cfg, &subset, &mut |_| {}).unwrap();
    let (w, b, classes) = head(&network(&f.path("subset")));
    assert_eq!(classes, 3);
    for (c, l) in subset.labels.iter().enumerate() {
        assert_eq!(column(&w, 3, c), column(&pw, p_classes, idx(l)), "{l}");
        assert_eq!(b[c], pb[idx(l)], "{l}");
    }
    // The rest of the network is the parent's.
    let pc = conv_parameters(&parent).unwrap();
    assert_eq!(conv_parameters(&network(&f.path("subset"))).unwrap(), pc);
    let rec = record(&f.path("subset"));
    assert_eq!(
        rec["output_rows"]["kept"],
        serde_json::json!(["sad", "angry", "happy"])
    );

    // A label the parent does not know (calm renamed boredom): a fresh row for it only.
    let mut renamed = f.ds.clone();
    let calm = idx("calm");
    renamed.labels[calm] = "boredom".into();
    let mut cfg = f.child("renamed", InitConfig::new(f.parent()));
    cfg.schedule.epochs = 0;
    train_on(&cfg, &renamed, &mut |_| {}).unwrap();
    let (w, b, classes) = head(&network(&f.path("renamed")));
    assert_eq!(classes, p_classes);
    for c in 0..classes {
        let same = column(&w, classes, c) == column(&pw, p_classes, c) && b[c] == pb[c];
        assert_eq!(same, c != calm, "row {c} ({})", renamed.labels[c]);
    }
    let rec = record(&f.path("renamed"));
    assert_eq!(rec["output_rows"]["fresh"], serde_json::json!(["boredom"]));

    // No label in common: the whole output layer is fresh.
    let mut other = relabelled(&f.ds, &["angry", "sad"]);
    other.labels = vec!["anger".into(), "sadness".into()];
    let mut cfg = f.child("other", InitConfig::new(f.parent()));
    cfg.schedule.epochs = 0;
    train_on(&cfg, &other, &mut |_| {}).unwrap();
    let (w, _, _) = head(&network(&f.path("other")));
    for c in 0..2 {
        for pc in 0..p_classes {
            assert_ne!(column(&w, 2, c), column(&pw, p_classes, pc));
        }
    }
}

#[test]
fn freeze_conv_keeps_the_conv_blocks_bit_for_bit_through_training_and_resume() {
    let f = Fixture::new();
    let parent = network(&f.parent());
    let (pw, _, _) = head(&parent);
    let pc = conv_parameters(&parent).unwrap();
    assert!(!pc.is_empty());

    let mut init = InitConfig::new(f.parent());
    init.freeze_conv = true;
    let mut cfg = f.child("frozen", init);
    cfg.schedule.epochs = 2;
    // Interrupted after 3 batches, then resumed: the resumed model is frozen again.
    cfg.control.stop_after_batches = Some(3);
    let out = train_on(&cfg, &f.ds, &mut |_| {}).unwrap();
    assert_eq!(out.status, TrainStatus::Interrupted);
    cfg.control = ser_train::RunControl {
        resume: true,
        stop_after_batches: None,
    };
    let out = train_on(&cfg, &f.ds, &mut |_| {}).unwrap();
    assert_eq!(out.status, TrainStatus::Completed);
    let frozen = network(&f.path("frozen"));
    assert_eq!(conv_parameters(&frozen).unwrap(), pc);
    assert_ne!(head(&frozen).0, pw, "the output layer trained");

    // Without --freeze-conv the same epochs change the conv blocks.
    let mut cfg = f.child("free", InitConfig::new(f.parent()));
    cfg.schedule.epochs = 1;
    train_on(&cfg, &f.ds, &mut |_| {}).unwrap();
    assert_ne!(conv_parameters(&network(&f.path("free"))).unwrap(), pc);
    assert_eq!(record(&f.path("frozen"))["freeze_conv"], true);
}

#[test]
fn refit_norm_and_the_functionals_head_are_rules_of_the_record() {
    let f = Fixture::new();
    // Give the parent a head (zeros: uniform probabilities), as the shipped model has one.
    let mut m = Manifest::read(&f.parent()).unwrap();
    let classes = m.labels.len();
    m.functionals = Some(FunctionalsFusion {
        config: FunctionalsConfig::default(),
        weight: 0.5,
    });
    m.members[0].head = Some(LinearHead {
        mean: vec![0.0; FUNCTIONALS_DIM],
        std: vec![1.0; FUNCTIONALS_DIM],
        weights: vec![vec![0.0; FUNCTIONALS_DIM]; classes],
        bias: vec![0.0; classes],
        fit: serde_json::Value::Null,
    });
    std::fs::write(f.parent().join(MANIFEST_FILE), m.to_json().unwrap()).unwrap();

    // Dropped by default, with a note. (Other training speakers than the parent's: the
    // parent trained on 01-03 and validated on 04; its test speaker 05 is the only one it
    // never heard.)
    let mut init = InitConfig::new(f.parent());
    init.norm = ser_train::InitNorm::Refit;
    let other_split = SpeakerSplit {
        test: vec!["05".into()],
        val: vec!["02".into()],
    };
    let mut cfg = f.child("dropped", init.clone());
    cfg.data.split = other_split.clone();
    cfg.schedule.epochs = 0;
    let mut notes = Vec::new();
    train_on(&cfg, &f.ds, &mut |e| {
        if let ser_train::TrainEvent::Note(n) = e {
            notes.push(n)
        }
    })
    .unwrap();
    assert!(
        notes.iter().any(|n| n.contains("head is dropped")),
        "{notes:?}"
    );
    let dropped = Manifest::read(&f.path("dropped")).unwrap();
    assert!(dropped.functionals.is_none() && dropped.members[0].head.is_none());
    assert_eq!(dropped.training["parent"]["functionals"], "dropped");
    assert_eq!(dropped.training["parent"]["norm"], "refit");
    // Refitted statistics are this run's training clips', not the parent's.
    assert_ne!(dropped.members[0].norm, m.members[0].norm);

    // Fitted again with `functionals`: a head for every label, and a fused test score.
    init.functionals = true;
    let mut cfg = f.child("refit", init);
    cfg.data.split = other_split;
    cfg.schedule.epochs = 0;
    train_on(&cfg, &f.ds, &mut |_| {}).unwrap();
    let c = Classifier::load(f.path("refit")).unwrap();
    assert!(c.uses_functionals());
    let head = c.manifest().members[0].head.as_ref().unwrap();
    assert_eq!(head.n_classes(), classes);
    assert!(head.weights.iter().flatten().any(|w| *w != 0.0));
    assert!(c.manifest().metrics["test"]["ua"].is_number());
    assert_eq!(c.manifest().training["parent"]["functionals"], "refit");
}

#[test]
fn the_command_line_fine_tunes_and_refuses_bad_parents_and_contradicting_flags() {
    let f = Fixture::new();
    let parent = f.parent();
    let parent_s = parent.to_str().unwrap();
    let child = f.path("cli");
    let base = [
        "--synth-actors",
        "1,2,3,4,5",
        "--test-actors",
        "05",
        "--val-actors",
        "04",
        "--quiet",
        "--crop-seconds",
        "1.5",
        "--epochs",
        "1",
    ];
    let o = run(&[
        &base[..],
        &[
            "--init",
            parent_s,
            "--freeze-conv",
            "--out",
            child.to_str().unwrap(),
        ],
    ]
    .concat());
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("note: output layer: the parent's, whole"),
        "{}",
        text(&o)
    );
    let rec = record(&child);
    assert_eq!(rec["freeze_conv"], true);
    assert_eq!(
        conv_parameters(&network(&child)).unwrap(),
        conv_parameters(&network(&parent)).unwrap()
    );

    let fails = |extra: &[&str], want: &[&str]| {
        let o = run(&[&base[..], extra].concat());
        assert!(!o.status.success(), "{extra:?} succeeded");
        let t = text(&o);
        for w in want {
            assert!(t.contains(w), "{extra:?}: `{w}` not in: {t}");
        }
    };
    let missing = f.path("nowhere");
    fails(
        &["--init", missing.to_str().unwrap()],
        &["--init", missing.to_str().unwrap()],
    );
    let corrupt = f.path("corrupt");
    std::fs::create_dir_all(&corrupt).unwrap();
    std::fs::write(corrupt.join(MANIFEST_FILE), "{ not json").unwrap();
    fails(
        &["--init", corrupt.to_str().unwrap()],
        &["--init", "manifest.json"],
    );
    fails(
        &["--init", parent_s, "--features", "mfcc"],
        &["--features", "mfcc", "logmel", parent_s],
    );
    fails(&["--init", parent_s, "--cmvn"], &["--cmvn", "logmel"]);
    fails(
        &["--init", parent_s, "--model", "cnn"],
        &["--model cnn", "crnn"],
    );
    fails(
        &["--init", parent_s, "--channels", "8,16"],
        &["--channels", "[4, 8]"],
    );
    fails(&["--init", parent_s, "--tiny"], &["--tiny"]);
    fails(
        &["--init", parent_s, "--init-member", "2"],
        &["--init-member", "0 (model)"],
    );
    fails(
        &["--init", parent_s, "--functionals"],
        &["--functionals", "no utterance-functionals head"],
    );
    // A parent's training speaker as a test speaker: only it is named.
    fails(
        &["--init", parent_s, "--test-actors", "01"],
        &["--init", "heard test speaker(s) 01 ", parent_s],
    );
    fails(&["--freeze-conv", "--model", "crnn"], &["--init"]);
    let o = run(&["--model", "crnn", "--epochs", "0", "--quiet"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("0 only with --init"), "{}", text(&o));
}

/// The test speakers a parent heard are refused (they would be scored on voices it learnt),
/// whether it trained (01-03) or validated (04) on them; its own test speaker (05) is not.
/// Ids are compared corpus by corpus: EMO-DB speaker 03 is not generated actor 03.
#[test]
fn test_speakers_the_parent_heard_are_refused_corpus_by_corpus() {
    let f = Fixture::new();
    let parent = f.parent();
    let split = |test: &[&str], val: &[&str]| SpeakerSplit {
        test: test.iter().map(|s| s.to_string()).collect(),
        val: val.iter().map(|s| s.to_string()).collect(),
    };
    for (test, heard) in [(&["02", "05"][..], "02"), (&["04"][..], "04")] {
        let mut cfg = f.child("heard", InitConfig::new(&parent));
        cfg.data.split = split(test, &["01"]);
        let err = train_on(&cfg, &f.ds, &mut |_| {}).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, TrainError::Config { .. }), "{msg}");
        for want in [
            "--init",
            "heard test speaker(s)",
            parent.to_str().unwrap(),
            "Fix:",
        ] {
            assert!(msg.contains(want), "`{want}` not in: {msg}");
        }
        assert!(msg.contains(&format!("speaker(s) {heard} ")), "{msg}");
        assert!(!f.path("heard").join(MANIFEST_FILE).exists());
    }

    // Validating on a speaker the parent heard is allowed, with a warning.
    let mut cfg = f.child("val-heard", InitConfig::new(&parent));
    cfg.data.split = split(&["05"], &["01"]);
    let mut warnings = Vec::new();
    let out = train_on(&cfg, &f.ds, &mut |e| {
        if let TrainEvent::Warning(w) = e {
            warnings.push(w);
        }
    })
    .unwrap();
    assert_eq!(out.status, TrainStatus::Completed);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("validation speaker(s) 01")),
        "{warnings:?}"
    );

    // EMO-DB speaker 03 is not the generated actor 03 the parent trained on.
    let emodb = f.path("emodb");
    common::emodb_like(&emodb, &["a01", "a02"], false);
    let mut cfg = f.child("emodb", InitConfig::new(&parent));
    cfg.data.source = DataSource::Dir(emodb);
    cfg.data.split = split(&["03"], &[]);
    cfg.data.no_val = true;
    let ds = load_dataset(&cfg, &mut |_| {}).unwrap();
    let out = train_on(&cfg, &ds, &mut |_| {}).unwrap();
    assert_eq!(out.status, TrainStatus::Completed);
    assert!(out.test.is_some());
}
