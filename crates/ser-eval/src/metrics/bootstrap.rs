//! Percentile-bootstrap confidence intervals for UA and macro-F1.

use serde::{Deserialize, Serialize};

use super::confusion::{ConfusionMatrix, validate};
use super::report::ClassificationReport;
use crate::error::{EvalError, Result};
use ser_audio::rng::SplitMix64;

/// How to bootstrap: number of resamples, confidence level and PRNG seed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapConfig {
    /// Number of resamples. Default 1000: enough for stable 2.5/97.5 percentiles of a mean-like
    /// statistic (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993, sec. 13.3,
    /// recommend at least 1000 for percentile intervals).
    pub resamples: usize,
    /// Confidence level in `(0, 1)`. Default 0.95.
    pub confidence: f64,
    /// Seed of the [`SplitMix64`] stream; the same seed gives the same interval.
    pub seed: u64,
}

impl BootstrapConfig {
    /// Settings from command-line values, checked ([`Self::validate`]).
    ///
    /// # Errors
    ///
    /// As [`Self::validate`].
    pub fn checked(resamples: u64, confidence: f64, seed: u64) -> Result<Self> {
        let config = Self {
            resamples: usize::try_from(resamples).unwrap_or(usize::MAX),
            confidence,
            seed,
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks the settings before any work (a command validates its flags with this before
    /// training for hours).
    ///
    /// # Errors
    ///
    /// [`EvalError::InvalidConfig`] for zero resamples or a confidence outside `(0, 1)`.
    pub fn validate(&self) -> Result<()> {
        if self.resamples == 0 {
            return Err(EvalError::InvalidConfig {
                field: "bootstrap resamples (--bootstrap)",
                value: "0".into(),
                expected: "at least 1 (1000 is typical)",
            });
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(EvalError::InvalidConfig {
                field: "bootstrap confidence (--confidence)",
                value: self.confidence.to_string(),
                expected: "a level strictly between 0 and 1, e.g. 0.95",
            });
        }
        Ok(())
    }
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self {
            resamples: 1000,
            confidence: 0.95,
            seed: 0,
        }
    }
}

/// A confidence interval `[low, high]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// Bootstrap intervals of UA (balanced accuracy) and macro-F1, with the settings used.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapCi {
    /// Interval for UA.
    pub ua: Interval,
    /// Interval for macro-F1.
    pub macro_f1: Interval,
    /// The settings that produced it.
    pub config: BootstrapConfig,
}

/// Percentile-bootstrap intervals for UA and macro-F1.
///
/// # Method
///
/// Each of `config.resamples` resamples draws `n` sample indices uniformly **with
/// replacement** (index `k` is [`unbiased_below`]`(rng, n)` on one [`SplitMix64`] stream
/// seeded with `config.seed`, drawn in order), recomputes the confusion matrix and from it UA and macro-F1
/// with exactly the conventions of [`ClassificationReport`]. The interval is the
/// `(1 - confidence) / 2` and `(1 + confidence) / 2` quantiles of the resampled values, with
/// linear interpolation between order statistics (numpy's default `percentile` method).
///
/// Resampling files treats them as independent; utterances of one speaker are correlated, so
/// these intervals are, if anything, too narrow. They describe sampling noise of the test set,
/// not variation between training runs (use cross-validation for that).
///
/// # Errors
///
/// As [`ConfusionMatrix::new`], and [`EvalError::InvalidConfig`] for zero resamples or a
/// confidence outside `(0, 1)`.
pub fn bootstrap_ci(
    y_true: &[usize],
    y_pred: &[usize],
    n_classes: usize,
    config: &BootstrapConfig,
) -> Result<BootstrapCi> {
    validate(y_true, y_pred, n_classes)?;
    config.validate()?;
    let n = y_true.len();
    let mut rng = SplitMix64::new(config.seed);
    let mut uas = Vec::with_capacity(config.resamples);
    let mut f1s = Vec::with_capacity(config.resamples);
    let mut counts = vec![vec![0u64; n_classes]; n_classes];
    for _ in 0..config.resamples {
        counts.iter_mut().for_each(|row| row.fill(0));
        for _ in 0..n {
            let k = unbiased_below(&mut rng, n);
            counts[y_true[k]][y_pred[k]] += 1;
        }
        let cm = ConfusionMatrix::from_counts(counts.clone())?;
        let rep = ClassificationReport::from_confusion(cm);
        uas.push(rep.balanced_accuracy);
        f1s.push(rep.macro_avg.f1);
    }
    let lo_q = (1.0 - config.confidence) / 2.0;
    let hi_q = (1.0 + config.confidence) / 2.0;
    Ok(BootstrapCi {
        ua: Interval {
            low: quantile(&mut uas, lo_q),
            high: quantile(&mut uas, hi_q),
        },
        macro_f1: Interval {
            low: quantile(&mut f1s, lo_q),
            high: quantile(&mut f1s, hi_q),
        },
        config: *config,
    })
}

/// The `q`-quantile of `values` (sorted in place) with linear interpolation, like
/// `numpy.percentile(values, 100 * q)`. `values` must be non-empty and NaN-free.
pub(crate) fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let pos = q * (values.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    values[lo] + (values[hi] - values[lo]) * frac
}

/// A uniform integer in `0..n` without modulo bias (Lemire, "Fast Random Integer Generation
/// in an Interval", ACM TOMACS 2019, algorithm 5); 0 when `n == 0`.
///
/// The workspace generator's own [`SplitMix64::below`] is the same multiply-shift without the
/// rejection step: its bias (at most `n / 2^64`) does not matter for augmentation, but the
/// bootstrap keeps the exact algorithm that `tests/fixtures/make_sklearn_fixtures.py`
/// re-implements, so the fixtures check the intervals bit for bit.
pub fn unbiased_below(rng: &mut SplitMix64, n: usize) -> usize {
    let s = n as u64;
    if s == 0 {
        return 0;
    }
    let mut m = u128::from(rng.next_u64()) * u128::from(s);
    if (m as u64) < s {
        // Reject the few low products that would make some outputs more likely.
        let threshold = s.wrapping_neg() % s;
        while (m as u64) < threshold {
            m = u128::from(rng.next_u64()) * u128::from(s);
        }
    }
    (m >> 64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u64) -> (Vec<usize>, Vec<usize>) {
        let mut rng = SplitMix64::new(seed);
        let mut below = |k| unbiased_below(&mut rng, k);
        let y_true: Vec<usize> = (0..n).map(|_| below(4)).collect();
        let y_pred = y_true
            .iter()
            .map(|&t| if below(10) < 3 { below(4) } else { t })
            .collect();
        (y_true, y_pred)
    }

    #[test]
    fn unbiased_below_follows_the_reference_stream_and_is_uniform() {
        // First outputs of splitmix64.c seeded with 1234567, as printed by the reference C code
        // (also reproduced by the Python version in tests/fixtures/make_sklearn_fixtures.py).
        let mut rng = SplitMix64::new(1_234_567);
        assert_eq!(rng.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(rng.next_u64(), 3_203_168_211_198_807_973);
        assert_eq!(rng.next_u64(), 9_817_491_932_198_370_423);
        let mut rng = SplitMix64::new(7);
        let mut counts = [0usize; 6];
        for _ in 0..60_000 {
            counts[unbiased_below(&mut rng, 6)] += 1;
        }
        // Each bucket expects 10 000; 5 sigma is about 456.
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
        assert_eq!(unbiased_below(&mut rng, 0), 0);
        assert_eq!(unbiased_below(&mut rng, 1), 0);
    }

    #[test]
    fn deterministic_by_seed() {
        let (t, p) = data(200, 1);
        let cfg = BootstrapConfig {
            resamples: 200,
            ..Default::default()
        };
        let a = bootstrap_ci(&t, &p, 4, &cfg).unwrap();
        let b = bootstrap_ci(&t, &p, 4, &cfg).unwrap();
        assert_eq!(a, b);
        let c = bootstrap_ci(&t, &p, 4, &BootstrapConfig { seed: 9, ..cfg }).unwrap();
        assert_ne!(a.ua, c.ua);
    }

    #[test]
    fn interval_brackets_estimate_and_narrows_with_n() {
        let cfg = BootstrapConfig::default();
        let (t, p) = data(100, 2);
        let small = bootstrap_ci(&t, &p, 4, &cfg).unwrap();
        let point = ClassificationReport::new(&t, &p, 4).unwrap();
        assert!(
            small.ua.low <= point.balanced_accuracy && point.balanced_accuracy <= small.ua.high
        );
        assert!(
            small.macro_f1.low <= point.macro_avg.f1 && point.macro_avg.f1 <= small.macro_f1.high
        );
        let (t, p) = data(2500, 2);
        let big = bootstrap_ci(&t, &p, 4, &cfg).unwrap();
        // Width shrinks like 1/sqrt(n): 25x the data, about 1/5 of the width.
        assert!(big.ua.high - big.ua.low < 0.5 * (small.ua.high - small.ua.low));
    }

    #[test]
    fn perfect_predictions_have_degenerate_interval() {
        let t = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0];
        let ci = bootstrap_ci(&t, &t, 3, &BootstrapConfig::default()).unwrap();
        assert_eq!((ci.ua.low, ci.ua.high), (1.0, 1.0));
    }

    #[test]
    fn quantile_matches_numpy_linear() {
        // numpy.percentile([1, 2, 3, 4], [2.5, 50, 97.5]) == [1.075, 2.5, 3.925]
        let mut v = vec![4.0, 1.0, 3.0, 2.0];
        assert!((quantile(&mut v, 0.025) - 1.075).abs() < 1e-12);
        assert!((quantile(&mut v, 0.5) - 2.5).abs() < 1e-12);
        assert!((quantile(&mut v, 0.975) - 3.925).abs() < 1e-12);
    }

    #[test]
    fn rejects_bad_config() {
        let t = [0, 1];
        // (resamples, confidence) pairs outside the valid ranges, and the flag each names.
        for (resamples, confidence, flag) in [
            (0, 0.95, "--bootstrap"),
            (1000, 1.0, "--confidence"),
            (1000, f64::NAN, "--confidence"),
        ] {
            let err = BootstrapConfig::checked(resamples, confidence, 0).unwrap_err();
            assert!(err.to_string().contains(flag), "{err}");
            let cfg = BootstrapConfig {
                resamples: resamples as usize,
                confidence,
                seed: 0,
            };
            assert!(matches!(
                bootstrap_ci(&t, &t, 2, &cfg),
                Err(EvalError::InvalidConfig { .. })
            ));
        }
    }
}
