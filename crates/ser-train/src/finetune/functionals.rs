//! `--init ... --functionals`: the parent's utterance-functionals head fitted again on the
//! new run's training clips and labels, fused as the parent fused it.

use std::collections::HashMap;

use ravdess_loader::{Utterance, open_corpus, synth};
use ser_models::{FunctionalsFusion, LinearHead};

use crate::config::{DataSource, TrainConfig};
use crate::data::Dataset;
use crate::error::{Result, TrainError};
use crate::head::{HeadAugment, HeadFit, corpus_functionals, fit_head};
use crate::trainer::{Stage, TrainEvent};

/// A head fitted on the training clips, and the clean functionals of the test clips (by
/// utterance id) to score the fused model with.
pub(crate) struct RefitHead {
    /// The new head.
    pub head: LinearHead,
    /// One functionals vector per test clip.
    pub test_functionals: HashMap<String, Vec<f32>>,
}

/// Fits a head with `fusion`'s functionals on the dataset's clips `train_idx` (with the
/// run's waveform augmentation as head rows, as `ser-train cv --functionals` does, and the
/// regularisation chosen by an inner cross-validation by speaker among the training
/// speakers), and computes the functionals of the clips `test_idx`.
///
/// # Errors
///
/// A clip of the dataset missing from its corpus, clips whose functionals fail, a fit that
/// fails.
pub(crate) fn refit_head(
    cfg: &TrainConfig,
    ds: &Dataset,
    fusion: &FunctionalsFusion,
    (train_idx, test_idx): (&[usize], &[usize]),
    events: &mut (dyn FnMut(TrainEvent) + Send),
) -> Result<RefitHead> {
    let utts = corpus_clips(cfg)?;
    let by_id: HashMap<&str, &Utterance> = utts.iter().map(|u| (u.id.as_str(), u)).collect();
    let pick = |idx: &[usize]| -> Result<Vec<&Utterance>> {
        idx.iter()
            .map(|&i| {
                let id = ds.items[i].id.as_str();
                by_id.get(id).copied().ok_or_else(|| TrainError::Data {
                    path: ds.source.clone().into(),
                    reason: format!("clip `{id}` is no longer in the corpus"),
                })
            })
            .collect()
    };
    let mut progress = |done, total| {
        events(TrainEvent::Progress {
            stage: Stage::Functionals,
            done,
            total,
        })
    };
    let augment = HeadAugment::of(cfg);
    let rows = corpus_functionals(
        &pick(train_idx)?,
        &ds.preprocess,
        &fusion.config,
        &augment,
        &mut progress,
    )?;
    let (mut x, mut y, mut groups, mut weights) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for &i in train_idx {
        let item = &ds.items[i];
        let Some(clip) = rows.get(&item.id) else {
            continue;
        };
        for (row, &w) in clip.rows.iter().zip(&clip.weights) {
            x.push(row.clone());
            y.push(item.label);
            groups.push(item.speaker.clone());
            weights.push(w);
        }
    }
    let head = fit_head(
        &x,
        &y,
        &groups,
        &weights,
        ds.labels.len(),
        &HeadFit::default(),
    )?;
    let clean = HeadAugment::clean();
    let test = corpus_functionals(
        &pick(test_idx)?,
        &ds.preprocess,
        &fusion.config,
        &clean,
        &mut progress,
    )?;
    let test_functionals = test
        .into_iter()
        .filter_map(|(id, mut c)| (!c.rows.is_empty()).then(|| (id, c.rows.swap_remove(0))))
        .collect();
    Ok(RefitHead {
        head,
        test_functionals,
    })
}

/// The corpus's clips with their audio (generated) or file (on disk).
fn corpus_clips(cfg: &TrainConfig) -> Result<Vec<Utterance>> {
    Ok(match &cfg.data.source {
        DataSource::Dir(dir) => open_corpus(dir)?.utterances,
        DataSource::Synth(s) => synth::generate(s),
        DataSource::Corpora(c) => c.open()?.utterances,
    })
}
