//! The data flags of `ser-train` and `ser-train cv`: one corpus or several
//! (`--data NAME=PATH` repeated), their speaker rules and label maps, the target labels.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;
use ser_train::{CorporaSource, DataSource};

/// Where the training data comes from.
#[derive(Debug, Args, Default)]
pub struct DataArgs {
    /// Corpus: RAVDESS layout, flat RAVDESS or EMO-DB names, label/*.wav folders or a CSV
    /// manifest. Repeat as NAME=PATH to train on several corpora at once: speakers become
    /// NAME:SPEAKER (e.g. emodb:03), held-out speakers and folds are chosen across all
    /// corpora, and reports get one row per corpus. Default: the generated corpus (24
    /// actors, in memory).
    #[arg(long, value_name = "[NAME=]PATH")]
    pub data: Vec<String>,

    /// Speaker rule of a corpus whose file names are neither RAVDESS nor EMO-DB names: a
    /// regex with one capture group on the file name (e.g. `^(\d\d)`) or `column:COL` of a
    /// CSV manifest; `NAME=` says which corpus (needed with several).
    #[arg(
        long = "speaker-pattern",
        value_name = "[NAME=]RULE",
        requires = "data"
    )]
    pub speaker_rules: Vec<String>,

    /// Label-map file of a corpus (`from,to` lines, `-` drops; see datasets/README.md), e.g.
    /// `emodb=datasets/labelmaps/emodb.csv`. What it drops is reported once at the start.
    #[arg(long = "label-map", value_name = "[NAME=]FILE", requires = "data")]
    pub label_maps: Vec<String>,

    /// The classes to train, comma separated (after the label maps); clips with other labels
    /// are left out and reported. Default: the union of the corpora's labels.
    #[arg(long, value_name = "LIST", value_delimiter = ',', requires = "data")]
    pub labels: Vec<String>,
}

impl DataArgs {
    /// Whether a corpus was given (the recipe then defaults to `speech`).
    pub fn given(&self) -> bool {
        !self.data.is_empty()
    }

    /// The data source: `None` without `--data` (the generated corpus), a plain directory
    /// for one `--data PATH` without other data flags (exactly as before several corpora
    /// were possible), else the corpora.
    ///
    /// # Errors
    ///
    /// A corpus path that does not exist, or a flag value the loader refuses (naming it).
    pub fn source(&self) -> anyhow::Result<Option<DataSource>> {
        if self.data.is_empty() {
            return Ok(None);
        }
        let plain = self.data.len() == 1
            && ravdess_loader::split_named(&self.data[0]).0.is_none()
            && self.speaker_rules.is_empty()
            && self.label_maps.is_empty()
            && self.labels.is_empty();
        if plain {
            let dir = PathBuf::from(&self.data[0]);
            exists(&dir)?;
            return Ok(Some(DataSource::Dir(dir)));
        }
        let labels = (!self.labels.is_empty()).then_some(self.labels.as_slice());
        let c =
            CorporaSource::from_args(&self.data, &self.speaker_rules, &self.label_maps, labels)?;
        for e in &c.corpora {
            exists(&e.dir)?;
        }
        Ok(Some(DataSource::Corpora(c)))
    }
}

fn exists(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        bail!("--data `{}` does not exist", dir.display());
    }
    Ok(())
}
