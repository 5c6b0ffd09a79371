//! Sanity check of the generated corpus: emotion cues must generalise to unseen speakers.
//!
//! Hand-made per-utterance summary features (energy dynamics, autocorrelation F0 level /
//! range / final slope / irregularity, a spectral-tilt proxy, speech duration) and a
//! nearest-centroid classifier trained on actors 01-20, tested on the never-seen actors
//! 21-24 (speaker-independent protocol). Chance is 1/8 = 12.5 %. If this drops, emotion cues
//! have become too weak relative to speaker variation for the CRNN target (>= 90 %).

#![allow(clippy::unwrap_used)] // tests: a panic is a failed test
#![allow(clippy::needless_range_loop)] // index loops over feature dimensions read clearest

use ravdess_loader::synth::{self, SynthConfig};
use ravdess_loader::{Emotion, Utterance};
use rayon::prelude::*;
use ser_audio::Preprocess;

/// Minimum nearest-centroid accuracy on actors 21-24.
const MIN_ACCURACY: f64 = 0.70;

fn features(samples: &[f32], sr: u32) -> Vec<f64> {
    // Decimate by 2 (pair average) for a cheaper pitch search.
    let x: Vec<f32> = samples
        .chunks_exact(2)
        .map(|p| 0.5 * (p[0] + p[1]))
        .collect();
    let sr = f64::from(sr) / 2.0;
    let frame = (0.04 * sr) as usize;
    let hop = (0.01 * sr) as usize;
    let (min_lag, max_lag) = ((sr / 450.0) as usize, (sr / 70.0) as usize);
    let mut log_e = Vec::new();
    let mut f0s = Vec::new();
    let mut f0_t = Vec::new();
    let mut tilt = Vec::new();
    let mut i = 0;
    while i + frame + max_lag < x.len() {
        let w = &x[i..i + frame];
        let e: f32 = w.iter().map(|v| v * v).sum::<f32>() / frame as f32;
        log_e.push(10.0 * f64::from(e.max(1e-10)).log10());
        i += hop;
    }
    let max_e = log_e.iter().copied().fold(f64::MIN, f64::max);
    let mut i = 0;
    let mut k = 0;
    while i + frame + max_lag < x.len() {
        if log_e[k] > max_e - 25.0 && k % 2 == 0 {
            let w = &x[i..i + frame];
            let e0: f32 = w.iter().map(|v| v * v).sum();
            let d: f32 = w.windows(2).map(|p| (p[1] - p[0]).powi(2)).sum();
            tilt.push(f64::from(d / e0.max(1e-12)));
            let mut best = (0.0f32, 0usize);
            for lag in min_lag..=max_lag {
                let c: f32 = w
                    .iter()
                    .zip(&x[i + lag..i + lag + frame])
                    .map(|(a, b)| a * b)
                    .sum();
                let e1: f32 = x[i + lag..i + lag + frame].iter().map(|v| v * v).sum();
                let r = c / (e0 * e1).sqrt().max(1e-12);
                if r > best.0 {
                    best = (r, lag);
                }
            }
            if best.0 > 0.5 {
                f0s.push(12.0 * (sr / best.1 as f64).log2());
                f0_t.push(k as f64);
            }
        }
        i += hop;
        k += 1;
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let std = |v: &[f64]| {
        let m = mean(v);
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / v.len().max(1) as f64).sqrt()
    };
    let active: Vec<f64> = log_e
        .iter()
        .copied()
        .filter(|&e| e > max_e - 40.0)
        .collect();
    let n = f0s.len();
    let (head, tail) = f0s.split_at(n * 7 / 10);
    let jit: Vec<f64> = f0s.windows(2).map(|p| (p[1] - p[0]).abs()).collect();
    let _ = f0_t;
    vec![
        std(&active),
        mean(&active) - max_e,
        mean(&f0s),
        std(&f0s),
        mean(tail) - mean(head),
        mean(&jit),
        mean(&tilt).ln(),
        active.len() as f64 * 0.01,
        n as f64 / active.len().max(1) as f64,
    ]
}

fn actor(u: &Utterance) -> u8 {
    u.ravdess.map_or(0, |n| n.actor)
}

#[test]
fn nearest_centroid_beats_chance_on_unseen_speakers() {
    let t0 = std::time::Instant::now();
    let utts = synth::generate(&SynthConfig::default());
    eprintln!("generated {} clips in {:.2?}", utts.len(), t0.elapsed());
    assert_eq!(utts.len(), 1440);
    let feats: Vec<(u8, usize, Vec<f64>)> = utts
        .par_iter()
        .map(|u| {
            let mut a = u.audio.clone().unwrap();
            Preprocess::default().apply(&mut a);
            let label = Emotion::from_name(&u.label).unwrap().code() as usize - 1;
            (actor(u), label, features(&a.samples, a.sample_rate))
        })
        .collect();
    let dim = feats[0].2.len();
    let train: Vec<&(u8, usize, Vec<f64>)> = feats.iter().filter(|f| f.0 <= 20).collect();
    let test: Vec<&(u8, usize, Vec<f64>)> = feats.iter().filter(|f| f.0 > 20).collect();
    let mut mu = vec![0.0; dim];
    let mut sd = vec![0.0; dim];
    for f in &train {
        for d in 0..dim {
            mu[d] += f.2[d] / train.len() as f64;
        }
    }
    for f in &train {
        for d in 0..dim {
            sd[d] += (f.2[d] - mu[d]).powi(2) / train.len() as f64;
        }
    }
    let z = |v: &[f64]| -> Vec<f64> {
        (0..dim)
            .map(|d| (v[d] - mu[d]) / sd[d].sqrt().max(1e-9))
            .collect()
    };
    let mut cent = vec![vec![0.0; dim]; 8];
    let mut cnt = [0usize; 8];
    for f in &train {
        let zv = z(&f.2);
        cnt[f.1] += 1;
        for d in 0..dim {
            cent[f.1][d] += zv[d];
        }
    }
    for c in 0..8 {
        for d in 0..dim {
            cent[c][d] /= cnt[c] as f64;
        }
    }
    let mut correct = 0;
    let mut confusion = [[0usize; 8]; 8];
    for f in &test {
        let zv = z(&f.2);
        let pred = (0..8)
            .min_by(|&a, &b| {
                let da: f64 = (0..dim).map(|d| (zv[d] - cent[a][d]).powi(2)).sum();
                let db: f64 = (0..dim).map(|d| (zv[d] - cent[b][d]).powi(2)).sum();
                da.total_cmp(&db)
            })
            .unwrap();
        confusion[f.1][pred] += 1;
        if pred == f.1 {
            correct += 1;
        }
    }
    let acc = correct as f64 / test.len() as f64;
    eprintln!(
        "nearest-centroid accuracy, train actors 01-20, test 21-24: {:.1} %",
        100.0 * acc
    );
    for (i, row) in confusion.iter().enumerate() {
        eprintln!("{:>10} {:?}", Emotion::ALL[i].name(), row);
    }
    // Class means of each feature (train) for diagnosis.
    for (c, row) in cent.iter().enumerate() {
        eprintln!(
            "{:>10} {:?}",
            Emotion::ALL[c].name(),
            row.iter()
                .map(|v| (v * 100.0).round() / 100.0)
                .collect::<Vec<_>>()
        );
    }
    assert!(acc >= MIN_ACCURACY, "accuracy {acc:.3} < {MIN_ACCURACY}");
}
