//! Helpers shared by ser-train's test binaries (`tests/cli*.rs`, `tests/finetune.rs`):
//! running the binary, reading what it wrote, and an EMO-DB-like corpus generated in label
//! folders.
//!
//! Each test binary compiles this module on its own and uses a subset of it, so the items
//! one binary leaves unused are not dead code of the crate.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ravdess_loader::synth::{self, EmodbLayout, SynthConfig};
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
/// the number of `boredom` clips written (`ravdess_loader::synth::write_emodb_layout`).
pub fn emodb_like(dir: &Path, texts: &[&str], boredom: bool) -> usize {
    let cfg = SynthConfig {
        actors: vec![5, 6, 7, 8],
        ..Default::default()
    };
    let layout = EmodbLayout {
        speakers: vec![3, 8, 9, 10],
        texts: texts.iter().map(|t| t.to_string()).collect(),
        boredom,
    };
    synth::write_emodb_layout(dir, &cfg, &layout)
        .unwrap()
        .boredom
}
