//! Programme loudness of a clip per ITU-R BS.1770-4 ("Algorithms to measure audio programme
//! loudness and true-peak audio level", 2015), and deterministic loudness normalisation.
//!
//! Why loudness and not peak or RMS: a clip's peak is one sample (a plosive, a click), and its
//! plain RMS counts the silences, so the same sentence with one more second of pause reads
//! 1-3 dB quieter. BS.1770's integrated loudness weights the spectrum roughly as hearing does
//! (K-weighting) and *gates* out quiet 400 ms blocks, so it measures the level of the active
//! speech only. It is the measure behind EBU R 128 (-23 LUFS) and streaming normalisation.
//!
//! The measurement, for a mono clip:
//! 1. K-weighting: a high shelf (+4 dB above ~1.7 kHz, the head's acoustic effect) then a
//!    38 Hz high-pass ("RLB"). BS.1770-4 tables the coefficients at 48 kHz only; they are
//!    derived here at any rate from the analog prototype parameters used by libebur128
//!    (`ebur128.c`, `ebur128_init_filter`), which reproduce the 48 kHz table to 1e-9
//!    (`k_weighting_matches_the_bs1770_table_at_48_khz`).
//! 2. Mean square `z_j` of blocks of 400 ms overlapping by 75 % (a 100 ms hop); block loudness
//!    `l_j = -0.691 + 10 log10 z_j` (the -0.691 makes a 997 Hz sine read its RMS level: a
//!    full-scale one reads -3.01 LUFS).
//! 3. Gates: blocks at or under -70 LUFS (absolute gate) are dropped, then blocks at or under
//!    10 LU below the loudness of the remaining ones (relative gate).
//! 4. The loudness is `-0.691 + 10 log10` of the mean `z_j` of the blocks that pass both.
//!
//! Blocks that straddle the start or end of speech count with the part of them that is
//! active, as BS.1770 has it: a tone of a few seconds between silences reads 0.1-0.3 dB under
//! the same tone alone.
//!
//! One departure, for short clips: a clip shorter than one 400 ms block has no block at all
//! under BS.1770 (its loudness is undefined); here it is measured as a single block covering
//! the whole clip, with the same gates.
//!
//! ```
//! use ser_audio::Audio;
//! use ser_audio::loudness::{integrated_loudness, normalize_loudness};
//!
//! // 4 s of a 997 Hz tone at amplitude 0.1 (alone: -23.01 LUFS), then 4 s of silence: the
//! // gate ignores the silence, where the plain RMS of the clip is 3 dB lower.
//! let mut samples: Vec<f32> = (0..64_000)
//!     .map(|i| 0.1 * (2.0 * std::f32::consts::PI * 997.0 * i as f32 / 16_000.0).sin())
//!     .collect();
//! samples.resize(128_000, 0.0);
//! let mut audio = Audio::new(samples, 16_000);
//! let lufs = integrated_loudness(&audio)?.expect("not silent");
//! assert!((lufs + 23.01).abs() < 0.3, "{lufs}");
//!
//! let change = normalize_loudness(&mut audio, -30.0)?;
//! assert!((integrated_loudness(&audio)?.unwrap() + 30.0).abs() < 0.01);
//! assert!(!change.peak_limited);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::f64::consts::PI;

use crate::Audio;
use crate::error::{Error, Result};
use crate::filter::{Biquad, process_cascade};

/// Blocks at or below this loudness are silence (BS.1770-4, section 2.8: `Gamma_a = -70 LKFS`).
pub const ABSOLUTE_GATE_LUFS: f64 = -70.0;

/// Blocks more than this many LU below the loudness of the blocks above the absolute gate are
/// pauses (BS.1770-4, section 2.8: `Gamma_r = ... - 10`).
pub const RELATIVE_GATE_LU: f64 = 10.0;

/// Gating block length, seconds (BS.1770-4: `T_g = 400 ms`).
pub const BLOCK_SECS: f64 = 0.4;

/// Hop between blocks, seconds: 75 % overlap of 400 ms (BS.1770-4).
pub const HOP_SECS: f64 = 0.1;

/// BS.1770-4's calibration constant: `L = -0.691 + 10 log10(mean square)`.
const LOUDNESS_OFFSET: f64 = -0.691;

/// The two K-weighting sections (shelf, then high-pass) at `sample_rate` Hz.
///
/// The analog prototype parameters are libebur128's (`ebur128_init_filter`): shelf
/// `f0 = 1681.974450955533` Hz, `G = 3.999843853973347` dB, `Q = 0.7071752369554196`, band
/// gain exponent `0.4996667741545416`; high-pass `f0 = 38.13547087602444` Hz,
/// `Q = 0.5003270373238773` with numerator `[1, -2, 1]` (not divided by `a0`, as in the
/// BS.1770-4 table). Needs a rate above twice the shelf frequency (about 3.4 kHz).
pub fn k_weighting(sample_rate: f64) -> Result<[Biquad; 2]> {
    const SHELF_F0: f64 = 1681.974450955533;
    const SHELF_GAIN_DB: f64 = 3.999843853973347;
    const SHELF_Q: f64 = 0.7071752369554196;
    const SHELF_VB_EXPONENT: f64 = 0.4996667741545416;
    const HP_F0: f64 = 38.13547087602444;
    const HP_Q: f64 = 0.5003270373238773;
    if !(sample_rate.is_finite() && sample_rate > 2.0 * SHELF_F0) {
        return Err(Error::InvalidConfig {
            field: "sample_rate",
            reason: format!(
                "{sample_rate} Hz: BS.1770 K-weighting needs a rate above {:.0} Hz",
                2.0 * SHELF_F0
            ),
        });
    }
    let k = (PI * SHELF_F0 / sample_rate).tan();
    let vh = 10f64.powf(SHELF_GAIN_DB / 20.0);
    let vb = vh.powf(SHELF_VB_EXPONENT);
    let shelf = Biquad::from_coefficients(
        [
            vh + vb * k / SHELF_Q + k * k,
            2.0 * (k * k - vh),
            vh - vb * k / SHELF_Q + k * k,
        ],
        [
            1.0 + k / SHELF_Q + k * k,
            2.0 * (k * k - 1.0),
            1.0 - k / SHELF_Q + k * k,
        ],
    )?;
    let k = (PI * HP_F0 / sample_rate).tan();
    let a0 = 1.0 + k / HP_Q + k * k;
    let high_pass = Biquad {
        b: [1.0, -2.0, 1.0],
        a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / HP_Q + k * k) / a0],
    };
    Ok([shelf, high_pass])
}

/// Integrated loudness of a mono clip in LUFS (BS.1770-4, gated; see the module docs), or
/// `None` when every block is at or below the absolute gate (silence, an empty clip).
///
/// Errors when the sample rate is too low for K-weighting (see [`k_weighting`]).
pub fn integrated_loudness(audio: &Audio) -> Result<Option<f64>> {
    let rate = f64::from(audio.sample_rate);
    let filters = k_weighting(rate)?;
    if audio.samples.is_empty() {
        return Ok(None);
    }
    let mut weighted = audio.samples.clone();
    process_cascade(&filters, &mut weighted);
    let block = ((BLOCK_SECS * rate).round() as usize).clamp(1, weighted.len());
    let hop = ((HOP_SECS * rate).round() as usize).max(1);
    let blocks = (weighted.len() - block) / hop + 1;
    let z: Vec<f64> = (0..blocks)
        .map(|j| {
            let w = &weighted[j * hop..j * hop + block];
            w.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / block as f64
        })
        .collect();
    let loudness = |z: f64| LOUDNESS_OFFSET + 10.0 * z.log10();
    let mean_above = |gate: f64| {
        let kept: Vec<f64> = z.iter().copied().filter(|&v| loudness(v) > gate).collect();
        (!kept.is_empty()).then(|| kept.iter().sum::<f64>() / kept.len() as f64)
    };
    let Some(ungated) = mean_above(ABSOLUTE_GATE_LUFS) else {
        return Ok(None);
    };
    let relative_gate = (loudness(ungated) - RELATIVE_GATE_LU).max(ABSOLUTE_GATE_LUFS);
    // The block that set the mean is above the mean minus 10 LU, so this is never empty.
    Ok(mean_above(relative_gate).map(loudness))
}

/// What [`normalize_loudness`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoudnessChange {
    /// Loudness before, LUFS (`None`: silent clip, left unchanged).
    pub measured_lufs: Option<f64>,
    /// Gain applied, dB (0 for a silent clip).
    pub gain_db: f64,
    /// The gain was lowered so that the peak stays at 1.0 (full scale), so the clip is quieter
    /// than the target: a clip of loud clicks in quiet speech cannot reach -10 LUFS unclipped.
    pub peak_limited: bool,
}

/// Scales `audio` so that its [`integrated_loudness`] is `target_lufs`, without letting the
/// peak exceed 1.0 (see [`LoudnessChange::peak_limited`]). Deterministic; a silent clip is
/// left as it is.
///
/// A gain does not change which blocks pass the relative gate, so (until the absolute gate at
/// -70 LUFS comes into play) the result measures `target_lufs` to within float rounding.
/// Typical targets: -23 LUFS (EBU R 128 broadcast), -26 (ITU-T P.56's active speech level for
/// speech test material, in dBov, which this measure approximates for speech).
pub fn normalize_loudness(audio: &mut Audio, target_lufs: f64) -> Result<LoudnessChange> {
    check_target(target_lufs)?;
    let Some(measured) = integrated_loudness(audio)? else {
        return Ok(LoudnessChange {
            measured_lufs: None,
            gain_db: 0.0,
            peak_limited: false,
        });
    };
    let peak = audio.samples.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let wanted = 10f64.powf((target_lufs - measured) / 20.0);
    let limit = 1.0 / f64::from(peak);
    let gain = wanted.min(limit);
    for v in &mut audio.samples {
        // The product of a sample and 1/peak may round a hair above 1.0.
        *v = (f64::from(*v) * gain).clamp(-1.0, 1.0) as f32;
    }
    Ok(LoudnessChange {
        measured_lufs: Some(measured),
        gain_db: 20.0 * gain.log10(),
        peak_limited: wanted > limit,
    })
}

/// Checks a loudness target: finite, above the absolute gate and below 0 LUFS.
pub(crate) fn check_target(target_lufs: f64) -> Result<()> {
    if target_lufs.is_finite() && target_lufs > ABSOLUTE_GATE_LUFS && target_lufs < 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidConfig {
            field: "target_lufs",
            reason: format!("{target_lufs} must be within (-70, 0) LUFS"),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::rng::SplitMix64;

    fn sine(freq: f64, amp: f64, rate: u32, secs: f64) -> Vec<f32> {
        let n = (secs * f64::from(rate)) as usize;
        (0..n)
            .map(|i| (amp * (2.0 * PI * freq * i as f64 / f64::from(rate)).sin()) as f32)
            .collect()
    }

    #[test]
    fn k_weighting_matches_the_bs1770_table_at_48_khz() {
        // BS.1770-4, Annex 1, Tables 1 and 2 (48 kHz).
        let [shelf, hp] = k_weighting(48_000.0).unwrap();
        let table_shelf = (
            [1.53512485958697, -2.69169618940638, 1.19839281085285],
            [-1.69065929318241, 0.73248077421585],
        );
        let table_hp = ([1.0, -2.0, 1.0], [-1.99004745483398, 0.99007225036621]);
        for (got, want) in [(shelf, table_shelf), (hp, table_hp)] {
            for (g, w) in got.b.iter().chain(&got.a).zip(want.0.iter().chain(&want.1)) {
                assert!((g - w).abs() < 1e-9, "{got:?}");
            }
        }
    }

    #[test]
    fn a_full_scale_997_hz_sine_reads_minus_3_01_lufs_at_any_rate() {
        // BS.1770-4, section 2.5 (and its Annex 2 test): a 0 dBFS 997 Hz sine in one channel
        // reads -3.01 LKFS. At 8-16 kHz the re-derived K-weighting differs by < 0.05 dB there.
        for rate in [8_000, 16_000, 44_100, 48_000] {
            let a = Audio::new(sine(997.0, 1.0, rate, 2.0), rate);
            let l = integrated_loudness(&a).unwrap().unwrap();
            assert!((l + 3.01).abs() < 0.05, "{rate} Hz: {l:.3} LUFS");
        }
    }

    #[test]
    fn gating_ignores_silence_and_quiet_pauses() {
        let rate = 16_000;
        let tone = sine(997.0, 0.1, rate, 4.0);
        let alone = integrated_loudness(&Audio::new(tone.clone(), rate))
            .unwrap()
            .unwrap();
        let mut padded = vec![0.0; 32_000];
        padded.extend(&tone);
        // Faint noise 40 dB under the tone: above the absolute gate, under the relative one.
        let mut rng = SplitMix64::new(3);
        padded.extend((0..32_000).map(|_| (0.001 * rng.normal()) as f32));
        let gated = integrated_loudness(&Audio::new(padded.clone(), rate))
            .unwrap()
            .unwrap();
        // The 0.4 s blocks straddling the tone's edges count in part: 0.31 dB lower here.
        assert!((gated - alone).abs() < 0.5, "{alone:.2} vs {gated:.2}");
        // Where the plain RMS of the padded clip is 3 dB lower than the tone's.
        let rms = crate::checks::rms_dbfs(&padded) - crate::checks::rms_dbfs(&tone);
        assert!(rms < -2.9, "{rms}");
        assert_eq!(
            integrated_loudness(&Audio::new(vec![0.0; 16_000], rate)).unwrap(),
            None
        );
        assert_eq!(
            integrated_loudness(&Audio::new(vec![], rate)).unwrap(),
            None
        );
        assert!(integrated_loudness(&Audio::new(vec![0.1; 10], 3_000)).is_err());
    }

    #[test]
    fn normalisation_hits_the_target_within_half_a_db() {
        let rate = 16_000;
        let mut rng = SplitMix64::new(11);
        for target in [-40.0, -30.0, -23.0, -16.0] {
            for amp in [0.001, 0.03, 0.5] {
                // Speech-like bursts: noise under a 4 Hz envelope, with silent gaps.
                let samples: Vec<f32> = (0..48_000)
                    .map(|i| {
                        let t = i as f64 / f64::from(rate);
                        let env = (2.0 * PI * 4.0 * t).sin().max(0.0);
                        (amp * env * rng.normal()).clamp(-1.0, 1.0) as f32
                    })
                    .collect();
                let mut a = Audio::new(samples, rate);
                let change = normalize_loudness(&mut a, target).unwrap();
                let after = integrated_loudness(&a).unwrap().unwrap();
                assert!(a.samples.iter().all(|v| v.abs() <= 1.0));
                if !change.peak_limited {
                    assert!((after - target).abs() < 0.5, "{amp} -> {target}: {after}");
                } else {
                    assert!(after < target);
                }
            }
        }
    }

    #[test]
    fn peak_limit_and_silence_and_bad_targets() {
        // A click train: reaching -10 LUFS would need a peak far over 1.
        let mut clicks = vec![0.0f32; 16_000];
        clicks.iter_mut().step_by(1600).for_each(|v| *v = 0.5);
        let mut a = Audio::new(clicks, 16_000);
        let c = normalize_loudness(&mut a, -10.0).unwrap();
        assert!(c.peak_limited);
        let peak = a.samples.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!((peak - 1.0).abs() < 1e-6);
        let mut silent = Audio::new(vec![0.0; 100], 16_000);
        let c = normalize_loudness(&mut silent, -23.0).unwrap();
        assert_eq!((c.measured_lufs, c.gain_db), (None, 0.0));
        for bad in [0.0, 3.0, -70.0, f64::NAN] {
            assert!(normalize_loudness(&mut a, bad).is_err(), "{bad}");
        }
    }
}
