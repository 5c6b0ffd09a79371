//! Criterion benches of end-to-end inference with the shipped model (`models/default`):
//! loading the artifact, and predicting one 4 s clip from raw samples (resampling, feature
//! extraction, normalisation and every ensemble member included), as `ser-predict` and
//! `ser-web` do for each request.
//!
//! Issue 7's budget is < 100 ms for load + predict of a 4 s clip on one core. Run pinned to
//! one core so the number means that:
//!
//! ```sh
//! RAYON_NUM_THREADS=1 taskset -c 0 cargo bench -p ser-models --bench predict
//! ```
//!
//! `SER_BENCH_MODEL=DIR` benches another artifact.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use ravdess_loader::Audio;
use ser_models::artifact::Classifier;

const CLIP_SECONDS: usize = 4;

fn model_dir() -> PathBuf {
    std::env::var_os("SER_BENCH_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/default"))
        })
}

/// Deterministic voiced test signal at `sr` Hz: a 150 Hz tone with harmonics, a slow
/// amplitude envelope (so silence trimming keeps it whole) and xorshift noise.
fn clip(sr: usize) -> Audio {
    let mut s = 0x9E37_79B9_7F4A_7C15_u64;
    let samples = (0..sr * CLIP_SECONDS)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let noise = ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5;
            let t = i as f32 / sr as f32;
            let env = 0.6 + 0.4 * (2.0 * std::f32::consts::PI * 2.0 * t).sin();
            let tau = 2.0 * std::f32::consts::PI;
            env * (0.3 * (tau * 150.0 * t).sin() + 0.1 * (tau * 450.0 * t).sin()) + 0.02 * noise
        })
        .collect();
    Audio::new(samples, sr as u32)
}

fn bench(c: &mut Criterion) {
    let dir = model_dir();
    let model = match Classifier::load(&dir) {
        Ok(m) => m,
        Err(e) => panic!("cannot load the benched model {}: {e}", dir.display()),
    };
    let members = model.manifest().members.len();
    let mut g = c.benchmark_group(format!("predict/{members}-member"));
    g.bench_function("load", |b| {
        b.iter(|| black_box(Classifier::load(&dir).expect("load")))
    });
    for sr in [16_000, 48_000] {
        let audio = clip(sr);
        g.bench_function(format!("predict_4s_{}k", sr / 1000), |b| {
            b.iter(|| black_box(model.predict(black_box(&audio)).expect("predict")))
        });
        g.bench_function(format!("load_and_predict_4s_{}k", sr / 1000), |b| {
            b.iter(|| {
                let m = Classifier::load(&dir).expect("load");
                black_box(m.predict(black_box(&audio)).expect("predict"))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
