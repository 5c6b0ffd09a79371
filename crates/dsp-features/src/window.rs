//! Analysis windows and signal padding, as librosa builds them.

use crate::config::{PadMode, WindowKind};

/// Frames librosa gets from `len` samples with frames of `frame_length` every `hop_length`:
/// with `center`, the signal is first padded by `frame_length / 2` on each side
/// (`1 + (len + 2 (fl / 2) - fl) / hop`); 0 when the (padded) signal is shorter than a frame
/// or `hop_length` is 0. The one count the STFT, YIN and the time-domain measures share.
pub fn frame_count(len: usize, frame_length: usize, hop_length: usize, center: bool) -> usize {
    let padded = if center {
        len + 2 * (frame_length / 2)
    } else {
        len
    };
    if hop_length == 0 || padded < frame_length {
        0
    } else {
        1 + (padded - frame_length) / hop_length
    }
}

/// The periodic window of `win_length` samples, zero-padded and centred in `n_fft` samples.
///
/// Periodic ("fftbins=True") means the cosine has period `win_length`, as scipy's
/// `get_window('hann', win_length, fftbins=True)` that librosa calls; the padding follows
/// librosa's `util.pad_center`: `(n_fft - win_length) / 2` zeros on the left (floor), the rest
/// on the right. Computed in f64 and rounded once to f32.
pub fn padded_window(kind: WindowKind, win_length: usize, n_fft: usize) -> Vec<f32> {
    padded_window_f64(kind, win_length, n_fft)
        .into_iter()
        .map(|w| w as f32)
        .collect()
}

/// [`padded_window`] in f64 (what librosa multiplies the frames with).
pub fn padded_window_f64(kind: WindowKind, win_length: usize, n_fft: usize) -> Vec<f64> {
    let mut out = vec![0.0f64; n_fft];
    let lpad = (n_fft - win_length.min(n_fft)) / 2;
    // scipy.signal.windows.general_hamming: alpha - (1 - alpha) cos(2 pi n / M), M = win_length
    // for the periodic variant; alpha = 0.5 (hann) or 0.54 (hamming).
    let alpha = match kind {
        WindowKind::Hann => 0.5f64,
        WindowKind::Hamming => 0.54f64,
    };
    let m = win_length as f64;
    for (n, o) in out[lpad..lpad + win_length.min(n_fft)]
        .iter_mut()
        .enumerate()
    {
        let w = alpha - (1.0 - alpha) * (2.0 * std::f64::consts::PI * n as f64 / m).cos();
        *o = w;
    }
    out
}

/// Index `i` (possibly negative or past the end) of a signal of `len >= 1` samples after
/// `numpy.pad(mode='reflect')`: mirror without repeating the edge, periodic with period
/// `2 (len - 1)` for pads longer than the signal; a single sample is repeated.
pub fn reflect_index(i: isize, len: usize) -> usize {
    if len == 1 {
        return 0;
    }
    let period = 2 * (len as isize - 1);
    let j = i.rem_euclid(period);
    if j >= len as isize {
        (period - j) as usize
    } else {
        j as usize
    }
}

/// Pad `y` with `pad` samples on both sides (librosa's `center=True` padding).
pub fn pad_signal(y: &[f32], pad: usize, mode: PadMode) -> Vec<f32> {
    let mut out = Vec::with_capacity(y.len() + 2 * pad);
    match mode {
        PadMode::Constant => {
            out.resize(pad, 0.0);
            out.extend_from_slice(y);
            out.resize(y.len() + 2 * pad, 0.0);
        }
        PadMode::Reflect => {
            let len = y.len();
            out.extend((0..pad).map(|k| y[reflect_index(k as isize - pad as isize, len)]));
            out.extend_from_slice(y);
            out.extend((0..pad).map(|k| y[reflect_index((len + k) as isize, len)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periodic_hann_matches_scipy() {
        // scipy.signal.get_window('hann', 4, fftbins=True) == [0, 0.5, 1, 0.5]
        let w = padded_window(WindowKind::Hann, 4, 4);
        let expect = [0.0, 0.5, 1.0, 0.5];
        for (a, b) in w.iter().zip(expect) {
            assert!((a - b).abs() < 1e-7, "{w:?}");
        }
        // get_window('hamming', 4, fftbins=True) == [0.08, 0.54, 1.0, 0.54]
        let w = padded_window(WindowKind::Hamming, 4, 4);
        for (a, b) in w.iter().zip([0.08, 0.54, 1.0, 0.54]) {
            assert!((a - b).abs() < 1e-7, "{w:?}");
        }
    }

    #[test]
    fn window_is_centred_like_pad_center() {
        // librosa.util.pad_center(np.ones(3), size=8) -> 2 zeros left, 3 right
        let w = padded_window(WindowKind::Hamming, 3, 8);
        assert_eq!(w[..2], [0.0, 0.0]);
        assert!(w[2] > 0.0 && w[4] > 0.0);
        assert_eq!(w[5..], [0.0, 0.0, 0.0]);
    }

    #[test]
    fn reflect_matches_numpy_even_for_long_pads() {
        // np.pad([1,2,3], (7,7), mode='reflect')
        let y = [1.0, 2.0, 3.0];
        let p = pad_signal(&y, 7, PadMode::Reflect);
        let expect = [
            2., 3., 2., 1., 2., 3., 2., 1., 2., 3., 2., 1., 2., 3., 2., 1., 2.,
        ];
        assert_eq!(p, expect);
        // np.pad([5], 3, mode='reflect') == [5]*7
        assert_eq!(pad_signal(&[5.0], 3, PadMode::Reflect), vec![5.0; 7]);
        assert_eq!(
            pad_signal(&[1.0, 2.0], 2, PadMode::Constant),
            vec![0.0, 0.0, 1.0, 2.0, 0.0, 0.0]
        );
    }
}
