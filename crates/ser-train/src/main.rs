//! `ser-train`: train a speech-emotion model with speaker-independent validation.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use ravdess_loader::{split, synth};
use ser_models::Family;
use ser_train::{BackendKind, DataSource, Distill, RecipeArgs, SpeakerSplit, TrainStatus};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModelArg {
    Cnn,
    Rnn,
    Crnn,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BackendArg {
    Flex,
    Ndarray,
    Wgpu,
}

/// Train a CNN, RNN or CRNN emotion classifier. Accuracy is always speaker-independent:
/// test actors are never seen in training.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Model family.
    #[arg(long, value_enum)]
    model: ModelArg,
    /// Corpus directory (RAVDESS layout, flat RAVDESS names, label/*.wav folders or a CSV
    /// manifest). Default: the generated corpus (24 actors, in memory).
    #[arg(long)]
    data: Option<PathBuf>,
    /// The training recipe and its adjustments.
    #[command(flatten)]
    recipe: RecipeArgs,
    /// Test actors, comma separated (default 21,22,23,24 when present, else the last ~1/6).
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["folds", "all_actors"])]
    test_actors: Vec<String>,
    /// Train on every actor, holding none out: the final fit of a recipe whose accuracy was
    /// measured by cross-validation by actor (`ser-eval cv`). The model has no score of its
    /// own; evaluate it only on speakers outside the corpus.
    #[arg(long, conflicts_with = "folds")]
    all_actors: bool,
    /// Speaker-grouped K-fold cross-validation instead of one hold-out: trains K models into
    /// <out>/fold-1 .. fold-K.
    #[arg(long)]
    folds: Option<usize>,
    /// Validation actors for early stopping, comma separated (default 19,20 when present).
    #[arg(long, value_delimiter = ',')]
    val_actors: Vec<String>,
    /// Seed of everything random.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Compute backend (only those compiled in: flex always; ndarray, wgpu by cargo feature).
    #[arg(long, value_enum, default_value = "flex")]
    backend: BackendArg,
    /// Knowledge distillation: also learn from these trained models' class probabilities
    /// (artifact directories, comma separated; the target is their mean on each clip). A
    /// teacher must not have heard the test actors: ser-train checks its manifest.
    #[arg(long, value_delimiter = ',', value_name = "DIR")]
    teacher: Vec<PathBuf>,
    /// Weight of the teachers' probabilities in the loss, in (0, 1]; the labels get the rest
    /// [default: 0.5].
    #[arg(long, value_name = "W", requires = "teacher")]
    distill_weight: Option<f32>,
    /// Output artifact directory (default runs/<model>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Feature cache directory (default <out>/../.cache).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Continue an interrupted run from <out>.checkpoint.
    #[arg(long)]
    resume: bool,
    /// Hide progress bars.
    #[arg(long)]
    quiet: bool,
    /// Generated corpus only: actors to generate (e.g. 1-8 for a quick run), comma separated.
    #[arg(long, value_delimiter = ',', hide = true)]
    synth_actors: Vec<u8>,
    /// Testing aid: checkpoint and stop after N batches, as Ctrl-C would.
    #[arg(long, hide = true)]
    stop_after_batches: Option<usize>,
    /// Testing aid: a tiny model (for fast end-to-end tests).
    #[arg(long, hide = true)]
    tiny: bool,
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// RAVDESS speakers are "01".."24": accept "1" for "01".
fn speaker(s: &str) -> String {
    match s.trim().parse::<u32>() {
        Ok(n) if n < 100 => format!("{n:02}"),
        _ => s.trim().to_string(),
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let a = Args::parse();
    let family = match a.model {
        ModelArg::Cnn => Family::Cnn,
        ModelArg::Rnn => Family::Rnn,
        ModelArg::Crnn => Family::Crnn,
    };
    let mut cfg = a.recipe.config(family, a.data.is_some());
    if !a.quiet {
        eprintln!("recipe: {}", a.recipe.describe(family, a.data.is_some()));
    }
    if let Some(d) = &a.data {
        if !d.exists() {
            bail!("--data `{}` does not exist", d.display());
        }
        cfg.data = DataSource::Dir(d.clone());
    } else if !a.synth_actors.is_empty() {
        cfg.data = DataSource::Synth(synth::SynthConfig {
            actors: a.synth_actors.clone(),
            ..Default::default()
        });
    }
    cfg.seed = a.seed;
    cfg.backend = match a.backend {
        BackendArg::Flex => BackendKind::Flex,
        BackendArg::Ndarray => BackendKind::Ndarray,
        BackendArg::Wgpu => BackendKind::Wgpu,
    };
    ser_train::backend::device(cfg.backend)?;
    if let Some(o) = &a.out {
        cfg.out = o.clone();
    }
    cfg.cache_dir = a.cache_dir.clone();
    cfg.resume = a.resume;
    cfg.progress = !a.quiet;
    cfg.stop_after_batches = a.stop_after_batches;
    cfg.split = SpeakerSplit {
        test: a.test_actors.iter().map(|s| speaker(s)).collect(),
        val: a.val_actors.iter().map(|s| speaker(s)).collect(),
    };
    cfg.no_test = a.all_actors;
    cfg.tiny = a.tiny;
    if !a.teacher.is_empty() {
        cfg.distill = Some(Distill::new(a.teacher.clone(), a.distill_weight));
    }
    ser_train::install_ctrlc_handler()?;

    let Some(k) = a.folds else {
        return report(&ser_train::train(&cfg)?);
    };
    if k < 2 {
        bail!("--folds must be at least 2");
    }
    let ds = ser_train::load_dataset(&cfg, |_, _| {})?;
    let utts: Vec<ravdess_loader::Utterance> = ds
        .items
        .iter()
        .map(|i| ravdess_loader::Utterance {
            id: i.id.clone(),
            path: None,
            audio: None,
            label: ds.labels[i.label].clone(),
            speaker: Some(i.speaker.clone()),
            gender: None,
            ravdess: None,
            ..Default::default()
        })
        .collect();
    let folds = split::kfold_by_speaker(&utts, k, cfg.seed).context("making speaker folds")?;
    let base = cfg.out.clone();
    let mut uas = Vec::new();
    for (f, fold) in folds.iter().enumerate() {
        let mut fc = cfg.clone();
        fc.out = base.join(format!("fold-{}", f + 1));
        fc.split = SpeakerSplit {
            test: fold.test_speakers.clone(),
            val: Vec::new(),
        };
        println!(
            "fold {}/{k}: test actors {}",
            f + 1,
            fold.test_speakers.join(", ")
        );
        let out = ser_train::train_on(&fc, &ds)?;
        if out.status == TrainStatus::Interrupted {
            return report(&out);
        }
        uas.push(out.test.as_ref().map_or(0.0, |m| m.ua));
        report(&out)?;
    }
    let mean = uas.iter().sum::<f64>() / uas.len() as f64;
    println!(
        "{k}-fold speaker-independent cross-validation: mean test UA {mean:.3} (folds: {uas:.3?})"
    );
    Ok(ExitCode::SUCCESS)
}

fn report(out: &ser_train::TrainOutcome) -> anyhow::Result<ExitCode> {
    match out.status {
        TrainStatus::Interrupted => {
            let ck = out
                .checkpoint
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            println!(
                "interrupted; checkpoint saved to {ck}; continue with the same options plus --resume"
            );
            Ok(ExitCode::from(130))
        }
        TrainStatus::Completed => {
            let dir = out
                .artifact
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let Some(test) = out.test.as_ref() else {
                // --all-actors: nothing was held out, so there is nothing to score.
                println!(
                    "trained on every actor (none held out: no speaker-independent score; \
                     the recipe's estimate is its cross-validation by actor, `ser-eval cv`); \
                     epoch {} kept; {:.0} s",
                    out.best_epoch, out.seconds
                );
                println!("model written to {dir}");
                return Ok(ExitCode::SUCCESS);
            };
            let kept = match out.best_val_ua {
                Some(ua) => format!("best validation UA {ua:.3} at epoch {}", out.best_epoch),
                None => format!("no validation actors, epoch {} kept", out.best_epoch),
            };
            println!(
                "test UA {:.3}, WA {:.3} on {} clips (speaker-independent: test actors {} never seen in training); \
                 {kept}; {:.0} s",
                test.ua,
                test.wa,
                test.n,
                out.split.test.join(", "),
                out.seconds
            );
            for (l, r) in out.labels.iter().zip(&test.recall) {
                if let Some(r) = r {
                    println!("  {l:<10} recall {r:.3}");
                }
            }
            println!("model written to {dir}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
