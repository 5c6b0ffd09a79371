//! Frame-by-frame (real-time) extraction that reproduces the batch extractor exactly.

use crate::config::PadMode;
use crate::error::{FeatureError, Result};
use crate::extractor::{ExtractorScratch, FeatureExtractor};
use crate::stft::check_samples;
use crate::tensor::FeatureMatrix;
use crate::window::reflect_index;

use ndarray::Array2;

/// Streaming extractor: feed audio in chunks of any size with [`StreamingExtractor::push`] and
/// get each frame as soon as all its samples have arrived; [`StreamingExtractor::finish`] then
/// returns the whole utterance, **identical** to [`FeatureExtractor::extract`] on the
/// concatenated input.
///
/// # What `push` returns
/// Frame-local features `[base_bins, new_frames]`: the STFT, or the log-mel / MFCC with the dB
/// reference applied (`ref = 1.0` when the config says [`crate::DbRef::Max`]) but **without** the
/// utterance-level steps that need the future: `top_db` clipping, `ref = max`, deltas and CMVN.
/// With `top_db = None`, a fixed reference, no deltas and no CMVN, the pushed frames equal the
/// batch output exactly. The last `n_fft / (2 hop)` or so frames (which include the end
/// padding) only appear in `finish`.
#[derive(Debug, Clone)]
pub struct StreamingExtractor {
    ex: FeatureExtractor,
    scratch: ExtractorScratch,
    /// Raw samples kept before the left (reflect) padding can be built.
    pending: Vec<f32>,
    started: bool,
    /// Padded-domain samples from `buf_offset` on.
    buf: Vec<f32>,
    buf_offset: usize,
    total_in: usize,
    next_frame: usize,
    /// Spectral rows (frames-major) of every frame so far, for `finish`.
    spectral: Vec<f32>,
}

impl StreamingExtractor {
    /// Stream with the plan of `extractor` (cloned; cheap).
    pub fn new(extractor: &FeatureExtractor) -> Self {
        StreamingExtractor {
            ex: extractor.clone(),
            scratch: extractor.scratch(),
            pending: Vec::new(),
            started: false,
            buf: Vec::new(),
            buf_offset: 0,
            total_in: 0,
            next_frame: 0,
            spectral: Vec::new(),
        }
    }

    /// Frames emitted so far.
    pub fn frames_emitted(&self) -> usize {
        self.next_frame
    }

    fn pad(&self) -> usize {
        self.ex.stft_plan().center_pad()
    }

    /// Add samples; returns the frame-local features of the frames completed by them.
    /// A chunk with a NaN/inf sample is rejected whole (nothing of it is kept).
    pub fn push(&mut self, samples: &[f32]) -> Result<FeatureMatrix> {
        if !samples.is_empty() {
            check_samples(samples)?;
        }
        self.total_in += samples.len();
        let first_new = self.next_frame;
        if self.started {
            self.buf.extend_from_slice(samples);
        } else {
            self.pending.extend_from_slice(samples);
            self.try_start();
        }
        if self.started {
            // Frames entirely inside the left padding + samples so far.
            let available = self.pad() + self.total_in;
            self.emit_until(available, usize::MAX)?;
        }
        Ok(self.frames_since(first_new))
    }

    fn try_start(&mut self) {
        let pad = self.pad();
        let cfg = self.ex.config();
        // Reflect padding of the start needs samples 1..=pad; zero padding needs nothing.
        let ready = !cfg.center || cfg.pad_mode == PadMode::Constant || self.pending.len() > pad;
        if !ready {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        self.buf.clear();
        if cfg.center {
            match cfg.pad_mode {
                PadMode::Constant => self.buf.resize(pad, 0.0),
                PadMode::Reflect => self.buf.extend(
                    (0..pad)
                        .map(|k| pending[reflect_index(k as isize - pad as isize, pending.len())]),
                ),
            }
        }
        self.buf.extend_from_slice(&pending);
        self.started = true;
    }

    /// Emit frames whose last sample is before padded index `available` (at most `max_frames`
    /// in total), then drop samples no longer needed.
    fn emit_until(&mut self, available: usize, max_frames: usize) -> Result<()> {
        let (n_fft, hop) = (self.ex.config().n_fft, self.ex.config().hop_length);
        let bins = self.ex.spectral_bins();
        while self.next_frame < max_frames && self.next_frame * hop + n_fft <= available {
            let start = self.next_frame * hop - self.buf_offset;
            let old = self.spectral.len();
            self.spectral.resize(old + bins, 0.0);
            self.ex.spectral_frame(
                &self.buf[start..start + n_fft],
                &mut self.scratch,
                &mut self.spectral[old..],
            )?;
            self.next_frame += 1;
        }
        // Keep what the next frame needs, and the last pad + 1 real samples for the end reflection.
        let keep_from = (self.next_frame * hop)
            .min(available.saturating_sub(self.pad() + 1))
            .max(self.buf_offset);
        let drop = keep_from - self.buf_offset;
        if drop > 0 {
            self.buf.drain(..drop);
            self.buf_offset = keep_from;
        }
        Ok(())
    }

    fn frames_since(&self, first: usize) -> FeatureMatrix {
        let bins = self.ex.spectral_bins();
        let rows = self.ex.frame_local(self.spectral[first * bins..].to_vec());
        let out_bins = self.ex.config().base_bins();
        let n = self.next_frame - first;
        let data = Array2::from_shape_fn((out_bins, n), |(b, t)| rows[t * out_bins + b]);
        FeatureMatrix {
            data,
            meta: self.ex.meta(),
        }
    }

    /// End of input: pad the end, emit the remaining frames and return the whole utterance with
    /// every utterance-level step applied (equal to the batch extractor's output).
    pub fn finish(mut self) -> Result<FeatureMatrix> {
        if !self.started {
            // Too short to have started (reflect padding): the batch path handles it.
            return self.ex.extract(&self.pending);
        }
        if self.total_in == 0 {
            return Err(FeatureError::EmptyInput);
        }
        let cfg = self.ex.config().clone();
        let n_frames = self.ex.n_frames(self.total_in);
        if n_frames == 0 {
            return Err(FeatureError::InputTooShort {
                len: self.total_in,
                min: cfg.n_fft,
                reason: "center = false needs at least n_fft samples",
            });
        }
        if cfg.center {
            let pad = self.pad();
            let len = self.total_in;
            match cfg.pad_mode {
                PadMode::Constant => self.buf.resize(self.buf.len() + pad, 0.0),
                PadMode::Reflect => {
                    for k in 0..pad {
                        let idx = pad + reflect_index((len + k) as isize, len) - self.buf_offset;
                        let v = self.buf[idx];
                        self.buf.push(v);
                    }
                }
            }
        }
        let available = self.buf_offset + self.buf.len();
        self.emit_until(available, n_frames)?;
        let spectral = std::mem::take(&mut self.spectral);
        self.ex.finish(spectral, n_frames)
    }
}

impl FeatureExtractor {
    /// A [`StreamingExtractor`] with this plan.
    pub fn streaming(&self) -> StreamingExtractor {
        StreamingExtractor::new(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DbRef, FeatureConfig};
    use crate::tensor::FeatureKind;

    fn signal(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i as f32 * 0.031).sin() + (i as f32 * 0.0071).cos() * 0.3) * 0.4)
            .collect()
    }

    fn stream(
        ex: &FeatureExtractor,
        y: &[f32],
        chunk: usize,
    ) -> (Vec<FeatureMatrix>, FeatureMatrix) {
        let mut s = ex.streaming();
        let pushed = y.chunks(chunk).map(|c| s.push(c).unwrap()).collect();
        (pushed, s.finish().unwrap())
    }

    #[test]
    fn finish_equals_batch_for_every_config() {
        let y = signal(7001);
        let configs = [
            FeatureConfig::default(),
            FeatureConfig {
                pad_mode: PadMode::Reflect,
                ..FeatureConfig::mfcc()
            },
            FeatureConfig {
                center: false,
                deltas: 2,
                ..FeatureConfig::mfcc()
            },
            FeatureConfig {
                kind: FeatureKind::Stft,
                n_fft: 1024,
                win_length: 1024,
                hop_length: 256,
                ..FeatureConfig::default()
            },
            FeatureConfig {
                db_ref: DbRef::Max,
                cmvn: true,
                deltas: 1,
                ..FeatureConfig::default()
            },
        ];
        for cfg in configs {
            let ex = FeatureExtractor::new(cfg.clone()).unwrap();
            let batch = ex.extract(&y).unwrap();
            for chunk in [1, 37, 160, 1000, 10_000] {
                let (_, full) = stream(&ex, &y, chunk);
                assert_eq!(full, batch, "{cfg:?} chunk {chunk}");
            }
        }
    }

    #[test]
    fn pushed_frames_equal_batch_when_frame_local() {
        let y = signal(5000);
        for pad_mode in [PadMode::Constant, PadMode::Reflect] {
            let cfg = FeatureConfig {
                top_db: None,
                pad_mode,
                ..FeatureConfig::mfcc()
            };
            let ex = FeatureExtractor::new(cfg).unwrap();
            let batch = ex.extract(&y).unwrap();
            let (pushed, _) = stream(&ex, &y, 123);
            let mut t = 0;
            for m in pushed {
                for col in m.data.columns() {
                    assert_eq!(col, batch.data.column(t), "frame {t}");
                    t += 1;
                }
            }
            assert!(
                t >= batch.frames() - 2,
                "only the end-padded frames wait for finish: {t}"
            );
        }
    }

    #[test]
    fn stream_errors() {
        let ex = FeatureExtractor::new(FeatureConfig::default()).unwrap();
        assert!(matches!(
            ex.streaming().finish(),
            Err(FeatureError::EmptyInput)
        ));
        let mut s = ex.streaming();
        assert!(matches!(
            s.push(&[0.0, f32::INFINITY]),
            Err(FeatureError::NonFiniteSample { .. })
        ));
        // Short reflect-padded input that never started still matches the batch path.
        let r = FeatureExtractor::new(FeatureConfig {
            pad_mode: PadMode::Reflect,
            ..FeatureConfig::default()
        })
        .unwrap();
        let mut s = r.streaming();
        s.push(&[0.1, 0.2, -0.3]).unwrap();
        assert_eq!(s.finish().unwrap(), r.extract(&[0.1, 0.2, -0.3]).unwrap());
        let nc = FeatureExtractor::new(FeatureConfig {
            center: false,
            ..FeatureConfig::default()
        })
        .unwrap();
        let mut s = nc.streaming();
        s.push(&[0.1; 100]).unwrap();
        assert!(matches!(
            s.finish(),
            Err(FeatureError::InputTooShort { .. })
        ));
    }
}
