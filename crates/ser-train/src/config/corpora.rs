//! [`CorporaSource`]: training data from several corpora at once (or one with a speaker rule,
//! a label map or a target label set), the serialisable form of repeated `--data NAME=PATH`
//! flags with their `--speaker-pattern`, `--label-map` and `--labels`.

use std::path::PathBuf;

use ravdess_loader::{CorporaOptions, Corpus, CorpusSpec, LabelMap, SpeakerRule};
use ser_eval::CorpusRef;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// One corpus of a [`CorporaSource`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpusEntry {
    /// Its name: the namespace of its speakers (`emodb:03`) when there are several.
    pub name: String,
    /// Its folder or CSV manifest.
    pub dir: PathBuf,
    /// How to read speakers from file names (`regex:^(\d\d)`) or a manifest column
    /// (`column:caller`), as `ravdess_loader::SpeakerRule` writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker_rule: Option<String>,
    /// Its label-map file (see `ravdess_loader::labelmap`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_map: Option<PathBuf>,
}

/// Several corpora trained on as one (`ravdess_loader::open_corpora_with`): with two or more,
/// speakers are namespaced per corpus, so speaker splits and folds never mix two corpora's
/// speakers; label maps apply per corpus, then the target `labels`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorporaSource {
    /// The corpora, in the order given.
    pub corpora: Vec<CorpusEntry>,
    /// The class labels to train (clips with others are left out and reported); `None` =
    /// the union of the corpora's labels after their maps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
}

impl CorporaSource {
    /// The corpora of a command line: `data` entries `[NAME=]PATH`, per-corpus
    /// `[NAME=]RULE` speaker rules and `[NAME=]FILE` label maps (read by
    /// `ravdess_loader::CorpusSpec::from_args`, which checks every value), and an optional
    /// target label set (lowercased).
    ///
    /// # Errors
    ///
    /// [`TrainError::Config`] naming the flag value that is wrong (a bad name, a rule or map
    /// for a corpus not given, a map file that cannot be read, an empty label).
    pub fn from_args(
        data: &[String],
        speaker_rules: &[String],
        label_maps: &[String],
        labels: Option<&[String]>,
    ) -> Result<Self> {
        let specs = CorpusSpec::from_args(data, speaker_rules, label_maps).map_err(|e| {
            TrainError::config("--data/--speaker-pattern/--label-map", e.to_string())
        })?;
        let labels = match labels {
            Some(l) => {
                let l: Vec<String> = l.iter().map(|x| x.trim().to_lowercase()).collect();
                if l.is_empty() || l.iter().any(String::is_empty) {
                    return Err(TrainError::config(
                        "--labels",
                        "give the class labels to train, comma separated (e.g. angry,happy,sad)",
                    ));
                }
                Some(l)
            }
            None => None,
        };
        Ok(Self {
            corpora: specs
                .iter()
                .map(|s| CorpusEntry {
                    name: s.name.clone(),
                    dir: s.root.clone(),
                    speaker_rule: s.speaker_rule.as_ref().map(SpeakerRule::to_string),
                    label_map: s
                        .label_map
                        .as_ref()
                        .and_then(|m| m.source().map(PathBuf::from)),
                })
                .collect(),
            labels,
        })
    }

    /// The loader's specs, label maps read again from their files.
    ///
    /// # Errors
    ///
    /// A name, rule or map file that is (no longer) valid, naming it.
    pub fn specs(&self) -> Result<Vec<CorpusSpec>> {
        self.corpora
            .iter()
            .map(|c| {
                let mut spec = CorpusSpec::new(&c.name, &c.dir)?;
                if let Some(r) = &c.speaker_rule {
                    spec = spec.with_speaker_rule(SpeakerRule::parse(r)?);
                }
                if let Some(m) = &c.label_map {
                    spec = spec.with_label_map(LabelMap::from_file(m)?);
                }
                Ok(spec)
            })
            .collect()
    }

    /// Opens the corpora as one.
    ///
    /// # Errors
    ///
    /// As [`Self::specs`], and a corpus that cannot be opened.
    pub fn open(&self) -> Result<Corpus> {
        let options = CorporaOptions {
            labels: self.labels.clone(),
        };
        Ok(ravdess_loader::open_corpora_with(&self.specs()?, &options)?)
    }

    /// The corpora by name and folder, as manifests and reports record them.
    pub fn refs(&self) -> Vec<CorpusRef> {
        self.corpora
            .iter()
            .map(|c| CorpusRef {
                name: c.name.clone(),
                root: Some(c.dir.clone()),
            })
            .collect()
    }

    /// `name=dir, name=dir`: the data in one line.
    pub fn describe(&self) -> String {
        self.corpora
            .iter()
            .map(|c| format!("{}={}", c.name, c.dir.display()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether speakers are namespaced (two or more corpora).
    pub fn several(&self) -> bool {
        self.corpora.len() > 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_through_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let map = dir.path().join("map.csv");
        std::fs::write(&map, "boredom,-\n").unwrap();
        let src = CorporaSource::from_args(
            &["a=x/a".into(), "b=y/b".into()],
            &["b=^(\\d\\d)".into()],
            &[format!("b={}", map.display())],
            Some(&["Angry".into(), "sad".into()]),
        )
        .unwrap();
        assert_eq!(
            src.corpora[1].speaker_rule.as_deref(),
            Some("regex:^(\\d\\d)")
        );
        assert_eq!(src.corpora[1].label_map.as_deref(), Some(map.as_path()));
        assert_eq!(
            src.labels.as_deref(),
            Some(&["angry".into(), "sad".into()][..])
        );
        assert_eq!(src.describe(), "a=x/a, b=y/b");
        let specs = src.specs().unwrap();
        assert_eq!(
            specs[1].speaker_rule,
            Some(SpeakerRule::parse("^(\\d\\d)").unwrap())
        );
        let back: CorporaSource =
            serde_json::from_str(&serde_json::to_string(&src).unwrap()).unwrap();
        assert_eq!(back, src);

        let e = CorporaSource::from_args(&["a=x".into()], &["c=^(a)".into()], &[], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--speaker-pattern") && e.contains("`c`"), "{e}");
        let e = CorporaSource::from_args(&["a=x".into()], &[], &[], Some(&[" ".into()]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--labels"), "{e}");
    }
}
