//! Example: the emotion in a recording, with the `ser` library as another project uses it.
//!
//! `predict-wav FILE` decodes FILE (WAV, FLAC, MP3 or OGG), asks the model and prints the
//! emotion with every class probability, or "no speech" and why. Without FILE it makes two
//! clips itself, so it runs without data: a tone with harmonics (not speech, so the answer is
//! "no speech") and an utterance of the embedded speech generator.
//!
//! The model is `--model DIR`, or else the one the `ser` tools would use: `SER_MODEL`, then
//! the shipped model in the documented places (`ser::models::artifact::find_model`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use ser::prelude::*;

/// Print the emotion in a speech recording.
#[derive(Debug, Parser)]
struct Args {
    /// A recording (WAV, FLAC, MP3, OGG). Without it: a generated tone and utterance.
    file: Option<PathBuf>,
    /// Model directory (manifest.json + weights). Default: SER_MODEL, then the shipped model
    /// where the ser tools find it.
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
}

fn run(args: &Args) -> anyhow::Result<()> {
    let found = find_model(args.model.as_deref())?;
    eprintln!(
        "model: {} (from {})",
        found.dir.display(),
        found.source.describe()
    );
    let model = Classifier::load(&found.dir)
        .with_context(|| format!("loading the model in {}", found.dir.display()))?;
    // The defaults of ser-web and ser-predict: the same answer as the page and the CLI.
    let config = AnalysisConfig::default();
    let clips = match &args.file {
        Some(path) => {
            let limits = DecodeLimits::with_max_secs(config.max_duration_secs);
            let decoded = decode_file(path, &limits)?;
            vec![(path.display().to_string(), decoded.audio)]
        }
        None => demo_clips(),
    };
    for (name, audio) in clips {
        let answer =
            analyse(&model, &audio, &config).with_context(|| format!("analysing {name}"))?;
        print_answer(&name, &answer);
    }
    Ok(())
}

/// A 1.5 s tone (200 Hz with decaying harmonics, like a hummed note) and one generated
/// utterance (actor 03, "Kids are talking by the door", angry).
fn demo_clips() -> Vec<(String, Audio)> {
    let rate = 16_000u32;
    let tone: Vec<f32> = (0..rate * 3 / 2)
        .map(|i| {
            let t = i as f32 / rate as f32;
            (1..=5)
                .map(|h| 0.2 / h as f32 * (2.0 * std::f32::consts::PI * 200.0 * h as f32 * t).sin())
                .sum()
        })
        .collect();
    let synth = SynthConfig::default();
    let angry = ser::corpus::synth::clip_names(3)
        .into_iter()
        .find(|n| n.emotion == Emotion::Angry);
    let mut clips = vec![("a 200 Hz tone".to_string(), Audio::new(tone, rate))];
    if let Some(name) = angry {
        clips.push((
            "generated speech (actor 03, angry)".to_string(),
            ser::corpus::synth::synthesize(&synth, &name),
        ));
    }
    clips
}

fn print_answer(name: &str, answer: &Analysis) {
    match (&answer.emotion, answer.confidence) {
        (Some(emotion), Some(confidence)) => {
            println!("{name}: {emotion} ({confidence:.2})");
            for label in &answer.labels {
                let p = answer.probabilities.get(label).copied().unwrap_or(0.0);
                let bar = "#".repeat((p * 40.0).round() as usize);
                println!("  {label:<10} {p:.3} {bar}");
            }
        }
        // The analysis says why ("no speech: the recording is silent", "no speech: the level
        // hardly changes, like a tone ...").
        _ => println!(
            "{name}: {}",
            answer.message.as_deref().unwrap_or("no speech")
        ),
    }
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
