//! Shared helpers of the ser-web integration tests: generated audio in every WAV flavour, a
//! real server on 127.0.0.1:0, and a small HTTP client.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used)] // test helpers: a panic is a failed test

pub mod model;

use std::io::Cursor;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ser_models::EmotionModel;
use ser_web::{AppState, ServerConfig};

/// `secs` of generated speech at `rate`: utterances of the generated emotional-speech corpus
/// (`ravdess_loader::synth`, a formant voice with syllables, consonants and pauses) of actor
/// `seed % 24 + 1`, one after another, cut to length. Deterministic.
///
/// Speech, not just a speech-like buzz: the server answers "no speech" for tones and steady
/// harmonic sounds (issue 27), and the harmonic series with a syllable envelope these tests
/// used before is exactly that (its level hardly changes, and it is periodic all the time).
pub fn speech_like(rate: u32, secs: f64, seed: u32) -> Vec<f32> {
    use ravdess_loader::synth::{SynthConfig, clip_names, synthesize};
    let n = (secs * f64::from(rate)).round() as usize;
    let actor = (seed % 24 + 1) as u8;
    let cfg = SynthConfig {
        sample_rate: rate,
        actors: vec![actor],
        ..SynthConfig::default()
    };
    let mut out = Vec::with_capacity(n);
    for name in clip_names(actor).iter().cycle() {
        if out.len() >= n {
            break;
        }
        out.extend(synthesize(&cfg, name).samples);
    }
    out.truncate(n);
    out
}

/// Sample formats a WAV can be written in.
#[derive(Debug, Clone, Copy)]
pub enum WavFormat {
    /// Integer PCM of this many bits (8, 16, 24, 32).
    Int(u16),
    /// 32-bit IEEE float.
    Float,
}

/// Encodes `channels` (each the same length) as a WAV file in memory.
pub fn wav_bytes(channels: &[Vec<f32>], rate: u32, format: WavFormat) -> Vec<u8> {
    let (bits, sample_format) = match format {
        WavFormat::Int(b) => (b, hound::SampleFormat::Int),
        WavFormat::Float => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format,
    };
    let mut cursor = Cursor::new(Vec::new());
    {
        let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
        for i in 0..channels[0].len() {
            for ch in channels {
                let s = ch[i];
                match format {
                    WavFormat::Float => w.write_sample(s).unwrap(),
                    WavFormat::Int(8) => {
                        w.write_sample((s.clamp(-1.0, 1.0) * 127.0).round() as i8)
                            .unwrap();
                    }
                    WavFormat::Int(16) => w
                        .write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16)
                        .unwrap(),
                    WavFormat::Int(b) => {
                        let scale = ((1_i64 << (b - 1)) - 1) as f64;
                        w.write_sample((f64::from(s.clamp(-1.0, 1.0)) * scale).round() as i32)
                            .unwrap();
                    }
                }
            }
        }
        w.finalize().unwrap();
    }
    cursor.into_inner()
}

/// Mono 16-bit WAV of [`speech_like`] audio.
pub fn speech_wav(rate: u32, secs: f64) -> Vec<u8> {
    wav_bytes(&[speech_like(rate, secs, 1)], rate, WavFormat::Int(16))
}

/// A real ser-web server on an ephemeral loopback port, in its own runtime thread; shut down
/// gracefully on drop.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server around `model` with `config`.
    pub fn start(model: Arc<dyn EmotionModel>, config: ServerConfig) -> Self {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let state = AppState::new(model, config);
                ser_web::serve_with_shutdown(listener, state, async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
            });
        });
        let addr = addr_rx.recv().unwrap();
        Self {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends the shutdown signal and waits at most `limit` for `serve_with_shutdown` to
    /// return; `Some(elapsed)` if it did. A server still running after `limit` is left behind
    /// (its thread detached) so that the calling test fails instead of hanging.
    pub fn stop_within(mut self, limit: Duration) -> Option<Duration> {
        let started = Instant::now();
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let thread = self.thread.take()?;
        while started.elapsed() < limit {
            if thread.is_finished() {
                let _ = thread.join();
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An HTTP client that returns 4xx/5xx answers instead of erroring on them.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// POSTs `body` with `content_type`; returns the status and the parsed JSON body.
pub fn post(url: &str, content_type: &str, body: &[u8]) -> (u16, serde_json::Value) {
    let mut resp = agent()
        .post(url)
        .header("Content-Type", content_type)
        .send(body)
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {text:?}"));
    (status, json)
}

/// POSTs audio as the raw request body.
pub fn post_audio(server: &TestServer, body: &[u8]) -> (u16, serde_json::Value) {
    post(
        &server.url("/api/predict"),
        "application/octet-stream",
        body,
    )
}

/// GETs `path` and parses JSON.
pub fn get_json(server: &TestServer, path: &str) -> (u16, serde_json::Value) {
    let mut resp = agent().get(&server.url(path)).call().unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap())
}

/// A multipart/form-data body with one file field; returns (content type, body).
pub fn multipart(field: &str, filename: &str, data: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----ser-web-test-boundary-7d3f";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; \
             filename=\"{filename}\"\r\nContent-Type: audio/wav\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Checks the shape of a successful prediction against the model's labels.
pub fn assert_prediction_shape(json: &serde_json::Value, labels: &[String]) {
    let emotion = json["emotion"]
        .as_str()
        .unwrap_or_else(|| panic!("no emotion: {json}"));
    assert!(
        labels.iter().any(|l| l == emotion),
        "{emotion} not in {labels:?}"
    );
    let probs = json["probabilities"].as_object().unwrap();
    assert_eq!(probs.len(), labels.len(), "{json}");
    let sum: f64 = probs.values().map(|v| v.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-3, "probabilities sum to {sum}");
    for l in labels {
        let p = probs[l].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p), "{l}: {p}");
    }
    let best = probs
        .iter()
        .max_by(|a, b| a.1.as_f64().unwrap().total_cmp(&b.1.as_f64().unwrap()))
        .unwrap()
        .0;
    assert_eq!(best, emotion, "emotion is not the argmax: {json}");
    assert_eq!(json["silence"], false);
}

/// Outcome of watching a raw connection for the server to close it.
#[derive(Debug)]
pub enum Watched {
    /// The server closed (FIN or reset) after this long, having sent these bytes first.
    Closed(Duration, Vec<u8>),
    /// Still open after the limit, with the bytes received so far.
    Open(Vec<u8>),
}

/// Reads from `tcp` until the server closes it or `limit` passes, calling `tick` every
/// `every` (to trickle bytes at the server; write errors after a close are expected).
pub fn watch_close(
    tcp: &mut std::net::TcpStream,
    limit: Duration,
    every: Duration,
    mut tick: impl FnMut(&mut std::net::TcpStream),
) -> Watched {
    use std::io::Read;
    let started = Instant::now();
    let mut got = Vec::new();
    tcp.set_read_timeout(Some(every)).unwrap();
    let mut buf = [0u8; 4096];
    while started.elapsed() < limit {
        match tcp.read(&mut buf) {
            Ok(0) => return Watched::Closed(started.elapsed(), got),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                tick(tcp);
            }
            Err(_) => return Watched::Closed(started.elapsed(), got),
        }
    }
    Watched::Open(got)
}

/// How many TCP sockets this process holds whose local port is `port`, other than the
/// listening socket: the connections the server has accepted (a connection still waiting in
/// the kernel's accept queue has no file descriptor yet). Linux only: reads /proc/self/fd and
/// /proc/net/tcp (columns documented in the kernel's Documentation/networking/proc_net_tcp.rst).
#[cfg(target_os = "linux")]
pub fn accepted_sockets(port: u16) -> usize {
    let ours: std::collections::HashSet<String> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().into_owned();
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .collect();
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    table
        .lines()
        .skip(1)
        .filter(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // cols[1] = local "ADDR:PORT" (hex), cols[3] = state (0A = LISTEN), cols[9] = inode.
            cols.len() > 9
                && cols[1].rsplit(':').next() == Some(&format!("{port:04X}"))
                && cols[3] != "0A"
                && ours.contains(cols[9])
        })
        .count()
}
