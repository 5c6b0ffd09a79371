//! A scanned corpus: utterances plus what was wrong with the files that were skipped.

use std::collections::HashSet;
use std::path::PathBuf;

use ser_audio::WavInfo;
use serde::{Deserialize, Serialize};

use crate::labelmap::LeftOut;
use crate::name::{Intensity, VocalChannel};
use crate::{Emotion, Utterance};

/// How the corpus on disk is organised (detected by [`crate::open_corpus`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Layout {
    /// The official RAVDESS layout: `Actor_01/ .. Actor_24/` (optionally inside
    /// `Audio_Speech_Actors_01-24/`) holding `MM-VV-EE-II-SS-RR-AA.wav` files.
    RavdessActors,
    /// One folder of RAVDESS-named WAV files.
    RavdessFlat,
    /// `label/*.wav`: one sub-folder per class label (speaker and gender taken from RAVDESS
    /// or EMO-DB names when the files have them, from a [`crate::SpeakerRule`] when one is
    /// given, otherwise unknown).
    LabelFolders,
    /// One folder of EMO-DB-named WAV files `SSTTTEV.wav` (label from the emotion letter,
    /// see [`crate::emodb`]).
    EmodbFlat,
    /// A CSV manifest `path,label[,speaker[,gender]]`, paths relative to the manifest.
    CsvManifest {
        /// The manifest file.
        manifest: PathBuf,
    },
    /// Generated in memory by [`crate::synth`].
    Generated,
    /// Several corpora combined by [`crate::open_corpora`].
    Combined {
        /// The corpora, in the order given.
        corpora: Vec<CorpusPart>,
    },
}

/// One corpus of a [`Layout::Combined`] corpus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpusPart {
    /// Its name (the prefix of its speakers and ids).
    pub name: String,
    /// Its folder or manifest.
    pub root: PathBuf,
    /// Its detected layout.
    pub layout: Layout,
    /// Clips kept from it.
    pub clips: usize,
    /// Distinct speakers among the kept clips.
    pub speakers: usize,
}

/// A file that was skipped, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The file (or manifest line) concerned.
    pub path: PathBuf,
    /// Human-readable reason, including what to do where possible.
    pub reason: String,
}

/// A group of byte-identical files (kept, but reported: they inflate test scores if they land
/// on both sides of a split; RAVDESS Actor_07 has one such pair).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duplicate {
    /// Utterance ids of the identical files.
    pub ids: Vec<String>,
}

/// The result of [`crate::open_corpus`].
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Directory (or manifest) the corpus came from.
    pub root: PathBuf,
    /// Detected layout.
    pub layout: Layout,
    /// Valid utterances, sorted by id. `audio` is `None` until [`crate::load_audio`].
    pub utterances: Vec<Utterance>,
    /// Header information of each utterance's file, index-aligned with `utterances`
    /// (`None` for in-memory utterances).
    pub wav_info: Vec<Option<WavInfo>>,
    /// Files skipped, with reasons.
    pub problems: Vec<Problem>,
    /// Groups of byte-identical files.
    pub duplicates: Vec<Duplicate>,
    /// Valid clips left out by a label map or a target label set, per corpus and label, with
    /// the message to show ([`crate::open_corpora`]; empty for [`crate::open_corpus`]).
    pub left_out: Vec<LeftOut>,
}

/// Which utterances to keep (every `None` field keeps everything).
///
/// Channel and intensity filters apply to RAVDESS-named utterances only; others pass them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    /// Keep only speech or only song.
    pub channel: Option<VocalChannel>,
    /// Keep only these emotions (matched on the label name).
    pub emotions: Option<Vec<Emotion>>,
    /// Keep only this intensity.
    pub intensity: Option<Intensity>,
    /// Keep only these speakers (e.g. `"01"`, or `"emodb:03"` in a combined corpus; compared
    /// after [`crate::speaker::normalise`], so `"1"` finds `"01"`).
    pub speakers: Option<Vec<String>>,
}

impl Filter {
    /// Only RAVDESS actors with these numbers.
    pub fn actors(mut self, actors: &[u8]) -> Self {
        self.speakers = Some(actors.iter().map(|a| format!("{a:02}")).collect());
        self
    }

    /// Whether `u` passes.
    pub fn keep(&self, u: &Utterance) -> bool {
        if let (Some(c), Some(n)) = (self.channel, &u.ravdess)
            && n.channel != c
        {
            return false;
        }
        if let (Some(i), Some(n)) = (self.intensity, &u.ravdess)
            && n.intensity != i
        {
            return false;
        }
        if let Some(es) = &self.emotions
            && !es.iter().any(|e| e.name() == u.label)
        {
            return false;
        }
        if let Some(sp) = &self.speakers {
            let Some(s) = &u.speaker else { return false };
            if !sp
                .iter()
                .any(|x| x == s || crate::speaker::normalise(x) == *s)
            {
                return false;
            }
        }
        true
    }
}

impl Corpus {
    /// A corpus wrapping in-memory utterances (e.g. from [`crate::synth::generate`]).
    pub fn from_utterances(
        root: impl Into<PathBuf>,
        layout: Layout,
        utterances: Vec<Utterance>,
    ) -> Self {
        let wav_info = vec![None; utterances.len()];
        Self {
            root: root.into(),
            layout,
            utterances,
            wav_info,
            problems: Vec::new(),
            duplicates: Vec::new(),
            left_out: Vec::new(),
        }
    }

    /// Keeps the utterances that pass `filter` (problems and duplicates among kept ids stay).
    pub fn filter(mut self, filter: &Filter) -> Self {
        let (utts, infos): (Vec<_>, Vec<_>) = std::mem::take(&mut self.utterances)
            .into_iter()
            .zip(std::mem::take(&mut self.wav_info))
            .filter(|(u, _)| filter.keep(u))
            .unzip();
        self.utterances = utts;
        self.wav_info = infos;
        let kept: HashSet<&str> = self.utterances.iter().map(|u| u.id.as_str()).collect();
        let dups = std::mem::take(&mut self.duplicates);
        self.duplicates = dups
            .into_iter()
            .map(|d| Duplicate {
                ids: d
                    .ids
                    .into_iter()
                    .filter(|i| kept.contains(i.as_str()))
                    .collect(),
            })
            .filter(|d| d.ids.len() > 1)
            .collect();
        self
    }

    /// Sorted distinct speakers.
    pub fn speakers(&self) -> Vec<String> {
        let mut s: Vec<String> = self
            .utterances
            .iter()
            .filter_map(|u| u.speaker.clone())
            .collect();
        s.sort();
        s.dedup();
        s
    }
}
