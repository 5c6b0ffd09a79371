//! Classification metrics with scikit-learn's conventions (no burn, no audio: plain indices).

mod bootstrap;
mod confusion;
mod report;
mod rng;

pub use bootstrap::{BootstrapCi, BootstrapConfig, Interval, bootstrap_ci};
pub use confusion::ConfusionMatrix;
pub use report::{Averages, ClassMetrics, ClassificationReport};
pub use rng::SplitMix64;
