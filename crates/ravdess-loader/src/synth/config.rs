//! [`SynthConfig`] and the corpus-level functions: names, generation, writing.

use std::path::Path;

use rayon::prelude::*;
use ser_audio::rng::SplitMix64;
use ser_audio::write_wav;
use serde::{Deserialize, Serialize};

use super::phonetics::{DOGS, KIDS};
use super::profile::{EmotionProfile, SpeakerProfile};
use super::voice::render;
use crate::error::{Error, Result};
use crate::name::{Intensity, Modality, RavdessName, Statement, VocalChannel};
use crate::{Audio, Emotion, Utterance};

/// Configuration of the generated corpus (saved as `synth-config.json` by [`write()`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SynthConfig {
    /// Seed of every random choice. Default 1.
    pub seed: u64,
    /// Output sample rate (Hz). Default 16 000.
    pub sample_rate: u32,
    /// Actors to generate (1..=24; odd male, even female). Default all 24.
    pub actors: Vec<u8>,
    /// Multiplier of every emotion deviation from neutral (1.0 = the documented profiles;
    /// smaller values make a harder corpus).
    pub emotion_scale: f64,
    /// Multiplier of the speaker spread (1.0 = default ranges).
    pub speaker_variation: f64,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            sample_rate: 16_000,
            actors: (1..=24).collect(),
            emotion_scale: 1.0,
            speaker_variation: 1.0,
        }
    }
}

/// The 60 RAVDESS speech names of one actor, in code order: neutral (normal intensity only)
/// x 2 statements x 2 repetitions, then every other emotion x 2 intensities x 2 x 2.
pub fn clip_names(actor: u8) -> Vec<RavdessName> {
    let mut names = Vec::with_capacity(60);
    for emotion in Emotion::ALL {
        for intensity in Intensity::ALL {
            if emotion == Emotion::Neutral && intensity == Intensity::Strong {
                continue;
            }
            for statement in Statement::ALL {
                for repetition in 1..=2 {
                    names.push(RavdessName {
                        modality: Modality::AudioOnly,
                        channel: VocalChannel::Speech,
                        emotion,
                        intensity,
                        statement,
                        repetition,
                        actor,
                    });
                }
            }
        }
    }
    names
}

/// The corpus name ([`Utterance::corpus`]) of generated utterances.
pub const CORPUS_NAME: &str = "generated";

fn utterance(name: RavdessName, audio: Option<Audio>) -> Utterance {
    Utterance {
        id: format!("Actor_{:02}/{name}", name.actor),
        corpus: CORPUS_NAME.to_string(),
        path: None,
        audio,
        label: name.emotion.name().to_string(),
        speaker: Some(name.speaker()),
        gender: Some(name.gender()),
        ravdess: Some(name),
    }
}

fn speaker(cfg: &SynthConfig, actor: u8) -> SpeakerProfile {
    let gender = if actor % 2 == 1 {
        crate::Gender::Male
    } else {
        crate::Gender::Female
    };
    let mut rng = SplitMix64::derive(cfg.seed, 0x5EED_0000 + u64::from(actor));
    SpeakerProfile::sample(gender, &mut rng, cfg.speaker_variation)
}

/// Synthesises one clip (deterministic in `cfg.seed` and `name`).
pub fn synthesize(cfg: &SynthConfig, name: &RavdessName) -> Audio {
    let spk = speaker(cfg, name.actor);
    let emo = EmotionProfile::scaled(
        &EmotionProfile::for_clip(name.emotion, name.intensity),
        cfg.emotion_scale,
    );
    let key = u64::from(name.actor) << 32
        | u64::from(name.emotion.code()) << 24
        | u64::from(name.intensity.code()) << 16
        | u64::from(name.statement.code()) << 8
        | u64::from(name.repetition);
    let mut rng = SplitMix64::derive(cfg.seed, key);
    let syllables = match name.statement {
        Statement::Kids => &KIDS,
        Statement::Dogs => &DOGS,
    };
    Audio::new(
        render(&spk, &emo, syllables, &mut rng, cfg.sample_rate),
        cfg.sample_rate,
    )
}

/// Labels and names only (no audio): instant, for split tests and docs.
pub fn generate_labels_only(cfg: &SynthConfig) -> Vec<Utterance> {
    cfg.actors
        .iter()
        .flat_map(|&a| clip_names(a))
        .map(|n| utterance(n, None))
        .collect()
}

/// Generates the corpus in memory (in parallel), ids `Actor_XX/<name>.wav`, `path = None`.
pub fn generate(cfg: &SynthConfig) -> Vec<Utterance> {
    let names: Vec<RavdessName> = cfg.actors.iter().flat_map(|&a| clip_names(a)).collect();
    names
        .into_par_iter()
        .map(|n| utterance(n, Some(synthesize(cfg, &n))))
        .collect()
}

pub(super) fn check(cfg: &SynthConfig) -> Result<()> {
    if let Some(a) = cfg.actors.iter().find(|a| !(1..=24).contains(*a)) {
        return Err(Error::InvalidConfig {
            field: "actors",
            reason: format!("actor {a} is outside 1..=24"),
        });
    }
    if !(4000..=192_000).contains(&cfg.sample_rate) {
        return Err(Error::InvalidConfig {
            field: "sample_rate",
            reason: format!("{} Hz is outside 4000..=192000", cfg.sample_rate),
        });
    }
    Ok(())
}

/// Writes the corpus as 16-bit PCM WAVs in the official layout `dir/Actor_XX/<name>.wav`
/// plus `dir/synth-config.json`, in parallel, each file atomically (temporary file + rename).
/// Returns the number of clips written. See [`write_with_progress`] for a progress callback.
pub fn write(dir: impl AsRef<Path>, cfg: &SynthConfig) -> Result<usize> {
    write_with_progress(dir, cfg, |_, _| {})
}

/// [`write()`] with a progress callback `progress(done, total)`.
pub fn write_with_progress<F>(
    dir: impl AsRef<Path>,
    cfg: &SynthConfig,
    progress: F,
) -> Result<usize>
where
    F: Fn(usize, usize) + Sync,
{
    check(cfg)?;
    let dir = dir.as_ref();
    for a in &cfg.actors {
        let d = dir.join(format!("Actor_{a:02}"));
        std::fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
    }
    let names: Vec<RavdessName> = cfg.actors.iter().flat_map(|&a| clip_names(a)).collect();
    let total = names.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    names.par_iter().try_for_each(|n| {
        let audio = synthesize(cfg, n);
        write_wav(dir.join(format!("Actor_{:02}/{n}", n.actor)), &audio)?;
        let k = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        progress(k, total);
        Ok::<(), Error>(())
    })?;
    let json = serde_json::to_vec_pretty(cfg).map_err(|e| Error::InvalidConfig {
        field: "synth config",
        reason: e.to_string(),
    })?;
    let path = dir.join("synth-config.json");
    std::fs::write(&path, json).map_err(|e| Error::io(&path, e))?;
    Ok(total)
}
