//! Helpers shared by ser-train's CLI test binaries (`tests/cli*.rs`): running the binary,
//! reading what it wrote, and an EMO-DB-like corpus generated in label folders.
//!
//! Each test binary compiles this module on its own and uses a subset of it, so the items
//! one binary leaves unused are not dead code of the crate.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ravdess_loader::emodb;
use ravdess_loader::synth::{self, SynthConfig};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_ser-train");

/// Runs `ser-train` with `args` and waits for it.
pub fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("ser-train runs")
}

/// A run's stdout then stderr, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// A JSON array of strings.
pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The shipped EMO-DB label map (drops `boredom`).
pub fn emodb_map() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/labelmaps/emodb.csv")
}

/// EMO-DB speakers 03 (m), 08 (f), 09 (f), 10 (m) in `label/SSTTTEV.wav` folders, from
/// generated actors 5-8: per speaker one clip of each of EMO-DB's six shared emotions for each
/// of `texts` (EMO-DB text codes such as `a01`; no `surprised`, which EMO-DB lacks), and with
/// `boredom` as many `boredom` clips (the generated `calm` clips stand in for them). Returns
/// the number of `boredom` clips written.
pub fn emodb_like(dir: &Path, texts: &[&str], boredom: bool) -> usize {
    let mut written_boredom = 0;
    for (actor, spk) in [(5u8, "03"), (6, "08"), (7, "09"), (8, "10")] {
        let utts = synth::generate(&SynthConfig {
            actors: vec![actor],
            ..Default::default()
        });
        // EMO-DB's letters and folder names; the generated corpus has no boredom, so its
        // `calm` clips stand in.
        for (letter, folder) in emodb::EMOTIONS {
            if folder == "boredom" && !boredom {
                continue;
            }
            let ours = if folder == "boredom" { "calm" } else { folder };
            let clips = utts.iter().filter(|u| u.label == ours).take(texts.len());
            for (u, text) in clips.zip(texts) {
                let d = dir.join(folder);
                std::fs::create_dir_all(&d).unwrap();
                let name = format!("{spk}{text}{letter}a.wav");
                ser_audio::write_wav(d.join(name), u.audio.as_ref().unwrap()).unwrap();
                written_boredom += usize::from(folder == "boredom");
            }
        }
    }
    written_boredom
}
