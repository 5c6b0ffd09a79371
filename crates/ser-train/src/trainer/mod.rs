//! The training loop in parts: [`Trainer::new`] sets a run up (or resumes it from its
//! checkpoint), [`Trainer::epoch`] trains and validates one epoch, [`Trainer::should_continue`]
//! is early stopping, [`Trainer::finalize`] writes the artifact; [`Trainer::run`],
//! [`train`] and [`train_on`] chain them. Progress goes to a callback as [`TrainEvent`]s.

mod epoch;
mod events;
mod finalize;
mod run;
mod setup;
mod validate;

pub use epoch::Flow;
pub use events::{Kept, Stage, TrainEvent, request_stop};
pub use run::{TrainOutcome, TrainStatus, train, train_on};
pub use setup::Trainer;
