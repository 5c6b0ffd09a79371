//! [`analyse`]: checks, silence, speech, and the whole-clip or windowed classification.

use std::collections::BTreeMap;

use ser_audio::checks::{self, SILENCE_RMS_DBFS, rms_dbfs};
use ser_audio::{Audio, DecodeLimits};

use super::answer::{Analysis, Segment};
use super::config::AnalysisConfig;
use super::vad::{VAD_SAMPLE_RATE, VoiceDetector};
use super::windows::windows;
use crate::emotion_model::EmotionModel;
use crate::error::{ModelError, Result};

/// Length of the frames the silence test looks at (16 ms, the speech detector's frame).
const SILENCE_FRAME_SECS: f64 = 0.016;

/// Decodes `bytes` ([`ser_audio::decode`], within `config.max_duration_secs`) and
/// [`analyse`]s them; damaged packets the decoder skipped are reported in
/// [`Analysis::warnings`].
///
/// # Errors
///
/// [`ModelError::Audio`] for input that does not decode (its [`ser_audio::Error::code`] says
/// why), otherwise as [`analyse`].
pub fn analyse_bytes(
    model: &dyn EmotionModel,
    bytes: &[u8],
    config: &AnalysisConfig,
) -> Result<Analysis> {
    let decoded = ser_audio::decode(
        bytes,
        &DecodeLimits::with_max_secs(config.max_duration_secs),
    )?;
    let mut answer = analyse(model, &decoded.audio, config)?;
    answer.warnings.extend(decoded.warning());
    Ok(answer)
}

/// The answer for one clip at its own sample rate (see the [module docs](super)).
///
/// # Errors
///
/// [`ModelError::Invalid`] for a bad `config`; [`ModelError::Audio`] when the clip fails its
/// checks (non-finite samples, unsupported rate, too long) or cannot be resampled;
/// [`ModelError::Input`] when the model cannot use the clip (or any speech window of it);
/// other errors of the model as they come.
pub fn analyse(
    model: &dyn EmotionModel,
    audio: &Audio,
    config: &AnalysisConfig,
) -> Result<Analysis> {
    config.validate()?;
    checks::check_audio(audio, config.max_duration_secs)?;
    let level = rms_dbfs(&audio.samples);
    let mut answer = Analysis {
        emotion: None,
        confidence: None,
        probabilities: BTreeMap::new(),
        labels: model.labels().to_vec(),
        speech: false,
        silence: false,
        message: None,
        duration_secs: audio.duration_secs(),
        sample_rate: audio.sample_rate,
        rms_dbfs: level.is_finite().then_some(level),
        voice: None,
        segments: Vec::new(),
        warnings: Vec::new(),
    };
    if is_silent(&audio.samples, audio.sample_rate) {
        answer.silence = true;
        answer.message = Some(format!(
            "no speech: the recording is silent (even its loudest 16 ms are below {} dBFS; \
             {}); check the microphone or the file",
            SILENCE_RMS_DBFS,
            if level.is_finite() {
                format!("RMS {level:.1} dBFS")
            } else {
                "digital zero".to_string()
            },
        ));
        return Ok(answer);
    }
    let detector = config.vad.map(VoiceDetector::new).transpose()?;
    let clip = Clip::new(audio, model.sample_rate(), detector.is_some())?;
    if let Some(d) = &detector {
        answer.voice = Some(d.detect(&clip.vad));
    }
    if answer.duration_secs <= config.timeline_after_secs {
        classify_whole(model, &clip, &mut answer)?;
    } else {
        classify_windows(model, &clip, detector.as_ref(), config, &mut answer)?;
    }
    Ok(answer)
}

/// Runs one prediction on a second of a quiet 220 Hz tone (straight to the model, no speech
/// detector), so that a broken weights file shows at start-up rather than on the first
/// request, and the first request is as fast as the others.
///
/// # Errors
///
/// Whatever the model's [`EmotionModel::predict_batch`] returns.
pub fn warm_up(model: &dyn EmotionModel) -> Result<()> {
    let rate = model.sample_rate();
    let tone: Vec<f32> = (0..rate)
        .map(|i| 0.1 * (2.0 * std::f32::consts::PI * 220.0 * i as f32 / rate as f32).sin())
        .collect();
    model.predict_batch(&[Audio::new(tone, rate)]).map(|_| ())
}

/// True when even the loudest 16 ms frame of `samples` is below [`SILENCE_RMS_DBFS`].
///
/// The loudest frame rather than the whole clip's RMS: 13 of RAVDESS's 1200 speech clips
/// (actors 01-20, at 16 kHz) are below -60 dBFS RMS over their length (quiet actors between
/// long pauses), but none has its loudest 16 ms below -54 dBFS.
fn is_silent(samples: &[f32], rate: u32) -> bool {
    let frame = ((SILENCE_FRAME_SECS * f64::from(rate)).round() as usize).max(1);
    let loudest = samples
        .chunks(frame)
        .map(|c| c.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / c.len() as f64)
        .fold(0.0_f64, f64::max);
    loudest <= 0.0 || 10.0 * loudest.log10() < f64::from(SILENCE_RMS_DBFS)
}

/// The clip resampled once for the model and once (when needed) for the speech detector.
struct Clip {
    /// At the model's rate.
    model: Audio,
    /// At [`VAD_SAMPLE_RATE`] (empty when the detector is off).
    vad: Vec<f32>,
}

impl Clip {
    fn new(audio: &Audio, model_rate: u32, with_vad: bool) -> Result<Self> {
        let at = |rate: u32| -> Result<Audio> {
            Ok(if audio.sample_rate == rate {
                audio.clone()
            } else {
                ser_audio::resample(audio, rate)?
            })
        };
        let model = at(model_rate)?;
        let vad = match (with_vad, model_rate == VAD_SAMPLE_RATE) {
            (false, _) => Vec::new(),
            (true, true) => model.samples.clone(),
            (true, false) => at(VAD_SAMPLE_RATE)?.samples,
        };
        Ok(Self { model, vad })
    }

    /// The detector's samples for model-rate samples `start..end`.
    fn vad_slice(&self, start: usize, end: usize) -> &[f32] {
        let scale = |i: usize| {
            let t = i as f64 / f64::from(self.model.sample_rate);
            ((t * f64::from(VAD_SAMPLE_RATE)).round() as usize).min(self.vad.len())
        };
        &self.vad[scale(start)..scale(end)]
    }
}

/// A short clip: one prediction, unless the detector heard no speech.
fn classify_whole(model: &dyn EmotionModel, clip: &Clip, answer: &mut Analysis) -> Result<()> {
    if let Some(reason) = answer.voice.as_ref().and_then(|v| v.reason) {
        answer.message = Some(format!("no speech: {}", reason.explain()));
        return Ok(());
    }
    let prediction = model
        .predict_batch(std::slice::from_ref(&clip.model))?
        .into_iter()
        .next()
        .ok_or_else(|| ModelError::Input {
            reason: "the model returned no prediction".into(),
        })?;
    fill_overall(answer, &prediction.probabilities, None);
    Ok(())
}

/// What happens to one window of the timeline.
enum Plan {
    Silent,
    NoSpeech(String),
    /// Classified: the index of its clip in the batch.
    Classify(usize),
}

/// A long clip: windows judged one by one, speech windows classified in one batch.
fn classify_windows(
    model: &dyn EmotionModel,
    clip: &Clip,
    detector: Option<&VoiceDetector>,
    config: &AnalysisConfig,
    answer: &mut Analysis,
) -> Result<()> {
    let rate = clip.model.sample_rate;
    let win = ((config.segment_secs * f64::from(rate)).round() as usize).max(1);
    let bounds = windows(clip.model.samples.len(), win);
    let mut clips = Vec::new();
    let plans: Vec<Plan> = bounds
        .iter()
        .map(|&(s, e)| {
            let slice = &clip.model.samples[s..e];
            if is_silent(slice, rate) {
                return Plan::Silent;
            }
            if let Some(reason) = detector.and_then(|d| d.detect(clip.vad_slice(s, e)).reason) {
                return Plan::NoSpeech(reason.explain().to_string());
            }
            clips.push(Audio::new(slice.to_vec(), rate));
            Plan::Classify(clips.len() - 1)
        })
        .collect();
    let mut results = predict_each(model, &clips)?;

    let labels = answer.labels.clone();
    let mut sum = vec![0.0_f32; labels.len()];
    let (mut classified, mut refused, mut no_speech) = (0usize, Vec::new(), Vec::new());
    for (&(s, e), plan) in bounds.iter().zip(&plans) {
        let mut segment = Segment {
            start_secs: s as f64 / f64::from(rate),
            end_secs: e as f64 / f64::from(rate),
            emotion: None,
            confidence: None,
            probabilities: BTreeMap::new(),
            silence: false,
            speech: true,
            note: None,
        };
        match plan {
            Plan::Silent => {
                segment.silence = true;
                segment.speech = false;
            }
            Plan::NoSpeech(reason) => {
                segment.speech = false;
                segment.note = Some(format!("no speech: {reason}"));
                no_speech.push(reason.clone());
            }
            Plan::Classify(i) => match std::mem::replace(&mut results[*i], Ok(Vec::new())) {
                Ok(probs) => {
                    for (acc, p) in sum.iter_mut().zip(&probs) {
                        *acc += p;
                    }
                    classified += 1;
                    let best = argmax(&probs);
                    segment.emotion = best.and_then(|i| labels.get(i).cloned());
                    segment.confidence = best.and_then(|i| probs.get(i).copied());
                    segment.probabilities = to_map(&labels, &probs);
                }
                Err(reason) => {
                    segment.note = Some(format!("the model cannot use this window: {reason}"));
                    refused.push(reason);
                }
            },
        }
        answer.segments.push(segment);
    }
    if classified == 0 {
        return no_window_classified(answer, &refused, &no_speech);
    }
    let mean: Vec<f32> = sum.iter().map(|s| s / classified as f32).collect();
    let mut note = format!(
        "overall = mean of {classified} speech window(s) of {:.1} s (hop {:.1} s)",
        config.segment_secs,
        config.segment_secs / 2.0,
    );
    let silent = plans.iter().filter(|p| matches!(p, Plan::Silent)).count();
    for (k, what) in [
        (silent, "silent window(s) skipped"),
        (no_speech.len(), "window(s) without speech skipped"),
        (refused.len(), "window(s) refused by the model"),
    ] {
        if k > 0 {
            note.push_str(&format!("; {k} {what}"));
        }
    }
    fill_overall(answer, &mean, Some(note));
    Ok(())
}

/// Every clip's probabilities, in one batch; if the model refuses the batch because of a clip
/// ([`ModelError::Input`]), clip by clip, so that one unusable window does not sink the whole
/// timeline (a refused clip gets the model's reason).
fn predict_each(
    model: &dyn EmotionModel,
    clips: &[Audio],
) -> Result<Vec<std::result::Result<Vec<f32>, String>>> {
    if clips.is_empty() {
        return Ok(Vec::new());
    }
    let fewer = || ModelError::Input {
        reason: "the model returned fewer predictions than clips".into(),
    };
    match model.predict_batch(clips) {
        Ok(ps) if ps.len() == clips.len() => {
            Ok(ps.into_iter().map(|p| Ok(p.probabilities)).collect())
        }
        Ok(_) => Err(fewer()),
        Err(ModelError::Input { .. }) => clips
            .iter()
            .map(
                |clip| match model.predict_batch(std::slice::from_ref(clip)) {
                    Ok(mut ps) => ps.pop().map(|p| Ok(p.probabilities)).ok_or_else(fewer),
                    Err(ModelError::Input { reason }) => Ok(Err(reason)),
                    Err(e) => Err(e),
                },
            )
            .collect(),
        Err(e) => Err(e),
    }
}

/// The answer when no window was classified: no speech anywhere (a successful answer), or
/// the model refused every speech window (an error with its first reason).
fn no_window_classified(
    answer: &mut Analysis,
    refused: &[String],
    no_speech: &[String],
) -> Result<()> {
    if let Some(first) = refused.first() {
        return Err(ModelError::Input {
            reason: format!("no window of the clip is usable: {first}"),
        });
    }
    answer.silence = answer.segments.iter().all(|s| s.silence);
    answer.message = Some(match no_speech.first() {
        None => "no speech: every window is below the silence level".to_string(),
        Some(reason) => format!("no speech in any window (e.g. {reason})"),
    });
    Ok(())
}

fn fill_overall(answer: &mut Analysis, probs: &[f32], note: Option<String>) {
    let best = argmax(probs);
    answer.emotion = best.and_then(|i| answer.labels.get(i).cloned());
    answer.confidence = best.and_then(|i| probs.get(i).copied());
    answer.probabilities = to_map(&answer.labels, probs);
    answer.speech = answer.emotion.is_some();
    answer.message = note;
}

fn to_map(labels: &[String], probs: &[f32]) -> BTreeMap<String, f32> {
    labels.iter().cloned().zip(probs.iter().copied()).collect()
}

/// Index of the largest finite probability (the last of equals, as before the move from
/// ser-web); `None` when there is none.
fn argmax(probs: &[f32]) -> Option<usize> {
    probs
        .iter()
        .enumerate()
        .filter(|(_, p)| p.is_finite())
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
}
