//! `ser-predict`: the emotion of audio files (WAV, FLAC, MP3, OGG), or a timeline over long
//! recordings: the same answer as `ser-web`'s API, from [`ser_models::analysis`].
//!
//! ```text
//! ser-predict --model runs/crnn/model a.wav b.flac
//! ser-predict --segment 3 --format json interview.mp3
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use ser_models::analysis::{Analysis, AnalysisConfig, analyse_bytes};
use ser_models::artifact::find_model;
use ser_models::{Classifier, EmotionModel, ModelError};

/// Predict the emotion in speech recordings with a trained ser model.
///
/// Each file gets the answer the web API gives: clips up to --timeline-after-secs are
/// classified whole, longer ones as the mean of their speech windows; silence, tones, noise,
/// music and clicks are answered "no speech". Bad files are reported (naming the file) and
/// skipped; the exit status is 1 if any file failed, 0 otherwise.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Model directory (manifest.json + weights) written by `ser-train`. Without it: the
    /// SER_MODEL environment variable, then ser/models/default under $XDG_DATA_HOME (or
    /// ~/.local/share), then ../share/ser/models/default and models/default next to this
    /// program, then the source tree's models/default.
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Audio files: WAV (8/16/24/32-bit PCM or float, any rate 8-192 kHz, mono or stereo), FLAC,
    /// MP3, OGG/Vorbis.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Timeline window in seconds (hop = half a window) for clips longer than
    /// --timeline-after-secs [default: 3, as ser-web]; given, the table also prints each
    /// file's timeline.
    #[arg(long, value_name = "SECONDS")]
    segment: Option<f64>,
    /// Clips longer than this get a timeline and the mean of its speech windows as their
    /// answer; shorter ones are classified whole.
    #[arg(long, value_name = "SECONDS", default_value_t = AnalysisConfig::default().timeline_after_secs)]
    timeline_after_secs: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Aligned columns for people.
    Table,
    /// One JSON array with an object per file (the same fields as the web API).
    Json,
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Why a file has no answer.
#[derive(Debug, thiserror::Error)]
enum FileError {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl FileError {
    /// The `error` code of the JSON output (the API's codes).
    fn code(&self) -> &'static str {
        match self {
            Self::Io(_) => "io_error",
            Self::Model(e) => e.code(),
        }
    }
}

type Outcome = (String, Result<Analysis, FileError>);

fn run() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    let defaults = AnalysisConfig::default();
    let config = AnalysisConfig {
        segment_secs: args.segment.unwrap_or(defaults.segment_secs),
        timeline_after_secs: args.timeline_after_secs,
        ..defaults
    };
    if let Err(e) = config.validate() {
        anyhow::bail!("{e} (check --segment and --timeline-after-secs)");
    }
    let dir = find_model(args.model.as_deref())?.dir;
    let model = Classifier::load(&dir)
        .map_err(|e| anyhow::anyhow!("cannot load the model in {}: {e}", dir.display()))?;

    let bar = progress_bar(args.files.len());
    let mut results: Vec<Outcome> = Vec::with_capacity(args.files.len());
    for path in &args.files {
        bar.set_message(path.display().to_string());
        let outcome = std::fs::read(path)
            .map_err(FileError::from)
            .and_then(|bytes| Ok(analyse_bytes(&model, &bytes, &config)?));
        match &outcome {
            Err(e) => bar.suspend(|| eprintln!("error: {}: {e}", path.display())),
            Ok(a) => {
                for w in &a.warnings {
                    bar.suspend(|| eprintln!("warning: {}: {w}", path.display()));
                }
            }
        }
        results.push((path.display().to_string(), outcome));
        bar.inc(1);
    }
    bar.finish_and_clear();

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => write_json(&mut out, &results)?,
        Format::Table => write_table(&mut out, &model, &results, args.segment.is_some())?,
    }
    out.flush()?;
    let failed = results.iter().filter(|(_, r)| r.is_err()).count();
    Ok(if failed > 0 {
        eprintln!("{failed} of {} file(s) failed", args.files.len());
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// A progress bar on stderr for batches (hidden for one file, and when stderr is not a
/// terminal).
fn progress_bar(files: usize) -> indicatif::ProgressBar {
    let bar = if files > 1 {
        indicatif::ProgressBar::new(files as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} files {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// One element of the JSON output: the API's answer plus `file`, or the API's error body
/// plus `file`. Serialised directly (not through `serde_json::Value`), so that numbers are
/// written exactly as the server writes them.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum JsonItem<'a> {
    Answer {
        file: &'a str,
        #[serde(flatten)]
        answer: &'a Analysis,
    },
    Failed {
        file: &'a str,
        error: &'static str,
        detail: String,
    },
}

fn write_json(out: &mut impl Write, results: &[Outcome]) -> anyhow::Result<()> {
    let items: Vec<JsonItem<'_>> = results
        .iter()
        .map(|(file, r)| match r {
            Ok(answer) => JsonItem::Answer { file, answer },
            Err(e) => JsonItem::Failed {
                file,
                error: e.code(),
                detail: e.to_string(),
            },
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &items)?;
    writeln!(out)?;
    Ok(())
}

fn write_table(
    out: &mut impl Write,
    model: &dyn EmotionModel,
    results: &[Outcome],
    timeline: bool,
) -> anyhow::Result<()> {
    let labels = model.labels();
    let width = results
        .iter()
        .map(|(f, _)| f.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let col = labels.iter().map(|l| l.len()).max().unwrap_or(5).max(6);
    write!(out, "{:<width$}  {:<9} {:>6}", "file", "emotion", "p")?;
    for l in labels {
        write!(out, " {l:>col$}")?;
    }
    writeln!(out)?;
    for (file, r) in results {
        match r {
            Err(_) => writeln!(out, "{file:<width$}  (failed, see stderr)")?,
            Ok(a) => match &a.emotion {
                // Silence and sounds that are not speech: say so, with the reason.
                None => writeln!(
                    out,
                    "{file:<width$}  {:<9} {:>6}  {}",
                    "no speech",
                    "-",
                    a.message.as_deref().unwrap_or("")
                )?,
                Some(emotion) => {
                    write!(
                        out,
                        "{file:<width$}  {emotion:<9} {:>6.3}",
                        a.confidence.unwrap_or(f32::NAN)
                    )?;
                    for l in labels {
                        let p = a.probabilities.get(l).copied().unwrap_or(0.0);
                        write!(out, " {p:>col$.3}")?;
                    }
                    writeln!(out)?;
                }
            },
        }
    }
    if timeline {
        for (file, r) in results {
            if let Ok(a) = r {
                write_timeline(out, file, a)?;
            }
        }
    }
    Ok(())
}

fn write_timeline(out: &mut impl Write, file: &str, a: &Analysis) -> anyhow::Result<()> {
    writeln!(out, "\n{file}: timeline ({} window(s))", a.segments.len())?;
    writeln!(
        out,
        "  {:>8} {:>8}  {:<9} {:>6}",
        "start_s", "end_s", "emotion", "p"
    )?;
    for s in &a.segments {
        let what = match (&s.emotion, s.silence, s.speech) {
            (Some(e), _, _) => e.as_str(),
            (None, true, _) => "silence",
            (None, false, false) => "no speech",
            (None, false, true) => "refused",
        };
        writeln!(
            out,
            "  {:>8.2} {:>8.2}  {:<9} {:>6}",
            s.start_secs,
            s.end_secs,
            what,
            s.confidence.map_or("-".to_string(), |c| format!("{c:.3}"))
        )?;
    }
    Ok(())
}
