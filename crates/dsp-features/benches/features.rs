//! Criterion benches: STFT, log-mel and MFCC with the default settings (16 kHz, n_fft 512,
//! win 400, hop 160, 64 mels, 40 MFCCs) on one 4 s clip and on a batch of 32 clips of 4 s, and
//! the 112 utterance functionals (YIN + STFT + MFCC statistics) of one 4 s clip
//! (`clip_4s/functionals`).
//!
//! Throughput is `Elements(samples)`, so criterion's "elem/s" is **samples of audio per second**:
//! divide by 16 000 to get seconds of audio per second, i.e. the real-time factor ("x real
//! time"). Run: `cargo bench -p dsp-features --bench features` (set `RAYON_NUM_THREADS` to fix
//! the thread count of the batch benches).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dsp_features::{
    FeatureConfig, FeatureExtractor, FeatureKind, FunctionalsConfig, FunctionalsExtractor,
    Precision,
};
use std::hint::black_box;

const SR: usize = 16_000;
const CLIP_SECONDS: usize = 4;
const BATCH: usize = 32;

/// Deterministic speech-like test signal: a few harmonics plus xorshift noise.
fn clip(seed: u64) -> Vec<f32> {
    let mut s = seed.max(1);
    (0..SR * CLIP_SECONDS)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let noise = ((s >> 40) as f32 / (1u64 << 24) as f32) - 0.5;
            let t = i as f32 / SR as f32;
            0.3 * (2.0 * std::f32::consts::PI * 150.0 * t).sin()
                + 0.1 * (2.0 * std::f32::consts::PI * 900.0 * t).sin()
                + 0.05 * noise
        })
        .collect()
}

fn configs() -> [(&'static str, FeatureConfig); 4] {
    [
        (
            "logmel_f32fft",
            FeatureConfig {
                precision: Precision::F32,
                ..FeatureConfig::default()
            },
        ),
        (
            "stft",
            FeatureConfig {
                kind: FeatureKind::Stft,
                ..FeatureConfig::default()
            },
        ),
        ("logmel", FeatureConfig::default()),
        ("mfcc", FeatureConfig::mfcc()),
    ]
}

fn single_clip(c: &mut Criterion) {
    let y = clip(1);
    let mut g = c.benchmark_group("clip_4s");
    g.throughput(Throughput::Elements(y.len() as u64));
    for (name, cfg) in configs() {
        let ex = FeatureExtractor::new(cfg).expect("valid config");
        let mut scratch = ex.scratch();
        g.bench_function(name, |b| {
            b.iter(|| {
                ex.extract_with_scratch(black_box(&y), &mut scratch)
                    .expect("extract")
            })
        });
    }
    let functionals =
        FunctionalsExtractor::new(FunctionalsConfig::default()).expect("valid config");
    g.bench_function("functionals", |b| {
        b.iter(|| functionals.extract(black_box(&y)).expect("extract"))
    });
    g.finish();
}

fn batch(c: &mut Criterion) {
    let clips: Vec<Vec<f32>> = (0..BATCH as u64).map(|k| clip(k + 7)).collect();
    let refs: Vec<&[f32]> = clips.iter().map(|c| c.as_slice()).collect();
    let mut g = c.benchmark_group("batch_32x4s");
    g.throughput(Throughput::Elements((BATCH * SR * CLIP_SECONDS) as u64));
    g.sample_size(20);
    for (name, cfg) in configs() {
        let ex = FeatureExtractor::new(cfg).expect("valid config");
        g.bench_function(name, |b| b.iter(|| ex.extract_many(black_box(&refs))));
    }
    g.finish();
}

criterion_group!(benches, single_clip, batch);
criterion_main!(benches);
