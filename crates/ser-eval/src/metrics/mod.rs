//! Classification metrics with scikit-learn's conventions (no burn, no audio: plain indices).

mod bootstrap;
mod confusion;
mod report;

pub use bootstrap::{BootstrapCi, BootstrapConfig, Interval, bootstrap_ci, unbiased_below};
pub use confusion::ConfusionMatrix;
pub use report::{Averages, ClassMetrics, ClassificationReport};
