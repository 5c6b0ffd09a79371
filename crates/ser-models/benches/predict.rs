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
use ravdess_loader::synth::{self, SynthConfig};
use ravdess_loader::{Audio, Emotion};
use ser_models::artifact::Classifier;

const CLIP_SECONDS: usize = 4;

fn model_dir() -> PathBuf {
    std::env::var_os("SER_BENCH_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/default"))
        })
}

/// A 4 s utterance at `sr` Hz: an angry clip of the generated corpus (`ravdess_loader::synth`,
/// speech-like syllables with pitch and energy contours), repeated to fill exactly 4 s so that
/// silence trimming leaves (nearly) all 4 s for the model: the worst case of a 4 s request.
fn clip(sr: u32) -> Audio {
    let cfg = SynthConfig {
        sample_rate: sr,
        ..SynthConfig::default()
    };
    let name = synth::clip_names(1)
        .into_iter()
        .find(|n| n.emotion == Emotion::Angry)
        .expect("the generated corpus has angry clips");
    let one = synth::synthesize(&cfg, &name);
    let samples = one
        .samples
        .iter()
        .copied()
        .cycle()
        .take(sr as usize * CLIP_SECONDS)
        .collect();
    Audio::new(samples, sr)
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
