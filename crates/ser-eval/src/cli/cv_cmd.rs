//! `ser-eval cv`: cross-validation by actor, training each fold with `ser_train`'s library.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context, bail};
use ravdess_loader::synth::{self, SynthConfig};
use ravdess_loader::{Utterance, open_corpus};
use ser_eval::Predictor;
use ser_eval::cv::{
    CvConfig, CvEvent, CvProgress, CvSummary, FoldTrainer, combine_runs, fold_dir, pooled_markdown,
    pooled_report, run_cv_folds,
};
use ser_eval::fsutil::write_atomic;
use ser_eval::model::ArtifactPredictor;
use ser_eval::plot;
use ser_models::{Family, FunctionalsFusion, Manifest};
use ser_train::{
    DataSource, Dataset, Distill, SpeakerSplit, TrainConfig, TrainStatus, load_dataset,
};

use super::args::{CvArgs, CvCombineArgs, ModelType, normalize_actors};
use super::eval_cmd::bootstrap_config;
use super::progress::bar;

/// Runs the cross-validation command.
pub fn run(args: &CvArgs) -> anyhow::Result<ExitCode> {
    let family = match args.model_type {
        ModelType::Cnn => Family::Cnn,
        ModelType::Rnn => Family::Rnn,
        ModelType::Crnn => Family::Crnn,
    };
    let actors = args.actors.as_deref().map(normalize_actors);
    let mut base: TrainConfig = args.recipe.config(family, args.data.is_some());
    let mut recipe = args.recipe.describe(family, args.data.is_some());
    if let Some(runs) = &args.teacher_runs {
        // Fold K's teachers are <run>/fold-K/model (set per fold by SerTrainFolds).
        let d = Distill::new(runs.clone(), args.distill_weight);
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
    let fusion = args.functionals.then(|| FunctionalsFusion {
        config: dsp_features::functionals::FunctionalsConfig::default(),
        weight: args.functionals_weight.unwrap_or(0.5),
    });
    if let Some(f) = &fusion {
        // The manifest's own check, before any work, naming the flag.
        f.validate()
            .with_context(|| format!("--functionals-weight {}", f.weight))?;
        recipe.push_str(&format!(
            ", fused with an utterance-functionals head (weight {}{})",
            f.weight,
            match (
                base.augment.wave_noise.is_some(),
                base.augment.lowpass_prob > 0.0
            ) {
                (true, true) =>
                    ", fitted on the clips, their noisy copies and band-limited versions",
                (true, false) => ", fitted on the clean clips and their noisy copies",
                (false, true) => ", fitted on the clips and band-limited versions",
                (false, false) => "",
            }
        ));
    }
    eprintln!("recipe: {recipe}");
    base.seed = args.train_seed.unwrap_or(args.seed);
    base.tiny = args.tiny;
    base.cache_dir = Some(args.out.join(".cache"));

    let (utts, data_name) = match &args.data {
        Some(dir) => {
            base.data = DataSource::Dir(dir.clone());
            let corpus = open_corpus(dir)
                .with_context(|| format!("opening the corpus {}", dir.display()))?;
            for p in &corpus.problems {
                eprintln!("warning: skipped {}: {}", p.path.display(), p.reason);
            }
            (corpus.utterances, dir.display().to_string())
        }
        None => {
            let mut cfg = SynthConfig::default();
            if let Some(a) = &actors {
                cfg.actors = a
                    .iter()
                    .map(|s| s.parse::<u8>())
                    .collect::<Result<_, _>>()
                    .context("--actors for the generated corpus must be actor numbers 1-24")?;
            }
            base.data = DataSource::Synth(cfg.clone());
            let pb = bar("generating corpus", "clips");
            let utts = synth::generate(&cfg);
            pb.finish_and_clear();
            (utts, "generated corpus (ravdess_loader::synth)".to_string())
        }
    };
    let keep = |speaker: &str| {
        actors
            .as_ref()
            .is_none_or(|a| a.iter().any(|x| x == speaker))
    };
    let utts: Vec<Utterance> = utts
        .into_iter()
        .filter(|u| u.speaker.as_deref().is_some_and(keep))
        .collect();
    if utts.is_empty() {
        bail!("no utterance left in {data_name} after the --actors filter");
    }

    // Features for every clip, once (ser-train caches them under <out>/.cache).
    let pb = bar("features", "clips");
    let mut ds = load_dataset(&base, |done, total| {
        pb.set_length(total as u64);
        pb.set_position(done as u64);
    })?;
    pb.finish_and_clear();
    ds.items.retain(|i| keep(&i.speaker));
    // The functionals are computed when a fold's head is first fitted, not here: a run whose
    // folds are all done (e.g. re-run to write the ensemble) needs none.
    let heads = fusion.map(|fusion| Heads {
        fusion,
        preprocess: ds.preprocess,
        augment: ser_train::head::HeadAugment {
            wave_noise: base.augment.wave_noise,
            lowpass_prob: base.augment.lowpass_prob,
        },
        rows: Mutex::new(HashMap::new()),
    });
    ser_train::install_ctrlc_handler()?;

    let config = CvConfig {
        model_type: family.name().to_string(),
        data: data_name,
        folds: usize::try_from(args.folds).unwrap_or(5),
        seed: args.seed,
        train_seed: args.train_seed.filter(|&t| t != args.seed),
        epochs: args.recipe.epochs,
        recipe: Some(recipe),
        actors,
        bootstrap: bootstrap_config(&args.bootstrap)?,
    };
    let labels = ds.labels.clone();
    // The final fit (--refit) trains on every utterance the folds shared out.
    let all_utts = args.refit.then(|| utts.clone());
    let trainer = SerTrainFolds { base, ds, heads };
    let progress = run_cv_folds(
        utts,
        &trainer,
        &config,
        &args.out,
        args.fold.as_deref(),
        &mut |e| match e {
            CvEvent::Training { fold, of } => eprintln!("fold {fold}/{of}: training"),
            CvEvent::Resumed { fold } => {
                eprintln!("fold {fold}: already done, reusing its results")
            }
            CvEvent::Done(r) => eprintln!(
                "fold {}: test actors {} -> UA {:.4}, WA {:.4}, macro-F1 {:.4} (n = {})",
                r.fold,
                r.test_actors.join(","),
                r.ua,
                r.wa,
                r.macro_f1,
                r.n
            ),
        },
    )?;
    let summary = match progress {
        CvProgress::Complete(s) => *s,
        CvProgress::Partial { done, pending } => {
            let list = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
            eprintln!(
                "folds done: {}; still to train: {} (run them with --fold {}, then re-run \
                 without --fold to write the summary)",
                if done.is_empty() {
                    "none".into()
                } else {
                    list(&done)
                },
                list(&pending),
                list(&pending)
            );
            return Ok(ExitCode::SUCCESS);
        }
    };
    let pooled = write_pooled(&args.out, &summary, &labels)?;
    let refit = match &all_utts {
        Some(utts) => Some(trainer.refit(&args.out, utts)?),
        None => None,
    };
    if let Some(dir) = &args.ensemble_out {
        match refit {
            Some(model) => {
                let name = format!("refit-seed{}", args.train_seed.unwrap_or(args.seed));
                write_ensemble(dir, vec![(name, model)], &summary, &pooled, Fit::Refit)?;
            }
            None => {
                let members = fold_models(&args.out, &summary, "");
                write_ensemble(dir, members, &summary, &pooled, Fit::Folds)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `ser-eval cv-combine`.
pub fn combine(args: &CvCombineArgs) -> anyhow::Result<ExitCode> {
    let name = |run: &Path| {
        run.file_name().map_or_else(
            || run.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    // --refit: every run's final fit, checked before any output is written.
    let final_fits = if args.refit {
        let mut fits = Vec::with_capacity(args.runs.len());
        for run in &args.runs {
            let model = refit_dir(run);
            if !model.join(ser_models::artifact::MANIFEST_FILE).is_file() {
                bail!(
                    "--refit: {} has no final fit ({} is missing); make it with that run's own \
                     `ser-eval cv` command plus --refit",
                    run.display(),
                    model.display()
                );
            }
            fits.push((format!("{}-refit", name(run)), model));
        }
        Some(fits)
    } else {
        None
    };
    let (summary, labels) = combine_runs(&args.runs, &args.out)?;
    let pooled = write_pooled(&args.out, &summary, &labels)?;
    if let Some(dir) = &args.ensemble_out {
        let (members, fit) = match final_fits {
            Some(fits) => (fits, Fit::Refit),
            None => {
                let folds = args
                    .runs
                    .iter()
                    .flat_map(|run| fold_models(run, &summary, &format!("{}-", name(run))));
                (folds.collect(), Fit::Folds)
            }
        };
        write_ensemble(dir, members, &summary, &pooled, fit)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Pooled over folds: per-class F1 and the confusion matrix of all held-out predictions,
/// written to `pooled.json`, appended to `cv.md` and plotted; the markdown goes to stdout.
fn write_pooled(
    out: &Path,
    summary: &CvSummary,
    labels: &[String],
) -> anyhow::Result<ser_eval::EvalReport> {
    let pooled = pooled_report(out, summary, labels)?;
    write_atomic(
        &out.join("pooled.json"),
        ser_eval::render::json_string(&pooled)?.as_bytes(),
    )?;
    let md = format!(
        "{}{}",
        ser_eval::cv::markdown(summary),
        pooled_markdown(&pooled)
    );
    write_atomic(&out.join("cv.md"), md.as_bytes())?;
    let title = format!(
        "{} CV, pooled held-out predictions",
        summary.config.model_type
    );
    plot::confusion_png(&out.join("confusion.png"), &pooled.confusion, &title)?;
    plot::confusion_svg(&out.join("confusion.svg"), &pooled.confusion, &title)?;
    print!("{md}");
    eprintln!(
        "wrote {}, {}, pooled.json and confusion.png/svg",
        out.join("cv.md").display(),
        out.join("cv.json").display()
    );
    Ok(pooled)
}

/// `(name, <cv>/fold-N/model)` for every fold of `summary`, names prefixed by `prefix`.
fn fold_models(
    cv_dir: &Path,
    summary: &CvSummary,
    prefix: &str,
) -> Vec<(String, std::path::PathBuf)> {
    summary
        .folds
        .iter()
        .map(|f| {
            (
                format!("{prefix}fold-{}", f.fold),
                fold_dir(cv_dir, f.fold).join("model"),
            )
        })
        .collect()
}

/// Every actor some fold model trained on (or validated on): the ensemble has heard them all.
fn heard_actors(summary: &CvSummary) -> Vec<String> {
    let mut all: Vec<String> = summary
        .folds
        .iter()
        .flat_map(|f| f.train_actors.iter().cloned())
        .collect();
    all.sort();
    all.dedup();
    all
}

/// The final fit of a cross-validation run (`--refit`): `<run>/refit/model`.
fn refit_dir(run: &Path) -> std::path::PathBuf {
    run.join("refit").join("model")
}

/// Which models an artifact written from a cross-validation holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    /// The fold models themselves (each scored on the actors it never heard).
    Folds,
    /// Final fits on every actor (`--refit`), estimated by the cross-validation.
    Refit,
}

/// Combines fold models, or final fits, into one artifact whose manifest carries the
/// cross-validation scores that describe it.
fn write_ensemble(
    dir: &Path,
    members: Vec<(String, std::path::PathBuf)>,
    summary: &CvSummary,
    pooled: &ser_eval::EvalReport,
    fit: Fit,
) -> anyhow::Result<()> {
    let heard = heard_actors(summary);
    let protocol = match fit {
        Fit::Folds => format!(
            "ensemble of the {k} fold models of a {}; its scores are those of each fold's \
             models on the actors they never heard (mean ± std over folds, and pooled). The \
             ensemble itself has heard actors {}: scores on them are not results.",
            summary.protocol,
            heard.join(", "),
            k = members.len()
        ),
        Fit::Refit => format!(
            "{k} trained on every actor ({}) by the recipe of a {}; its scores are that \
             cross-validation's: the same recipe and training seed(s), trained without each \
             fold's actors and scored on them (mean ± std over folds, and pooled), are the \
             estimate of this model on speakers it never heard. It has heard actors {}: scores \
             on them are not results.",
            heard.join(", "),
            summary.protocol,
            heard.join(", "),
            k = if members.len() == 1 {
                "one network".to_string()
            } else {
                format!("ensemble of {} networks, each", members.len())
            }
        ),
    };
    let training = serde_json::json!({
        "train_speakers": heard,
        "cv": summary.config,
        "fit": match fit { Fit::Folds => "fold models", Fit::Refit => "refit on every actor" },
        "command": std::env::args().collect::<Vec<_>>().join(" "),
    });
    let metrics = serde_json::json!({
        "cv": {
            "ua": summary.ua, "wa": summary.wa, "macro_f1": summary.macro_f1,
            "kappa": summary.kappa, "folds": summary.folds, "machine": summary.machine,
        },
        "pooled": pooled,
    });
    ser_models::artifact::combine(dir, &members, protocol, training, metrics)
        .with_context(|| format!("writing the ensemble {}", dir.display()))?;
    eprintln!(
        "wrote the {}-member {} {} (it has heard actors {}: evaluate it on others)",
        members.len(),
        match fit {
            Fit::Folds => "ensemble of fold models",
            Fit::Refit => "final fit",
        },
        dir.display(),
        heard.join(",")
    );
    Ok(())
}

/// Trains each fold with `ser_train::train_on` on the features loaded once.
struct SerTrainFolds {
    base: TrainConfig,
    ds: Dataset,
    heads: Option<Heads>,
}

/// `--functionals`: how to fuse, how the clips are prepared and augmented (as the networks
/// are), and the functionals computed so far, by utterance id. Each clip's rows are computed
/// once, by the first fold that trains on it.
struct Heads {
    fusion: FunctionalsFusion,
    preprocess: ser_audio::Preprocess,
    augment: ser_train::head::HeadAugment,
    rows: Mutex<HashMap<String, ser_train::head::ClipRows>>,
}

impl Heads {
    /// Fits the head of the fold model in `model_dir` on the fold's training utterances and
    /// writes it into the model's manifest (atomically), with the fusion settings.
    fn attach(
        &self,
        model_dir: &Path,
        train: &[Utterance],
        labels: &[String],
    ) -> anyhow::Result<()> {
        let mut manifest = Manifest::read(model_dir)?;
        if manifest.members.len() != 1 {
            bail!("{} is not a single-model artifact", model_dir.display());
        }
        let mut rows = self
            .rows
            .lock()
            .map_err(|_| anyhow::anyhow!("a fold panicked while computing functionals"))?;
        let missing: Vec<&Utterance> = train.iter().filter(|u| !rows.contains_key(&u.id)).collect();
        if !missing.is_empty() {
            let pb = bar("functionals", "clips");
            rows.extend(ser_train::head::corpus_functionals(
                &missing,
                &self.preprocess,
                &self.fusion.config,
                &self.augment,
                |done, total| {
                    pb.set_length(total as u64);
                    pb.set_position(done as u64);
                },
            )?);
            pb.finish_and_clear();
        }
        let (mut x, mut y, mut groups, mut weights) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for u in train {
            let clip = rows
                .get(&u.id)
                .with_context(|| format!("no functionals for {}", u.id))?;
            let label = labels
                .iter()
                .position(|l| *l == u.label)
                .with_context(|| format!("{}: label {} is not among {labels:?}", u.id, u.label))?;
            for (row, &w) in clip.rows.iter().zip(&clip.weights) {
                x.push(row.clone());
                y.push(label);
                groups.push(u.speaker.clone().unwrap_or_default());
                weights.push(w);
            }
        }
        drop(rows);
        let head = ser_train::fit_head(
            &x,
            &y,
            &groups,
            &weights,
            labels.len(),
            &ser_train::HeadFit::default(),
        )?;
        manifest.members[0].head = Some(head);
        manifest.functionals = Some(self.fusion.clone());
        manifest.validate()?;
        write_atomic(
            &model_dir.join(ser_models::artifact::MANIFEST_FILE),
            manifest.to_json()?.as_bytes(),
        )?;
        Ok(())
    }
}

impl FoldTrainer for SerTrainFolds {
    fn train_fold(
        &self,
        fold: usize,
        train: &[Utterance],
        test_speakers: &[String],
        dir: &Path,
    ) -> Result<Box<dyn Predictor>, String> {
        let model = self.train_network(fold, test_speakers, dir)?;
        if let Some(heads) = &self.heads {
            heads
                .attach(&model, train, &self.ds.labels)
                .map_err(|e| format!("fitting the functionals head: {e:#}"))?;
        }
        load(&model)
    }
}

impl SerTrainFolds {
    /// `--refit`: trains the recipe on every actor into `<out>/refit/model` (or reuses a
    /// finished one, resumes an interrupted one) and fits its head on all of `utts`.
    fn refit(&self, out: &Path, utts: &[Utterance]) -> anyhow::Result<std::path::PathBuf> {
        let mut cfg = self.base.clone();
        cfg.out = refit_dir(out);
        cfg.split = SpeakerSplit::default();
        cfg.no_test = true;
        if cfg.out.join(ser_models::artifact::MANIFEST_FILE).is_file() {
            eprintln!("refit: reusing the final fit in {}", cfg.out.display());
        } else {
            eprintln!("refit: training the recipe on every actor (none held out)");
            cfg.resume = cfg.checkpoint_dir().is_dir();
            let outcome = ser_train::train_on(&cfg, &self.ds).context("refit on every actor")?;
            if outcome.status == TrainStatus::Interrupted {
                bail!(
                    "refit interrupted; the checkpoint in {} is resumed when the same command is \
                     run again",
                    cfg.checkpoint_dir().display()
                );
            }
        }
        if let Some(heads) = &self.heads {
            heads
                .attach(&cfg.out, utts, &self.ds.labels)
                .context("fitting the functionals head of the final fit")?;
        }
        eprintln!(
            "refit: wrote {} (trained on every actor; its estimate is the cross-validation above)",
            cfg.out.display()
        );
        Ok(cfg.out)
    }

    /// Trains (or finds) the fold's network; returns its artifact directory.
    fn train_network(
        &self,
        fold: usize,
        test_speakers: &[String],
        dir: &Path,
    ) -> Result<std::path::PathBuf, String> {
        let mut cfg = self.base.clone();
        cfg.out = dir.join("model");
        if let Some(d) = cfg.distill.as_mut() {
            // Each teacher run's model of this fold: trained without this fold's test actors.
            for run in &mut d.teachers {
                *run = fold_dir(run, fold).join("model");
            }
        }
        // A fold that trained but was interrupted before its evaluation keeps its model.
        if cfg.out.join("manifest.json").is_file() {
            eprintln!(
                "fold {fold}: reusing the trained model in {}",
                cfg.out.display()
            );
            return Ok(cfg.out);
        }
        // ser-train holds out the test speakers by name; it picks validation speakers (for
        // early stopping only) among the remaining ones.
        cfg.split = SpeakerSplit {
            test: test_speakers.to_vec(),
            val: Vec::new(),
        };
        cfg.resume = cfg.checkpoint_dir().is_dir();
        let outcome = ser_train::train_on(&cfg, &self.ds)
            .map_err(|e| format!("{:#}", anyhow::Error::new(e)))?;
        if outcome.status == TrainStatus::Interrupted {
            return Err(format!(
                "interrupted; the checkpoint in {} is resumed when the same command is run again",
                cfg.checkpoint_dir().display()
            ));
        }
        let mut got = outcome.split.test.clone();
        got.sort();
        let mut want = test_speakers.to_vec();
        want.sort();
        if got != want {
            return Err(format!(
                "ser-train held out actors {got:?} instead of this fold's {want:?}"
            ));
        }
        outcome
            .artifact
            .ok_or_else(|| "ser-train completed without writing a model".to_string())
    }
}

fn load(dir: &Path) -> Result<Box<dyn Predictor>, String> {
    ArtifactPredictor::load(dir)
        .map(|p| Box::new(p) as Box<dyn Predictor>)
        .map_err(|e| e.to_string())
}
