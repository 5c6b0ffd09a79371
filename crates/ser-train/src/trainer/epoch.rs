//! One epoch: shuffled, length-bucketed batches with augmentation, optimisation steps with
//! the warm-up + cosine learning rate, validation on whole clips, early-stopping bookkeeping,
//! the log, the learning curve and the checkpoint.

use std::time::Instant;

use burn::nn::loss::CrossEntropyLoss;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use ser_audio::rng::SplitMix64;
use ser_models::Model;

use super::events::{Kept, TrainEvent, stop_requested};
use super::setup::Trainer;
use super::validate::evaluate;
use crate::augment::{HostBatch, Mixup, mixup, train_batch};
use crate::checkpoint;
use crate::config::TrainConfig;
use crate::error::{Result, TrainError};
use crate::report::{EpochRow, plot, write_csv};

/// Whether the run goes on after an epoch (or a stop request in the middle of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on (or finish, if [`Trainer::should_continue`] says so).
    Continue,
    /// A stop was requested: a checkpoint was written; return
    /// [`crate::TrainStatus::Interrupted`].
    Stopped,
}

impl Trainer<'_> {
    /// Trains one epoch (from the batch a resumed run stopped at), validates, updates early
    /// stopping, writes the log, the learning curve and the checkpoint.
    ///
    /// # Errors
    ///
    /// Divergence (a non-finite loss), backend and I/O errors.
    pub fn epoch(&mut self, events: &mut (dyn FnMut(TrainEvent) + Send)) -> Result<Flow> {
        let epoch = self.state.epoch;
        let started = Instant::now();
        let batches = self.batches(epoch);
        let n_batches = self.plan.batches;
        events(TrainEvent::EpochStart {
            epoch: epoch + 1,
            epochs: self.cfg.schedule.epochs,
            batches: n_batches,
            done: self.state.batch,
        });
        for bi in self.state.batch..n_batches {
            let chunk = batches.get(bi).map_or(&[][..], Vec::as_slice);
            if chunk.len() < 2 && n_batches > 1 {
                continue; // batch norm needs two examples; the next epoch reshuffles
            }
            let lr = self.step(epoch, bi, chunk)?;
            let s = &self.state;
            events(TrainEvent::Batch {
                epoch: epoch + 1,
                done: bi + 1,
                batches: n_batches,
                loss: s.loss_sum / s.seen.max(1) as f64,
                accuracy: s.correct as f64 / s.seen.max(1) as f64,
                lr,
            });
            if self.stop_requested() && bi + 1 < n_batches {
                self.state.epoch_seconds += started.elapsed().as_secs_f64();
                self.state.seconds += started.elapsed().as_secs_f64();
                self.save_checkpoint()?;
                return Ok(Flow::Stopped);
            }
        }
        let row = self.end_epoch(epoch, started)?;
        let best = !self.plan.keep_last && self.state.best_epoch == epoch + 1;
        let kept = if self.plan.val_idx.is_empty() {
            Kept::Last
        } else {
            Kept::Best {
                ua: self.state.best_ua,
                epoch: self.state.best_epoch,
            }
        };
        self.save_epoch(events)?;
        events(TrainEvent::EpochEnd { row, best, kept });
        Ok(if self.stop_requested() {
            Flow::Stopped
        } else {
            Flow::Continue
        })
    }

    /// Ctrl-C ([`super::request_stop`]) or the `stop_after_batches` test hook: checked after
    /// every batch (mid-epoch) and again after the epoch's checkpoint.
    fn stop_requested(&self) -> bool {
        stop_requested()
            || self
                .cfg
                .control
                .stop_after_batches
                .is_some_and(|n| self.batches_here >= n)
    }

    /// The epoch's batches: the training clips shuffled by the epoch's seed, then bucketed by
    /// length.
    fn batches(&self, epoch: usize) -> Vec<Vec<usize>> {
        let ds = self.ds;
        let mut order = self.plan.train_idx.clone();
        let mut epoch_rng = SplitMix64::derive(self.cfg.seed, 0xE90C_0000 + epoch as u64);
        epoch_rng.shuffle(&mut order);
        length_bucketed_batches(
            &order,
            |i| ds.items[i].features.frames(),
            self.plan.batch_size,
            &mut epoch_rng,
        )
    }

    /// Trains batch `bi` of `epoch` on the clips `chunk`; returns its learning rate.
    fn step(&mut self, epoch: usize, bi: usize, chunk: &[usize]) -> Result<f64> {
        let (cfg, ds) = (self.cfg, self.ds);
        let lr = learning_rate(cfg, epoch, bi, self.plan.batches);
        // Per-batch seeds make a resumed run draw exactly what an uninterrupted one would.
        let key = ((epoch as u64) << 32) | bi as u64;
        self.train_device
            .seed(SplitMix64::derive(cfg.seed, key).next_u64());
        let mut rng = SplitMix64::derive(cfg.seed ^ 0xA5A5_5A5A, key);
        // Waveform-noise copies come from their own stream, drawn only when enabled, so runs
        // without them draw exactly what they did before.
        let mut noise_rng = SplitMix64::derive(cfg.seed ^ 0x4E01_5E00, key);
        let noise_prob = cfg.augment.wave_noise.map_or(0.0, |w| f64::from(w.prob));
        // Channel copies likewise, from a third stream; they go first, so an example is a
        // channel copy with their probability and the noise rule decides the rest
        // (`ChannelAugment`).
        let mut channel_rng = SplitMix64::derive(cfg.seed ^ 0xC4A7_7E10, key);
        let channel_prob = cfg
            .augment
            .channel
            .as_ref()
            .map_or(0.0, |c| f64::from(c.prob));
        let clips: Vec<_> = chunk
            .iter()
            .map(|&i| {
                let item = &ds.items[i];
                let features = if !item.channel.is_empty() && channel_rng.next_f64() < channel_prob
                {
                    &item.channel[channel_rng.below(item.channel.len())]
                } else if !item.noisy.is_empty() && noise_rng.next_f64() < noise_prob {
                    &item.noisy[noise_rng.below(item.noisy.len())]
                } else {
                    &item.features.data
                };
                (features, item.label)
            })
            .collect();
        let mut hb = train_batch(
            &clips,
            &self.state.norm,
            self.plan.crop,
            self.plan.model_cfg.min_frames(),
            &cfg.augment,
            self.plan.log_power,
            &mut rng,
        );
        // Drawn after the augmentation, so a run without mixup draws exactly what it did
        // before mixup existed.
        let mix = mixup(&mut hb, cfg.augment.mixup_alpha, &mut rng);
        // The teachers' targets of the batch's clips, row by row, mixed as the inputs were.
        let soft_batch = self.plan.soft.as_ref().map(|(t, w)| {
            let q: Vec<f32> = chunk.iter().flat_map(|&i| t[i].iter().copied()).collect();
            let q = match &mix {
                Some(m) => m.blend(&q, ds.labels.len()),
                None => q,
            };
            (q, *w)
        });
        let (loss, correct) = train_step(
            &mut self.model,
            &mut self.optim,
            &self.ce,
            (hb, mix, soft_batch),
            lr,
            &self.train_device,
        )?;
        self.state.loss_sum += loss * chunk.len() as f64;
        self.state.correct += correct;
        self.state.seen += chunk.len();
        self.state.batch = bi + 1;
        self.batches_here += 1;
        Ok(lr)
    }

    /// Validates the epoch's model on whole clips, keeps it if it is the best (or with
    /// `keep_last`), counts epochs without improvement, and logs the epoch.
    fn end_epoch(&mut self, epoch: usize, started: Instant) -> Result<EpochRow> {
        let valid = self.model.valid();
        let val = if self.plan.val_idx.is_empty() {
            None
        } else {
            Some(evaluate(self, &valid, &self.plan.val_idx)?)
        };
        let state = &mut self.state;
        let secs = state.epoch_seconds + started.elapsed().as_secs_f64();
        state.seconds += started.elapsed().as_secs_f64();
        let n_batches = self.plan.batches;
        let row = EpochRow {
            epoch: epoch + 1,
            train_loss: state.loss_sum / state.seen.max(1) as f64,
            train_acc: state.correct as f64 / state.seen.max(1) as f64,
            val_loss: val.as_ref().map(|v| v.1),
            val_ua: val.as_ref().map(|v| v.0.balanced_accuracy),
            val_wa: val.as_ref().map(|v| v.0.accuracy),
            lr: learning_rate(self.cfg, epoch, n_batches - 1, n_batches),
            seconds: secs,
        };
        // With `keep_last` every epoch replaces the kept model, so early stopping never fires.
        let val_ua = val.as_ref().map_or(0.0, |v| v.0.balanced_accuracy);
        if val_ua > state.best_ua + 1e-9 || self.plan.keep_last {
            state.best_ua = val_ua;
            state.best_epoch = epoch + 1;
            state.best_metrics = val.map(|v| v.0);
            state.bad_epochs = 0;
            self.best = Some(valid);
        } else {
            state.bad_epochs += 1;
        }
        state.log.push(row.clone());
        state.epoch += 1;
        state.batch = 0;
        state.loss_sum = 0.0;
        state.correct = 0;
        state.seen = 0;
        state.epoch_seconds = 0.0;
        Ok(row)
    }

    /// The log and the learning curve (beside the checkpoint, copied into the artifact at the
    /// end), then the checkpoint itself.
    fn save_epoch(&mut self, events: &mut (dyn FnMut(TrainEvent) + Send)) -> Result<()> {
        let dir = &self.ckpt_dir;
        std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
        write_csv(&dir.join("log.csv"), &self.state.log)?;
        if let Err(e) = plot(
            &dir.join("curve.png"),
            &dir.join("curve.svg"),
            &self.state.log,
        ) {
            events(TrainEvent::Warning(format!(
                "learning curve not drawn: {e}"
            )));
        }
        self.save_checkpoint()
    }

    pub(super) fn save_checkpoint(&self) -> Result<()> {
        checkpoint::save(
            &self.ckpt_dir,
            &self.state,
            &self.model,
            &self.optim,
            self.best.as_ref(),
        )
    }
}

/// Linear warm-up over the first epoch from lr/10, then cosine decay to lr/20 at the end.
fn learning_rate(cfg: &TrainConfig, epoch: usize, batch: usize, n_batches: usize) -> f64 {
    let (peak, epochs) = (cfg.optim.lr, cfg.schedule.epochs);
    let pos = epoch as f64 + batch as f64 / n_batches.max(1) as f64;
    if pos < 1.0 && epochs > 1 {
        return peak * (0.1 + 0.9 * pos);
    }
    let span = (epochs as f64 - 1.0).max(1.0);
    let progress = ((pos - 1.0) / span).clamp(0.0, 1.0);
    let floor = peak / 20.0;
    floor + (peak - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
}

/// Clips per sorting window of [`length_bucketed_batches`], in batches.
const BUCKET_WINDOW_BATCHES: usize = 8;

/// Splits a shuffled epoch order into batches of clips of similar length: each window of
/// `BUCKET_WINDOW_BATCHES` batches is sorted by length and cut into batches, and the batch
/// order is shuffled again. Batches are padded to their longest clip, so this cuts the
/// padding a random batch carries (on RAVDESS, clips of 1.4-3.4 s padded to 3 s wasted ~30%
/// of a CRNN epoch) while every clip is still seen once per epoch in a random context.
fn length_bucketed_batches(
    order: &[usize],
    len: impl Fn(usize) -> usize,
    batch_size: usize,
    rng: &mut SplitMix64,
) -> Vec<Vec<usize>> {
    let bs = batch_size.max(1);
    let mut batches: Vec<Vec<usize>> = Vec::with_capacity(order.len().div_ceil(bs));
    for window in order.chunks(bs * BUCKET_WINDOW_BATCHES) {
        let mut w = window.to_vec();
        w.sort_by_key(|&i| len(i)); // stable: ties keep the shuffled order
        batches.extend(w.chunks(bs).map(<[usize]>::to_vec));
    }
    rng.shuffle(&mut batches);
    batches
}

/// A training batch: inputs and labels, the mixup partners if any, and the teachers' target
/// probabilities (`[batch * classes]`, row-major) with their weight when distilling.
type StepInput = (HostBatch, Option<Mixup>, Option<(Vec<f32>, f32)>);

/// One optimisation step; returns (mean loss, correct count). With mixup the loss is
/// `lambda CE(y) + (1 - lambda) CE(y_partner)` (Zhang et al. 2018, eq. 1 applied to the loss,
/// which is the same for cross-entropy) and "correct" counts the dominant label. With
/// teacher targets `q` of weight `w` it is `(1 - w)` times that plus `w CE(q)`, where
/// `CE(q) = -sum_c q_c log softmax(logits)_c` averaged over the batch (Hinton et al. 2015
/// at temperature 1).
fn train_step(
    model: &mut Model,
    optim: &mut ModuleOptimizer,
    ce: &CrossEntropyLoss,
    (hb, mix, soft): StepInput,
    lr: f64,
    device: &Device,
) -> Result<(f64, usize)> {
    let b = hb.labels.len();
    let x = Tensor::<3>::from_data(TensorData::new(hb.data, hb.shape), device);
    let labels_tensor =
        |labels: Vec<i64>| Tensor::<1, Int>::from_data(TensorData::new(labels, [b]), device);
    let targets: Vec<i64> = hb.labels.iter().map(|&l| l as i64).collect();
    let y = labels_tensor(targets);
    let logits = model.forward(x, &hb.lengths);
    let preds = read_ints(logits.clone().argmax(1))?;
    let correct = preds
        .iter()
        .zip(&hb.labels)
        .filter(|(p, l)| **p == **l as i64)
        .count();
    let hard = match mix {
        None => ce.forward(logits.clone(), y),
        Some(Mixup { partner, lambda }) => {
            let other = labels_tensor(partner.iter().map(|&p| hb.labels[p] as i64).collect());
            ce.forward(logits.clone(), y) * lambda
                + ce.forward(logits.clone(), other) * (1.0 - lambda)
        }
    };
    let loss = match soft {
        None => hard,
        Some((q, w)) => {
            let classes = logits.dims()[1];
            let q = Tensor::<2>::from_data(TensorData::new(q, [b, classes]), device);
            hard * (1.0 - w) + soft_cross_entropy(logits, q) * w
        }
    };
    let loss_value = read_floats(loss.clone())?
        .first()
        .copied()
        .unwrap_or(f32::NAN) as f64;
    if !loss_value.is_finite() {
        return Err(TrainError::config(
            "--lr",
            format!("training diverged (loss {loss_value}); lower the learning rate"),
        ));
    }
    let grads = GradientsParams::from_grads(loss.backward(), &*model);
    *model = optim.step(lr, model.clone(), grads);
    Ok((loss_value, correct))
}

/// `-sum_c q_c log softmax(logits)_c`, averaged over the batch: cross-entropy against soft
/// targets `q` (rows summing to 1), `[batch, classes]` x2 -> `[1]`.
fn soft_cross_entropy(logits: Tensor<2>, q: Tensor<2>) -> Tensor<1> {
    (log_softmax(logits, 1) * q).sum_dim(1).mean().neg()
}

pub(super) fn read_floats<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    t.into_data()
        .try_to_vec_as::<f32>()
        .map_err(|e| TrainError::config("backend", format!("unreadable tensor: {e:?}")))
}

pub(super) fn read_ints<const D: usize>(t: Tensor<D, Int>) -> Result<Vec<i64>> {
    t.into_data()
        .try_to_vec_as::<i64>()
        .map_err(|e| TrainError::config("backend", format!("unreadable tensor: {e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::loss::CrossEntropyLossConfig;

    #[test]
    fn soft_cross_entropy_matches_hand_computation_and_hard_ce_on_one_hot_targets() {
        let dev = Device::flex();
        let logits = Tensor::<2>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0, 0.0, 0.0, 0.0], [2, 3]),
            &dev,
        );
        let q = |v: Vec<f32>| Tensor::<2>::from_data(TensorData::new(v, [2, 3]), &dev);
        let value = |t: Tensor<1>| read_floats(t).unwrap()[0];
        // Row 1: log(e + e^2 + e^3) - 3; row 2 (uniform logits, target split over two
        // classes): log 3. Mean of the two.
        let e = std::f32::consts::E;
        let want = ((e + e * e + e * e * e).ln() - 3.0 + 3f32.ln()) / 2.0;
        let got = value(soft_cross_entropy(
            logits.clone(),
            q(vec![0.0, 0.0, 1.0, 0.5, 0.5, 0.0]),
        ));
        // f32 log-softmax of values of order 1: agreement to ~1e-6 relative.
        const TOL: f32 = 1e-5;
        assert!((got - want).abs() < TOL, "{got} vs {want}");
        // One-hot targets give burn's (unweighted) cross-entropy.
        let ce = CrossEntropyLossConfig::new().init(&dev);
        let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![2i64, 0], [2]), &dev);
        let hard = value(ce.forward(logits.clone(), labels));
        let soft = value(soft_cross_entropy(
            logits,
            q(vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]),
        ));
        assert!((hard - soft).abs() < TOL, "{hard} vs {soft}");
    }

    #[test]
    fn bucketed_batches_cover_every_clip_once_and_group_lengths() {
        let n = 300;
        let lens: Vec<usize> = (0..n).map(|i| 100 + (i * 7919) % 250).collect();
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = SplitMix64::new(3);
        rng.shuffle(&mut order);
        let batches = length_bucketed_batches(&order, |i| lens[i], 32, &mut rng);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
        assert!(batches.iter().all(|b| !b.is_empty() && b.len() <= 32));
        // Padding a batch to its longest clip: bucketed padding is far below random batches'.
        let padding = |bs: &[Vec<usize>]| -> usize {
            bs.iter()
                .map(|b| {
                    let m = b.iter().map(|&i| lens[i]).max().unwrap_or(0);
                    b.iter().map(|&i| m - lens[i]).sum::<usize>()
                })
                .sum()
        };
        let random: Vec<Vec<usize>> = order.chunks(32).map(<[usize]>::to_vec).collect();
        assert!(padding(&batches) * 3 < padding(&random));
        // Same seed, same batches (resume depends on it).
        let mut rng2 = SplitMix64::new(3);
        let mut order2: Vec<usize> = (0..n).collect();
        rng2.shuffle(&mut order2);
        assert_eq!(
            batches,
            length_bucketed_batches(&order2, |i| lens[i], 32, &mut rng2)
        );
    }
}
