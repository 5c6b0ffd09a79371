//! Loading a corpus into cached feature matrices and choosing held-out speakers.

use std::collections::BTreeSet;
use std::path::PathBuf;

use dsp_features::{FeatureConfig, FeatureExtractor, FeatureMatrix};
use ndarray::Array2;
use ravdess_loader::{Emotion, LoadOptions, Preprocess, Utterance, load_audio, open_corpus, synth};

use crate::cache;
use crate::config::{DataSource, SpeakerSplit, TrainConfig};
use crate::error::{Result, TrainError};

/// One clip's features (not normalised) with its speaker and label.
#[derive(Debug, Clone)]
pub struct Item {
    /// Utterance id.
    pub id: String,
    /// Speaker id.
    pub speaker: String,
    /// Index into [`Dataset::labels`].
    pub label: usize,
    /// Features `[bins, frames]`.
    pub features: FeatureMatrix,
}

/// A corpus as features, ready for any speaker split.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Where it came from (a path or `<generated corpus>`).
    pub source: String,
    /// Class names (RAVDESS order when every label is a RAVDESS emotion, else sorted).
    pub labels: Vec<String>,
    /// The clips.
    pub items: Vec<Item>,
    /// Feature config used.
    pub features: FeatureConfig,
    /// Preprocessing used.
    pub preprocess: Preprocess,
}

impl Dataset {
    /// Sorted distinct speakers.
    pub fn speakers(&self) -> Vec<String> {
        self.items
            .iter()
            .map(|i| i.speaker.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// Indices of items whose speaker is (`inside = true`) or is not in `speakers`.
    pub fn indices(&self, speakers: &[String], inside: bool) -> Vec<usize> {
        (0..self.items.len())
            .filter(|&i| speakers.contains(&self.items[i].speaker) == inside)
            .collect()
    }
}

fn data_path(src: &DataSource) -> PathBuf {
    match src {
        DataSource::Dir(p) => p.clone(),
        DataSource::Synth(_) => PathBuf::from("<generated corpus>"),
    }
}

/// Loads the corpus of `cfg.data`, extracting features or reading them from the cache.
/// `progress(done, total)` reports extraction.
pub fn load_dataset(cfg: &TrainConfig, progress: impl Fn(usize, usize) + Sync) -> Result<Dataset> {
    let path = data_path(&cfg.data);
    let data_err = |reason: String| TrainError::Data {
        path: path.clone(),
        reason,
    };
    let feat_json = serde_json::to_vec(&cfg.features).unwrap_or_default();
    let pre_json = serde_json::to_vec(&cfg.preprocess).unwrap_or_default();
    // Utterances without audio plus the source-specific part of the cache key.
    let (utts, source_key): (Vec<Utterance>, Vec<u8>) = match &cfg.data {
        DataSource::Synth(s) => {
            let key = serde_json::to_vec(s).unwrap_or_default();
            (synth::generate_labels_only(s), key)
        }
        DataSource::Dir(dir) => {
            let corpus = open_corpus(dir)?;
            if corpus.utterances.is_empty() {
                let why = corpus
                    .problems
                    .first()
                    .map(|p| format!(" (e.g. {p:?})"))
                    .unwrap_or_default();
                return Err(data_err(format!(
                    "no usable labelled WAV files found{why}; expected RAVDESS names, `label/*.wav` folders or a CSV manifest"
                )));
            }
            // Key on file contents, so an edited file invalidates the cache.
            let mut ctx = md5::Context::new();
            for u in &corpus.utterances {
                ctx.consume(u.id.as_bytes());
                ctx.consume(u.label.as_bytes());
                if let Some(p) = &u.path {
                    let bytes = std::fs::read(p).map_err(|e| TrainError::io(p, e))?;
                    ctx.consume(&bytes);
                }
            }
            (corpus.utterances, ctx.finalize().0.to_vec())
        }
    };
    if utts.iter().any(|u| u.label.trim().is_empty()) {
        return Err(data_err(
            "some utterances have no label; every clip needs an emotion label".into(),
        ));
    }
    if let Some(u) = utts.iter().find(|u| u.speaker.is_none()) {
        return Err(data_err(format!(
            "utterance `{}` has no speaker; speaker-independent training needs one per clip \
             (RAVDESS names or a `speaker` column in a CSV manifest)",
            u.id
        )));
    }
    let key = cache::key(&[b"ser-train features v1", &feat_json, &pre_json, &source_key]);
    let cache_file = cache::path(&cfg.cache_dir(), &key);
    let matrices = match cache::read(&cache_file) {
        Some(m) => m,
        None => {
            let m = extract(cfg, utts.clone(), &progress)?;
            // A cache that cannot be written only costs time next run.
            if let Err(e) = cache::write(&cache_file, &m) {
                eprintln!("warning: feature cache not written: {e}");
            }
            m
        }
    };
    let by_id: std::collections::HashMap<&str, &Utterance> =
        utts.iter().map(|u| (u.id.as_str(), u)).collect();
    let labels = label_order(&utts);
    let meta = FeatureExtractor::new(cfg.features.clone())?.meta();
    let mut items = Vec::with_capacity(matrices.len());
    for (id, features) in matrices {
        let Some(u) = by_id.get(id.as_str()) else {
            continue;
        };
        let label = labels.iter().position(|l| *l == u.label).unwrap_or(0);
        items.push(Item {
            id,
            speaker: u.speaker.clone().unwrap_or_default(),
            label,
            features: FeatureMatrix {
                data: features,
                meta: meta.clone(),
            },
        });
    }
    if items.is_empty() {
        return Err(data_err("no clip could be loaded".into()));
    }
    if labels.len() < 2 {
        return Err(data_err(format!(
            "only one label ({:?}); a classifier needs at least two",
            labels
        )));
    }
    Ok(Dataset {
        source: path.display().to_string(),
        labels,
        items,
        features: cfg.features.clone(),
        preprocess: cfg.preprocess,
    })
}

fn extract(
    cfg: &TrainConfig,
    utts: Vec<Utterance>,
    progress: &(impl Fn(usize, usize) + Sync),
) -> Result<Vec<(String, Array2<f32>)>> {
    let utts = match &cfg.data {
        DataSource::Synth(s) => synth::generate(s),
        DataSource::Dir(_) => utts,
    };
    let opts = LoadOptions {
        target_rate: cfg.features.sample_rate,
        preprocess: Some(cfg.preprocess),
    };
    let loaded = load_audio(utts, &opts, |_, _| {})?;
    for p in &loaded.problems {
        eprintln!("warning: skipped {p:?}");
    }
    let extractor = FeatureExtractor::new(cfg.features.clone())?;
    let total = loaded.utterances.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    use rayon::prelude::*;
    loaded
        .utterances
        .par_iter()
        .filter_map(|u| u.audio.as_ref().map(|a| (u, a)))
        .map(|(u, a)| {
            let m = extractor.extract(&a.samples)?;
            progress(
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                total,
            );
            Ok((u.id.clone(), m.data))
        })
        .collect()
}

fn label_order(utts: &[Utterance]) -> Vec<String> {
    let present: BTreeSet<&str> = utts.iter().map(|u| u.label.as_str()).collect();
    if present.iter().all(|l| Emotion::from_name(l).is_some()) {
        Emotion::ALL
            .iter()
            .map(|e| e.name())
            .filter(|n| present.contains(n))
            .map(String::from)
            .collect()
    } else {
        present.into_iter().map(String::from).collect()
    }
}

/// Resolves the test and validation speakers: the requested ones (checked to exist), or by
/// default actors 21-24 / 19-20 when present, else the last ~1/6 of speakers for test and the
/// last ~1/10 of the rest for validation (RAVDESS numbering alternates male/female, so the
/// last speakers are gender-balanced).
pub fn resolve_split(ds: &Dataset, req: &SpeakerSplit) -> Result<SpeakerSplit> {
    let speakers = ds.speakers();
    let err = |reason: String| TrainError::Data {
        path: PathBuf::from(&ds.source),
        reason,
    };
    if speakers.len() < 3 {
        return Err(err(format!(
            "{} speaker(s) ({}); speaker-independent training needs at least 3 (train, validation, test)",
            speakers.len(),
            speakers.join(", ")
        )));
    }
    for s in req.test.iter().chain(&req.val) {
        if !speakers.contains(s) {
            return Err(TrainError::config(
                "--test-actors/--val-actors",
                format!(
                    "speaker `{s}` is not in the corpus (speakers: {})",
                    speakers.join(", ")
                ),
            ));
        }
    }
    let want = |names: &[&str]| names.iter().all(|n| speakers.iter().any(|s| s == n));
    let test = if !req.test.is_empty() {
        req.test.clone()
    } else if want(&["21", "22", "23", "24"]) && speakers.len() >= 8 {
        ["21", "22", "23", "24"].map(String::from).to_vec()
    } else {
        let n = (speakers.len() / 6).clamp(1, 4);
        speakers[speakers.len() - n..].to_vec()
    };
    let rest: Vec<String> = speakers
        .iter()
        .filter(|s| !test.contains(s))
        .cloned()
        .collect();
    let val = if !req.val.is_empty() {
        req.val.clone()
    } else if want(&["19", "20"])
        && !test.contains(&"19".to_string())
        && !test.contains(&"20".to_string())
        && rest.len() >= 6
    {
        vec!["19".to_string(), "20".to_string()]
    } else {
        let n = (rest.len() / 10).clamp(1, 2);
        rest[rest.len() - n..].to_vec()
    };
    let train = speakers
        .iter()
        .filter(|s| !test.contains(s) && !val.contains(s))
        .count();
    if train == 0 {
        return Err(err(
            "no speaker left for training after test and validation hold-out".into(),
        ));
    }
    Ok(SpeakerSplit { test, val })
}
