//! Running a training job: [`train`] (load the corpus, then train) and [`train_on`] (train on
//! a loaded dataset), both [`Trainer::run`] underneath, and what they return.

use std::path::PathBuf;

use ser_eval::metrics::ClassificationReport;
use serde::{Deserialize, Serialize};

use super::epoch::Flow;
use super::events::TrainEvent;
use super::setup::Trainer;
use crate::config::{SpeakerSplit, TrainConfig};
use crate::data::{Dataset, load_dataset};
use crate::error::Result;
use crate::report::EpochRow;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrainStatus {
    /// All epochs ran or early stopping triggered; the artifact was written.
    Completed,
    /// Stopped by Ctrl-C or `stop_after_batches`; a checkpoint was written, no artifact.
    Interrupted,
}

/// The result of [`train`] and [`train_on`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainOutcome {
    /// How the run ended.
    pub status: TrainStatus,
    /// The artifact directory (when completed).
    pub artifact: Option<PathBuf>,
    /// The checkpoint directory (when interrupted).
    pub checkpoint: Option<PathBuf>,
    /// Held-out speakers.
    pub split: SpeakerSplit,
    /// The kept epoch's validation UA (the best one's, or the last one's with `keep_last`);
    /// `None` when the run has no validation speakers (`no_val`) or no epoch finished.
    pub best_val_ua: Option<f64>,
    /// 1-based epoch of the kept model (0 before the first epoch ends).
    pub best_epoch: usize,
    /// Metrics on the test speakers (when completed; `None` with `no_test`).
    pub test: Option<ClassificationReport>,
    /// Class names.
    pub labels: Vec<String>,
    /// Per-epoch log.
    pub log: Vec<EpochRow>,
    /// Training seconds (all sessions of a resumed run).
    pub seconds: f64,
    /// With several corpora: the test scores of each corpus (UA and macro-F1 over that
    /// corpus's own labels); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test_by_corpus: Vec<ser_eval::CorpusScore>,
}

impl Trainer<'_> {
    /// Trains epoch after epoch until the budget is spent or early stopping fires, then
    /// writes the artifact ([`Trainer::finalize`]); a stop request ends it with a checkpoint
    /// instead ([`TrainStatus::Interrupted`]).
    ///
    /// # Errors
    ///
    /// As [`Trainer::epoch`] and [`Trainer::finalize`].
    pub fn run(mut self, events: &mut (dyn FnMut(TrainEvent) + Send)) -> Result<TrainOutcome> {
        while self.should_continue() {
            if self.epoch(events)? == Flow::Stopped {
                let checkpoint = self.ckpt_dir.clone();
                events(TrainEvent::Interrupted {
                    checkpoint: checkpoint.clone(),
                });
                return Ok(self.outcome(TrainStatus::Interrupted, None, None, Some(checkpoint)));
            }
        }
        if self.state.epoch < self.cfg.schedule.epochs {
            events(TrainEvent::EarlyStop {
                epochs_run: self.state.epoch,
                best_epoch: self.state.best_epoch,
            });
        }
        self.finalize(events)
    }
}

/// Loads the data of `cfg` (with the feature cache) and trains; `events` hears about every
/// step (nothing is printed).
///
/// # Errors
///
/// An invalid config, unusable data, and everything [`train_on`] refuses.
pub fn train(
    cfg: &TrainConfig,
    events: &mut (dyn FnMut(TrainEvent) + Send),
) -> Result<TrainOutcome> {
    cfg.validate()?;
    let ds = load_dataset(cfg, events)?;
    train_on(cfg, &ds, events)
}

/// Trains on an already loaded dataset (lets a cross-validation load the corpus once and
/// train every fold with its own `cfg.data.split`).
///
/// # Errors
///
/// As [`Trainer::new`] and [`Trainer::run`].
pub fn train_on(
    cfg: &TrainConfig,
    ds: &Dataset,
    events: &mut (dyn FnMut(TrainEvent) + Send),
) -> Result<TrainOutcome> {
    Trainer::new(cfg, ds, events)?.run(events)
}
