//! What a training run reports while it runs, and how it is asked to stop. The library prints
//! nothing: a caller passes a callback that receives [`TrainEvent`]s (the `ser-train` binary
//! turns them into progress bars and log lines).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::report::EpochRow;

/// A long step whose progress is counted in clips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Decoding and feature extraction of the corpus (cached).
    Features,
    /// The teachers' probabilities for distillation.
    TeacherTargets,
    /// Utterance functionals for the heads (cross-validation with `--functionals`).
    Functionals,
}

impl Stage {
    /// A short lowercase name, for progress bars.
    pub fn name(self) -> &'static str {
        match self {
            Self::Features => "features",
            Self::TeacherTargets => "teacher targets",
            Self::Functionals => "functionals",
        }
    }
}

/// Where the kept model stands after an epoch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kept {
    /// The best validation epoch is kept: its UA and (1-based) epoch.
    Best {
        /// Best validation UA so far.
        ua: f64,
        /// Its epoch.
        epoch: usize,
    },
    /// Every epoch replaces the kept model (`keep_last`, or no validation speakers).
    Last,
}

/// Something a training run reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TrainEvent {
    /// `done` of `total` clips of a long step.
    Progress {
        /// The step.
        stage: Stage,
        /// Clips done.
        done: usize,
        /// Clips in all.
        total: usize,
    },
    /// Something the user should know that does not stop the run (a cache or plot that could
    /// not be written, a clip that could not be read).
    Warning(String),
    /// How the run was set up, worth a line in a log (e.g. what a fine-tune takes from its
    /// parent).
    Note(String),
    /// Training starts (or resumes) with this epoch.
    EpochStart {
        /// 1-based epoch.
        epoch: usize,
        /// The epoch budget.
        epochs: usize,
        /// Batches per epoch.
        batches: usize,
        /// Batches of this epoch already done (a run resumed mid-epoch).
        done: usize,
    },
    /// A training batch finished.
    Batch {
        /// 1-based epoch.
        epoch: usize,
        /// Batches of the epoch done.
        done: usize,
        /// Batches per epoch.
        batches: usize,
        /// Mean training loss of the epoch so far.
        loss: f64,
        /// Training accuracy of the epoch so far (on augmented crops).
        accuracy: f64,
        /// Learning rate of the batch.
        lr: f64,
    },
    /// An epoch finished (validation included) and was logged and checkpointed.
    EpochEnd {
        /// The log row.
        row: EpochRow,
        /// This epoch is the new best one (never with [`Kept::Last`]).
        best: bool,
        /// The kept model after it.
        kept: Kept,
    },
    /// Early stopping ended the run before its epoch budget.
    EarlyStop {
        /// Epochs run.
        epochs_run: usize,
        /// The kept (best) epoch.
        best_epoch: usize,
    },
    /// The run stopped on request (Ctrl-C, `stop_after_batches`) with a checkpoint.
    Interrupted {
        /// The checkpoint directory (resume with the same config and `control.resume`).
        checkpoint: PathBuf,
    },
    /// The artifact was written.
    Saved {
        /// The artifact directory.
        artifact: PathBuf,
    },
}

static STOP: AtomicBool = AtomicBool::new(false);

/// Asks every running training loop of the process to checkpoint after its current batch and
/// return [`crate::TrainStatus::Interrupted`] (what a binary's Ctrl-C handler calls).
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

/// Whether [`request_stop`] was called.
pub(crate) fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}
