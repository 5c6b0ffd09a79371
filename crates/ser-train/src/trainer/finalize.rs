//! The end of a run: the kept model as an artifact (manifest with the config, the split and
//! the test speakers' scores, weights, the log and learning curves, `config.json`), scored on
//! the test speakers through the same `Classifier` every tool uses.

use std::collections::HashMap;
use std::path::PathBuf;

use burn::module::Module;
use ser_eval::metrics::ClassificationReport;
use ser_eval::{CorpusScore, corpus_scores_of};
use ser_models::Classifier;
use ser_models::artifact::{ArtifactKind, FORMAT_VERSION, Manifest, Member, save_with_files};

use super::events::TrainEvent;
use super::run::{TrainOutcome, TrainStatus};
use super::setup::Trainer;
use crate::error::{Result, TrainError};

impl Trainer<'_> {
    /// Writes the kept model (the best epoch's, or the last one's) as an artifact in
    /// `cfg.output.dir`, scored on the test speakers, and removes the checkpoint.
    ///
    /// # Errors
    ///
    /// Model, scoring and I/O errors.
    pub fn finalize(self, events: &mut (dyn FnMut(TrainEvent) + Send)) -> Result<TrainOutcome> {
        let best = self.best.clone().unwrap_or_else(|| self.model.valid());
        let mut manifest = self.manifest();
        let test_functionals = self.parent_head(&mut manifest, events)?;
        // No test speakers (`no_test`): no score rather than a score of nothing, and no
        // classifier built to compute it.
        let (test, by_corpus) = if self.plan.test_idx.is_empty() {
            (None, Vec::new())
        } else {
            let (t, c) = self.test_scores(&manifest, &best, test_functionals.as_ref())?;
            (Some(t), c)
        };
        self.record(&mut manifest, test.as_ref(), &by_corpus);
        // A fine-tune of 0 epochs has written no checkpoint yet.
        std::fs::create_dir_all(&self.ckpt_dir).map_err(|e| TrainError::io(&self.ckpt_dir, e))?;
        let config = self.ckpt_dir.join("config.json");
        self.cfg.save(&config)?;
        let extras: Vec<PathBuf> = ["log.csv", "curve.png", "curve.svg", "config.json"]
            .iter()
            .map(|f| self.ckpt_dir.join(f))
            .filter(|p| p.is_file())
            .collect();
        let out = self.cfg.output.dir.clone();
        save_with_files(&out, &manifest, &[best], &extras)?;
        let _ = std::fs::remove_dir_all(&self.ckpt_dir);
        events(TrainEvent::Saved {
            artifact: out.clone(),
        });
        let mut outcome = self.outcome(TrainStatus::Completed, test, Some(out), None);
        outcome.test_by_corpus = by_corpus;
        Ok(outcome)
    }

    /// The manifest of the kept model, before its training record and scores.
    fn manifest(&self) -> Manifest {
        let (ds, state) = (self.ds, &self.state);
        Manifest {
            format_version: FORMAT_VERSION,
            kind: ArtifactKind::Single,
            members: vec![Member {
                name: "model".into(),
                model: state.model.clone(),
                weights: "model.bpk".into(),
                norm: Some(state.norm.clone()),
                head: None,
            }],
            features: ds.features.clone(),
            preprocess: Some(ds.preprocess),
            labels: ds.labels.clone(),
            protocol: self.protocol(),
            training: serde_json::Value::Null,
            metrics: serde_json::Value::Null,
            test_time_warps: Vec::new(),
            functionals: None,
        }
    }

    /// What the artifact's scores mean: which speakers were held out, and how.
    fn protocol(&self) -> String {
        let split = &self.plan.split;
        if split.test.is_empty() {
            format!(
                "trained on every speaker of the corpus ({}{}): no speaker-independent score of \
                 its own; its estimate is the cross-validation by speaker of the same recipe",
                self.ds
                    .speakers()
                    .into_iter()
                    .filter(|s| !split.val.contains(s))
                    .collect::<Vec<_>>()
                    .join(", "),
                if split.val.is_empty() {
                    ", last epoch kept".to_string()
                } else {
                    format!(
                        "; validation actors {} for early stopping",
                        split.val.join(", ")
                    )
                }
            )
        } else if split.val.is_empty() {
            format!(
                "speaker-independent: test actors {} never seen in training (no validation actors: every other actor trained, last epoch kept)",
                split.test.join(", ")
            )
        } else {
            format!(
                "speaker-independent: test actors {} never seen in training (validation actors {} used only for early stopping)",
                split.test.join(", "),
                split.val.join(", ")
            )
        }
    }

    /// A fine-tune with `--functionals`: the parent's head fitted again on this run's
    /// training clips, put into `manifest`; returns the test clips' functionals to score the
    /// fused model with. `None` (and no head) otherwise.
    fn parent_head(
        &self,
        manifest: &mut Manifest,
        events: &mut (dyn FnMut(TrainEvent) + Send),
    ) -> Result<Option<HashMap<String, Vec<f32>>>> {
        let Some(parent) = self.plan.parent.as_ref().filter(|p| p.init.functionals) else {
            return Ok(None);
        };
        let Some(fusion) = parent.manifest.functionals.clone() else {
            return Ok(None);
        };
        let idx = (&self.plan.train_idx[..], &self.plan.test_idx[..]);
        let refit = crate::finetune::refit_head(self.cfg, self.ds, &fusion, idx, events)?;
        manifest.members[0].head = Some(refit.head);
        manifest.functionals = Some(fusion);
        Ok(Some(refit.test_functionals))
    }

    /// The kept model's scores on the test speakers, predicted from the cached features (and,
    /// for a fused model, the clips' functionals) by the artifact's own classifier, and with
    /// several corpora one row per corpus (UA over that corpus's own labels).
    fn test_scores(
        &self,
        manifest: &Manifest,
        best: &ser_models::Model,
        functionals: Option<&HashMap<String, Vec<f32>>>,
    ) -> Result<(ClassificationReport, Vec<CorpusScore>)> {
        let ds = self.ds;
        let classifier =
            Classifier::from_parts(manifest.clone(), vec![best.clone()], &self.device)?;
        let idx = &self.plan.test_idx;
        let mut preds = Vec::with_capacity(idx.len());
        for &i in idx {
            let item = &ds.items[i];
            let p = match functionals {
                Some(f) => {
                    let Some(row) = f.get(&item.id) else {
                        return Err(TrainError::Data {
                            path: ds.source.clone().into(),
                            reason: format!("no functionals for test clip `{}`", item.id),
                        });
                    };
                    classifier.predict_with_functionals(&item.features, row)?
                }
                None => classifier.predict_features(&item.features)?,
            };
            preds.push(p.index);
        }
        let targets: Vec<usize> = idx.iter().map(|&i| ds.items[i].label).collect();
        let by_corpus = if ds.corpora.is_empty() {
            Vec::new()
        } else {
            let rows: Vec<(&str, usize, usize)> = idx
                .iter()
                .zip(&targets)
                .zip(&preds)
                .map(|((&i, &t), &p)| (ds.items[i].corpus.as_str(), t, p))
                .collect();
            let names: Vec<String> = ds.corpora.iter().map(|c| c.name.clone()).collect();
            corpus_scores_of(&ds.labels, &rows, &names)?
        };
        let report = ClassificationReport::new(&targets, &preds, ds.labels.len())?;
        Ok((report, by_corpus))
    }

    /// Fills the manifest's training record (the config among it; with several corpora, the
    /// corpora, whose names prefix the speakers) and scores (per corpus too).
    fn record(
        &self,
        manifest: &mut Manifest,
        test: Option<&ClassificationReport>,
        by_corpus: &[CorpusScore],
    ) {
        let (cfg, ds, state, plan) = (self.cfg, self.ds, &self.state, &self.plan);
        manifest.training = serde_json::json!({
            "config": cfg,
            "data": ds.source,
            "train_speakers": ds.speakers().into_iter().filter(|s| !plan.held.contains(s)).collect::<Vec<_>>(),
            "n_train": plan.train_idx.len(),
            "n_val": plan.val_idx.len(),
            "n_test": plan.test_idx.len(),
            "epochs_run": state.log.len(),
            "best_epoch": state.best_epoch,
            "seconds": state.seconds,
            "backend": cfg.compute.backend.name(),
        });
        if let Some(p) = &plan.parent {
            manifest.training["parent"] = p.record(&ds.labels);
        }
        manifest.metrics = serde_json::json!({
            "protocol": manifest.protocol,
            "test_actors": plan.split.test,
            "val_actors": plan.split.val,
            "test": test.map(|m| metrics_json(m, &ds.labels)),
            "validation": state.best_metrics.as_ref().map(|m| metrics_json(m, &ds.labels)),
        });
        // The corpora by name and folder (`--data NAME=PATH`), so that evaluations compare
        // speakers corpus by corpus (`ser_eval::heard`).
        if let crate::DataSource::Corpora(c) = &cfg.data.source {
            manifest.training["corpora"] = serde_json::json!(c.refs());
        }
        if test.is_some() && !by_corpus.is_empty() {
            manifest.metrics["test"]["by_corpus"] = serde_json::json!(by_corpus);
        }
    }

    /// The outcome of the run as it stands.
    pub(super) fn outcome(
        &self,
        status: TrainStatus,
        test: Option<ClassificationReport>,
        artifact: Option<PathBuf>,
        checkpoint: Option<PathBuf>,
    ) -> TrainOutcome {
        let state = &self.state;
        TrainOutcome {
            status,
            artifact,
            checkpoint,
            split: state.split.clone(),
            best_val_ua: state.best_metrics.as_ref().map(|m| m.balanced_accuracy),
            best_epoch: state.best_epoch,
            test,
            labels: self.ds.labels.clone(),
            log: state.log.clone(),
            seconds: state.seconds,
            test_by_corpus: Vec::new(),
        }
    }
}

/// The scores the manifest records (recall `null` for a class absent from the clips).
fn metrics_json(m: &ClassificationReport, labels: &[String]) -> serde_json::Value {
    let per_class: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .zip(&m.per_class)
        .map(|(l, c)| {
            (
                l.clone(),
                serde_json::json!((c.support > 0).then_some(c.recall)),
            )
        })
        .collect();
    serde_json::json!({
        "ua": m.balanced_accuracy, "wa": m.accuracy, "n": m.n, "recall": per_class,
        "confusion": m.confusion.counts(), "labels": labels,
    })
}
