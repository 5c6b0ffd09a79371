//! Cross-validation of a fine-tuning recipe (`ser-train cv --init DIR --test-corpus NAME`;
//! issue 27, items 1, 2 and 5): a tiny parent trained on a RAVDESS-shaped generated corpus,
//! fine-tuned in every fold on it plus the other folds' speakers of an EMO-DB-like corpus,
//! scored on the EMO-DB-like speakers only; the refusal of folds that hold out a speaker the
//! parent heard; an unknown `--test-corpus`.

#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{emodb_like, emodb_map, read_json, run, strings, text};
use dsp_features::functionals::{FUNCTIONALS_DIM, FunctionalsConfig};
use ravdess_loader::synth::{self, SynthConfig};
use ser_models::artifact::{MANIFEST_FILE, Manifest};
use ser_models::{FunctionalsFusion, LinearHead};
use serde_json::Value;

/// The schedule of every cross-validation here: 2 folds of one epoch, a small bootstrap.
const QUICK_CV: [&str; 9] = [
    "--epochs",
    "1",
    "--crop-seconds",
    "1.5",
    "--folds",
    "2",
    "--bootstrap",
    "20",
    "--no-val",
];

/// Generated RAVDESS actors 01-04 and the EMO-DB-like corpus under `root`, and a tiny CRNN
/// parent trained on every RAVDESS-like actor (`--all-actors`, as the shipped model's final
/// fit), given a functionals head as the shipped model has one.
struct Fixture {
    tmp: tempfile::TempDir,
    ravdess: PathBuf,
    emodb: PathBuf,
    parent: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let (ravdess, emodb) = (
            tmp.path().join("ravdess-like"),
            tmp.path().join("emodb-like"),
        );
        synth::write(
            &ravdess,
            &SynthConfig {
                actors: vec![1, 2, 3, 4],
                ..Default::default()
            },
        )
        .unwrap();
        emodb_like(&emodb, &["a01", "b01"], false);
        let parent = tmp.path().join("parent");
        let o = run(&[
            "--model",
            "crnn",
            "--tiny",
            "--epochs",
            "1",
            "--quiet",
            "--crop-seconds",
            "1.5",
            "--all-actors",
            "--no-val",
            "--data",
            ravdess.to_str().unwrap(),
            "--out",
            parent.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", text(&o));
        // A head of zeros (uniform probabilities), as the shipped model fuses one.
        let mut m = Manifest::read(&parent).unwrap();
        let classes = m.labels.len();
        m.functionals = Some(FunctionalsFusion {
            config: FunctionalsConfig::default(),
            weight: 0.4,
        });
        m.members[0].head = Some(LinearHead {
            mean: vec![0.0; FUNCTIONALS_DIM],
            std: vec![1.0; FUNCTIONALS_DIM],
            weights: vec![vec![0.0; FUNCTIONALS_DIM]; classes],
            bias: vec![0.0; classes],
            fit: Value::Null,
        });
        std::fs::write(parent.join(MANIFEST_FILE), m.to_json().unwrap()).unwrap();
        Self {
            tmp,
            ravdess,
            emodb,
            parent,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// `ser-train cv --init <parent>` over both corpora in 2 folds of one epoch, into `out`.
    fn cv(&self, out: &Path, extra: &[&str]) -> Output {
        self.cv_from(&["--init", self.parent.to_str().unwrap()], out, extra)
    }

    /// `ser-train cv` starting from `start` (`--init DIR`, `--init-folds RUN`) over both
    /// corpora in 2 folds of one epoch, into `out`.
    fn cv_from(&self, start: &[&str], out: &Path, extra: &[&str]) -> Output {
        let (rd, ed, map) = (
            format!("ravdess={}", self.ravdess.display()),
            format!("emodb={}", self.emodb.display()),
            format!("emodb={}", emodb_map().display()),
        );
        let mut a = vec!["cv"];
        a.extend_from_slice(start);
        a.extend_from_slice(&QUICK_CV);
        a.extend_from_slice(&[
            "--data",
            &rd,
            "--data",
            &ed,
            "--label-map",
            &map,
            "--out",
            out.to_str().unwrap(),
        ]);
        a.extend_from_slice(extra);
        run(&a)
    }
}

#[test]
fn a_fine_tune_cross_validation_holds_out_only_the_test_corpus_and_ships_its_estimate() {
    let f = Fixture::new();
    let out = f.path("cv");
    let ship = f.path("ship");
    let o = f.cv(
        &out,
        &[
            "--test-corpus",
            "emodb",
            "--functionals",
            "--refit",
            "--ensemble-out",
            ship.to_str().unwrap(),
        ],
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    // The folds are printed before training: gender-balanced pairs of EMO-DB-like speakers.
    let folds: Vec<&str> = t.lines().filter(|l| l.contains(": holds out ")).collect();
    assert_eq!(folds.len(), 2, "{t}");
    for l in &folds {
        assert_eq!(l.matches("(m)").count(), 1, "{l}");
        assert_eq!(l.matches("(f)").count(), 1, "{l}");
        assert!(!l.contains("ravdess"), "{l}");
    }

    let cv = read_json(&out.join("cv.json"));
    let ravdess: BTreeSet<String> = (1..=4).map(|a| format!("ravdess:{a:02}")).collect();
    let mut tested = Vec::new();
    for fold in cv["folds"].as_array().unwrap() {
        let test = strings(&fold["test_actors"]);
        let train: BTreeSet<String> = strings(&fold["train_actors"]).into_iter().collect();
        assert!(test.iter().all(|s| s.starts_with("emodb:")), "{fold}");
        // Every RAVDESS-like actor trains in every fold; no held-out speaker does.
        assert!(ravdess.is_subset(&train), "{fold}");
        assert!(test.iter().all(|s| !train.contains(s)), "{fold}");
        // Scores are on the EMO-DB-like clips alone: 2 speakers x 6 labels x 2 clips, and
        // UA over its 6 labels.
        assert_eq!(fold["n"], 24, "{fold}");
        let rows = fold["by_corpus"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{fold}");
        assert_eq!(rows[0]["corpus"], "emodb");
        assert_eq!(rows[0]["labels"].as_array().unwrap().len(), 6);
        assert_eq!(rows[0]["ua"], fold["ua"], "UA over the labels present");
        assert_eq!(rows[0]["macro_f1"], fold["macro_f1"], "so is macro-F1");
        tested.extend(test);
        // Each fold fine-tuned the parent and fused a head of its own.
        let dir = out.join(format!("fold-{}", fold["fold"])).join("model");
        let m = read_json(&dir.join(MANIFEST_FILE));
        assert_eq!(
            m["training"]["parent"]["path"],
            f.parent.canonicalize().unwrap().display().to_string()
        );
        assert!(m["members"][0]["head"].is_object());
        assert_eq!(
            m["functionals"]["weight"], 0.4,
            "the parent's fusion weight"
        );
    }
    tested.sort();
    assert_eq!(tested, ["emodb:03", "emodb:08", "emodb:09", "emodb:10"]);
    let protocol = cv["protocol"].as_str().unwrap();
    assert!(
        protocol.contains("fine-tune of")
            && protocol.contains(f.parent.to_str().unwrap())
            && protocol.contains("speakers of corpus `emodb`"),
        "{protocol}"
    );
    let md = std::fs::read_to_string(out.join("cv.md")).unwrap();
    assert!(md.contains("fine-tuned from member 0"), "{md}");

    // The final fit heard every speaker of both corpora; its estimate is this CV.
    let fit = read_json(&out.join("refit/model").join(MANIFEST_FILE));
    assert!(fit["training"]["parent"].is_object());
    let m = read_json(&ship.join(MANIFEST_FILE));
    assert_eq!(m["training"]["fit"], "refit on every actor");
    assert_eq!(m["metrics"]["cv"]["ua"], cv["ua"]);
    assert_eq!(m["metrics"]["cv"]["folds"].as_array().unwrap().len(), 2);
    assert!(m["protocol"].as_str().unwrap().contains("fine-tune of"));
    let heard = strings(&m["training"]["train_speakers"]);
    assert_eq!(heard.len(), 8, "{heard:?}");
}

#[test]
fn folds_holding_out_speakers_the_parent_heard_are_refused() {
    let f = Fixture::new();
    let fails = |extra: &[&str], want: &[&str]| {
        let out = f.path("refused");
        let o = f.cv(&out, extra);
        assert!(!o.status.success(), "{extra:?} succeeded");
        let t = text(&o);
        for w in want {
            assert!(t.contains(w), "{extra:?}: `{w}` not in: {t}");
        }
        // Refused before any fold trained.
        assert!(!out.join("fold-1").exists(), "{t}");
    };
    let parent = f.parent.to_str().unwrap();
    // The parent's own corpus held out.
    fails(
        &["--test-corpus", "ravdess"],
        &["ravdess:0", parent, "--test-corpus", "never heard"],
    );
    // Folds over both corpora hold out RAVDESS-like actors too.
    fails(&[], &["ravdess:0", parent, "--test-corpus NAME"]);
    // An unknown corpus lists the names.
    fails(
        &["--test-corpus", "iemocap"],
        &["--test-corpus", "iemocap", "`emodb`, `ravdess`"],
    );
    // --model-type must be the parent's family.
    fails(
        &["--model-type", "cnn", "--test-corpus", "emodb"],
        &["--model-type cnn", "crnn"],
    );
}

/// Copies the files of `from` (a model directory, no subfolders) into `to`.
fn copy_model(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// `--init-folds RUN`: a cross-validation of a fine-tune over the corpus the parents heard,
/// fold K starting from RUN's fold-K model (trained without fold K's speakers); refused when
/// a fold's parent heard its held-out speakers, when a fold parent is missing, with --refit.
#[test]
fn init_folds_fine_tunes_each_fold_from_a_parent_that_never_heard_it() {
    let f = Fixture::new();
    // The fold parents: a plain CV over the RAVDESS-like corpus alone.
    let parents = f.path("parents");
    let rd = format!("ravdess={}", f.ravdess.display());
    let mut a = vec!["cv", "--model-type", "crnn", "--tiny", "--data", &rd];
    a.extend_from_slice(&QUICK_CV);
    a.extend_from_slice(&["--out", parents.to_str().unwrap()]);
    let o = run(&a);
    assert!(o.status.success(), "{}", text(&o));

    let fine_tune = |init_folds: &Path, out: &Path, extra: &[&str]| {
        let start = [
            "--init-folds",
            init_folds.to_str().unwrap(),
            "--test-corpus",
            "ravdess",
        ];
        f.cv_from(&start, out, extra)
    };
    let out = f.path("ft");
    let o = fine_tune(&parents, &out, &["--functionals"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    let cv = read_json(&out.join("cv.json"));
    let parent_folds = read_json(&parents.join("cv.json"));
    for (fold, theirs) in cv["folds"]
        .as_array()
        .unwrap()
        .iter()
        .zip(parent_folds["folds"].as_array().unwrap())
    {
        let k = fold["fold"].as_u64().unwrap();
        // The same speakers held out as by the parent's fold (namespaced here: two corpora).
        let test = strings(&fold["test_actors"]);
        let bare: Vec<String> = test
            .iter()
            .map(|s| s.strip_prefix("ravdess:").unwrap().to_string())
            .collect();
        assert_eq!(bare, strings(&theirs["test_actors"]), "{fold}");
        // Every EMO-DB-like speaker trains in every fold.
        let train = strings(&fold["train_actors"]);
        assert_eq!(train.iter().filter(|s| s.starts_with("emodb:")).count(), 4);
        // Fold K started from the parents' fold K model.
        let m = read_json(&out.join(format!("fold-{k}/model")).join(MANIFEST_FILE));
        let want = parents
            .join(format!("fold-{k}/model"))
            .canonicalize()
            .unwrap();
        assert_eq!(
            m["training"]["parent"]["path"],
            want.display().to_string(),
            "fold {k}"
        );
        assert!(m["members"][0]["head"].is_object(), "fold {k} has its head");
    }
    let protocol = cv["protocol"].as_str().unwrap();
    assert!(
        protocol.contains("each fold's own parent") && protocol.contains("corpus `ravdess`"),
        "{protocol}"
    );

    // Fold parents that heard every speaker (copies of the all-actor parent): refused
    // before anything trains, naming the fold and the speakers.
    let heard = f.path("heard-all");
    for k in 1..=2 {
        copy_model(&f.parent, &heard.join(format!("fold-{k}/model")));
    }
    let refused = f.path("refused");
    let o = fine_tune(&heard, &refused, &[]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("fold 1 would hold out ravdess:0")
            && t.contains("same --folds, --seed")
            && t.contains("invalid --init-folds"),
        "{t}"
    );
    assert!(!refused.join("fold-1").exists(), "{t}");

    // A fold parent missing: named, with the fix.
    let half = f.path("half");
    copy_model(&parents.join("fold-1/model"), &half.join("fold-1/model"));
    let o = fine_tune(&half, &f.path("refused-2"), &[]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("fold 2's parent") && t.contains("has not finished fold 2"),
        "{t}"
    );
    // Training only fold 1 needs only fold 1's parent.
    let o = fine_tune(&half, &f.path("only-1"), &["--fold", "1"]);
    assert!(o.status.success(), "{}", text(&o));

    // No final fit: no fold parent heard everyone.
    let o = fine_tune(&parents, &f.path("refit"), &["--refit"]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(t.contains("--refit") && t.contains("--init-folds"), "{t}");
}
