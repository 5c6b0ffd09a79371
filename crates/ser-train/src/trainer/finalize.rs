//! The end of a run: the kept model as an artifact (manifest with the config, the split and
//! the test speakers' scores, weights, the log and learning curves, `config.json`), scored on
//! the test speakers through the same `Classifier` every tool uses.

use std::path::PathBuf;

use burn::module::Module;
use ser_eval::metrics::ClassificationReport;
use ser_models::Classifier;
use ser_models::artifact::{ArtifactKind, FORMAT_VERSION, Manifest, Member, save_with_files};

use super::events::TrainEvent;
use super::run::{TrainOutcome, TrainStatus};
use super::setup::Trainer;
use crate::error::Result;

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
        // No test speakers (`no_test`): no score rather than a score of nothing, and no
        // classifier built to compute it.
        let test = if self.plan.test_idx.is_empty() {
            None
        } else {
            Some(self.test_scores(&manifest, &best)?)
        };
        self.record(&mut manifest, test.as_ref());
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
        Ok(self.outcome(TrainStatus::Completed, test, Some(out), None))
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

    /// The kept model's scores on the test speakers, predicted from the cached features by
    /// the artifact's own classifier.
    fn test_scores(
        &self,
        manifest: &Manifest,
        best: &ser_models::Model,
    ) -> Result<ClassificationReport> {
        let ds = self.ds;
        let classifier =
            Classifier::from_parts(manifest.clone(), vec![best.clone()], &self.device)?;
        let idx = &self.plan.test_idx;
        let mut preds = Vec::with_capacity(idx.len());
        for &i in idx {
            preds.push(classifier.predict_features(&ds.items[i].features)?.index);
        }
        let targets: Vec<usize> = idx.iter().map(|&i| ds.items[i].label).collect();
        Ok(ClassificationReport::new(
            &targets,
            &preds,
            ds.labels.len(),
        )?)
    }

    /// Fills the manifest's training record (the config among it) and scores.
    fn record(&self, manifest: &mut Manifest, test: Option<&ClassificationReport>) {
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
        manifest.metrics = serde_json::json!({
            "protocol": manifest.protocol,
            "test_actors": plan.split.test,
            "val_actors": plan.split.val,
            "test": test.map(|m| metrics_json(m, &ds.labels)),
            "validation": state.best_metrics.as_ref().map(|m| metrics_json(m, &ds.labels)),
        });
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
