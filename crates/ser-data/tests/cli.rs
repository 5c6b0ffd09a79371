//! End-to-end tests of the real `ser-data` binary on generated data.

#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use std::path::Path;
use std::process::{Command, Output};

fn ser_data(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ser-data"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn synth_then_inspect_json_and_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    ok(&ser_data(&[
        "synth",
        "--out",
        p(&a),
        "--seed",
        "5",
        "--actors",
        "1-4",
    ]));
    ok(&ser_data(&[
        "synth",
        "--out",
        p(&b),
        "--seed",
        "5",
        "--actors",
        "1-4",
    ]));
    let f = "Actor_03/03-01-05-02-01-02-03.wav";
    assert_eq!(
        std::fs::read(a.join(f)).unwrap(),
        std::fs::read(b.join(f)).unwrap()
    );

    // A bad file is reported, not fatal.
    std::fs::write(a.join("Actor_01/03-01-02-01-01-01-01.wav"), b"garbage").unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&ok(&ser_data(&["inspect", p(&a), "--json"]))).unwrap();
    assert_eq!(json["clips"], 239);
    assert_eq!(json["actors"], serde_json::json!([1, 2, 3, 4]));
    assert_eq!(json["per_emotion"]["neutral"], 16);
    assert_eq!(json["per_emotion"]["calm"], 31);
    assert_eq!(json["per_emotion"]["angry"], 32);
    assert_eq!(json["problems"].as_array().unwrap().len(), 1);
    assert!(
        json["problems"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("not a RIFF")
    );

    let text = ok(&ser_data(&["inspect", p(&a), "--decode"]));
    assert!(text.contains("clips:        239"), "{text}");
    assert!(text.contains("problems:     1 file(s) skipped"), "{text}");

    let manifest = tmp.path().join("list.csv");
    ok(&ser_data(&["manifest", p(&a), "--out", p(&manifest)]));
    let csv = std::fs::read_to_string(&manifest).unwrap();
    assert!(csv.starts_with("path,label,speaker,gender\n"));
    assert_eq!(csv.lines().count(), 240);
    let json: serde_json::Value =
        serde_json::from_str(&ok(&ser_data(&["inspect", p(&manifest), "--json"]))).unwrap();
    assert_eq!(json["clips"], 239);
    assert_eq!(json["layout"]["kind"], "csv-manifest");
}

#[test]
fn clear_errors_for_bad_input() {
    let out = ser_data(&["inspect", "/no/such/dir"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/no/such/dir"), "{err}");
    let out = ser_data(&["synth", "--out", "/tmp/x", "--actors", "0-30"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("1-24"));
    let help = ok(&ser_data(&["download", "ravdess", "--help"]));
    assert!(help.contains("1188976") && help.contains("--md5"));
}

/// Opt-in: `SER_RAVDESS_DIR` (16 kHz copy of actors 01-20) must inspect as 1200 clips,
/// actors 1..=20, neutral 80 and 160 for every other emotion.
#[test]
fn inspect_real_ravdess_when_available() {
    let Some(dir) = std::env::var_os("SER_RAVDESS_DIR") else {
        eprintln!("skipping: SER_RAVDESS_DIR is not set");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let json: serde_json::Value =
        serde_json::from_str(&ok(&ser_data(&["inspect", p(&dir), "--json"]))).unwrap();
    assert_eq!(json["clips"], 1200);
    assert_eq!(
        json["actors"],
        serde_json::json!((1..=20).collect::<Vec<u32>>())
    );
    for (label, count) in json["per_emotion"].as_object().unwrap() {
        assert_eq!(
            count.as_u64().unwrap(),
            if label == "neutral" { 80 } else { 160 },
            "{label}"
        );
    }
    assert_eq!(json["duplicates"].as_array().unwrap().len(), 1);
}

/// Opt-in: the nine 48 kHz originals (`SER_RAVDESS_48K_DIR`) decode, two of them stereo.
#[test]
fn inspect_48k_originals_when_available() {
    let Some(dir) = std::env::var_os("SER_RAVDESS_48K_DIR") else {
        eprintln!("skipping: SER_RAVDESS_48K_DIR is not set");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let json: serde_json::Value =
        serde_json::from_str(&ok(&ser_data(&["inspect", p(&dir), "--json", "--decode"]))).unwrap();
    assert_eq!(json["clips"], 9);
    assert_eq!(json["sample_rates"]["48000"], 9);
    assert_eq!(json["channels"]["2"], 2);
    assert!(json["problems"].as_array().unwrap().is_empty());
}

/// Two corpora combined (issue 27): RAVDESS-layout and EMO-DB-named label folders, the shipped
/// EMO-DB label map dropping boredom.
#[test]
fn inspect_two_corpora_with_a_label_map() {
    let tmp = tempfile::tempdir().unwrap();
    let rav = tmp.path().join("rav");
    ok(&ser_data(&["synth", "--out", p(&rav), "--actors", "1-2"]));
    let emo = tmp.path().join("emo");
    let tone = ser_audio::Audio::new(vec![0.1; 1600], 16_000);
    for (letter, label) in [('W', "angry"), ('L', "boredom")] {
        std::fs::create_dir_all(emo.join(label)).unwrap();
        for spk in ["03", "08"] {
            let f = emo.join(label).join(format!("{spk}a01{letter}a.wav"));
            ser_audio::write_wav(f, &tone).unwrap();
        }
    }
    let map = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/labelmaps/emodb.csv");
    let rav_spec = format!("ravdess={}", p(&rav));
    let emo_spec = format!("emodb={}", p(&emo));
    let map_arg = format!("emodb={}", p(&map));
    let args = ["inspect", &rav_spec, &emo_spec, "--label-map", &map_arg];
    let json: serde_json::Value = serde_json::from_str(&ok(&ser_data(
        &args.iter().copied().chain(["--json"]).collect::<Vec<_>>(),
    )))
    .unwrap();
    assert_eq!(json["clips"], 120 + 2);
    assert_eq!(json["layout"]["kind"], "combined");
    assert_eq!(json["per_corpus"]["emodb"], 2);
    assert_eq!(json["per_actor"]["emodb:08"], 1);
    assert_eq!(json["left_out"][0]["label"], "boredom");
    assert_eq!(json["left_out"][0]["clips"], 2);
    let text = ok(&ser_data(&args));
    assert!(text.contains("  emodb: "), "{text}");
    assert!(
        text.contains("left out:     corpus `emodb`: left out 2 clip(s) labelled `boredom`"),
        "{text}"
    );
    // A label map for a corpus that was not given is an error naming it.
    let out = ser_data(&["inspect", &rav_spec, "--label-map", &map_arg]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("corpus `emodb`"), "{err}");
}

/// Issue 25, finding 3: `inspect --decode` panicked in the resampler on a float WAV with two
/// samples of 3.4e38, and one bad file killed the whole folder. Now it is one problem naming
/// the file and the sample; the other clips decode and the exit status is 0.
#[test]
fn issue25_inspect_decode_reports_huge_float_samples_as_one_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("c");
    ok(&ser_data(&["synth", "--out", p(&dir), "--actors", "21"]));
    // 1 s of 32-bit float mono at 48 kHz (WAVE_FORMAT_IEEE_FLOAT = 3), by hand.
    let samples: Vec<f32> = (0..48_000)
        .map(|i| if i == 1000 || i == 1001 { 3.4e38 } else { 0.1 })
        .collect();
    let mut wav = b"RIFF".to_vec();
    wav.extend_from_slice(&(36 + 4 * samples.len() as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt \x10\0\0\0\x03\0\x01\0");
    wav.extend_from_slice(&48_000u32.to_le_bytes());
    wav.extend_from_slice(&(4 * 48_000u32).to_le_bytes());
    wav.extend_from_slice(b"\x04\0\x20\0data");
    wav.extend_from_slice(&(4 * samples.len() as u32).to_le_bytes());
    wav.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
    let bad = dir.join("Actor_21/03-01-05-02-02-02-21.wav");
    std::fs::write(&bad, wav).unwrap();
    let out = ser_data(&["inspect", p(&dir), "--decode", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(json["clips"], 59, "{json}");
    let problems = json["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{json}");
    let problem = problems[0].to_string();
    assert!(
        problem.contains("03-01-05-02-02-02-21.wav") && problem.contains("sample 1000"),
        "{problem}"
    );
}
