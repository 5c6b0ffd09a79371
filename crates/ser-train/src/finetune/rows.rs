//! [`OutputRows`]: the fine-tuned model's output layer, row by row from the parent's.

use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;
use ser_models::Model;

use crate::error::{Result, TrainError};

/// For every label of the new run, in its order, the parent's output row of the same name
/// (compared case-insensitively), or none: that label gets a freshly initialised row.
///
/// - Same labels in the same order: the parent's output layer is kept as it is.
/// - A subset or reordering of the parent's labels: every row is the parent's, moved to its
///   new place; rows of parent labels the run does not have are left out.
/// - Labels the parent does not know: their rows (weights and bias) come from a fresh
///   initialisation of the layer (burn's default, Kaiming uniform), the others from the
///   parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRows {
    /// Per new label, the index of the parent's row.
    pub source: Vec<Option<usize>>,
    /// The parent's number of outputs.
    pub parent_len: usize,
}

impl OutputRows {
    /// Maps `labels` (the new run's) onto `parent` (the parent's labels) by name.
    pub fn new(parent: &[String], labels: &[String]) -> Self {
        let source = labels
            .iter()
            .map(|l| {
                parent
                    .iter()
                    .position(|p| p.trim().eq_ignore_ascii_case(l.trim()))
            })
            .collect();
        Self {
            source,
            parent_len: parent.len(),
        }
    }

    /// The labels are the parent's, in its order: nothing changes.
    pub fn is_identity(&self) -> bool {
        self.source.len() == self.parent_len
            && self.source.iter().enumerate().all(|(i, s)| *s == Some(i))
    }

    /// The labels of `labels` (the run's, as given to [`OutputRows::new`]) whose rows are the
    /// parent's.
    pub fn kept(&self, labels: &[String]) -> Vec<String> {
        self.pick(labels, true)
    }

    /// The labels whose rows are freshly initialised.
    pub fn fresh(&self, labels: &[String]) -> Vec<String> {
        self.pick(labels, false)
    }

    fn pick(&self, labels: &[String], kept: bool) -> Vec<String> {
        labels
            .iter()
            .zip(&self.source)
            .filter(|(_, s)| s.is_some() == kept)
            .map(|(l, _)| l.clone())
            .collect()
    }

    /// `parent` with its output layer replaced by one row per new label: the parent's row of
    /// that label, or `fresh`'s (a freshly initialised network with the new number of
    /// outputs) for a label the parent lacks. Values are copied exactly.
    ///
    /// # Errors
    ///
    /// A parent or fresh network of another family, or output layers whose shapes are not
    /// `[d, parent_len]` and `[d, labels]`.
    pub fn apply(&self, parent: Model, fresh: Model, device: &Device) -> Result<Model> {
        let (mut parent, fresh) = (parent, fresh);
        let head = {
            let (p, f) = match (&parent, &fresh) {
                (Model::Cnn(p), Model::Cnn(f)) => (&p.head, &f.head),
                (Model::Rnn(p), Model::Rnn(f)) => (&p.head, &f.head),
                (Model::Crnn(p), Model::Crnn(f)) => (&p.head, &f.head),
                _ => return Err(shape_error("the fresh network is of another family".into())),
            };
            self.mapped(p, f, device)?
        };
        match &mut parent {
            Model::Cnn(m) => m.head = head,
            Model::Rnn(m) => m.head = head,
            Model::Crnn(m) => m.head = head,
        }
        Ok(parent)
    }

    /// The mapped layer (weights `[d_input, d_output]`, burn's row layout).
    fn mapped(&self, parent: &Linear, fresh: &Linear, device: &Device) -> Result<Linear> {
        let (pw, [d, p_out]) = values2(&parent.weight)?;
        let (fw, [fd, f_out]) = values2(&fresh.weight)?;
        if p_out != self.parent_len || f_out != self.source.len() || fd != d {
            return Err(shape_error(format!(
                "the parent's output layer is {d} x {p_out} for {} labels; the new one {fd} x \
                 {f_out} for {} labels",
                self.parent_len,
                self.source.len()
            )));
        }
        let mut w = Vec::with_capacity(d * f_out);
        for r in 0..d {
            for (i, s) in self.source.iter().enumerate() {
                w.push(match s {
                    Some(j) => pw[r * p_out + j],
                    None => fw[r * f_out + i],
                });
            }
        }
        let bias = match (&parent.bias, &fresh.bias) {
            (Some(pb), Some(fb)) => {
                let (pb, fb) = (values1(pb)?, values1(fb)?);
                let b: Vec<f32> = (self.source.iter().enumerate())
                    .map(|(i, s)| s.map_or(fb[i], |j| pb[j]))
                    .collect();
                Some(Param::from_data(TensorData::new(b, [f_out]), device))
            }
            _ => fresh.bias.clone(),
        };
        Ok(Linear {
            weight: Param::from_data(TensorData::new(w, [d, f_out]), device),
            bias,
        })
    }
}

fn shape_error(reason: String) -> TrainError {
    TrainError::config("--init", format!("cannot map the output layer: {reason}"))
}

fn values2(p: &Param<Tensor<2>>) -> Result<(Vec<f32>, [usize; 2])> {
    let t = p.val();
    let dims = t.dims();
    let v = t
        .into_data()
        .try_to_vec_as::<f32>()
        .map_err(|e| shape_error(format!("unreadable weights: {e:?}")))?;
    Ok((v, dims))
}

fn values1(p: &Param<Tensor<1>>) -> Result<Vec<f32>> {
    p.val()
        .into_data()
        .try_to_vec_as::<f32>()
        .map_err(|e| shape_error(format!("unreadable bias: {e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn rows_are_matched_by_name_and_unknown_labels_are_fresh() {
        let parent = labels(&["neutral", "calm", "happy", "sad"]);
        let same = OutputRows::new(&parent, &parent);
        assert!(same.is_identity());
        let subset = OutputRows::new(&parent, &labels(&["Sad", "neutral"]));
        assert_eq!(subset.source, vec![Some(3), Some(0)]);
        assert!(!subset.is_identity());
        let new = labels(&["happy", "boredom"]);
        let mixed = OutputRows::new(&parent, &new);
        assert_eq!(mixed.source, vec![Some(2), None]);
        assert_eq!(mixed.kept(&new), labels(&["happy"]));
        assert_eq!(mixed.fresh(&new), labels(&["boredom"]));
        // A prefix is not the identity: the layer has fewer rows.
        assert!(!OutputRows::new(&parent, &parent[..3]).is_identity());
    }

    #[test]
    fn the_mapped_layer_copies_parent_rows_exactly_and_fresh_rows_for_new_labels() {
        let dev = Device::flex();
        let (d, p_out) = (3, 4);
        let pw: Vec<f32> = (0..d * p_out).map(|i| i as f32).collect();
        let parent = Linear {
            weight: Param::from_data(TensorData::new(pw, [d, p_out]), &dev),
            bias: Some(Param::from_data(
                TensorData::new(vec![10.0f32, 11.0, 12.0, 13.0], [p_out]),
                &dev,
            )),
        };
        let fresh = Linear {
            weight: Param::from_data(TensorData::new(vec![-1.0f32; d * 2], [d, 2]), &dev),
            bias: Some(Param::from_data(
                TensorData::new(vec![-2.0f32; 2], [2]),
                &dev,
            )),
        };
        let rows = OutputRows {
            source: vec![Some(2), None],
            parent_len: p_out,
        };
        let m = rows.mapped(&parent, &fresh, &dev).unwrap();
        let (w, dims) = values2(&m.weight).unwrap();
        assert_eq!(dims, [3, 2]);
        // Column 0 is the parent's column 2 (values 2, 6, 10); column 1 is fresh.
        assert_eq!(w, vec![2.0, -1.0, 6.0, -1.0, 10.0, -1.0]);
        assert_eq!(values1(m.bias.as_ref().unwrap()).unwrap(), vec![12.0, -2.0]);
        // A layer of the wrong size is refused.
        let wrong = OutputRows {
            source: vec![Some(0)],
            parent_len: 5,
        };
        assert!(wrong.mapped(&parent, &fresh, &dev).is_err());
    }
}
