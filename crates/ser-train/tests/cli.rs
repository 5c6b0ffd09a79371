//! End-to-end tests of the `ser-train` binary on small generated corpora (tiny models, few
//! epochs: the whole file runs in well under a minute on 2 cores).

#![allow(clippy::unwrap_used)] // tests may unwrap (see the brief)

mod common;

use std::path::Path;

use common::{run, text};
use ravdess_loader::synth::{self, SynthConfig};
use ser_models::{Classifier, ModelError};

/// A quick tiny-model run on 5 generated actors (3 train, 1 validation, 1 test).
fn tiny_args<'a>(out: &'a str, model: &'a str) -> Vec<&'a str> {
    vec![
        "--model",
        model,
        "--synth-actors",
        "1,2,3,4,5",
        "--tiny",
        "--epochs",
        "2",
        "--quiet",
        "--out",
        out,
        "--crop-seconds",
        "1.5",
    ]
}

#[test]
fn trains_writes_an_artifact_that_classifier_loads_and_predicts_with() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let o = run(&tiny_args(out.to_str().unwrap(), "crnn"));
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("speaker-independent: test actors 05"), "{t}");
    for f in [
        "manifest.json",
        "model.bpk",
        "log.csv",
        "curve.png",
        "curve.svg",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let log = std::fs::read_to_string(out.join("log.csv")).unwrap();
    assert_eq!(log.lines().count(), 3, "{log}"); // header + 2 epochs
    assert!(
        !dir.path().join("m.checkpoint").exists(),
        "checkpoint removed after success"
    );

    let c = Classifier::load(&out).unwrap();
    assert_eq!(c.labels().len(), 8);
    assert!(c.manifest().protocol.contains("05"));
    assert!(c.manifest().metrics["test"]["ua"].is_number());
    // A generated clip at 22.05 kHz: the classifier resamples it itself.
    let utt = synth::generate(&SynthConfig {
        actors: vec![5],
        sample_rate: 22_050,
        ..Default::default()
    })
    .swap_remove(0);
    let p = c.predict(utt.audio.as_ref().unwrap()).unwrap();
    let sum: f32 = p.probabilities.iter().sum();
    assert!((sum - 1.0).abs() < 1e-4, "{sum}");
    assert_eq!(p.label, c.labels()[p.index]);
    let batch = c
        .predict_batch(&[utt.audio.clone().unwrap(), utt.audio.unwrap()])
        .unwrap();
    assert_eq!(batch[0], p);
}

#[test]
fn cnn_and_rnn_train_too() {
    for model in ["cnn", "rnn"] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join(model);
        let mut args = tiny_args(out.to_str().unwrap(), model);
        let e = args.iter().position(|a| *a == "--epochs").unwrap();
        args[e + 1] = "1";
        let o = run(&args);
        assert!(o.status.success(), "{model}: {}", text(&o));
        Classifier::load(&out).unwrap();
    }
}

/// Runs `ser-train` on one rayon thread: the same run then computes the same sums in the same
/// order, so two runs can be compared number for number.
fn run_one_thread(args: &[&str]) -> std::process::Output {
    std::process::Command::new(common::BIN)
        .args(args)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .expect("ser-train runs")
}

/// A run stopped mid-epoch and resumed ends with the same log and the same model (weights and
/// batch-norm statistics) as the same run left alone: a fold resumed in a later session scores
/// exactly what an uninterrupted one would (the checkpoint holds the weights, the optimiser
/// state and the place in the epoch; the rest follows from the seeds).
#[test]
fn interrupted_run_resumes_from_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    let mut args = tiny_args(whole.to_str().unwrap(), "crnn");
    args.extend(["--batch-size", "16"]);
    let o = run_one_thread(&args);
    assert!(o.status.success(), "{}", text(&o));

    let out = dir.path().join("r");
    let out_s = out.to_str().unwrap();
    let mut args = tiny_args(out_s, "crnn");
    args.extend(["--stop-after-batches", "3", "--batch-size", "16"]);
    let o = run_one_thread(&args);
    assert_eq!(o.status.code(), Some(130), "{}", text(&o));
    assert!(text(&o).contains("--resume"), "{}", text(&o));
    let ckpt = dir.path().join("r.checkpoint");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ckpt.join("state.json")).unwrap()).unwrap();
    assert_eq!(state["epoch"], 0);
    assert_eq!(state["batch"], 3);
    assert!(!out.exists(), "no artifact before the run completes");

    let mut args = tiny_args(out_s, "crnn");
    args.extend(["--batch-size", "16", "--resume"]);
    let o = run_one_thread(&args);
    assert!(o.status.success(), "{}", text(&o));
    let log = std::fs::read_to_string(out.join("log.csv")).unwrap();
    assert_eq!(log.lines().count(), 3, "{log}");
    // Every logged number but the wall time is the uninterrupted run's, and so is every
    // prediction: weights and batch-norm running statistics alike. (model.bpk itself differs:
    // burn gives each parameter a random id.)
    let numbers = |d: &Path| -> Vec<String> {
        let log = std::fs::read_to_string(d.join("log.csv")).unwrap();
        let header: Vec<&str> = log.lines().next().unwrap().split(',').collect();
        let secs = header.iter().position(|h| *h == "seconds").unwrap();
        log.lines()
            .map(|l| {
                let mut f: Vec<&str> = l.split(',').collect();
                f.remove(secs);
                f.join(",")
            })
            .collect()
    };
    assert_eq!(numbers(&out), numbers(&whole));
    let clips: Vec<_> = synth::generate(&SynthConfig {
        actors: vec![5],
        ..Default::default()
    })
    .into_iter()
    .take(4)
    .map(|u| u.audio.unwrap())
    .collect();
    let predict = |d: &Path| Classifier::load(d).unwrap().predict_batch(&clips).unwrap();
    assert_eq!(predict(&out), predict(&whole));

    // The checkpoint is gone after success: resuming again is a clear error.
    let o = run(&[&tiny_args(out_s, "crnn")[..], &["--resume"]].concat());
    assert!(!o.status.success());
    assert!(text(&o).contains("no checkpoint"), "{}", text(&o));
}

#[test]
fn mixup_label_smoothing_and_wave_noise_train_and_are_saved_in_the_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mix");
    let mut args = tiny_args(out.to_str().unwrap(), "crnn");
    args.extend([
        "--mixup",
        "0.4",
        "--label-smoothing",
        "0.1",
        "--wave-noise",
        "1",
    ]);
    let o = run(&args);
    assert!(o.status.success(), "{}", text(&o));
    let c = Classifier::load(&out).unwrap();
    let training = &c.manifest().training["config"];
    assert!(
        (training["augment"]["mixup_alpha"].as_f64().unwrap() - 0.4).abs() < 1e-6,
        "{training}"
    );
    assert!(
        (training["optim"]["label_smoothing"].as_f64().unwrap() - 0.1).abs() < 1e-6,
        "{training}"
    );
    assert_eq!(training["augment"]["wave_noise"]["copies"], 1, "{training}");
    // Every epoch's training loss is a finite number (the mixed loss is well formed).
    let log = std::fs::read_to_string(out.join("log.csv")).unwrap();
    let header: Vec<&str> = log.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "train_loss").unwrap();
    for row in log.lines().skip(1) {
        let v: f64 = row.split(',').nth(col).unwrap().parse().unwrap();
        assert!(v.is_finite() && v > 0.0, "{row}");
    }
}

/// Issue 27, item 3: a run with channel copies and loudness normalisation trains, saves both
/// in its artifact, and the artifact's classifier applies the loudness normalisation to what
/// it is given (so ser-predict, ser-web and ser-eval, which all predict through
/// `Classifier::prepare`, hear clips as training did).
#[test]
fn channel_augment_and_loudness_train_and_reach_the_artifact() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("chan");
    let mut args = tiny_args(out.to_str().unwrap(), "crnn");
    // --loudness-normalize without a value: EBU R 128's -23 LUFS.
    args.extend(["--loudness-normalize", "--channel-augment", "1"]);
    let o = run(&args);
    assert!(o.status.success(), "{}", text(&o));
    let c = Classifier::load(&out).unwrap();
    let training = &c.manifest().training["config"];
    assert_eq!(training["augment"]["channel"]["copies"], 1, "{training}");
    assert_eq!(training["augment"]["channel"]["prob"], 0.5, "{training}");
    let loudness = ser_audio::Normalize::Loudness { target_lufs: -23.0 };
    assert_eq!(c.manifest().preprocess.map(|p| p.normalize), Some(loudness));
    // A quiet 440 Hz tone comes out at -23 LUFS (a 0.95 peak would be about -4 LUFS).
    let tone = ser_audio::Audio::new(
        (0..32_000)
            .map(|i| 0.01 * (i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 16_000.0).sin())
            .collect(),
        16_000,
    );
    let prepared = c.prepare(&tone).unwrap();
    let lufs = ser_audio::loudness::integrated_loudness(&prepared)
        .unwrap()
        .unwrap();
    assert!((lufs + 23.0).abs() < 0.1, "{lufs} LUFS");
}

/// Issue 27, item 3: the channel and loudness flags are in both commands' help, and bad
/// values are refused before any work, naming the flag.
#[test]
fn channel_and_loudness_flags_are_documented_and_checked() {
    for help in [run(&["--help"]), run(&["cv", "--help"])] {
        let t = text(&help);
        for flag in [
            "--channel-augment <N>",
            "--channel-augment-prob <P>",
            "--channel-config <FILE>",
            "--loudness-normalize [<LUFS>]",
        ] {
            assert!(t.contains(flag), "{flag} missing from\n{t}");
        }
    }
    let refused = |args: &[&str], needle: &str| {
        let mut all = vec!["--model", "cnn", "--quiet"];
        all.extend(args);
        let o = run(&all);
        assert!(!o.status.success(), "{args:?} accepted");
        assert!(text(&o).contains(needle), "{args:?}: {}", text(&o));
    };
    refused(
        &["--channel-augment", "1", "--channel-augment-prob", "2"],
        "invalid --channel-augment-prob: 2 is not a probability",
    );
    refused(
        &["--channel-augment", "20"],
        "invalid --channel-augment: 20 copies",
    );
    refused(&["--channel-augment-prob", "0.5"], "--channel-augment <N>");
    refused(
        &[
            "--channel-augment",
            "1",
            "--channel-config",
            "/no/such/chain.json",
        ],
        "--channel-config <FILE>",
    );
    refused(
        &["--loudness-normalize", "3"],
        "invalid --loudness-normalize",
    );
}

#[test]
fn distillation_learns_from_teachers_that_never_heard_the_test_actors() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    // A teacher with the student's split (test actor 05), and one that trained on actor 05.
    let (teacher, heard) = (path("teacher"), path("heard"));
    let o = run(&tiny_args(&teacher, "crnn"));
    assert!(o.status.success(), "{}", text(&o));
    let mut args = tiny_args(&heard, "crnn");
    args.extend(["--test-actors", "1", "--val-actors", "2"]);
    let o = run(&args);
    assert!(o.status.success(), "{}", text(&o));

    let student = path("student");
    let mut args = tiny_args(&student, "crnn");
    args.extend(["--teacher", &teacher, "--distill-weight", "0.7"]);
    let o = run(&args);
    assert!(o.status.success(), "{}", text(&o));
    let c = Classifier::load(&student).unwrap();
    let distill = &c.manifest().training["config"]["distill"];
    assert_eq!(distill["teachers"][0], teacher.as_str(), "{distill}");
    assert!(
        (distill["weight"].as_f64().unwrap() - 0.7).abs() < 1e-6,
        "{distill}"
    );
    let log = std::fs::read_to_string(Path::new(&student).join("log.csv")).unwrap();
    for row in log.lines().skip(1) {
        let loss: f64 = row.split(',').nth(1).unwrap().parse().unwrap();
        assert!(loss.is_finite() && loss > 0.0, "{row}");
    }
    // The teacher ran with the student's seed and split (training is deterministic), so the
    // teachers' term alone makes the student's first-epoch validation loss (plain
    // cross-entropy on the validation actor) differ from the teacher's.
    let val_loss = |dir: &str| -> f64 {
        let log = std::fs::read_to_string(Path::new(dir).join("log.csv")).unwrap();
        log.lines()
            .nth(1)
            .unwrap()
            .split(',')
            .nth(3)
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_ne!(val_loss(&student), val_loss(&teacher));

    // Refused: a teacher that heard the test actor, one trained on other features, a
    // missing one, a weight out of range.
    let mut args = tiny_args(&student, "crnn");
    args.extend(["--teacher", &heard]);
    let o = run(&args);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("--teacher") && t.contains("heard test speaker(s) 05 "),
        "{t}"
    );
    let cmvn = path("cmvn");
    let mut args = tiny_args(&cmvn, "crnn");
    args.push("--cmvn");
    let o = run(&args);
    assert!(o.status.success(), "{}", text(&o));
    let mut args = tiny_args(&student, "crnn");
    args.extend(["--teacher", &cmvn]);
    let o = run(&args);
    assert!(!o.status.success());
    assert!(text(&o).contains("other features"), "{}", text(&o));
    let mut args = tiny_args(&student, "crnn");
    let missing = path("missing");
    args.extend(["--teacher", &missing]);
    let o = run(&args);
    assert!(!o.status.success());
    assert!(text(&o).contains("invalid --teacher"), "{}", text(&o));
    let mut args = tiny_args(&student, "crnn");
    args.extend(["--teacher", &teacher, "--distill-weight", "1.5"]);
    let o = run(&args);
    assert!(!o.status.success());
    assert!(text(&o).contains("--distill-weight"), "{}", text(&o));
}

/// A 4-epoch tiny run with patience 1 plus `extra`: (epochs run, epoch of the kept model),
/// from its manifest.
fn patience_one(extra: &[&str]) -> (u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let mut args = tiny_args(out.to_str().unwrap(), "crnn");
    let e = args.iter().position(|a| *a == "--epochs").unwrap();
    args[e + 1] = "4";
    args.extend(["--patience", "1"]);
    args.extend(extra);
    let o = run(&args);
    assert!(o.status.success(), "{}", text(&o));
    let training = Classifier::load(&out).unwrap().manifest().training.clone();
    let field = |k: &str| training[k].as_u64().unwrap();
    (field("epochs_run"), field("best_epoch"))
}

#[test]
fn min_epochs_holds_off_early_stopping() {
    // With patience 1 this seed's tiny run stops after epoch 2, on an epoch that did not
    // improve, so the best-validation model is not the last one. --min-epochs 4 runs all 4,
    // and so does --keep-last, which keeps the 4th epoch's model.
    let (ran, best) = patience_one(&[]);
    assert!(ran < 4);
    assert_ne!(best, ran, "the default keeps an earlier epoch here");
    assert_eq!(patience_one(&["--min-epochs", "4"]).0, 4);
    assert_eq!(patience_one(&["--keep-last"]), (4, 4));
}

#[test]
fn keep_last_keeps_the_final_epoch_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let mut args = tiny_args(out.to_str().unwrap(), "crnn");
    let e = args.iter().position(|a| *a == "--epochs").unwrap();
    args[e + 1] = "3";
    args.push("--keep-last");
    let o = run(&args);
    assert!(o.status.success(), "{}", text(&o));
    let c = Classifier::load(&out).unwrap();
    let training = &c.manifest().training;
    assert_eq!(training["best_epoch"], 3, "{training}");
    assert_eq!(
        training["config"]["schedule"]["keep_last"], true,
        "{training}"
    );
    // The recorded validation UA is the kept (last) epoch's, as logged.
    let log = std::fs::read_to_string(out.join("log.csv")).unwrap();
    let last: Vec<&str> = log.lines().last().unwrap().split(',').collect();
    let logged: f64 = last[4].parse().unwrap();
    let recorded = c.manifest().metrics["validation"]["ua"].as_f64().unwrap();
    assert!((logged - recorded).abs() < 1e-9, "{logged} vs {recorded}");
}

#[test]
fn no_val_trains_on_every_non_test_actor_and_keeps_the_last_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let mut args = tiny_args(out.to_str().unwrap(), "crnn");
    let e = args.iter().position(|a| *a == "--epochs").unwrap();
    args[e + 1] = "3";
    // Patience 1 would stop a validated run early; without validation all 3 epochs run.
    args.extend(["--no-val", "--patience", "1"]);
    let o = run(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("no validation actors, epoch 3 kept"),
        "{}",
        text(&o)
    );
    let c = Classifier::load(&out).unwrap();
    let (training, metrics) = (&c.manifest().training, &c.manifest().metrics);
    // Actor 04, the validation actor of the default split, trains; 05 stays held out.
    assert_eq!(
        training["train_speakers"],
        serde_json::json!(["01", "02", "03", "04"]),
        "{training}"
    );
    assert_eq!(
        (training["n_val"].as_u64(), training["best_epoch"].as_u64()),
        (Some(0), Some(3))
    );
    assert_eq!(metrics["test_actors"], serde_json::json!(["05"]));
    assert!(metrics["validation"].is_null(), "{metrics}");
    assert!(c.manifest().protocol.contains("no validation actors"));
    // The log leaves the validation columns empty rather than inventing numbers.
    let log = std::fs::read_to_string(out.join("log.csv")).unwrap();
    let rows: Vec<Vec<&str>> = log
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 3, "{log}");
    assert!(rows.iter().all(|r| r[3..6] == ["", "", ""]), "{log}");
}

#[test]
fn all_actors_trains_on_every_actor_and_claims_no_score() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let mut args = tiny_args(out.to_str().unwrap(), "crnn");
    args.extend(["--all-actors", "--no-val"]);
    let o = run(&args);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("trained on every actor (none held out: no speaker-independent score"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("test UA"), "{}", text(&o));
    let c = Classifier::load(&out).unwrap();
    let (training, metrics) = (&c.manifest().training, &c.manifest().metrics);
    assert_eq!(
        training["train_speakers"],
        serde_json::json!(["01", "02", "03", "04", "05"]),
        "{training}"
    );
    assert_eq!(training["n_test"].as_u64(), Some(0));
    assert_eq!(metrics["test_actors"], serde_json::json!([]));
    // No test speakers: no test score, rather than a score of nothing.
    assert!(metrics["test"].is_null(), "{metrics}");
    assert!(
        c.manifest()
            .protocol
            .contains("no speaker-independent score"),
        "{}",
        c.manifest().protocol
    );
    // Holding actors out and holding none out at once is refused by clap.
    let o = run(&["--model", "cnn", "--all-actors", "--test-actors", "5"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("--all-actors"), "{}", text(&o));
}

#[test]
fn bad_flags_are_rejected_with_clear_messages() {
    let o = run(&["--model", "transformer"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("possible values"), "{}", text(&o));
    let o = run(&["--model", "cnn", "--epochs", "0", "--quiet"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("--epochs"), "{}", text(&o));
    let o = run(&["--model", "cnn", "--lr=-1", "--quiet"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("invalid --lr"), "{}", text(&o));
    let o = run(&["--model", "cnn", "--mixup=-0.5", "--quiet"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("--mixup"), "{}", text(&o));
    let o = run(&["--model", "cnn", "--no-val", "--val-actors", "4", "--quiet"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("invalid --no-val"), "{}", text(&o));
    if !cfg!(feature = "wgpu") {
        let o = run(&["--model", "cnn", "--backend", "wgpu"]);
        assert!(!o.status.success());
        assert!(text(&o).contains("not compiled"), "{}", text(&o));
    }
    let o = run(&["--model", "cnn", "--data", "/definitely/not/here"]);
    assert!(text(&o).contains("does not exist"), "{}", text(&o));
}

fn expect_data_error(dir: &Path, needle: &str) {
    let out = dir.join("out");
    let o = run(&[
        "--model",
        "cnn",
        "--tiny",
        "--quiet",
        "--data",
        dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(needle),
        "expected `{needle}` in: {}",
        text(&o)
    );
    assert!(!text(&o).contains("panicked"), "{}", text(&o));
}

#[test]
fn empty_label_less_and_single_speaker_corpora_are_clear_errors() {
    let empty = tempfile::tempdir().unwrap();
    expect_data_error(empty.path(), "error:");

    // WAV files whose names carry no label or speaker.
    let unlabelled = tempfile::tempdir().unwrap();
    let audio = ravdess_loader::Audio::new(vec![0.1; 16_000], 16_000);
    for i in 0..3 {
        ser_audio::write_wav(unlabelled.path().join(format!("clip{i}.wav")), &audio).unwrap();
    }
    expect_data_error(unlabelled.path(), "error:");

    let single = tempfile::tempdir().unwrap();
    synth::write(
        single.path(),
        &SynthConfig {
            actors: vec![3],
            ..Default::default()
        },
    )
    .unwrap();
    expect_data_error(single.path(), "1 speaker");
}

#[test]
fn missing_and_corrupt_artifacts_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good");
    let o = run(&tiny_args(good.to_str().unwrap(), "cnn"));
    assert!(o.status.success(), "{}", text(&o));

    let missing = Classifier::load(dir.path().join("nope")).unwrap_err();
    assert!(
        matches!(missing, ModelError::MissingArtifact { .. }),
        "{missing}"
    );
    assert!(missing.to_string().contains("nope"));

    let copy = |name: &str| {
        let d = dir.path().join(name);
        std::fs::create_dir_all(&d).unwrap();
        for f in ["manifest.json", "model.bpk"] {
            std::fs::copy(good.join(f), d.join(f)).unwrap();
        }
        d
    };
    let no_manifest = copy("no-manifest");
    std::fs::remove_file(no_manifest.join("manifest.json")).unwrap();
    assert!(matches!(
        Classifier::load(&no_manifest).unwrap_err(),
        ModelError::MissingManifest { .. }
    ));

    let corrupt = copy("corrupt");
    std::fs::write(corrupt.join("manifest.json"), "{ not json").unwrap();
    let e = Classifier::load(&corrupt).unwrap_err();
    assert!(matches!(e, ModelError::CorruptManifest { .. }), "{e}");
    assert!(e.to_string().contains("manifest.json"), "{e}");

    let future = copy("future");
    let m = std::fs::read_to_string(future.join("manifest.json")).unwrap();
    std::fs::write(
        future.join("manifest.json"),
        m.replacen(
            &format!(
                "\"format_version\": {}",
                ser_models::artifact::FORMAT_VERSION
            ),
            "\"format_version\": 99",
            1,
        ),
    )
    .unwrap();
    let e = Classifier::load(&future).unwrap_err();
    assert!(
        matches!(e, ModelError::UnsupportedFormat { found: 99, .. }),
        "{e}"
    );

    let no_weights = copy("no-weights");
    std::fs::remove_file(no_weights.join("model.bpk")).unwrap();
    let e = Classifier::load(&no_weights).unwrap_err();
    assert!(matches!(e, ModelError::Weights { .. }), "{e}");
    assert!(e.to_string().contains("model.bpk"), "{e}");

    let bad_weights = copy("bad-weights");
    let bytes = std::fs::read(bad_weights.join("model.bpk")).unwrap();
    std::fs::write(bad_weights.join("model.bpk"), &bytes[..bytes.len() / 2]).unwrap();
    let e = Classifier::load(&bad_weights).unwrap_err();
    assert!(matches!(e, ModelError::Weights { .. }), "{e}");
}

/// An I/O error is printed once: its text is in the message, not repeated as its cause
/// (`I/O error on ...: Not a directory (os error 20): Not a directory (os error 20)` before).
#[test]
fn an_unwritable_out_is_named_and_its_io_error_printed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let out = file.join("run");
    let o = run(&tiny_args(out.to_str().unwrap(), "cnn"));
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    let error = t.lines().find(|l| l.starts_with("error:")).expect(&t);
    assert!(error.contains(file.to_str().unwrap()), "{error}");
    assert_eq!(error.matches("(os error").count(), 1, "{error}");
}
