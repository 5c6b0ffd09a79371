//! From checked audio to an answer: overall emotion, class probabilities, silence detection,
//! and a timeline of sliding windows for long recordings. Shared by the server and
//! `ser-predict`, so both answer identically.

use std::collections::BTreeMap;

use ser_audio::checks::{self, rms_dbfs};
use ser_audio::{Audio, DecodeLimits};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::EmotionModel;

/// How a clip is cut into a timeline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AnalysisConfig {
    /// Window length in seconds; windows overlap by half (hop = `segment_secs / 2`).
    ///
    /// 3 s by default: RAVDESS utterances, which the models are trained on, last 3-5 s.
    pub segment_secs: f64,
    /// Clips longer than this get a timeline and their overall answer is the mean of the
    /// windows' probabilities; shorter clips are classified whole. `f64::INFINITY` = never.
    pub timeline_after_secs: f64,
    /// Reject clips longer than this many seconds (`None` = no limit).
    pub max_duration_secs: Option<f64>,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self {
            segment_secs: 3.0,
            timeline_after_secs: 6.0,
            max_duration_secs: Some(60.0),
        }
    }
}

/// One window of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// Start, seconds from the beginning of the clip.
    pub start_secs: f64,
    /// End (exclusive), seconds.
    pub end_secs: f64,
    /// Most probable emotion; `None` when the window is silent.
    pub emotion: Option<String>,
    /// Probability of `emotion`.
    pub confidence: Option<f32>,
    /// Label -> probability (empty for a silent window).
    pub probabilities: BTreeMap<String, f32>,
    /// The window is below the silence threshold and was not classified.
    pub silence: bool,
    /// Why a loud window has no emotion (the model refused it, e.g. nothing was left after
    /// the model's own silence trimming); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The answer for one clip (the JSON body of `POST /api/predict`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// Most probable emotion; `None` (JSON `null`) for silence.
    pub emotion: Option<String>,
    /// Probability of `emotion`.
    pub confidence: Option<f32>,
    /// Label -> probability; empty for silence.
    pub probabilities: BTreeMap<String, f32>,
    /// The model's labels in its own order (the order the page draws bars in).
    pub labels: Vec<String>,
    /// True when the whole clip is below the silence threshold.
    pub silence: bool,
    /// A human-readable note (why there is no emotion, how the overall answer was formed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Clip length in seconds.
    pub duration_secs: f64,
    /// The upload's own sample rate (before resampling to the model's).
    pub sample_rate: u32,
    /// RMS level of the clip in dBFS (`None` for digital silence).
    pub rms_dbfs: Option<f32>,
    /// Timeline windows (empty for short clips).
    pub segments: Vec<Segment>,
    /// What the user should know about the input, e.g. "12 of 170 MP3 frames are damaged and
    /// were skipped" (absent when there is nothing to say).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Window bounds `(start, end)` in samples for a clip of `len` samples.
///
/// Windows of `win` samples every `win / 2`; a last window is aligned to the clip's end when
/// the regular grid leaves more than a quarter window uncovered, so the tail is never dropped.
/// A clip shorter than one window is one window.
pub fn windows(len: usize, win: usize) -> Vec<(usize, usize)> {
    let win = win.max(1);
    if len <= win {
        return vec![(0, len)];
    }
    let hop = (win / 2).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start + win <= len {
        out.push((start, start + win));
        start += hop;
    }
    let covered = out.last().map_or(0, |&(_, e)| e);
    if len - covered > win / 4 {
        out.push((len - win, len));
    }
    out
}

fn to_map(labels: &[String], probs: &[f32]) -> BTreeMap<String, f32> {
    labels.iter().cloned().zip(probs.iter().copied()).collect()
}

fn argmax(probs: &[f32]) -> Option<usize> {
    probs
        .iter()
        .enumerate()
        .filter(|(_, p)| p.is_finite())
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
}

/// Decodes `bytes` and analyses them: [`ser_audio::decode`] (within the duration limit), then
/// [`analyse`]. Damaged packets the decoder skipped are logged once and reported in
/// [`Analysis::warnings`].
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
    if let Some(warning) = decoded.warning() {
        tracing::warn!(
            damaged = decoded.damaged_packets,
            packets = decoded.packets,
            "{warning}"
        );
        answer.warnings.push(warning);
    }
    Ok(answer)
}

/// Checks, resamples and classifies one clip at its native rate.
pub fn analyse(
    model: &dyn EmotionModel,
    audio: &Audio,
    config: &AnalysisConfig,
) -> Result<Analysis> {
    checks::check_audio(audio, config.max_duration_secs)?;
    let labels = model.labels().to_vec();
    let duration_secs = audio.duration_secs();
    let level = rms_dbfs(&audio.samples);
    let mut answer = Analysis {
        emotion: None,
        confidence: None,
        probabilities: BTreeMap::new(),
        labels: labels.clone(),
        silence: false,
        message: None,
        duration_secs,
        sample_rate: audio.sample_rate,
        rms_dbfs: level.is_finite().then_some(level),
        segments: Vec::new(),
        warnings: Vec::new(),
    };
    if checks::is_silent(&audio.samples) {
        answer.silence = true;
        answer.message = Some(format!(
            "no speech: the recording is silent ({} below the {} dBFS threshold); check the \
             microphone or the file",
            if level.is_finite() {
                format!("RMS {level:.1} dBFS,")
            } else {
                "digital zero,".to_string()
            },
            checks::SILENCE_RMS_DBFS
        ));
        return Ok(answer);
    }

    // Resample once, then cut windows at the model's rate.
    let rate = model.sample_rate();
    let audio = if audio.sample_rate == rate {
        audio.clone()
    } else {
        ser_audio::resample(audio, rate)?
    };

    if duration_secs <= config.timeline_after_secs {
        let probs = model
            .predict_batch(std::slice::from_ref(&audio))?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Model {
                detail: "the model returned no prediction".into(),
            })?;
        fill_overall(&mut answer, &labels, &probs, None);
        return Ok(answer);
    }

    let win = ((config.segment_secs * f64::from(rate)).round() as usize).max(1);
    let bounds = windows(audio.samples.len(), win);
    let mut loud = Vec::new();
    let mut clips = Vec::new();
    for &(s, e) in &bounds {
        let slice = &audio.samples[s..e];
        let silent = checks::is_silent(slice);
        loud.push(!silent);
        if !silent {
            clips.push(Audio::new(slice.to_vec(), rate));
        }
    }
    // One batch; if the model refuses a clip, redo them one by one so a single unusable window
    // does not sink the whole timeline.
    let results: Vec<std::result::Result<Vec<f32>, String>> = match model.predict_batch(&clips) {
        Ok(ps) => ps.into_iter().map(Ok).collect(),
        Err(Error::Unusable { .. }) => {
            let mut out = Vec::with_capacity(clips.len());
            for clip in &clips {
                match model.predict_batch(std::slice::from_ref(clip)) {
                    Ok(mut ps) => out.push(ps.pop().ok_or_else(|| "no prediction".to_string())),
                    Err(Error::Unusable { detail }) => out.push(Err(detail)),
                    Err(e) => return Err(e),
                }
            }
            out
        }
        Err(e) => return Err(e),
    };
    let mut probs_iter = results.into_iter();
    let mut sum = vec![0.0_f32; labels.len()];
    let mut n_loud = 0usize;
    let mut refused: Vec<String> = Vec::new();
    for (&(s, e), &is_loud) in bounds.iter().zip(&loud) {
        let start_secs = s as f64 / f64::from(rate);
        let end_secs = e as f64 / f64::from(rate);
        if !is_loud {
            answer.segments.push(Segment {
                start_secs,
                end_secs,
                emotion: None,
                confidence: None,
                probabilities: BTreeMap::new(),
                silence: true,
                note: None,
            });
            continue;
        }
        let probs = match probs_iter.next().ok_or_else(|| Error::Model {
            detail: "the model returned fewer predictions than windows".into(),
        })? {
            Ok(p) => p,
            Err(reason) => {
                refused.push(reason.clone());
                answer.segments.push(Segment {
                    start_secs,
                    end_secs,
                    emotion: None,
                    confidence: None,
                    probabilities: BTreeMap::new(),
                    silence: false,
                    note: Some(format!("the model cannot use this window: {reason}")),
                });
                continue;
            }
        };
        for (acc, p) in sum.iter_mut().zip(&probs) {
            *acc += p;
        }
        n_loud += 1;
        let best = argmax(&probs);
        answer.segments.push(Segment {
            start_secs,
            end_secs,
            emotion: best.and_then(|i| labels.get(i).cloned()),
            confidence: best.and_then(|i| probs.get(i).copied()),
            probabilities: to_map(&labels, &probs),
            silence: false,
            note: None,
        });
    }
    // The whole clip is loud enough, so at least one window is too (a window's mean square
    // cannot be below the clip's everywhere); guard anyway rather than divide by zero.
    if n_loud == 0 && !refused.is_empty() {
        return Err(Error::Unusable {
            detail: format!("no window of the clip is usable: {}", refused[0]),
        });
    }
    if n_loud == 0 {
        answer.silence = true;
        answer.message = Some("no speech: every window is below the silence threshold".into());
        return Ok(answer);
    }
    let mean: Vec<f32> = sum.iter().map(|s| s / n_loud as f32).collect();
    let note = format!(
        "overall = mean of {n_loud} window(s) of {:.1} s (hop {:.1} s){}",
        config.segment_secs,
        config.segment_secs / 2.0,
        match bounds.len() - n_loud - refused.len() {
            0 => String::new(),
            k => format!("; {k} silent window(s) skipped"),
        },
    );
    let note = if refused.is_empty() {
        note
    } else {
        format!("{note}; {} window(s) refused by the model", refused.len())
    };
    fill_overall(&mut answer, &labels, &mean, Some(note));
    Ok(answer)
}

fn fill_overall(answer: &mut Analysis, labels: &[String], probs: &[f32], note: Option<String>) {
    let best = argmax(probs);
    answer.emotion = best.and_then(|i| labels.get(i).cloned());
    answer.confidence = best.and_then(|i| probs.get(i).copied());
    answer.probabilities = to_map(labels, probs);
    answer.message = note;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_clip_with_half_overlap() {
        assert_eq!(windows(10, 48), vec![(0, 10)]);
        assert_eq!(windows(48, 48), vec![(0, 48)]);
        assert_eq!(windows(96, 48), vec![(0, 48), (24, 72), (48, 96)]);
        // 100 samples: grid ends at 96, 4 left <= 12 (a quarter): not worth a window.
        assert_eq!(windows(100, 48), vec![(0, 48), (24, 72), (48, 96)]);
        // 110: 14 uncovered > 12: an end-aligned window is added.
        assert_eq!(windows(110, 48).last(), Some(&(62, 110)));
        for len in 1..500 {
            for win in [1, 2, 7, 48, 160] {
                let w = windows(len, win);
                assert_eq!(w[0].0, 0);
                assert!(w.iter().all(|&(s, e)| s < e && e <= len));
                let covered = w.last().unwrap().1;
                assert!(len - covered <= win / 4, "len {len} win {win}");
            }
        }
    }

    /// Refuses (as the real Classifier does for clips its own trimming empties) any batch
    /// holding a clip whose peak is below 0.2; otherwise answers [0.3, 0.7].
    struct PickyModel(Vec<String>);

    impl EmotionModel for PickyModel {
        fn labels(&self) -> &[String] {
            &self.0
        }
        fn sample_rate(&self) -> u32 {
            16_000
        }
        fn predict_batch(&self, clips: &[Audio]) -> Result<Vec<Vec<f32>>> {
            if clips
                .iter()
                .any(|c| c.samples.iter().fold(0.0_f32, |m, s| m.max(s.abs())) < 0.2)
            {
                return Err(Error::Unusable {
                    detail: "too quiet".into(),
                });
            }
            Ok(clips.iter().map(|_| vec![0.3, 0.7]).collect())
        }
        fn describe(&self) -> serde_json::Value {
            serde_json::json!({})
        }
    }

    fn tone(amplitude: f32, secs: usize) -> Vec<f32> {
        (0..16_000 * secs)
            .map(|i| amplitude * (i as f32 * 0.1).sin())
            .collect()
    }

    #[test]
    fn a_refused_window_is_noted_not_fatal() {
        let model = PickyModel(vec!["a".into(), "b".into()]);
        // 5 s loud, then 5 s quiet but above the -60 dBFS silence threshold.
        let mut samples = tone(0.5, 5);
        samples.extend(tone(0.05, 5));
        let answer = analyse(
            &model,
            &Audio::new(samples, 16_000),
            &AnalysisConfig::default(),
        )
        .unwrap();
        assert_eq!(answer.emotion.as_deref(), Some("b"));
        assert!(!answer.silence);
        let refused: Vec<&Segment> = answer
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
        let quiet = Audio::new(tone(0.05, 10), 16_000);
        let err = analyse(&model, &quiet, &AnalysisConfig::default()).unwrap_err();
        assert!(matches!(err, Error::Unusable { .. }), "{err}");
    }

    #[test]
    fn argmax_ignores_nan() {
        assert_eq!(argmax(&[0.1, f32::NAN, 0.7, 0.2]), Some(2));
        assert_eq!(argmax(&[]), None);
    }

    /// Issue 25, findings 3 and 7: what the decoder refuses reaches the client with the
    /// documented code and status (docs/web.md), never as a 500.
    #[test]
    fn decoder_refusals_get_their_documented_codes_and_statuses() {
        let model = PickyModel(vec!["a".into(), "b".into()]);
        let config = AnalysisConfig::default();
        let refusal = |bytes: &[u8]| {
            let e = analyse_bytes(&model, bytes, &config).unwrap_err();
            (e.status().as_u16(), e.code(), e.to_string())
        };
        let wav16 = |n: usize| ser_audio::encode_wav_16(&Audio::new(vec![0.5; n], 16_000)).unwrap();
        // A header with no samples (44 bytes): 422 no_samples, not corrupt_audio.
        let header_only = wav16(0);
        assert_eq!(header_only.len(), 44);
        let (status, code, _) = refusal(&header_only);
        assert_eq!((status, code), (422, "no_samples"));
        // A-law (format tag 6, 8 bits): 415 unsupported_format, no `<bytes>` placeholder.
        let mut alaw = wav16(32);
        alaw[20..22].copy_from_slice(&6u16.to_le_bytes());
        alaw[32..34].copy_from_slice(&1u16.to_le_bytes());
        alaw[34..36].copy_from_slice(&8u16.to_le_bytes());
        let (status, code, msg) = refusal(&alaw);
        assert_eq!((status, code), (415, "unsupported_format"), "{msg}");
        assert!(msg.contains("A-law") && !msg.contains('<'), "{msg}");
        // Two samples of 3.4e38 in a float WAV: 422 corrupt_audio naming the sample, not a
        // panic in the resampler (a 500).
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 48_000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut cursor = std::io::Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
        for i in 0..48_000 {
            w.write_sample(if i == 1000 { 3.4e38_f32 } else { 0.3 })
                .unwrap();
        }
        w.finalize().unwrap();
        let (status, code, msg) = refusal(&cursor.into_inner());
        assert_eq!((status, code), (422, "corrupt_audio"), "{msg}");
        assert!(msg.contains("sample 1000"), "{msg}");
    }
}
