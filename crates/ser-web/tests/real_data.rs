//! Opt-in: the nine 48 kHz RAVDESS originals (extra RIFF chunks, two stereo) through the real
//! server. Runs when `SER_RAVDESS_48K_DIR` is set (`.ci/run` sets it where the copy exists),
//! skips with a message otherwise.
#![allow(clippy::unwrap_used)] // test helpers: a panic is a failed test

mod common;

use common::model::test_model;
use common::*;
use ser_web::ServerConfig;

fn wavs(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            wavs(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
        {
            out.push(path);
        }
    }
}

#[test]
fn ravdess_48k_originals_decode_and_predict() {
    let Some(dir) = std::env::var_os("SER_RAVDESS_48K_DIR") else {
        eprintln!(
            "skipped: set SER_RAVDESS_48K_DIR to the 48 kHz RAVDESS samples to run this test"
        );
        return;
    };
    let mut files = Vec::new();
    wavs(std::path::Path::new(&dir), &mut files);
    assert!(
        !files.is_empty(),
        "no WAV files under {}",
        dir.to_string_lossy()
    );
    let s = TestServer::start(test_model(), ServerConfig::default());
    let labels = test_model().labels().to_vec();
    for file in &files {
        let (status, json) = post_audio(&s, &std::fs::read(file).unwrap());
        assert_eq!(status, 200, "{}: {json}", file.display());
        assert_prediction_shape(&json, &labels);
        assert_eq!(json["sample_rate"], 48_000, "{}", file.display());
        let secs = json["duration_secs"].as_f64().unwrap();
        // RAVDESS speech clips last about 3-5 s.
        assert!((2.0..7.0).contains(&secs), "{}: {secs} s", file.display());
    }
}
