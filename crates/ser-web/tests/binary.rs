//! The real `ser-web` binary: flags, start-up on an ephemeral port, a request, and graceful
//! shutdown on SIGTERM.
#![allow(clippy::unwrap_used)] // test helpers: a panic is a failed test

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::model::write_test_artifact;
use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_ser-web");

#[test]
fn help_states_the_defaults() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--model",
        "127.0.0.1:8080",
        "--max-upload-mb",
        "20",
        "--max-duration-secs",
        "60",
        "--workers",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
}

#[test]
fn a_missing_model_is_a_clear_error() {
    let out = Command::new(BIN)
        .args(["--model", "/no/such/model", "--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/no/such/model") && err.contains("ser-train"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn serves_then_stops_cleanly_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    write_test_artifact(&model);
    let mut child = Command::new(BIN)
        .args([
            "--model",
            model.to_str().unwrap(),
            "--addr",
            "127.0.0.1:0",
            "--workers",
            "1",
        ])
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    // "... ser-web listening on http://127.0.0.1:PORT ..."
    let addr = loop {
        let line = lines
            .next()
            .expect("server exited before listening")
            .unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let url = format!("http://{addr}/api/predict");
    let (status, json) = post(&url, "audio/wav", &speech_wav(16_000, 2.0));
    assert_eq!(status, 200, "{json}");

    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit {status:?}; log: {rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("shutdown signal received")),
        "{rest:?}"
    );
}
