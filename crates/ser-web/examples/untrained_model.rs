//! Writes an *untrained* model artifact of the default configuration of a family, for load
//! testing the server before a trained model exists (`benches/web_load.sh` uses it).
//!
//! Latency and memory depend on the architecture and the feature configuration, not on the
//! weights' values, so timings measured with this artifact hold for a trained model of the
//! same family. Its predictions are meaningless: never use it for accuracy.
//!
//! ```text
//! cargo run --release -p ser-web --example untrained_model -- crnn /tmp/untrained-crnn
//! ```

use std::path::PathBuf;

use burn::prelude::Device;
use ser_models::artifact::{Manifest, save};
use ser_models::{Family, ModelConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: untrained_model <cnn|rnn|crnn> <OUT_DIR>";
    let family = match args.next().as_deref() {
        Some("cnn") => Family::Cnn,
        Some("rnn") => Family::Rnn,
        Some("crnn") => Family::Crnn,
        _ => return Err(usage.into()),
    };
    let out = PathBuf::from(args.next().ok_or(usage)?);
    let features = dsp_features::FeatureConfig::default();
    let labels: Vec<String> = ravdess_loader::Emotion::ALL
        .iter()
        .map(|e| e.name().to_string())
        .collect();
    let config = ModelConfig::default_for(family, features.output_bins(), labels.len());
    let model = config.init(&Device::default());
    let manifest = Manifest::single(
        format!("untrained-{family}"),
        config,
        features,
        labels,
        "none: UNTRAINED weights, for load testing only",
    );
    save(&out, &manifest, &[model])?;
    println!("wrote untrained {family} artifact to {}", out.display());
    Ok(())
}
