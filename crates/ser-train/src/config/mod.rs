//! [`TrainConfig`] and its parts, the training recipes ([`Preset`]) and the reader of configs
//! saved before the config was nested.

mod augment;
mod corpora;
mod init;
mod legacy;
mod recipe;
mod train;

pub use augment::{AugmentConfig, ChannelAugment, WaveNoise};
pub use corpora::{CorporaSource, CorpusEntry};
pub use init::{InitConfig, InitNorm};
pub use recipe::Preset;
pub use train::{
    BackendKind, ComputeConfig, DataConfig, DataSource, Distill, ModelSpec, OptimConfig,
    OutputConfig, RunControl, ScheduleConfig, SpeakerSplit, TrainConfig,
};
