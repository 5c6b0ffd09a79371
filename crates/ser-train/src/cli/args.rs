//! Command-line arguments of `ser-train` (clap derive): training one model (the default,
//! flat command), `cv`, `cv-combine` and `cv-attach`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use ser_models::Family;
use ser_train::BackendKind;

use super::choice;
use super::data_args::DataArgs;
use super::init_args::{InitArgs, ParentArgs};
use super::recipe_args::RecipeArgs;

/// Train a CNN, RNN or CRNN emotion classifier. Accuracy is always speaker-independent:
/// test actors are never seen in training.
///
/// Examples:
///   ser-train --model crnn
///   ser-train --model crnn --data data/ravdess --folds 5
///   ser-train cv --model-type crnn --data data/ravdess --folds 5 --out runs/cv-crnn
///   ser-train cv --model-type crnn --data data/ravdess --out runs/cv-t1 --train-seed 1 --fold 2
///   ser-train cv --model-type crnn --data ravdess=data/ravdess --data emodb=data/emodb-16k \
///       --label-map emodb=datasets/labelmaps/emodb.csv --out runs/cv-two
///   ser-train cv --init default --functionals --data ravdess=data/ravdess \
///       --data emodb=data/emodb-16k --label-map emodb=datasets/labelmaps/emodb.csv \
///       --test-corpus emodb --no-val --refit --ensemble-out runs/jft --out runs/jft-cv
///   ser-train cv-combine --runs runs/cv-crnn,runs/cv-t1 --out runs/cv-2seeds
///   ser-train cv-attach --model runs/jft --run runs/jft-ravdess-cv
#[derive(Debug, Parser)]
#[command(name = "ser-train", version, verbatim_doc_comment)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Cli {
    /// Training one model (the default command).
    #[command(flatten)]
    pub train: TrainArgs,
    /// Cross-validation commands.
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
    /// Adds a finished cross-validation of a model's recipe that scored other speakers to the
    /// model's manifest (`metrics.extra_cv`), e.g. the RAVDESS CV of a model whose own CV held
    /// out EMO-DB speakers, so that ser-web and readers of the manifest show both. Only the
    /// manifest is rewritten (atomically).
    CvAttach(CvAttachArgs),
}

/// Training one model (the default command): the flags of `ser-train --model ...`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Model family (with --init: the parent's, which may be left out). (An `Option` so that
    /// the subcommands, which do not take it, can build these arguments.)
    #[arg(long, value_parser = choice::family(), required_unless_present = "init")]
    pub model: Option<Family>,
    /// The corpus or corpora.
    #[command(flatten)]
    pub data: DataArgs,
    /// The training recipe and its adjustments.
    #[command(flatten)]
    pub recipe: RecipeArgs,
    /// Fine-tuning from a trained model.
    #[command(flatten)]
    pub init: InitArgs,
    /// Test actors, comma separated (default 21,22,23,24 when present, else the last ~1/6;
    /// with several corpora, chosen so in each; `emodb:03`, or `03` when one corpus has it).
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["folds", "all_actors"])]
    pub test_actors: Vec<String>,
    /// Train on every actor, holding none out: the final fit of a recipe whose accuracy was
    /// measured by cross-validation by actor (`ser-train cv`). The model has no score of its
    /// own; evaluate it only on speakers outside the corpus.
    #[arg(long, conflicts_with = "folds")]
    pub all_actors: bool,
    /// Speaker-grouped K-fold cross-validation instead of one hold-out: trains K models into
    /// <out>/fold-1 .. fold-K.
    #[arg(long)]
    pub folds: Option<usize>,
    /// Validation actors for early stopping, comma separated (default 19,20 when present).
    #[arg(long, value_delimiter = ',')]
    pub val_actors: Vec<String>,
    /// Seed of everything random.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Compute backend (only those compiled in: flex always; ndarray, wgpu by cargo feature).
    #[arg(long, value_parser = choice::backend(), default_value = "flex")]
    pub backend: BackendKind,
    /// Knowledge distillation: also learn from these trained models' class probabilities
    /// (artifact directories, comma separated; the target is their mean on each clip). A
    /// teacher must not have heard the test actors: ser-train checks its manifest.
    #[arg(long, value_delimiter = ',', value_name = "DIR")]
    pub teacher: Vec<PathBuf>,
    /// Weight of the teachers' probabilities in the loss, in (0, 1]; the labels get the rest
    /// [default: 0.5].
    #[arg(long, value_name = "W", requires = "teacher")]
    pub distill_weight: Option<f32>,
    /// Output artifact directory (default runs/<model>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Feature cache directory (default <out>/../.cache).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Continue an interrupted run from <out>.checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Hide progress bars.
    #[arg(long)]
    pub quiet: bool,
    /// Generated corpus only: actors to generate (e.g. 1-8 for a quick run), comma separated.
    #[arg(long, value_delimiter = ',', hide = true)]
    pub synth_actors: Vec<u8>,
    /// Testing aid: checkpoint and stop after N batches, as Ctrl-C would.
    #[arg(long, hide = true)]
    pub stop_after_batches: Option<usize>,
    /// Testing aid: a tiny model (for fast end-to-end tests).
    #[arg(long, hide = true)]
    pub tiny: bool,
}

/// Arguments of `ser-train cv`.
#[derive(Debug, Args)]
pub struct CvArgs {
    /// Model architecture to train in every fold (the recipe's configuration of it). With
    /// --init it may be left out: every fold fine-tunes the parent's network, and a
    /// --model-type other than the parent's family is refused.
    #[arg(long, value_parser = choice::family(), required_unless_present_any = ["init", "init_folds"])]
    pub model_type: Option<Family>,

    /// Fine-tuning: every fold (and the --refit fit) starts from this parent, as `ser-train
    /// --init` does. A fold that holds out a speaker the parent heard (its manifest's training
    /// speakers, compared corpus by corpus) is refused: hold out a corpus the parent never
    /// heard with --test-corpus.
    #[command(flatten)]
    pub parent: ParentArgs,

    /// Fine-tune each fold from its own parent: fold K starts from RUN/fold-K/model, the
    /// fold model of an earlier `ser-train cv` run with the same --folds and --seed over the
    /// same speakers. Every fold's parent then never heard that fold's held-out speakers, so
    /// a fine-tune can be cross-validated on the corpus its parents were trained on (e.g.
    /// RAVDESS folds of a fine-tune on RAVDESS and EMO-DB of RAVDESS-trained parents). Each
    /// parent is checked against its fold as --init's is. Starts from member 0 with the
    /// parent's normalisation. Not with --init or --refit (no fold parent heard everyone:
    /// fit the model to ship with `--init <the parent trained on every speaker>`).
    #[arg(long, value_name = "RUN", conflicts_with_all = ["init", "refit"])]
    pub init_folds: Option<PathBuf>,

    /// Make the folds over the speakers of corpus NAME only (the NAME of `--data NAME=PATH`):
    /// each fold holds out some of its speakers and trains on its other speakers plus every
    /// clip of the other corpora, so every score is on NAME's speakers. Without it the folds
    /// are made over the speakers of all corpora.
    #[arg(long, value_name = "NAME")]
    pub test_corpus: Option<String>,

    /// The corpus or corpora (default: the generated RAVDESS-shaped corpus, in memory).
    #[command(flatten)]
    pub data: DataArgs,

    /// Use only these speakers (comma-separated), e.g. 1-20 of RAVDESS as 01,02,... (with
    /// several corpora `ravdess:01`, or `01` when only one corpus has it)
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub actors: Option<Vec<String>>,

    /// Number of actor folds.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(2..))]
    pub folds: u64,

    /// Seed for the fold assignment and training.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,

    /// Training seed of every fold [default: --seed]. Runs that share --seed but differ here
    /// have the same folds, so `ser-train cv-combine` can average them into a seed ensemble.
    #[arg(long, value_name = "N")]
    pub train_seed: Option<u64>,

    /// Train only these folds (comma separated, from 1), so that several processes can share
    /// one --out and run in parallel (e.g. one per core, each with RAYON_NUM_THREADS=1). The
    /// summary is written by the run that finishes last (it looks at the other folds again
    /// after its own training); if it was stopped, re-run without --fold to write it.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub fold: Option<Vec<usize>>,

    /// Knowledge distillation: fold K learns from the fold-K model of each of these earlier
    /// `ser-train cv` runs as well as from the labels (run directories, comma separated; they
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
    /// only gets its head fitted. With --init the parent's own head is not used: each fold
    /// fits its own, with the parent's fusion weight and functionals unless
    /// --functionals-weight is given.
    #[arg(long)]
    pub functionals: bool,

    /// Weight of the functionals head in the log-linear fusion, in [0, 1] [default: 0.5, the
    /// geometric mean of the two; with --init, the parent's].
    #[arg(long, value_name = "W", requires = "functionals")]
    pub functionals_weight: Option<f32>,

    /// How every fold is trained: the same recipe flags as `ser-train`.
    #[command(flatten)]
    pub recipe: RecipeArgs,

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

/// Arguments of `ser-train cv-combine`.
#[derive(Debug, Args)]
pub struct CvCombineArgs {
    /// Finished `ser-train cv` output directories (comma separated, at least two), e.g.
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
    /// by `ser-train cv --refit`) instead of its fold models, one member per run. The combined
    /// cross-validation written to --out is the estimate of that ensemble: for every fold the
    /// same recipes and seeds trained without the fold's actors, averaged as the members are.
    #[arg(long, requires = "ensemble_out")]
    pub refit: bool,
}

/// Arguments of `ser-train cv-attach`.
#[derive(Debug, Args)]
pub struct CvAttachArgs {
    /// The model artifact (a directory with manifest.json), e.g. models/default.
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,

    /// A finished `ser-train cv` or `cv-combine` directory (with cv.json) whose folds trained
    /// on and held out speakers the model heard, e.g. runs/p1/ft for the shipped model.
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,
}

/// Bootstrap settings of the fold reports.
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
    fn the_flat_form_trains_and_subcommands_do_not_need_its_flags() {
        let cli = Cli::try_parse_from(["ser-train", "--model", "crnn"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.train.model, Some(Family::Crnn));
        let cli = Cli::try_parse_from(["ser-train", "cv", "--model-type", "rnn"]).unwrap();
        let Some(Command::Cv(cv)) = cli.command else {
            panic!("not cv")
        };
        assert_eq!(cv.model_type, Some(Family::Rnn));
        assert!(Cli::try_parse_from(["ser-train"]).is_err());
        assert!(
            Cli::try_parse_from(["ser-train", "cv-combine", "--runs", "a,b", "--out", "o"]).is_ok()
        );
        assert!(
            Cli::try_parse_from(["ser-train", "cv-attach", "--model", "m", "--run", "r"]).is_ok()
        );
        assert!(Cli::try_parse_from(["ser-train", "cv-attach", "--model", "m"]).is_err());
        // Flags of the flat form are not silently taken by a subcommand.
        assert!(Cli::try_parse_from(["ser-train", "--model", "crnn", "cv"]).is_err());
    }
}
