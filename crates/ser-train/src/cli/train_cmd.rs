//! `ser-train [--model ...]`: train one model, or one per speaker fold with `--folds`.

use std::process::ExitCode;

use anyhow::{Context, bail};
use ravdess_loader::{speaker, split, synth};
use ser_models::Family;
use ser_train::{DataSource, Distill, SpeakerSplit, TrainConfig, TrainStatus};

use super::args::TrainArgs;
use super::init_args;
use super::progress::TrainBars;

/// Trains one model (or, with `--folds`, one per speaker fold) as the flags say.
pub fn run(a: &TrainArgs) -> anyhow::Result<ExitCode> {
    let parent = match a.init.config()? {
        Some(init) => Some(ser_train::finetune::Parent::open(&init)?),
        None => None,
    };
    let family = init_args::family(a, parent.as_ref())?;
    if !a.quiet {
        eprintln!("recipe: {}", a.recipe.describe(family, a.data.given()));
    }
    let mut cfg = config(a, family)?;
    if let Some(p) = &parent {
        init_args::apply(a, p, &mut cfg)?;
    }
    let mut bars = TrainBars::new(a.quiet);
    let Some(k) = a.folds else {
        return report(&ser_train::train(&cfg, &mut |e| bars.show(e))?);
    };
    if k < 2 {
        bail!("--folds must be at least 2");
    }
    folds(&cfg, k, &mut bars)
}

/// The run's config: the recipe with every flag applied.
fn config(a: &TrainArgs, family: Family) -> anyhow::Result<TrainConfig> {
    let mut cfg = a.recipe.config(family, a.data.given());
    if let Some(source) = a.data.source()? {
        cfg.data.source = source;
    } else if !a.synth_actors.is_empty() {
        cfg.data.source = DataSource::Synth(synth::SynthConfig {
            actors: a.synth_actors.clone(),
            ..Default::default()
        });
    }
    cfg.seed = a.seed;
    cfg.compute.backend = a.backend;
    ser_train::backend::device(cfg.compute.backend)?;
    if let Some(o) = &a.out {
        cfg.output.dir = o.clone();
    }
    cfg.output.cache_dir = a.cache_dir.clone();
    cfg.control.resume = a.resume;
    cfg.control.stop_after_batches = a.stop_after_batches;
    cfg.data.split = SpeakerSplit {
        test: speaker::normalise_all(&a.test_actors),
        val: speaker::normalise_all(&a.val_actors),
    };
    cfg.data.no_test = a.all_actors;
    cfg.model.tiny = a.tiny;
    if !a.teacher.is_empty() {
        cfg.distill = Some(Distill::new(a.teacher.clone(), a.distill_weight));
    }
    Ok(cfg)
}

/// `--folds K`: one model per speaker fold into `<out>/fold-N`, and their mean test UA.
fn folds(cfg: &TrainConfig, k: usize, bars: &mut TrainBars) -> anyhow::Result<ExitCode> {
    let ds = ser_train::load_dataset(cfg, &mut |e| bars.show(e))?;
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
    let base = cfg.output.dir.clone();
    let mut uas = Vec::new();
    for (f, fold) in folds.iter().enumerate() {
        let mut fc = cfg.clone();
        fc.output.dir = base.join(format!("fold-{}", f + 1));
        fc.data.split = SpeakerSplit {
            test: fold.test_speakers.clone(),
            val: Vec::new(),
        };
        println!(
            "fold {}/{k}: test actors {}",
            f + 1,
            fold.test_speakers.join(", ")
        );
        let out = ser_train::train_on(&fc, &ds, &mut |e| bars.show(e))?;
        if out.status == TrainStatus::Interrupted {
            return report(&out);
        }
        uas.push(out.test.as_ref().map_or(0.0, |m| m.balanced_accuracy));
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
                     the recipe's estimate is its cross-validation by actor, `ser-train cv`); \
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
                test.balanced_accuracy,
                test.accuracy,
                test.n,
                out.split.test.join(", "),
                out.seconds
            );
            for (l, c) in out.labels.iter().zip(&test.per_class) {
                if c.support > 0 {
                    println!("  {l:<10} recall {:.3}", c.recall);
                }
            }
            if !out.test_by_corpus.is_empty() {
                println!("by corpus (UA and macro-F1 over the labels each corpus has):");
                print!("{}", ser_eval::render::corpus_text(&out.test_by_corpus));
            }
            println!("model written to {dir}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
