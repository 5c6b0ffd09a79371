//! Example: use ravdess-loader from another Rust project.
//!
//! Scans a corpus folder given on the command line (official RAVDESS layout, flat RAVDESS
//! names, `label/*.wav` folders or a CSV manifest), or generates the synthetic corpus in
//! memory when no folder is given; prints counts, problems and a speaker-independent
//! 5-fold split, then loads one fold's test clips (16 kHz, trimmed, normalised).

use std::process::ExitCode;

use ravdess_loader::synth::{self, SynthConfig};
use ravdess_loader::{Corpus, Layout, LoadOptions, load_audio, open_corpus, split};

fn run() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let corpus = match std::env::args_os().nth(1) {
        Some(dir) => open_corpus(&dir)?,
        None => {
            eprintln!("no folder given: generating the synthetic corpus in memory (seed 1)");
            Corpus::from_utterances(
                "<generated>",
                Layout::Generated,
                synth::generate(&SynthConfig::default()),
            )
        }
    };
    let summary = corpus.summary();
    println!(
        "layout {:?}: {} clips, {} speakers",
        summary.layout,
        summary.clips,
        summary.speakers.len()
    );
    for (label, n) in &summary.per_emotion {
        println!("  {label:<10} {n}");
    }
    for p in &corpus.problems {
        println!("skipped {}: {}", p.path.display(), p.reason);
    }
    for d in &corpus.duplicates {
        println!("warning: identical files {}", d.ids.join(" = "));
    }

    // Speaker-independent 5-fold split, gender-balanced, deterministic in the seed.
    let folds = split::kfold_by_speaker(&corpus.utterances, 5, 42)?;
    for (i, f) in folds.iter().enumerate() {
        println!(
            "fold {i}: train {:>4} clips, test {:>3} clips, test speakers {}",
            f.train.len(),
            f.test.len(),
            f.test_speakers.join(",")
        );
    }

    // Load fold 0's test clips in parallel with a simple progress line.
    let Some(fold) = folds.first() else {
        return Ok(ExitCode::SUCCESS);
    };
    let test: Vec<_> = fold
        .test
        .iter()
        .map(|&i| corpus.utterances[i].clone())
        .collect();
    let loaded = load_audio(test, &LoadOptions::default(), |done, total| {
        if done == total {
            eprintln!("loaded {done}/{total}");
        }
    })?;
    let secs: f64 = loaded
        .utterances
        .iter()
        .filter_map(|u| u.audio.as_ref())
        .map(|a| a.duration_secs())
        .sum();
    println!(
        "fold 0 test audio: {} clips, {secs:.1} s after trimming",
        loaded.utterances.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
