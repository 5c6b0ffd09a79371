//! `ser-train cv` and `ser-train cv-combine`: flags in, `ser_train::cv` runs, events printed.

use std::process::ExitCode;

use ravdess_loader::speaker;
use ser_eval::metrics::BootstrapConfig;
use ser_train::cv::{self, CombineOptions, CvEvent, CvOptions, Fit};

use super::args::{CvArgs, CvCombineArgs};
use super::progress::TrainBars;

/// Runs the cross-validation command.
pub fn run(args: &CvArgs) -> anyhow::Result<ExitCode> {
    let has_data = args.data.given();
    let mut recipe = args.recipe.config(args.model_type, has_data);
    recipe.model.tiny = args.tiny;
    let opts = CvOptions {
        recipe_name: args.recipe.describe(args.model_type, has_data),
        recipe,
        epochs: args.recipe.epochs,
        data: args.data.source()?,
        actors: args.actors.as_deref().map(speaker::normalise_all),
        folds: usize::try_from(args.folds).unwrap_or(5),
        seed: args.seed,
        train_seed: args.train_seed,
        only: args.fold.clone(),
        teacher_runs: args.teacher_runs.clone(),
        distill_weight: args.distill_weight,
        functionals_weight: args
            .functionals
            .then(|| args.functionals_weight.unwrap_or(0.5)),
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

/// Prints a cross-validation event: the summary's markdown on stdout, the rest on stderr.
fn print(bars: &mut TrainBars, e: CvEvent) {
    let list = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join(",");
    let line = match e {
        CvEvent::Train { event, .. } => {
            bars.show(event);
            return;
        }
        CvEvent::Recipe(r) => format!("recipe: {r}"),
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
