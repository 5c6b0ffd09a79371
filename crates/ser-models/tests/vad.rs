//! Issue 27, item 4: "no speech" for what is not speech, and speech still classified.
//!
//! - a generated non-speech set (tones, sweeps, noise, clicks, hum, music-like sounds,
//!   near-silence, clips too short for speech): every one answered "no speech", and the model
//!   is never asked;
//! - the generated speech corpus (`ravdess_loader::synth`, the voice of the test suite): every
//!   clip of four actors (240 clips, all emotions) is speech and classified;
//! - real speech (skipped unless `SER_RAVDESS_DIR` / `SER_EMODB_DIR` name a folder of WAVs):
//!   every clip is speech and classified.
//!
//! Everything goes through `analyse` with the default config, as `ser-web` and `ser-predict`
//! do; the model is a counter that answers a fixed distribution, since the question here is
//! whether the model is asked at all.
#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use std::f32::consts::PI;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use ravdess_loader::synth::{SynthConfig, clip_names, synthesize};
use ser_audio::Audio;
use ser_audio::rng::SplitMix64;
use ser_models::analysis::{Analysis, AnalysisConfig, analyse};
use ser_models::{EmotionModel, ModelError, Prediction};

const RATE: u32 = 16_000;

/// Answers "calm" 74 % (what the shipped model said for 10 ms of speech) and counts clips.
struct Counter {
    labels: Vec<String>,
    calls: AtomicUsize,
}

impl Counter {
    fn new() -> Self {
        Self {
            labels: vec!["calm".into(), "angry".into()],
            calls: AtomicUsize::new(0),
        }
    }
}

impl EmotionModel for Counter {
    fn labels(&self) -> &[String] {
        &self.labels
    }
    fn sample_rate(&self) -> u32 {
        RATE
    }
    fn predict_batch(&self, clips: &[Audio]) -> Result<Vec<Prediction>, ModelError> {
        self.calls.fetch_add(clips.len(), Ordering::Relaxed);
        clips
            .iter()
            .map(|_| Prediction::from_probabilities(&self.labels, vec![0.74, 0.26]))
            .collect()
    }
}

fn seconds(secs: f32) -> usize {
    (secs * RATE as f32) as usize
}

fn sine(freq: f32, secs: f32, amp: f32) -> Vec<f32> {
    (0..seconds(secs))
        .map(|i| amp * (2.0 * PI * freq * i as f32 / RATE as f32).sin())
        .collect()
}

/// A logarithmic sweep from `f0` to `f1` Hz.
fn sweep(f0: f32, f1: f32, secs: f32) -> Vec<f32> {
    let n = seconds(secs);
    let mut phase = 0.0_f32;
    (0..n)
        .map(|i| {
            let f = f0 * (f1 / f0).powf(i as f32 / n as f32);
            phase += 2.0 * PI * f / RATE as f32;
            0.5 * phase.sin()
        })
        .collect()
}

fn white(secs: f32, amp: f32, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed);
    (0..seconds(secs))
        .map(|_| amp * (2.0 * rng.next_f64() as f32 - 1.0))
        .collect()
}

/// Pink (1/f) noise by Paul Kellet's filter of white noise ("refined" version, as in
/// musicdsp.org's "Filters for white noise to pink noise").
fn pink(secs: f32, seed: u64) -> Vec<f32> {
    let mut b = [0.0_f32; 7];
    white(secs, 1.0, seed)
        .into_iter()
        .map(|w| {
            b[0] = 0.99886 * b[0] + w * 0.055_517_9;
            b[1] = 0.99332 * b[1] + w * 0.075_075_9;
            b[2] = 0.96900 * b[2] + w * 0.153_852;
            b[3] = 0.86650 * b[3] + w * 0.310_485_6;
            b[4] = 0.55000 * b[4] + w * 0.532_952_2;
            b[5] = -0.7616 * b[5] - w * 0.016_898;
            let p = b[..6].iter().sum::<f32>() + b[6] + w * 0.5362;
            b[6] = w * 0.115_926;
            0.1 * p
        })
        .collect()
}

/// `per_sec` clicks (1 ms pulses) a second; amplitudes drawn from 0.2-1 unless `steady`.
fn clicks(per_sec: usize, secs: f32, steady: bool) -> Vec<f32> {
    let mut rng = SplitMix64::new(per_sec as u64);
    let period = RATE as usize / per_sec;
    let mut amp = 0.9;
    (0..seconds(secs))
        .map(|i| {
            if i % period == 0 && !steady {
                amp = 0.2 + 0.8 * rng.next_f64() as f32;
            }
            if i % period < 16 { amp } else { 0.0 }
        })
        .collect()
}

/// Harmonic notes (`harmonics` partials falling as 1/h) `note_secs` long from a C major scale,
/// each with `decay` (1/s) exponential decay: plucked strings for a large decay, an organ for 0.
fn melody(note_secs: f32, harmonics: usize, decay: f32, vibrato: f32, secs: f32) -> Vec<f32> {
    const SCALE: [f32; 8] = [261.6, 293.7, 329.6, 349.2, 392.0, 440.0, 493.9, 523.3];
    let mut phase = 0.0_f32;
    (0..seconds(secs))
        .map(|i| {
            let t = i as f32 / RATE as f32;
            let note = (t / note_secs) as usize % SCALE.len();
            let f = SCALE[note] * (1.0 + vibrato * (2.0 * PI * 5.5 * t).sin());
            phase += 2.0 * PI * f / RATE as f32;
            let env = (-(t % note_secs) * decay).exp();
            let v: f32 = (1..=harmonics)
                .map(|h| (phase * h as f32).sin() / h as f32)
                .sum();
            0.25 * env * v
        })
        .collect()
}

/// A C major chord of harmonic tones with a slight vibrato, held.
fn chord(secs: f32) -> Vec<f32> {
    (0..seconds(secs))
        .map(|i| {
            let t = i as f32 / RATE as f32;
            let v: f32 = [261.6_f32, 329.6, 392.0]
                .iter()
                .flat_map(|f| (1..6).map(move |h| (f, h as f32)))
                .map(|(f, h)| {
                    let wobble = 1.0 + 0.003 * (2.0 * PI * 5.0 * t).sin();
                    (2.0 * PI * f * h * t * wobble).sin() / h
                })
                .sum();
            0.1 * v
        })
        .collect()
}

/// Noise bursts decaying at 30/s, `per_sec` a second (a drum machine).
fn drum_bursts(per_sec: f32, secs: f32) -> Vec<f32> {
    white(secs, 0.5, 9)
        .into_iter()
        .enumerate()
        .map(|(i, w)| {
            let t = (i as f32 / RATE as f32 * per_sec).fract() / per_sec;
            w * (-t * 30.0).exp()
        })
        .collect()
}

/// Mains hum: 50 Hz and its harmonics, as a badly earthed microphone picks up.
fn hum(secs: f32) -> Vec<f32> {
    (0..seconds(secs))
        .map(|i| {
            let t = i as f32 / RATE as f32;
            (1..8)
                .map(|h| 0.2 / h as f32 * (2.0 * PI * 50.0 * h as f32 * t).sin())
                .sum()
        })
        .collect()
}

/// A clip of generated speech (actor 3, angry, strong) cut to its middle `secs`.
fn speech_excerpt(secs: f32) -> Vec<f32> {
    let cfg = SynthConfig::default();
    let name = clip_names(3)[40];
    let samples = synthesize(&cfg, &name).samples;
    let mid = samples.len() / 2;
    samples[mid..mid + seconds(secs).max(1)].to_vec()
}

fn non_speech_set() -> Vec<(String, Vec<f32>)> {
    let mut set: Vec<(String, Vec<f32>)> = Vec::new();
    for f in [100.0, 220.0, 440.0, 1000.0, 3000.0, 6000.0] {
        set.push((format!("{f} Hz tone"), sine(f, 3.0, 0.5)));
    }
    set.push(("440 Hz tone, quiet".into(), sine(440.0, 3.0, 0.01)));
    for (f0, f1) in [(100.0, 4000.0), (200.0, 800.0), (50.0, 7000.0)] {
        set.push((format!("sweep {f0}-{f1} Hz"), sweep(f0, f1, 3.0)));
    }
    set.push(("white noise".into(), white(3.0, 0.3, 7)));
    set.push(("pink noise".into(), pink(3.0, 8)));
    for per_sec in [2, 4, 10, 50] {
        set.push((format!("{per_sec} clicks/s"), clicks(per_sec, 3.0, true)));
        set.push((
            format!("{per_sec} clicks/s, random level"),
            clicks(per_sec, 3.0, false),
        ));
    }
    set.push(("drum bursts 2/s".into(), drum_bursts(2.0, 3.0)));
    set.push(("mains hum".into(), hum(3.0)));
    set.push(("held chord".into(), chord(3.0)));
    set.push(("organ melody".into(), melody(0.5, 11, 0.0, 0.01, 3.0)));
    set.push(("plucked melody".into(), melody(0.25, 7, 3.0, 0.0, 3.0)));
    set.push((
        "near-silence: noise at -70 dBFS".into(),
        white(3.0, 5.5e-4, 3),
    ));
    set.push((
        "near-silence: noise at -50 dBFS".into(),
        white(3.0, 5.5e-3, 4),
    ));
    set.push(("digital silence".into(), vec![0.0; seconds(3.0)]));
    for ms in [10.0, 100.0, 200.0] {
        set.push((format!("{ms} ms of speech"), speech_excerpt(ms / 1000.0)));
    }
    // A long one: 12 s of noise then tone, through the timeline.
    let mut long = white(6.0, 0.3, 5);
    long.extend(sine(440.0, 6.0, 0.5));
    set.push(("12 s of noise then a tone (timeline)".into(), long));
    set
}

fn judge(model: &Counter, samples: Vec<f32>) -> Analysis {
    analyse(
        model,
        &Audio::new(samples, RATE),
        &AnalysisConfig::default(),
    )
    .unwrap()
}

#[test]
fn issue27_non_speech_gets_no_speech_and_no_emotion() {
    let model = Counter::new();
    let mut wrong = Vec::new();
    for (name, samples) in non_speech_set() {
        let a = judge(&model, samples);
        if a.speech || a.emotion.is_some() || !a.probabilities.is_empty() {
            wrong.push(format!("{name}: {a:?}"));
        }
        let message = a.message.clone().unwrap_or_default();
        if !message.starts_with("no speech") {
            wrong.push(format!("{name}: message {message:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "answered as speech:\n{}",
        wrong.join("\n")
    );
    assert_eq!(
        model.calls.load(Ordering::Relaxed),
        0,
        "the model was asked"
    );
}

#[test]
fn issue27_generated_speech_is_still_classified() {
    let model = Counter::new();
    let cfg = SynthConfig::default();
    let mut missed = Vec::new();
    let mut n = 0;
    for actor in [1, 6, 13, 24] {
        for name in clip_names(actor) {
            let a = judge(&model, synthesize(&cfg, &name).samples);
            n += 1;
            if !a.speech || a.emotion.is_none() {
                missed.push(format!("{name}: {:?}", a.voice));
            }
        }
    }
    assert_eq!(n, 240);
    assert!(
        missed.is_empty(),
        "no speech found in:\n{}",
        missed.join("\n")
    );
    assert_eq!(model.calls.load(Ordering::Relaxed), n);
}

fn wav_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav")) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every WAV under `$var` is speech and classified; prints the count. Skips (loudly) when the
/// variable is unset.
fn every_real_clip_is_speech(var: &str) {
    let Some(dir) = std::env::var_os(var) else {
        eprintln!("SKIPPED: set {var} to a folder of speech WAVs to run this test");
        return;
    };
    let files = wav_files(Path::new(&dir));
    assert!(!files.is_empty(), "no WAV under {}", dir.to_string_lossy());
    let model = Counter::new();
    let mut missed = Vec::new();
    for f in &files {
        let audio = ser_audio::read_wav(f).unwrap();
        let a = analyse(&model, &audio, &AnalysisConfig::default()).unwrap();
        if !a.speech || a.emotion.is_none() {
            missed.push(format!("{}: {:?} {:?}", f.display(), a.message, a.voice));
        }
    }
    eprintln!(
        "{var}: speech detected and classified in {} of {} clips",
        files.len() - missed.len(),
        files.len()
    );
    assert!(
        missed.is_empty(),
        "no speech found in:\n{}",
        missed.join("\n")
    );
}

#[test]
fn issue27_every_real_ravdess_clip_is_speech() {
    every_real_clip_is_speech("SER_RAVDESS_DIR");
}

#[test]
fn issue27_every_real_emodb_clip_is_speech() {
    every_real_clip_is_speech("SER_EMODB_DIR");
}
