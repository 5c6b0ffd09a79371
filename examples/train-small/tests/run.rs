//! CI runs the example's binary: it trains on generated speech, saves the artifact, loads it
//! back and predicts (kept to a few epochs, so the test takes seconds on one core).

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_train-small");

#[test]
fn trains_saves_reloads_and_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .args(["--out", dir.path().to_str().unwrap(), "--epochs", "3"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("held-out speaker 07: UA "), "{stdout}");
    assert!(
        stdout.contains("reloaded model on a sad clip of speaker 07: "),
        "{stdout}"
    );
    assert!(stderr.contains("epoch  1: training loss"), "{stderr}");
    let artifact = dir.path().join("crnn");
    assert!(artifact.join("manifest.json").is_file());
    // The artifact loads in any tool: it names its training speakers (01-05) and test speaker.
    let manifest = std::fs::read_to_string(artifact.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"07\""), "{manifest}");

    let o = Command::new(BIN).args(["--epochs", "0"]).output().unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--epochs"));
}
