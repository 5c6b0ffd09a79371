//! Command-line arguments (argument names follow librosa) and their mapping to `FeatureConfig`.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use dsp_features::{FeatureConfig, FeatureKind, MelScale, PadMode, Precision, WindowKind};

/// Extract librosa-compatible features from a WAV file (or every WAV under a folder) to .npy or
/// .csv, shaped [bins, frames] like librosa (np.load(FILE).shape == (n_mels, n_frames)).
///
/// Defaults: 64-band log-mel at 16 kHz, n_fft 512, 25 ms Hann window (400 samples), 10 ms hop
/// (160 samples), centred frames with zero padding, Slaney mel scale and area normalisation,
/// power_to_db(ref=1.0, amin=1e-10, top_db=80). Audio at another rate is resampled to --sr.
#[derive(Debug, Parser)]
#[command(name = "ser-features", version, about, long_about)]
pub struct Args {
    /// A .wav file, or a folder searched recursively for .wav files.
    pub input: PathBuf,

    /// Output file (for a file input) or folder (for a folder input; the tree is mirrored,
    /// one output per WAV, plus feature_config.json).
    #[arg(short, long)]
    pub out: PathBuf,

    /// What to compute: power spectrogram, log-mel (dB) or MFCC.
    #[arg(long, value_enum, default_value_t = Kind::Logmel)]
    pub kind: Kind,

    /// Sample rate in Hz the audio is resampled to before analysis.
    #[arg(long, default_value_t = 16_000)]
    pub sr: u32,

    /// FFT size in samples.
    #[arg(long, default_value_t = 512)]
    pub n_fft: usize,

    /// Window length in samples (<= n_fft; centred in the FFT frame).
    #[arg(long, default_value_t = 400)]
    pub win_length: usize,

    /// Hop between frames in samples.
    #[arg(long, default_value_t = 160)]
    pub hop_length: usize,

    /// Window shape (periodic).
    #[arg(long, value_enum, default_value_t = Window::Hann)]
    pub window: Window,

    /// Number of mel bands (logmel, mfcc).
    #[arg(long, default_value_t = 64)]
    pub n_mels: usize,

    /// Number of MFCCs (mfcc).
    #[arg(long, default_value_t = 40)]
    pub n_mfcc: usize,

    /// Append delta rows: 1 = deltas, 2 = deltas and delta-deltas (librosa.feature.delta, width 9).
    #[arg(long, default_value_t = 0)]
    pub deltas: u8,

    /// Lowest mel filter edge in Hz.
    #[arg(long, default_value_t = 0.0)]
    pub fmin: f32,

    /// Highest mel filter edge in Hz [default: sr / 2].
    #[arg(long)]
    pub fmax: Option<f32>,

    /// Use the HTK mel scale instead of Slaney's.
    #[arg(long)]
    pub htk: bool,

    /// Do not centre frames (frame t starts at t * hop_length; needs >= n_fft samples).
    #[arg(long)]
    pub no_center: bool,

    /// Padding for centred frames.
    #[arg(long, value_enum, default_value_t = Pad::Constant)]
    pub pad_mode: Pad,

    /// Clip log-mel values more than this many dB below the maximum; negative = no clipping.
    #[arg(long, default_value_t = 80.0, allow_negative_numbers = true)]
    pub top_db: f32,

    /// Use the f32 FFT (faster, up to ~1e-3 dB from librosa in bands far below a frame's peak).
    #[arg(long)]
    pub fast_fft: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Npy)]
    pub format: Format,

    /// Read the whole feature configuration from this JSON file (a dsp-features FeatureConfig,
    /// e.g. the feature_config.json written beside folder outputs or a model's feature config);
    /// the feature options above are then ignored.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// `--kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Power spectrogram, 1 + n_fft/2 rows.
    Stft,
    /// Log-mel spectrogram in dB, n_mels rows.
    Logmel,
    /// MFCC, n_mfcc rows.
    Mfcc,
}

/// `--window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Window {
    /// Hann.
    Hann,
    /// Hamming.
    Hamming,
}

/// `--pad-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Pad {
    /// Zeros (librosa >= 0.10 default).
    Constant,
    /// Mirror.
    Reflect,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// NumPy .npy, float32, shape (bins, frames).
    Npy,
    /// Comma-separated text, one line per bin, one column per frame.
    Csv,
}

impl Format {
    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Npy => "npy",
            Format::Csv => "csv",
        }
    }
}

impl Args {
    /// The feature configuration: from `--config` if given, else from the options (validated
    /// later by the extractor).
    pub fn feature_config(&self) -> anyhow::Result<FeatureConfig> {
        use anyhow::Context;
        if let Some(path) = &self.config {
            let bytes = std::fs::read(path)
                .with_context(|| format!("reading --config {}", path.display()))?;
            return serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "--config {} is not a valid feature configuration (JSON)",
                    path.display()
                )
            });
        }
        Ok(FeatureConfig {
            kind: match self.kind {
                Kind::Stft => FeatureKind::Stft,
                Kind::Logmel => FeatureKind::LogMel,
                Kind::Mfcc => FeatureKind::Mfcc,
            },
            sample_rate: self.sr,
            n_fft: self.n_fft,
            win_length: self.win_length,
            hop_length: self.hop_length,
            window: match self.window {
                Window::Hann => WindowKind::Hann,
                Window::Hamming => WindowKind::Hamming,
            },
            center: !self.no_center,
            pad_mode: match self.pad_mode {
                Pad::Constant => PadMode::Constant,
                Pad::Reflect => PadMode::Reflect,
            },
            precision: if self.fast_fft {
                Precision::F32
            } else {
                Precision::F64
            },
            n_mels: self.n_mels,
            fmin: self.fmin,
            fmax: self.fmax,
            mel_scale: if self.htk {
                MelScale::Htk
            } else {
                MelScale::Slaney
            },
            top_db: (self.top_db >= 0.0).then_some(self.top_db),
            n_mfcc: self.n_mfcc,
            deltas: self.deltas,
            ..FeatureConfig::default()
        })
    }
}
