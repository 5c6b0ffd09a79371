//! librosa-compatible STFT, log-mel and MFCC features, YIN pitch and utterance functionals, and
//! the feature tensor types shared by the whole workspace.
//!
//! - Frame-level features: [`FeatureExtractor`] (STFT, log-mel, MFCC, deltas) → [`FeatureMatrix`].
//! - Pitch: [`yin`] / [`YinPlan`] (`librosa.yin`, plus each frame's aperiodicity), see [`pitch`].
//! - Utterance functionals: [`FunctionalsExtractor`] → 112 values named by [`functional_names`]
//!   (prosody, energy, spectral shape, MFCC statistics), see [`functionals`].
//!
//! ```
//! use dsp_features::{FeatureConfig, FeatureExtractor, FeatureKind};
//!
//! // One second of a 440 Hz tone at 16 kHz.
//! let y: Vec<f32> = (0..16_000).map(|i| (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16_000.0).sin()).collect();
//! let extractor = FeatureExtractor::new(FeatureConfig::default())?; // 64-band log-mel
//! let logmel = extractor.extract(&y)?;
//! assert_eq!(logmel.data.dim(), (64, 101)); // [bins, frames]: 1 + 16000 / 160 frames
//!
//! let mfcc = FeatureExtractor::new(FeatureConfig { kind: FeatureKind::Mfcc, deltas: 2, ..Default::default() })?;
//! assert_eq!(mfcc.extract(&y)?.bins(), 120); // 40 MFCCs, 40 deltas, 40 delta-deltas
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Conventions (all as librosa 0.11 with the arguments named in [`FeatureConfig`])
//! - **Axis order**: every matrix is `[bins, frames]`; batches are `[batch, bins, max_frames]`.
//! - **Frames**: with `center = true` (default) frame `t` is centred on sample `t * hop_length`
//!   of the signal padded by `n_fft / 2` zeros ([`PadMode::Constant`], librosa >= 0.10's
//!   default) or mirrored samples ([`PadMode::Reflect`]); there are `1 + len / hop_length`
//!   frames (for even `n_fft`). With `center = false`, frame `t` starts at `t * hop_length` and
//!   there are `1 + (len - n_fft) / hop_length`.
//! - **Window**: periodic Hann or Hamming of `win_length` samples, zero-padded and centred in
//!   `n_fft` (`util.pad_center`).
//! - **Power vs magnitude**: the STFT output is `|X|^2` by default ([`Spectrum::Power`]) or `|X|`;
//!   the FFT is unnormalised. Mel spectrograms always use the power spectrogram (`power=2.0`).
//! - **Mel**: [`MelScale::Slaney`] (default, `htk=False`: linear below 1 kHz, log above) or
//!   [`MelScale::Htk`]; filters normalised by area ([`MelNorm::Slaney`], default) or peak 1.
//! - **dB**: `10 log10(max(amin, S)) - 10 log10(max(amin, ref))`, then values more than
//!   `top_db` below the utterance's maximum are clipped to it. Default `ref = 1.0` (0 dB =
//!   power 1, i.e. a full-scale value in one bin), `amin = 1e-10`, `top_db = 80`.
//! - **MFCC**: orthonormal DCT-II of the log-mel frame (`scipy.fftpack.dct(norm='ortho')`),
//!   first `n_mfcc` rows, optional liftering.
//! - **Deltas**: `librosa.feature.delta` (Savitzky-Golay, width 9, `mode='interp'`), stacked
//!   below the base rows.
//!
//! # Precision
//! Filterbank, window, DCT and delta coefficients are built in f64 and stored in f32; the
//! per-frame work (FFT, mel sums, log) is f32. The parity tests (`tests/parity.rs`) show the
//! resulting error against librosa is far inside the tolerances.
#![warn(missing_docs)]

mod config;
mod db;
mod dct;
mod delta;
mod error;
mod extractor;
pub mod functionals;
mod mel;
mod norm;
pub mod npy;
pub mod pitch;
mod stats;
mod stft;
mod stream;
mod tensor;
mod time_domain;
mod window;

pub use config::{
    DbRef, FeatureConfig, MelNorm, MelScale, PadMode, Precision, Spectrum, WindowKind,
};
pub use db::power_to_db;
pub use dct::Dct;
pub use delta::DeltaPlan;
pub use error::{FeatureError, Result};
pub use extractor::{ExtractorScratch, FeatureExtractor};
pub use functionals::{FUNCTIONALS_DIM, FunctionalsConfig, FunctionalsExtractor, functional_names};
pub use mel::{
    MEL_POWER_PADDING, MelFilter, MelFilterbank, MelParams, fft_frequencies, hz_to_mel,
    mel_frequencies, mel_to_hz,
};
pub use norm::{NormStats, STD_FLOOR, cmvn};
pub use pitch::{YinConfig, YinPlan, YinTrack, yin};
pub use stft::{StftPlan, StftScratch};
pub use stream::StreamingExtractor;
pub use tensor::{FeatureBatch, FeatureKind, FeatureMatrix, FeatureMeta};
pub use window::{frame_count, pad_signal, padded_window, padded_window_f64};
