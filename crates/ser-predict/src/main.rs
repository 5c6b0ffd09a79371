//! `ser-predict`: the emotion of audio files (WAV, FLAC, MP3, OGG), or a timeline over long
//! recordings.
//!
//! ```text
//! ser-predict --model runs/crnn/model a.wav b.flac
//! ser-predict --segment 3 --format json interview.mp3
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use ser_web::{Analysis, AnalysisConfig, EmotionModel};

/// Predict the emotion in speech recordings with a trained ser model.
///
/// Bad files are reported (naming the file) and skipped; the exit status is 1 if any file
/// failed, 0 otherwise.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Model directory (manifest.json + weights) written by `ser-train`. Defaults to the shipped
    /// model in models/default.
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Audio files: WAV (8/16/24/32-bit PCM or float, any rate 8-192 kHz, mono or stereo), FLAC,
    /// MP3, OGG/Vorbis.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also classify sliding windows of this many seconds (hop = half a window) and print a
    /// timeline; the overall answer is then the mean over the windows.
    #[arg(long, value_name = "SECONDS")]
    segment: Option<f64>,
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

fn run() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    if let Some(s) = args.segment
        && !(s.is_finite() && s > 0.0)
    {
        anyhow::bail!("--segment must be a positive number of seconds, got {s}");
    }
    let dir = match &args.model {
        Some(dir) => dir.clone(),
        None => ser_web::default_model_dir().context(
            "no default model is shipped in models/default yet: pass --model DIR (a directory \
             written by ser-train, holding manifest.json)",
        )?,
    };
    let model = ser_web::load_model(&dir)
        .with_context(|| format!("cannot load the model in {}", dir.display()))?;
    let config = AnalysisConfig {
        segment_secs: args.segment.unwrap_or(3.0),
        timeline_after_secs: if args.segment.is_some() {
            0.0
        } else {
            f64::INFINITY
        },
        max_duration_secs: None,
    };

    let mut results = Vec::with_capacity(args.files.len());
    let mut failed = 0usize;
    // A progress bar on stderr for batches (hidden when stderr is not a terminal).
    let bar = if args.files.len() > 1 {
        indicatif::ProgressBar::new(args.files.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} files {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    for path in &args.files {
        bar.set_message(path.display().to_string());
        let outcome = std::fs::read(path)
            .map_err(|e| ser_web::Error::Io {
                path: path.display().to_string(),
                source: e,
            })
            .and_then(|bytes| ser_web::analyse_bytes(model.as_ref(), &bytes, &config));
        match &outcome {
            Err(e) => {
                failed += 1;
                bar.suspend(|| eprintln!("error: {}: {e}", path.display()));
            }
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
        Format::Table => write_table(&mut out, model.as_ref(), &results, args.segment.is_some())?,
    }
    out.flush()?;
    Ok(if failed > 0 {
        eprintln!("{failed} of {} file(s) failed", args.files.len());
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

type Outcome = (String, ser_web::Result<Analysis>);

fn write_json(out: &mut impl Write, results: &[Outcome]) -> anyhow::Result<()> {
    let items: Vec<serde_json::Value> = results
        .iter()
        .map(|(file, r)| match r {
            Ok(a) => {
                let mut v = serde_json::to_value(a).unwrap_or_default();
                if let Some(obj) = v.as_object_mut() {
                    obj.insert("file".into(), file.clone().into());
                }
                v
            }
            Err(e) => serde_json::json!({
                "file": file,
                "error": e.code(),
                "detail": e.to_string(),
            }),
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
            Ok(a) if a.silence => writeln!(out, "{file:<width$}  {:<9} {:>6}", "silence", "-")?,
            Ok(a) => {
                write!(
                    out,
                    "{file:<width$}  {:<9} {:>6.3}",
                    a.emotion.as_deref().unwrap_or("-"),
                    a.confidence.unwrap_or(f32::NAN)
                )?;
                for l in labels {
                    write!(
                        out,
                        " {:>col$.3}",
                        a.probabilities.get(l).copied().unwrap_or(0.0)
                    )?;
                }
                writeln!(out)?;
            }
        }
    }
    if timeline {
        for (file, r) in results {
            let Ok(a) = r else { continue };
            writeln!(out, "\n{file}: timeline ({} window(s))", a.segments.len())?;
            writeln!(
                out,
                "  {:>8} {:>8}  {:<9} {:>6}",
                "start_s", "end_s", "emotion", "p"
            )?;
            for s in &a.segments {
                writeln!(
                    out,
                    "  {:>8.2} {:>8.2}  {:<9} {:>6}",
                    s.start_secs,
                    s.end_secs,
                    s.emotion.as_deref().unwrap_or("silence"),
                    s.confidence.map_or("-".to_string(), |c| format!("{c:.3}"))
                )?;
            }
        }
    }
    Ok(())
}
