//! End-to-end tests of the real `ser-eval` binary on a generated corpus written to disk.
//!
//! The model is a CRNN artifact saved through `ser_models::artifact::save` with untrained
//! (randomly initialised) weights: these tests check the pipeline and every output, not
//! accuracy. Its manifest records training actors so the speaker-independence check is
//! exercised both ways.
// Tests may unwrap (a panic is a failed test); clippy's allow-unwrap-in-tests does not reach
// helper functions of integration tests.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use burn::prelude::*;
use dsp_features::FeatureConfig;
use ravdess_loader::synth::{self, SynthConfig};
use ser_models::artifact::{ArtifactKind, FORMAT_VERSION, Manifest, Member, save};
use ser_models::{Family, ModelConfig};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_ser-eval");
const EMOTIONS: [&str; 8] = [
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
];

/// A fresh directory under cargo's per-target scratch space (statics are never dropped, so a
/// `TempDir` here would leak into /tmp on every run; this place is reused instead).
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Generated actors 01 and 02 (60 clips each), written once for all tests.
fn corpus() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("ser-eval-cli-corpus");
        let cfg = SynthConfig {
            actors: vec![1, 2],
            ..Default::default()
        };
        assert_eq!(synth::write(&dir, &cfg).unwrap(), 120);
        dir
    })
}

/// Generated actor 02 with one clip replaced by bytes that are not a WAV file.
fn corpus_with_corrupt_file() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("ser-eval-cli-corrupt");
        let cfg = SynthConfig {
            actors: vec![2],
            ..Default::default()
        };
        synth::write(&dir, &cfg).unwrap();
        let victim = dir.join("Actor_02/03-01-05-02-01-01-02.wav");
        assert!(victim.is_file());
        std::fs::write(&victim, b"this is not a RIFF/WAVE file at all").unwrap();
        dir
    })
}

/// Saves an untrained CRNN artifact with `labels` that says it was trained on `train_actors`.
fn model(labels: &[&str], train_actors: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let features = FeatureConfig::default();
    let config = ModelConfig::default_for(Family::Crnn, features.output_bins(), labels.len());
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        kind: ArtifactKind::Single,
        members: vec![Member {
            name: "untrained".into(),
            model: config.clone(),
            weights: "model.bpk".into(),
            norm: None,
            head: None,
        }],
        features,
        preprocess: None,
        labels: labels.iter().map(|s| s.to_string()).collect(),
        protocol: "untrained test model".into(),
        training: serde_json::json!({ "train_actors": train_actors }),
        metrics: Value::Null,
        test_time_warps: Vec::new(),
        functionals: None,
    };
    let artifact = dir.path().join("model");
    save(&artifact, &manifest, &[config.init(&Device::default())]).unwrap();
    dir
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn model_dir(t: &tempfile::TempDir) -> PathBuf {
    t.path().join("model")
}

#[test]
fn json_report_and_output_files() {
    let m = model(&EMOTIONS, &["03", "04"]);
    let out = tempfile::tempdir().unwrap();
    let o = run(&[
        "--model",
        path_str(&model_dir(&m)),
        "--data",
        path_str(corpus()),
        "--format",
        "json",
        "--bootstrap",
        "200",
        "--out",
        path_str(out.path()),
    ]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["n"], 120);
    for key in ["ua", "wa", "macro_f1", "weighted_f1", "kappa"] {
        let v = j[key].as_f64().unwrap_or_else(|| panic!("{key} missing"));
        assert!((-1.0..=1.0).contains(&v), "{key} = {v}");
    }
    let ua = j["ua"].as_f64().unwrap();
    assert!(j["ci"]["ua"]["low"].as_f64().unwrap() <= ua + 1e-12);
    assert!(j["ci"]["ua"]["high"].as_f64().unwrap() >= ua - 1e-12);
    let per_class = j["per_class"].as_object().unwrap();
    assert_eq!(per_class.len(), 8);
    let supports: u64 = per_class
        .values()
        .map(|c| c["support"].as_u64().unwrap())
        .sum();
    assert_eq!(supports, 120);
    for c in per_class.values() {
        for k in ["precision", "recall", "f1"] {
            assert!(c[k].is_f64(), "{c}");
        }
    }
    assert_eq!(per_class["neutral"]["support"], 8);
    let counts = j["confusion"]["counts"].as_array().unwrap();
    assert_eq!(counts.len(), 8);
    let total: u64 = counts
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, 120);
    assert_eq!(
        j["protocol"]["actors_evaluated"],
        serde_json::json!(["01", "02"])
    );
    assert_eq!(
        j["protocol"]["training_actors"],
        serde_json::json!(["03", "04"])
    );
    assert_eq!(j["protocol"]["speaker_independent"], true);
    assert_eq!(j["breakdown"]["by_actor"].as_array().unwrap().len(), 2);
    assert_eq!(j["breakdown"]["by_gender"].as_array().unwrap().len(), 2);
    assert_eq!(j["breakdown"]["by_intensity"].as_array().unwrap().len(), 2);

    // Files under --out.
    let written: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(written, j);
    let report_csv = std::fs::read_to_string(out.path().join("report.csv")).unwrap();
    assert!(report_csv.starts_with("metric,class,value\n"));
    assert!(report_csv.contains("\nua,,"));
    let preds = std::fs::read_to_string(out.path().join("predictions.csv")).unwrap();
    let mut lines = preds.lines();
    assert_eq!(
        lines.next().unwrap(),
        "path,actor,true,predicted,prob_neutral,prob_calm,prob_happy,prob_sad,prob_angry,\
         prob_fearful,prob_disgust,prob_surprised"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 120);
    let first: Vec<&str> = rows[0].split(',').collect();
    assert_eq!(first.len(), 12);
    let p_sum: f64 = first[4..].iter().map(|p| p.parse::<f64>().unwrap()).sum();
    assert!((p_sum - 1.0).abs() < 1e-3, "{}", rows[0]);
    assert!(
        std::fs::read_to_string(out.path().join("breakdown.csv"))
            .unwrap()
            .contains("actor,01,60,")
    );
    let png = std::fs::read(out.path().join("confusion.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = std::fs::read_to_string(out.path().join("confusion.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("surprised"));
}

#[test]
fn table_format_and_actor_filter() {
    let m = model(&EMOTIONS, &["03"]);
    let o = run(&[
        "--model",
        path_str(&model_dir(&m)),
        "--data",
        path_str(corpus()),
        "--actors",
        "2",
        "--bootstrap",
        "100",
    ]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let t = text(&o.stdout);
    assert!(t.contains("precision    recall  f1-score   support"), "{t}");
    assert!(t.contains("UA (balanced accuracy)") && t.contains("Cohen's kappa"));
    assert!(t.contains("actors evaluated: 02"), "{t}");
    assert!(t.contains("weighted avg"));
}

#[test]
fn csv_format_is_tidy() {
    let m = model(&EMOTIONS, &["03"]);
    let o = run(&[
        "--model",
        path_str(&model_dir(&m)),
        "--data",
        path_str(corpus()),
        "--format",
        "csv",
        "--bootstrap",
        "50",
    ]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let t = text(&o.stdout);
    assert!(t.starts_with("metric,class,value\n"));
    assert!(t.lines().all(|l| l.split(',').count() == 3), "{t}");
    assert!(t.contains("\nsupport,neutral,8\n"), "{t}");
}

#[test]
fn corrupt_file_is_reported_and_the_rest_evaluated() {
    let m = model(&EMOTIONS, &["03"]);
    let o = run(&[
        "--model",
        path_str(&model_dir(&m)),
        "--data",
        path_str(corpus_with_corrupt_file()),
        "--format",
        "json",
        "--bootstrap",
        "50",
    ]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["n"], 59);
    let skipped = j["skipped_files"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert!(
        skipped[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("03-01-05-02-01-01-02.wav")
    );
    assert!(text(&o.stderr).contains("03-01-05-02-01-01-02.wav"));
}

#[test]
fn overlapping_training_actors_are_flagged() {
    let m = model(&EMOTIONS, &["01", "05"]);
    let o = run(&[
        "--model",
        path_str(&model_dir(&m)),
        "--data",
        path_str(corpus()),
        "--format",
        "json",
        "--bootstrap",
        "50",
    ]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["protocol"]["speaker_independent"], false);
    assert_eq!(
        j["protocol"]["overlapping_actors"],
        serde_json::json!(["01"])
    );
    let err = text(&o.stderr);
    assert!(
        err.contains("WARNING") && err.contains("NOT speaker-independent"),
        "{err}"
    );
}

#[test]
fn validation_actors_are_noted_but_not_called_training() {
    let m = model(&EMOTIONS, &["03", "04"]);
    // ser-train records its early-stopping speakers as metrics.val_actors.
    let manifest_path = model_dir(&m).join("manifest.json");
    let mut manifest: Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["metrics"] = serde_json::json!({ "val_actors": ["02"] });
    std::fs::write(
        &manifest_path,
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    let o = run(&[
        "--model",
        path_str(&model_dir(&m)),
        "--data",
        path_str(corpus()),
        "--format",
        "json",
        "--bootstrap",
        "50",
    ]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["protocol"]["speaker_independent"], true);
    assert_eq!(
        j["protocol"]["validation_overlap"],
        serde_json::json!(["02"])
    );
    assert!(
        text(&o.stderr).contains("validation actors"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn mismatched_label_sets_are_a_clear_error() {
    let m = model(&["dog", "cat", "bird"], &["03"]);
    let o = run(&[
        "--model",
        path_str(&model_dir(&m)),
        "--data",
        path_str(corpus()),
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("label sets do not match"), "{err}");
    assert!(err.contains("angry") && err.contains("dog"), "{err}");
}

#[test]
fn partially_matching_labels_are_listed() {
    // Cross-corpus: the model knows three of the data's eight emotions (case differs).
    let m = model(&["Angry", "HAPPY", "Sad"], &["03"]);
    let o = run(&[
        "--model",
        path_str(&model_dir(&m)),
        "--data",
        path_str(corpus()),
        "--format",
        "json",
        "--bootstrap",
        "50",
    ]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["n"], 48);
    assert_eq!(j["unmapped_labels"].as_array().unwrap().len(), 5);
    assert!(text(&o.stderr).contains("data label `calm` (16 files) is not a model class"));
}

#[test]
fn missing_model_and_missing_data_errors() {
    let o = run(&[
        "--model",
        "/nonexistent/model",
        "--data",
        path_str(corpus()),
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("/nonexistent/model"),
        "{}",
        text(&o.stderr)
    );

    // Without --model the search order of ser_models::artifact::find_model applies: a
    // SER_MODEL naming no model is an error that names it, not a reason to look elsewhere.
    let o = Command::new(BIN)
        .args(["--data", path_str(corpus())])
        .env("SER_MODEL", "/nonexistent/from-env")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("/nonexistent/from-env"), "{err}");

    let m = model(&EMOTIONS, &["03"]);
    let o = run(&[
        "--model",
        path_str(&model_dir(&m)),
        "--data",
        path_str(corpus()),
        "--actors",
        "21",
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("actors 21") && err.contains("01,02"), "{err}");
}

/// `ser-eval cv` and `cv-combine` moved to `ser-train` (issue 26): the old commands say where,
/// with the flags given, and do nothing else.
#[test]
fn cross_validation_commands_name_their_new_home() {
    let out = scratch("ser-eval-cli-moved");
    let o = run(&["cv", "--model-type", "crnn", "--out", path_str(&out)]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains("ser-train cv --model-type crnn --out") && err.contains("moved"),
        "{err}"
    );
    assert!(!out.exists(), "nothing trained or written");
    let o = run(&["cv-combine", "--runs", "a,b", "--out", "c"]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("ser-train cv-combine --runs a,b --out c"),
        "{}",
        text(&o.stderr)
    );
}

/// Opt-in: the nine untouched 48 kHz RAVDESS originals (extra RIFF chunks, two stereo files)
/// are all read, resampled and evaluated, with actor, gender and intensity breakdowns.
#[test]
fn real_ravdess_48k_originals_are_evaluated() {
    let Ok(dir) = std::env::var("SER_RAVDESS_48K_DIR") else {
        eprintln!(
            "skipping real_ravdess_48k_originals_are_evaluated: SER_RAVDESS_48K_DIR is unset"
        );
        return;
    };
    let m = model(&EMOTIONS, &["24"]);
    let o = run(&[
        "--model",
        path_str(&model_dir(&m)),
        "--data",
        &dir,
        "--format",
        "json",
        "--bootstrap",
        "50",
    ]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["n"], 9);
    assert_eq!(j["skipped_files"], serde_json::json!([]));
    assert_eq!(
        j["protocol"]["actors_evaluated"].as_array().unwrap().len(),
        8
    );
    assert_eq!(j["protocol"]["speaker_independent"], true);
    assert_eq!(j["breakdown"]["by_gender"].as_array().unwrap().len(), 2);
}

/// Opt-in: one real actor from the 16 kHz copy (60 clips) through the whole pipeline.
#[test]
fn real_ravdess_actor_is_evaluated() {
    let Ok(dir) = std::env::var("SER_RAVDESS_DIR") else {
        eprintln!("skipping real_ravdess_actor_is_evaluated: SER_RAVDESS_DIR is unset");
        return;
    };
    let m = model(&EMOTIONS, &["01", "02"]);
    let o = run(&[
        "--model",
        path_str(&model_dir(&m)),
        "--data",
        &dir,
        "--actors",
        "20",
        "--format",
        "json",
        "--bootstrap",
        "50",
    ]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["n"], 60);
    assert_eq!(j["per_class"]["neutral"]["support"], 4);
    assert_eq!(j["per_class"]["angry"]["support"], 8);
    assert_eq!(j["protocol"]["actors_evaluated"], serde_json::json!(["20"]));
}

/// `--member` with `--test-time-warps` (what research scripts once did by writing manifests,
/// issue 26): one member of a fold ensemble, scored on the actors its fold held out, with the
/// flags named in the protocol.
#[test]
fn one_member_of_a_fold_ensemble_with_test_time_warps() {
    let (a, b) = (model(&EMOTIONS, &[]), model(&EMOTIONS, &[]));
    let ensemble = tempfile::tempdir().unwrap();
    let folds = serde_json::json!({ "cv": {
        "ua": { "mean": 0.0, "std": 0.0 },
        "folds": [
            { "fold": 1, "ua": 0.0, "test_actors": ["01"], "train_actors": ["02"] },
            { "fold": 2, "ua": 0.0, "test_actors": ["02"], "train_actors": ["01"] }
        ]
    }});
    ser_models::artifact::combine(
        ensemble.path(),
        &[
            ("fold-1".into(), model_dir(&a)),
            ("fold-2".into(), model_dir(&b)),
        ],
        "test fold ensemble".into(),
        serde_json::json!({}),
        folds,
    )
    .unwrap();
    let o = run(&[
        "--model",
        path_str(ensemble.path()),
        "--data",
        path_str(corpus()),
        "--member",
        "fold-2",
        "--test-time-warps",
        "0.95,1,1.05",
        "--format",
        "json",
        "--bootstrap",
        "20",
    ]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["n"], 60, "fold 2's held-out actor only");
    assert_eq!(j["protocol"]["actors_evaluated"], serde_json::json!(["02"]));
    assert_eq!(j["protocol"]["speaker_independent"], true);
    let name = j["protocol"]["model"].as_str().unwrap();
    assert!(
        name.contains("member fold-2") && name.contains("warps 0.95,1,1.05"),
        "{name}"
    );

    let o = run(&[
        "--model",
        path_str(ensemble.path()),
        "--data",
        path_str(corpus()),
        "--member",
        "fold-9",
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("fold-1, fold-2"),
        "{}",
        text(&o.stderr)
    );
}
