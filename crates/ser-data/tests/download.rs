//! `ser-data download ravdess` against a real local HTTP server (std TcpListener) that drops
//! the first connection half-way, so resume via HTTP Range is exercised, plus MD5, CRC,
//! file-count and HTTP error paths.

#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use ravdess_loader::synth::{self, SynthConfig, clip_names};
use ser_audio::encode_wav_16;

/// A zip with `n` generated RAVDESS WAVs under `Actor_01/` (plus a directory entry).
fn make_zip(n: usize, method: zip::CompressionMethod) -> Vec<u8> {
    let cfg = SynthConfig::default();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    w.add_directory("Actor_01/", opts).unwrap();
    for name in clip_names(1).into_iter().take(n) {
        let bytes = encode_wav_16(&synth::synthesize(&cfg, &name)).unwrap();
        w.start_file(format!("Actor_01/{name}"), opts).unwrap();
        w.write_all(&bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Serves `body` at `/ravdess.zip`; the first request gets half the body and a dropped
/// connection. Returns the base URL and the log of request `Range` headers.
fn serve(body: Vec<u8>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::new()));
    let log2 = Arc::clone(&log);
    std::thread::spawn(move || {
        for (i, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            reader.read_line(&mut first).unwrap();
            let mut range = None;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.split_once(':')
                    && k.eq_ignore_ascii_case("range")
                {
                    range = Some(v.trim().to_string());
                }
            }
            log2.lock()
                .unwrap()
                .push(range.clone().unwrap_or_else(|| "-".into()));
            if !first.contains(" /ravdess.zip ") {
                let _ = stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                continue;
            }
            let start: usize = range
                .as_deref()
                .and_then(|r| r.strip_prefix("bytes="))
                .and_then(|r| r.trim_end_matches('-').parse().ok())
                .unwrap_or(0);
            let len = body.len();
            let head = if start > 0 {
                format!(
                    "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{len}\r\nConnection: close\r\n\r\n",
                    len - start,
                    len - 1
                )
            } else {
                format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n")
            };
            let _ = stream.write_all(head.as_bytes());
            let end = if i == 0 { len / 2 } else { len };
            let _ = stream.write_all(&body[start..end]);
            let _ = stream.flush();
            // Dropping the stream closes the connection (early on the first request).
        }
    });
    (url, log)
}

fn download(url: &str, dest: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "download",
        "ravdess",
        "--dest",
        dest.to_str().unwrap(),
        "--url",
        url,
        "--retries",
        "3",
    ];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_ser-data"))
        .args(&args)
        .output()
        .unwrap()
}

#[test]
fn resumes_verifies_and_unpacks() {
    let body = make_zip(3, zip::CompressionMethod::Deflated);
    let md5 = format!("{:x}", md5::compute(&body));
    let (base, log) = serve(body);
    let tmp = tempfile::tempdir().unwrap();
    let out = download(
        &format!("{base}/ravdess.zip"),
        tmp.path(),
        &["--md5", &md5, "--expect-files", "3"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("attempt 1/3 failed"), "{err}");
    let ranges = log.lock().unwrap().clone();
    assert_eq!(ranges.len(), 2, "{ranges:?}");
    assert_eq!(ranges[0], "-");
    assert!(
        ranges[1].starts_with("bytes=") && ranges[1] != "bytes=0-",
        "{ranges:?}"
    );
    for name in clip_names(1).into_iter().take(3) {
        let f = tmp.path().join(format!("Actor_01/{name}"));
        assert!(ser_audio::read_wav(&f).is_ok(), "{}", f.display());
    }
    // A second run reuses the archive and the unpacked files.
    let again = download(
        &format!("{base}/ravdess.zip"),
        tmp.path(),
        &["--expect-files", "3"],
    );
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(log.lock().unwrap().len(), 2, "no new request expected");
}

#[test]
fn wrong_md5_wrong_count_corrupt_member_and_404_fail_clearly() {
    let body = make_zip(2, zip::CompressionMethod::Deflated);
    let (base, _) = serve(body.clone());
    let url = format!("{base}/ravdess.zip");

    let tmp = tempfile::tempdir().unwrap();
    let out = download(
        &url,
        tmp.path(),
        &["--md5", &"0".repeat(32), "--expect-files", "2"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("MD5"));

    let tmp = tempfile::tempdir().unwrap();
    let out = download(&url, tmp.path(), &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("holds 2 RAVDESS speech WAV files, expected 1440"),
        "{err}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let out = download(&format!("{base}/missing.zip"), tmp.path(), &[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP 404"));

    let out = download(&url, tmp.path(), &["--md5", "xyz"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("32 hex digits"));

    // Corrupt one stored member's data: the CRC check must catch it.
    let mut bad = make_zip(2, zip::CompressionMethod::Stored);
    let mid = bad.len() / 3;
    bad[mid] ^= 0x55;
    let (base, _) = serve(bad);
    let tmp = tempfile::tempdir().unwrap();
    let out = download(
        &format!("{base}/ravdess.zip"),
        tmp.path(),
        &["--expect-files", "2"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("corrupt"), "{err}");
}
