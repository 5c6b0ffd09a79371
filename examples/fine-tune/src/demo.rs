//! The demonstration without data: a tiny parent trained on generated speakers 1-8, and a
//! "new" corpus of other generated speakers (9-14, another seed, weaker emotions) written as
//! WAV files with a label map that drops two of the eight labels (as EMO-DB has six of
//! them), on which it is fine-tuned.

use anyhow::{Context, bail};
use ravdess_loader::synth::{self, SynthConfig};
use ser_models::Family;
use ser_train::{DataSource, Preset, SpeakerSplit, TrainConfig, train};

use crate::Args;
use crate::runs::Job;

/// Trains the parent (or reuses it), writes the corpus (or reuses it), and returns the job.
pub fn prepare(a: &Args) -> anyhow::Result<Job> {
    if a.parent.is_some() || !a.train_speakers.is_empty() || !a.test_speakers.is_empty() {
        bail!("--parent and the speaker lists go with --data; the demonstration makes its own");
    }
    eprintln!("no --data: the generated demonstration (a tiny model; its numbers mean little)");
    let mut recipe = TrainConfig::preset(Family::Crnn, Preset::Generated);
    recipe.model.tiny = true;
    recipe.augment.crop_seconds = 1.5;
    recipe.optim.lr = 3e-3;
    if let Some(lr) = a.lr {
        recipe.optim.lr = lr;
    }
    let parent = a.out.join("parent");
    if !parent.join("manifest.json").is_file() {
        eprintln!("training the parent on generated speakers 1-8 ...");
        let mut cfg = recipe.clone();
        cfg.schedule.epochs = 10;
        cfg.data.source = DataSource::Synth(SynthConfig {
            actors: (1..=8).collect(),
            emotion_scale: EMOTION_SCALE,
            ..Default::default()
        });
        cfg.data.split = SpeakerSplit {
            test: vec!["08".into()],
            val: vec!["07".into()],
        };
        cfg.output.dir = parent.clone();
        cfg.output.cache_dir = Some(a.out.join(".cache"));
        train(&cfg, &mut |_| {}).context("training the demonstration's parent")?;
    }
    // Another seed and weaker emotion cues than the parent heard: a different "domain".
    let corpus = a.out.join("corpus");
    if !corpus.join("synth-config.json").is_file() {
        eprintln!(
            "writing a generated corpus of speakers 9-14 to {}",
            corpus.display()
        );
        let cfg = SynthConfig {
            actors: (9..=14).collect(),
            seed: 7,
            emotion_scale: 0.8 * EMOTION_SCALE,
            ..Default::default()
        };
        synth::write(&corpus, &cfg).context("writing the demonstration corpus")?;
    }
    let map = corpus.join("labelmap.csv");
    std::fs::write(&map, LABEL_MAP).with_context(|| format!("writing {}", map.display()))?;
    let source = ser_train::CorporaSource::from_args(
        &[corpus.display().to_string()],
        &[],
        &[map.display().to_string()],
        None,
    )?;
    Ok(Job {
        parent,
        source: DataSource::Corpora(source),
        recipe,
        train: ["09", "10", "11", "12"].map(String::from).to_vec(),
        test: ["13", "14"].map(String::from).to_vec(),
        epochs: a.epochs.unwrap_or(5),
        scratch: a.scratch,
        out: a.out.clone(),
    })
}

/// Emotion cues of the generated speech, exaggerated so that a tiny model learns them in a
/// few seconds (`SynthConfig::emotion_scale`).
const EMOTION_SCALE: f64 = 2.0;

/// The demonstration corpus's label map: six labels kept, `calm` and `surprised` dropped.
const LABEL_MAP: &str = "from,to
neutral,neutral
happy,happy
sad,sad
angry,angry
fearful,fearful
disgust,disgust
calm,-
surprised,-
";
