//! The training loop: speaker hold-out, batches, AdamW with warm-up + cosine learning rate,
//! validation UA early stopping, checkpoints, and the final artifact with test metrics.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::grad_clipping::GradientClippingConfig;
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use dsp_features::{FeatureKind, FeatureMatrix, NormStats};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use ser_audio::rng::SplitMix64;
use ser_eval::metrics::ClassificationReport;
use ser_models::artifact::{ArtifactKind, FORMAT_VERSION, Manifest, Member, save_with_files};
use ser_models::{Classifier, Model, ModelConfig};
use serde::{Deserialize, Serialize};

use crate::augment::{HostBatch, Mixup, eval_batch, mixup, train_batch};
use crate::checkpoint::{self, TrainState};
use crate::config::{SpeakerSplit, TrainConfig};
use crate::data::{Dataset, load_dataset, resolve_split};
use crate::error::{Result, TrainError};
use crate::report::{EpochRow, plot, write_csv};

static INTERRUPT: AtomicBool = AtomicBool::new(false);

/// Makes Ctrl-C stop training after the current batch with a checkpoint (call once, from a
/// binary). A second Ctrl-C is not special: the checkpoint is already being written.
pub fn install_ctrlc_handler() -> Result<()> {
    ctrlc::set_handler(|| {
        INTERRUPT.store(true, Ordering::SeqCst);
        eprintln!("\ninterrupted: saving a checkpoint after this batch (resume with --resume)");
    })
    .map_err(|e| TrainError::config("Ctrl-C handler", e.to_string()))
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrainStatus {
    /// All epochs ran or early stopping triggered; the artifact was written.
    Completed,
    /// Stopped by Ctrl-C or `stop_after_batches`; a checkpoint was written, no artifact.
    Interrupted,
}

/// The result of [`train`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainOutcome {
    /// How the run ended.
    pub status: TrainStatus,
    /// The artifact directory (when completed).
    pub artifact: Option<PathBuf>,
    /// The checkpoint directory (when interrupted).
    pub checkpoint: Option<PathBuf>,
    /// Held-out speakers.
    pub split: SpeakerSplit,
    /// The kept epoch's validation UA (the best one's, or the last one's with `keep_last`);
    /// `None` when the run has no validation speakers (`no_val`) or no epoch finished.
    pub best_val_ua: Option<f64>,
    /// 1-based epoch of the kept model (0 before the first epoch ends).
    pub best_epoch: usize,
    /// Metrics on the test speakers (when completed; `None` with `no_test`).
    pub test: Option<ClassificationReport>,
    /// Class names.
    pub labels: Vec<String>,
    /// Per-epoch log.
    pub log: Vec<EpochRow>,
    /// Training seconds (all sessions of a resumed run).
    pub seconds: f64,
}

/// Loads the data of `cfg` (with the feature cache) and trains.
pub fn train(cfg: &TrainConfig) -> Result<TrainOutcome> {
    cfg.validate()?;
    let bar = clip_bar(cfg.progress, "features");
    let ds = load_dataset(cfg, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    train_on(cfg, &ds)
}

/// A bar counting clips for a one-off pass over the corpus (hidden without `progress`).
fn clip_bar(progress: bool, what: &str) -> ProgressBar {
    let bar = if progress {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(style(&format!(
        "{what} {{bar:30}} {{pos}}/{{len}} clips {{elapsed}} (ETA {{eta}})"
    )));
    bar
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// Trains on an already loaded dataset (lets `ser-eval cv` load the corpus once and train
/// every fold with its own `cfg.split`).
pub fn train_on(cfg: &TrainConfig, ds: &Dataset) -> Result<TrainOutcome> {
    cfg.validate()?;
    // Process-wide, before any model runs (see `TrainConfig::burn_ops`).
    ser_models::fastconv::set_enabled(!cfg.burn_ops);
    let mut split = resolve_split(ds, &cfg.split)?;
    if cfg.no_test {
        // Every speaker trains (`TrainConfig::no_test`): the final fit of a cross-validated
        // recipe.
        split.test.clear();
    }
    if cfg.no_val {
        // Every non-test speaker trains (`TrainConfig::no_val`).
        split.val.clear();
    }
    // Without validation speakers every epoch's model replaces the kept one.
    let keep_last = cfg.keep_last || split.val.is_empty();
    let test_idx = ds.indices(&split.test, true);
    let val_idx = ds.indices(&split.val, true);
    let held: Vec<String> = split.test.iter().chain(&split.val).cloned().collect();
    let train_idx = ds.indices(&held, false);
    let n_classes = ds.labels.len();
    let bins = ds.items[0].features.bins();
    let model_cfg = cfg.model.clone().unwrap_or_else(|| {
        let c = match ModelConfig::default_for(cfg.family, bins, n_classes) {
            ModelConfig::Crnn(c) if cfg.pooled_stem => {
                ModelConfig::Crnn(c.with_strided_stem(Some(false)))
            }
            c => c,
        };
        let c = with_width(c, cfg.channels.as_deref(), cfg.hidden);
        if cfg.tiny { tiny(c) } else { c }
    });
    model_cfg.validate()?;
    if model_cfg.n_bins() != bins || model_cfg.n_classes() != n_classes {
        return Err(TrainError::config(
            "model",
            format!(
                "config expects {} bins / {} classes, the data has {bins} / {n_classes}",
                model_cfg.n_bins(),
                model_cfg.n_classes()
            ),
        ));
    }
    let train_mats: Vec<&FeatureMatrix> =
        train_idx.iter().map(|&i| &ds.items[i].features).collect();
    let norm = NormStats::fit(&train_mats)?;
    let crop = ((cfg.augment.crop_seconds * cfg.features.sample_rate as f32)
        / cfg.features.hop_length as f32)
        .round()
        .max(model_cfg.min_frames() as f32) as usize;
    let log_power = ds.features.kind == FeatureKind::LogMel && !ds.features.cmvn;
    // Teacher probabilities for every training clip, once per run (not cached: the teachers
    // may change while the features stay).
    let soft = match &cfg.distill {
        Some(d) => {
            let bar = clip_bar(cfg.progress, "teacher targets");
            let t = crate::distill::teacher_targets(d, ds, &train_idx, &split.test, |done, n| {
                bar.set_length(n as u64);
                bar.set_position(done as u64);
            })?;
            bar.finish_and_clear();
            Some((t, d.weight))
        }
        None => None,
    };

    let device = crate::backend::device(cfg.backend)?;
    let train_device = device.clone().autodiff();
    device.seed(cfg.seed);
    train_device.seed(cfg.seed);

    let ce = CrossEntropyLossConfig::new()
        .with_smoothing((cfg.label_smoothing > 0.0).then_some(cfg.label_smoothing))
        .with_weights(
            cfg.class_weights
                .then(|| class_weights(ds, &train_idx, n_classes)),
        )
        .init(&train_device);
    let ce_eval = CrossEntropyLossConfig::new().init(&device);
    let optim = AdamWConfig::new()
        .with_weight_decay(cfg.weight_decay)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(5.0)))
        .init();
    let fingerprint = fingerprint(cfg, &model_cfg, &split);
    let ckpt_dir = cfg.checkpoint_dir();

    let (mut state, mut model, mut optim, mut best) = if cfg.resume {
        let r = checkpoint::load(&ckpt_dir, optim, &train_device, &device)?;
        if r.state.fingerprint != fingerprint {
            return Err(TrainError::Resume {
                path: ckpt_dir,
                reason: "the checkpoint was made with different settings (model, features, split, seed, batch \
                         size or data); resume with the same options or start without --resume"
                    .into(),
            });
        }
        (r.state, r.model, r.optim, r.best)
    } else {
        let state = TrainState {
            fingerprint,
            epoch: 0,
            batch: 0,
            loss_sum: 0.0,
            correct: 0,
            seen: 0,
            epoch_seconds: 0.0,
            best_ua: -1.0,
            best_epoch: 0,
            best_metrics: None,
            bad_epochs: 0,
            log: Vec::new(),
            split: split.clone(),
            norm: norm.clone(),
            model: model_cfg.clone(),
            seconds: 0.0,
        };
        (state, model_cfg.init(&train_device), optim, None)
    };

    let bs = cfg.batch_size.min(train_idx.len()).max(1);
    let n_batches = train_idx.len().div_ceil(bs);
    let multi = MultiProgress::new();
    if !cfg.progress {
        multi.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let epoch_bar = multi.add(ProgressBar::new(cfg.epochs as u64));
    epoch_bar.set_style(style(
        "epoch {pos}/{len} {bar:20} {msg} [{elapsed} / ETA {eta}]",
    ));
    epoch_bar.set_position(state.epoch as u64);
    let batch_bar = multi.add(ProgressBar::new(n_batches as u64));
    batch_bar.set_style(style(
        "  batch {pos}/{len} {bar:30} {msg} ({per_sec}, ETA {eta})",
    ));
    let mut batches_here = 0usize;
    let stop_after = cfg.stop_after_batches;
    // Ctrl-C, or the hidden `--stop-after-batches` test hook, asks the loop to checkpoint and
    // return; checked after every batch (mid-epoch) and again after the epoch's checkpoint.
    let stop_requested = |batches: usize| {
        INTERRUPT.load(Ordering::SeqCst) || stop_after.is_some_and(|n| batches >= n)
    };

    // Early stopping never fires before `min_epochs`: on 2 validation actors an early lucky
    // epoch can outlast the patience of a slowly learning, heavily augmented run.
    while state.epoch < cfg.epochs
        && (state.epoch < cfg.min_epochs || state.bad_epochs < cfg.patience.max(1))
    {
        let epoch = state.epoch;
        let started = Instant::now();
        let mut order = train_idx.clone();
        let mut epoch_rng = SplitMix64::derive(cfg.seed, 0xE90C_0000 + epoch as u64);
        epoch_rng.shuffle(&mut order);
        let batches = length_bucketed_batches(
            &order,
            |i| ds.items[i].features.frames(),
            bs,
            &mut epoch_rng,
        );
        batch_bar.reset();
        batch_bar.set_position(state.batch as u64);
        for bi in state.batch..n_batches {
            let chunk = batches.get(bi).map_or(&[][..], Vec::as_slice);
            if chunk.len() < 2 && n_batches > 1 {
                continue; // batch norm needs two examples; the next epoch reshuffles
            }
            let lr = learning_rate(cfg, epoch, bi, n_batches);
            // Per-batch seeds make a resumed run draw exactly what an uninterrupted one would.
            let key = ((epoch as u64) << 32) | bi as u64;
            train_device.seed(SplitMix64::derive(cfg.seed, key).next_u64());
            let mut rng = SplitMix64::derive(cfg.seed ^ 0xA5A5_5A5A, key);
            // Waveform-noise copies come from their own stream, drawn only when enabled, so
            // runs without them draw exactly what they did before.
            let mut noise_rng = SplitMix64::derive(cfg.seed ^ 0x4E01_5E00, key);
            let noise_prob = cfg.augment.wave_noise.map_or(0.0, |w| f64::from(w.prob));
            let clips: Vec<_> = chunk
                .iter()
                .map(|&i| {
                    let item = &ds.items[i];
                    let features = if !item.noisy.is_empty() && noise_rng.next_f64() < noise_prob {
                        &item.noisy[noise_rng.below(item.noisy.len())]
                    } else {
                        &item.features.data
                    };
                    (features, item.label)
                })
                .collect();
            let mut hb = train_batch(
                &clips,
                &norm_of(&state),
                crop,
                model_cfg.min_frames(),
                &cfg.augment,
                log_power,
                &mut rng,
            );
            // Drawn after the augmentation, so a run without mixup draws exactly what it did
            // before mixup existed.
            let mix = mixup(&mut hb, cfg.augment.mixup_alpha, &mut rng);
            // The teachers' targets of the batch's clips, row by row, mixed as the inputs were.
            let soft_batch = soft.as_ref().map(|(t, w)| {
                let q: Vec<f32> = chunk.iter().flat_map(|&i| t[i].iter().copied()).collect();
                let q = match &mix {
                    Some(m) => m.blend(&q, n_classes),
                    None => q,
                };
                (q, *w)
            });
            let (loss, correct) = train_step(
                &mut model,
                &mut optim,
                &ce,
                (hb, mix, soft_batch),
                lr,
                &train_device,
            )?;
            state.loss_sum += loss * chunk.len() as f64;
            state.correct += correct;
            state.seen += chunk.len();
            state.batch = bi + 1;
            batches_here += 1;
            batch_bar.set_position((bi + 1) as u64);
            batch_bar.set_message(format!(
                "loss {:.3} acc {:.3} lr {lr:.1e}",
                state.loss_sum / state.seen.max(1) as f64,
                state.correct as f64 / state.seen.max(1) as f64
            ));
            if stop_requested(batches_here) && bi + 1 < n_batches {
                state.epoch_seconds += started.elapsed().as_secs_f64();
                state.seconds += started.elapsed().as_secs_f64();
                checkpoint::save(&ckpt_dir, &state, &model, &optim, best.as_ref())?;
                multi.clear().ok();
                return Ok(outcome(
                    TrainStatus::Interrupted,
                    &state,
                    ds,
                    None,
                    None,
                    Some(ckpt_dir),
                ));
            }
        }
        // Validation on whole clips.
        let valid = model.valid();
        let ev = Evaluator {
            ds,
            norm: &state.norm,
            ce: &ce_eval,
            bs,
            min_frames: state.model.min_frames(),
            device: &device,
        };
        let val = if val_idx.is_empty() {
            None
        } else {
            Some(evaluate(&valid, &val_idx, &ev)?)
        };
        let secs = state.epoch_seconds + started.elapsed().as_secs_f64();
        state.seconds += started.elapsed().as_secs_f64();
        let row = EpochRow {
            epoch: epoch + 1,
            train_loss: state.loss_sum / state.seen.max(1) as f64,
            train_acc: state.correct as f64 / state.seen.max(1) as f64,
            val_loss: val.as_ref().map(|v| v.1),
            val_ua: val.as_ref().map(|v| v.0.balanced_accuracy),
            val_wa: val.as_ref().map(|v| v.0.accuracy),
            lr: learning_rate(cfg, epoch, n_batches - 1, n_batches),
            seconds: secs,
        };
        // With `keep_last` every epoch replaces the kept model, so early stopping never fires.
        let val_ua = val.as_ref().map_or(0.0, |v| v.0.balanced_accuracy);
        if val_ua > state.best_ua + 1e-9 || keep_last {
            state.best_ua = val_ua;
            state.best_epoch = epoch + 1;
            state.best_metrics = val.map(|v| v.0);
            state.bad_epochs = 0;
            best = Some(valid);
        } else {
            state.bad_epochs += 1;
        }
        let val_text = match (row.val_loss, row.val_ua, row.val_wa) {
            (Some(l), Some(ua), Some(wa)) => format!("val loss {l:.3} UA {ua:.3} WA {wa:.3}"),
            _ => "no validation actors".to_string(),
        };
        let line = format!(
            "epoch {:>3}: train loss {:.3} acc {:.3} | {val_text} | {:.1}s{}",
            row.epoch,
            row.train_loss,
            row.train_acc,
            row.seconds,
            if keep_last {
                ""
            } else if state.best_epoch == epoch + 1 {
                " *best"
            } else {
                ""
            }
        );
        if cfg.progress {
            multi.println(line).ok();
        } else {
            println!("{line}");
        }
        state.log.push(row);
        state.epoch += 1;
        state.batch = 0;
        state.loss_sum = 0.0;
        state.correct = 0;
        state.seen = 0;
        state.epoch_seconds = 0.0;
        epoch_bar.set_position(state.epoch as u64);
        epoch_bar.set_message(if val_idx.is_empty() {
            "no validation actors: last epoch kept".to_string()
        } else {
            format!(
                "best val UA {:.3} (epoch {})",
                state.best_ua, state.best_epoch
            )
        });
        std::fs::create_dir_all(&ckpt_dir).map_err(|e| TrainError::io(&ckpt_dir, e))?;
        write_csv(&ckpt_dir.join("log.csv"), &state.log)?;
        if let Err(e) = plot(
            &ckpt_dir.join("curve.png"),
            &ckpt_dir.join("curve.svg"),
            &state.log,
        ) {
            multi
                .println(format!("warning: learning curve not drawn: {e}"))
                .ok();
        }
        checkpoint::save(&ckpt_dir, &state, &model, &optim, best.as_ref())?;
        if stop_requested(batches_here) {
            multi.clear().ok();
            return Ok(outcome(
                TrainStatus::Interrupted,
                &state,
                ds,
                None,
                None,
                Some(ckpt_dir),
            ));
        }
    }
    multi.clear().ok();

    // Final artifact from the best epoch, evaluated on the test speakers through the same
    // pipeline (Classifier) that every other tool uses.
    let best = best.unwrap_or_else(|| model.valid());
    let mut manifest = Manifest {
        format_version: FORMAT_VERSION,
        kind: ArtifactKind::Single,
        members: vec![Member {
            name: "model".into(),
            model: state.model.clone(),
            weights: "model.bpk".into(),
            norm: Some(state.norm.clone()),
            head: None,
        }],
        features: ds.features.clone(),
        preprocess: Some(ds.preprocess),
        labels: ds.labels.clone(),
        protocol: if split.test.is_empty() {
            format!(
                "trained on every speaker of the corpus ({}{}): no speaker-independent score of \
                 its own; its estimate is the cross-validation by speaker of the same recipe",
                ds.speakers()
                    .into_iter()
                    .filter(|s| !split.val.contains(s))
                    .collect::<Vec<_>>()
                    .join(", "),
                if split.val.is_empty() {
                    ", last epoch kept".to_string()
                } else {
                    format!(
                        "; validation actors {} for early stopping",
                        split.val.join(", ")
                    )
                }
            )
        } else if split.val.is_empty() {
            format!(
                "speaker-independent: test actors {} never seen in training (no validation actors: every other actor trained, last epoch kept)",
                split.test.join(", ")
            )
        } else {
            format!(
                "speaker-independent: test actors {} never seen in training (validation actors {} used only for early stopping)",
                split.test.join(", "),
                split.val.join(", ")
            )
        },
        training: serde_json::Value::Null,
        metrics: serde_json::Value::Null,
        test_time_warps: Vec::new(),
        functionals: None,
    };
    // No test speakers (`no_test`): no score rather than a score of nothing, and no
    // classifier built to compute it.
    let test = if test_idx.is_empty() {
        None
    } else {
        let classifier = Classifier::from_parts(manifest.clone(), vec![best.clone()], &device)?;
        let mut preds = Vec::with_capacity(test_idx.len());
        for &i in &test_idx {
            preds.push(classifier.predict_features(&ds.items[i].features)?.index);
        }
        let targets: Vec<usize> = test_idx.iter().map(|&i| ds.items[i].label).collect();
        Some(ClassificationReport::new(&targets, &preds, n_classes)?)
    };
    manifest.training = serde_json::json!({
        "config": cfg,
        "data": ds.source,
        "train_speakers": ds.speakers().into_iter().filter(|s| !held.contains(s)).collect::<Vec<_>>(),
        "n_train": train_idx.len(),
        "n_val": val_idx.len(),
        "n_test": test_idx.len(),
        "epochs_run": state.log.len(),
        "best_epoch": state.best_epoch,
        "seconds": state.seconds,
        "backend": cfg.backend.name(),
    });
    manifest.metrics = serde_json::json!({
        "protocol": manifest.protocol,
        "test_actors": split.test,
        "val_actors": split.val,
        "test": test.as_ref().map(|m| metrics_json(m, &ds.labels)),
        "validation": state.best_metrics.as_ref().map(|m| metrics_json(m, &ds.labels)),
    });
    let extras: Vec<PathBuf> = ["log.csv", "curve.png", "curve.svg"]
        .iter()
        .map(|f| ckpt_dir.join(f))
        .filter(|p| p.is_file())
        .collect();
    save_with_files(&cfg.out, &manifest, &[best], &extras)?;
    let _ = std::fs::remove_dir_all(&ckpt_dir);
    Ok(outcome(
        TrainStatus::Completed,
        &state,
        ds,
        test,
        Some(cfg.out.clone()),
        None,
    ))
}

fn norm_of(state: &TrainState) -> NormStats {
    state.norm.clone()
}

fn outcome(
    status: TrainStatus,
    state: &TrainState,
    ds: &Dataset,
    test: Option<ClassificationReport>,
    artifact: Option<PathBuf>,
    checkpoint: Option<PathBuf>,
) -> TrainOutcome {
    TrainOutcome {
        status,
        artifact,
        checkpoint,
        split: state.split.clone(),
        best_val_ua: state.best_metrics.as_ref().map(|m| m.balanced_accuracy),
        best_epoch: state.best_epoch,
        test,
        labels: ds.labels.clone(),
        log: state.log.clone(),
        seconds: state.seconds,
    }
}

/// The scores the manifest records (recall `null` for a class absent from the clips).
fn metrics_json(m: &ClassificationReport, labels: &[String]) -> serde_json::Value {
    let per_class: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .zip(&m.per_class)
        .map(|(l, c)| {
            (
                l.clone(),
                serde_json::json!((c.support > 0).then_some(c.recall)),
            )
        })
        .collect();
    serde_json::json!({
        "ua": m.balanced_accuracy, "wa": m.accuracy, "n": m.n, "recall": per_class,
        "confusion": m.confusion.counts(), "labels": labels,
    })
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

fn read_floats<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    t.into_data()
        .try_to_vec_as::<f32>()
        .map_err(|e| TrainError::config("backend", format!("unreadable tensor: {e:?}")))
}

fn read_ints<const D: usize>(t: Tensor<D, Int>) -> Result<Vec<i64>> {
    t.into_data()
        .try_to_vec_as::<i64>()
        .map_err(|e| TrainError::config("backend", format!("unreadable tensor: {e:?}")))
}

/// What validation needs besides the model and the clips.
struct Evaluator<'a> {
    ds: &'a Dataset,
    norm: &'a NormStats,
    ce: &'a CrossEntropyLoss,
    bs: usize,
    min_frames: usize,
    device: &'a Device,
}

/// Validation metrics and mean loss over whole clips, in length-sorted batches.
fn evaluate(
    model: &Model,
    idx: &[usize],
    ev: &Evaluator<'_>,
) -> Result<(ClassificationReport, f64)> {
    let Evaluator {
        ds,
        norm,
        ce,
        bs,
        min_frames,
        device,
    } = *ev;
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

/// Inverse class frequency on the training set, normalised to mean 1 (classes absent from
/// training get 1).
fn class_weights(ds: &Dataset, train_idx: &[usize], n: usize) -> Vec<f32> {
    let mut counts = vec![0usize; n];
    for &i in train_idx {
        counts[ds.items[i].label] += 1;
    }
    let total = train_idx.len().max(1) as f32;
    counts
        .iter()
        .map(|&c| {
            if c == 0 {
                1.0
            } else {
                total / (n as f32 * c as f32)
            }
        })
        .collect()
}

/// Linear warm-up over the first epoch from lr/10, then cosine decay to lr/20 at the end.
fn learning_rate(cfg: &TrainConfig, epoch: usize, batch: usize, n_batches: usize) -> f64 {
    let pos = epoch as f64 + batch as f64 / n_batches.max(1) as f64;
    if pos < 1.0 && cfg.epochs > 1 {
        return cfg.lr * (0.1 + 0.9 * pos);
    }
    let span = (cfg.epochs as f64 - 1.0).max(1.0);
    let progress = ((pos - 1.0) / span).clamp(0.0, 1.0);
    let floor = cfg.lr / 20.0;
    floor + (cfg.lr - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
}

/// A default config with the conv channels and recurrent width the recipe asks for (see
/// [`TrainConfig::channels`] and [`TrainConfig::hidden`]); families without such a part
/// ignore that override.
fn with_width(c: ModelConfig, channels: Option<&[usize]>, hidden: Option<usize>) -> ModelConfig {
    match c {
        ModelConfig::Cnn(c) => match channels {
            Some(ch) => ModelConfig::Cnn(c.with_channels(ch.to_vec())),
            None => ModelConfig::Cnn(c),
        },
        ModelConfig::Rnn(c) => match hidden {
            Some(h) => ModelConfig::Rnn(c.with_hidden(h)),
            None => ModelConfig::Rnn(c),
        },
        ModelConfig::Crnn(mut c) => {
            if let Some(ch) = channels {
                // The default pools time by 2 in each of the first three blocks (300 -> 37
                // frames); further blocks keep the time axis so the RNN sees the same rate.
                c.time_pools = (0..ch.len()).map(|i| if i < 3 { 2 } else { 1 }).collect();
                c.channels = ch.to_vec();
            }
            if let Some(h) = hidden {
                c.hidden = h;
            }
            ModelConfig::Crnn(c)
        }
    }
}

/// A very small version of a default config (smoke tests, CI).
fn tiny(c: ModelConfig) -> ModelConfig {
    match c {
        ModelConfig::Cnn(c) => ModelConfig::Cnn(c.with_channels(vec![4, 8])),
        ModelConfig::Rnn(c) => ModelConfig::Rnn(c.with_hidden(8)),
        ModelConfig::Crnn(c) => ModelConfig::Crnn(
            c.with_channels(vec![4, 8])
                .with_time_pools(vec![2, 2])
                .with_projection(16)
                .with_hidden(8),
        ),
    }
}

/// Options that joined [`TrainConfig`] later. Their fields are skipped when serialised at
/// their default (`skip_serializing_if`), so copying them from the serialised config adds them
/// to a fingerprint only when set: runs without them keep the fingerprints of older versions.
const LATER_FINGERPRINT_KEYS: [&str; 7] = [
    "min_epochs",
    "distill",
    "keep_last",
    "label_smoothing",
    "burn_ops",
    "no_val",
    "no_test",
];

fn fingerprint(cfg: &TrainConfig, model: &ModelConfig, split: &SpeakerSplit) -> String {
    let mut parts = serde_json::json!({
        "model": model, "features": cfg.features, "preprocess": cfg.preprocess, "split": split,
        "seed": cfg.seed, "batch_size": cfg.batch_size, "data": cfg.data, "augment": cfg.augment,
        "lr": cfg.lr, "class_weights": cfg.class_weights,
    });
    let saved = serde_json::to_value(cfg).unwrap_or_default();
    for key in LATER_FINGERPRINT_KEYS {
        if let Some(v) = saved.get(key) {
            parts[key] = v.clone();
        }
    }
    crate::cache::key(&[parts.to_string().as_bytes()])
}

#[cfg(test)]
mod bucket_tests {
    use super::*;
    use ser_models::Family;

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
    fn fingerprint_takes_later_options_only_when_set_as_before() {
        let model = ModelConfig::default_for(Family::Crnn, 64, 8);
        let split = SpeakerSplit::default();
        let base = TrainConfig::new(Family::Crnn);
        let mut all = base.clone();
        all.min_epochs = 30;
        all.keep_last = true;
        all.label_smoothing = 0.1;
        all.distill = Some(crate::Distill::new(vec!["t".into()], None));
        // With the later options off, the fingerprint is that of the original ten settings
        // (checked equal to the former one-`if`-per-option code for `base` and `all` when
        // this was written: 0fb77db6... and f9ffd42d...).
        let original = serde_json::json!({
            "model": model, "features": base.features, "preprocess": base.preprocess,
            "split": split, "seed": base.seed, "batch_size": base.batch_size,
            "data": base.data, "augment": base.augment, "lr": base.lr,
            "class_weights": base.class_weights,
        });
        assert_eq!(
            fingerprint(&base, &model, &split),
            crate::cache::key(&[original.to_string().as_bytes()])
        );
        // Each later option changes the fingerprint (a resume with it changed is refused).
        assert_ne!(
            fingerprint(&base, &model, &split),
            fingerprint(&all, &model, &split)
        );
        let setters: [fn(&mut TrainConfig); 3] = [
            |c| c.burn_ops = true,
            |c| c.no_val = true,
            |c| c.no_test = true,
        ];
        for set in setters {
            let mut other = base.clone();
            set(&mut other);
            assert_ne!(
                fingerprint(&base, &model, &split),
                fingerprint(&other, &model, &split)
            );
        }
        // Options outside the fingerprint (where the artifact goes) do not.
        let mut moved = base.clone();
        moved.out = "elsewhere".into();
        assert_eq!(
            fingerprint(&base, &model, &split),
            fingerprint(&moved, &model, &split)
        );
    }

    #[test]
    fn width_overrides_shape_the_default_models() {
        let crnn = ModelConfig::default_for(Family::Crnn, 64, 8);
        let ModelConfig::Crnn(c) = with_width(crnn.clone(), Some(&[32, 64, 128, 128]), Some(128))
        else {
            panic!("family changed")
        };
        assert_eq!(c.channels, vec![32, 64, 128, 128]);
        // Three time halvings as the default (300 -> 37 frames), none in the extra block.
        assert_eq!(c.time_pools, vec![2, 2, 2, 1]);
        assert_eq!(c.hidden, 128);
        assert_eq!(c.strided_stem, Some(true));
        ModelConfig::Crnn(c).validate().unwrap();
        // No override: the default, unchanged.
        assert_eq!(
            serde_json::to_string(&with_width(crnn.clone(), None, None)).unwrap(),
            serde_json::to_string(&crnn).unwrap()
        );
        let ModelConfig::Cnn(c) = with_width(
            ModelConfig::default_for(Family::Cnn, 64, 8),
            Some(&[8, 16]),
            Some(99),
        ) else {
            panic!("family changed")
        };
        assert_eq!(c.channels, vec![8, 16]);
        let ModelConfig::Rnn(c) = with_width(
            ModelConfig::default_for(Family::Rnn, 64, 8),
            Some(&[8]),
            Some(32),
        ) else {
            panic!("family changed")
        };
        assert_eq!(c.hidden, 32);
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
