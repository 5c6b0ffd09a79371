//! Second-order IIR filter sections ("biquads") for equalisers, band limits and loudness
//! weighting.
//!
//! The designs are the bilinear-transform formulas of Robert Bristow-Johnson's *Audio EQ
//! Cookbook* (W3C Working Group Note "Audio EQ Cookbook", 2021,
//! <https://www.w3.org/TR/audio-eq-cookbook/>), the same ones Web Audio's `BiquadFilterNode`
//! uses. Coefficients are stored normalised (`a0 = 1`) and in `f64`: a 40 Hz high-pass at
//! 48 kHz has its poles within 0.004 of the unit circle, where `f32` coefficients would move
//! the corner audibly.
//!
//! Filtering runs in transposed direct form II with an `f64` state (the form with the least
//! round-off among the direct forms for floating point, Smith, *Introduction to Digital
//! Filters*, "Transposed Direct-Forms"). Each call to [`Biquad::process`] starts from rest.
//!
//! ```
//! use ser_audio::filter::Biquad;
//!
//! // A peaking EQ of +6 dB at 1 kHz: exactly +6 dB at its centre frequency.
//! let eq = Biquad::peaking(16_000.0, 1_000.0, 1.0, 6.0)?;
//! assert!((eq.magnitude_db(1_000.0, 16_000.0) - 6.0).abs() < 1e-9);
//! let mut x = vec![0.1_f32; 160];
//! eq.process(&mut x);
//! # Ok::<(), ser_audio::Error>(())
//! ```

use std::f64::consts::PI;

use crate::error::{Error, Result};

/// One second-order section `H(z) = (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Biquad {
    /// Numerator `b0, b1, b2` (already divided by `a0`).
    pub b: [f64; 3],
    /// Denominator `a1, a2` (already divided by `a0`; `a0` is 1).
    pub a: [f64; 2],
}

/// The Q of a second-order Butterworth section, `1/sqrt(2)`: maximally flat, -3.01 dB at the
/// corner.
pub const BUTTERWORTH_Q: f64 = std::f64::consts::FRAC_1_SQRT_2;

impl Biquad {
    /// A section from raw coefficients `b = [b0, b1, b2]`, `a = [a0, a1, a2]`, normalised by
    /// `a0`. Errors when a coefficient is not finite or `a0` is 0.
    pub fn from_coefficients(b: [f64; 3], a: [f64; 3]) -> Result<Self> {
        if b.iter().chain(&a).any(|c| !c.is_finite()) || a[0] == 0.0 {
            return Err(invalid(
                "biquad coefficients",
                format!("must be finite with a0 != 0, got b = {b:?}, a = {a:?}"),
            ));
        }
        let n = a[0];
        Ok(Self {
            b: [b[0] / n, b[1] / n, b[2] / n],
            a: [a[1] / n, a[2] / n],
        })
    }

    /// Low-pass (cookbook `LPF`): unity at DC, `-3.01 dB` at `f0` for `q =`
    /// [`BUTTERWORTH_Q`], zero at Nyquist.
    pub fn low_pass(sample_rate: f64, f0: f64, q: f64) -> Result<Self> {
        let (cos, alpha) = angles(sample_rate, f0, q)?;
        Self::from_coefficients(
            [(1.0 - cos) / 2.0, 1.0 - cos, (1.0 - cos) / 2.0],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        )
    }

    /// High-pass (cookbook `HPF`): zero at DC, unity at Nyquist.
    pub fn high_pass(sample_rate: f64, f0: f64, q: f64) -> Result<Self> {
        let (cos, alpha) = angles(sample_rate, f0, q)?;
        Self::from_coefficients(
            [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        )
    }

    /// Peaking EQ (cookbook `peakingEQ`): `gain_db` at `f0`, unity at DC and Nyquist, bandwidth
    /// set by `q`.
    pub fn peaking(sample_rate: f64, f0: f64, q: f64, gain_db: f64) -> Result<Self> {
        let (cos, alpha) = angles(sample_rate, f0, q)?;
        let a = shelf_amplitude(gain_db)?;
        Self::from_coefficients(
            [1.0 + alpha * a, -2.0 * cos, 1.0 - alpha * a],
            [1.0 + alpha / a, -2.0 * cos, 1.0 - alpha / a],
        )
    }

    /// Low shelf (cookbook `lowShelf`): `gain_db` at DC, unity at Nyquist, half the gain (in
    /// dB) at `f0`. `q =` [`BUTTERWORTH_Q`] is the cookbook's steepest shelf without overshoot
    /// (slope `S = 1`).
    pub fn low_shelf(sample_rate: f64, f0: f64, q: f64, gain_db: f64) -> Result<Self> {
        let (cos, alpha) = angles(sample_rate, f0, q)?;
        let a = shelf_amplitude(gain_db)?;
        let s = 2.0 * a.sqrt() * alpha;
        Self::from_coefficients(
            [
                a * ((a + 1.0) - (a - 1.0) * cos + s),
                2.0 * a * ((a - 1.0) - (a + 1.0) * cos),
                a * ((a + 1.0) - (a - 1.0) * cos - s),
            ],
            [
                (a + 1.0) + (a - 1.0) * cos + s,
                -2.0 * ((a - 1.0) + (a + 1.0) * cos),
                (a + 1.0) + (a - 1.0) * cos - s,
            ],
        )
    }

    /// High shelf (cookbook `highShelf`): unity at DC, `gain_db` at Nyquist.
    pub fn high_shelf(sample_rate: f64, f0: f64, q: f64, gain_db: f64) -> Result<Self> {
        let (cos, alpha) = angles(sample_rate, f0, q)?;
        let a = shelf_amplitude(gain_db)?;
        let s = 2.0 * a.sqrt() * alpha;
        Self::from_coefficients(
            [
                a * ((a + 1.0) + (a - 1.0) * cos + s),
                -2.0 * a * ((a - 1.0) + (a + 1.0) * cos),
                a * ((a + 1.0) + (a - 1.0) * cos - s),
            ],
            [
                (a + 1.0) - (a - 1.0) * cos + s,
                2.0 * ((a - 1.0) - (a + 1.0) * cos),
                (a + 1.0) - (a - 1.0) * cos - s,
            ],
        )
    }

    /// The design's magnitude response at `freq_hz`, in dB (`20 log10 |H(e^jw)|`).
    pub fn magnitude_db(&self, freq_hz: f64, sample_rate: f64) -> f64 {
        let w = 2.0 * PI * freq_hz / sample_rate;
        // H(e^jw) with z^-1 = cos w - j sin w, z^-2 = cos 2w - j sin 2w.
        let (c1, s1, c2, s2) = (w.cos(), w.sin(), (2.0 * w).cos(), (2.0 * w).sin());
        let [b0, b1, b2] = self.b;
        let [a1, a2] = self.a;
        let num = (b0 + b1 * c1 + b2 * c2).hypot(b1 * s1 + b2 * s2);
        let den = (1.0 + a1 * c1 + a2 * c2).hypot(a1 * s1 + a2 * s2);
        20.0 * (num / den).log10()
    }

    /// Filters `x` in place, starting from rest (transposed direct form II, `f64` state).
    pub fn process(&self, x: &mut [f32]) {
        let [b0, b1, b2] = self.b;
        let [a1, a2] = self.a;
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for v in x.iter_mut() {
            let input = f64::from(*v);
            let y = b0 * input + s1;
            s1 = b1 * input - a1 * y + s2;
            s2 = b2 * input - a2 * y;
            *v = y as f32;
        }
    }
}

/// Filters `x` through each section in turn, starting from rest; the same samples as calling
/// [`Biquad::process`] section by section.
///
/// Why not that: one section's recursion is a chain of dependent multiply-adds, so a section
/// runs at the latency of that chain per sample whatever the CPU's width. Taking every section
/// for one sample before the next sample lets the CPU overlap section `k + 1` on sample `i`
/// with section `k` on sample `i + 1`.
pub fn process_cascade(sections: &[Biquad], x: &mut [f32]) {
    // Up to 8 sections per pass (order 16), state on the stack.
    for group in sections.chunks(8) {
        let mut state = [[0.0f64; 2]; 8];
        for v in x.iter_mut() {
            let mut y = f64::from(*v);
            for (s, st) in group.iter().zip(state.iter_mut()) {
                let input = y;
                y = s.b[0] * input + st[0];
                st[0] = s.b[1] * input - s.a[0] * y + st[1];
                st[1] = s.b[2] * input - s.a[1] * y;
            }
            *v = y as f32;
        }
    }
}

/// The Qs of the second-order sections of an even-order Butterworth filter,
/// `Q_k = 1 / (2 cos((2k - 1) pi / (2 order)))` for `k = 1..=order/2` (the pole angles of
/// the analog Butterworth prototype; e.g. 0.5412 and 1.3066 for order 4). Cascading
/// [`Biquad::low_pass`] or [`Biquad::high_pass`] sections with these Qs at the same corner
/// gives the Butterworth response (`-3.01 dB` at the corner, `6 x order` dB per octave beyond
/// it) up to the bilinear transform's frequency warping. An odd `order` is rounded up.
pub fn butterworth_qs(order: usize) -> Vec<f64> {
    let sections = order.div_ceil(2).max(1);
    let n = (2 * sections) as f64;
    (1..=sections)
        .map(|k| 1.0 / (2.0 * ((2 * k - 1) as f64 * PI / (2.0 * n)).cos()))
        .collect()
}

/// `(cos w0, alpha)` of the cookbook, `w0 = 2 pi f0 / fs`, `alpha = sin w0 / (2 Q)`, after
/// checking `0 < f0 < fs / 2` and `Q > 0`.
fn angles(sample_rate: f64, f0: f64, q: f64) -> Result<(f64, f64)> {
    if !(sample_rate.is_finite() && sample_rate > 0.0) {
        return Err(invalid("filter sample rate", format!("{sample_rate} Hz")));
    }
    if !(f0.is_finite() && f0 > 0.0 && f0 < sample_rate / 2.0) {
        return Err(invalid(
            "filter frequency",
            format!(
                "{f0} Hz is not inside (0, {}) Hz, the band of a {sample_rate} Hz signal",
                sample_rate / 2.0
            ),
        ));
    }
    if !(q.is_finite() && q > 0.0) {
        return Err(invalid("filter q", format!("{q} must be > 0")));
    }
    let w0 = 2.0 * PI * f0 / sample_rate;
    Ok((w0.cos(), w0.sin() / (2.0 * q)))
}

/// The cookbook's `A = 10^(dBgain / 40)`, after checking the gain is finite and within
/// +-60 dB (a bound that keeps every coefficient well scaled; no EQ needs more).
fn shelf_amplitude(gain_db: f64) -> Result<f64> {
    if !(gain_db.is_finite() && gain_db.abs() <= 60.0) {
        return Err(invalid(
            "filter gain_db",
            format!("{gain_db} dB is not within +-60 dB"),
        ));
    }
    Ok(10f64.powf(gain_db / 40.0))
}

fn invalid(field: &'static str, reason: String) -> Error {
    Error::InvalidConfig { field, reason }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const FS: f64 = 16_000.0;

    /// Steady-state gain (dB) of `f` on a sine at `freq`: RMS ratio over the last half of 1 s.
    fn measured_db(f: &[Biquad], freq: f64, fs: f64) -> f64 {
        let n = fs as usize;
        let x: Vec<f32> = (0..n)
            .map(|i| (2.0 * PI * freq * i as f64 / fs).sin() as f32 * 0.5)
            .collect();
        let mut y = x.clone();
        process_cascade(f, &mut y);
        let rms = |v: &[f32]| (v.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>()).sqrt();
        20.0 * (rms(&y[n / 2..]) / rms(&x[n / 2..])).log10()
    }

    /// Measured and designed response agree within this (dB): the sine's RMS over 8000 samples
    /// (a whole number of periods or not) is exact to ~1e-3 dB; f32 samples add ~1e-6.
    const MEASURE_TOL_DB: f64 = 0.02;

    #[test]
    fn designs_hit_their_defining_points() {
        let lp = Biquad::low_pass(FS, 1000.0, BUTTERWORTH_Q).unwrap();
        assert!((lp.magnitude_db(1000.0, FS) + 3.0103).abs() < 1e-3);
        assert!(lp.magnitude_db(1e-3, FS).abs() < 1e-6);
        let hp = Biquad::high_pass(FS, 300.0, BUTTERWORTH_Q).unwrap();
        assert!((hp.magnitude_db(300.0, FS) + 3.0103).abs() < 1e-3);
        assert!(hp.magnitude_db(FS / 2.0 - 1e-3, FS).abs() < 1e-6);
        for g in [-10.0, -3.0, 6.0, 10.0] {
            let pk = Biquad::peaking(FS, 2000.0, 1.4, g).unwrap();
            assert!((pk.magnitude_db(2000.0, FS) - g).abs() < 1e-9);
            assert!(pk.magnitude_db(1e-3, FS).abs() < 1e-6);
            let ls = Biquad::low_shelf(FS, 300.0, BUTTERWORTH_Q, g).unwrap();
            assert!((ls.magnitude_db(1e-3, FS) - g).abs() < 1e-6);
            assert!((ls.magnitude_db(300.0, FS) - g / 2.0).abs() < 1e-9);
            let hs = Biquad::high_shelf(FS, 3000.0, BUTTERWORTH_Q, g).unwrap();
            assert!((hs.magnitude_db(FS / 2.0 - 1e-3, FS) - g).abs() < 1e-6);
            assert!(hs.magnitude_db(1e-3, FS).abs() < 1e-6);
        }
    }

    #[test]
    fn filtered_sines_follow_the_designed_response() {
        let designs = [
            Biquad::low_pass(FS, 1000.0, BUTTERWORTH_Q).unwrap(),
            Biquad::high_pass(FS, 300.0, 0.5412).unwrap(),
            Biquad::peaking(FS, 1500.0, 2.0, 9.0).unwrap(),
            Biquad::low_shelf(FS, 200.0, BUTTERWORTH_Q, -8.0).unwrap(),
            Biquad::high_shelf(FS, 4000.0, BUTTERWORTH_Q, 7.0).unwrap(),
        ];
        for d in designs {
            for freq in [100.0, 440.0, 1000.0, 1500.0, 3000.0, 6000.0] {
                let want = d.magnitude_db(freq, FS);
                let got = measured_db(&[d], freq, FS);
                assert!(
                    (got - want).abs() < MEASURE_TOL_DB,
                    "{d:?} at {freq} Hz: designed {want:.3} dB, measured {got:.3} dB"
                );
            }
        }
    }

    #[test]
    fn butterworth_cascade_is_3_db_down_at_the_corner_and_falls_24_db_per_octave() {
        assert!((butterworth_qs(2)[0] - BUTTERWORTH_Q).abs() < 1e-12);
        let qs = butterworth_qs(4);
        assert!((qs[0] - 0.541_196).abs() < 1e-6 && (qs[1] - 1.306_563).abs() < 1e-6);
        // At 48 kHz a 1 kHz corner is barely warped: 1 octave above it the analog 4th-order
        // Butterworth gives 10 log10(1 + 2^8) = 24.15 dB.
        let fs = 48_000.0;
        let lp: Vec<_> = qs
            .iter()
            .map(|&q| Biquad::low_pass(fs, 1000.0, q).unwrap())
            .collect();
        let db = |f: f64| lp.iter().map(|s| s.magnitude_db(f, fs)).sum::<f64>();
        assert!((db(1000.0) + 3.0103).abs() < 1e-3);
        assert!((db(2000.0) + 24.15).abs() < 0.3, "{}", db(2000.0));
        assert!((measured_db(&lp, 2000.0, fs) - db(2000.0)).abs() < MEASURE_TOL_DB);
    }

    #[test]
    fn a_cascade_filters_like_its_sections_in_turn() {
        let sections: Vec<Biquad> = (0..11)
            .map(|k| Biquad::peaking(FS, 200.0 + 500.0 * k as f64, 1.0, 3.0).unwrap())
            .collect();
        let x: Vec<f32> = (0..2000)
            .map(|i| ((i * 7919) % 200) as f32 / 100.0 - 1.0)
            .collect();
        let mut one = x.clone();
        sections.iter().for_each(|s| s.process(&mut one));
        let mut all = x;
        process_cascade(&sections, &mut all);
        // The cascade keeps f64 between sections, one at a time rounds each to f32.
        for (a, b) in one.iter().zip(&all) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }

    #[test]
    fn bad_designs_are_errors() {
        assert!(Biquad::low_pass(FS, 8000.0, 0.7).is_err()); // at Nyquist
        assert!(Biquad::low_pass(FS, 0.0, 0.7).is_err());
        assert!(Biquad::low_pass(FS, 100.0, 0.0).is_err());
        assert!(Biquad::low_pass(f64::NAN, 100.0, 0.7).is_err());
        assert!(Biquad::peaking(FS, 100.0, 1.0, f64::INFINITY).is_err());
        assert!(Biquad::from_coefficients([1.0, 0.0, 0.0], [0.0, 0.0, 0.0]).is_err());
    }
}
