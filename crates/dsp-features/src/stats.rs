//! numpy's summary statistics in f64, for the utterance functionals: mean, population standard
//! deviation, `np.median`, `np.percentile` (default linear method) and `np.diff`.

/// `np.diff`.
pub(crate) fn diff(x: &[f64]) -> Vec<f64> {
    x.windows(2).map(|w| w[1] - w[0]).collect()
}

/// `np.abs(np.diff(x))`.
pub(crate) fn abs_diff(x: &[f64]) -> Vec<f64> {
    x.windows(2).map(|w| (w[1] - w[0]).abs()).collect()
}

/// Mean and population standard deviation (two-pass, like `np.std(ddof=0)`); `(0, 0)` if empty.
pub(crate) fn mean_std(x: &[f64]) -> (f64, f64) {
    if x.is_empty() {
        return (0.0, 0.0);
    }
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// `np.median`: the middle value, or the mean of the two middle values; 0 if empty.
pub(crate) fn median(x: &[f64]) -> f64 {
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => 0.0,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// `np.percentile(x, q)` (default `method='linear'`) of sorted, non-empty `s`, numpy's `_lerp`
/// included (`b - (b - a)(1 - g)` when `g >= 0.5`, so the rounding matches).
fn percentile_sorted(s: &[f64], q: f64) -> f64 {
    let n = s.len();
    let virtual_index = (n - 1) as f64 * (q / 100.0);
    let lo = (virtual_index.floor() as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let g = virtual_index - lo as f64;
    let (a, b) = (s[lo], s[hi]);
    let d = b - a;
    if g >= 0.5 {
        b - d * (1.0 - g)
    } else {
        a + d * g
    }
}

/// `[mean, std, p5, p50, p95, p95 - p5]`; an empty `x` counts as `[0.0]`.
pub(crate) fn stats6(x: &[f64]) -> [f64; 6] {
    if x.is_empty() {
        return [0.0; 6];
    }
    let (mean, std) = mean_std(x);
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    let (p5, p50, p95) = (
        percentile_sorted(&s, 5.0),
        percentile_sorted(&s, 50.0),
        percentile_sorted(&s, 95.0),
    );
    [mean, std, p5, p50, p95, p95 - p5]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_median_follow_numpy() {
        // np.percentile([3, 1, 4, 1, 5], [5, 50, 95]) == [1.0, 3.0, 4.8]
        let s = [1.0, 1.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile_sorted(&s, 5.0), 1.0);
        assert_eq!(percentile_sorted(&s, 50.0), 3.0);
        assert!((percentile_sorted(&s, 95.0) - 4.8).abs() < 1e-12);
        // np.percentile([1, 2], 5) == 1.05; np.median([4, 1, 3, 2]) == 2.5
        assert!((percentile_sorted(&[1.0, 2.0], 5.0) - 1.05).abs() < 1e-12);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn stats6_of_small_inputs() {
        assert_eq!(stats6(&[]), [0.0; 6]);
        assert_eq!(stats6(&[2.0]), [2.0, 0.0, 2.0, 2.0, 2.0, 0.0]);
        // np.std([1, 2, 3, 4]) == sqrt(1.25)
        let s = stats6(&[4.0, 1.0, 3.0, 2.0]);
        assert_eq!(s[0], 2.5);
        assert!((s[1] - 1.25f64.sqrt()).abs() < 1e-15);
        assert_eq!(diff(&[1.0, 4.0, 2.0]), vec![3.0, -2.0]);
        assert_eq!(abs_diff(&[1.0, 4.0, 2.0]), vec![3.0, 2.0]);
        assert!(diff(&[1.0]).is_empty());
    }
}
