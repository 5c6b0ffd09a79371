//! The channel simulator through its public API: determinism, safety over many random chains
//! (tones, noise, silence, empty and 1-sample clips, full-scale overs), lengths, the telephone
//! band, replaying logged chains, and how often each step is drawn.

#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use std::f64::consts::TAU;

use ser_audio::channel::{
    ChannelChain, ChannelConfig, ChannelSimulator, ChannelStep, EqBand, EqShape, NoiseKind,
};
use ser_audio::rng::SplitMix64;
use ser_audio::{Audio, Error, MAX_SAMPLE_MAGNITUDE};

fn tone(freq: f64, amp: f64, rate: u32, n: usize) -> Audio {
    Audio::new(
        (0..n)
            .map(|i| (amp * (TAU * freq * i as f64 / f64::from(rate)).sin()) as f32)
            .collect(),
        rate,
    )
}

fn noise(amp: f64, rate: u32, n: usize, seed: u64) -> Audio {
    let mut rng = SplitMix64::new(seed);
    Audio::new((0..n).map(|_| (amp * rng.normal()) as f32).collect(), rate)
}

/// Every transform on every time: the hardest config for the safety checks.
fn everything() -> ChannelConfig {
    let mut c = ChannelConfig::default();
    c.speed.prob = 1.0;
    c.pitch.prob = 1.0;
    c.reverb.prob = 1.0;
    c.noise.prob = 1.0;
    c.noise.kinds = vec![
        NoiseKind::White,
        NoiseKind::Pink,
        NoiseKind::Brown,
        NoiseKind::Babble,
    ];
    c.eq.prob = 1.0;
    c.eq.gain_db = 20.0;
    c.high_pass.prob = 1.0;
    c.low_pass.prob = 1.0;
    c.gain.prob = 1.0;
    c.gain.gain_db = (-40.0, 40.0);
    c.telephone.prob = 1.0;
    c.bit_depth.prob = 1.0;
    c.mu_law.prob = 1.0;
    c.dropouts.prob = 1.0;
    c
}

#[test]
fn the_same_seed_gives_the_same_chain_and_samples() {
    let sim = ChannelSimulator::new(ChannelConfig::default()).unwrap();
    let clip = noise(0.1, 16_000, 8_000, 1);
    let mut differ = 0;
    for key in 0..20 {
        let a = sim
            .simulate(&clip, &mut SplitMix64::derive(3, key))
            .unwrap();
        let b = sim
            .simulate(&clip, &mut SplitMix64::derive(3, key))
            .unwrap();
        assert_eq!(a, b, "key {key}");
        let c = sim
            .simulate(&clip, &mut SplitMix64::derive(4, key))
            .unwrap();
        differ += usize::from(c.audio != a.audio);
    }
    assert!(
        differ >= 15,
        "only {differ} of 20 chains differ across seeds"
    );
}

#[test]
fn outputs_are_finite_and_within_full_scale_for_any_input() {
    let rates = [8_000, 16_000, 44_100];
    for (ci, config) in [ChannelConfig::default(), everything()]
        .into_iter()
        .enumerate()
    {
        let sim = ChannelSimulator::new(config).unwrap();
        let mut rng = SplitMix64::new(ci as u64);
        for (ri, &rate) in rates.iter().enumerate() {
            let n = rate as usize / 4;
            let mut loud = tone(440.0, 1.0, rate, n);
            loud.samples[n / 2] = MAX_SAMPLE_MAGNITUDE; // an "over", still accepted input
            let clips = [
                tone(220.0, 0.5, rate, n),
                tone(3000.0, 0.9, rate, n),
                noise(0.2, rate, n, ri as u64),
                Audio::new(vec![0.0; n], rate),
                Audio::new(vec![], rate),
                Audio::new(vec![0.7], rate),
                Audio::new(vec![-0.3, 0.9, 0.1], rate),
                loud,
            ];
            for clip in &clips {
                for _ in 0..6 {
                    let out = sim.simulate(clip, &mut rng).unwrap();
                    let bad = out
                        .audio
                        .samples
                        .iter()
                        .find(|v| !v.is_finite() || v.abs() > 1.0);
                    assert!(
                        bad.is_none(),
                        "{bad:?} after {out} on {} samples",
                        clip.samples.len()
                    );
                    assert_eq!(out.audio.sample_rate, rate);
                }
            }
        }
    }
}

#[test]
fn only_speed_changes_the_length() {
    let sim = ChannelSimulator::new(everything()).unwrap();
    let clip = noise(0.1, 16_000, 4_000, 2);
    let mut rng = SplitMix64::new(5);
    let mut speed_off = ChannelConfig::default();
    speed_off.speed.prob = 0.0;
    let no_speed = ChannelSimulator::new(speed_off).unwrap();
    for _ in 0..10 {
        let out = sim.simulate(&clip, &mut rng).unwrap();
        let Some(ChannelStep::Speed { factor }) = out.chain.steps.first() else {
            panic!("speed has probability 1: {out}");
        };
        let want = (4_000.0 / f64::from(*factor)).ceil() as usize;
        assert!(out.audio.samples.len().abs_diff(want) <= 1, "{out}");
        let same = no_speed.simulate(&clip, &mut rng).unwrap();
        assert_eq!(same.audio.samples.len(), 4_000, "{same}");
    }
}

#[test]
fn the_telephone_band_removes_100_hz_and_6_khz_and_keeps_1_khz() {
    let rate = 16_000;
    let sim = ChannelSimulator::new(ChannelConfig::none()).unwrap();
    let chain = ChannelChain {
        sample_rate: rate,
        steps: vec![ChannelStep::Telephone {
            low_hz: 300.0,
            high_hz: 3400.0,
            order: 4,
        }],
    };
    // Steady-state level change of a tone through the chain, dB (last half second).
    let gain_db = |f: f64| {
        let x = tone(f, 0.5, rate, 16_000);
        let y = sim.replay(&chain, &x).unwrap().audio;
        let rms = |s: &[f32]| {
            s[8_000..]
                .iter()
                .map(|&v| f64::from(v).powi(2))
                .sum::<f64>()
        };
        10.0 * (rms(&y.samples) / rms(&x.samples)).log10()
    };
    // 4th-order Butterworth edges: 38 dB down at 100 Hz (1.6 octaves under 300 Hz), 39 dB at
    // 6 kHz (warped by the bilinear transform at 16 kHz); 1 kHz sits in the flat pass band.
    assert!(gain_db(100.0) < -35.0, "100 Hz: {:.1} dB", gain_db(100.0));
    assert!(gain_db(6000.0) < -35.0, "6 kHz: {:.1} dB", gain_db(6000.0));
    assert!(
        gain_db(1000.0).abs() < 0.2,
        "1 kHz: {:.2} dB",
        gain_db(1000.0)
    );
}

#[test]
fn a_logged_chain_replays_to_the_same_samples() {
    let sim = ChannelSimulator::new(everything()).unwrap();
    let clip = tone(300.0, 0.4, 16_000, 8_000);
    let out = sim.simulate(&clip, &mut SplitMix64::new(9)).unwrap();
    let json = serde_json::to_string(&out.chain).unwrap();
    let chain: ChannelChain = serde_json::from_str(&json).unwrap();
    assert_eq!(chain, out.chain);
    // Another simulator (say, in a later process) replays it exactly.
    let other = ChannelSimulator::new(ChannelConfig::none()).unwrap();
    assert_eq!(other.replay(&chain, &clip).unwrap(), out);
    // At another rate the drawn filter frequencies would mean something else: refused.
    let at_8k = Audio::new(clip.samples.clone(), 8_000);
    assert!(matches!(
        sim.replay(&chain, &at_8k),
        Err(Error::InvalidConfig {
            field: "chain.sample_rate",
            ..
        })
    ));
}

#[test]
fn chains_describe_themselves_in_one_line() {
    let chain = ChannelChain {
        sample_rate: 16_000,
        steps: vec![
            ChannelStep::Speed { factor: 1.05 },
            ChannelStep::Reverb {
                rt60_secs: 0.43,
                drr_db: 4.1,
                reflections: 5,
                onset_ms: 3.0,
                seed: 1,
            },
            ChannelStep::Noise {
                kind: NoiseKind::Pink,
                snr_db: 17.25,
                talkers: 3,
                seed: 2,
            },
            ChannelStep::Eq {
                bands: vec![EqBand {
                    shape: EqShape::Peaking,
                    freq_hz: 1250.0,
                    gain_db: 6.1,
                    q: 1.1,
                }],
            },
            ChannelStep::MuLaw,
        ],
    };
    assert_eq!(
        chain.to_string(),
        "speed x1.050 -> room RT60 0.43 s DRR +4.1 dB -> pink noise at 17.2 dB SNR -> \
         EQ peak 1250 Hz +6.1 dB Q 1.10 -> G.711 mu-law at 8 kHz"
    );
    let empty = ChannelChain {
        sample_rate: 16_000,
        steps: vec![],
    };
    assert_eq!(empty.to_string(), "clean");
}

#[test]
fn bad_inputs_and_configs_are_errors_not_panics() {
    let sim = ChannelSimulator::new(ChannelConfig::default()).unwrap();
    let mut rng = SplitMix64::new(1);
    for bad in [f32::NAN, f32::INFINITY, MAX_SAMPLE_MAGNITUDE * 1.01] {
        let a = Audio::new(vec![0.1, bad, 0.1], 16_000);
        assert!(sim.apply(&a, &mut rng).is_err(), "{bad}");
    }
    for rate in [0, 999, 192_001] {
        let a = Audio::new(vec![0.1; 100], rate);
        assert!(matches!(
            sim.apply(&a, &mut rng),
            Err(Error::SampleRate { .. })
        ));
    }
    let mut c = ChannelConfig::default();
    c.reverb.rt60_secs = (0.5, 9.0);
    assert!(matches!(
        ChannelSimulator::new(c),
        Err(Error::InvalidConfig {
            field: "reverb.rt60_secs",
            ..
        })
    ));
}

#[test]
fn each_step_is_drawn_about_as_often_as_its_probability() {
    let config = ChannelConfig::default();
    let sim = ChannelSimulator::new(config.clone()).unwrap();
    let mut rng = SplitMix64::new(17);
    let draws = 4_000;
    let mut counts = std::collections::HashMap::<&str, usize>::new();
    for _ in 0..draws {
        for step in sim.draw(16_000, &mut rng).steps {
            let name = match step {
                ChannelStep::Speed { .. } => "speed",
                ChannelStep::Pitch { .. } => "pitch",
                ChannelStep::Reverb { .. } => "reverb",
                ChannelStep::Noise { .. } => "noise",
                ChannelStep::Eq { .. } => "eq",
                ChannelStep::HighPass { .. } => "high_pass",
                ChannelStep::LowPass { .. } => "low_pass",
                ChannelStep::Gain { .. } => "gain",
                ChannelStep::Telephone { .. } => "telephone",
                ChannelStep::BitDepth { .. } => "bit_depth",
                ChannelStep::MuLaw => "mu_law",
                ChannelStep::Dropouts { .. } => "dropouts",
            };
            *counts.entry(name).or_default() += 1;
        }
    }
    let expected = [
        ("speed", config.speed.prob),
        ("pitch", config.pitch.prob),
        ("reverb", config.reverb.prob),
        ("noise", config.noise.prob),
        ("eq", config.eq.prob),
        ("high_pass", config.high_pass.prob),
        ("low_pass", config.low_pass.prob),
        ("gain", config.gain.prob),
        ("telephone", config.telephone.prob),
        ("bit_depth", config.bit_depth.prob),
        ("mu_law", config.mu_law.prob),
        ("dropouts", config.dropouts.prob),
    ];
    for (name, p) in expected {
        let p = f64::from(p);
        let got = counts.get(name).copied().unwrap_or(0) as f64 / f64::from(draws);
        // Four binomial standard deviations.
        let tol = 4.0 * (p * (1.0 - p) / f64::from(draws)).sqrt();
        assert!(
            (got - p).abs() <= tol,
            "{name}: drawn {got:.3}, probability {p}"
        );
    }
}
