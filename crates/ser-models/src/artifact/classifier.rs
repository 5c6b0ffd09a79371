//! [`Classifier`]: a loaded artifact that maps audio to class probabilities with exactly the
//! preprocessing the model was trained with.

use std::borrow::Cow;
use std::path::Path;

use burn::prelude::*;
use burn::tensor::activation::softmax;
use dsp_features::functionals::FunctionalsExtractor;
use dsp_features::{FeatureExtractor, FeatureMatrix, NormStats};
use rayon::prelude::*;
use ser_audio::{Audio, resample};

use super::head::{LinearHead, fuse};
use super::manifest::{Manifest, Member};
use crate::batch::InputBatch;
use crate::error::{ModelError, Result};
use crate::model::Model;

/// The most likely class and the full distribution.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Prediction {
    /// Name of the most likely class.
    pub label: String,
    /// Its index in [`Classifier::labels`].
    pub index: usize,
    /// Probabilities in label order (sum 1).
    pub probabilities: Vec<f32>,
}

impl Prediction {
    /// The prediction for `probabilities` (in `labels` order): the most probable label (the
    /// first of equals) with its index. For models other than [`Classifier`] (see
    /// [`crate::EmotionModel`]).
    ///
    /// # Errors
    ///
    /// [`ModelError::Invalid`] when the lengths differ, there are no labels, or a probability
    /// is not finite.
    pub fn from_probabilities(labels: &[String], probabilities: Vec<f32>) -> Result<Self> {
        let invalid = |reason: String| ModelError::Invalid {
            field: "probabilities".into(),
            reason,
        };
        if probabilities.len() != labels.len() || labels.is_empty() {
            return Err(invalid(format!(
                "{} probabilities for {} labels",
                probabilities.len(),
                labels.len()
            )));
        }
        if let Some(i) = probabilities.iter().position(|p| !p.is_finite()) {
            return Err(invalid(format!("probability {i} is not finite")));
        }
        // `max_by` keeps the last of equals; iterate in reverse to keep the first.
        let index = probabilities
            .iter()
            .enumerate()
            .rev()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i);
        Ok(Self {
            label: labels[index].clone(),
            index,
            probabilities,
        })
    }
}

impl Member {
    /// This member's network with its trained weights, read from `dir` (the artifact
    /// directory of the manifest listing it) onto `device`. On an autodiff device the
    /// parameters require gradients, so the network can be trained further (`ser-train
    /// --init`, fine-tuning); [`Classifier::load`] builds every member through this.
    ///
    /// # Errors
    ///
    /// [`ModelError::Weights`] naming the file: missing, unreadable, or not weights of this
    /// member's configuration.
    pub fn load_weights(&self, dir: &Path, device: &Device) -> Result<Model> {
        let path = dir.join(&self.weights);
        if !path.is_file() {
            return Err(ModelError::Weights {
                path,
                reason: "file not found".into(),
            });
        }
        // Read the whole file now: burn's file reader loads tensors lazily, so a classifier
        // built with `try_load_file` panics on its first prediction if the directory is
        // replaced or deleted after loading (ser-train rewrites artifacts atomically while a
        // server may hold the old one).
        let bytes = read_aligned(&path).map_err(|e| ModelError::Weights {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let weights_error = |e: burn::store::RecordError| ModelError::Weights {
            path: path.clone(),
            reason: e.to_string(),
        };
        let record = burn::store::ModuleRecord::from_bytes(bytes).map_err(weights_error)?;
        self.model
            .init(device)
            .try_load_record(record)
            .map_err(weights_error)
    }
}

#[derive(Debug)]
struct LoadedMember {
    model: Model,
    norm: Option<NormStats>,
    min_frames: usize,
    head: Option<LinearHead>,
}

/// A model artifact ready for inference (all members in `.valid()` mode).
///
/// `Send + Sync`: share one in an `Arc` across threads.
#[derive(Debug)]
pub struct Classifier {
    manifest: Manifest,
    extractor: FeatureExtractor,
    /// Present when the manifest fuses utterance functionals.
    functionals: Option<FunctionalsExtractor>,
    members: Vec<LoadedMember>,
    device: Device,
}

impl Classifier {
    /// Loads `dir` (see [`crate::artifact`]) on the default device (Flex when enabled).
    ///
    /// Errors name the directory or file: missing directory, missing or corrupt
    /// `manifest.json`, unknown `format_version`, missing or corrupt weights.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        Self::load_on(dir, &Device::default())
    }

    /// [`Classifier::load`] on a given device.
    pub fn load_on(dir: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let dir = dir.as_ref();
        Self::load_with_manifest(dir, Manifest::read(dir)?, device)
    }

    /// Loads, from the artifact in `dir`, the weights `manifest` names: the artifact's own
    /// manifest ([`Manifest::read`]) changed in memory, e.g. one member of an ensemble
    /// ([`Manifest::member_alone`]), the networks without their functionals heads
    /// ([`Manifest::without_functionals`]) or other `test_time_warps` (`ser-eval --member`,
    /// `--test-time-warps`). Nothing is written.
    ///
    /// # Errors
    ///
    /// As [`Classifier::load`], and [`ModelError::Invalid`] for an inconsistent manifest.
    pub fn load_with_manifest(dir: &Path, manifest: Manifest, device: &Device) -> Result<Self> {
        let models = manifest
            .members
            .iter()
            .map(|member| member.load_weights(dir, device))
            .collect::<Result<Vec<_>>>()?;
        Self::from_parts(manifest, models, device)
    }

    /// Builds a classifier from a manifest and in-memory models (one per member), e.g. to
    /// evaluate a freshly trained model through the same pipeline as a loaded one.
    pub fn from_parts(manifest: Manifest, models: Vec<Model>, device: &Device) -> Result<Self> {
        manifest.validate()?;
        if models.len() != manifest.members.len() {
            return Err(ModelError::Invalid {
                field: "members".into(),
                reason: format!(
                    "{} members but {} models",
                    manifest.members.len(),
                    models.len()
                ),
            });
        }
        let extractor = FeatureExtractor::new(manifest.features.clone())?;
        let functionals = manifest
            .functionals
            .as_ref()
            .map(|f| FunctionalsExtractor::new(f.config.clone()))
            .transpose()?;
        let members = manifest
            .members
            .iter()
            .zip(models)
            .map(|(m, model)| LoadedMember {
                model: model.valid(),
                norm: m.norm.clone(),
                min_frames: m.model.min_frames(),
                head: m.head.clone(),
            })
            .collect();
        Ok(Self {
            manifest,
            extractor,
            functionals,
            members,
            device: device.clone(),
        })
    }

    /// Class names in output order.
    pub fn labels(&self) -> &[String] {
        &self.manifest.labels
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Whether the artifact fuses utterance functionals (then predictions need the audio, or
    /// [`Classifier::predict_with_functionals`]).
    pub fn uses_functionals(&self) -> bool {
        self.functionals.is_some()
    }

    /// Resamples to the feature rate and applies the manifest's preprocessing: the clip every
    /// member's features (and functionals) are computed from.
    pub fn prepare(&self, audio: &Audio) -> Result<Audio> {
        if audio.samples.is_empty() {
            return Err(ModelError::Input {
                reason: "the audio has no samples".into(),
            });
        }
        let rate = self.manifest.features.sample_rate;
        let mut audio = if audio.sample_rate == rate {
            audio.clone()
        } else {
            resample(audio, rate)?
        };
        if let Some(p) = &self.manifest.preprocess {
            p.apply(&mut audio);
        }
        if audio.samples.is_empty() {
            return Err(ModelError::Input {
                reason: "nothing left after preprocessing (the clip is silent or too short)".into(),
            });
        }
        Ok(audio)
    }

    /// Resamples to the feature rate, preprocesses and extracts features (not normalised:
    /// each member applies its own statistics).
    pub fn features(&self, audio: &Audio) -> Result<FeatureMatrix> {
        let audio = self.prepare(audio)?;
        Ok(self.extractor.extract(&audio.samples)?)
    }

    /// Class probabilities for one clip at any sample rate.
    pub fn predict(&self, audio: &Audio) -> Result<Prediction> {
        let audio = self.prepare(audio)?;
        let features = self.extractor.extract(&audio.samples)?;
        let functionals = self
            .functionals
            .as_ref()
            .map(|f| f.extract(&audio.samples))
            .transpose()?;
        self.predict_parts(&features, functionals.as_deref())
    }

    /// [`Classifier::predict`] for many clips. Clips run one at a time (no padding), so
    /// each gets exactly the result it would get alone.
    pub fn predict_batch(&self, audios: &[Audio]) -> Result<Vec<Prediction>> {
        audios.iter().map(|a| self.predict(a)).collect()
    }

    /// Probabilities from features made by [`Classifier::features`] (not normalised), for
    /// artifacts without functionals (see [`Classifier::predict_with_functionals`]).
    pub fn predict_features(&self, features: &FeatureMatrix) -> Result<Prediction> {
        if self.functionals.is_some() {
            return Err(ModelError::Input {
                reason: "this model fuses utterance functionals with its networks: predict from \
                         the audio (predict) or pass the clip's functionals \
                         (predict_with_functionals)"
                    .into(),
            });
        }
        self.predict_parts(features, None)
    }

    /// Probabilities from features made by [`Classifier::features`] and the functionals of the
    /// same prepared clip ([`Classifier::prepare`], then
    /// [`dsp_features::functionals::FunctionalsExtractor::extract`] with the manifest's
    /// `functionals.config`). For artifacts without functionals use
    /// [`Classifier::predict_features`].
    pub fn predict_with_functionals(
        &self,
        features: &FeatureMatrix,
        functionals: &[f32],
    ) -> Result<Prediction> {
        let Some(f) = &self.functionals else {
            return Err(ModelError::Input {
                reason: "this model has no functionals heads: use predict_features".into(),
            });
        };
        if functionals.len() != f.dim() {
            return Err(ModelError::Input {
                reason: format!(
                    "{} functionals given, the heads need {}",
                    functionals.len(),
                    f.dim()
                ),
            });
        }
        if let Some(i) = functionals.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::Input {
                reason: format!("functional {i} is not finite"),
            });
        }
        self.predict_parts(features, Some(functionals))
    }

    fn predict_parts(
        &self,
        features: &FeatureMatrix,
        functionals: Option<&[f32]>,
    ) -> Result<Prediction> {
        let bins = self.manifest.features.output_bins();
        if features.bins() != bins || features.frames() == 0 {
            return Err(ModelError::Input {
                reason: format!(
                    "features are {}x{}, the model needs {bins} rows and at least one frame",
                    features.bins(),
                    features.frames()
                ),
            });
        }
        let n = self.labels().len();
        // The manifest's test-time warps of the clip, made once for all members (no warps =
        // the features once, as they are).
        let warps: &[f32] = match self.manifest.test_time_warps.as_slice() {
            [] => &[1.0],
            w => w,
        };
        let views: Vec<Cow<'_, FeatureMatrix>> =
            warps.iter().map(|&w| warp_bins(features, w)).collect();
        // Members run in parallel on rayon's pool (one thread: one after the other, as
        // before); their probabilities are summed in member order, so the result does not
        // depend on the thread count.
        let per_member: Vec<Vec<f32>> = self
            .members
            .par_iter()
            .map(|member| {
                let probs = self.member_average(member, &views, bins)?;
                // Manifest validation gives every member a head exactly when the manifest
                // has `functionals`, and `functionals` is `Some` exactly then.
                Ok(
                    match (&member.head, functionals, &self.manifest.functionals) {
                        (Some(head), Some(x), Some(f)) => {
                            fuse(&probs, &head.log_probs(x), f.weight)
                        }
                        _ => probs,
                    },
                )
            })
            .collect::<Result<_>>()?;
        let mut sum = vec![0.0f32; n];
        for probs in per_member {
            for (s, p) in sum.iter_mut().zip(probs) {
                *s += p;
            }
        }
        let k = self.members.len() as f32;
        let probabilities: Vec<f32> = sum.into_iter().map(|s| s / k).collect();
        let index = probabilities
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
            .unwrap_or(0);
        Ok(Prediction {
            label: self.labels()[index].clone(),
            index,
            probabilities,
        })
    }

    /// One member's probabilities, averaged over `views` (the clip's test-time warps) in
    /// list order, so the result does not depend on threads.
    fn member_average(
        &self,
        member: &LoadedMember,
        views: &[Cow<'_, FeatureMatrix>],
        bins: usize,
    ) -> Result<Vec<f32>> {
        let mut sum = vec![0.0f32; self.labels().len()];
        for view in views {
            let probs = member_probabilities(member, view, bins, &self.device)?;
            for (s, p) in sum.iter_mut().zip(probs) {
                *s += p;
            }
        }
        let k = views.len() as f32;
        Ok(sum.into_iter().map(|s| s / k).collect())
    }
}

/// Where row `row` of `rows` (`rows > 0`) reads from under a frequency warp by `factor > 0`:
/// source position `row / factor`, clamped to the last row, as `(lower row, upper row,
/// fraction of the way to the upper)`. Shared by [`warp_bins`] and `ser-train`'s
/// augmentation so that the test-time warp is exactly the training one.
pub fn warp_source(row: usize, rows: usize, factor: f32) -> (usize, usize, f32) {
    let src = (row as f32 / factor).min((rows - 1) as f32);
    let (i0, frac) = (src.floor() as usize, src - src.floor());
    (i0, (i0 + 1).min(rows - 1), frac)
}

/// The frequency warp `ser-train` augments with (`augment::train_batch`, after Jaitly &
/// Hinton 2013): output row `r` is row `r / factor` of `features` ([`warp_source`]),
/// linearly interpolated between its neighbours, so `factor > 1` shifts the spectrum up, as
/// a shorter vocal tract would. `factor = 1` (and an empty matrix) borrows the features
/// unchanged, without a copy.
pub fn warp_bins(features: &FeatureMatrix, factor: f32) -> Cow<'_, FeatureMatrix> {
    let rows = features.data.nrows();
    if rows == 0 || factor == 1.0 {
        return Cow::Borrowed(features);
    }
    let mut out = features.clone();
    for (r, mut dst) in out.data.rows_mut().into_iter().enumerate() {
        let (i0, i1, frac) = warp_source(r, rows, factor);
        let (row0, row1) = (features.data.row(i0), features.data.row(i1));
        for ((d, a), b) in dst.iter_mut().zip(row0).zip(row1) {
            *d = a + frac * (b - a);
        }
    }
    Cow::Owned(out)
}

/// One member's class probabilities for (unnormalised) `features`.
fn member_probabilities(
    member: &LoadedMember,
    features: &FeatureMatrix,
    bins: usize,
    device: &Device,
) -> Result<Vec<f32>> {
    let mut m = features.clone();
    if let Some(norm) = &member.norm {
        norm.apply(&mut m)?;
    }
    let frames = m.frames();
    let padded = frames.max(member.min_frames);
    // Row-major [1, bins, padded]; zeros (the normalised mean) pad short clips.
    let mut data = vec![0.0f32; bins * padded];
    for (r, row) in m.data.rows().into_iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            data[r * padded + c] = *v;
        }
    }
    let batch = InputBatch::from_raw(data, [1, bins, padded], vec![frames], device)?;
    let probs = softmax(member.model.forward(batch.features, &batch.lengths), 1);
    probs
        .into_data()
        .try_into_vec::<f32>()
        .map_err(|e| ModelError::Input {
            reason: format!("model output unreadable: {e:?}"),
        })
}

/// The whole file at `path` as burn [`Bytes`](burn::tensor::Bytes), read straight into a
/// 16-byte-aligned buffer (`u128`s), the alignment burn's `Bytes` requires
/// (`cubecl_environment::bytes::default_controller::MAX_ALIGN`): from a `Vec<u8>`
/// (`Bytes::from_bytes_vec`) it copies all of it into a fresh aligned allocation, which was
/// over half of loading the shipped ensemble (perf, docs/benchmarks.md).
fn read_aligned(path: &Path) -> std::io::Result<burn::tensor::Bytes> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let len = usize::try_from(file.metadata()?.len())
        .map_err(|_| std::io::Error::other("file too large for this machine"))?;
    let mut words = vec![0u128; len.div_ceil(16)];
    file.read_exact(&mut bytemuck::cast_slice_mut::<u128, u8>(&mut words)[..len])?;
    // The last word's padding is not part of the file: a shared view of the first `len`
    // bytes (no copy; shared so that `view` is available).
    burn::tensor::Bytes::from_elems(words)
        .shared()
        .view(0, len)
        .map_err(|e| std::io::Error::other(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn classifier_is_send_and_sync() {
        assert_send_sync::<Classifier>();
    }
}
