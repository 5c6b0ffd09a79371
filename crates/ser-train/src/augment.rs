//! Building training and evaluation batches from cached features: random crop, gain, noise,
//! normalisation and SpecAugment, written straight into one contiguous `f32` buffer.

use dsp_features::NormStats;
use ndarray::Array2;
use ser_audio::rng::SplitMix64;

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
    // Time stretch by `beta` (> 1 = slower): a clip is `total * beta` frames long on the
    // stretched time line, and output frame t reads source frame `(start + t) / beta`. The
    // factors are drawn first, so that the batch is as long as its longest stretched clip;
    // nothing is drawn from `rng` when the stretch is off, so runs without it stay
    // bit-identical to those made before it existed.
    let betas: Vec<f64> = clips
        .iter()
        .map(|_| {
            if aug.time_stretch > 0.0 {
                1.0 + rng.uniform(-f64::from(aug.time_stretch), f64::from(aug.time_stretch))
            } else {
                1.0
            }
        })
        .collect();
    // round(total * 1.0) == total exactly, so an unstretched clip keeps its length; a
    // stretched clip keeps at least one frame, and an empty one stays empty.
    let stretched_len =
        |total: usize, beta: f64| ((total as f64 * beta).round() as usize).max(total.min(1));
    // Pad to the longest clip of the batch, not to the crop: RAVDESS clips are ~2 s after
    // trimming (median 197 frames), so padding every batch to a 3 s crop wasted about a third
    // of the convolution work. The trainer batches clips of similar length together.
    let longest = clips
        .iter()
        .zip(&betas)
        .map(|((m, _), &beta)| stretched_len(m.ncols(), beta))
        .max()
        .unwrap_or(1);
    let frames = crop.min(longest).max(min_frames).max(1);
    let mut data = vec![0.0f32; clips.len() * bins * frames];
    let mut lengths = Vec::with_capacity(clips.len());
    let mut labels = Vec::with_capacity(clips.len());
    for (b, ((m, label), &beta)) in clips.iter().zip(&betas).enumerate() {
        let total = m.ncols();
        let stretched = stretched_len(total, beta);
        let len = stretched.min(frames);
        let start = if stretched > frames {
            rng.below(stretched - frames + 1)
        } else {
            0
        };
        // Source frame pair and weight of every output frame. Unstretched, (start + t) / 1.0 is
        // exact, so the weight is 0 and the frame is read as it is.
        let taps: Vec<(usize, usize, f32)> = (0..len)
            .map(|t| {
                let src = ((start + t) as f64 / beta).min((total - 1) as f64);
                let j0 = src.floor() as usize;
                (j0, (j0 + 1).min(total - 1), (src - src.floor()) as f32)
            })
            .collect();
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
            let (i0, i1, frac) = ser_models::artifact::warp_source(r, m.nrows(), alpha);
            let (row0, row1) = (m.row(i0), m.row(i1));
            // Bin `r` at source frame j, interpolated between bins i0 and i1.
            let at = |j: usize| row0[j] + frac * (row1[j] - row0[j]);
            let dst = &mut out[r * frames..r * frames + len];
            for (d, &(j0, j1, w)) in dst.iter_mut().zip(&taps) {
                let mut v = match lowpass {
                    Some((cutoff, floor)) if r >= cutoff => floor,
                    // Unstretched frames (w = 0) skip the second read, on the default path.
                    _ if w == 0.0 => at(j0),
                    _ => {
                        let a = at(j0);
                        a + w * (at(j1) - a)
                    }
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

/// A batch blended with a permutation of itself by mixup; see [`mixup`].
#[derive(Debug, Clone, PartialEq)]
pub struct Mixup {
    /// Each item's partner: item `b` now holds `lambda * x_b + (1 - lambda) * x_partner[b]`.
    pub partner: Vec<usize>,
    /// Weight of the item's own clip and label, in `[0.5, 1]`.
    pub lambda: f32,
}

impl Mixup {
    /// Blends row-major items of `width` values each (`rows.len() = batch * width`) as the
    /// inputs were blended: item `b` becomes `lambda * rows_b + (1 - lambda) * rows_partner[b]`.
    /// Used for the input features and for per-item targets such as teacher probabilities.
    pub fn blend(&self, rows: &[f32], width: usize) -> Vec<f32> {
        let item = |b: usize| &rows[b * width..(b + 1) * width];
        self.partner
            .iter()
            .enumerate()
            .flat_map(|(b, &p)| {
                item(b)
                    .iter()
                    .zip(item(p))
                    .map(|(u, v)| self.lambda * u + (1.0 - self.lambda) * v)
            })
            .collect()
    }
}

/// Mixup in place (Zhang et al. 2018): draws `lambda ~ Beta(alpha, alpha)`, folded to
/// `max(lambda, 1 - lambda)` so that each item's own label stays the dominant one (what the
/// training accuracy counts), and a random partner for every item. Lengths become the longer
/// of the two, so neither clip's frames are masked out. Returns `None` (and draws nothing)
/// when `alpha` is 0 or the batch has one item.
pub fn mixup(batch: &mut HostBatch, alpha: f32, rng: &mut SplitMix64) -> Option<Mixup> {
    let [n, bins, frames] = batch.shape;
    if alpha <= 0.0 || n < 2 {
        return None;
    }
    let x = beta_sample(f64::from(alpha), rng);
    let lambda = x.max(1.0 - x) as f32;
    let mut partner: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut partner);
    let m = Mixup { partner, lambda };
    batch.data = m.blend(&batch.data, bins * frames);
    let lengths = batch.lengths.clone();
    for (b, &p) in m.partner.iter().enumerate() {
        batch.lengths[b] = lengths[b].max(lengths[p]);
    }
    Some(m)
}

/// `Beta(a, a)` as `X / (X + Y)` with `X, Y ~ Gamma(a)` (the textbook construction).
fn beta_sample(a: f64, rng: &mut SplitMix64) -> f64 {
    let x = gamma_sample(a, rng);
    let y = gamma_sample(a, rng);
    if x + y > 0.0 { x / (x + y) } else { 0.5 }
}

/// `Gamma(shape, 1)` by Marsaglia & Tsang (2000), "A simple method for generating gamma
/// variables", with their `shape < 1` boost `Gamma(shape) = Gamma(shape + 1) * U^(1/shape)`.
fn gamma_sample(shape: f64, rng: &mut SplitMix64) -> f64 {
    if shape < 1.0 {
        let u = rng.next_f64().max(1e-300);
        return gamma_sample(shape + 1.0, rng) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let z = rng.normal();
        let v = (1.0 + c * z).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = rng.next_f64().max(1e-300);
        if u.ln() < 0.5 * z * z + d - d * v + d * v.ln() {
            return d * v;
        }
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

    #[test]
    fn beta_samples_have_the_beta_mean_and_variance() {
        // Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)). 20k draws: the standard error of
        // the mean is ~0.003 and of the variance ~0.002, so 0.01 is a wide but meaningful band.
        for a in [0.2, 0.4, 2.0] {
            let mut rng = SplitMix64::new(7);
            let xs: Vec<f64> = (0..20_000).map(|_| beta_sample(a, &mut rng)).collect();
            let mean = xs.iter().sum::<f64>() / xs.len() as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
            assert!(xs.iter().all(|x| (0.0..=1.0).contains(x)));
            assert!((mean - 0.5).abs() < 0.01, "a {a}: mean {mean}");
            let want = 1.0 / (4.0 * (2.0 * a + 1.0));
            assert!(
                (var - want).abs() < 0.01,
                "a {a}: variance {var}, want {want}"
            );
        }
    }

    #[test]
    fn mixup_blends_each_item_with_its_partner_and_keeps_the_longer_length() {
        let (bins, frames) = (2, 3);
        let mut batch = HostBatch {
            data: vec![
                1.0, 1.0, 1.0, 1.0, 1.0, 1.0, // item 0
                3.0, 3.0, 0.0, 3.0, 3.0, 0.0, // item 1 (two valid frames)
                5.0, 0.0, 0.0, 5.0, 0.0, 0.0, // item 2 (one valid frame)
            ],
            shape: [3, bins, frames],
            lengths: vec![3, 2, 1],
            labels: vec![0, 1, 2],
        };
        let before = batch.clone();
        let m = mixup(&mut batch, 0.4, &mut SplitMix64::new(3)).expect("alpha > 0 mixes");
        assert!((0.5..=1.0).contains(&m.lambda));
        let mut sorted = m.partner.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![0, 1, 2], "partners are a permutation");
        let item = bins * frames;
        for (b, &p) in m.partner.iter().enumerate() {
            for k in 0..item {
                let want = m.lambda * before.data[b * item + k]
                    + (1.0 - m.lambda) * before.data[p * item + k];
                assert!((batch.data[b * item + k] - want).abs() < 1e-6);
            }
            assert_eq!(batch.lengths[b], before.lengths[b].max(before.lengths[p]));
        }
        assert_eq!(
            batch.labels, before.labels,
            "labels stay; the loss mixes them"
        );

        // Per-item targets (e.g. teacher probabilities) blend with the same partners.
        let targets = [1.0, 0.0, 0.0, 1.0, 0.5, 0.5];
        let mixed = m.blend(&targets, 2);
        for (b, &p) in m.partner.iter().enumerate() {
            for k in 0..2 {
                let want = m.lambda * targets[b * 2 + k] + (1.0 - m.lambda) * targets[p * 2 + k];
                assert!((mixed[b * 2 + k] - want).abs() < 1e-6);
            }
            assert!((mixed[b * 2] + mixed[b * 2 + 1] - 1.0).abs() < 1e-6);
        }

        let mut off = before.clone();
        assert_eq!(mixup(&mut off, 0.0, &mut SplitMix64::new(3)), None);
        assert_eq!(off.data, before.data);
    }

    fn norm(bins: usize) -> NormStats {
        NormStats {
            mean: vec![1.0; bins],
            std: vec![2.0; bins],
        }
    }

    /// A training batch of the one log-power clip `m` (label 0), normalised by [`norm`], at
    /// least 4 frames long, with the augmentation `aug` seeded by `seed`.
    fn one_clip(m: &Array2<f32>, crop: usize, aug: &AugmentConfig, seed: u64) -> HostBatch {
        let mut rng = SplitMix64::new(seed);
        train_batch(&[(m, 0)], &norm(m.nrows()), crop, 4, aug, true, &mut rng)
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
        let run = |seed| one_clip(&m, 100, &aug, seed).data;
        let a = run(7);
        assert!(a.iter().all(|v| v.is_finite()));
        assert_eq!(a, run(7));
        assert_ne!(a, run(8));
    }

    #[test]
    fn time_stretch_resamples_frames_linearly_and_changes_the_length() {
        // A ramp along time: frame j holds the value j in every bin, so a stretch by beta
        // turns it into a ramp of slope 1 / beta that is round(50 beta) frames long.
        let m = Array2::from_shape_fn((2, 50), |(_, j)| j as f32);
        let aug = AugmentConfig {
            time_stretch: 0.2,
            ..AugmentConfig::none(10.0)
        };
        let mut lengths = Vec::new();
        for seed in 0..20 {
            let hb = one_clip(&m, 300, &aug, seed);
            let len = hb.lengths[0];
            assert!((40..=60).contains(&len), "length {len}");
            // Undo the normalisation (mean 1, std 2) of bin 1.
            let x: Vec<f32> = hb.data[hb.shape[2]..hb.shape[2] + len]
                .iter()
                .map(|v| v * 2.0 + 1.0)
                .collect();
            assert_eq!(x[0], 0.0);
            let slope = x[1] - x[0];
            // Linear up to the last source frame, where it is clamped.
            for (t, &v) in x.iter().enumerate().skip(1) {
                let want = (t as f32 * slope).min(49.0);
                assert!((v - want).abs() < 1e-3, "frame {t}: {v} vs {want}");
            }
            assert!(
                (len as f32 - 50.0 / slope).abs() <= 1.0,
                "len {len}, slope {slope}"
            );
            lengths.push(len);
        }
        assert!(lengths.iter().any(|&l| l < 50) && lengths.iter().any(|&l| l > 50));

        // Off: the frames are copied as they are.
        let hb = one_clip(&m, 300, &AugmentConfig::none(10.0), 0);
        assert_eq!(hb.lengths, vec![50]);
        assert!((0..50).all(|j| hb.data[j] * 2.0 + 1.0 == j as f32));
    }

    #[test]
    fn an_empty_clip_stays_empty_when_stretched() {
        // A zero-frame feature matrix used to be stretched to one frame and read out of
        // bounds; it is padding only, as without the stretch.
        let m = Array2::<f32>::zeros((2, 0));
        for time_stretch in [0.0, 0.2] {
            let aug = AugmentConfig {
                time_stretch,
                ..AugmentConfig::none(10.0)
            };
            for seed in 0..5 {
                let hb = one_clip(&m, 300, &aug, seed);
                assert_eq!((hb.shape, hb.lengths.as_slice()), ([1, 2, 4], &[1][..]));
                assert!(hb.data.iter().all(|&v| v == 0.0));
            }
        }
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
