//! Example: train a small model through the `ser` library, as another project would.
//!
//! It trains a small CRNN (or CNN) for a few epochs on the generated emotional-speech corpus
//! (made in memory, no download), holding out one speaker for the test and one for early
//! stopping, prints the unweighted accuracy (UA) on the held-out speaker, saves the model
//! artifact, loads it back as any tool would and predicts one clip of the held-out speaker.
//! A few epochs on a few speakers: a demonstration of the API, not a result.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use ser::prelude::*;

/// Train a small speech-emotion model on generated speech, then use it.
#[derive(Debug, Parser)]
struct Args {
    /// Network family.
    #[arg(long, value_enum, default_value_t = Net::Crnn)]
    model: Net,
    /// Training epochs (early stopping may end sooner).
    #[arg(long, default_value_t = 6)]
    epochs: usize,
    /// Where the model artifact (and the feature cache) go.
    #[arg(long, default_value = "runs/train-small-example")]
    out: PathBuf,
}

/// The families this example offers (`ser::models::Family` has a third, the RNN).
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Net {
    Crnn,
    Cnn,
}

/// Generated speakers: 1-5 train, 6 is held out for early stopping, 7 for the test.
const ACTORS: std::ops::RangeInclusive<u8> = 1..=7;
const VAL: &str = "06";
const TEST: &str = "07";

/// Emotion cues of the generated speech, exaggerated so that a small model learns them in
/// seconds (`SynthConfig::emotion_scale`; 1.0 is the documented corpus).
const EMOTION_SCALE: f64 = 2.0;

fn run(args: &Args) -> anyhow::Result<()> {
    if args.epochs == 0 {
        bail!("--epochs must be at least 1");
    }
    let family = match args.model {
        Net::Crnn => Family::Crnn,
        Net::Cnn => Family::Cnn,
    };
    let synth = SynthConfig {
        actors: ACTORS.collect(),
        emotion_scale: EMOTION_SCALE,
        ..SynthConfig::default()
    };
    // The recipe for the generated corpus, shrunk: a tiny network on 1.5 s crops, in batches
    // of 8 so that 300 clips still give ~38 updates an epoch.
    let mut cfg = TrainConfig::preset(family, Preset::Generated);
    cfg.model.tiny = true;
    cfg.augment.crop_seconds = 1.5;
    cfg.optim.lr = 3e-3;
    cfg.optim.batch_size = 8;
    cfg.schedule.epochs = args.epochs;
    cfg.data.source = DataSource::Synth(synth.clone());
    cfg.data.split = SpeakerSplit {
        test: vec![TEST.into()],
        val: vec![VAL.into()],
    };
    cfg.output.dir = args.out.join(family.name());
    cfg.output.cache_dir = Some(args.out.join(".cache"));

    // The library prints nothing; it reports through events.
    let outcome = train(&cfg, &mut |event| {
        if let TrainEvent::EpochEnd { row, .. } = event {
            eprintln!(
                "epoch {:>2}: training loss {:.3}, validation UA {}",
                row.epoch,
                row.train_loss,
                row.val_ua.map_or("-".into(), |ua| format!("{ua:.3}"))
            );
        }
    })
    .context("training")?;
    let ua = outcome
        .test
        .as_ref()
        .map(|t| t.balanced_accuracy)
        .context("the run has no test score")?;
    let artifact = outcome.artifact.context("the run wrote no artifact")?;
    println!(
        "held-out speaker {TEST}: UA {ua:.3} (chance {:.3}), {} classes, best epoch {}",
        1.0 / outcome.labels.len() as f64,
        outcome.labels.len(),
        outcome.best_epoch
    );
    println!("model artifact written to {}", artifact.display());

    // Load it back as any tool would, and predict one clip the model never heard.
    let model = Classifier::load(&artifact).context("loading the artifact back")?;
    let name = ser::corpus::synth::clip_names(7)
        .into_iter()
        .find(|n| n.emotion == Emotion::Sad)
        .context("the generated corpus has no sad clip")?;
    let clip = ser::corpus::synth::synthesize(&synth, &name);
    let p: Prediction = model.predict(&clip)?;
    println!(
        "reloaded model on a {} clip of speaker {TEST}: {} ({:.2})",
        name.emotion.name(),
        p.label,
        p.probabilities.get(p.index).copied().unwrap_or(0.0)
    );
    Ok(())
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
