//! Frame-wise time-domain measures with librosa 0.11's framing: `feature.rms` and
//! `feature.zero_crossing_rate`, both centred (frame `t` is centred on sample `t * hop_length`).
//! They pad differently, as librosa does: RMS with zeros (`pad_mode='constant'`), the
//! zero-crossing rate with copies of the end samples (`np.pad(mode='edge')`, hard-coded in
//! `zero_crossing_rate`).

use crate::window::frame_count;

/// `librosa.zero_crossings`' default `threshold`: samples within it count as zero.
const ZC_THRESHOLD: f64 = 1e-10;

/// Frames of a centred framing of `len` samples ([`frame_count`]); none for an empty signal.
fn n_frames(len: usize, frame_length: usize, hop_length: usize) -> usize {
    if len == 0 {
        0
    } else {
        frame_count(len, frame_length, hop_length, true)
    }
}

/// `librosa.feature.rms(y=y, frame_length, hop_length)`: `sqrt(mean(x^2))` over centred frames
/// of the zero-padded signal (in f64; librosa computes in float32). Empty for empty `y`.
pub(crate) fn rms(y: &[f32], frame_length: usize, hop_length: usize) -> Vec<f64> {
    let half = frame_length / 2;
    (0..n_frames(y.len(), frame_length, hop_length))
        .map(|t| {
            // Padded frame [t hop, t hop + fl) is y[t hop - half, t hop - half + fl); the
            // padding is zeros, so only the part inside y contributes.
            let start = t * hop_length;
            let lo = start.saturating_sub(half).min(y.len());
            let hi = (start + frame_length).saturating_sub(half).min(y.len());
            let sum: f64 = y[lo..hi].iter().map(|&x| (x as f64) * (x as f64)).sum();
            (sum / frame_length as f64).sqrt()
        })
        .collect()
}

/// `librosa.feature.zero_crossing_rate(y, frame_length, hop_length)`: centred frames of the
/// edge-padded signal; the crossings between consecutive samples inside each frame (the first
/// sample of a frame has none, `pad=False`) divided by the frame length. A sample within
/// `ZC_THRESHOLD` of 0 counts as 0, and 0 as positive (`zero_pos=True`). Empty for empty `y`.
pub(crate) fn zero_crossing_rate(y: &[f32], frame_length: usize, hop_length: usize) -> Vec<f64> {
    let (Some(&first), Some(&last)) = (y.first(), y.last()) else {
        return Vec::new();
    };
    let half = frame_length / 2;
    let negative = |x: f32| (x as f64) < -ZC_THRESHOLD;
    let padded: Vec<bool> = std::iter::repeat_n(negative(first), half)
        .chain(y.iter().map(|&x| negative(x)))
        .chain(std::iter::repeat_n(negative(last), half))
        .collect();
    // crossings_before[i] = number of positions j in 1..i with padded[j] != padded[j - 1].
    let mut crossings_before = vec![0u32; padded.len() + 1];
    for i in 1..padded.len() {
        crossings_before[i + 1] = crossings_before[i] + u32::from(padded[i] != padded[i - 1]);
    }
    (0..n_frames(y.len(), frame_length, hop_length))
        .map(|t| {
            // Crossings at positions start + 1 ..= start + frame_length - 1.
            let start = t * hop_length;
            let count = crossings_before[start + frame_length] - crossings_before[start + 1];
            count as f64 / frame_length as f64
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rms_pads_with_zeros() {
        // 1 + 1000 / 160 = 7 frames. Frame 0 is half padding: sqrt(200 * 0.25 / 400).
        let r = rms(&[0.5; 1000], 400, 160);
        assert_eq!(r.len(), 7);
        assert!((r[0] - 0.125f64.sqrt()).abs() < 1e-15);
        assert!((r[3] - 0.5).abs() < 1e-15);
        // Odd frame length, shorter clip than a frame: still one frame per hop.
        assert_eq!(rms(&[1.0; 3], 5, 2).len(), 2);
        assert!(rms(&[], 400, 160).is_empty());
    }

    #[test]
    fn zero_crossings_follow_librosa() {
        // Alternating signs: every pair inside a frame crosses, except where the edge padding
        // (a copy of the end sample) meets the signal.
        let y: Vec<f32> = (0..1000)
            .map(|i| if i % 2 == 0 { 0.5 } else { -0.5 })
            .collect();
        let z = zero_crossing_rate(&y, 400, 160);
        assert_eq!(z.len(), 7);
        // Frame 0 covers padded [0, 400) = 200 copies of y[0] then y[0..200): 199 crossings.
        assert_eq!(z[0], 199.0 / 400.0);
        assert_eq!(z[2], 399.0 / 400.0);
        // Tiny values count as zero, i.e. positive: no crossing between 1e-12 and -1e-12.
        assert!(
            zero_crossing_rate(&[1e-12, -1e-12, 1e-12], 400, 160)
                .iter()
                .all(|&r| r == 0.0)
        );
        assert!(zero_crossing_rate(&[], 400, 160).is_empty());
    }
}
