//! Additive noise that is not white: coloured (pink, brown) and babble, mixed at an SNR.
//!
//! * **Pink** (power `1/f`, -3 dB per octave) is the spectrum of many natural and electronic
//!   noises (ventilation, traffic at a distance, microphone self-noise is flatter); **brown**
//!   (`1/f^2`, -6 dB per octave) stands for rumble and wind. Both are made in the frequency
//!   domain and have no energy under [`NOISE_MIN_HZ`], where microphones and speech features
//!   do not look (and where a `1/f^2` spectrum would put most of its power).
//! * **Babble** is several people talking at once (Krishnamurthy & Hansen, "Babble noise:
//!   modeling, analysis, and applications", IEEE TASLP 17(7), 2009: with 3-6 talkers it is the
//!   hardest to ignore, since single voices can still be followed). No corpus of other
//!   talkers is at hand here, so each "talker" is the clip itself, time-reversed (the same
//!   long-term spectrum and syllabic rhythm, no intelligible words, and a pitch contour that
//!   runs backwards), circularly shifted by a random offset, low-passed at a random 1.5-4 kHz
//!   as a farther voice is, and given a random gain. Its limitation: the babble has the
//!   speaker's own voice quality.
//!
//! The SNR is relative to the RMS of the whole clip (silences included), the definition of
//! [`crate::Audio::add_white_noise`], so that "20 dB SNR" means the same thing here as in
//! ser-train's and ser-eval's white-noise options. A silent clip stays silent.

use serde::{Deserialize, Serialize};

use super::fft::{FftCache, coloured_noise};
use crate::error::Result;
use crate::filter::{BUTTERWORTH_Q, Biquad};
use crate::rng::SplitMix64;

/// Lowest frequency of coloured noise, Hz: the conventional lower limit of hearing.
pub const NOISE_MIN_HZ: f64 = 20.0;

/// Range of the low-pass cut-off of one babble talker, Hz (our choice: from a muffled voice in
/// the next room to a near one heard through a telephone-band microphone).
const BABBLE_LOWPASS_HZ: (f64, f64) = (1500.0, 4000.0);

/// The kind of additive noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoiseKind {
    /// Flat spectrum (Gaussian).
    White,
    /// `1/f` power spectrum.
    Pink,
    /// `1/f^2` power spectrum.
    Brown,
    /// Reversed, shifted, low-passed copies of the clip itself.
    Babble,
}

impl std::fmt::Display for NoiseKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NoiseKind::White => "white",
            NoiseKind::Pink => "pink",
            NoiseKind::Brown => "brown",
            NoiseKind::Babble => "babble",
        })
    }
}

/// A noise of `kind` as long as `clip` (any scale; [`add_at_snr`] sets the level).
pub(crate) fn make_noise(
    kind: NoiseKind,
    clip: &[f32],
    sample_rate: u32,
    talkers: usize,
    rng: &mut SplitMix64,
    fft: &FftCache,
) -> Result<Vec<f32>> {
    let fs = f64::from(sample_rate);
    match kind {
        NoiseKind::White => Ok(clip.iter().map(|_| rng.normal() as f32).collect()),
        NoiseKind::Pink => coloured_noise(clip.len(), fs, 1.0, NOISE_MIN_HZ, rng, fft),
        NoiseKind::Brown => coloured_noise(clip.len(), fs, 2.0, NOISE_MIN_HZ, rng, fft),
        NoiseKind::Babble => babble(clip, sample_rate, talkers, rng),
    }
}

/// Babble from `talkers` reversed, shifted, low-passed copies of `clip` (module docs).
pub fn babble(
    clip: &[f32],
    sample_rate: u32,
    talkers: usize,
    rng: &mut SplitMix64,
) -> Result<Vec<f32>> {
    let n = clip.len();
    let mut sum = vec![0.0f32; n];
    let mut talker = vec![0.0f32; n];
    let nyquist_cap = 0.45 * f64::from(sample_rate);
    for _ in 0..talkers {
        // Reversed, then rotated left by `shift`: talker[i] = reversed[(i + shift) % n].
        let shift = rng.below(n);
        talker.copy_from_slice(clip);
        talker.reverse();
        talker.rotate_left(shift);
        let cutoff = rng
            .uniform(BABBLE_LOWPASS_HZ.0, BABBLE_LOWPASS_HZ.1)
            .min(nyquist_cap);
        Biquad::low_pass(f64::from(sample_rate), cutoff, BUTTERWORTH_Q)?.process(&mut talker);
        let gain = rng.uniform(0.5, 1.0) as f32;
        sum.iter_mut()
            .zip(&talker)
            .for_each(|(s, t)| *s += gain * t);
    }
    Ok(sum)
}

/// Adds `noise` to `x` scaled so that `10 log10(P_x / P_noise) = snr_db`, powers taken over
/// the whole clip. Nothing is added when either is silent or the lengths differ.
pub fn add_at_snr(x: &mut [f32], noise: &[f32], snr_db: f64) {
    if x.len() != noise.len() || x.is_empty() {
        return;
    }
    let power = |s: &[f32]| s.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / s.len() as f64;
    let (px, pn) = (power(x), power(noise));
    if px <= 0.0 || pn <= 0.0 || !snr_db.is_finite() {
        return;
    }
    let g = (px / (pn * 10f64.powf(snr_db / 10.0))).sqrt() as f32;
    x.iter_mut().zip(noise).for_each(|(v, n)| *v += g * n);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn speechlike(n: usize, rng: &mut SplitMix64) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let t = i as f64 / 16_000.0;
                let env = (std::f64::consts::TAU * 3.0 * t).sin().max(0.0);
                (0.3 * env * ((std::f64::consts::TAU * 180.0 * t).sin() + 0.2 * rng.normal()))
                    as f32
            })
            .collect()
    }

    #[test]
    fn every_kind_lands_at_the_requested_snr() {
        let fft = FftCache::default();
        let mut rng = SplitMix64::new(8);
        let clean = speechlike(32_000, &mut rng);
        for kind in [
            NoiseKind::White,
            NoiseKind::Pink,
            NoiseKind::Brown,
            NoiseKind::Babble,
        ] {
            for snr in [0.0, 10.0, 25.0] {
                let noise = make_noise(kind, &clean, 16_000, 4, &mut rng, &fft).unwrap();
                let mut x = clean.clone();
                add_at_snr(&mut x, &noise, snr);
                let added: Vec<f32> = x.iter().zip(&clean).map(|(a, b)| a - b).collect();
                let p = |s: &[f32]| s.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>();
                let got = 10.0 * (p(&clean) / p(&added)).log10();
                assert!((got - snr).abs() < 0.01, "{kind} at {snr} dB: {got:.3}");
            }
        }
    }

    #[test]
    fn babble_is_not_the_clip_and_silence_stays_silent() {
        // A noise carrier, so that any correlation would come from copying the clip itself
        // (a reversed, shifted copy of white noise is uncorrelated with it).
        let mut rng = SplitMix64::new(2);
        let clean: Vec<f32> = (0..32_000).map(|_| rng.normal() as f32).collect();
        let b = babble(&clean, 16_000, 5, &mut rng).unwrap();
        let dot: f64 = clean
            .iter()
            .zip(&b)
            .map(|(&a, &c)| f64::from(a) * f64::from(c))
            .sum();
        let norm = |s: &[f32]| s.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>().sqrt();
        let corr = dot / (norm(&clean) * norm(&b));
        assert!(
            corr.abs() < 0.05,
            "babble correlates {corr:.2} with the clip"
        );
        let mut silent = vec![0.0f32; 1000];
        let noise = babble(&silent, 16_000, 3, &mut rng).unwrap();
        add_at_snr(&mut silent, &noise, 10.0);
        assert!(silent.iter().all(|&v| v == 0.0));
        assert!(babble(&[], 16_000, 3, &mut rng).unwrap().is_empty());
        assert_eq!(babble(&[0.5], 16_000, 3, &mut rng).unwrap().len(), 1);
    }
}
