//! Building training and evaluation batches from cached features: random crop, gain, noise,
//! normalisation and SpecAugment, written straight into one contiguous `f32` buffer.

use dsp_features::NormStats;
use ndarray::Array2;
use ravdess_loader::rng::SplitMix64;

use crate::config::AugmentConfig;

/// A host batch in row-major `[batch, bins, frames]` order.
#[derive(Debug, Clone)]
pub struct HostBatch {
    /// Values.
    pub data: Vec<f32>,
    /// `[batch, bins, frames]`.
    pub shape: [usize; 3],
    /// Valid frames per item.
    pub lengths: Vec<usize>,
    /// Label per item.
    pub labels: Vec<usize>,
}

/// Training batch: each clip is randomly cropped to `crop` frames, the batch is padded to its
/// longest (cropped) clip but at least `min_frames` (padding is the normalised mean, 0, and is
/// masked), then augmented and normalised.
/// `log_power` says whether the features are dB values (gain and noise only make sense then).
pub fn train_batch(
    clips: &[(&Array2<f32>, usize)],
    norm: &NormStats,
    crop: usize,
    min_frames: usize,
    aug: &AugmentConfig,
    log_power: bool,
    rng: &mut SplitMix64,
) -> HostBatch {
    let bins = norm.mean.len();
    // Pad to the longest clip of the batch, not to the crop: RAVDESS clips are ~2 s after
    // trimming (median 197 frames), so padding every batch to a 3 s crop wasted about a third
    // of the convolution work. The trainer batches clips of similar length together.
    let longest = clips.iter().map(|(m, _)| m.ncols()).max().unwrap_or(1);
    let frames = crop.min(longest).max(min_frames).max(1);
    let mut data = vec![0.0f32; clips.len() * bins * frames];
    let mut lengths = Vec::with_capacity(clips.len());
    let mut labels = Vec::with_capacity(clips.len());
    for (b, (m, label)) in clips.iter().enumerate() {
        let total = m.ncols();
        let len = total.min(frames);
        let start = if total > frames {
            rng.below(total - frames + 1)
        } else {
            0
        };
        let out = &mut data[b * bins * frames..(b + 1) * bins * frames];
        let gain = if log_power && aug.gain_db > 0.0 {
            rng.uniform(-f64::from(aug.gain_db), f64::from(aug.gain_db)) as f32
        } else {
            0.0
        };
        // Stationary white noise added in the power domain: 10 log10(10^(x/10) + 10^(n/10)),
        // its level `snr` dB below the loudest value of the clip.
        let noise_db =
            if log_power && aug.noise_prob > 0.0 && rng.next_f64() < f64::from(aug.noise_prob) {
                let peak = m.iter().copied().fold(f32::MIN, f32::max);
                let (lo, hi) = aug.noise_snr_db;
                Some(peak - rng.uniform(f64::from(lo), f64::from(hi.max(lo))) as f32)
            } else {
                None
            };
        // Simulated low-pass channel: bands from `cutoff` up get the clip's floor (its minimum,
        // which `top_db` clipping makes the common floor). On 64 Slaney mel bands up to 8 kHz,
        // 3 kHz sits at ~0.68 of the bands and 4 kHz (an 8 kHz recording) at ~0.78, so the
        // cut-off is drawn from [0.68 * bins, bins).
        let lowpass = if log_power
            && aug.lowpass_prob > 0.0
            && rng.next_f64() < f64::from(aug.lowpass_prob)
        {
            let lo = (bins as f32 * 0.68) as usize;
            Some((
                lo + rng.below(bins - lo),
                m.iter().copied().fold(f32::MAX, f32::min),
            ))
        } else {
            None
        };
        // Vocal-tract-length-perturbation-like warp of the bin axis (Jaitly & Hinton 2013):
        // output bin r reads bin r / alpha, so alpha > 1 stretches the spectrum upwards, as a
        // shorter vocal tract would. It makes the model less sensitive to speaker timbre.
        let alpha = if aug.freq_warp > 0.0 {
            1.0 + rng.uniform(-f64::from(aug.freq_warp), f64::from(aug.freq_warp)) as f32
        } else {
            1.0
        };
        for r in 0..bins {
            let (mean, std) = (norm.mean[r], norm.std[r]);
            let src = (r as f32 / alpha).min((m.nrows() - 1) as f32);
            let (i0, frac) = (src.floor() as usize, src - src.floor());
            let i1 = (i0 + 1).min(m.nrows() - 1);
            let (row0, row1) = (m.row(i0), m.row(i1));
            let dst = &mut out[r * frames..r * frames + len];
            for ((d, &v0), &v1) in dst
                .iter_mut()
                .zip(row0.iter().skip(start))
                .zip(row1.iter().skip(start))
            {
                let mut v = match lowpass {
                    Some((cutoff, floor)) if r >= cutoff => floor,
                    _ => v0 + frac * (v1 - v0),
                } + gain;
                if let Some(n) = noise_db {
                    v = 10.0 * (10f32.powf(v / 10.0) + 10f32.powf(n / 10.0)).log10();
                }
                *d = (v - mean) / std;
            }
        }
        // SpecAugment: zero (= the normalised mean) random frame and bin ranges.
        for _ in 0..aug.time_masks {
            let w = rng.below(aug.time_mask_frames.min(len / 4) + 1);
            let t0 = rng.below(len - w + 1);
            for r in 0..bins {
                out[r * frames + t0..r * frames + t0 + w].fill(0.0);
            }
        }
        for _ in 0..aug.freq_masks {
            let w = rng.below(aug.freq_mask_bins.min(bins / 4) + 1);
            let f0 = rng.below(bins - w + 1);
            out[f0 * frames..(f0 + w) * frames].fill(0.0);
        }
        lengths.push(len.max(1));
        labels.push(*label);
    }
    HostBatch {
        data,
        shape: [clips.len(), bins, frames],
        lengths,
        labels,
    }
}

/// Evaluation batch: whole clips, normalised, zero-padded to the longest (at least
/// `min_frames`).
pub fn eval_batch(
    clips: &[(&Array2<f32>, usize)],
    norm: &NormStats,
    min_frames: usize,
) -> HostBatch {
    let bins = norm.mean.len();
    let frames = clips
        .iter()
        .map(|(m, _)| m.ncols())
        .max()
        .unwrap_or(1)
        .max(min_frames)
        .max(1);
    let mut data = vec![0.0f32; clips.len() * bins * frames];
    for (b, (m, _)) in clips.iter().enumerate() {
        let out = &mut data[b * bins * frames..(b + 1) * bins * frames];
        for r in 0..bins {
            let (mean, std) = (norm.mean[r], norm.std[r]);
            for (d, &v) in out[r * frames..].iter_mut().zip(m.row(r).iter()) {
                *d = (v - mean) / std;
            }
        }
    }
    HostBatch {
        data,
        shape: [clips.len(), bins, frames],
        lengths: clips
            .iter()
            .map(|(m, _)| m.ncols().clamp(1, frames))
            .collect(),
        labels: clips.iter().map(|(_, l)| *l).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(bins: usize) -> NormStats {
        NormStats {
            mean: vec![1.0; bins],
            std: vec![2.0; bins],
        }
    }

    #[test]
    fn crop_pads_short_clips_and_normalises() {
        let long = Array2::from_elem((4, 50), 5.0f32);
        let short = Array2::from_elem((4, 10), 3.0f32);
        let mut rng = SplitMix64::new(1);
        let b = train_batch(
            &[(&long, 1), (&short, 2)],
            &norm(4),
            20,
            4,
            &AugmentConfig::none(1.0),
            true,
            &mut rng,
        );
        assert_eq!(b.shape, [2, 4, 20]);
        assert_eq!(b.lengths, vec![20, 10]);
        assert_eq!(b.labels, vec![1, 2]);
        assert!(b.data[..80].iter().all(|&v| v == 2.0));
        assert_eq!(b.data[80], 1.0); // (3 - 1) / 2
        assert_eq!(b.data[80 + 10], 0.0); // padding
    }

    #[test]
    fn batch_of_short_clips_pads_to_its_longest_not_to_the_crop() {
        let a = Array2::from_elem((4, 12), 5.0f32);
        let b = Array2::from_elem((4, 7), 3.0f32);
        let mut rng = SplitMix64::new(1);
        let aug = AugmentConfig::none(1.0);
        let hb = train_batch(&[(&a, 0), (&b, 1)], &norm(4), 300, 4, &aug, true, &mut rng);
        assert_eq!(hb.shape, [2, 4, 12]);
        assert_eq!(hb.lengths, vec![12, 7]);
        // Never shorter than the model's minimum.
        let hb = train_batch(&[(&b, 1)], &norm(4), 300, 16, &aug, true, &mut rng);
        assert_eq!(hb.shape, [1, 4, 16]);
        assert_eq!(hb.lengths, vec![7]);
    }

    #[test]
    fn augmentation_stays_finite_and_is_seeded() {
        let m = Array2::from_shape_fn((16, 120), |(i, j)| -80.0 + (i * j % 70) as f32);
        let aug = AugmentConfig::default();
        let run = |seed| {
            train_batch(
                &[(&m, 0)],
                &norm(16),
                100,
                4,
                &aug,
                true,
                &mut SplitMix64::new(seed),
            )
            .data
        };
        let a = run(7);
        assert!(a.iter().all(|v| v.is_finite()));
        assert_eq!(a, run(7));
        assert_ne!(a, run(8));
    }

    #[test]
    fn eval_batch_pads_to_longest() {
        let a = Array2::from_elem((2, 3), 1.0f32);
        let b = Array2::from_elem((2, 5), 3.0f32);
        let hb = eval_batch(&[(&a, 0), (&b, 1)], &norm(2), 4);
        assert_eq!(hb.shape, [2, 2, 5]);
        assert_eq!(hb.lengths, vec![3, 5]);
        assert_eq!(&hb.data[..5], &[0.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(&hb.data[10..15], &[1.0; 5]);
    }
}
