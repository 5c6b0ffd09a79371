//! Evaluating a classifier on a corpus: filter by actor, map labels, load audio, predict,
//! and build the [`EvalReport`].
//!
//! The model is reached through ser-models' one model interface, [`EmotionModel`], so this
//! logic (and its tests, which use a small hand-written model) does not depend on how the
//! model is implemented; a loaded artifact (`ser_models::Classifier`) is one.

use std::collections::BTreeSet;

use ravdess_loader::{Corpus, Filter, Layout, LoadOptions, Utterance, load_audio, speaker};
use ser_audio::Audio;
use ser_audio::rng::SplitMix64;
use ser_models::{EmotionModel, ModelError, Prediction};

use crate::corpora::{corpora_of, corpus_scores};
use crate::error::{EvalError, Result};
use crate::heard::{EvaluatedCorpus, TrainingCorpora};
use crate::labels::LabelMap;
use crate::metrics::BootstrapConfig;
use crate::report::{EvalReport, PredictionRecord, Protocol, SkippedFile};

/// Settings of one evaluation.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Evaluate only these speakers (`None` = all). Normalised and, in a corpus combined from
    /// several, a bare id that only one corpus has is taken as that corpus's speaker
    /// (`ravdess_loader::speaker::resolve`).
    pub actors: Option<Vec<String>>,
    /// Bootstrap settings for the confidence intervals.
    pub bootstrap: BootstrapConfig,
    /// Clips loaded and predicted together (bounds memory: only one batch of audio is held).
    pub batch_size: usize,
    /// Model description for the protocol section (its directory).
    pub model_name: String,
    /// Robustness check: add white noise this many dB below each clip's RMS (before the
    /// classifier's own preprocessing), seeded by the clip id so that every run and every
    /// model hears the same noise. `None` = the clips as recorded.
    pub noise_snr_db: Option<f64>,
    /// Add one row per corpus to the report even when the corpus is not a combined one (a
    /// cross-validation fold's held-out clips of several corpora); a corpus combined by
    /// `ravdess_loader::open_corpora` always gets them.
    pub per_corpus: bool,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            actors: None,
            bootstrap: BootstrapConfig::default(),
            batch_size: 32,
            noise_snr_db: None,
            model_name: String::new(),
            per_corpus: false,
        }
    }
}

/// The report plus the per-utterance predictions it was computed from.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Metrics, protocol, breakdowns.
    pub report: EvalReport,
    /// One record per evaluated utterance (for `predictions.csv`).
    pub records: Vec<PredictionRecord>,
}

/// A stable 64-bit seed from a clip id (FNV-1a), so that added noise depends on the clip only.
fn id_seed(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Evaluates `model` on `corpus`.
///
/// Files the corpus scan rejected, files that fail to decode and clips the model fails on are
/// reported in [`EvalReport::skipped_files`]; the rest are evaluated. `progress(done, total)` is
/// called after each batch.
///
/// # Errors
///
/// [`EvalError::Empty`] when no utterance is left (after the actor filter, label mapping or
/// decoding), [`EvalError::LabelsDoNotMatch`] when no data label is a model class.
pub fn evaluate_corpus(
    model: &dyn EmotionModel,
    corpus: Corpus,
    opts: &EvalOptions,
    progress: &dyn Fn(usize, usize),
) -> Result<Evaluation> {
    if let Some(snr) = opts.noise_snr_db
        && !snr.is_finite()
    {
        return Err(EvalError::InvalidConfig {
            field: "noise_snr_db (--noise-snr)",
            value: snr.to_string(),
            expected: "a finite number of dB below each clip's RMS, e.g. 20",
        });
    }
    let data_name = match &corpus.layout {
        Layout::Combined { corpora } => corpora
            .iter()
            .map(|p| format!("{}={}", p.name, p.root.display()))
            .collect::<Vec<_>>()
            .join(", "),
        _ => corpus.root.display().to_string(),
    };
    let mut skipped: Vec<SkippedFile> = corpus
        .problems
        .iter()
        .map(|p| SkippedFile {
            path: p.path.display().to_string(),
            reason: p.reason.clone(),
        })
        .collect();
    let evaluated = EvaluatedCorpus::list(&corpus);
    let several = opts.per_corpus || matches!(corpus.layout, Layout::Combined { .. });
    let corpus = select(corpus, opts.actors.as_deref(), &data_name)?;

    let map = LabelMap::new(model.labels());
    let (indices, unmapped) = map.map_all(corpus.utterances.iter().map(|u| u.label.as_str()))?;
    let work: Vec<(Utterance, usize)> = corpus
        .utterances
        .into_iter()
        .zip(indices)
        .filter_map(|(u, i)| i.map(|i| (u, i)))
        .collect();

    let load = LoadOptions {
        target_rate: model.sample_rate(),
        // The classifier applies its own preprocessing (the one it was trained with).
        preprocess: None,
    };
    let total = work.len();
    let batch_size = opts.batch_size.max(1);
    let mut records = Vec::with_capacity(total);
    let mut done = 0;
    for chunk in work.chunks(batch_size) {
        let utts: Vec<Utterance> = chunk.iter().map(|(u, _)| u.clone()).collect();
        let mut loaded = load_audio(utts, &load, |_, _| {})
            .map_err(|e| EvalError::Loader { error: Box::new(e) })?;
        if let Some(snr) = opts.noise_snr_db {
            for u in &mut loaded.utterances {
                if let Some(a) = u.audio.as_mut() {
                    a.add_white_noise(snr, &mut SplitMix64::new(id_seed(&u.id)));
                }
            }
        }
        skipped.extend(loaded.problems.iter().map(|p| SkippedFile {
            path: p.path.display().to_string(),
            reason: p.reason.clone(),
        }));
        predict_chunk(model, chunk, loaded.utterances, &mut records, &mut skipped);
        done += chunk.len();
        progress(done, total);
    }
    if records.is_empty() {
        return Err(EvalError::NoUtterances {
            reason: format!(
                "every selected file in {data_name} failed to load or predict ({} problems; first: {})",
                skipped.len(),
                skipped
                    .first()
                    .map_or_else(String::new, |s| format!("{}: {}", s.path, s.reason))
            ),
        });
    }

    let mut protocol = Protocol {
        model: opts.model_name.clone(),
        data: data_name,
        actors_evaluated: records
            .iter()
            .filter_map(|r| r.speaker.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        training_actors: model.training_speakers(),
        validation_actors: model.validation_speakers(),
        perturbation: opts.noise_snr_db.map(|snr| {
            format!("white noise {snr} dB below each clip's RMS, added before preprocessing (seeded by clip id)")
        }),
        ..Protocol::default()
    };
    let speakers: Vec<(String, String)> = records
        .iter()
        .filter_map(|r| r.speaker.clone().map(|s| (s, r.corpus.clone())))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    crate::heard::check(
        &mut protocol,
        &training_corpora(model),
        &evaluated,
        &speakers,
    );
    let labels = model.labels();
    let mut report = EvalReport::build(labels, &records, protocol, &opts.bootstrap)?;
    if several {
        report.by_corpus = corpus_scores(labels, &records, &corpora_of(&records))?;
    }
    report.unmapped_labels = unmapped;
    report.skipped_files = skipped;
    Ok(Evaluation { report, records })
}

/// The utterances of the speakers asked for (all without a list); errors when none is left,
/// or for a bare speaker id that several corpora of a combined corpus have.
fn select(corpus: Corpus, actors: Option<&[String]>, data_name: &str) -> Result<Corpus> {
    let corpus_speakers: BTreeSet<String> = corpus
        .utterances
        .iter()
        .filter_map(|u| u.speaker.clone())
        .collect();
    let Some(actors) = actors else {
        if corpus.utterances.is_empty() {
            return Err(EvalError::NoUtterances {
                reason: format!("no usable utterance in {data_name}"),
            });
        }
        return Ok(corpus);
    };
    let known: Vec<String> = corpus_speakers.iter().cloned().collect();
    let actors =
        speaker::resolve(&known, actors, "--actors").map_err(|e| EvalError::AmbiguousSpeaker {
            reason: e.to_string(),
        })?;
    let corpus = corpus.filter(&Filter {
        speakers: Some(actors.clone()),
        ..Filter::default()
    });
    if corpus.utterances.is_empty() {
        return Err(EvalError::NoUtterances {
            reason: format!(
                "no usable utterance of actors {} in {data_name} (its actors: {})",
                actors.join(","),
                join_or_none(&corpus_speakers)
            ),
        });
    }
    Ok(corpus)
}

/// The corpora `model` heard, read from its manifest's training record (see [`crate::heard`]);
/// unknown (empty) for a model without a manifest.
fn training_corpora(model: &dyn EmotionModel) -> TrainingCorpora {
    model
        .manifest()
        .map(|m| TrainingCorpora::from_training_record(&m.training))
        .unwrap_or_default()
}

/// Why one clip got no prediction (written into the report's skipped files).
#[derive(Debug, thiserror::Error)]
enum PredictFailure {
    /// The model failed on the clip on its own.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The model answered, but not with one probability per class and a class index.
    #[error("the model returned a malformed prediction")]
    Malformed,
}

/// Predicts the loaded utterances of one chunk, retrying one by one if the batch fails.
fn predict_chunk(
    model: &dyn EmotionModel,
    chunk: &[(Utterance, usize)],
    loaded: Vec<Utterance>,
    records: &mut Vec<PredictionRecord>,
    skipped: &mut Vec<SkippedFile>,
) {
    // load_audio keeps input order and drops failures; match by id.
    let with_index: Vec<(Utterance, usize)> = loaded
        .into_iter()
        .filter_map(|u| {
            let idx = chunk.iter().find(|(c, _)| c.id == u.id).map(|(_, i)| *i)?;
            Some((u, idx))
        })
        .collect();
    let audio: Vec<Audio> = with_index
        .iter()
        .map(|(u, _)| u.audio.clone().unwrap_or_default())
        .collect();
    let n_classes = model.labels().len();
    let check = |p: &Prediction| p.index < n_classes && p.probabilities.len() == n_classes;
    // A batch error (or a malformed answer) fails the whole batch; retrying clip by clip
    // finds the clip at fault and keeps the others.
    let predicted: Vec<std::result::Result<Prediction, PredictFailure>> =
        match model.predict_batch(&audio) {
            Ok(out) if out.len() == audio.len() && out.iter().all(check) => {
                out.into_iter().map(Ok).collect()
            }
            _ => audio
                .iter()
                .map(|a| match model.predict_batch(std::slice::from_ref(a)) {
                    Ok(mut v) if v.len() == 1 && check(&v[0]) => Ok(v.remove(0)),
                    Ok(_) => Err(PredictFailure::Malformed),
                    Err(e) => Err(PredictFailure::Model(e)),
                })
                .collect(),
        };
    for ((u, true_index), p) in with_index.into_iter().zip(predicted) {
        match p {
            Ok(Prediction {
                index: predicted_index,
                probabilities,
                ..
            }) => records.push(PredictionRecord {
                id: u.id.clone(),
                corpus: u.corpus.clone(),
                path: u.path.clone(),
                speaker: u.speaker.clone(),
                gender: u.gender.map(|g| format!("{g:?}").to_lowercase()),
                intensity: u
                    .ravdess
                    .map(|r| format!("{:?}", r.intensity).to_lowercase()),
                true_label: u.label.clone(),
                true_index,
                predicted_index,
                probabilities,
            }),
            Err(failure) => skipped.push(SkippedFile {
                path: u
                    .path
                    .as_ref()
                    .map_or_else(|| u.id.clone(), |p| p.display().to_string()),
                reason: format!("prediction failed: {failure}"),
            }),
        }
    }
}

fn join_or_none(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        "none recorded".into()
    } else {
        set.iter().cloned().collect::<Vec<_>>().join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ravdess_loader::synth::{self, SynthConfig};
    use ravdess_loader::{Emotion, Layout};

    /// Predicts from the clip's loudness only: a real (bad) classifier, deterministic.
    struct Loudness {
        labels: Vec<String>,
        train: Option<Vec<String>>,
    }

    impl EmotionModel for Loudness {
        fn labels(&self) -> &[String] {
            &self.labels
        }
        fn sample_rate(&self) -> u32 {
            16_000
        }
        fn training_speakers(&self) -> Option<Vec<String>> {
            self.train.clone()
        }
        fn predict_batch(&self, audio: &[Audio]) -> ser_models::Result<Vec<Prediction>> {
            audio
                .iter()
                .map(|a| {
                    let rms = (a.samples.iter().map(|s| s * s).sum::<f32>()
                        / a.samples.len().max(1) as f32)
                        .sqrt();
                    let k = self.labels.len();
                    let i = ((rms * 40.0) as usize).min(k - 1);
                    let mut p = vec![0.0; k];
                    p[i] = 1.0;
                    Prediction::from_probabilities(&self.labels, p)
                })
                .collect()
        }
    }

    fn corpus(actors: Vec<u8>) -> Corpus {
        let utts = synth::generate(&SynthConfig {
            actors,
            ..Default::default()
        });
        Corpus::from_utterances("generated", Layout::Generated, utts)
    }

    fn emotions() -> Vec<String> {
        Emotion::ALL.iter().map(|e| e.name().to_string()).collect()
    }

    #[test]
    fn evaluates_filters_and_checks_overlap() {
        let p = Loudness {
            labels: emotions(),
            train: Some(vec!["01".into(), "02".into()]),
        };
        let opts = EvalOptions {
            actors: Some(vec!["02".into(), "03".into()]),
            ..Default::default()
        };
        let calls = std::cell::Cell::new(0);
        let ev = evaluate_corpus(&p, corpus(vec![1, 2, 3]), &opts, &|_, _| {
            calls.set(calls.get() + 1)
        })
        .unwrap();
        assert_eq!(ev.report.n, 120);
        assert_eq!(ev.records.len(), 120);
        assert_eq!(ev.report.protocol.actors_evaluated, vec!["02", "03"]);
        assert_eq!(ev.report.protocol.overlapping_actors, vec!["02"]);
        assert_eq!(ev.report.protocol.speaker_independent, Some(false));
        assert_eq!(ev.report.breakdown.by_actor.len(), 2);
        assert_eq!(ev.report.breakdown.by_gender.len(), 2);
        assert_eq!(ev.report.breakdown.by_intensity.len(), 2);
        assert!(calls.get() >= 4);
    }

    #[test]
    fn partial_label_overlap_is_reported() {
        let p = Loudness {
            labels: vec!["Angry".into(), "HAPPY".into(), "bored".into()],
            train: None,
        };
        let ev = evaluate_corpus(&p, corpus(vec![5]), &EvalOptions::default(), &|_, _| {}).unwrap();
        assert_eq!(ev.report.n, 16);
        assert_eq!(ev.report.unmapped_labels.len(), 6);
        assert_eq!(ev.report.classes_absent_from_data, vec!["bored"]);
        assert_eq!(ev.report.protocol.speaker_independent, None);
    }

    #[test]
    fn disjoint_label_sets_and_missing_actors_are_errors() {
        let p = Loudness {
            labels: vec!["dog".into(), "cat".into()],
            train: None,
        };
        let err =
            evaluate_corpus(&p, corpus(vec![5]), &EvalOptions::default(), &|_, _| {}).unwrap_err();
        assert!(matches!(err, EvalError::LabelsDoNotMatch { .. }), "{err}");
        let p = Loudness {
            labels: emotions(),
            train: None,
        };
        let opts = EvalOptions {
            actors: Some(vec!["21".into()]),
            ..Default::default()
        };
        let err = evaluate_corpus(&p, corpus(vec![5]), &opts, &|_, _| {}).unwrap_err();
        assert!(err.to_string().contains("actors 21"), "{err}");
        assert!(err.to_string().contains("05"), "{err}");
    }

    #[test]
    fn added_noise_is_seeded_by_clip_and_recorded_in_the_protocol() {
        let p = Loudness {
            labels: emotions(),
            train: None,
        };
        let clean =
            evaluate_corpus(&p, corpus(vec![5]), &EvalOptions::default(), &|_, _| {}).unwrap();
        assert_eq!(clean.report.protocol.perturbation, None);
        let noisy_opts = EvalOptions {
            noise_snr_db: Some(0.0),
            ..Default::default()
        };
        let noisy = evaluate_corpus(&p, corpus(vec![5]), &noisy_opts, &|_, _| {}).unwrap();
        let again = evaluate_corpus(&p, corpus(vec![5]), &noisy_opts, &|_, _| {}).unwrap();
        assert_eq!(noisy.records, again.records, "the same noise every run");
        assert!(
            noisy
                .report
                .protocol
                .perturbation
                .as_deref()
                .unwrap()
                .contains("0 dB"),
            "{:?}",
            noisy.report.protocol.perturbation
        );
        // The loudness "model" sees noise at 0 dB SNR as louder clips (RMS x ~1.41).
        let (mut louder, n) = (0, clean.records.len());
        for (c, z) in clean.records.iter().zip(&noisy.records) {
            assert_eq!(c.id, z.id);
            assert!(
                z.predicted_index >= c.predicted_index,
                "{} got quieter",
                c.id
            );
            louder += usize::from(z.predicted_index > c.predicted_index);
        }
        assert!(louder > n / 2, "only {louder} of {n} clips got louder");

        let nan = EvalOptions {
            noise_snr_db: Some(f64::NAN),
            ..Default::default()
        };
        let err = evaluate_corpus(&p, corpus(vec![5]), &nan, &|_, _| {}).unwrap_err();
        assert!(err.to_string().contains("--noise-snr"), "{err}");
    }
}
