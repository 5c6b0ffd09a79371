//! [`FeatureExtractor`]: plan once (window, FFT, filterbank, DCT, delta filters), extract many.

use ndarray::{Array2, Axis, Slice};
use rayon::prelude::*;

use crate::config::{DbRef, FeatureConfig, Spectrum};
use crate::db::power_to_db;
use crate::dct::Dct;
use crate::delta::DeltaPlan;
use crate::error::{FeatureError, Result};
use crate::mel::{MelFilterbank, MelParams};
use crate::norm::cmvn;
use crate::stft::{StftPlan, StftScratch};
use crate::tensor::{FeatureKind, FeatureMatrix, FeatureMeta};

/// A planned feature extractor. Build it once per configuration and reuse it: every call only
/// allocates its output and a few KB of scratch. It is `Send + Sync`, so one extractor can
/// serve many threads (see [`FeatureExtractor::extract_many`]).
///
/// # Pipeline
/// 1. STFT ([`StftPlan`]): periodic window centred in `n_fft`, centred frames (padding per
///    `pad_mode`) unless `center` is false, `|X|^2` (or `|X|` for [`FeatureKind::Stft`] with
///    [`Spectrum::Magnitude`]).
/// 2. Log-mel: mel filterbank on the power spectrogram, then `power_to_db`.
/// 3. MFCC: orthonormal DCT-II of each log-mel frame, first `n_mfcc`, liftering.
/// 4. Deltas (optional) are stacked below: `[base; delta; delta-delta]`.
/// 5. Per-utterance CMVN (optional).
///
/// Output is `[bins, frames]`.
#[derive(Debug, Clone)]
pub struct FeatureExtractor {
    config: FeatureConfig,
    stft: StftPlan,
    mel: Option<MelFilterbank>,
    dct: Option<Dct>,
    deltas: Vec<DeltaPlan>,
}

/// Reusable per-thread buffers for [`FeatureExtractor::extract_with_scratch`].
#[derive(Debug, Clone)]
pub struct ExtractorScratch {
    stft: StftScratch,
    power: Vec<f32>,
    /// Frames that overlap the padding are assembled here.
    edge: Vec<f32>,
}

impl FeatureExtractor {
    /// Validate `config` and plan everything. Errors name the bad field.
    pub fn new(config: FeatureConfig) -> Result<Self> {
        config.validate()?;
        let stft = StftPlan::new(
            config.n_fft,
            config.win_length,
            config.hop_length,
            config.window,
            config.center,
            config.pad_mode,
            config.precision,
        );
        let mel = match config.kind {
            FeatureKind::Stft => None,
            FeatureKind::LogMel | FeatureKind::Mfcc => {
                let fb = MelFilterbank::new(&MelParams {
                    sample_rate: config.sample_rate as f64,
                    n_fft: config.n_fft,
                    n_mels: config.n_mels,
                    fmin: config.fmin as f64,
                    fmax: config.fmax_or_nyquist() as f64,
                    scale: config.mel_scale,
                    norm: config.mel_norm,
                });
                let empty = fb.empty_bands();
                if !empty.is_empty() {
                    // librosa only warns ("Empty filters detected"); a band that is always at the
                    // dB floor is useless for a model, so refuse it.
                    return Err(FeatureError::param(
                        "n_mels",
                        config.n_mels,
                        format!(
                            "mel bands {empty:?} contain no FFT bin (n_fft = {} is too small for this many mels between fmin and fmax): use fewer mels or a larger n_fft",
                            config.n_fft
                        ),
                    ));
                }
                Some(fb)
            }
        };
        let dct = matches!(config.kind, FeatureKind::Mfcc)
            .then(|| Dct::new(config.n_mels, config.n_mfcc, config.lifter));
        let deltas = (1..=config.deltas as usize)
            .map(|order| DeltaPlan::new(config.delta_width, order))
            .collect::<Result<Vec<_>>>()?;
        Ok(FeatureExtractor {
            config,
            stft,
            mel,
            dct,
            deltas,
        })
    }

    /// The configuration this extractor was planned for.
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// The planned STFT.
    pub fn stft_plan(&self) -> &StftPlan {
        &self.stft
    }

    /// The mel filterbank (`None` for [`FeatureKind::Stft`]).
    pub fn mel_filterbank(&self) -> Option<&MelFilterbank> {
        self.mel.as_ref()
    }

    /// Rows of every output matrix.
    pub fn output_bins(&self) -> usize {
        self.config.output_bins()
    }

    /// Frames produced for `len` samples.
    pub fn n_frames(&self, len: usize) -> usize {
        self.stft.n_frames(len)
    }

    /// Metadata attached to every output.
    pub fn meta(&self) -> FeatureMeta {
        FeatureMeta {
            kind: self.config.kind,
            sample_rate: self.config.sample_rate,
            n_fft: self.config.n_fft,
            hop_length: self.config.hop_length,
        }
    }

    /// Fresh buffers for [`FeatureExtractor::extract_with_scratch`].
    pub fn scratch(&self) -> ExtractorScratch {
        ExtractorScratch {
            stft: self.stft.scratch(),
            // Room for the mel filterbank's fast path (spare zeros after the last bin).
            power: match &self.mel {
                Some(fb) => fb.power_buffer(),
                None => vec![0.0; self.stft.n_freqs()],
            },
            edge: Vec::with_capacity(self.config.n_fft),
        }
    }

    /// Extract features of one mono clip sampled at `config.sample_rate`.
    ///
    /// Errors: [`FeatureError::EmptyInput`], [`FeatureError::NonFiniteSample`],
    /// [`FeatureError::InputTooShort`] (only when `center` is false and `len < n_fft`),
    /// [`FeatureError::TooFewFramesForDeltas`] (deltas need `delta_width` frames).
    pub fn extract(&self, samples: &[f32]) -> Result<FeatureMatrix> {
        self.extract_with_scratch(samples, &mut self.scratch())
    }

    /// [`FeatureExtractor::extract`] reusing caller-owned buffers.
    pub fn extract_with_scratch(
        &self,
        samples: &[f32],
        scratch: &mut ExtractorScratch,
    ) -> Result<FeatureMatrix> {
        let n_frames = self.stft.check(samples)?;
        let bins = self.spectral_bins();
        let mut spectral = vec![0.0f32; n_frames * bins];
        let mut edge = std::mem::take(&mut scratch.edge);
        for (t, out) in spectral.chunks_exact_mut(bins).enumerate() {
            let frame = self.stft.frame(samples, t, &mut edge);
            self.spectral_frame(frame, scratch, out)?;
        }
        scratch.edge = edge;
        self.finish(spectral, n_frames)
    }

    /// Extract many clips in parallel (rayon; `RAYON_NUM_THREADS` sets the thread count).
    /// One result per clip, in order; a bad clip does not stop the others.
    pub fn extract_many(&self, clips: &[&[f32]]) -> Vec<Result<FeatureMatrix>> {
        clips
            .par_iter()
            .map_init(
                || self.scratch(),
                |scratch, clip| self.extract_with_scratch(clip, scratch),
            )
            .collect()
    }

    /// Rows of the frame-local spectral stage: `1 + n_fft/2` for STFT, `n_mels` otherwise.
    pub(crate) fn spectral_bins(&self) -> usize {
        match &self.mel {
            Some(fb) => fb.n_mels(),
            None => self.stft.n_freqs(),
        }
    }

    /// One frame (`n_fft` padded samples) to its spectral row: STFT power/magnitude, or mel power.
    #[inline]
    pub(crate) fn spectral_frame(
        &self,
        frame: &[f32],
        scratch: &mut ExtractorScratch,
        out: &mut [f32],
    ) -> Result<()> {
        match &self.mel {
            Some(fb) => {
                self.stft
                    .power_frame(frame, &mut scratch.stft, &mut scratch.power)?;
                fb.apply(&scratch.power, out);
                Ok(())
            }
            None => match self.config.spectrum {
                Spectrum::Power => self.stft.power_frame(frame, &mut scratch.stft, out),
                Spectrum::Magnitude => self.stft.magnitude_frame(frame, &mut scratch.stft, out),
            },
        }
    }

    /// Frame-local features (dB with a fixed reference, no `top_db`; DCT for MFCC) of
    /// frames-major spectral rows; used by the streaming extractor.
    pub(crate) fn frame_local(&self, mut spectral: Vec<f32>) -> Vec<f32> {
        if self.mel.is_none() {
            return spectral;
        }
        let r = match self.config.db_ref {
            DbRef::Value(v) => DbRef::Value(v),
            DbRef::Max => DbRef::Value(1.0),
        };
        power_to_db(&mut spectral, r, self.config.amin, None);
        self.apply_dct(spectral)
    }

    fn apply_dct(&self, logmel: Vec<f32>) -> Vec<f32> {
        match &self.dct {
            None => logmel,
            Some(dct) => {
                let n_in = self.config.n_mels;
                let mut out = vec![0.0; logmel.len() / n_in * dct.n_out()];
                for (frame, o) in logmel
                    .chunks_exact(n_in)
                    .zip(out.chunks_exact_mut(dct.n_out()))
                {
                    dct.apply(frame, o);
                }
                out
            }
        }
    }

    /// Utterance-level steps on frames-major spectral rows: dB (with `ref` and `top_db` over the
    /// whole utterance), DCT, transpose to `[bins, frames]`, deltas, CMVN.
    pub(crate) fn finish(&self, mut spectral: Vec<f32>, n_frames: usize) -> Result<FeatureMatrix> {
        if self.mel.is_some() {
            power_to_db(
                &mut spectral,
                self.config.db_ref,
                self.config.amin,
                self.config.top_db,
            );
        }
        let rows = self.apply_dct(spectral);
        let bins = self.config.base_bins();
        // frames-major -> [bins, frames]
        let base = Array2::from_shape_fn((bins, n_frames), |(b, t)| rows[t * bins + b]);
        let data = if self.deltas.is_empty() {
            base
        } else {
            let mut all = Array2::<f32>::zeros((bins * (1 + self.deltas.len()), n_frames));
            all.slice_axis_mut(Axis(0), Slice::from(0..bins))
                .assign(&base);
            for (i, plan) in self.deltas.iter().enumerate() {
                let d = plan.apply(base.view())?;
                all.slice_axis_mut(Axis(0), Slice::from(bins * (i + 1)..bins * (i + 2)))
                    .assign(&d);
            }
            all
        };
        let mut m = FeatureMatrix {
            data,
            meta: self.meta(),
        };
        if self.config.cmvn {
            cmvn(&mut m);
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(n: usize) -> Vec<f32> {
        (0..n).map(|i| (i as f32 * 0.05).sin() * 0.5).collect()
    }

    #[test]
    fn extractor_is_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<FeatureExtractor>();
    }

    #[test]
    fn shapes_for_every_kind() {
        let y = tone(16000);
        for (cfg, bins) in [
            (FeatureConfig::logmel(), 64),
            (FeatureConfig::mfcc(), 40),
            (FeatureConfig::stft(), 257),
            (
                FeatureConfig {
                    deltas: 2,
                    ..FeatureConfig::mfcc()
                },
                120,
            ),
            (
                FeatureConfig {
                    deltas: 1,
                    cmvn: true,
                    ..FeatureConfig::logmel()
                },
                128,
            ),
        ] {
            let m = FeatureExtractor::new(cfg).unwrap().extract(&y).unwrap();
            assert_eq!(m.data.dim(), (bins, 101));
            assert!(m.data.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let ex = FeatureExtractor::new(FeatureConfig::default()).unwrap();
        assert!(matches!(ex.extract(&[]), Err(FeatureError::EmptyInput)));
        assert!(matches!(
            ex.extract(&[0.0, f32::NAN]),
            Err(FeatureError::NonFiniteSample { index: 1, .. })
        ));
        // Shorter than a window but centred: padded like librosa, one frame.
        assert_eq!(ex.extract(&[0.1; 10]).unwrap().frames(), 1);
        let nc = FeatureExtractor::new(FeatureConfig {
            center: false,
            ..FeatureConfig::default()
        })
        .unwrap();
        assert!(matches!(
            nc.extract(&[0.1; 100]),
            Err(FeatureError::InputTooShort {
                len: 100,
                min: 512,
                ..
            })
        ));
        let d = FeatureExtractor::new(FeatureConfig {
            deltas: 1,
            ..FeatureConfig::mfcc()
        })
        .unwrap();
        assert!(matches!(
            d.extract(&[0.1; 800]),
            Err(FeatureError::TooFewFramesForDeltas {
                frames: 6,
                width: 9
            })
        ));
        // Silence is legal: every band sits at the amin floor (-100 dB with ref = 1).
        let s = ex.extract(&[0.0; 1600]).unwrap();
        assert!(s.data.iter().all(|&v| (v + 100.0).abs() < 1e-4));
    }

    #[test]
    fn empty_mel_bands_are_refused() {
        // 200 mels in 257 bins: the narrow low bands fall between FFT bins.
        let r = FeatureExtractor::new(FeatureConfig {
            n_mels: 200,
            ..FeatureConfig::default()
        });
        assert!(matches!(
            r,
            Err(FeatureError::InvalidParameter { name: "n_mels", .. })
        ));
    }

    #[test]
    fn extract_many_equals_extract() {
        let ex = FeatureExtractor::new(FeatureConfig::mfcc()).unwrap();
        let clips: Vec<Vec<f32>> = (1..6).map(|k| tone(3000 * k)).collect();
        let refs: Vec<&[f32]> = clips
            .iter()
            .map(|c| c.as_slice())
            .chain([&[][..]])
            .collect();
        let many = ex.extract_many(&refs);
        for (clip, r) in clips.iter().zip(&many) {
            assert_eq!(r.as_ref().unwrap(), &ex.extract(clip).unwrap());
        }
        assert!(matches!(many.last(), Some(Err(FeatureError::EmptyInput))));
    }
}
