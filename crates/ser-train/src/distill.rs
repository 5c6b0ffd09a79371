//! Teacher targets for knowledge distillation ([`crate::Distill`]).

use ser_models::Classifier;

use crate::config::Distill;
use crate::data::Dataset;
use crate::error::{Result, TrainError};

/// The speakers an artifact has heard: its training speakers plus, for a single model, the
/// validation speakers that chose its best epoch. `None` when the manifest does not say.
fn heard_speakers(c: &Classifier) -> Option<Vec<String>> {
    let m = c.manifest();
    let list = |v: &serde_json::Value| -> Option<Vec<String>> {
        v.as_array()?
            .iter()
            .map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let mut heard = list(&m.training["train_speakers"])?;
    if let Some(val) = list(&m.metrics["val_actors"]) {
        heard.extend(val);
    }
    Some(heard)
}

/// The mean class probabilities of the teachers of `d` on every clip of `idx` (clean
/// features, whole clips), indexed by dataset item; items outside `idx` get an empty vector.
///
/// Refuses a teacher that cannot be loaded, uses other features or labels than the dataset,
/// does not record the speakers it heard, or heard one of `test` (a test speaker's voice
/// would then reach the student through the soft labels).
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
        if teacher.manifest().features != ds.features {
            return Err(bad(
                "it was trained on other features than this run's; train the teacher with the same feature flags"
                    .into(),
            ));
        }
        let heard = heard_speakers(&teacher).ok_or_else(|| {
            bad("its manifest does not record the speakers it was trained on, so it cannot be checked against the test speakers".into())
        })?;
        let leaked: Vec<&String> = test.iter().filter(|s| heard.contains(s)).collect();
        if !leaked.is_empty() {
            return Err(bad(format!(
                "it has heard test speaker(s) {leaked:?}; a teacher must not have heard the \
                 student's test speakers (in cross-validation, use the teacher run's model of the same fold)"
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
