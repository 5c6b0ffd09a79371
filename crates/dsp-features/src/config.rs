//! [`FeatureConfig`]: every knob of the extractor, with librosa's names and defaults for speech.

use serde::{Deserialize, Serialize};

use crate::error::{FeatureError, Result};
use crate::tensor::FeatureKind;

/// Analysis window (scipy `get_window(name, n, fftbins=True)`, i.e. *periodic*, as librosa uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WindowKind {
    /// `0.5 - 0.5 cos(2 pi n / N)` (librosa's default `window='hann'`).
    #[default]
    Hann,
    /// `0.54 - 0.46 cos(2 pi n / N)`.
    Hamming,
}

/// How the signal is padded at both ends when `center` is true (librosa's `pad_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PadMode {
    /// Zeros (librosa >= 0.10 default `pad_mode='constant'`).
    #[default]
    Constant,
    /// Mirror without repeating the edge sample (`numpy.pad(mode='reflect')`).
    Reflect,
}

/// The mel scale (librosa's `htk` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MelScale {
    /// Slaney's Auditory Toolbox scale: linear below 1 kHz, logarithmic above (`htk=False`).
    #[default]
    Slaney,
    /// `2595 log10(1 + f / 700)` (`htk=True`).
    Htk,
}

/// Normalisation of the mel filters (librosa's `norm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MelNorm {
    /// Divide each triangle by its width in Hz so every filter has (roughly) unit area
    /// (`norm='slaney'`, librosa's default).
    #[default]
    Slaney,
    /// Triangles peak at 1 (`norm=None`).
    None,
}

/// What an STFT output holds ([`FeatureKind::Stft`] only; mel and MFCC always start from the
/// power spectrogram, as librosa's `melspectrogram(power=2.0)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Spectrum {
    /// `|X|^2` (librosa `power=2.0`).
    #[default]
    Power,
    /// `|X|` (librosa `power=1.0`).
    Magnitude,
}

/// Floating-point precision of the FFT (everything after it is f32, as in librosa).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// f32 windowing and FFT: fastest; rounding noise sits about 150 dB below each frame's
    /// energy, so bands more than ~75 dB below a frame's peak (pure tones, chirps) can differ
    /// from librosa by slightly more than 1e-3 dB.
    F32,
    /// f64 windowing and FFT, like librosa (numpy's FFT is f64): matches librosa to ~1e-5 dB
    /// at every level. The default.
    #[default]
    F64,
}

/// The dB reference of `power_to_db` (librosa's `ref`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DbRef {
    /// A fixed reference power: 0 dB = this power (librosa `ref=1.0` is `Value(1.0)`).
    Value(f32),
    /// The maximum of the utterance is 0 dB (librosa `ref=np.max`).
    Max,
}

impl Default for DbRef {
    fn default() -> Self {
        DbRef::Value(1.0)
    }
}

/// Every setting of a [`crate::FeatureExtractor`]. Field names follow librosa's arguments.
///
/// `Default` gives 64-band log-mel at 16 kHz with a 25 ms Hann window (400 samples) in a
/// 512-point FFT and a 10 ms hop (160 samples), centred frames with zero padding, Slaney mel
/// scale with Slaney area normalisation, `power_to_db(ref=1.0, amin=1e-10, top_db=80)`.
/// For MFCC: 40 coefficients, no liftering. Saved beside every model as JSON (serde).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureConfig {
    /// What to compute.
    pub kind: FeatureKind,
    /// Sample rate the audio must have (Hz); librosa's `sr`.
    #[serde(alias = "sr")]
    pub sample_rate: u32,
    /// FFT size (samples). Output of [`FeatureKind::Stft`] has `1 + n_fft / 2` rows.
    pub n_fft: usize,
    /// Window length (samples, `<= n_fft`); the window is zero-padded and centred in `n_fft`
    /// (librosa `util.pad_center`).
    pub win_length: usize,
    /// Hop between frames (samples).
    pub hop_length: usize,
    /// Window shape.
    pub window: WindowKind,
    /// Centre frames: frame `t` covers `[t*hop - n_fft/2, t*hop + n_fft/2)` of the padded signal,
    /// giving `1 + len / hop` frames; otherwise frames start at `t*hop` and there are
    /// `1 + (len - n_fft) / hop`.
    pub center: bool,
    /// Padding used when `center` is true.
    pub pad_mode: PadMode,
    /// FFT precision (see [`Precision`]).
    pub precision: Precision,
    /// STFT output: power or magnitude (only for [`FeatureKind::Stft`]).
    pub spectrum: Spectrum,
    /// Number of mel bands.
    pub n_mels: usize,
    /// Lowest filter edge (Hz).
    pub fmin: f32,
    /// Highest filter edge (Hz); `None` = `sample_rate / 2`.
    pub fmax: Option<f32>,
    /// Mel scale.
    pub mel_scale: MelScale,
    /// Mel filter normalisation.
    pub mel_norm: MelNorm,
    /// dB reference of `power_to_db`.
    pub db_ref: DbRef,
    /// Smallest power before the log (librosa `amin`, 1e-10).
    pub amin: f32,
    /// Clip everything more than this many dB below the utterance's maximum (librosa `top_db`).
    pub top_db: Option<f32>,
    /// Number of MFCCs kept (MFCC only).
    pub n_mfcc: usize,
    /// Cepstral liftering coefficient (librosa `lifter`; 0 = none).
    pub lifter: f32,
    /// Append delta rows: 0 = none, 1 = first-order deltas, 2 = first- and second-order
    /// (librosa `feature.delta`, width 9, `mode='interp'`).
    pub deltas: u8,
    /// Width of the delta window (odd, >= 3; librosa default 9).
    pub delta_width: usize,
    /// Per-utterance CMVN: subtract each row's mean and divide by its standard deviation
    /// (applied last, after deltas).
    pub cmvn: bool,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            kind: FeatureKind::LogMel,
            sample_rate: 16_000,
            n_fft: 512,
            win_length: 400,
            hop_length: 160,
            window: WindowKind::Hann,
            center: true,
            pad_mode: PadMode::Constant,
            precision: Precision::F64,
            spectrum: Spectrum::Power,
            n_mels: 64,
            fmin: 0.0,
            fmax: None,
            mel_scale: MelScale::Slaney,
            mel_norm: MelNorm::Slaney,
            db_ref: DbRef::Value(1.0),
            amin: 1e-10,
            top_db: Some(80.0),
            n_mfcc: 40,
            lifter: 0.0,
            deltas: 0,
            delta_width: 9,
            cmvn: false,
        }
    }
}

impl FeatureConfig {
    /// The default log-mel configuration.
    pub fn logmel() -> Self {
        Self::default()
    }

    /// The default configuration with `kind = Mfcc`.
    pub fn mfcc() -> Self {
        FeatureConfig {
            kind: FeatureKind::Mfcc,
            ..Self::default()
        }
    }

    /// The default configuration with `kind = Stft` (power spectrogram).
    pub fn stft() -> Self {
        FeatureConfig {
            kind: FeatureKind::Stft,
            ..Self::default()
        }
    }

    /// Number of FFT bins, `1 + n_fft / 2`.
    pub fn n_freqs(&self) -> usize {
        1 + self.n_fft / 2
    }

    /// `fmax`, or `sample_rate / 2` when unset.
    pub fn fmax_or_nyquist(&self) -> f32 {
        self.fmax.unwrap_or(self.sample_rate as f32 / 2.0)
    }

    /// Rows of one feature matrix before deltas (`1 + n_fft/2`, `n_mels` or `n_mfcc`).
    pub fn base_bins(&self) -> usize {
        match self.kind {
            FeatureKind::Stft => self.n_freqs(),
            FeatureKind::LogMel => self.n_mels,
            FeatureKind::Mfcc => self.n_mfcc,
        }
    }

    /// Rows of the output, `base_bins * (1 + deltas)`.
    pub fn output_bins(&self) -> usize {
        self.base_bins() * (1 + self.deltas as usize)
    }

    /// Number of frames for `len` samples (librosa's count; 0 if `len` is too short when
    /// `center` is false).
    pub fn n_frames(&self, len: usize) -> usize {
        crate::window::frame_count(len, self.n_fft, self.hop_length, self.center)
    }

    /// Check every field; the same checks run in [`crate::FeatureExtractor::new`].
    pub fn validate(&self) -> Result<()> {
        if self.sample_rate == 0 {
            return Err(FeatureError::param("sample_rate", 0, "must be > 0 Hz"));
        }
        if self.n_fft == 0 {
            return Err(FeatureError::param(
                "n_fft",
                0,
                "must be > 0 (typical: 512 at 16 kHz)",
            ));
        }
        // 2^24 samples is minutes of audio per frame: surely a unit mistake.
        if self.n_fft > 1 << 24 {
            return Err(FeatureError::param(
                "n_fft",
                self.n_fft,
                "is absurdly large (max 2^24)",
            ));
        }
        if self.win_length == 0 || self.win_length > self.n_fft {
            return Err(FeatureError::param(
                "win_length",
                self.win_length,
                format!("must be in 1..=n_fft ({})", self.n_fft),
            ));
        }
        if self.hop_length == 0 {
            return Err(FeatureError::param(
                "hop_length",
                0,
                "must be > 0 (typical: 160 = 10 ms at 16 kHz)",
            ));
        }
        if matches!(self.kind, FeatureKind::Stft) {
            // The filterbank and dB settings are unused; do not reject a valid STFT config for them.
        } else {
            self.validate_mel()?;
            self.validate_db()?;
        }
        if matches!(self.kind, FeatureKind::Mfcc) {
            if self.n_mfcc == 0 || self.n_mfcc > self.n_mels {
                return Err(FeatureError::param(
                    "n_mfcc",
                    self.n_mfcc,
                    format!("must be in 1..=n_mels ({})", self.n_mels),
                ));
            }
            if !self.lifter.is_finite() || self.lifter < 0.0 {
                return Err(FeatureError::param(
                    "lifter",
                    self.lifter,
                    "must be finite and >= 0 (0 = no liftering)",
                ));
            }
        }
        if self.deltas > 2 {
            return Err(FeatureError::param(
                "deltas",
                self.deltas,
                "must be 0, 1 or 2",
            ));
        }
        if self.deltas > 0 && (self.delta_width < 3 || self.delta_width.is_multiple_of(2)) {
            return Err(FeatureError::param(
                "delta_width",
                self.delta_width,
                "must be odd and >= 3 (librosa default 9)",
            ));
        }
        Ok(())
    }

    fn validate_mel(&self) -> Result<()> {
        let nyquist = self.sample_rate as f32 / 2.0;
        if self.n_mels == 0 {
            return Err(FeatureError::param("n_mels", 0, "must be > 0"));
        }
        if self.n_mels > self.n_freqs() {
            return Err(FeatureError::param(
                "n_mels",
                self.n_mels,
                format!(
                    "exceeds the {} FFT bins of n_fft = {}: use fewer mels or a larger n_fft",
                    self.n_freqs(),
                    self.n_fft
                ),
            ));
        }
        if !self.fmin.is_finite() || self.fmin < 0.0 {
            return Err(FeatureError::param(
                "fmin",
                self.fmin,
                "must be finite and >= 0 Hz",
            ));
        }
        let fmax = self.fmax_or_nyquist();
        if !fmax.is_finite() || fmax > nyquist {
            return Err(FeatureError::param(
                "fmax",
                fmax,
                format!("must be <= sample_rate / 2 = {nyquist} Hz (or unset)"),
            ));
        }
        if fmax <= self.fmin {
            return Err(FeatureError::param(
                "fmax",
                fmax,
                format!("must be greater than fmin ({} Hz)", self.fmin),
            ));
        }
        Ok(())
    }

    fn validate_db(&self) -> Result<()> {
        if !(self.amin.is_finite() && self.amin > 0.0) {
            return Err(FeatureError::param(
                "amin",
                self.amin,
                "must be finite and > 0 (librosa: 1e-10)",
            ));
        }
        if let DbRef::Value(r) = self.db_ref
            && !(r.is_finite() && r > 0.0)
        {
            return Err(FeatureError::param(
                "db_ref",
                r,
                "a fixed reference must be finite and > 0 (librosa: 1.0)",
            ));
        }
        if let Some(t) = self.top_db
            && !(t.is_finite() && t >= 0.0)
        {
            return Err(FeatureError::param(
                "top_db",
                t,
                "must be finite and >= 0 dB (or unset)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_matches_the_brief() {
        let c = FeatureConfig::default();
        c.validate().unwrap();
        assert_eq!(c.kind, FeatureKind::LogMel);
        assert_eq!(
            (c.sample_rate, c.n_fft, c.win_length, c.hop_length, c.n_mels),
            (16000, 512, 400, 160, 64)
        );
        assert_eq!(c.output_bins(), 64);
        assert_eq!(FeatureConfig::mfcc().output_bins(), 40);
        assert_eq!(FeatureConfig::stft().output_bins(), 257);
    }

    #[test]
    fn frame_counts_follow_librosa() {
        let c = FeatureConfig::default();
        assert_eq!(c.n_frames(16000), 101);
        assert_eq!(c.n_frames(1), 1);
        let nc = FeatureConfig { center: false, ..c };
        assert_eq!(nc.n_frames(16000), 1 + (16000 - 512) / 160);
        assert_eq!(nc.n_frames(511), 0);
    }

    #[test]
    fn serde_round_trip_and_partial_json() {
        let c = FeatureConfig {
            db_ref: DbRef::Max,
            top_db: None,
            ..FeatureConfig::mfcc()
        };
        let s = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<FeatureConfig>(&s).unwrap(), c);
        let partial: FeatureConfig = serde_json::from_str(r#"{"kind":"mfcc","sr":22050}"#).unwrap();
        assert_eq!(partial.sample_rate, 22050);
        assert_eq!(partial.n_mels, 64);
    }

    #[test]
    fn absurd_parameters_are_typed_errors() {
        let base = FeatureConfig::default();
        let cases: Vec<(&str, FeatureConfig)> = vec![
            (
                "n_fft",
                FeatureConfig {
                    n_fft: 0,
                    ..base.clone()
                },
            ),
            (
                "hop_length",
                FeatureConfig {
                    hop_length: 0,
                    ..base.clone()
                },
            ),
            (
                "win_length",
                FeatureConfig {
                    win_length: 513,
                    ..base.clone()
                },
            ),
            (
                "win_length",
                FeatureConfig {
                    win_length: 0,
                    ..base.clone()
                },
            ),
            (
                "n_mels",
                FeatureConfig {
                    n_mels: 258,
                    ..base.clone()
                },
            ),
            (
                "n_mels",
                FeatureConfig {
                    n_mels: 0,
                    ..base.clone()
                },
            ),
            (
                "fmax",
                FeatureConfig {
                    fmax: Some(8001.0),
                    ..base.clone()
                },
            ),
            (
                "fmax",
                FeatureConfig {
                    fmin: 500.0,
                    fmax: Some(400.0),
                    ..base.clone()
                },
            ),
            (
                "fmin",
                FeatureConfig {
                    fmin: -1.0,
                    ..base.clone()
                },
            ),
            (
                "sample_rate",
                FeatureConfig {
                    sample_rate: 0,
                    ..base.clone()
                },
            ),
            (
                "amin",
                FeatureConfig {
                    amin: 0.0,
                    ..base.clone()
                },
            ),
            (
                "top_db",
                FeatureConfig {
                    top_db: Some(-1.0),
                    ..base.clone()
                },
            ),
            (
                "db_ref",
                FeatureConfig {
                    db_ref: DbRef::Value(0.0),
                    ..base.clone()
                },
            ),
            (
                "n_mfcc",
                FeatureConfig {
                    n_mfcc: 65,
                    ..FeatureConfig::mfcc()
                },
            ),
            (
                "deltas",
                FeatureConfig {
                    deltas: 3,
                    ..base.clone()
                },
            ),
            (
                "delta_width",
                FeatureConfig {
                    deltas: 1,
                    delta_width: 4,
                    ..base.clone()
                },
            ),
        ];
        for (field, cfg) in cases {
            match cfg.validate() {
                Err(FeatureError::InvalidParameter { name, .. }) => assert_eq!(name, field),
                other => panic!("{field}: expected InvalidParameter, got {other:?}"),
            }
        }
    }
}
