//! Reading audio, extracting, writing: one file, or a folder tree in parallel with a progress bar.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use dsp_features::{FeatureExtractor, FeatureMatrix};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::cli::Args;
use crate::output;

/// Read `path`, resample to the extractor's rate when needed, extract.
pub fn features_of(path: &Path, ex: &FeatureExtractor) -> Result<FeatureMatrix> {
    // The error names the file already.
    let audio = ser_audio::read_wav(path)?;
    let rate = ex.config().sample_rate;
    let audio = if audio.sample_rate == rate {
        audio
    } else {
        ser_audio::resample(&audio, rate).with_context(|| {
            format!(
                "resampling {} from {} Hz to {rate} Hz",
                path.display(),
                audio.sample_rate
            )
        })?
    };
    ex.extract(&audio.samples)
        .with_context(|| format!("extracting features of {}", path.display()))
}

/// Every `.wav` (any case) under `dir`, sorted.
pub fn find_wavs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).with_context(|| format!("listing {}", d.display()))? {
            let path = entry
                .with_context(|| format!("listing {}", d.display()))?
                .path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The whole command.
pub fn run(args: &Args) -> Result<ExitCode> {
    let config = args.feature_config()?;
    let ex = FeatureExtractor::new(config).context("invalid feature options (see --help)")?;
    if args.input.is_dir() {
        return run_folder(args, &ex);
    }
    if !args.input.exists() {
        bail!(
            "input {} does not exist: pass a .wav file or a folder of .wav files",
            args.input.display()
        );
    }
    if args.out.is_dir() {
        bail!(
            "--out {} is a folder; for a single input file pass an output file name",
            args.out.display()
        );
    }
    let m = features_of(&args.input, &ex)?;
    output::write(&args.out, &m, args.format)?;
    eprintln!(
        "wrote {} ({} bins x {} frames)",
        args.out.display(),
        m.bins(),
        m.frames()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_folder(args: &Args, ex: &FeatureExtractor) -> Result<ExitCode> {
    let wavs = find_wavs(&args.input)?;
    if wavs.is_empty() {
        bail!("no .wav files under {}", args.input.display());
    }
    if args.out.is_file() {
        bail!(
            "--out {} is a file; for a folder input pass an output folder",
            args.out.display()
        );
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    // The config travels with the features (written atomically like every output).
    let cfg_path = args.out.join("feature_config.json");
    let json = serde_json::to_vec_pretty(ex.config()).context("serialising the feature config")?;
    ser_fs::write_atomic(&cfg_path, &json)
        .with_context(|| format!("writing {}", cfg_path.display()))?;

    let bar = ProgressBar::new(wavs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} files [{elapsed_precise} < {eta_precise}] {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let failures: Vec<String> = wavs
        .par_iter()
        .filter_map(|wav| {
            let rel = wav.strip_prefix(&args.input).unwrap_or(wav);
            let dest = args.out.join(rel).with_extension(args.format.extension());
            let r = features_of(wav, ex).and_then(|m| output::write(&dest, &m, args.format));
            bar.inc(1);
            r.err().map(|e| format!("{}: {e:#}", wav.display()))
        })
        .collect();
    bar.finish_and_clear();
    let ok = wavs.len() - failures.len();
    eprintln!(
        "wrote {ok} of {} files to {}",
        wavs.len(),
        args.out.display()
    );
    if failures.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for f in &failures {
            eprintln!("skipped {f}");
        }
        eprintln!("{} files failed (listed above)", failures.len());
        Ok(ExitCode::from(1))
    }
}
