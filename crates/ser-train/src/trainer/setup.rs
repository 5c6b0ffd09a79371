//! Setting a run up: the speaker split, the model configuration, normalisation, teacher
//! targets, devices, losses and optimiser, and a fresh or resumed training state.

use std::path::PathBuf;

use burn::grad_clipping::GradientClippingConfig;
use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::{AdamWConfig, ModuleOptimizer};
use burn::prelude::*;
use dsp_features::{FeatureKind, FeatureMatrix, NormStats};
use ser_eval::heard::heard_by;
use ser_models::{Model, ModelConfig};

use super::events::{Stage, TrainEvent};
use crate::checkpoint::{self, TrainState};
use crate::config::{InitConfig, InitNorm, SpeakerSplit, TrainConfig};
use crate::data::{Dataset, resolve_split};
use crate::error::{Result, TrainError};
use crate::finetune::Parent;

/// What a run trains on and with: decided once, before the first epoch.
pub(super) struct Plan {
    /// The speakers held out (after `no_test` / `no_val`).
    pub split: SpeakerSplit,
    /// Every epoch's model replaces the kept one (`keep_last`, or no validation speakers).
    pub keep_last: bool,
    /// Dataset indices of the test, validation and training clips.
    pub test_idx: Vec<usize>,
    pub val_idx: Vec<usize>,
    pub train_idx: Vec<usize>,
    /// The speakers held out of training (test and validation).
    pub held: Vec<String>,
    /// The network's configuration.
    pub model_cfg: ModelConfig,
    /// Normalisation fitted on the training clips.
    pub norm: NormStats,
    /// Training crop in frames.
    pub crop: usize,
    /// Whether the features are log-power (the gain, noise and low-pass augmentations apply).
    pub log_power: bool,
    /// The teachers' targets per dataset item and their weight, when distilling.
    pub soft: Option<(Vec<Vec<f32>>, f32)>,
    /// Examples per batch and batches per epoch.
    pub batch_size: usize,
    pub batches: usize,
    /// The model a fine-tune starts from (`cfg.init`).
    pub parent: Option<Parent>,
}

/// A training run in progress: built by [`Trainer::new`] (set-up, or resume from a
/// checkpoint), advanced by [`Trainer::epoch`], stopped early by [`Trainer::should_continue`]
/// and turned into an artifact by [`Trainer::finalize`]; [`Trainer::run`] does all of it.
pub struct Trainer<'a> {
    pub(super) cfg: &'a TrainConfig,
    pub(super) ds: &'a Dataset,
    pub(super) plan: Plan,
    pub(super) device: Device,
    pub(super) train_device: Device,
    pub(super) ce: CrossEntropyLoss,
    pub(super) ce_eval: CrossEntropyLoss,
    pub(super) state: TrainState,
    pub(super) model: Model,
    pub(super) optim: ModuleOptimizer,
    pub(super) best: Option<Model>,
    pub(super) ckpt_dir: PathBuf,
    /// Batches trained by this process (for `stop_after_batches`).
    pub(super) batches_here: usize,
}

impl<'a> Trainer<'a> {
    /// Sets a run of `cfg` on `ds` up, or restores it from its checkpoint when
    /// `cfg.control.resume` is set. `events` hears about the teachers' targets.
    ///
    /// # Errors
    ///
    /// An invalid config, an unusable split or model configuration, teachers that cannot be
    /// used, a backend that is not compiled in, a missing or mismatched checkpoint.
    pub fn new(
        cfg: &'a TrainConfig,
        ds: &'a Dataset,
        events: &mut (dyn FnMut(TrainEvent) + Send),
    ) -> Result<Self> {
        cfg.validate()?;
        // Process-wide, before any model runs (see `ComputeConfig::burn_ops`).
        ser_models::fastconv::set_enabled(!cfg.compute.burn_ops);
        let plan = Plan::new(cfg, ds, events)?;
        let device = crate::backend::device(cfg.compute.backend)?;
        let train_device = device.clone().autodiff();
        device.seed(cfg.seed);
        train_device.seed(cfg.seed);
        let ce = CrossEntropyLossConfig::new()
            .with_smoothing((cfg.optim.label_smoothing > 0.0).then_some(cfg.optim.label_smoothing))
            .with_weights(
                cfg.optim
                    .class_weights
                    .then(|| ds.class_weights(&plan.train_idx)),
            )
            .init(&train_device);
        let ce_eval = CrossEntropyLossConfig::new().init(&device);
        let optim = AdamWConfig::new()
            .with_weight_decay(cfg.optim.weight_decay)
            .with_grad_clipping(Some(GradientClippingConfig::Norm(5.0)))
            .init();
        let fingerprint = fingerprint(cfg, &plan.model_cfg, &plan.split);
        let ckpt_dir = cfg.checkpoint_dir();
        let (state, model, optim, best) = if cfg.control.resume {
            let r = checkpoint::load(&ckpt_dir, optim, &train_device, &device)?;
            if r.state.fingerprint != fingerprint {
                return Err(TrainError::Resume {
                    path: ckpt_dir,
                    reason: "the checkpoint was made with different settings (model, features, \
                             split, seed, batch size or data); resume with the same options or \
                             start without --resume"
                        .into(),
                });
            }
            (r.state, r.model, r.optim, r.best)
        } else {
            let state = TrainState::fresh(fingerprint, &plan);
            let model = match &plan.parent {
                Some(p) => p.initial_model(&plan.model_cfg, &ds.labels, &train_device)?,
                None => plan.model_cfg.init(&train_device),
            };
            (state, model, optim, None)
        };
        // Freezing is not stored in weight files: a resumed fine-tune is frozen again.
        let model = match &cfg.init {
            Some(i) if i.freeze_conv && cfg.control.resume => crate::finetune::freeze_conv(model),
            _ => model,
        };
        Ok(Self {
            cfg,
            ds,
            plan,
            device,
            train_device,
            ce,
            ce_eval,
            state,
            model,
            optim,
            best,
            ckpt_dir,
            batches_here: 0,
        })
    }

    /// Whether another epoch should run: the budget is not spent and early stopping (never
    /// before `min_epochs`: on 2 validation actors an early lucky epoch can outlast the
    /// patience of a slowly learning, heavily augmented run) has not fired.
    pub fn should_continue(&self) -> bool {
        let s = &self.cfg.schedule;
        self.state.epoch < s.epochs
            && (self.state.epoch < s.min_epochs || self.state.bad_epochs < s.patience.max(1))
    }
}

impl TrainState {
    /// The state before the first batch.
    fn fresh(fingerprint: String, plan: &Plan) -> Self {
        Self {
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
            split: plan.split.clone(),
            norm: plan.norm.clone(),
            model: plan.model_cfg.clone(),
            seconds: 0.0,
        }
    }
}

impl Plan {
    fn new(
        cfg: &TrainConfig,
        ds: &Dataset,
        events: &mut (dyn FnMut(TrainEvent) + Send),
    ) -> Result<Self> {
        let mut split = resolve_split(ds, &cfg.data.split)?;
        if cfg.data.no_test {
            // Every speaker trains (`DataConfig::no_test`): the final fit of a cross-validated
            // recipe.
            split.test.clear();
        }
        if cfg.data.no_val {
            // Every non-test speaker trains (`DataConfig::no_val`).
            split.val.clear();
        }
        // Without validation speakers every epoch's model replaces the kept one.
        let keep_last = cfg.schedule.keep_last || split.val.is_empty();
        let test_idx = ds.indices(&split.test, true);
        let val_idx = ds.indices(&split.val, true);
        let held: Vec<String> = split.test.iter().chain(&split.val).cloned().collect();
        let train_idx = ds.indices(&held, false);
        let parent = match &cfg.init {
            Some(init) => Some(open_parent(init, cfg, ds, &split, events)?),
            None => None,
        };
        let model_cfg = match &parent {
            Some(p) => p.model_config(ds.labels.len()),
            None => model_config(cfg, ds)?,
        };
        let train_mats: Vec<&FeatureMatrix> =
            train_idx.iter().map(|&i| &ds.items[i].features).collect();
        let norm = match parent.as_ref() {
            Some(p) if p.init.norm == InitNorm::Parent => p.member_norm().cloned(),
            _ => None,
        };
        let norm = match norm {
            Some(n) => n,
            None => NormStats::fit(&train_mats)?,
        };
        let crop = ((cfg.augment.crop_seconds * cfg.features.sample_rate as f32)
            / cfg.features.hop_length as f32)
            .round()
            .max(model_cfg.min_frames() as f32) as usize;
        let log_power = ds.features.kind == FeatureKind::LogMel && !ds.features.cmvn;
        // Teacher probabilities for every training clip, once per run (not cached: the
        // teachers may change while the features stay).
        let soft = match &cfg.distill {
            Some(d) => {
                let t =
                    crate::distill::teacher_targets(d, ds, &train_idx, &split.test, |done, n| {
                        events(TrainEvent::Progress {
                            stage: Stage::TeacherTargets,
                            done,
                            total: n,
                        })
                    })?;
                Some((t, d.weight))
            }
            None => None,
        };
        let batch_size = cfg.optim.batch_size.min(train_idx.len()).max(1);
        let batches = train_idx.len().div_ceil(batch_size);
        Ok(Self {
            split,
            keep_last,
            test_idx,
            val_idx,
            train_idx,
            held,
            model_cfg,
            norm,
            crop,
            log_power,
            soft,
            batch_size,
            batches,
            parent,
        })
    }
}

/// Opens and checks the parent of a fine-tune (its features and network, and that it never
/// heard the test speakers of `split`) and says what the run takes from it.
fn open_parent(
    init: &InitConfig,
    cfg: &TrainConfig,
    ds: &Dataset,
    split: &SpeakerSplit,
    events: &mut (dyn FnMut(TrainEvent) + Send),
) -> Result<Parent> {
    let p = Parent::open(init)?;
    p.check(cfg, ds)?;
    p.check_unheard(ds, &split.test)?;
    let from = init.from.display();
    if !split.val.is_empty() {
        let h = heard_by(
            &p.manifest,
            &ds.evaluated,
            &ds.speakers_with_corpus(&split.val),
        );
        if !h.overlap.is_empty() {
            // Not refused: validation only picks the epoch kept, and the test speakers were
            // checked above. But the pick is biased towards the parent's voices.
            events(TrainEvent::Warning(format!(
                "the parent {from} heard validation speaker(s) {}: the epoch kept is picked \
                 on voices it already knows (validate on others with --val-actors, or train \
                 every epoch with --no-val)",
                h.overlap.join(", ")
            )));
        }
    }
    let n = p.manifest.members.len();
    if n > 1 {
        events(TrainEvent::Note(format!(
            "{from} is an ensemble of {n}: starting from member {} ({}); members: {} \
             (--init-member N picks another)",
            init.member,
            p.member_name(),
            p.members_list()
        )));
    }
    let rows = p.rows(&ds.labels);
    let fresh = rows.fresh(&ds.labels);
    events(TrainEvent::Note(if rows.is_identity() {
        "output layer: the parent's, whole (same labels, same order)".to_string()
    } else {
        format!(
            "output layer: the parent's rows of {:?} kept{}",
            rows.kept(&ds.labels),
            if fresh.is_empty() {
                String::new()
            } else {
                format!(", fresh rows for {fresh:?} (labels the parent does not have)")
            }
        )
    }));
    if p.manifest.functionals.is_some() && !init.functionals {
        events(TrainEvent::Note(
            "the parent's utterance-functionals head is dropped (it was fitted on the parent's \
             speakers and labels); --functionals fits it again on this run's training speakers"
                .to_string(),
        ));
    }
    Ok(p)
}

/// The network's configuration: the explicit one, or the family's default shaped by the
/// recipe (stem, width, tiny), checked against the data.
fn model_config(cfg: &TrainConfig, ds: &Dataset) -> Result<ModelConfig> {
    let n_classes = ds.labels.len();
    let bins = ds.items[0].features.bins();
    let spec = &cfg.model;
    let model_cfg = spec.config.clone().unwrap_or_else(|| {
        let c = match ModelConfig::default_for(spec.family, bins, n_classes) {
            ModelConfig::Crnn(c) if spec.pooled_stem => {
                ModelConfig::Crnn(c.with_strided_stem(Some(false)))
            }
            c => c,
        };
        let c = with_width(c, spec.channels.as_deref(), spec.hidden);
        if spec.tiny { tiny(c) } else { c }
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
    Ok(model_cfg)
}

/// A default config with the conv channels and recurrent width the recipe asks for (see
/// [`crate::ModelSpec::channels`] and [`crate::ModelSpec::hidden`]); families without such a part
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

/// The settings a resumed run must share with the checkpoint, hashed. The JSON hashed is the
/// one of the flat config of earlier versions, key for key (ten original settings, then each
/// later option only when set, as those versions serialised them), so checkpoints written
/// before the config was nested still resume, and still refuse a changed setting.
fn fingerprint(cfg: &TrainConfig, model: &ModelConfig, split: &SpeakerSplit) -> String {
    let mut parts = serde_json::json!({
        "model": model, "features": cfg.features, "preprocess": cfg.preprocess, "split": split,
        "seed": cfg.seed, "batch_size": cfg.optim.batch_size, "data": cfg.data.source,
        "augment": cfg.augment, "lr": cfg.optim.lr, "class_weights": cfg.optim.class_weights,
    });
    let later = [
        (
            "min_epochs",
            json_if(cfg.schedule.min_epochs != 0, cfg.schedule.min_epochs),
        ),
        (
            "distill",
            cfg.distill.as_ref().map(|d| serde_json::json!(d)),
        ),
        ("keep_last", json_if(cfg.schedule.keep_last, true)),
        (
            "label_smoothing",
            json_if(cfg.optim.label_smoothing != 0.0, cfg.optim.label_smoothing),
        ),
        ("burn_ops", json_if(cfg.compute.burn_ops, true)),
        ("no_val", json_if(cfg.data.no_val, true)),
        ("no_test", json_if(cfg.data.no_test, true)),
        ("init", cfg.init.as_ref().map(|i| serde_json::json!(i))),
    ];
    for (key, value) in later {
        if let Some(v) = value {
            parts[key] = v;
        }
    }
    crate::cache::key(&[parts.to_string().as_bytes()])
}

/// `value` as JSON when `set`.
fn json_if(set: bool, value: impl serde::Serialize) -> Option<serde_json::Value> {
    set.then(|| serde_json::json!(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ser_models::Family;

    #[test]
    fn fingerprints_are_those_of_the_flat_config_of_earlier_versions() {
        // Values printed by the flat-config code (e2f2933) for the same settings: a checkpoint
        // it wrote resumes under the nested config.
        let model = ModelConfig::default_for(Family::Crnn, 64, 8);
        let split = SpeakerSplit::default();
        let base = TrainConfig::new(Family::Crnn);
        let fp = |c: &TrainConfig| fingerprint(c, &model, &split);
        assert_eq!(fp(&base), "0fb77db678b5e014374c085e03661073");
        let mut all = base.clone();
        all.schedule.min_epochs = 30;
        all.schedule.keep_last = true;
        all.optim.label_smoothing = 0.1;
        all.distill = Some(crate::Distill::new(vec!["t".into()], None));
        assert_eq!(fp(&all), "f9ffd42def14b88db181007a209115b7");
        let mut more = all.clone();
        more.compute.burn_ops = true;
        more.data.no_val = true;
        more.data.no_test = true;
        assert_eq!(fp(&more), "e70d1ac2809494e2e3634566a0729d85");
        let speech = TrainConfig::preset(Family::Crnn, crate::Preset::Speech);
        assert_eq!(fp(&speech), "35f7bba738926db33094c82c0ce6549a");
        // Each later option alone changes it (a resume with it changed is refused), and
        // settings outside it (where the artifact goes) do not.
        let setters: [fn(&mut TrainConfig); 3] = [
            |c| c.compute.burn_ops = true,
            |c| c.data.no_val = true,
            |c| c.data.no_test = true,
        ];
        for set in setters {
            let mut other = base.clone();
            set(&mut other);
            assert_ne!(fp(&base), fp(&other));
        }
        let mut moved = base.clone();
        moved.output.dir = "elsewhere".into();
        assert_eq!(fp(&base), fp(&moved));
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
}
