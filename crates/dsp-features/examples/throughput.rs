//! Throughput of feature extraction on a folder of `.npy` clips (float32, 1-D, 16 kHz), for the
//! side-by-side comparison with librosa in `benches/features_vs_librosa.py`.
//!
//! ```text
//! cargo run --release -p dsp-features --example throughput -- DIR [--kind logmel|mfcc|stft]
//!     [--mode single|batch] [--repeat N] [--fast-fft] [--dump OUT.npy]
//! ```
//! `single` extracts the clips one after another on the calling thread; `batch` calls
//! `extract_many` (rayon: set `RAYON_NUM_THREADS`). Prints one JSON line with wall-clock and
//! CPU seconds (from `/proc/self/task/*/schedstat`, all threads) and the real-time factors.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use dsp_features::npy::{read_npy, write_npy_matrix};
use dsp_features::{FeatureConfig, FeatureExtractor, FeatureKind, Precision};

/// CPU time of this process (all threads) in seconds, if `/proc` is there: the sum of the
/// first field of `/proc/self/task/*/schedstat` (nanoseconds on the CPU), so the figure is not
/// inflated when other processes share the cores.
fn cpu_seconds() -> Option<f64> {
    let mut ns = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        ns += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(ns as f64 * 1e-9)
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let (mut kind, mut mode, mut repeat, mut fast, mut dump) = (
        "logmel".to_string(),
        "single".to_string(),
        3usize,
        false,
        None,
    );
    while let Some(a) = args.next() {
        match a.as_str() {
            "--kind" => kind = args.next().context("--kind needs a value")?,
            "--mode" => mode = args.next().context("--mode needs a value")?,
            "--repeat" => repeat = args.next().context("--repeat needs a value")?.parse()?,
            "--fast-fft" => fast = true,
            "--dump" => dump = Some(PathBuf::from(args.next().context("--dump needs a path")?)),
            _ if dir.is_none() => dir = Some(PathBuf::from(a)),
            other => bail!("unexpected argument {other}"),
        }
    }
    let dir = dir.context(
        "usage: throughput DIR [--kind K] [--mode single|batch] [--repeat N] [--fast-fft]",
    )?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "npy"))
        .collect();
    files.sort();
    let clips: Vec<Vec<f32>> = files
        .iter()
        .map(|p| Ok(read_npy(std::fs::File::open(p)?)?.1))
        .collect::<Result<_>>()?;
    if clips.is_empty() {
        bail!("no .npy clips in {}", dir.display());
    }
    let cfg = FeatureConfig {
        kind: match kind.as_str() {
            "stft" => FeatureKind::Stft,
            "mfcc" => FeatureKind::Mfcc,
            _ => FeatureKind::LogMel,
        },
        precision: if fast { Precision::F32 } else { Precision::F64 },
        ..FeatureConfig::default()
    };
    let ex = FeatureExtractor::new(cfg)?;
    let refs: Vec<&[f32]> = clips.iter().map(|c| c.as_slice()).collect();
    if let Some(path) = dump {
        write_npy_matrix(std::fs::File::create(&path)?, &ex.extract(refs[0])?.data)?;
    }
    // Warm-up: plans, page faults, thread pool start.
    for r in ex.extract_many(&refs[..refs.len().min(4)]) {
        r?;
    }
    let (t0, c0) = (Instant::now(), cpu_seconds());
    let mut frames = 0usize;
    for _ in 0..repeat {
        if mode == "batch" {
            for r in ex.extract_many(&refs) {
                frames += r?.frames();
            }
        } else {
            let mut scratch = ex.scratch();
            for c in &refs {
                frames += ex.extract_with_scratch(c, &mut scratch)?.frames();
            }
        }
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = match (c0, cpu_seconds()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let audio_s = (repeat * clips.iter().map(Vec::len).sum::<usize>()) as f64 / 16_000.0;
    println!(
        "{{\"tool\": \"dsp-features\", \"kind\": \"{kind}\", \"mode\": \"{mode}\", \"fast_fft\": {fast}, \"threads\": {}, \"clips\": {}, \"audio_s\": {audio_s:.3}, \"frames\": {frames}, \"wall_s\": {wall:.6}, \"cpu_s\": {}, \"x_realtime_wall\": {:.1}, \"x_realtime_cpu\": {}}}",
        rayon::current_num_threads(),
        clips.len() * repeat,
        cpu.map_or("null".into(), |c| format!("{c:.3}")),
        audio_s / wall,
        cpu.filter(|&c| c > 0.0)
            .map_or("null".into(), |c| format!("{:.1}", audio_s / c)),
    );
    Ok(())
}
