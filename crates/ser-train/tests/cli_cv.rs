//! End-to-end tests of `ser-train cv` and `cv-combine` (the real binary, on six generated
//! actors with a tiny CRNN).
// Tests may unwrap (a panic is a failed test); clippy's allow-unwrap-in-tests does not reach
// helper functions of integration tests.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Output;

use common::{read_json, run};
use serde_json::Value;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Whether every member of an artifact's manifest carries a functionals head.
fn every_member_has_a_head(manifest: &Value) -> bool {
    manifest["members"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["head"].is_object())
}

/// `ser-train cv` of the tiny CRNN for one epoch on six generated actors in 3 folds, into `out`,
/// with `extra` flags.
fn cv(out: &Path, extra: &[&str]) -> Output {
    let mut a = vec![
        "cv",
        "--model-type",
        "crnn",
        "--actors",
        "1,2,3,4,5,6",
        "--folds",
        "3",
        "--epochs",
        "1",
        "--tiny",
        "--bootstrap",
        "20",
        "--out",
        path_str(out),
    ];
    a.extend_from_slice(extra);
    run(&a)
}

/// `ser-train cv` with the tiny CRNN for two epochs on six generated actors: checks the
/// fold layout, that ser-eval's held-out scores equal the test scores ser-train recorded in
/// each artifact (two independent paths: cached features vs audio through `Classifier`),
/// and resuming.
#[test]
fn cross_validation_by_actor_trains_evaluates_and_resumes() {
    let out = tempfile::tempdir().unwrap();
    let args = [
        "cv",
        "--model-type",
        "crnn",
        "--actors",
        "1,2,3,4,5,6",
        "--folds",
        "3",
        "--epochs",
        "2",
        "--tiny",
        "--bootstrap",
        "50",
        "--out",
        path_str(out.path()),
    ];
    let o = run(&args);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let md = text(&o.stdout);
    assert!(
        md.contains("| fold | test actors | n | UA | WA | macro-F1 | kappa | seconds |"),
        "{md}"
    );
    assert!(md.contains("logical CPUs"), "{md}");
    assert!(md.contains("**mean ± std**"), "{md}");
    assert_eq!(
        std::fs::read_to_string(out.path().join("cv.md")).unwrap(),
        md
    );

    let cv: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("cv.json")).unwrap()).unwrap();
    let folds = cv["folds"].as_array().unwrap();
    assert_eq!(folds.len(), 3);
    let mut tested: Vec<String> = folds
        .iter()
        .flat_map(|f| f["test_actors"].as_array().unwrap().clone())
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    tested.sort();
    assert_eq!(tested, ["01", "02", "03", "04", "05", "06"]);
    let mean_ua = folds.iter().map(|f| f["ua"].as_f64().unwrap()).sum::<f64>() / 3.0;
    assert!((cv["ua"]["mean"].as_f64().unwrap() - mean_ua).abs() < 1e-12);
    for f in folds {
        let dir = out.path().join(format!("fold-{}", f["fold"]));
        let report: Value =
            serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
        assert_eq!(report["protocol"]["speaker_independent"], true);
        assert_eq!(report["n"], 120);
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(dir.join("model/manifest.json")).unwrap())
                .unwrap();
        let trained = manifest["training"]["train_speakers"].as_array().unwrap();
        for a in f["test_actors"].as_array().unwrap() {
            assert!(!trained.contains(a), "fold trained on its test actor {a}");
        }
        for key in ["ua", "wa"] {
            let theirs = manifest["metrics"]["test"][key].as_f64().unwrap();
            let ours = f[key].as_f64().unwrap();
            assert!(
                (theirs - ours).abs() < 1e-9,
                "{key}: ser-train {theirs}, ser-eval {ours}"
            );
        }
    }

    // Resume: fold 2 is lost entirely; folds 1 and 3 are reused, fold 2 retrained.
    std::fs::remove_dir_all(out.path().join("fold-2")).unwrap();
    let o = run(&args);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("fold 1: already done") && err.contains("fold 3: already done"),
        "{err}"
    );
    assert!(err.contains("fold 2/3: training"), "{err}");
    let again: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("cv.json")).unwrap()).unwrap();
    assert_eq!(again["resumed_folds"], serde_json::json!([1, 3]));

    // Other settings in the same directory are refused rather than mixed.
    let mut other = args.to_vec();
    other[8] = "3"; // --epochs 3
    let o = run(&other);
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("cv-config.json"),
        "{}",
        text(&o.stderr)
    );
}

/// Folds trained by separate processes (`--fold`), a second training seed, `cv-combine`
/// scoring the seed ensemble and writing it as one artifact, and a run distilled from both.
#[test]
fn parallel_folds_and_a_combined_seed_ensemble() {
    let root = tempfile::tempdir().unwrap();
    let dir = |name: &str| root.path().join(name);
    // Seed 0 in one go; training seed 1 fold by fold, as parallel processes would.
    let o = cv(&dir("t0"), &[]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let o = cv(&dir("t1"), &["--train-seed", "1", "--fold", "2"]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("folds done: 2; still to train: 1,3"), "{err}");
    assert!(!dir("t1").join("cv.json").exists());
    let o = cv(&dir("t1"), &["--train-seed", "1", "--fold", "1,3"]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    assert!(dir("t1").join("cv.json").is_file());
    let t1: Value =
        serde_json::from_slice(&std::fs::read(dir("t1").join("cv.json")).unwrap()).unwrap();
    assert_eq!(t1["config"]["train_seed"], 1);
    let o = cv(&dir("t1"), &["--fold", "4"]);
    assert!(!o.status.success());

    let runs = format!("{},{}", path_str(&dir("t0")), path_str(&dir("t1")));
    let o = run(&[
        "cv-combine",
        "--runs",
        &runs,
        "--out",
        path_str(&dir("both")),
        "--ensemble-out",
        path_str(&dir("ens")),
    ]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    assert!(text(&o.stdout).contains("ensemble (class probabilities averaged) of 2 runs"));
    let both: Value =
        serde_json::from_slice(&std::fs::read(dir("both").join("cv.json")).unwrap()).unwrap();
    assert_eq!(both["folds"].as_array().unwrap().len(), 3);
    for f in both["folds"].as_array().unwrap() {
        let report: Value = serde_json::from_slice(
            &std::fs::read(dir("both").join(format!("fold-{}/report.json", f["fold"]))).unwrap(),
        )
        .unwrap();
        assert_eq!(report["protocol"]["speaker_independent"], true);
    }
    assert!(dir("both").join("pooled.json").is_file());
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir("ens").join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["members"].as_array().unwrap().len(), 6);

    // A directory that is not a finished run is named.
    let o = run(&[
        "cv-combine",
        "--runs",
        &format!("{runs},{}", path_str(&dir("nope"))),
        "--out",
        path_str(&dir("x")),
    ]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("nope"), "{}", text(&o.stderr));

    // Distillation: fold K learns from fold K's model of each teacher run.
    let o = cv(
        &dir("kd"),
        &["--teacher-runs", &runs, "--distill-weight", "0.6"],
    );
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    for k in 1..=3 {
        let m: Value = serde_json::from_slice(
            &std::fs::read(dir("kd").join(format!("fold-{k}/model/manifest.json"))).unwrap(),
        )
        .unwrap();
        let d = &m["training"]["config"]["distill"];
        for (i, run) in ["t0", "t1"].iter().enumerate() {
            let want = dir(run).join(format!("fold-{k}")).join("model");
            assert_eq!(d["teachers"][i], path_str(&want), "{d}");
        }
    }
    let md = std::fs::read_to_string(dir("kd").join("cv.md")).unwrap();
    assert!(md.contains("distilled from the fold models of"), "{md}");
    // Teachers from other folds (fold seed 1) heard this run's test actors: refused.
    let o = cv(&dir("s1"), &["--seed", "1"]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let o = cv(&dir("kd-bad"), &["--teacher-runs", path_str(&dir("s1"))]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("has heard test speaker"), "{err}");
}

/// `--functionals` on networks that already exist in `--out` (copied from a plain run, as
/// `ser_models::artifact::unpack_member` does with a shipped ensemble): no network is retrained,
/// each fold gets a head fitted on its own training actors only, the held-out scores change,
/// and the ensemble carries the heads.
#[test]
fn functionals_heads_are_fitted_on_existing_fold_networks() {
    let root = tempfile::tempdir().unwrap();
    let dir = |name: &str| root.path().join(name);
    let o = cv(&dir("plain"), &[]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    for k in 1..=3 {
        let from = dir("plain").join(format!("fold-{k}/model"));
        let to = dir("fused").join(format!("fold-{k}/model"));
        std::fs::create_dir_all(&to).unwrap();
        for f in ["manifest.json", "model.bpk"] {
            std::fs::copy(from.join(f), to.join(f)).unwrap();
        }
    }
    let o = cv(
        &dir("fused"),
        &["--functionals", "--ensemble-out", path_str(&dir("ens"))],
    );
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let err = text(&o.stderr);
    for k in 1..=3 {
        assert!(
            err.contains(&format!("fold {k}: reusing the trained model")),
            "{err}"
        );
    }
    // The generated recipe has the low-pass augmentation, so the heads learn band-limited rows.
    assert!(text(&o.stdout).contains(
        "fused with an utterance-functionals head (weight 0.5, fitted on the clips and \
         band-limited versions)"
    ));
    let plain = read_json(&dir("plain").join("cv.json"));
    let fused = read_json(&dir("fused").join("cv.json"));
    let mut changed = false;
    for (p, f) in plain["folds"]
        .as_array()
        .unwrap()
        .iter()
        .zip(fused["folds"].as_array().unwrap())
    {
        assert_eq!(p["test_actors"], f["test_actors"]);
        let manifest = read_json(
            &dir("fused")
                .join(format!("fold-{}", f["fold"]))
                .join("model/manifest.json"),
        );
        assert_eq!(manifest["functionals"]["weight"], 0.5);
        let head = &manifest["members"][0]["head"];
        // Fitted on the fold's 4 training actors only (60 generated clips each, and a
        // band-limited version of each: the recipe's low-pass augmentation).
        assert_eq!(head["fit"]["train_speakers"], 4);
        assert_eq!(head["fit"]["train_rows"], 480);
        assert_eq!(head["weights"].as_array().unwrap().len(), 8);
        changed |= p["ua"] != f["ua"];
    }
    assert!(
        changed,
        "the heads changed no fold's score: {plain} {fused}"
    );
    let ens = read_json(&dir("ens").join("manifest.json"));
    assert_eq!(ens["members"].as_array().unwrap().len(), 3);
    assert!(every_member_has_a_head(&ens), "{ens}");

    // A weight outside [0, 1] is refused before any work.
    let o = cv(
        &dir("bad"),
        &["--functionals", "--functionals-weight", "1.5"],
    );
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("--functionals-weight 1.5"),
        "{}",
        text(&o.stderr)
    );
    assert!(!dir("bad").join("cv.json").exists());
}

/// `--refit`: after the folds, the recipe is trained once more on every actor with its head;
/// `--ensemble-out` then ships that final fit (not the fold models) with the CV scores, and
/// `cv-combine --refit` ships one final fit per seed with the seeds' combined CV.
#[test]
fn refit_trains_on_every_actor_and_ships_with_the_cv_estimate() {
    let root = tempfile::tempdir().unwrap();
    let dir = |name: &str| root.path().join(name);
    // --no-val as the shipped recipe: with validation actors the final fit would hold one out
    // for early stopping, as every fold does.
    let seed0 = ["--no-val", "--functionals", "--refit", "--ensemble-out"];
    let o = cv(
        &dir("t0"),
        &[&seed0[..], &[path_str(&dir("ens0"))]].concat(),
    );
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let fit = read_json(&dir("t0").join("refit/model/manifest.json"));
    assert_eq!(
        fit["training"]["train_speakers"],
        serde_json::json!(["01", "02", "03", "04", "05", "06"])
    );
    assert!(fit["metrics"]["test"].is_null(), "{}", fit["metrics"]);
    // The head is fitted on every actor too (60 generated clips each, plus a band-limited
    // version of each: the recipe's low-pass augmentation).
    assert_eq!(fit["members"][0]["head"]["fit"]["train_speakers"], 6);
    assert_eq!(fit["members"][0]["head"]["fit"]["train_rows"], 720);
    let ens = read_json(&dir("ens0").join("manifest.json"));
    assert_eq!(ens["kind"], "single");
    assert_eq!(ens["members"].as_array().unwrap().len(), 1);
    assert_eq!(ens["training"]["fit"], "refit on every actor");
    let cv0 = read_json(&dir("t0").join("cv.json"));
    assert_eq!(ens["metrics"]["cv"]["ua"], cv0["ua"]);
    let protocol = ens["protocol"].as_str().unwrap();
    assert!(
        protocol.contains("one network trained on every actor") && protocol.contains("not results"),
        "{protocol}"
    );
    // The fold models were not shipped: the member is the final fit's network.
    assert_eq!(
        std::fs::read(dir("ens0").join("member-0.bpk")).unwrap(),
        std::fs::read(dir("t0").join("refit/model/model.bpk")).unwrap()
    );

    // `cv-attach` adds a cross-validation of speakers the model heard to its manifest (here
    // to a copy of the final fit, which records none of its own) and refuses the one a
    // manifest already records as `metrics.cv`; only the manifest changes.
    let copy = dir("fit-copy");
    std::fs::create_dir(&copy).unwrap();
    for f in std::fs::read_dir(dir("t0").join("refit/model")).unwrap() {
        let f = f.unwrap().path();
        if f.is_file() {
            std::fs::copy(&f, copy.join(f.file_name().unwrap())).unwrap();
        }
    }
    let attach = |model: &Path| {
        run(&[
            "cv-attach",
            "--model",
            path_str(model),
            "--run",
            path_str(&dir("t0")),
        ])
    };
    let o = attach(&copy);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    assert!(
        text(&o.stderr).starts_with("recorded "),
        "{}",
        text(&o.stderr)
    );
    let attached = read_json(&copy.join("manifest.json"));
    assert_eq!(attached["metrics"]["extra_cv"][0]["ua"], cv0["ua"]);
    assert_eq!(
        attached["metrics"]["extra_cv"][0]["protocol"],
        cv0["protocol"]
    );
    assert_eq!(
        std::fs::read(copy.join("model.bpk")).unwrap(),
        std::fs::read(dir("t0").join("refit/model/model.bpk")).unwrap()
    );
    let before = std::fs::read(dir("ens0").join("manifest.json")).unwrap();
    let o = attach(&dir("ens0"));
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("already records in `metrics.cv`"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(
        std::fs::read(dir("ens0").join("manifest.json")).unwrap(),
        before
    );

    // Re-running reuses the final fit.
    let o = cv(&dir("t0"), &["--no-val", "--functionals", "--refit"]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("refit: reusing the final fit"),
        "{}",
        text(&o.stderr)
    );

    // A second seed, then both final fits as one ensemble with the seeds' combined CV.
    let o = cv(
        &dir("t1"),
        &["--no-val", "--functionals", "--refit", "--train-seed", "1"],
    );
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let runs = format!("{},{}", path_str(&dir("t0")), path_str(&dir("t1")));
    let combine = |runs: &str, out: &str| {
        run(&[
            "cv-combine",
            "--runs",
            runs,
            "--refit",
            "--out",
            path_str(&dir(out)),
            "--ensemble-out",
            path_str(&dir(&format!("{out}-ens"))),
        ])
    };
    let o = combine(&runs, "both");
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let ens = read_json(&dir("both-ens").join("manifest.json"));
    assert_eq!(ens["kind"], "ensemble");
    let names: Vec<&str> = ens["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["t0-refit", "t1-refit"]);
    assert!(every_member_has_a_head(&ens), "{ens}");
    let both = read_json(&dir("both").join("cv.json"));
    assert_eq!(ens["metrics"]["cv"]["ua"], both["ua"]);
    assert!(
        ens["protocol"]
            .as_str()
            .unwrap()
            .contains("ensemble of 2 networks, each trained on every actor"),
        "{}",
        ens["protocol"]
    );

    // A run without a final fit is named, with what to do.
    let o = cv(&dir("plain"), &["--no-val", "--train-seed", "2"]);
    assert!(o.status.success(), "stderr: {}", text(&o.stderr));
    let o = combine(&format!("{runs},{}", path_str(&dir("plain"))), "bad");
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("plain") && err.contains("--refit"), "{err}");
    assert!(!dir("bad-ens").exists() && !dir("bad").exists());
}
