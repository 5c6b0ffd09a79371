//! Validation: the epoch's model on whole validation clips, in length-sorted batches.

use burn::prelude::*;
use ser_eval::metrics::ClassificationReport;
use ser_models::Model;

use super::epoch::{read_floats, read_ints};
use super::setup::Trainer;
use crate::augment::eval_batch;
use crate::error::Result;

/// Validation metrics and mean loss over whole clips, in length-sorted batches.
pub(super) fn evaluate(
    t: &Trainer<'_>,
    model: &Model,
    idx: &[usize],
) -> Result<(ClassificationReport, f64)> {
    let (ds, norm, ce, device) = (t.ds, &t.state.norm, &t.ce_eval, &t.device);
    let (bs, min_frames) = (t.plan.batch_size, t.state.model.min_frames());
    let mut order = idx.to_vec();
    order.sort_by_key(|&i| ds.items[i].features.frames());
    let (mut targets, mut preds, mut loss_sum) = (Vec::new(), Vec::new(), 0.0f64);
    for chunk in order.chunks(bs.max(1)) {
        let clips: Vec<_> = chunk
            .iter()
            .map(|&i| (&ds.items[i].features.data, ds.items[i].label))
            .collect();
        let hb = eval_batch(&clips, norm, min_frames);
        let b = hb.labels.len();
        let x = Tensor::<3>::from_data(TensorData::new(hb.data, hb.shape), device);
        let logits = model.forward(x, &hb.lengths);
        let y: Vec<i64> = hb.labels.iter().map(|&l| l as i64).collect();
        let loss = ce.forward(
            logits.clone(),
            Tensor::<1, Int>::from_data(TensorData::new(y, [b]), device),
        );
        loss_sum += read_floats(loss)?.first().copied().unwrap_or(0.0) as f64 * b as f64;
        preds.extend(
            read_ints(logits.argmax(1))?
                .into_iter()
                .map(|p| p.max(0) as usize),
        );
        targets.extend(hb.labels);
    }
    let n = targets.len().max(1) as f64;
    Ok((
        ClassificationReport::new(&targets, &preds, ds.labels.len())?,
        loss_sum / n,
    ))
}
