//! End-to-end tests of the real `ser-predict` binary on generated audio and a real (small,
//! untrained) model artifact written with ser-models' API.
#![allow(clippy::unwrap_used)] // test helpers: a panic is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use burn::prelude::Device;
use ser_models::ModelConfig;
use ser_models::artifact::{Manifest, save};
use ser_models::cnn::CnnConfig;

const BIN: &str = env!("CARGO_BIN_EXE_ser-predict");

fn write_model(dir: &Path) -> PathBuf {
    let features = dsp_features::FeatureConfig::default();
    let labels: Vec<String> = ravdess_loader::Emotion::ALL
        .iter()
        .map(|e| e.name().to_string())
        .collect();
    let config = ModelConfig::Cnn(
        CnnConfig::new(features.output_bins(), labels.len()).with_channels(vec![4, 8]),
    );
    let model = config.init(&Device::default());
    let manifest = Manifest::single(
        "untrained-test-cnn",
        config,
        features,
        labels,
        "none: untrained test model",
    );
    let path = dir.join("model");
    save(&path, &manifest, &[model]).unwrap();
    path
}

/// `secs` of generated speech at `rate` (the generated corpus's actor 4, utterance after
/// utterance): a voice the speech detector accepts, as real speech is.
fn voice(rate: u32, secs: f64) -> Vec<f32> {
    use ravdess_loader::synth::{SynthConfig, clip_names, synthesize};
    let cfg = SynthConfig {
        sample_rate: rate,
        actors: vec![4],
        ..SynthConfig::default()
    };
    let n = (secs * f64::from(rate)) as usize;
    let mut out = Vec::with_capacity(n);
    for name in clip_names(4).iter().cycle() {
        if out.len() >= n {
            break;
        }
        out.extend(synthesize(&cfg, name).samples);
    }
    out.truncate(n);
    out
}

fn write_samples(path: &Path, channels: u16, rate: u32, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        for _ in 0..channels {
            w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)
                .unwrap();
        }
    }
    w.finalize().unwrap();
}

fn write_wav(path: &Path, channels: u16, rate: u32, secs: f64) {
    write_samples(path, channels, rate, &voice(rate, secs));
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

struct Fixture {
    _tmp: tempfile::TempDir,
    model: String,
    good: String,
    stereo: String,
    long: String,
    bad: String,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let model = write_model(tmp.path()).display().to_string();
    let good = tmp.path().join("good.wav");
    write_wav(&good, 1, 16_000, 2.5);
    let stereo = tmp.path().join("stereo44k.wav");
    write_wav(&stereo, 2, 44_100, 2.0);
    let long = tmp.path().join("long.wav");
    write_wav(&long, 1, 16_000, 8.0);
    let bad = tmp.path().join("notes.wav");
    std::fs::write(&bad, "this is text, not audio").unwrap();
    let s = |p: PathBuf| p.display().to_string();
    Fixture {
        model,
        good: s(good),
        stereo: s(stereo),
        long: s(long),
        bad: s(bad),
        _tmp: tmp,
    }
}

#[test]
fn table_for_good_files_and_a_named_error_for_a_bad_one() {
    let f = fixture();
    let out = run(&["--model", &f.model, &f.good, &f.bad, &f.stereo]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&f.bad) && stderr.contains("unsupported audio format"),
        "{stderr}"
    );
    assert!(stderr.contains("1 of 3 file(s) failed"), "{stderr}");
    // Header + three rows; the good files carry one of the eight emotions.
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].contains("emotion") && lines[0].contains("surprised"),
        "{stdout}"
    );
    for good in [&f.good, &f.stereo] {
        let row = lines.iter().find(|l| l.starts_with(good.as_str())).unwrap();
        assert!(
            ravdess_loader::Emotion::ALL
                .iter()
                .any(|e| row.split_whitespace().nth(1) == Some(e.name())),
            "{row}"
        );
    }
}

#[test]
fn json_output_has_the_api_fields_and_the_errors() {
    let f = fixture();
    let out = run(&["--model", &f.model, "--format", "json", &f.good, &f.bad]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = v.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["file"], f.good.as_str());
    let probs = items[0]["probabilities"].as_object().unwrap();
    assert_eq!(probs.len(), 8);
    let sum: f64 = probs.values().map(|p| p.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-3);
    assert!(items[0]["segments"].as_array().unwrap().is_empty());
    assert_eq!(items[1]["file"], f.bad.as_str());
    assert_eq!(items[1]["error"], "unsupported_format");
}

#[test]
fn segment_flag_gives_a_timeline_with_half_overlap() {
    let f = fixture();
    let out = run(&[
        "--model",
        &f.model,
        "--segment",
        "2",
        "--format",
        "json",
        &f.long,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let segs = v[0]["segments"].as_array().unwrap();
    // 8 s, 2 s windows every 1 s: 7 windows.
    assert_eq!(segs.len(), 7, "{v}");
    assert_eq!(segs[1]["start_secs"], 1.0);
    // The table form prints the timeline too.
    let out = run(&["--model", &f.model, "--segment", "2", &f.long]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("timeline (7 window(s))"), "{stdout}");
}

#[test]
fn missing_file_and_missing_model_are_clear_errors() {
    let f = fixture();
    let out = run(&["--model", &f.model, "/no/such/file.wav"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/no/such/file.wav"), "{stderr}");

    let out = run(&["--model", "/no/such/model", &f.good]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/no/such/model"), "{stderr}");

    let out = run(&["--model", &f.model, "--segment", "0", &f.good]);
    assert_eq!(out.status.code(), Some(2));
}

/// Issue 25, finding 3: a float WAV with two samples of 3.4e38 panicked the resampler and
/// killed the whole run (exit 101, later files never processed). Now it is one named error
/// and the files after it are classified.
#[test]
fn issue25_a_float_wav_with_huge_samples_is_one_error_and_the_rest_is_processed() {
    let f = fixture();
    let huge = std::path::Path::new(&f.good).with_file_name("onehuge_48k.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&huge, spec).unwrap();
    for (i, s) in voice(48_000, 1.0).into_iter().enumerate() {
        w.write_sample(if i == 1000 || i == 1001 { 3.4e38 } else { s })
            .unwrap();
    }
    w.finalize().unwrap();
    let huge = huge.display().to_string();
    let out = run(&["--model", &f.model, &f.good, &huge, &f.stereo]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains(&huge) && errors[0].contains("sample 1000 (at 0.021 s)"),
        "{stderr}"
    );
    assert!(stderr.contains("1 of 3 file(s) failed"), "{stderr}");
    for good in [&f.good, &f.stereo] {
        let row = stdout
            .lines()
            .find(|l| l.starts_with(good.as_str()))
            .unwrap();
        assert!(!row.contains("failed"), "{row}");
    }
}

/// Issue 27: what is not speech is answered "no speech", in the table and in JSON, and is not
/// a failure (exit status 0).
#[test]
fn tones_noise_and_silence_are_no_speech() {
    let f = fixture();
    let dir = Path::new(&f.model).parent().unwrap();
    let tone: Vec<f32> = (0..32_000)
        .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16_000.0).sin())
        .collect();
    let mut state = 1_u32;
    let noise: Vec<f32> = (0..32_000)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            0.3 * ((state >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0)
        })
        .collect();
    let files: Vec<String> = [
        ("tone.wav", tone),
        ("noise.wav", noise),
        ("silence.wav", vec![0.0; 32_000]),
    ]
    .into_iter()
    .map(|(name, samples)| {
        let path = dir.join(name);
        write_samples(&path, 1, 16_000, &samples);
        path.display().to_string()
    })
    .collect();
    let mut args = vec!["--model", f.model.as_str()];
    args.extend(files.iter().map(String::as_str));
    let out = run(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    for file in &files {
        let row = stdout
            .lines()
            .find(|l| l.starts_with(file.as_str()))
            .unwrap();
        assert!(row.contains("no speech"), "{row}");
    }
    args.extend(["--format", "json"]);
    let out = run(&args);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for item in v.as_array().unwrap() {
        assert_eq!(item["speech"], false, "{item}");
        assert!(item["emotion"].is_null(), "{item}");
        assert!(
            item["message"].as_str().unwrap().starts_with("no speech"),
            "{item}"
        );
    }
}

/// Issue 26: without --model the model is found the way an installed tool finds its data;
/// SER_MODEL names one, and a wrong SER_MODEL is an error naming it (not a silent fallback).
#[test]
fn the_model_comes_from_ser_model_when_no_flag_is_given() {
    let f = fixture();
    let with_flag = run(&["--model", &f.model, "--format", "json", &f.good]);
    let from_env = Command::new(BIN)
        .args(["--format", "json", &f.good])
        .env("SER_MODEL", &f.model)
        .output()
        .unwrap();
    assert_eq!(from_env.status.code(), Some(0));
    assert_eq!(from_env.stdout, with_flag.stdout);

    let wrong = Command::new(BIN)
        .arg(&f.good)
        .env("SER_MODEL", "/no/such/model/dir")
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(stderr.contains("/no/such/model/dir"), "{stderr}");
}

/// Issue 25, finding 6: `ser-predict` without flags classified a 59 s file as one clip (calm
/// 1.000) where the API answered from windows (neutral 0.371). The same file through
/// `ser-predict` (no flags but the model) and through ser-web's HTTP API now gives the same
/// emotion, probabilities and timeline: both call `ser_models::analysis`.
#[test]
fn issue25_a_long_file_gets_the_same_answer_from_the_cli_and_the_api() {
    let f = fixture();
    let path = Path::new(&f.model).parent().unwrap().join("long59.wav");
    write_samples(&path, 1, 16_000, &voice(16_000, 59.0));
    let out = run(&[
        "--model",
        &f.model,
        "--format",
        "json",
        &path.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cli = &cli[0];

    let model = ser_web::load_model(Path::new(&f.model)).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = ser_web::AppState::new(model, ser_web::ServerConfig::default());
    let server = rt.spawn(ser_web::serve_with_shutdown(listener, state, async {
        let _ = stopped.await;
    }));
    let mut resp = ureq::post(&format!("http://{addr}/api/predict"))
        .header("Content-Type", "audio/wav")
        .send(&std::fs::read(&path).unwrap())
        .unwrap();
    let api: serde_json::Value =
        serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    let _ = stop.send(());
    rt.block_on(server).unwrap().unwrap();

    assert!(cli["emotion"].is_string(), "{cli}");
    for field in [
        "emotion",
        "confidence",
        "probabilities",
        "speech",
        "segments",
        "voice",
    ] {
        assert_eq!(cli[field], api[field], "{field} differs");
    }
    // 59 s: 3 s windows every 1.5 s (38, the last ending at 58.5 s), then one aligned to the
    // end, so the last 0.5 s is classified too.
    let segments = api["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 39);
    assert_eq!(segments.last().unwrap()["end_secs"], 59.0);
}
