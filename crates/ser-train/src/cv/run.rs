//! The `ser-train cv` and `ser-train cv-combine` jobs: options in, events out, files written.

use std::path::{Path, PathBuf};

use dsp_features::functionals::FunctionalsConfig;
use ravdess_loader::synth::{self, SynthConfig};
use ravdess_loader::{Corpus, Layout, Utterance, open_corpus, speaker, split};
use ser_eval::CorpusRef;
use ser_eval::cv::{CvConfig, CvSummary, combine_runs, markdown, pooled_markdown, pooled_report};
use ser_eval::heard::EvaluatedCorpus;
use ser_eval::metrics::BootstrapConfig;
use ser_eval::{EvalReport, plot};
use ser_models::FunctionalsFusion;
use ser_models::artifact::MANIFEST_FILE;

use super::CvEvent;
use super::ensemble::{Fit, fold_models, refit_dir, write_ensemble};
use super::finetune;
use super::folds::{CvProgress, FoldPool, run_cv_pool};
use super::heads::Heads;
use super::recipe_folds::RecipeFolds;
use crate::config::{DataSource, Distill, TrainConfig};
use crate::data::load_dataset;
use crate::error::{Result, TrainError};
use crate::finetune::Parent;
use crate::head::HeadAugment;
use crate::trainer::TrainEvent;

/// What `ser-train cv` does: the recipe of every fold and how the folds are made, scored and
/// shipped.
#[derive(Debug, Clone)]
pub struct CvOptions {
    /// How every fold trains (its family, features and schedule; `out`, `split`, `seed` and
    /// `data` are set by the cross-validation).
    pub recipe: TrainConfig,
    /// The recipe in one line (`TrainConfig::describe`), recorded in `cv.md`.
    pub recipe_name: String,
    /// The `--epochs` given on the command line, recorded as such in `cv-config.json` (`None`
    /// when the recipe's own count applies).
    pub epochs: Option<usize>,
    /// The corpus (a directory, or several corpora as one); `None` = the generated corpus.
    pub data: Option<DataSource>,
    /// Only these speakers (e.g. `01`; with several corpora `emodb:03`, or a bare id that one
    /// corpus has); `None` = all.
    pub actors: Option<Vec<String>>,
    /// Make the folds over this corpus's speakers only (its name, as in `--data NAME=PATH`);
    /// every clip of the other corpora is in every fold's training set. `None` = folds over
    /// every speaker of every corpus.
    pub test_corpus: Option<String>,
    /// Number of actor folds.
    pub folds: usize,
    /// Fold-assignment seed (and the training seed unless `train_seed` is set).
    pub seed: u64,
    /// Training seed of every fold, when it differs from `seed`.
    pub train_seed: Option<u64>,
    /// Train only these folds (from 1); `None` = all.
    pub only: Option<Vec<usize>>,
    /// Fine-tune fold K from `<run>/fold-K/model` (an earlier cross-validation's fold model,
    /// which never heard fold K's held-out speakers) instead of from `recipe.init`'s parent,
    /// which then only describes the recipe (it must be one of these fold models). Not with
    /// `refit`.
    pub init_folds: Option<PathBuf>,
    /// Knowledge distillation: fold K learns from `<run>/fold-K/model` of each run.
    pub teacher_runs: Option<Vec<PathBuf>>,
    /// Weight of the teachers in the loss (`None` = [`Distill::DEFAULT_WEIGHT`]).
    pub distill_weight: Option<f32>,
    /// Fuse every fold's network with a functionals head of this weight.
    pub functionals_weight: Option<f32>,
    /// Output directory.
    pub out: PathBuf,
    /// Also write the fold models (or, with `refit`, the final fit) as one artifact here.
    pub ensemble_out: Option<PathBuf>,
    /// After the folds, train the recipe once more on every actor.
    pub refit: bool,
    /// Bootstrap settings of every report.
    pub bootstrap: BootstrapConfig,
    /// The command line, recorded in an ensemble's manifest.
    pub command: String,
}

/// How a cross-validation ended.
#[derive(Debug, Clone)]
pub enum CvOutcome {
    /// Every fold is done and the summary written.
    Complete {
        /// `cv.json`.
        summary: Box<CvSummary>,
        /// The final fit, with `refit`.
        refit: Option<PathBuf>,
    },
    /// Folds are left to other processes (see [`CvEvent::Partial`]).
    Partial {
        /// Folds finished.
        done: Vec<usize>,
        /// Folds still to train.
        pending: Vec<usize>,
    },
}

/// Runs (or resumes) a cross-validation by actor of `opts.recipe`.
///
/// A recipe with `init` (a fine-tune) starts every fold and the final fit from the parent;
/// before anything is trained, every fold's held-out speakers are checked against the
/// speakers the parent heard ([`ser_eval::heard`], corpus by corpus).
///
/// # Errors
///
/// Unusable options or data, a `test_corpus` the data does not have, a fold holding out a
/// speaker the parent heard, a directory holding another run, training, scoring and I/O
/// errors (a fold's error names the fold).
pub fn cross_validate(
    opts: &CvOptions,
    events: &mut (dyn FnMut(CvEvent) + Send),
) -> Result<CvOutcome> {
    let parent = match &opts.recipe.init {
        Some(init) => Some(Parent::open(init)?),
        None => None,
    };
    if opts.init_folds.is_some() && (opts.refit || parent.is_none()) {
        return Err(TrainError::config(
            "--init-folds",
            "needs the recipe of a fine-tune (a fold model as its parent) and no --refit: no \
             fold parent heard every speaker, so fit the model to ship with --init <a parent \
             trained on every speaker>",
        ));
    }
    let (base, fusion, recipe) = recipe(opts, parent.as_ref())?;
    events(CvEvent::Recipe(recipe.clone()));
    let CvData {
        base,
        utts,
        name: data_name,
        actors,
        corpora,
        evaluated,
    } = corpus(opts, base, events)?;
    // The final fit (--refit) trains on every utterance the folds shared out.
    let all_utts = opts.refit.then(|| utts.clone());
    let mut pool = match &opts.test_corpus {
        Some(name) => finetune::pool_of(utts, name)?,
        None => FoldPool {
            held_out: utts,
            ..FoldPool::default()
        },
    };
    // The folds run_cv_pool will make (kfold_by_speaker is deterministic), shown and checked
    // before any feature is computed: a refused fine-tune costs nothing.
    let planned = split::kfold_by_speaker(&pool.held_out, opts.folds, opts.seed)?;
    events(CvEvent::Folds(finetune::fold_list(
        &planned,
        &pool.held_out,
    )));
    match (&opts.init_folds, &parent) {
        (Some(run), Some(p)) => finetune::check_fold_parents(
            run,
            &p.init,
            opts.only.as_deref(),
            &evaluated,
            &planned,
            &pool.held_out,
        )?,
        (None, Some(p)) => finetune::check_parent(
            p,
            &evaluated,
            &planned,
            &pool.held_out,
            opts.test_corpus.as_deref(),
        )?,
        (_, None) => {}
    }
    if parent.is_some() || opts.test_corpus.is_some() {
        let others: Vec<String> = pool
            .always_train
            .iter()
            .map(|u| u.corpus.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let test = opts.test_corpus.as_deref().map(|t| (t, &others[..]));
        pool.protocol = Some(finetune::protocol(
            opts.folds,
            opts.seed,
            parent.as_ref(),
            opts.init_folds.as_deref(),
            test,
        ));
    }
    // Features for every clip, once (cached under <out>/.cache).
    let mut ds = load_dataset(&base, &mut |event| {
        events(CvEvent::Train { fold: None, event })
    })?;
    ds.items.retain(|i| keeps(actors.as_deref(), &i.speaker));
    // The functionals are computed when a fold's head is first fitted, not here: a run whose
    // folds are all done (e.g. re-run to write the ensemble) needs none.
    let heads = fusion.map(|fusion| Heads::new(fusion, ds.preprocess, HeadAugment::of(&base)));
    let config = CvConfig {
        model_type: base.model.family.name().to_string(),
        data: data_name,
        folds: opts.folds,
        seed: opts.seed,
        train_seed: opts.train_seed.filter(|&t| t != opts.seed),
        epochs: opts.epochs,
        recipe: Some(recipe),
        actors,
        bootstrap: opts.bootstrap,
        corpora,
    };
    let labels = ds.labels.clone();
    let trainer = RecipeFolds {
        base,
        ds,
        heads,
        init_folds: opts.init_folds.clone(),
    };
    let only = opts.only.as_deref();
    let summary = match run_cv_pool(&pool, &trainer, &config, &opts.out, only, events)? {
        CvProgress::Complete(s) => *s,
        CvProgress::Partial { done, pending } => {
            events(CvEvent::Partial {
                done: done.clone(),
                pending: pending.clone(),
            });
            return Ok(CvOutcome::Partial { done, pending });
        }
    };
    let pooled = write_pooled(&opts.out, &summary, &labels, events)?;
    let refit = match &all_utts {
        Some(utts) => Some(trainer.refit(&opts.out, utts, events)?),
        None => None,
    };
    if let Some(dir) = &opts.ensemble_out {
        let (members, fit) = match &refit {
            Some(model) => {
                let name = format!("refit-seed{}", opts.train_seed.unwrap_or(opts.seed));
                (vec![(name, model.clone())], Fit::Refit)
            }
            None => (fold_models(&opts.out, &summary, ""), Fit::Folds),
        };
        let written = write_ensemble(dir, members, (&summary, &pooled), fit, &opts.command)?;
        events(CvEvent::Ensemble(written));
    }
    Ok(CvOutcome::Complete {
        summary: Box::new(summary),
        refit,
    })
}

/// The fold recipe with the run's distillation and seed, its functionals fusion, and the
/// recipe's one-line description (naming the parent of a fine-tune).
fn recipe(
    opts: &CvOptions,
    parent: Option<&Parent>,
) -> Result<(TrainConfig, Option<FunctionalsFusion>, String)> {
    let mut base = opts.recipe.clone();
    let mut recipe = opts.recipe_name.clone();
    if let Some(p) = parent {
        let from = match &opts.init_folds {
            Some(run) => run.join("fold-K").join("model").display().to_string(),
            None => finetune::parent_dir(p).display().to_string(),
        };
        recipe.push_str(&format!(
            ", fine-tuned from member {} (`{}`) of {from} (normalisation {}{})",
            p.init.member,
            p.member_name(),
            p.init.norm.name(),
            if p.init.freeze_conv {
                ", conv blocks frozen"
            } else {
                ""
            }
        ));
    }
    if let Some(init) = base.init.as_mut() {
        // A fold's head is cv's (`Heads`, fitted on the fold's training clips, below), not
        // the single run's refit of the parent's head, which would be fitted and then
        // overwritten.
        init.functionals = false;
    }
    if let Some(runs) = &opts.teacher_runs {
        // Fold K's teachers are <run>/fold-K/model (set per fold by RecipeFolds).
        let d = Distill::new(runs.clone(), opts.distill_weight);
        recipe.push_str(&format!(
            ", distilled from the fold models of {} (weight {})",
            runs.iter()
                .map(|r| r.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            d.weight
        ));
        base.distill = Some(d);
    }
    // A fine-tune fuses the functionals its parent fused (the parent's head itself is not
    // used: it was fitted on the parent's speakers and labels).
    let config = parent
        .and_then(|p| p.manifest.functionals.as_ref())
        .map_or_else(FunctionalsConfig::default, |f| f.config.clone());
    let fusion = opts
        .functionals_weight
        .map(|weight| FunctionalsFusion { config, weight });
    if let Some(f) = &fusion {
        // The manifest's own check, before any work, naming the flag.
        f.validate().map_err(|e| {
            TrainError::config(&format!("--functionals-weight {}", f.weight), e.to_string())
        })?;
        let rows = match (
            base.augment.wave_noise.is_some(),
            base.augment.lowpass_prob > 0.0,
        ) {
            (true, true) => ", fitted on the clips, their noisy copies and band-limited versions",
            (true, false) => ", fitted on the clean clips and their noisy copies",
            (false, true) => ", fitted on the clips and band-limited versions",
            (false, false) => "",
        };
        // Appended so that recipes without channel copies read as before.
        let rows = match (rows, base.augment.channel.is_some()) {
            ("", true) => ", fitted on the clean clips and their channel copies".to_string(),
            (r, true) => format!("{r} (channel copies included)"),
            (r, false) => r.to_string(),
        };
        recipe.push_str(&format!(
            ", fused with an utterance-functionals head (weight {}{rows})",
            f.weight
        ));
    }
    base.seed = opts.train_seed.unwrap_or(opts.seed);
    base.output.cache_dir = Some(opts.out.join(".cache"));
    Ok((base, fusion, recipe))
}

/// Whether `speaker` is among the `--actors` (every speaker without them).
fn keeps(actors: Option<&[String]>, speaker: &str) -> bool {
    actors.is_none_or(|a| a.iter().any(|x| x == speaker))
}

/// The data of a cross-validation: the recipe with its source set, the utterances (filtered
/// by `--actors`), the data's name, the `--actors` resolved against the corpus's speakers,
/// with several corpora the corpora, and, for a fine-tune, the corpora as `ser_eval::heard`
/// compares them with the parent's.
struct CvData {
    base: TrainConfig,
    utts: Vec<Utterance>,
    name: String,
    actors: Option<Vec<String>>,
    corpora: Vec<CorpusRef>,
    evaluated: Vec<EvaluatedCorpus>,
}

/// Opens the data of `opts` (see [`CvData`]).
fn corpus(
    opts: &CvOptions,
    mut base: TrainConfig,
    events: &mut (dyn FnMut(CvEvent) + Send),
) -> Result<CvData> {
    let on_disk = match &opts.data {
        Some(DataSource::Dir(dir)) => Some((open_corpus(dir)?, dir.display().to_string(), None)),
        Some(DataSource::Corpora(c)) => Some((c.open()?, c.describe(), Some(c))),
        Some(DataSource::Synth(_)) | None => None,
    };
    let mut actors = opts.actors.clone();
    let mut corpora = Vec::new();
    let mut evaluated = Vec::new();
    // Only a fine-tune compares corpora with its parent's.
    let compare = opts.recipe.init.is_some();
    let (utts, data_name) = match on_disk {
        Some((corpus, name, several)) => {
            if compare {
                evaluated = EvaluatedCorpus::list(&corpus);
            }
            if let Some(source) = &opts.data {
                base.data.source = source.clone();
            }
            if let Some(c) = several.filter(|c| c.several()) {
                corpora = c.refs();
            }
            for p in &corpus.problems {
                let warning = format!("skipped {}: {}", p.path.display(), p.reason);
                events(CvEvent::Train {
                    fold: None,
                    event: TrainEvent::Warning(warning),
                });
            }
            if let Some(a) = &actors {
                actors = Some(speaker::resolve(&corpus.speakers(), a, "--actors")?);
            }
            (corpus.utterances, name)
        }
        None => {
            let mut cfg = match &opts.data {
                Some(DataSource::Synth(s)) => s.clone(),
                _ => SynthConfig::default(),
            };
            if let Some(a) = &opts.actors {
                cfg.actors = a
                    .iter()
                    .map(|s| s.parse::<u8>())
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|_| {
                        TrainError::config(
                            "--actors",
                            "for the generated corpus, give actor numbers 1-24",
                        )
                    })?;
            }
            base.data.source = DataSource::Synth(cfg.clone());
            let name = "generated corpus (ravdess_loader::synth)".to_string();
            let utts = synth::generate(&cfg);
            if compare {
                let corpus = Corpus::from_utterances(name.clone(), Layout::Generated, utts);
                evaluated = EvaluatedCorpus::list(&corpus);
                (corpus.utterances, name)
            } else {
                (utts, name)
            }
        }
    };
    let utts: Vec<Utterance> = utts
        .into_iter()
        .filter(|u| {
            u.speaker
                .as_deref()
                .is_some_and(|s| keeps(actors.as_deref(), s))
        })
        .collect();
    if utts.is_empty() {
        return Err(TrainError::Data {
            path: data_name.into(),
            reason: "no utterance left after the --actors filter".into(),
        });
    }
    Ok(CvData {
        base,
        utts,
        name: data_name,
        actors,
        corpora,
        evaluated,
    })
}

/// What `ser-train cv-combine` does.
#[derive(Debug, Clone)]
pub struct CombineOptions {
    /// Finished cross-validation directories that share their folds (at least two).
    pub runs: Vec<PathBuf>,
    /// Output directory of the combined cross-validation.
    pub out: PathBuf,
    /// Also write the runs' models as one artifact here.
    pub ensemble_out: Option<PathBuf>,
    /// With `ensemble_out`: each run's final fit instead of its fold models.
    pub refit: bool,
    /// The command line, recorded in the artifact's manifest.
    pub command: String,
}

/// Scores the ensemble of finished cross-validation runs fold by fold (nothing is
/// retrained) and, with `ensemble_out`, writes their models as one artifact.
///
/// # Errors
///
/// With `refit`, a run without a final fit (named before anything is written); runs that do
/// not share their folds; I/O.
pub fn combine(opts: &CombineOptions, events: &mut (dyn FnMut(CvEvent) + Send)) -> Result<()> {
    let name = |run: &Path| {
        run.file_name().map_or_else(
            || run.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    // --refit: every run's final fit, checked before any output is written.
    let final_fits = if opts.refit {
        let mut fits = Vec::with_capacity(opts.runs.len());
        for run in &opts.runs {
            let model = refit_dir(run);
            if !model.join(MANIFEST_FILE).is_file() {
                return Err(TrainError::config(
                    "--refit",
                    format!(
                        "{} has no final fit ({} is missing); make it with that run's own \
                         `ser-train cv` command plus --refit",
                        run.display(),
                        model.display()
                    ),
                ));
            }
            fits.push((format!("{}-refit", name(run)), model));
        }
        Some(fits)
    } else {
        None
    };
    let (summary, labels) = combine_runs(&opts.runs, &opts.out)?;
    let pooled = write_pooled(&opts.out, &summary, &labels, events)?;
    if let Some(dir) = &opts.ensemble_out {
        let (members, fit) = match final_fits {
            Some(fits) => (fits, Fit::Refit),
            None => {
                let folds = opts
                    .runs
                    .iter()
                    .flat_map(|run| fold_models(run, &summary, &format!("{}-", name(run))));
                (folds.collect(), Fit::Folds)
            }
        };
        let written = write_ensemble(dir, members, (&summary, &pooled), fit, &opts.command)?;
        events(CvEvent::Ensemble(written));
    }
    Ok(())
}

/// Pooled over folds: per-class F1 and the confusion matrix of all held-out predictions,
/// written to `pooled.json`, appended to `cv.md` and plotted.
fn write_pooled(
    out: &Path,
    summary: &CvSummary,
    labels: &[String],
    events: &mut (dyn FnMut(CvEvent) + Send),
) -> Result<EvalReport> {
    let pooled = pooled_report(out, summary, labels)?;
    ser_eval::fsutil::write_atomic(
        &out.join("pooled.json"),
        ser_eval::render::json_string(&pooled)?.as_bytes(),
    )?;
    let md = format!("{}{}", markdown(summary), pooled_markdown(&pooled));
    ser_eval::fsutil::write_atomic(&out.join("cv.md"), md.as_bytes())?;
    let title = format!(
        "{} CV, pooled held-out predictions",
        summary.config.model_type
    );
    plot::confusion_png(&out.join("confusion.png"), &pooled.confusion, &title)?;
    plot::confusion_svg(&out.join("confusion.svg"), &pooled.confusion, &title)?;
    events(CvEvent::Summary {
        out: out.to_path_buf(),
        markdown: md,
    });
    Ok(pooled)
}
