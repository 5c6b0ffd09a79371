//! Room reverberation: synthetic room impulse responses (RIRs), and the Schroeder measurement
//! of their reverberation time.
//!
//! The model is Polack's statistical one (J.-D. Polack, "Playing billiards in the concert
//! hall: the mathematical foundations of geometrical room acoustics", Applied Acoustics 38,
//! 1993): after the first reflections, a room's response is Gaussian noise under an
//! exponential envelope `e^(-delta t)`, with `delta = 3 ln 10 / RT60` so that the energy has
//! fallen by 60 dB after RT60 seconds (Sabine's definition of the reverberation time). On top
//! of it:
//! * a direct path, one unit impulse at `t = 0` (so the output is not delayed);
//! * a few discrete early reflections in the first 50 ms, each 2-4 times the diffuse
//!   envelope at its time so that they stand out as echoes do; 50 ms is the early/late
//!   boundary of speech clarity `C50` (ISO 3382-1:2009, Annex A). Where image-source models
//!   (Allen & Berkley, JASA 65, 1979) place these from a room's geometry, only their look is
//!   needed here, so times and signs are random;
//! * the diffuse tail starting at the first reflection (`onset`), a few milliseconds after the
//!   direct sound (a 1-3 m longer path at 343 m/s);
//! * the reverberant part (everything after `t = 0`) scaled to the requested direct-to-
//!   reverberant energy ratio (DRR), and the whole RIR to unit energy, so convolving keeps a
//!   broadband clip's level.
//!
//! Training on speech convolved with simulated RIRs of this kind is what Ko et al., "A study
//! on data augmentation of reverberant speech for robust speech recognition", ICASSP 2017,
//! found as effective as real RIRs for far-field recognition.
//!
//! [`schroeder_rt60`] measures an RIR's reverberation time by Schroeder's backward
//! integration (M. R. Schroeder, "New method of measuring reverberation time", JASA 37, 1965)
//! and a line fitted to the decay from -5 to -25 dB, extrapolated to 60 dB (`T20`,
//! ISO 3382-1:2009, section 5.3); the tests use it to check the synthesis.

use crate::error::{Error, Result};
use crate::rng::SplitMix64;

/// End of the early part holding the discrete reflections, seconds (ISO 3382-1's `C50`).
pub const EARLY_SECS: f64 = 0.050;

/// Parameters of one synthetic room impulse response.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RirSpec {
    /// Reverberation time: seconds for the energy to fall by 60 dB, within 0.05-3 s. The RIR
    /// is this long (at -60 dB the rest does not matter).
    pub rt60_secs: f64,
    /// Direct-to-reverberant energy ratio, dB: direct path energy over that of everything
    /// after it.
    pub drr_db: f64,
    /// Discrete early reflections in `[onset, EARLY_SECS)`.
    pub reflections: usize,
    /// Delay of the first reflection and of the diffuse tail after the direct path, seconds
    /// (below [`EARLY_SECS`]).
    pub onset_secs: f64,
}

/// Synthesises a room impulse response at `sample_rate` Hz (see the module docs), with unit
/// energy and the direct path at sample 0.
pub fn synth_rir(sample_rate: u32, spec: &RirSpec, rng: &mut SplitMix64) -> Result<Vec<f32>> {
    check_spec(spec)?;
    let fs = f64::from(sample_rate.max(1));
    // Amplitude decay rate: 20 log10(e^(-delta RT60)) = -60 dB.
    let delta = 3.0 * std::f64::consts::LN_10 / spec.rt60_secs;
    let len = ((spec.rt60_secs * fs).ceil() as usize).max(2);
    let onset = ((spec.onset_secs * fs).round() as usize).clamp(1, len - 1);
    let envelope = |i: usize| (-delta * i as f64 / fs).exp();
    let mut h = vec![0.0f64; len];
    h[0] = 1.0;
    for (i, v) in h.iter_mut().enumerate().skip(onset) {
        *v = rng.normal() * envelope(i);
    }
    let early_end = ((EARLY_SECS * fs) as usize).clamp(onset + 1, len);
    for _ in 0..spec.reflections {
        let i = onset + rng.below(early_end - onset);
        let sign = if rng.next_u64() & 1 == 0 { 1.0 } else { -1.0 };
        h[i] += sign * rng.uniform(2.0, 4.0) * envelope(i);
    }
    let reverberant: f64 = h[1..].iter().map(|v| v * v).sum();
    let ratio = 10f64.powf(spec.drr_db / 10.0);
    let g = if reverberant > 0.0 {
        (1.0 / (reverberant * ratio)).sqrt()
    } else {
        0.0
    };
    h[1..].iter_mut().for_each(|v| *v *= g);
    let norm = 1.0 / h.iter().map(|v| v * v).sum::<f64>().sqrt();
    Ok(h.iter().map(|v| (v * norm) as f32).collect())
}

fn check_spec(spec: &RirSpec) -> Result<()> {
    let bad = |field, reason: String| Err(Error::InvalidConfig { field, reason });
    if !(spec.rt60_secs.is_finite() && (0.05..=3.0).contains(&spec.rt60_secs)) {
        return bad(
            "reverb.rt60_secs",
            format!("{} not in 0.05..=3 s", spec.rt60_secs),
        );
    }
    if !(spec.drr_db.is_finite() && (-30.0..=40.0).contains(&spec.drr_db)) {
        return bad(
            "reverb.drr_db",
            format!("{} not in -30..=40 dB", spec.drr_db),
        );
    }
    if !(spec.onset_secs.is_finite() && spec.onset_secs > 0.0 && spec.onset_secs < EARLY_SECS) {
        return bad(
            "reverb.onset_secs",
            format!("{} not in (0, 0.05) s", spec.onset_secs),
        );
    }
    if spec.reflections > 64 {
        return bad("reverb.reflections", format!("{} > 64", spec.reflections));
    }
    Ok(())
}

/// Reverberation time (s) of an impulse response by Schroeder backward integration and a
/// least-squares line through the energy decay curve from -5 to -25 dB, extrapolated to
/// -60 dB (`T20`, ISO 3382-1). `None` when the curve never falls 25 dB (too short, or silent).
pub fn schroeder_rt60(h: &[f32], sample_rate: u32) -> Option<f64> {
    // Energy decay curve EDC(t) = sum of h^2 from t to the end, in dB re its start.
    let mut edc = vec![0.0f64; h.len()];
    let mut acc = 0.0f64;
    for (e, v) in edc.iter_mut().zip(h).rev() {
        acc += f64::from(*v).powi(2);
        *e = acc;
    }
    let total = *edc.first()?;
    if total <= 0.0 {
        return None;
    }
    let db: Vec<f64> = edc.iter().map(|e| 10.0 * (e / total).log10()).collect();
    let start = db.iter().position(|&d| d <= -5.0)?;
    let end = db.iter().position(|&d| d <= -25.0)?;
    let fs = f64::from(sample_rate.max(1));
    let pts = (start..=end).map(|i| (i as f64 / fs, db[i]));
    let n = (end - start + 1) as f64;
    let (mx, my) = pts
        .clone()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / n, b + y / n));
    let (sxy, sxx) = pts.fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx).powi(2))
    });
    let slope = sxy / sxx;
    (slope < 0.0 && slope.is_finite()).then(|| -60.0 / slope)
}

/// Direct-to-reverberant energy ratio (dB) of an impulse response whose first
/// `direct_samples` samples are the direct path. `None` when either part has no energy.
pub fn direct_to_reverberant_db(h: &[f32], direct_samples: usize) -> Option<f64> {
    let split = direct_samples.min(h.len());
    let energy = |s: &[f32]| s.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>();
    let (d, r) = (energy(&h[..split]), energy(&h[split..]));
    (d > 0.0 && r > 0.0).then(|| 10.0 * (d / r).log10())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn spec(rt60_secs: f64, drr_db: f64) -> RirSpec {
        RirSpec {
            rt60_secs,
            drr_db,
            reflections: 6,
            onset_secs: 0.004,
        }
    }

    /// The measured T20 is within this fraction of the RT60 asked for: the backward integral
    /// of one noise realisation wobbles by a few percent around the exponential it follows.
    const RT60_TOL: f64 = 0.06;

    #[test]
    fn schroeder_rt60_of_the_synthesised_rir_is_the_requested_one() {
        for rate in [8_000, 16_000, 48_000] {
            for rt60 in [0.2, 0.4, 0.8, 1.5] {
                for seed in 0..3 {
                    let h = synth_rir(rate, &spec(rt60, -5.0), &mut SplitMix64::new(seed)).unwrap();
                    let got = schroeder_rt60(&h, rate).unwrap();
                    assert!(
                        (got / rt60 - 1.0).abs() < RT60_TOL,
                        "{rate} Hz, RT60 {rt60} s, seed {seed}: measured {got:.3} s"
                    );
                }
            }
        }
    }

    #[test]
    fn drr_and_energy_are_as_requested() {
        for drr in [-10.0, 0.0, 6.0, 20.0] {
            let h = synth_rir(16_000, &spec(0.5, drr), &mut SplitMix64::new(2)).unwrap();
            assert_eq!(h.len(), 8_000);
            let got = direct_to_reverberant_db(&h, 1).unwrap();
            assert!((got - drr).abs() < 1e-3, "asked {drr} dB, got {got:.4}");
            let energy: f64 = h.iter().map(|&v| f64::from(v).powi(2)).sum();
            assert!((energy - 1.0).abs() < 1e-5);
            assert!(h[0] > 0.0);
        }
    }

    #[test]
    fn schroeder_rt60_of_an_exact_exponential_and_degenerate_inputs() {
        // An exponentially decaying noise with no direct path: the textbook case.
        let fs = 16_000;
        let mut rng = SplitMix64::new(4);
        let h: Vec<f32> = (0..16_000)
            .map(|i| (rng.normal() * (-6.9078 * i as f64 / 16_000.0 / 0.6).exp()) as f32)
            .collect();
        let got = schroeder_rt60(&h, fs).unwrap();
        assert!((got / 0.6 - 1.0).abs() < RT60_TOL, "{got}");
        assert_eq!(schroeder_rt60(&[], fs), None);
        assert_eq!(schroeder_rt60(&[0.0; 10], fs), None);
        assert_eq!(schroeder_rt60(&[1.0], fs), None);
        assert!(synth_rir(fs, &spec(0.01, 0.0), &mut rng).is_err());
        assert!(synth_rir(fs, &spec(0.5, f64::NAN), &mut rng).is_err());
    }
}
