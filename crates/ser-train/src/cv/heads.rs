//! `--functionals`: a logistic-regression head on utterance functionals, fitted on a fold's
//! training actors (or, for the final fit, on every actor) and fused into the fold's artifact.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use ravdess_loader::Utterance;
use ser_models::artifact::MANIFEST_FILE;
use ser_models::{FunctionalsFusion, Manifest};

use super::CvEvent;
use crate::error::{Result, TrainError};
use crate::head::{ClipRows, HeadAugment, HeadFit, corpus_functionals, fit_head};
use crate::trainer::{Stage, TrainEvent};

/// How to fuse, how the clips are prepared and augmented (as the networks are), and the
/// functionals computed so far, by utterance id. Each clip's rows are computed once, by the
/// first fold that trains on it.
pub struct Heads {
    /// The fusion written into every artifact.
    pub fusion: FunctionalsFusion,
    /// The networks' preprocessing.
    pub preprocess: ser_audio::Preprocess,
    /// The networks' waveform augmentation, as head rows.
    pub augment: HeadAugment,
    rows: Mutex<HashMap<String, ClipRows>>,
}

impl Heads {
    /// Heads with `fusion`, for clips prepared with `preprocess` and augmented as `augment`.
    pub fn new(
        fusion: FunctionalsFusion,
        preprocess: ser_audio::Preprocess,
        augment: HeadAugment,
    ) -> Self {
        Self {
            fusion,
            preprocess,
            augment,
            rows: Mutex::new(HashMap::new()),
        }
    }

    /// Fits the head of the single-model artifact in `model_dir` on `train` and writes it into
    /// the model's manifest (atomically), with the fusion settings.
    ///
    /// # Errors
    ///
    /// An artifact that is not a single model, clips whose functionals fail, a label outside
    /// `labels`, a fit or manifest that does not validate, I/O.
    pub fn attach(
        &self,
        model_dir: &Path,
        train: &[Utterance],
        labels: &[String],
        events: &mut (dyn FnMut(CvEvent) + Send),
    ) -> Result<()> {
        let mut manifest = Manifest::read(model_dir)?;
        if manifest.members.len() != 1 {
            return Err(TrainError::config(
                "--functionals",
                format!("{} is not a single-model artifact", model_dir.display()),
            ));
        }
        let (x, y, groups, weights) = self.rows_of(train, labels, events)?;
        let head = fit_head(&x, &y, &groups, &weights, labels.len(), &HeadFit::default())?;
        manifest.members[0].head = Some(head);
        manifest.functionals = Some(self.fusion.clone());
        manifest.validate()?;
        let path = model_dir.join(MANIFEST_FILE);
        ser_fs::write_atomic(&path, manifest.to_json()?.as_bytes())
            .map_err(|e| TrainError::io(&path, e))
    }

    /// The head's training rows for `train`: functionals, label index, speaker and weight per
    /// row, computing the clips not seen by an earlier fold.
    #[allow(clippy::type_complexity)] // four parallel columns, as fit_head takes them
    fn rows_of(
        &self,
        train: &[Utterance],
        labels: &[String],
        events: &mut (dyn FnMut(CvEvent) + Send),
    ) -> Result<(Vec<Vec<f32>>, Vec<usize>, Vec<String>, Vec<f64>)> {
        let mut rows = self.rows.lock().map_err(|_| {
            TrainError::config(
                "--functionals",
                "a fold panicked while computing functionals",
            )
        })?;
        let missing: Vec<&Utterance> = train.iter().filter(|u| !rows.contains_key(&u.id)).collect();
        if !missing.is_empty() {
            let computed = corpus_functionals(
                &missing,
                &self.preprocess,
                &self.fusion.config,
                &self.augment,
                |done, total| {
                    events(CvEvent::Train {
                        fold: None,
                        event: TrainEvent::Progress {
                            stage: Stage::Functionals,
                            done,
                            total,
                        },
                    })
                },
            )?;
            rows.extend(computed);
        }
        let (mut x, mut y, mut groups, mut weights) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for u in train {
            let bad = |reason: String| TrainError::Data {
                path: u.id.clone().into(),
                reason,
            };
            let clip = rows
                .get(&u.id)
                .ok_or_else(|| bad("no functionals were computed for it".into()))?;
            let label = labels
                .iter()
                .position(|l| *l == u.label)
                .ok_or_else(|| bad(format!("label {} is not among {labels:?}", u.label)))?;
            for (row, &w) in clip.rows.iter().zip(&clip.weights) {
                x.push(row.clone());
                y.push(label);
                groups.push(u.speaker.clone().unwrap_or_default());
                weights.push(w);
            }
        }
        Ok((x, y, groups, weights))
    }
}
