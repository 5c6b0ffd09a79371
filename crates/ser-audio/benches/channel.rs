//! Cost of the channel simulator on a 4 s clip at 16 kHz: the default random chain (averaged
//! over the chains drawn), and each step alone, at its most expensive setting where it has one.
//! Throughput is in samples, so criterion's "elem/s" over 16000 is seconds of audio per second.
//!
//! `cargo bench -p ser-audio --bench channel`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ser_audio::Audio;
use ser_audio::channel::{
    ChannelChain, ChannelConfig, ChannelSimulator, ChannelStep, EqBand, EqShape, NoiseKind,
};
use ser_audio::rng::SplitMix64;

const RATE: u32 = 16_000;

/// 4 s of a speech-like signal: a 120-220 Hz harmonic voice with a 4 Hz syllable envelope.
fn clip() -> Audio {
    let mut rng = SplitMix64::new(1);
    let samples = (0..4 * RATE as usize)
        .map(|i| {
            let t = i as f64 / f64::from(RATE);
            let f0 = 170.0 + 50.0 * (std::f64::consts::TAU * 0.5 * t).sin();
            let env = (std::f64::consts::TAU * 4.0 * t).sin().max(0.0);
            let voice: f64 = (1..=10)
                .map(|h| (std::f64::consts::TAU * f0 * h as f64 * t).sin() / h as f64)
                .sum();
            (0.2 * env * voice + 0.002 * rng.normal()) as f32
        })
        .collect();
    Audio::new(samples, RATE)
}

fn steps() -> Vec<(&'static str, ChannelStep)> {
    vec![
        ("speed x1.1", ChannelStep::Speed { factor: 1.1 }),
        ("pitch +2 st", ChannelStep::Pitch { semitones: 2.0 }),
        (
            "reverb RT60 0.8 s",
            ChannelStep::Reverb {
                rt60_secs: 0.8,
                drr_db: 0.0,
                reflections: 6,
                onset_ms: 4.0,
                seed: 1,
            },
        ),
        (
            "pink noise",
            ChannelStep::Noise {
                kind: NoiseKind::Pink,
                snr_db: 15.0,
                talkers: 0,
                seed: 1,
            },
        ),
        (
            "babble of 6",
            ChannelStep::Noise {
                kind: NoiseKind::Babble,
                snr_db: 15.0,
                talkers: 6,
                seed: 1,
            },
        ),
        (
            "EQ 3 bands",
            ChannelStep::Eq {
                bands: vec![
                    EqBand {
                        shape: EqShape::Peaking,
                        freq_hz: 1000.0,
                        gain_db: 6.0,
                        q: 1.0,
                    };
                    3
                ],
            },
        ),
        (
            "telephone band",
            ChannelStep::Telephone {
                low_hz: 300.0,
                high_hz: 3400.0,
                order: 4,
            },
        ),
        ("mu-law 8 kHz", ChannelStep::MuLaw),
    ]
}

fn bench(c: &mut Criterion) {
    let audio = clip();
    let mut group = c.benchmark_group("channel 4 s at 16 kHz");
    group.throughput(Throughput::Elements(audio.samples.len() as u64));
    group.sample_size(20);
    let sim = ChannelSimulator::new(ChannelConfig::default()).expect("default config is valid");
    let mut key = 0u64;
    group.bench_function("apply (default config)", |b| {
        b.iter(|| {
            key += 1;
            let mut rng = SplitMix64::derive(7, key);
            black_box(sim.apply(black_box(&audio), &mut rng).expect("valid clip"))
        })
    });
    for (name, step) in steps() {
        let chain = ChannelChain {
            sample_rate: RATE,
            steps: vec![step],
        };
        group.bench_function(name, |b| {
            b.iter(|| black_box(sim.replay(&chain, black_box(&audio)).expect("valid clip")))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
