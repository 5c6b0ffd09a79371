//! HTTP integration tests: a real ser-web server on 127.0.0.1:0, real requests over TCP, good
//! and bad uploads of generated audio.

mod common;

use std::io::{Read, Write};

use common::model::test_model;
use common::*;
use ser_models::analysis::AnalysisConfig;
use ser_web::ServerConfig;

fn server() -> TestServer {
    TestServer::start(test_model(), ServerConfig::default())
}

fn labels() -> Vec<String> {
    test_model().labels().to_vec()
}

#[test]
fn healthz_model_info_and_page() {
    let s = server();
    let (status, json) = get_json(&s, "/healthz");
    assert_eq!(status, 200);
    assert_eq!(json["status"], "ok");

    let (status, json) = get_json(&s, "/api/model");
    assert_eq!(status, 200);
    let got: Vec<String> = json["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, labels());
    assert_eq!(json["server"]["max_upload_bytes"], 20 * 1024 * 1024);

    let mut page = agent().get(&s.url("/")).call().unwrap();
    assert_eq!(page.status(), 200);
    let html = page.body_mut().read_to_string().unwrap();
    assert!(html.contains("id=\"emotion\""));
    assert!(html.contains("/app.js"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no CDN"
    );
    let mut js = agent().get(&s.url("/app.js")).call().unwrap();
    assert_eq!(js.status(), 200);
    assert!(
        js.body_mut()
            .read_to_string()
            .unwrap()
            .contains("/api/predict")
    );

    let (status, json) = get_json(&s, "/no/such/page");
    assert_eq!(status, 404);
    assert_eq!(json["error"], "not_found");
    let (status, json) = get_json(&s, "/api/predict");
    assert_eq!(status, 405);
    assert_eq!(json["error"], "method_not_allowed");
}

#[test]
fn predicts_a_16k_clip_sent_as_raw_body() {
    let s = server();
    let (status, json) = post_audio(&s, &speech_wav(16_000, 3.0));
    assert_eq!(status, 200, "{json}");
    assert_prediction_shape(&json, &labels());
    assert_eq!(json["sample_rate"], 16_000);
    assert!((json["duration_secs"].as_f64().unwrap() - 3.0).abs() < 1e-3);
    // Short clips are classified whole: no timeline.
    assert_eq!(json["segments"].as_array().unwrap().len(), 0);
}

#[test]
fn predicts_a_clip_sent_as_multipart_form_field_file() {
    let s = server();
    let (ct, body) = multipart("file", "clip.wav", &speech_wav(16_000, 2.0));
    let (status, json) = post(&s.url("/api/predict"), &ct, &body);
    assert_eq!(status, 200, "{json}");
    assert_prediction_shape(&json, &labels());

    let (ct, body) = multipart("audio", "clip.wav", &speech_wav(16_000, 2.0));
    let (status, json) = post(&s.url("/api/predict"), &ct, &body);
    assert_eq!(status, 400, "{json}");
    assert!(
        json["detail"].as_str().unwrap().contains("`file`"),
        "{json}"
    );
}

#[test]
fn every_wav_sample_format_and_stereo_decodes() {
    let s = server();
    let mono = speech_like(16_000, 2.0, 3);
    for format in [
        WavFormat::Int(8),
        WavFormat::Int(16),
        WavFormat::Int(24),
        WavFormat::Int(32),
        WavFormat::Float,
    ] {
        let (status, json) =
            post_audio(&s, &wav_bytes(std::slice::from_ref(&mono), 16_000, format));
        assert_eq!(status, 200, "{format:?}: {json}");
        assert_prediction_shape(&json, &labels());
    }
    // Stereo with a silent right channel: downmixed, still loud enough to classify.
    let stereo = wav_bytes(
        &[mono.clone(), vec![0.0; mono.len()]],
        16_000,
        WavFormat::Int(16),
    );
    let (status, json) = post_audio(&s, &stereo);
    assert_eq!(status, 200, "{json}");
    assert_prediction_shape(&json, &labels());
}

#[test]
fn every_common_sample_rate_is_resampled() {
    let s = server();
    for rate in [8_000, 22_050, 44_100, 48_000, 96_000] {
        let (status, json) = post_audio(&s, &speech_wav(rate, 2.0));
        assert_eq!(status, 200, "{rate} Hz: {json}");
        assert_prediction_shape(&json, &labels());
        assert_eq!(json["sample_rate"], rate);
        assert!((json["duration_secs"].as_f64().unwrap() - 2.0).abs() < 1e-3);
    }
}

#[test]
fn long_audio_gets_a_timeline_of_overlapping_windows() {
    let s = server();
    let (status, json) = post_audio(&s, &speech_wav(16_000, 10.0));
    assert_eq!(status, 200, "{json}");
    assert_prediction_shape(&json, &labels());
    let segs = json["segments"].as_array().unwrap();
    // 3 s windows every 1.5 s over 10 s: starts 0, 1.5, ..., 6.0 plus one aligned to the end.
    assert_eq!(segs.len(), 6, "{json}");
    let mut prev_start = -1.0;
    for seg in segs {
        let (a, b) = (
            seg["start_secs"].as_f64().unwrap(),
            seg["end_secs"].as_f64().unwrap(),
        );
        assert!(a > prev_start && (b - a - 3.0).abs() < 1e-6, "{seg}");
        prev_start = a;
        assert_eq!(
            seg["probabilities"].as_object().unwrap().len(),
            labels().len()
        );
    }
    assert!((segs.last().unwrap()["end_secs"].as_f64().unwrap() - 10.0).abs() < 1e-6);
}

#[test]
fn silence_is_answered_without_an_emotion() {
    let s = server();
    let (status, json) = post_audio(
        &s,
        &wav_bytes(&[vec![0.0; 32_000]], 16_000, WavFormat::Int(16)),
    );
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["silence"], true);
    assert!(json["emotion"].is_null(), "{json}");
    assert!(
        json["message"].as_str().unwrap().contains("silent"),
        "{json}"
    );
    assert_eq!(json["probabilities"].as_object().unwrap().len(), 0);
}

#[test]
fn empty_body_is_400() {
    let s = server();
    let (status, json) = post_audio(&s, b"");
    assert_eq!(status, 400, "{json}");
    assert_eq!(json["error"], "empty_input");
    assert!(json["detail"].as_str().unwrap().contains("empty"));
}

#[test]
fn non_audio_is_415() {
    let s = server();
    for body in [
        b"<!doctype html><html><body>hi</body></html>".to_vec(),
        b"just some text, not audio".to_vec(),
        vec![0x89, b'P', b'N', b'G', 0, 0, 0, 0, 1, 2, 3],
        (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect(),
    ] {
        let (status, json) = post_audio(&s, &body);
        assert_eq!(status, 415, "{json}");
        assert_eq!(json["error"], "unsupported_format");
        assert!(json["detail"].as_str().unwrap().contains("WAV"), "{json}");
    }
}

#[test]
fn truncated_and_corrupt_wav_is_422() {
    let s = server();
    let wav = speech_wav(16_000, 2.0);
    // Cut inside the header, and inside the data chunk.
    for cut in [20, 40, wav.len() / 2] {
        let (status, json) = post_audio(&s, &wav[..cut]);
        assert_eq!(status, 422, "cut at {cut}: {json}");
        assert_eq!(json["error"], "corrupt_audio", "{json}");
        assert!(json["detail"].as_str().unwrap().contains("WAV"), "{json}");
    }
    // A header with no samples at all.
    let empty = wav_bytes(&[Vec::new()], 16_000, WavFormat::Int(16));
    let (status, json) = post_audio(&s, &empty);
    assert_eq!(status, 422, "{json}");
}

#[test]
fn sample_rates_outside_8_to_192_khz_are_422() {
    let s = server();
    let (status, json) = post_audio(&s, &speech_wav(4_000, 1.0));
    assert_eq!(status, 422, "{json}");
    assert_eq!(json["error"], "unsupported_sample_rate");
    assert!(
        json["detail"].as_str().unwrap().contains("4000 Hz"),
        "{json}"
    );
}

#[test]
fn nan_samples_are_422() {
    let s = server();
    let mut samples = speech_like(16_000, 1.0, 2);
    for v in samples.iter_mut().skip(100).step_by(3) {
        *v = f32::NAN;
    }
    let (status, json) = post_audio(&s, &wav_bytes(&[samples], 16_000, WavFormat::Float));
    assert_eq!(status, 422, "{json}");
    assert_eq!(json["error"], "non_finite_samples");
    let inf = wav_bytes(&[vec![f32::INFINITY; 16_000]], 16_000, WavFormat::Float);
    let (status, json) = post_audio(&s, &inf);
    assert_eq!(status, 422, "{json}");
}

#[test]
fn oversize_upload_is_413_with_json() {
    let config = ServerConfig {
        max_upload_bytes: 256 * 1024,
        ..ServerConfig::default()
    };
    let s = TestServer::start(test_model(), config);
    // 10 s at 16 kHz, 16-bit = 320 KB > 256 KiB.
    let (status, json) = post_audio(&s, &speech_wav(16_000, 10.0));
    assert_eq!(status, 413, "{json}");
    assert_eq!(json["error"], "too_large");
    assert!(
        json["detail"].as_str().unwrap().contains("262144"),
        "{json}"
    );
    // Multipart goes through the same limit.
    let (ct, body) = multipart("file", "big.wav", &speech_wav(16_000, 10.0));
    let (status, json) = post(&s.url("/api/predict"), &ct, &body);
    assert_eq!(status, 413, "{json}");
    // Just under the limit is fine.
    let (status, json) = post_audio(&s, &speech_wav(16_000, 8.0));
    assert_eq!(status, 200, "{json}");
}

#[test]
fn declared_oversize_is_refused_before_the_body_is_sent() {
    let s = server();
    let mut tcp = std::net::TcpStream::connect(s.addr).unwrap();
    // Declare 1 GiB but send nothing: the answer must come from the headers alone.
    write!(
        tcp,
        "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: audio/wav\r\n\
         Content-Length: 1073741824\r\n\r\n"
    )
    .unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tcp.read(&mut buf).unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(head.contains("too_large"), "{head}");
}

#[test]
fn too_long_audio_is_413_naming_the_limit() {
    let config = ServerConfig {
        analysis: AnalysisConfig {
            max_duration_secs: Some(5.0),
            ..AnalysisConfig::default()
        },
        ..ServerConfig::default()
    };
    let s = TestServer::start(test_model(), config);
    let (status, json) = post_audio(&s, &speech_wav(16_000, 6.0));
    assert_eq!(status, 413, "{json}");
    assert_eq!(json["error"], "too_long");
    assert!(json["detail"].as_str().unwrap().contains("5.0 s"), "{json}");
}

#[test]
fn concurrent_requests_all_succeed() {
    let s = server();
    let wav = speech_wav(16_000, 4.0);
    let url = s.url("/api/predict");
    let handles: Vec<_> = (0..12)
        .map(|_| {
            let (wav, url) = (wav.clone(), url.clone());
            std::thread::spawn(move || post(&url, "audio/wav", &wav))
        })
        .collect();
    let answers: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for (status, json) in &answers {
        assert_eq!(*status, 200, "{json}");
        // Same input, same model: same answer.
        assert_eq!(json["probabilities"], answers[0].1["probabilities"]);
    }
}

#[test]
fn generated_emotional_utterances_from_ravdess_loader_synth() {
    use ravdess_loader::synth::{SynthConfig, clip_names, synthesize};
    let s = server();
    let cfg = SynthConfig {
        sample_rate: 48_000,
        actors: vec![3],
        ..SynthConfig::default()
    };
    // One clip per emotion (normal intensity, first statement and repetition), as 24-bit WAV.
    for name in clip_names(3).iter().step_by(8).take(4) {
        let audio = synthesize(&cfg, name);
        let bytes = wav_bytes(
            std::slice::from_ref(&audio.samples),
            audio.sample_rate,
            WavFormat::Int(24),
        );
        let (status, json) = post_audio(&s, &bytes);
        assert_eq!(status, 200, "{name}: {json}");
        assert_prediction_shape(&json, &labels());
        assert!((json["duration_secs"].as_f64().unwrap() - audio.duration_secs()).abs() < 1e-3);
    }
}

/// Issue 25, finding 5: the page read the accuracy from `metrics.test.ua` / `metrics.ua`, which
/// the shipped model does not have, and showed none. The page now reads `metrics.cv.ua.mean`
/// (app.js `speakerIndependentAccuracy`): check that the shipped manifest records it there and
/// that `/api/model` passes the manifest's metrics through unchanged.
#[test]
fn issue25_the_accuracy_the_page_reads_is_where_the_shipped_model_records_it() {
    let shipped =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/default/manifest.json");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&shipped).unwrap()).unwrap();
    let ua = manifest["metrics"]["cv"]["ua"]["mean"]
        .as_f64()
        .unwrap_or_else(|| panic!("no metrics.cv.ua.mean in {}", shipped.display()));
    assert!((0.125..1.0).contains(&ua), "{ua}");

    let s = TestServer::start(
        common::model::test_model_with_cv_ua(ua),
        ServerConfig::default(),
    );
    let (status, json) = get_json(&s, "/api/model");
    assert_eq!(status, 200);
    assert_eq!(
        json["metrics"]["cv"]["ua"]["mean"].as_f64(),
        Some(ua),
        "{json}"
    );
    let js = agent()
        .get(&s.url("/app.js"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        js.contains("cv.ua.mean"),
        "app.js does not read metrics.cv.ua.mean"
    );
}

/// Issue 27, item 4: a sine tone came back `angry` 99 %, white noise `disgust` 85 % and 10 ms
/// of speech `calm` 74 %. Each is now a successful answer (200) with `"speech": false`, no
/// emotion, no probabilities, the detector's measurements and a message saying why.
#[test]
fn issue27_tones_noise_and_a_few_ms_of_speech_are_no_speech() {
    let s = server();
    let tone: Vec<f32> = (0..48_000)
        .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16_000.0).sin())
        .collect();
    let mut state = 7_u32;
    let noise: Vec<f32> = (0..48_000)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            0.3 * ((state >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0)
        })
        .collect();
    let speech = speech_like(16_000, 3.0, 2);
    let ten_ms = speech[24_000..24_160].to_vec();
    for (name, samples) in [("tone", tone), ("noise", noise), ("10 ms", ten_ms)] {
        let (status, json) = post_audio(&s, &wav_bytes(&[samples], 16_000, WavFormat::Int(16)));
        assert_eq!(status, 200, "{name}: {json}");
        assert_eq!(json["speech"], false, "{name}: {json}");
        assert_eq!(json["silence"], false, "{name}: {json}");
        assert!(
            json["emotion"].is_null() && json["confidence"].is_null(),
            "{name}: {json}"
        );
        assert_eq!(json["probabilities"].as_object().unwrap().len(), 0);
        assert!(
            json["message"].as_str().unwrap().starts_with("no speech"),
            "{name}: {json}"
        );
        assert!(json["voice"]["reason"].is_string(), "{name}: {json}");
    }
    // Speech still is speech, with the detector's measurements beside the emotion.
    let (status, json) = post_audio(&s, &speech_wav(16_000, 3.0));
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["speech"], true, "{json}");
    assert!(
        json["voice"]["speech_secs"].as_f64().unwrap() > 0.25,
        "{json}"
    );
    assert_prediction_shape(&json, &labels());
}
