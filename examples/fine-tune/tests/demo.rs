//! CI runs the example's demonstration (no data needed): it trains a tiny parent, writes a
//! generated corpus, fine-tunes, and prints the UA before and after.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::process::Command;

#[test]
fn the_demonstration_fine_tunes_and_reports_before_and_after() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_fine-tune"))
        .args(["--out", dir.path().to_str().unwrap(), "--epochs", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stdout}{stderr}");
    for line in [
        "UA on held-out speakers 13,14",
        "labels neutral,happy,sad,angry,fearful,disgust",
        "before fine-tuning",
        "after 2 epochs of fine-tuning",
    ] {
        assert!(stdout.contains(line), "`{line}` not in {stdout}");
    }
    // The parent's rows of the six labels were kept; the dropped labels were reported.
    assert!(
        stderr.contains("output layer: the parent's rows of"),
        "{stderr}"
    );
    assert!(stderr.contains("labelled `calm`"), "{stderr}");
    let m = std::fs::read_to_string(dir.path().join("fine-tuned/manifest.json")).unwrap();
    assert!(m.contains("\"parent\""), "{m}");
    // A wrong flag combination is a clear error.
    let o = Command::new(env!("CARGO_BIN_EXE_fine-tune"))
        .args(["--data", "/nonexistent-corpus"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--train-speakers"));
}
