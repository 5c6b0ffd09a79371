//! Teacher targets for knowledge distillation ([`crate::Distill`]).

use ser_eval::heard::heard_by;
use ser_models::Classifier;

use crate::config::Distill;
use crate::data::Dataset;
use crate::error::{Result, TrainError};

/// The mean class probabilities of the teachers of `d` on every clip of `idx` (the
/// dataset's clean features of whole clips, normalised with each teacher's own statistics),
/// indexed by dataset item; items outside `idx` get an empty vector.
///
/// Refuses a teacher that cannot be loaded, uses other features, preprocessing or labels than
/// the dataset (it would be scoring inputs it was not trained on), does not record the
/// speakers it heard, or heard one of `test` (a test speaker's voice would then reach the
/// student through the soft labels).
pub(crate) fn teacher_targets(
    d: &Distill,
    ds: &Dataset,
    idx: &[usize],
    test: &[String],
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<Vec<f32>>> {
    let n_classes = ds.labels.len();
    let mut targets = vec![Vec::new(); ds.items.len()];
    for &i in idx {
        targets[i] = vec![0.0f32; n_classes];
    }
    let total = idx.len() * d.teachers.len();
    for (t, dir) in d.teachers.iter().enumerate() {
        let bad = |reason: String| {
            TrainError::config("--teacher", format!("{}: {reason}", dir.display()))
        };
        let teacher = Classifier::load(dir).map_err(|e| bad(e.to_string()))?;
        if teacher.labels() != ds.labels.as_slice() {
            return Err(bad(format!(
                "its labels {:?} are not the data's {:?}",
                teacher.labels(),
                ds.labels
            )));
        }
        let m = teacher.manifest();
        if m.features != ds.features || m.preprocess != Some(ds.preprocess) {
            return Err(bad(
                "it was trained on other features or preprocessing than this run's; train the \
                 teacher with the same feature flags"
                    .into(),
            ));
        }
        // Training speakers, plus the validation speakers that chose its kept epoch, compared
        // corpus by corpus (a RAVDESS-only teacher's `01` is this run's `ravdess:01`).
        let h = heard_by(m, &ds.evaluated, &ds.speakers_with_corpus(test));
        if !h.checked {
            return Err(bad(
                "its manifest does not record the speakers it was trained on, so it cannot be \
                 checked against the test speakers"
                    .into(),
            ));
        }
        if !h.overlap.is_empty() {
            return Err(bad(format!(
                "it has heard test speaker(s) {} ({}); a teacher must not have heard the \
                 student's test speakers (in cross-validation, use the teacher run's model of \
                 the same fold)",
                h.overlap.join(", "),
                h.how
            )));
        }
        for (k, &i) in idx.iter().enumerate() {
            let p = teacher
                .predict_features(&ds.items[i].features)
                .map_err(|e| bad(format!("clip {}: {e}", ds.items[i].id)))?;
            for (acc, v) in targets[i].iter_mut().zip(&p.probabilities) {
                *acc += v / d.teachers.len() as f32;
            }
            progress(t * idx.len() + k + 1, total);
        }
    }
    Ok(targets)
}
