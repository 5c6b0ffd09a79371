//! Command-line arguments of `ser-eval` (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The default shipped model, resolved relative to this workspace at compile time.
pub const DEFAULT_MODEL_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/default");

/// Evaluate a speech-emotion model on a labelled corpus, speaker-independently.
///
/// Prints a classification report (precision, recall, F1 per class), UA (balanced accuracy),
/// WA (accuracy), macro/weighted F1, Cohen's kappa with bootstrap 95% confidence intervals,
/// the confusion matrix and breakdowns by actor, gender and intensity. Checks the model's
/// recorded training actors against the evaluated ones and warns loudly when they overlap.
///
/// Examples:
///   ser-eval --model runs/crnn --data data/ravdess --actors 21,22,23,24
///   ser-eval --model runs/crnn --data my-corpus --format json --out runs/eval
///   ser-eval cv --model-type crnn --data data/ravdess --folds 5 --out runs/cv-crnn
///   ser-eval cv --model-type crnn --data data/ravdess --out runs/cv-t1 --train-seed 1 --fold 2
///   ser-eval cv-combine --runs runs/cv-crnn,runs/cv-t1 --out runs/cv-2seeds
#[derive(Debug, Parser)]
#[command(name = "ser-eval", version, verbatim_doc_comment)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Cli {
    /// Evaluation of an existing model (the default command).
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Other commands.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Cross-validation by actor: train on k-1 actor folds, evaluate on the held-out fold,
    /// for every fold; report per-fold and mean ± std UA/WA/macro-F1. Resumable.
    Cv(Box<CvArgs>),
    /// The cross-validation of an ensemble: averages, fold by fold, the held-out class
    /// probabilities of finished `cv` runs that share their folds (same --seed, different
    /// --train-seed or model). Nothing is retrained.
    CvCombine(CvCombineArgs),
}

/// Arguments of `ser-eval cv-combine`.
#[derive(Debug, Args)]
pub struct CvCombineArgs {
    /// Finished `ser-eval cv` output directories (comma separated, at least two), e.g.
    /// runs/cv-t0,runs/cv-t1,runs/cv-t2 from --train-seed 0, 1 and 2.
    #[arg(long, value_name = "LIST", value_delimiter = ',', required = true)]
    pub runs: Vec<PathBuf>,

    /// Output directory: fold-N/ with the ensemble's predictions and reports, cv.json, cv.md,
    /// pooled.json and confusion.png/svg.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Also write the ensemble of all the runs' fold models (runs x folds members) as one
    /// artifact in DIR. It has heard every actor: evaluate it only on other speakers.
    #[arg(long, value_name = "DIR")]
    pub ensemble_out: Option<PathBuf>,

    /// With --ensemble-out: take each run's final fit on every actor (<run>/refit/model, made
    /// by `ser-eval cv --refit`) instead of its fold models, one member per run. The combined
    /// cross-validation written to --out is the estimate of that ensemble: for every fold the
    /// same recipes and seeds trained without the fold's actors, averaged as the members are.
    #[arg(long, requires = "ensemble_out")]
    pub refit: bool,
}

/// Output format on standard output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A classification-report table plus summary, confusion matrix and breakdowns.
    Table,
    /// Tidy CSV: `metric,class,value`.
    Csv,
    /// The full report as JSON.
    Json,
}

/// Model families `ser-eval cv` can train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelType {
    /// Convolutional network over the log-mel spectrogram.
    Cnn,
    /// Recurrent network over feature frames.
    Rnn,
    /// Convolutional front end + bidirectional recurrent layer.
    Crnn,
}

/// Arguments of the evaluation command.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model directory (holding manifest.json). Default: the shipped model in models/default
    /// of this workspace, once one exists.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,

    /// Corpus to evaluate on: RAVDESS layout (Actor_NN/), flat RAVDESS names, label/*.wav
    /// folders or a CSV manifest. Unreadable files are reported and skipped.
    #[arg(long, value_name = "DIR", required = true)]
    pub data: Option<PathBuf>,

    /// Evaluate only these speakers, comma-separated (RAVDESS actors: 21,22 or 1,2; numbers are
    /// zero-padded to two digits). Default: every speaker in the data.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub actors: Option<Vec<String>>,

    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Also write report.json, report.csv, predictions.csv, breakdown.csv, confusion.png and
    /// confusion.svg into this directory (created if needed).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub bootstrap: BootstrapArgs,

    /// Clips loaded and predicted together (bounds memory).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_size: u64,

    /// Robustness check: add white noise DB decibels below each clip's RMS before predicting
    /// (seeded by clip id, so every model hears the same noise), e.g. 20. The report says so.
    #[arg(long, value_name = "DB", allow_negative_numbers = true)]
    pub noise_snr: Option<f64>,
}

/// Bootstrap settings shared by both commands.
#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// Bootstrap resamples for the confidence intervals.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub bootstrap: u64,

    /// Confidence level of the intervals, in (0, 1).
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,

    /// Seed of the bootstrap resampling (same seed, same interval).
    #[arg(long = "bootstrap-seed", default_value_t = 0)]
    pub bootstrap_seed: u64,
}

/// Arguments of `ser-eval cv`.
#[derive(Debug, Args)]
pub struct CvArgs {
    /// Model architecture to train in every fold (ser-train's default configuration of it).
    #[arg(long, value_enum)]
    pub model_type: ModelType,

    /// Corpus (as for evaluation). Default: the generated RAVDESS-shaped corpus, in memory.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,

    /// Use only these speakers (comma-separated), e.g. 1-20 of RAVDESS as 01,02,...
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub actors: Option<Vec<String>>,

    /// Number of actor folds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(2..))]
    pub folds: u64,

    /// Seed for the fold assignment and training.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Training seed of every fold [default: --seed]. Runs that share --seed but differ here
    /// have the same folds, so `ser-eval cv-combine` can average them into a seed ensemble.
    #[arg(long, value_name = "N")]
    pub train_seed: Option<u64>,

    /// Train only these folds (comma separated, from 1), so that several processes can share
    /// one --out and run in parallel (e.g. one per core, each with RAYON_NUM_THREADS=1). The
    /// summary is written by the run that finishes last (it looks at the other folds again
    /// after its own training); if it was stopped, re-run without --fold to write it.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub fold: Option<Vec<usize>>,

    /// Knowledge distillation: fold K learns from the fold-K model of each of these earlier
    /// `ser-eval cv` runs as well as from the labels (run directories, comma separated; they
    /// must use the same --folds and --seed, so no teacher has heard the fold's test actors,
    /// which ser-train checks).
    #[arg(long, value_name = "RUNS", value_delimiter = ',')]
    pub teacher_runs: Option<Vec<PathBuf>>,

    /// Weight of the teachers' probabilities in the loss, in (0, 1] [default: 0.5].
    #[arg(long, value_name = "W", requires = "teacher_runs")]
    pub distill_weight: Option<f32>,

    /// Fuse every fold's network with a logistic-regression head on utterance functionals
    /// (pitch, voicing, energy, duration, spectral shape and MFCC statistics), fitted on the
    /// same training actors, its strength chosen by an inner cross-validation by actor among
    /// them. A fold whose network already exists in --out (trained earlier, or copied there)
    /// only gets its head fitted.
    #[arg(long)]
    pub functionals: bool,

    /// Weight of the functionals head in the log-linear fusion, in [0, 1] [default: 0.5, the
    /// geometric mean of the two].
    #[arg(long, value_name = "W", requires = "functionals")]
    pub functionals_weight: Option<f32>,

    /// How every fold is trained: the same recipe flags as `ser-train`.
    #[command(flatten)]
    pub recipe: ser_train::RecipeArgs,

    /// Testing aid: train a very small version of the model (fast end-to-end tests only; its
    /// numbers mean nothing).
    #[arg(long, hide = true)]
    pub tiny: bool,

    /// Output directory: fold-N/ per fold, cv.json and cv.md. Finished folds are skipped when
    /// re-run with the same directory.
    #[arg(long, value_name = "DIR", default_value = "runs/cv")]
    pub out: PathBuf,

    /// After the last fold, also combine the K fold models into one ensemble artifact in DIR
    /// (probabilities averaged), recording the cross-validation scores in its manifest. The
    /// ensemble has heard every actor of --data: evaluate it only on other speakers. With
    /// --refit, DIR gets the final fit instead of the fold models.
    #[arg(long, value_name = "DIR")]
    pub ensemble_out: Option<PathBuf>,

    /// After the last fold, train the same recipe (same training seed, and head with
    /// --functionals) once more on every actor, none held out, into <out>/refit/model: the
    /// model to use, whose estimate is this cross-validation (it has no score of its own).
    /// A finished one found there is reused. Not with --teacher-runs (their fold models have
    /// each heard only part of the actors).
    #[arg(long, conflicts_with = "teacher_runs")]
    pub refit: bool,

    #[command(flatten)]
    pub bootstrap: BootstrapArgs,
}

/// Zero-pads purely numeric speaker ids to two digits (`1` -> `01`), as RAVDESS names them.
pub fn normalize_actors(actors: &[String]) -> Vec<String> {
    actors
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .map(|a| match a.parse::<u32>() {
            Ok(n) if a.chars().all(|c| c.is_ascii_digit()) => format!("{n:02}"),
            _ => a.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn actors_are_zero_padded() {
        let a = normalize_actors(&["1".into(), " 21".into(), "spk_a".into(), "".into()]);
        assert_eq!(a, vec!["01", "21", "spk_a"]);
    }

    #[test]
    fn cv_does_not_need_data() {
        let cli = Cli::try_parse_from(["ser-eval", "cv", "--model-type", "crnn"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Cv(_))));
        assert!(Cli::try_parse_from(["ser-eval"]).is_err());
    }
}
