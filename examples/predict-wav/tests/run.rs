//! CI runs the example's binary: without data (a generated tone and utterance), and on a WAV
//! file written here, with the model the repository ships.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_predict-wav");

/// The shipped model of this checkout, named explicitly so that a `SER_MODEL` of the
/// machine running the tests does not change what is tested.
fn shipped_model() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../models/default")
        .display()
        .to_string()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn without_a_file_the_tone_is_no_speech_and_the_utterance_gets_an_answer() {
    let o = Command::new(BIN)
        .args(["--model", &shipped_model()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("a 200 Hz tone: no speech"), "{stdout}");
    assert!(
        stdout.contains("generated speech (actor 03, angry): "),
        "{stdout}"
    );
}

#[test]
fn a_wav_file_gets_an_emotion_and_every_probability() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("clip.wav");
    let cfg = ser::prelude::SynthConfig::default();
    let name = ser::corpus::synth::clip_names(5)[20];
    ser::audio::write_wav(&wav, &ser::corpus::synth::synthesize(&cfg, &name)).unwrap();
    let o = Command::new(BIN)
        .args([wav.to_str().unwrap(), "--model", &shipped_model()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    // Either an emotion with the eight probabilities, or "no speech" with the reason.
    let answered = stdout.lines().filter(|l| l.starts_with("  ")).count() == 8;
    assert!(answered || stdout.contains(": no speech"), "{stdout}");

    let o = Command::new(BIN)
        .args([
            dir.path().join("missing.wav").to_str().unwrap(),
            "--model",
            &shipped_model(),
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("missing.wav"), "{}", text(&o));
}

#[test]
fn a_model_flag_naming_no_model_is_a_clear_error() {
    let o = Command::new(BIN)
        .args(["--model", "/nonexistent/model"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("/nonexistent/model"), "{}", text(&o));
}
