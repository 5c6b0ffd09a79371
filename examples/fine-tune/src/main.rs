//! Example: fine-tune a trained `ser` model on a folder of labelled WAVs with `ser-train`'s
//! library API, and print the unweighted accuracy (UA) on held-out speakers before and after.
//!
//! With `--data DIR` it fine-tunes `--parent` (an artifact directory, or `default` for the
//! shipped model) on the `--train-speakers` of DIR and scores the `--test-speakers`, which it
//! never trains on. Without `--data` it runs a small demonstration that needs no download:
//! it trains a tiny parent on generated speakers, writes another generated corpus as WAV
//! files (other speakers, another seed) and fine-tunes the parent on it.

mod demo;
mod runs;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Fine-tune a speech-emotion model on your own labelled recordings.
#[derive(Debug, Parser)]
struct Args {
    /// The model to start from: an artifact directory, or `default` (the shipped model).
    /// Without --data the demonstration trains its own.
    #[arg(long)]
    parent: Option<String>,
    /// Your corpus: `label/*.wav` folders, RAVDESS or EMO-DB file names, or a CSV manifest
    /// `path,label,speaker`. Without it: the generated demonstration.
    #[arg(long)]
    data: Option<PathBuf>,
    /// A label map for --data (`from,to` per line, `to` empty or `-` drops the label), e.g.
    /// datasets/labelmaps/emodb.csv.
    #[arg(long)]
    label_map: Option<PathBuf>,
    /// Speakers to fine-tune on, comma separated (required with --data).
    #[arg(long, value_delimiter = ',')]
    train_speakers: Vec<String>,
    /// Held-out speakers to score, comma separated (required with --data).
    #[arg(long, value_delimiter = ',')]
    test_speakers: Vec<String>,
    /// Fine-tuning epochs [default: 20 with --data, 5 for the demonstration].
    #[arg(long)]
    epochs: Option<usize>,
    /// Peak learning rate [default: the recipe's].
    #[arg(long)]
    lr: Option<f64>,
    /// Also train the same network from scratch on the same speakers, for comparison.
    #[arg(long)]
    scratch: bool,
    /// Where the models (and the demonstration's files) go.
    #[arg(long, default_value = "runs/fine-tune-example")]
    out: PathBuf,
}

fn run(args: &Args) -> anyhow::Result<()> {
    let job = match &args.data {
        Some(_) => runs::Job::from_args(args)?,
        None => demo::prepare(args)?,
    };
    let scores = runs::fine_tune(&job)?;
    println!(
        "UA on held-out speakers {} ({} clips, labels {}):",
        job.test.join(","),
        scores.clips,
        scores.labels.join(",")
    );
    println!(
        "  before fine-tuning (the parent's output rows of these labels): {:.3}",
        scores.before
    );
    println!(
        "  after {} epochs of fine-tuning:                         {:.3}  ({:+.3})",
        job.epochs,
        scores.after,
        scores.after - scores.before
    );
    if let Some(s) = scores.scratch {
        println!("  the same network trained from scratch, same epochs:        {s:.3}");
    }
    println!(
        "fine-tuned model written to {}",
        job.out.join("fine-tuned").display()
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
