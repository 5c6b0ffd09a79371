//! The clip analysis (`ser_models::analysis`) with small hand-written models: windows, the
//! end of a clip (issue 25), refused windows, decoder refusals, and that one function answers
//! for every tool.
#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use std::sync::atomic::{AtomicUsize, Ordering};

use ravdess_loader::synth::{SynthConfig, clip_names, synthesize};
use ser_audio::Audio;
use ser_models::analysis::{AnalysisConfig, analyse, analyse_bytes};
use ser_models::{EmotionModel, ModelError, Prediction};

const RATE: u32 = 16_000;

fn labels() -> Vec<String> {
    vec!["plain".into(), "marked".into()]
}

/// Answers `marked` for a clip holding a sample of exactly [`MARK`] (the marker signal),
/// `plain` otherwise; counts the clips it is asked about.
struct MarkerModel {
    labels: Vec<String>,
    calls: AtomicUsize,
}

/// A value generated speech never takes exactly: the samples of the marked part.
const MARK: f32 = 0.312_5;

impl MarkerModel {
    fn new() -> Self {
        Self {
            labels: labels(),
            calls: AtomicUsize::new(0),
        }
    }
}

impl EmotionModel for MarkerModel {
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
            .map(|c| {
                let marked = c.samples.iter().any(|&s| s == MARK || s == -MARK);
                let p = if marked {
                    vec![0.1, 0.9]
                } else {
                    vec![0.8, 0.2]
                };
                Prediction::from_probabilities(&self.labels, p)
            })
            .collect()
    }
}

/// `secs` of generated speech (actor `actor`'s utterances one after another).
fn speech(secs: f64, actor: u8) -> Vec<f32> {
    let cfg = SynthConfig {
        actors: vec![actor],
        ..SynthConfig::default()
    };
    let n = (secs * f64::from(RATE)) as usize;
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

/// Issue 25: "the last 0.5 s of a 20 s clip is never classified". 19.5 s of silence, then
/// 0.5 s of speech whose loud samples are replaced by the marker: before the fix, the windows
/// stopped at 19.5 s, every window was silent and the answer was "silence".
#[test]
fn issue25_the_last_half_second_of_a_20_s_clip_is_classified() {
    let mut samples = vec![0.0; (19.5 * f64::from(RATE)) as usize];
    // The middle of an utterance (utterances start and end with a pause).
    let tail: Vec<f32> = speech(1.5, 5)[RATE as usize..(1.5 * f64::from(RATE)) as usize]
        .iter()
        .copied()
        .map(|s| if s.abs() > 0.05 { MARK * s.signum() } else { s })
        .collect();
    samples.extend(tail);
    let model = MarkerModel::new();
    let answer = analyse(
        &model,
        &Audio::new(samples, RATE),
        &AnalysisConfig::default(),
    )
    .unwrap();
    let last = answer.segments.last().unwrap();
    assert_eq!((last.start_secs, last.end_secs), (17.0, 20.0), "{answer:?}");
    assert!(last.speech, "{answer:?}");
    assert_eq!(last.emotion.as_deref(), Some("marked"), "{answer:?}");
    assert_eq!(answer.emotion.as_deref(), Some("marked"));
    assert!(answer.speech && !answer.silence);
    // Every other window is silent and was not sent to the model.
    assert!(
        answer.segments[..answer.segments.len() - 1]
            .iter()
            .all(|s| s.silence && s.emotion.is_none())
    );
    assert_eq!(model.calls.load(Ordering::Relaxed), 1);
}

/// Refuses (as the real Classifier does for clips its own trimming empties) any batch
/// holding a clip whose peak is below 0.2; otherwise answers [0.3, 0.7].
struct PickyModel(Vec<String>);

impl EmotionModel for PickyModel {
    fn labels(&self) -> &[String] {
        &self.0
    }
    fn sample_rate(&self) -> u32 {
        RATE
    }
    fn predict_batch(&self, clips: &[Audio]) -> Result<Vec<Prediction>, ModelError> {
        if clips
            .iter()
            .any(|c| c.samples.iter().fold(0.0_f32, |m, s| m.max(s.abs())) < 0.2)
        {
            return Err(ModelError::Input {
                reason: "too quiet".into(),
            });
        }
        clips
            .iter()
            .map(|_| Prediction::from_probabilities(&self.0, vec![0.3, 0.7]))
            .collect()
    }
}

fn tone(amplitude: f32, secs: usize) -> Vec<f32> {
    (0..RATE as usize * secs)
        .map(|i| amplitude * (i as f32 * 0.1).sin())
        .collect()
}

/// The windowing and refusal logic, with the speech detector off (a toy model of tones, not
/// a stand-in for real use: the detector would call these tones "no speech").
#[test]
fn a_refused_window_is_noted_not_fatal() {
    let model = PickyModel(labels());
    let config = AnalysisConfig {
        vad: None,
        ..AnalysisConfig::default()
    };
    // 5 s loud, then 5 s quiet but above the silence level.
    let mut samples = tone(0.5, 5);
    samples.extend(tone(0.05, 5));
    let answer = analyse(&model, &Audio::new(samples, RATE), &config).unwrap();
    assert_eq!(answer.emotion.as_deref(), Some("marked"));
    assert!(answer.speech && !answer.silence);
    let refused: Vec<_> = answer
        .segments
        .iter()
        .filter(|s| s.note.is_some())
        .collect();
    // Windows starting at 6.0 s and the end-aligned 7.0 s one lie in the quiet half.
    assert_eq!(refused.len(), 2, "{:?}", answer.segments);
    assert!(
        refused
            .iter()
            .all(|s| s.start_secs >= 5.0 && s.emotion.is_none())
    );
    assert!(answer.message.unwrap().contains("2 window(s) refused"));

    // All quiet: the whole request is refused with the model's reason.
    let quiet = Audio::new(tone(0.05, 10), RATE);
    let err = analyse(&model, &quiet, &config).unwrap_err();
    assert!(matches!(err, ModelError::Input { .. }), "{err}");
    assert_eq!(err.code(), "unusable_audio");
}

/// Long recordings classify only their speech: a tone between two stretches of speech is
/// skipped window by window, and the overall answer is the mean of the speech windows.
#[test]
fn only_the_speech_windows_of_a_long_recording_are_classified() {
    let mut samples = speech(6.0, 2);
    samples.extend(tone(0.3, 6));
    samples.extend(speech(6.0, 7));
    let model = MarkerModel::new();
    let answer = analyse(
        &model,
        &Audio::new(samples, RATE),
        &AnalysisConfig::default(),
    )
    .unwrap();
    assert!(answer.speech, "{answer:?}");
    let in_tone = |s: &ser_models::analysis::Segment| s.start_secs >= 6.0 && s.end_secs <= 12.0;
    let tone_windows: Vec<_> = answer.segments.iter().filter(|s| in_tone(s)).collect();
    assert!(!tone_windows.is_empty());
    for s in &tone_windows {
        assert!(!s.speech && s.emotion.is_none(), "{s:?}");
        assert!(s.note.as_deref().unwrap().starts_with("no speech"), "{s:?}");
    }
    let classified = answer
        .segments
        .iter()
        .filter(|s| s.emotion.is_some())
        .count();
    assert_eq!(model.calls.load(Ordering::Relaxed), classified);
    assert!(
        answer
            .message
            .as_deref()
            .unwrap()
            .contains("window(s) without speech skipped"),
        "{answer:?}"
    );
}

/// Issue 25, findings 3 and 7 (moved with the analysis from ser-web): what the decoder
/// refuses keeps its documented code, never a panic.
#[test]
fn decoder_refusals_keep_their_documented_codes() {
    let model = PickyModel(labels());
    let config = AnalysisConfig::default();
    let refusal = |bytes: &[u8]| {
        let e = analyse_bytes(&model, bytes, &config).unwrap_err();
        (e.code(), e.to_string())
    };
    let wav16 = |n: usize| ser_audio::encode_wav_16(&Audio::new(vec![0.5; n], RATE)).unwrap();
    // A header with no samples (44 bytes): no_samples, not corrupt_audio.
    let header_only = wav16(0);
    assert_eq!(header_only.len(), 44);
    assert_eq!(refusal(&header_only).0, "no_samples");
    // A-law (format tag 6, 8 bits): unsupported_format, no `<bytes>` placeholder.
    let mut alaw = wav16(32);
    alaw[20..22].copy_from_slice(&6u16.to_le_bytes());
    alaw[32..34].copy_from_slice(&1u16.to_le_bytes());
    alaw[34..36].copy_from_slice(&8u16.to_le_bytes());
    let (code, msg) = refusal(&alaw);
    assert_eq!(code, "unsupported_format", "{msg}");
    assert!(msg.contains("A-law") && !msg.contains('<'), "{msg}");
    // Text is not audio.
    assert_eq!(refusal(b"just some text").0, "unsupported_format");
}

#[test]
fn a_bad_config_is_refused_by_field() {
    let model = PickyModel(labels());
    let audio = Audio::new(tone(0.5, 1), RATE);
    for (config, field) in [
        (
            AnalysisConfig {
                segment_secs: 0.0,
                ..AnalysisConfig::default()
            },
            "segment_secs",
        ),
        (
            AnalysisConfig {
                timeline_after_secs: f64::NAN,
                ..AnalysisConfig::default()
            },
            "timeline_after_secs",
        ),
        (
            AnalysisConfig {
                max_duration_secs: Some(-1.0),
                ..AnalysisConfig::default()
            },
            "max_duration_secs",
        ),
    ] {
        let err = analyse(&model, &audio, &config).unwrap_err().to_string();
        assert!(err.contains(field), "{err}");
    }
}
