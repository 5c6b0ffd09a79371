//! Where the timeline's windows go.

/// Window bounds `(start, end)` in samples for a clip of `len` samples and windows of `win`.
///
/// Windows start every `win / 2` samples; when that grid stops short of the end, one more
/// window is aligned to the clip's end, so every sample is in at least one window (issue 25:
/// the last 0.5 s of a 20 s clip was never classified, because a tail of up to a quarter
/// window was dropped). A clip no longer than one window is one window.
///
/// ```
/// use ser_models::analysis::windows;
///
/// // 20 s at 1 kHz in 3 s windows: the grid ends at 19.5 s, so a last window covers 17-20 s.
/// let w = windows(20_000, 3_000);
/// assert_eq!(w.last(), Some(&(17_000, 20_000)));
/// ```
pub fn windows(len: usize, win: usize) -> Vec<(usize, usize)> {
    let win = win.max(1);
    if len <= win {
        return vec![(0, len)];
    }
    let hop = (win / 2).max(1);
    let mut out = Vec::with_capacity(len / hop + 2);
    let mut start = 0;
    while start + win <= len {
        out.push((start, start + win));
        start += hop;
    }
    if out.last().is_some_and(|&(_, end)| end < len) {
        out.push((len - win, len));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_every_sample_with_half_overlap() {
        assert_eq!(windows(0, 48), vec![(0, 0)]);
        assert_eq!(windows(10, 48), vec![(0, 10)]);
        assert_eq!(windows(48, 48), vec![(0, 48)]);
        assert_eq!(windows(96, 48), vec![(0, 48), (24, 72), (48, 96)]);
        // 100 samples: the grid ends at 96; the 4 samples left get an end-aligned window
        // (before issue 25's fix, a tail up to a quarter window was dropped).
        assert_eq!(
            windows(100, 48),
            vec![(0, 48), (24, 72), (48, 96), (52, 100)]
        );
        for len in 1..500 {
            for win in [1, 2, 7, 48, 160] {
                let w = windows(len, win);
                assert_eq!(w[0].0, 0);
                assert_eq!(w.last().map(|&(_, e)| e), Some(len), "len {len} win {win}");
                assert!(w.iter().all(|&(s, e)| s < e && e <= len));
                // Consecutive windows overlap or touch: no gap anywhere.
                assert!(w.windows(2).all(|p| p[1].0 <= p[0].1));
            }
        }
    }
}
