//! The real `ser-web` binary: flags, start-up on an ephemeral port, a request, and graceful
//! shutdown on SIGTERM.
#![allow(clippy::unwrap_used)] // test helpers: a panic is a failed test

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

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
        // issue 25: connection limits and timeouts, each with its default.
        "--max-connections",
        "--header-timeout-secs",
        "--body-timeout-secs",
        "--idle-timeout-secs",
        "--shutdown-timeout-secs",
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

/// A `ser-web` child on an ephemeral port, its stderr lines, and its address.
struct Server {
    child: Child,
    lines: std::io::Lines<BufReader<ChildStderr>>,
    addr: String,
    _model: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_server(extra: &[&str]) -> Server {
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
        .args(extra)
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
    Server {
        child,
        lines,
        addr,
        _model: tmp,
    }
}

/// Sends SIGTERM; returns the exit status and how long the exit took (`None`: still running
/// after `limit`), and the log lines written after the signal.
#[cfg(unix)]
fn terminate(
    mut server: Server,
    limit: Duration,
) -> (Option<(std::process::ExitStatus, Duration)>, Vec<String>) {
    let started = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let exited = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break Some((s, started.elapsed()));
        }
        if started.elapsed() > limit {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let rest = if exited.is_some() {
        server.lines.by_ref().map_while(Result::ok).collect()
    } else {
        Vec::new()
    };
    (exited, rest)
}

#[cfg(unix)]
#[test]
fn serves_then_stops_cleanly_on_sigterm() {
    let server = spawn_server(&[]);
    let url = format!("http://{}/api/predict", server.addr);
    let (status, json) = post(&url, "audio/wav", &speech_wav(16_000, 2.0));
    assert_eq!(status, 200, "{json}");

    let (exited, rest) = terminate(server, Duration::from_secs(20));
    let (status, _) = exited.expect("no exit after SIGTERM");
    assert!(status.success(), "exit {status:?}; log: {rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("shutdown signal received")),
        "{rest:?}"
    );
}

/// Issue 25: one client that stalls in the middle of its upload kept the server from ever
/// exiting after SIGTERM.
#[cfg(unix)]
#[test]
fn issue25_sigterm_exits_within_the_deadline_while_a_client_stalls() {
    let server = spawn_server(&["--shutdown-timeout-secs", "0.5"]);
    let mut stalled = std::net::TcpStream::connect(&server.addr).unwrap();
    stalled
        .write_all(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nRIFF")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (exited, rest) = terminate(server, Duration::from_secs(10));
    let (status, took) = exited.expect("still running 10 s after SIGTERM (deadline 0.5 s)");
    assert!(status.success(), "exit {status:?}; log: {rest:?}");
    assert!(took < Duration::from_secs(4), "exit took {took:?}");
    assert!(
        rest.iter().any(|l| l.contains("shutdown deadline")),
        "the dropped connection is not logged: {rest:?}"
    );
}
