//! [`RecipeFolds`]: every fold trained by one `ser-train` recipe on features loaded once, with
//! an optional functionals head, and the final fit on every actor (`--refit`).

use std::path::{Path, PathBuf};

use ravdess_loader::Utterance;
use ser_eval::cv::fold_dir;
use ser_models::artifact::MANIFEST_FILE;
use ser_models::{Classifier, EmotionModel};

use super::CvEvent;
use super::ensemble::refit_dir;
use super::folds::{FoldSpec, FoldTrainer};
use super::heads::Heads;
use crate::config::{SpeakerSplit, TrainConfig};
use crate::data::Dataset;
use crate::error::{Context, Result, TrainError};
use crate::trainer::{TrainStatus, train_on};

/// Trains each fold with [`crate::train_on`] on the dataset loaded once.
pub struct RecipeFolds {
    /// The recipe of every fold (its `out`, `split` and teachers are set per fold).
    pub base: TrainConfig,
    /// The corpus as features.
    pub ds: Dataset,
    /// Functionals heads, when the recipe fuses them.
    pub heads: Option<Heads>,
    /// Fold K fine-tunes `<run>/fold-K/model` (`CvOptions::init_folds`).
    pub init_folds: Option<PathBuf>,
}

impl FoldTrainer for RecipeFolds {
    fn train_fold(
        &self,
        fold: &FoldSpec<'_>,
        events: &mut (dyn FnMut(CvEvent) + Send),
    ) -> Result<Box<dyn EmotionModel>> {
        let model = self.train_network(fold, events)?;
        if let Some(heads) = &self.heads {
            heads
                .attach(&model, fold.train, &self.ds.labels, events)
                .context(|| "fitting the functionals head".into())?;
        }
        Ok(Box::new(Classifier::load(&model)?))
    }
}

impl RecipeFolds {
    /// `--refit`: trains the recipe on every actor into `<out>/refit/model` (or reuses a
    /// finished one, resumes an interrupted one) and fits its head on all of `utts`.
    ///
    /// # Errors
    ///
    /// Training or head errors; [`TrainError::Interrupted`] when Ctrl-C stopped it.
    pub fn refit(
        &self,
        out: &Path,
        utts: &[Utterance],
        events: &mut (dyn FnMut(CvEvent) + Send),
    ) -> Result<PathBuf> {
        let mut cfg = self.base.clone();
        cfg.output.dir = refit_dir(out);
        cfg.data.split = SpeakerSplit::default();
        cfg.data.no_test = true;
        if cfg.output.dir.join(MANIFEST_FILE).is_file() {
            events(CvEvent::RefitReused {
                dir: cfg.output.dir.clone(),
            });
        } else {
            events(CvEvent::RefitTraining);
            cfg.control.resume = cfg.checkpoint_dir().is_dir();
            let outcome = train_on(&cfg, &self.ds, &mut |event| {
                events(CvEvent::Train { fold: None, event })
            })
            .context(|| "refit on every actor".into())?;
            if outcome.status == TrainStatus::Interrupted {
                return Err(TrainError::Interrupted {
                    checkpoint: cfg.checkpoint_dir(),
                });
            }
        }
        if let Some(heads) = &self.heads {
            heads
                .attach(&cfg.output.dir, utts, &self.ds.labels, events)
                .context(|| "fitting the functionals head of the final fit".into())?;
        }
        events(CvEvent::RefitWritten {
            dir: cfg.output.dir.clone(),
        });
        Ok(cfg.output.dir)
    }

    /// Trains (or finds) the fold's network; returns its artifact directory.
    fn train_network(
        &self,
        fold: &FoldSpec<'_>,
        events: &mut (dyn FnMut(CvEvent) + Send),
    ) -> Result<PathBuf> {
        let mut cfg = self.base.clone();
        cfg.output.dir = fold.dir.join("model");
        if let Some(d) = cfg.distill.as_mut() {
            // Each teacher run's model of this fold: trained without this fold's test actors.
            for run in &mut d.teachers {
                *run = fold_dir(run, fold.number).join("model");
            }
        }
        if let (Some(run), Some(init)) = (&self.init_folds, cfg.init.as_mut()) {
            // This fold's parent: trained without this fold's test speakers (checked by
            // `finetune::check_fold_parents` before any fold trained).
            init.from = fold_dir(run, fold.number).join("model");
        }
        // A fold that trained but was interrupted before its evaluation keeps its model.
        if cfg.output.dir.join(MANIFEST_FILE).is_file() {
            events(CvEvent::ReusedModel {
                fold: fold.number,
                dir: cfg.output.dir.clone(),
            });
            return Ok(cfg.output.dir);
        }
        // ser-train holds out the test speakers by name; it picks validation speakers (for
        // early stopping only) among the remaining ones.
        cfg.data.split = SpeakerSplit {
            test: fold.test_speakers.to_vec(),
            val: Vec::new(),
        };
        cfg.control.resume = cfg.checkpoint_dir().is_dir();
        let number = Some(fold.number);
        let outcome = train_on(&cfg, &self.ds, &mut |event| {
            events(CvEvent::Train {
                fold: number,
                event,
            })
        })?;
        if outcome.status == TrainStatus::Interrupted {
            return Err(TrainError::Interrupted {
                checkpoint: cfg.checkpoint_dir(),
            });
        }
        let mut got = outcome.split.test.clone();
        got.sort();
        let mut want = fold.test_speakers.to_vec();
        want.sort();
        if got != want {
            return Err(TrainError::config(
                "fold",
                format!("ser-train held out actors {got:?} instead of this fold's {want:?}"),
            ));
        }
        outcome.artifact.ok_or_else(|| {
            TrainError::config("fold", "ser-train completed without writing a model")
        })
    }
}
