//! librosa-compatible STFT, mel and MFCC features and the shared feature tensor types.
#![warn(missing_docs)]

mod tensor;

pub use tensor::{FeatureBatch, FeatureKind, FeatureMatrix, FeatureMeta};
