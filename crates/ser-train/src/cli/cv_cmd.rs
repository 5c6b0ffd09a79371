//! `ser-train cv` and `ser-train cv-combine`: flags in, `ser_train::cv` runs, events printed.

use std::process::ExitCode;

use ravdess_loader::speaker;
use ser_eval::metrics::BootstrapConfig;
use ser_train::cv::{self, CombineOptions, CvEvent, CvOptions, Fit};

use super::args::{CvArgs, CvAttachArgs, CvCombineArgs};
use super::init_args;
use super::progress::TrainBars;

/// `--functionals-weight` when neither it nor a parent gives one: the geometric mean of the
/// network's and the head's probabilities.
const DEFAULT_FUNCTIONALS_WEIGHT: f32 = 0.5;

/// Runs the cross-validation command.
pub fn run(args: &CvArgs) -> anyhow::Result<ExitCode> {
    let has_data = args.data.given();
    // cv's --functionals fits a head in every fold (cv::Heads), so the parent's head is not
    // refitted by the fine-tune itself.
    let init = match &args.init_folds {
        // The recipe (network, features, fusion weight) is that of the first fold to train;
        // each fold then starts from its own (cv checks every one against its fold).
        Some(run) => {
            let first = args
                .fold
                .as_ref()
                .and_then(|f| f.iter().min().copied())
                .unwrap_or(1);
            Some(ser_train::finetune::InitConfig::new(
                ser_eval::cv::fold_dir(run, first).join("model"),
            ))
        }
        None => args.parent.config(false)?,
    };
    let parent = match init {
        Some(init) => Some(ser_train::finetune::Parent::open(&init)?),
        None => None,
    };
    let family = init_args::family_of("--model-type", args.model_type, parent.as_ref())?;
    let mut recipe = args.recipe.config(family, has_data);
    recipe.model.tiny = args.tiny;
    if let Some(p) = &parent {
        init_args::apply_recipe(&args.recipe, args.tiny, p, &mut recipe)?;
    }
    // With --init, the fusion weight the parent used unless --functionals-weight says.
    let parent_weight = parent
        .as_ref()
        .and_then(|p| p.manifest.functionals.as_ref())
        .map(|f| f.weight);
    let opts = CvOptions {
        recipe_name: args.recipe.describe(family, has_data),
        recipe,
        epochs: args.recipe.epochs,
        data: args.data.source()?,
        actors: args.actors.as_deref().map(speaker::normalise_all),
        test_corpus: args.test_corpus.clone(),
        folds: usize::try_from(args.folds).unwrap_or(5),
        seed: args.seed,
        train_seed: args.train_seed,
        only: args.fold.clone(),
        init_folds: args.init_folds.clone(),
        teacher_runs: args.teacher_runs.clone(),
        distill_weight: args.distill_weight,
        functionals_weight: args.functionals.then(|| {
            args.functionals_weight
                .or(parent_weight)
                .unwrap_or(DEFAULT_FUNCTIONALS_WEIGHT)
        }),
        out: args.out.clone(),
        ensemble_out: args.ensemble_out.clone(),
        refit: args.refit,
        bootstrap: BootstrapConfig::checked(
            args.bootstrap.bootstrap,
            args.bootstrap.confidence,
            args.bootstrap.bootstrap_seed,
        )?,
        command: std::env::args().collect::<Vec<_>>().join(" "),
    };
    let mut bars = TrainBars::new(false);
    cv::cross_validate(&opts, &mut |e| print(&mut bars, e))?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `ser-train cv-combine`.
pub fn combine(args: &CvCombineArgs) -> anyhow::Result<ExitCode> {
    let opts = CombineOptions {
        runs: args.runs.clone(),
        out: args.out.clone(),
        ensemble_out: args.ensemble_out.clone(),
        refit: args.refit,
        command: std::env::args().collect::<Vec<_>>().join(" "),
    };
    let mut bars = TrainBars::new(false);
    cv::combine(&opts, &mut |e| print(&mut bars, e))?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `ser-train cv-attach`.
pub fn attach(args: &CvAttachArgs) -> anyhow::Result<ExitCode> {
    let a = cv::attach_cv(&args.model, &args.run)?;
    eprintln!(
        "{} {} in {}: UA {:.4} ± {:.4} ({})",
        if a.replaced { "replaced" } else { "recorded" },
        a.run.display(),
        a.model.join(ser_models::artifact::MANIFEST_FILE).display(),
        a.ua.mean,
        a.ua.std,
        a.protocol
    );
    Ok(ExitCode::SUCCESS)
}

/// Prints a cross-validation event: the summary's markdown on stdout, the rest on stderr.
fn print(bars: &mut TrainBars, e: CvEvent) {
    let list = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    let line = match e {
        CvEvent::Train { event, .. } => {
            bars.show(event);
            return;
        }
        CvEvent::Recipe(r) => format!("recipe: {r}"),
        CvEvent::Folds(folds) => folds
            .iter()
            .enumerate()
            .map(|(i, f)| format!("fold {}: holds out {}", i + 1, f.join(", ")))
            .collect::<Vec<_>>()
            .join("\n"),
        CvEvent::Training { fold, of } => format!("fold {fold}/{of}: training"),
        CvEvent::Resumed { fold } => format!("fold {fold}: already done, reusing its results"),
        CvEvent::ReusedModel { fold, dir } => {
            format!(
                "fold {fold}: reusing the trained model in {}",
                dir.display()
            )
        }
        CvEvent::Done(r) => format!(
            "fold {}: test actors {} -> UA {:.4}, WA {:.4}, macro-F1 {:.4} (n = {})",
            r.fold,
            r.test_actors.join(","),
            r.ua,
            r.wa,
            r.macro_f1,
            r.n
        ),
        CvEvent::Partial { done, pending } => format!(
            "folds done: {}; still to train: {} (run them with --fold {}, then re-run \
             without --fold to write the summary)",
            if done.is_empty() {
                "none".into()
            } else {
                list(&done)
            },
            list(&pending),
            list(&pending)
        ),
        CvEvent::Summary { out, markdown } => {
            bars.suspend(|| print!("{markdown}"));
            format!(
                "wrote {}, {}, pooled.json and confusion.png/svg",
                out.join("cv.md").display(),
                out.join("cv.json").display()
            )
        }
        CvEvent::RefitTraining => {
            "refit: training the recipe on every actor (none held out)".into()
        }
        CvEvent::RefitReused { dir } => {
            format!("refit: reusing the final fit in {}", dir.display())
        }
        CvEvent::RefitWritten { dir } => format!(
            "refit: wrote {} (trained on every actor; its estimate is the cross-validation above)",
            dir.display()
        ),
        CvEvent::Ensemble(w) => format!(
            "wrote the {}-member {} {} (it has heard actors {}: evaluate it on others)",
            w.members,
            match w.fit {
                Fit::Folds => "ensemble of fold models",
                Fit::Refit => "final fit",
            },
            w.dir.display(),
            w.heard.join(",")
        ),
        _ => return,
    };
    bars.suspend(|| eprintln!("{line}"));
}
