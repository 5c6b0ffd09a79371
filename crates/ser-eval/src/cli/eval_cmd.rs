//! `ser-eval --data DIR [--model DIR]`: evaluate one model on one corpus, or on several
//! (`--data NAME=DIR` repeated) with one row per corpus.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use burn::prelude::Device;
use ravdess_loader::{CorporaOptions, Corpus, CorpusSpec, open_corpora_with, speaker};
use ser_eval::metrics::BootstrapConfig;
use ser_eval::render::{csv_string, json_string, overlap_warning, table, validation_note};
use ser_eval::{EvalError, EvalOptions, evaluate_corpus};
use ser_models::artifact::find_model;
use ser_models::{Classifier, Manifest};

use super::args::{EvalArgs, Format};
use super::progress::bar;

/// Runs the evaluation command.
pub fn run(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    if args.data.is_empty() {
        bail!("--data DIR is required: the corpus to evaluate on");
    }
    // --model, SER_MODEL, then the installed places (ser_models::artifact::find_model).
    let model_dir = find_model(args.model.as_deref())?.dir;
    let (model, fold_actors) = load_model(args, &model_dir).map_err(|e| EvalError::Model {
        path: model_dir.clone(),
        error: Box::new(e),
    })?;
    let actors = match (&args.actors, fold_actors) {
        (Some(a), _) => Some(speaker::normalise_all(a)),
        (None, Some(fold)) => {
            eprintln!(
                "note: member {} is evaluated on the actors its fold held out: {}",
                args.member.as_deref().unwrap_or_default(),
                fold.join(",")
            );
            Some(fold)
        }
        (None, None) => None,
    };
    let (corpus, described) = open_data(args)?;
    if !corpus.problems.is_empty() {
        eprintln!(
            "warning: {} file(s) in {described} could not be used and are skipped (listed in \
             the report)",
            corpus.problems.len(),
        );
    }
    for l in &corpus.left_out {
        eprintln!("note: {l}");
    }
    let opts = EvalOptions {
        noise_snr_db: args.noise_snr,
        actors,
        bootstrap: BootstrapConfig::checked(
            args.bootstrap.bootstrap,
            args.bootstrap.confidence,
            args.bootstrap.bootstrap_seed,
        )?,
        batch_size: usize::try_from(args.batch_size).unwrap_or(32),
        model_name: model_name(args, &model_dir),
        per_corpus: false,
    };
    let pb = bar("predicting", "clips");
    let eval = evaluate_corpus(&model, corpus, &opts, &|done, total| {
        pb.set_length(total as u64);
        pb.set_position(done as u64);
    })?;
    pb.finish_and_clear();

    let report = &eval.report;
    if args.format != Format::Table {
        // The table carries these itself; keep machine-readable stdout clean otherwise.
        if let Some(w) = overlap_warning(report) {
            eprintln!("{w}");
        }
        if let Some(n) = validation_note(report) {
            eprintln!("note: {n}");
        }
        for u in &report.unmapped_labels {
            eprintln!(
                "warning: data label `{}` ({} files) is not a model class; excluded",
                u.label, u.count
            );
        }
        for f in &report.skipped_files {
            eprintln!("warning: skipped {}: {}", f.path, f.reason);
        }
    }
    let text = match args.format {
        Format::Table => table(report),
        Format::Csv => csv_string(report)?,
        Format::Json => json_string(report)? + "\n",
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .context("writing the report to standard output")?;

    if let Some(out) = &args.out {
        let files = ser_eval::output::write_outputs(out, &eval)?;
        eprintln!("wrote {} files to {}", files.len(), out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The corpus of `--data` (one folder, opened as always, or several combined with their
/// speaker rules, label maps and `--labels`) and how to name it in messages.
fn open_data(args: &EvalArgs) -> anyhow::Result<(Corpus, String)> {
    let plain = args.data.len() == 1
        && ravdess_loader::split_named(&args.data[0]).0.is_none()
        && args.speaker_rules.is_empty()
        && args.label_maps.is_empty()
        && args.labels.is_empty();
    if plain {
        let data = &args.data[0];
        let corpus = ravdess_loader::open_corpus(data)
            .with_context(|| format!("opening the corpus {data}"))?;
        return Ok((corpus, data.clone()));
    }
    let specs = CorpusSpec::from_args(&args.data, &args.speaker_rules, &args.label_maps)
        .context("reading --data, --speaker-pattern and --label-map")?;
    let options = CorporaOptions {
        labels: (!args.labels.is_empty()).then(|| args.labels.clone()),
    };
    let corpus = open_corpora_with(&specs, &options)
        .with_context(|| format!("opening the corpora {}", args.data.join(", ")))?;
    Ok((corpus, args.data.join(", ")))
}

/// The model of `--model` as the flags ask: one member (`--member`), the networks alone
/// (`--networks-only`), other test-time warps (`--test-time-warps`); changed in memory, never
/// written. Also the held-out actors of the member's cross-validation fold, when recorded.
fn load_model(
    args: &EvalArgs,
    dir: &Path,
) -> ser_models::Result<(Classifier, Option<Vec<String>>)> {
    let mut manifest = Manifest::read(dir)?;
    let mut fold_actors = None;
    if let Some(member) = &args.member {
        let index = manifest.member_index(member)?;
        fold_actors = manifest
            .member_fold(index)
            .map(|f| f.test_actors)
            .filter(|a| !a.is_empty());
        manifest = manifest.member_alone(index)?;
    }
    if args.networks_only {
        manifest = manifest.without_functionals();
    }
    if let Some(warps) = &args.test_time_warps {
        manifest.test_time_warps.clone_from(warps);
    }
    let model = Classifier::load_with_manifest(dir, manifest, &Device::default())?;
    Ok((model, fold_actors))
}

/// The model as the report's protocol names it: the directory and the flags that changed it.
fn model_name(args: &EvalArgs, dir: &Path) -> String {
    let mut name = dir.display().to_string();
    if let Some(m) = &args.member {
        name += &format!(", member {m}");
    }
    if args.networks_only {
        name += ", networks only";
    }
    if let Some(w) = &args.test_time_warps {
        let list: Vec<String> = w.iter().map(f32::to_string).collect();
        name += &format!(", test-time warps {}", list.join(","));
    }
    name
}
