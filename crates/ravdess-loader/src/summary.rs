//! Counts and statistics of a corpus, for `ser-data inspect` and reports.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::corpus::{Corpus, Duplicate, Layout, Problem};
use crate::labelmap::LeftOut;

/// Min / mean / max / total of clip durations in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct DurationStats {
    /// Shortest clip.
    pub min: f64,
    /// Mean clip.
    pub mean: f64,
    /// Longest clip.
    pub max: f64,
    /// Sum of all clips.
    pub total: f64,
}

/// Summary of a [`Corpus`] (serialisable; `ser-data inspect --json` prints it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Detected layout.
    pub layout: Layout,
    /// Valid clips.
    pub clips: usize,
    /// RAVDESS actor numbers present (speakers that are numbers; none in a combined corpus,
    /// whose speakers are `corpus:speaker`), sorted.
    pub actors: Vec<u32>,
    /// All speaker ids present, sorted.
    pub speakers: Vec<String>,
    /// Clips per label.
    pub per_emotion: BTreeMap<String, usize>,
    /// Clips per intensity (RAVDESS-named clips only).
    pub per_intensity: BTreeMap<String, usize>,
    /// Clips per speaker.
    pub per_actor: BTreeMap<String, usize>,
    /// Clips per gender (`male`, `female`, `unknown`).
    pub per_gender: BTreeMap<String, usize>,
    /// Clips per native sample rate (Hz, as string keys for JSON).
    pub sample_rates: BTreeMap<String, usize>,
    /// Clips per channel count in the file.
    pub channels: BTreeMap<String, usize>,
    /// Durations of the clips whose header (or audio) is known.
    pub duration_secs: DurationStats,
    /// Skipped files and why.
    pub problems: Vec<Problem>,
    /// Byte-identical file groups.
    pub duplicates: Vec<Duplicate>,
    /// Clips per corpus name ([`crate::Utterance::corpus`]).
    pub per_corpus: BTreeMap<String, usize>,
    /// Clips left out by label maps or target labels ([`Corpus::left_out`]).
    pub left_out: Vec<LeftOut>,
}

impl Corpus {
    /// Counts and statistics.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            layout: self.layout.clone(),
            clips: self.utterances.len(),
            actors: Vec::new(),
            speakers: self.speakers(),
            per_emotion: BTreeMap::new(),
            per_intensity: BTreeMap::new(),
            per_actor: BTreeMap::new(),
            per_gender: BTreeMap::new(),
            sample_rates: BTreeMap::new(),
            channels: BTreeMap::new(),
            duration_secs: DurationStats::default(),
            problems: self.problems.clone(),
            duplicates: self.duplicates.clone(),
            per_corpus: BTreeMap::new(),
            left_out: self.left_out.clone(),
        };
        s.actors = s.speakers.iter().filter_map(|x| x.parse().ok()).collect();
        s.actors.sort_unstable();
        let mut durs = Vec::new();
        for (u, info) in self.utterances.iter().zip(&self.wav_info) {
            *s.per_emotion.entry(u.label.clone()).or_default() += 1;
            *s.per_corpus.entry(u.corpus.clone()).or_default() += 1;
            if let Some(n) = &u.ravdess {
                *s.per_intensity
                    .entry(n.intensity.name().to_string())
                    .or_default() += 1;
            }
            let sp = u.speaker.clone().unwrap_or_else(|| "unknown".into());
            *s.per_actor.entry(sp).or_default() += 1;
            let g = match u.gender {
                Some(crate::Gender::Male) => "male",
                Some(crate::Gender::Female) => "female",
                None => "unknown",
            };
            *s.per_gender.entry(g.to_string()).or_default() += 1;
            if let Some(i) = info {
                *s.sample_rates.entry(i.sample_rate.to_string()).or_default() += 1;
                *s.channels.entry(i.channels.to_string()).or_default() += 1;
                durs.push(i.duration_secs());
            } else if let Some(a) = &u.audio {
                *s.sample_rates.entry(a.sample_rate.to_string()).or_default() += 1;
                *s.channels.entry("1".to_string()).or_default() += 1;
                durs.push(a.duration_secs());
            }
        }
        if !durs.is_empty() {
            let total: f64 = durs.iter().sum();
            s.duration_secs = DurationStats {
                min: durs.iter().copied().fold(f64::INFINITY, f64::min),
                mean: total / durs.len() as f64,
                max: durs.iter().copied().fold(0.0, f64::max),
                total,
            };
        }
        s
    }
}
