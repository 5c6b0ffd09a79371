//! The fine-tune itself: the parent's starting point scored (0 epochs), the fine-tune, and
//! optionally the same network from scratch, all on one dataset loaded once.

use std::path::PathBuf;

use anyhow::{Context, bail};
use ser_train::finetune::{InitConfig, Parent, resolve_parent};
use ser_train::{
    DataSource, Dataset, Preset, SpeakerSplit, TrainConfig, TrainEvent, load_dataset, train_on,
};

use crate::Args;

/// What to fine-tune, on what, and where the models go.
pub struct Job {
    /// The parent artifact.
    pub parent: PathBuf,
    /// The corpus.
    pub source: DataSource,
    /// The recipe (epochs, learning rate, augmentation) before the parent is adopted.
    pub recipe: TrainConfig,
    /// Speakers to train on and to score.
    pub train: Vec<String>,
    pub test: Vec<String>,
    /// Fine-tuning epochs.
    pub epochs: usize,
    /// Also train from scratch.
    pub scratch: bool,
    /// Output folder.
    pub out: PathBuf,
}

impl Job {
    /// A job on the user's corpus (`--data`).
    pub fn from_args(a: &Args) -> anyhow::Result<Self> {
        let Some(data) = &a.data else {
            bail!("--data is required");
        };
        if a.train_speakers.is_empty() || a.test_speakers.is_empty() {
            bail!("give --train-speakers and --test-speakers (comma separated) with --data");
        }
        let source = match &a.label_map {
            // One corpus with a label map: the loader renames or drops labels as it says.
            Some(map) => DataSource::Corpora(ser_train::CorporaSource::from_args(
                &[data.display().to_string()],
                &[],
                &[map.display().to_string()],
                None,
            )?),
            None => DataSource::Dir(data.clone()),
        };
        let mut recipe = TrainConfig::preset(ser_models::Family::Crnn, Preset::Speech);
        if let Some(lr) = a.lr {
            recipe.optim.lr = lr;
        }
        Ok(Self {
            parent: resolve_parent(a.parent.as_deref().unwrap_or("default"))?,
            source,
            recipe,
            train: a.train_speakers.clone(),
            test: a.test_speakers.clone(),
            epochs: a.epochs.unwrap_or(20),
            scratch: a.scratch,
            out: a.out.clone(),
        })
    }
}

/// UA on the test speakers of each model.
pub struct Scores {
    pub labels: Vec<String>,
    pub clips: usize,
    pub before: f64,
    pub after: f64,
    pub scratch: Option<f64>,
}

/// Scores the parent's starting point, fine-tunes it, and (with `job.scratch`) trains the
/// same network from scratch with the same recipe.
pub fn fine_tune(job: &Job) -> anyhow::Result<Scores> {
    let parent = Parent::open(&InitConfig::new(&job.parent))?;
    let mut cfg = job.recipe.clone();
    cfg.data.source = job.source.clone();
    cfg.output.cache_dir = Some(job.out.join(".cache"));
    parent.adopt(&mut cfg); // the parent's features, preprocessing and network
    // Every speaker that is neither trained on nor tested is left out; no validation
    // speakers: every epoch trains on all the training speakers and the last is kept.
    let mut ds = load_dataset(&cfg, &mut log).context("loading the corpus")?;
    ds.items
        .retain(|i| job.train.contains(&i.speaker) || job.test.contains(&i.speaker));
    cfg.data.split = SpeakerSplit {
        test: job.test.clone(),
        val: Vec::new(),
    };
    cfg.data.no_val = true;

    let ua = |cfg: &TrainConfig, ds: &Dataset, name: &str| -> anyhow::Result<(f64, usize)> {
        let mut c = cfg.clone();
        c.output.dir = job.out.join(name);
        let outcome = train_on(&c, ds, &mut log).with_context(|| format!("training {name}"))?;
        let test = outcome.test.context("no test speakers were scored")?;
        Ok((test.balanced_accuracy, test.n))
    };
    cfg.schedule.epochs = 0;
    let (before, clips) = ua(&cfg, &ds, "starting-point")?;
    cfg.schedule.epochs = job.epochs;
    let (after, _) = ua(&cfg, &ds, "fine-tuned")?;
    let scratch = if job.scratch {
        let mut s = cfg.clone();
        s.init = None;
        s.model.config = Some(parent.model_config(ds.labels.len()));
        Some(ua(&s, &ds, "from-scratch")?.0)
    } else {
        None
    };
    Ok(Scores {
        labels: ds.labels.clone(),
        clips,
        before,
        after,
        scratch,
    })
}

/// Prints what the library reports (notes, warnings, one line per epoch).
fn log(e: TrainEvent) {
    match e {
        TrainEvent::Note(n) => eprintln!("note: {n}"),
        TrainEvent::Warning(w) => eprintln!("warning: {w}"),
        TrainEvent::EpochEnd { row, .. } => eprintln!(
            "  epoch {}: train loss {:.3}, {:.1} s",
            row.epoch, row.train_loss, row.seconds
        ),
        _ => {}
    }
}
