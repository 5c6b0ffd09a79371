//! [`Parent`]: the trained model a fine-tune starts from, opened and checked once.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use dsp_features::NormStats;
use ser_audio::Preprocess;
use ser_eval::heard::{EvaluatedCorpus, heard_by};
use ser_models::artifact::{MANIFEST_FILE, Manifest, find_default_model};
use ser_models::{Family, Model, ModelConfig};

use super::rows::OutputRows;
use crate::config::{InitConfig, InitNorm, TrainConfig};
use crate::data::Dataset;
use crate::error::{Result, TrainError};

/// The value of `--init` that names the shipped model (found as every tool finds it:
/// `ser_models::artifact::find_default_model`).
pub const DEFAULT_PARENT: &str = "default";

/// The directory `--init VALUE` names: [`DEFAULT_PARENT`] is the shipped model, found through
/// the tools' model search (`SER_MODEL`, the user data directory, beside the program, the
/// source tree); anything else is a path (write `./default` for a directory of that name).
///
/// # Errors
///
/// No shipped model found (the error lists every place searched).
pub fn resolve_parent(value: &str) -> Result<PathBuf> {
    if value == DEFAULT_PARENT {
        let found = find_default_model().map_err(|e| TrainError::Context {
            what: "--init default: no shipped model found".into(),
            source: Box::new(e.into()),
        })?;
        return Ok(found.dir);
    }
    Ok(PathBuf::from(value))
}

/// A parent artifact, its manifest read and checked, one member chosen.
#[derive(Debug, Clone)]
pub struct Parent {
    /// How the run starts from it.
    pub init: InitConfig,
    /// Its manifest.
    pub manifest: Manifest,
    /// MD5 of its `manifest.json` bytes (which also pins the weights: the manifest records
    /// the configuration and statistics they were trained with).
    pub manifest_md5: String,
}

impl Parent {
    /// Reads the parent of `init` and checks the member it names.
    ///
    /// # Errors
    ///
    /// A missing directory, a missing, corrupt or unsupported manifest (the message names
    /// `--init` and the file), or an `init.member` the artifact does not have (the message
    /// lists its members).
    pub fn open(init: &InitConfig) -> Result<Self> {
        let dir = &init.from;
        let what = || format!("--init {}: cannot start from it", dir.display());
        let manifest = Manifest::read(dir).map_err(|e| TrainError::Context {
            what: what(),
            source: Box::new(e.into()),
        })?;
        let path = dir.join(MANIFEST_FILE);
        let bytes = std::fs::read(&path).map_err(|e| TrainError::io(&path, e))?;
        let parent = Self {
            init: init.clone(),
            manifest,
            manifest_md5: format!("{:x}", md5::compute(&bytes)),
        };
        if init.member >= parent.manifest.members.len() {
            return Err(TrainError::config(
                "--init-member",
                format!(
                    "{}: {} has {} member(s): {}",
                    init.member,
                    dir.display(),
                    parent.manifest.members.len(),
                    parent.members_list()
                ),
            ));
        }
        Ok(parent)
    }

    /// The members as `0 (name), 1 (name), ...`.
    pub fn members_list(&self) -> String {
        self.manifest
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| format!("{i} ({})", m.name))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The chosen member's network configuration, as the parent has it.
    pub fn model(&self) -> &ModelConfig {
        &self.manifest.members[self.init.member].model
    }

    /// The chosen member's name.
    pub fn member_name(&self) -> &str {
        &self.manifest.members[self.init.member].name
    }

    /// The parent's preprocessing (`None` in its manifest = none at all).
    pub fn preprocess(&self) -> Preprocess {
        self.manifest.preprocess.unwrap_or_else(Preprocess::none)
    }

    /// Makes `cfg` a fine-tune of this parent: its features, preprocessing and network family
    /// (the network itself is the parent's; `cfg.model`'s width options are ignored), and
    /// `cfg.init`. The recipe (epochs, learning rate, augmentation, data, split) stays.
    pub fn adopt(&self, cfg: &mut TrainConfig) {
        cfg.features = self.manifest.features.clone();
        cfg.preprocess = self.preprocess();
        let mut spec = crate::config::ModelSpec::new(self.model().family());
        spec.config = None;
        cfg.model = spec;
        cfg.init = Some(self.init.clone());
    }

    /// Checks that the run can start from this parent: the data's features and
    /// preprocessing are the parent's, the family is, and `freeze_conv` has conv layers to
    /// freeze. Each error names both values.
    ///
    /// # Errors
    ///
    /// [`TrainError::Config`] naming the setting.
    pub fn check(&self, cfg: &TrainConfig, ds: &Dataset) -> Result<()> {
        let from = self.init.from.display();
        if ds.features != self.manifest.features {
            return Err(TrainError::config(
                "features",
                format!(
                    "the data's features ({}) are not those of the parent {from} ({}); a \
                     fine-tune takes the parent's (ser_train::finetune::Parent::adopt; on the \
                     command line leave out --features and --cmvn)",
                    super::describe_features(&ds.features),
                    super::describe_features(&self.manifest.features)
                ),
            ));
        }
        if ds.preprocess != self.preprocess() {
            return Err(TrainError::config(
                "preprocessing",
                format!(
                    "the data was prepared with {:?}, the parent {from} with {:?}; a fine-tune \
                     takes the parent's (ser_train::finetune::Parent::adopt)",
                    ds.preprocess,
                    self.preprocess()
                ),
            ));
        }
        let family = self.model().family();
        if cfg.model.family != family {
            return Err(TrainError::config(
                "--model",
                format!(
                    "{}: the parent {from} is a {family}; a fine-tune keeps the parent's network",
                    cfg.model.family
                ),
            ));
        }
        if self.init.freeze_conv && family == Family::Rnn {
            return Err(TrainError::config(
                "--freeze-conv",
                format!("the parent {from} is an RNN: it has no convolutional layers to freeze"),
            ));
        }
        if self.init.functionals && self.manifest.functionals.is_none() {
            return Err(TrainError::config(
                "--functionals",
                format!("the parent {from} has no utterance-functionals head to fit again"),
            ));
        }
        if self.init.norm == InitNorm::Parent && self.member_norm().is_none() {
            return Err(TrainError::config(
                "--init-norm",
                format!(
                    "parent: member {} of {from} records no normalisation statistics; use \
                     --init-norm refit",
                    self.init.member
                ),
            ));
        }
        Ok(())
    }

    /// Refuses a run whose test speakers (`test`, as [`Dataset`] names them) the parent heard:
    /// their scores would not be speaker-independent, the first principle of every figure
    /// this project reports. Validation speakers the parent heard only pick the epoch, so
    /// they are not refused here (the caller may say so).
    ///
    /// # Errors
    ///
    /// As [`Parent::refuse_heard`], for `--init`.
    pub fn check_unheard(&self, ds: &Dataset, test: &[String]) -> Result<()> {
        if test.is_empty() {
            return Ok(());
        }
        self.refuse_heard(
            &ds.evaluated,
            &ds.speakers_with_corpus(test),
            "the test split",
            (
                "--init",
                "test on speakers the parent never heard, or start from a parent that never \
                 heard them (a model trained without them; for a cross-validation on the \
                 parent's own corpus, `ser-train cv --init-folds`)",
            ),
        )
    }

    /// Refuses held-out `speakers` (each with its corpus name) when the parent trained or
    /// validated on one of them, compared corpus by corpus ([`heard_by`]; `evaluated` are the
    /// data's corpora, [`EvaluatedCorpus::list`]), or when its manifest records no training
    /// speakers while it may have heard this data's corpora (the check cannot be made).
    /// `what` names the hold-out in the message (`fold 3`, `the test split`); `(flag, fix)`:
    /// the flag that named the parent and the sentence that ends the message.
    ///
    /// # Errors
    ///
    /// [`TrainError::Config`] for `flag`, naming the held-out and heard speakers, the parent,
    /// how they were compared and the fix.
    pub fn refuse_heard(
        &self,
        evaluated: &[EvaluatedCorpus],
        speakers: &[(String, String)],
        what: &str,
        (flag, fix): (&str, &str),
    ) -> Result<()> {
        let h = heard_by(&self.manifest, evaluated, speakers);
        let from = self.init.from.display();
        let held = speakers
            .iter()
            .map(|(s, _)| s.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if !h.overlap.is_empty() {
            return Err(TrainError::config(
                flag,
                format!(
                    "{what} would hold out {held}: the parent {from} heard test speaker(s) {} \
                     (its manifest: {}), so scores on them would not be speaker-independent. \
                     Fix: {fix}",
                    h.overlap.join(", "),
                    h.how
                ),
            ));
        }
        if !h.checked {
            return Err(TrainError::config(
                flag,
                format!(
                    "{what} would hold out {held}, but the parent {from} records no training \
                     speakers and the corpora it heard may be among this data's, so they \
                     cannot be checked for speakers it heard. Fix: {fix}"
                ),
            ));
        }
        Ok(())
    }

    /// The chosen member's normalisation statistics, if it records them.
    pub fn member_norm(&self) -> Option<&NormStats> {
        self.manifest.members[self.init.member].norm.as_ref()
    }

    /// The new network's configuration: the parent member's, with `n_classes` outputs.
    pub fn model_config(&self, n_classes: usize) -> ModelConfig {
        match self.model().clone() {
            ModelConfig::Cnn(mut c) => {
                c.n_classes = n_classes;
                ModelConfig::Cnn(c)
            }
            ModelConfig::Rnn(mut c) => {
                c.n_classes = n_classes;
                ModelConfig::Rnn(c)
            }
            ModelConfig::Crnn(mut c) => {
                c.n_classes = n_classes;
                ModelConfig::Crnn(c)
            }
        }
    }

    /// How the new labels' output rows come from the parent's.
    pub fn rows(&self, labels: &[String]) -> OutputRows {
        OutputRows::new(&self.manifest.labels, labels)
    }

    /// The network a fine-tune starts from, on `device` (an autodiff device to train it): the
    /// parent member's weights, with the output layer's rows mapped by label name
    /// ([`OutputRows`]; rows of labels the parent does not have come from `fresh`, a freshly
    /// initialised network of `model_cfg`), and the convolutional blocks frozen when
    /// `init.freeze_conv` says so.
    ///
    /// # Errors
    ///
    /// Unreadable weights (naming the file), or a parent whose output layer does not have
    /// one row per label.
    pub fn initial_model(
        &self,
        model_cfg: &ModelConfig,
        labels: &[String],
        device: &Device,
    ) -> Result<Model> {
        let member = &self.manifest.members[self.init.member];
        let dir: &Path = &self.init.from;
        let weights = member
            .load_weights(dir, device)
            .map_err(|e| TrainError::Context {
                what: format!("--init {}: cannot read its weights", dir.display()),
                source: Box::new(e.into()),
            })?;
        let rows = self.rows(labels);
        let model = if rows.is_identity() {
            weights
        } else {
            rows.apply(weights, model_cfg.init(device), device)?
        };
        Ok(if self.init.freeze_conv {
            super::freeze_conv(model)
        } else {
            model
        })
    }

    /// What the manifest records about the parent (`training.parent`).
    pub fn record(&self, labels: &[String]) -> serde_json::Value {
        let rows = self.rows(labels);
        let dir = &self.init.from;
        let path = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
        let functionals = match (&self.manifest.functionals, self.init.functionals) {
            (None, _) => "none",
            (Some(_), true) => "refit",
            (Some(_), false) => "dropped",
        };
        serde_json::json!({
            "path": path,
            "manifest_md5": self.manifest_md5,
            "labels": self.manifest.labels,
            "member": {
                "index": self.init.member,
                "name": self.member_name(),
                "of": self.manifest.members.len(),
            },
            "output_rows": {"kept": rows.kept(labels), "fresh": rows.fresh(labels)},
            "norm": self.init.norm.name(),
            "freeze_conv": self.init.freeze_conv,
            "functionals": functionals,
        })
    }
}
