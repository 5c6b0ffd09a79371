//! Command-line arguments of `ser-eval` (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
///   ser-eval --data ravdess=data/ravdess --data emodb=data/emodb-16k \
///       --label-map emodb=datasets/labelmaps/emodb.csv
///
/// Cross-validation by actor trains a model per fold: it is `ser-train cv` (and
/// `ser-train cv-combine`), which score the folds with this crate.
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

/// Commands that moved to ser-train; kept only to say so.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Moved: `ser-train cv` (cross-validation trains a model per fold).
    #[command(hide = true, disable_help_flag = true)]
    Cv(Moved),
    /// Moved: `ser-train cv-combine`.
    #[command(hide = true, disable_help_flag = true)]
    CvCombine(Moved),
}

/// The arguments of a moved command, passed on in the message that names its new home.
#[derive(Debug, Args)]
pub struct Moved {
    /// Everything after the command name.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
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

/// Arguments of the evaluation command.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model directory (manifest.json + weights) written by `ser-train`. Without it: the
    /// SER_MODEL environment variable, then ser/models/default under $XDG_DATA_HOME (or
    /// ~/.local/share), then ../share/ser/models/default and models/default next to this
    /// program, then the source tree's models/default.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,

    /// Corpus to evaluate on: RAVDESS layout (Actor_NN/), flat RAVDESS or EMO-DB names,
    /// label/*.wav folders or a CSV manifest. Unreadable files are reported and skipped.
    /// Repeat as NAME=PATH for several corpora: speakers become NAME:SPEAKER and the report
    /// gets one row per corpus.
    #[arg(long, value_name = "[NAME=]PATH", required = true)]
    pub data: Vec<String>,

    /// Speaker rule of a corpus: a regex with one capture group on the file name (e.g.
    /// `^(\d\d)`) or `column:COL` of a CSV manifest; `NAME=` says which corpus (needed with
    /// several). RAVDESS and EMO-DB names need none.
    #[arg(long = "speaker-pattern", value_name = "[NAME=]RULE")]
    pub speaker_rules: Vec<String>,

    /// Label-map file of a corpus (`from,to` lines, `-` drops; see datasets/README.md), e.g.
    /// `emodb=datasets/labelmaps/emodb.csv`. Clips it drops are reported once.
    #[arg(long = "label-map", value_name = "[NAME=]FILE")]
    pub label_maps: Vec<String>,

    /// Evaluate only clips with these labels (after the label maps; comma separated); the
    /// others are reported once as left out. Default: every label (labels the model lacks
    /// are listed as unmapped).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub labels: Vec<String>,

    /// Evaluate only these speakers, comma-separated (RAVDESS actors: 21,22 or 1,2; numbers are
    /// zero-padded to two digits; with several corpora `emodb:03`, or a bare `03` when only
    /// one corpus has it). Default: every speaker in the data.
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

    /// Evaluate one member of an ensemble on its own: its name (e.g. fold-3) or its position
    /// from 0. Without --actors, the member of a fold ensemble (`ser-train cv
    /// --ensemble-out`) is evaluated on the actors its fold held out.
    #[arg(long, value_name = "NAME|INDEX")]
    pub member: Option<String>,

    /// Average each clip's probabilities over copies of its features warped along the
    /// frequency axis by these factors (the warp ser-train augments with), e.g. 0.95,1,1.05;
    /// replaces the model's own test-time warps. `1` = the features once, as they are.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub test_time_warps: Option<Vec<f32>>,

    /// The networks alone: leave out the model's utterance-functionals heads.
    #[arg(long)]
    pub networks_only: bool,
}

/// Bootstrap settings of the report.
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn data_repeats_with_per_corpus_options() {
        let cli = Cli::try_parse_from([
            "ser-eval",
            "--data",
            "ravdess=r",
            "--data",
            "emodb=e",
            "--label-map",
            "emodb=m.csv",
            "--speaker-pattern",
            "emodb=^(\\d\\d)",
            "--labels",
            "angry,sad",
        ])
        .unwrap();
        assert_eq!(cli.eval.data, ["ravdess=r", "emodb=e"]);
        assert_eq!(cli.eval.label_maps, ["emodb=m.csv"]);
        assert_eq!(cli.eval.labels, ["angry", "sad"]);
    }

    #[test]
    fn member_and_test_time_warps() {
        let cli = Cli::try_parse_from([
            "ser-eval",
            "--data",
            "d",
            "--member",
            "fold-3",
            "--test-time-warps",
            "0.95,1,1.05",
            "--networks-only",
        ])
        .unwrap();
        assert_eq!(cli.eval.member.as_deref(), Some("fold-3"));
        assert_eq!(cli.eval.test_time_warps, Some(vec![0.95, 1.0, 1.05]));
        assert!(cli.eval.networks_only);
    }

    #[test]
    fn moved_commands_parse_any_flags_and_keep_them() {
        let cli =
            Cli::try_parse_from(["ser-eval", "cv", "--model-type", "crnn", "--help"]).unwrap();
        let Some(Command::Cv(m)) = cli.command else {
            panic!("not the cv stub")
        };
        assert_eq!(m.args, ["--model-type", "crnn", "--help"]);
        assert!(Cli::try_parse_from(["ser-eval", "cv-combine", "--runs", "a,b"]).is_ok());
        assert!(Cli::try_parse_from(["ser-eval"]).is_err());
    }
}
