//! ser-data: download, synthesise, inspect and list speech-emotion corpora.
//!
//! A thin CLI over [`ravdess_loader`]: `synth` writes the generated corpus, `inspect` scans a
//! corpus folder (or CSV manifest) and prints counts and problems, `manifest` writes a CSV
//! manifest, `download ravdess` fetches and verifies the official RAVDESS speech archive.
#![warn(missing_docs)]

mod download;
mod inspect;
mod progress;
mod unzip;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// Download, synthesise, inspect and list speech-emotion corpora (RAVDESS-shaped).
#[derive(Parser, Debug)]
#[command(name = "ser-data", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Write the generated RAVDESS-shaped corpus (24 actors x 60 clips, 16 kHz, 16-bit PCM)
    /// as DIR/Actor_XX/MM-VV-EE-II-SS-RR-AA.wav plus DIR/synth-config.json.
    Synth {
        /// Output folder (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Seed of the generator; the same seed gives byte-identical files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Actors to generate, e.g. `1-24` or `1,2,21-24`.
        #[arg(long, default_value = "1-24")]
        actors: String,
        /// Multiplier of the emotion cues (1.0 = documented profiles; smaller is harder).
        #[arg(long, default_value_t = 1.0)]
        emotion_scale: f64,
    },
    /// Scan a corpus (RAVDESS layout, flat RAVDESS or EMO-DB names, label/*.wav folders or a
    /// CSV manifest) and print clips, actors, counts per emotion/intensity/actor, sample rates,
    /// channels, durations, duplicates and problems. Several corpora are combined as training
    /// would combine them (speakers NAME:SPEAKER). Exit code 0 even with problems.
    Inspect {
        /// Corpus folder or manifest .csv, `PATH` or `NAME=PATH`; repeat for several corpora.
        #[arg(required = true, value_name = "[NAME=]PATH")]
        data: Vec<String>,
        /// Speaker rule of a corpus: a regex with one capture group on the file name (e.g.
        /// `^(\d\d)`) or `column:COL` of a CSV manifest; `NAME=` says which corpus (needed
        /// with several). RAVDESS and EMO-DB names need none.
        #[arg(long = "speaker-pattern", value_name = "[NAME=]RULE")]
        speaker_rules: Vec<String>,
        /// Label-map file of a corpus (`from,to` lines, `-` drops; see datasets/README.md),
        /// e.g. `emodb=datasets/labelmaps/emodb.csv`.
        #[arg(long = "label-map", value_name = "[NAME=]FILE")]
        label_maps: Vec<String>,
        /// Keep only these labels (comma-separated); clips with others are counted as left out.
        #[arg(long, value_delimiter = ',')]
        labels: Vec<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Also decode every clip (resample to 16 kHz and trim silence) to find decode errors
        /// and measure loading speed.
        #[arg(long)]
        decode: bool,
    },
    /// Write a CSV manifest (path,label,speaker,gender) of a corpus; paths are relative to
    /// the manifest's folder.
    Manifest {
        /// Corpus folder.
        dir: PathBuf,
        /// Manifest file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Download a public corpus.
    Download {
        #[command(subcommand)]
        corpus: DownloadCorpus,
    },
}

#[derive(Subcommand, Debug)]
enum DownloadCorpus {
    /// RAVDESS audio-only speech (Zenodo record 1188976, Audio_Speech_Actors_01-24.zip,
    /// ~200 MB, CC BY-NC-SA 4.0). Resumes interrupted downloads, verifies every zip member's
    /// CRC and the file count, optionally the archive MD5, then unpacks to DEST/Actor_XX/.
    Ravdess {
        /// Destination folder.
        #[arg(long)]
        dest: PathBuf,
        /// Archive URL.
        #[arg(long, default_value = download::RAVDESS_URL)]
        url: String,
        /// Expected MD5 of the archive (hex), as shown on the Zenodo record page. Not checked
        /// when omitted (the CRC of every member still is).
        #[arg(long)]
        md5: Option<String>,
        /// Number of speech WAV files the archive must contain.
        #[arg(long, default_value_t = 1440)]
        expect_files: usize,
        /// Download attempts before giving up (each resumes where the last stopped).
        #[arg(long, default_value_t = 5)]
        retries: u32,
    },
}

fn parse_actors(spec: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let a: u8 = a
            .trim()
            .parse()
            .with_context(|| format!("bad actor `{a}` in `{spec}`"))?;
        let b: u8 = b
            .trim()
            .parse()
            .with_context(|| format!("bad actor `{b}` in `{spec}`"))?;
        anyhow::ensure!(
            (1..=24).contains(&a) && (1..=24).contains(&b) && a <= b,
            "actor range `{part}` must lie within 1-24"
        );
        out.extend(a..=b);
    }
    out.sort_unstable();
    out.dedup();
    anyhow::ensure!(!out.is_empty(), "no actors in `{spec}`");
    Ok(out)
}

fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Synth {
            out,
            seed,
            actors,
            emotion_scale,
        } => {
            let cfg = ravdess_loader::synth::SynthConfig {
                seed,
                actors: parse_actors(&actors)?,
                emotion_scale,
                ..Default::default()
            };
            let start = std::time::Instant::now();
            let bar = progress::bar(cfg.actors.len() as u64 * 60, "synth");
            let n = ravdess_loader::synth::write_with_progress(&out, &cfg, |done, _| {
                bar.set_position(done as u64)
            })
            .with_context(|| format!("writing the generated corpus to {}", out.display()))?;
            bar.finish_and_clear();
            eprintln!(
                "wrote {n} clips to {} in {:.2} s (seed {seed})",
                out.display(),
                start.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Inspect {
            data,
            speaker_rules,
            label_maps,
            labels,
            json,
            decode,
        } => {
            let specs = ravdess_loader::CorpusSpec::from_args(&data, &speaker_rules, &label_maps)?;
            let options = ravdess_loader::CorporaOptions {
                labels: (!labels.is_empty()).then_some(labels),
            };
            inspect::run(&specs, &options, json, decode)
        }
        Command::Manifest { dir, out } => {
            let corpus = ravdess_loader::open_corpus(&dir)
                .with_context(|| format!("opening corpus {}", dir.display()))?;
            for p in &corpus.problems {
                eprintln!("skipped {}: {}", p.path.display(), p.reason);
            }
            ravdess_loader::write_manifest(&out, &corpus.utterances)
                .with_context(|| format!("writing {}", out.display()))?;
            eprintln!(
                "wrote {} rows to {}",
                corpus.utterances.len(),
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Download {
            corpus:
                DownloadCorpus::Ravdess {
                    dest,
                    url,
                    md5,
                    expect_files,
                    retries,
                },
        } => download::ravdess(&download::Request {
            dest,
            url,
            md5,
            expect_files,
            retries,
        }),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_specs() {
        assert_eq!(parse_actors("1-3,24").unwrap(), vec![1, 2, 3, 24]);
        assert!(parse_actors("0-3").is_err());
        assert!(parse_actors("x").is_err());
    }
}
