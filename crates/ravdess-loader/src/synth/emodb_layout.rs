//! The generated corpus written in EMO-DB's layout: label folders of `SSTTTEV.wav` files
//! ([`crate::emodb`]), so that tests and examples can exercise the folder loader, EMO-DB
//! speaker ids and label maps, and training on several corpora, without the real EMO-DB.

use std::collections::BTreeSet;
use std::path::Path;

use rayon::prelude::*;
use ser_audio::write_wav;

use super::config::{SynthConfig, check, clip_names, synthesize};
use crate::Emotion;
use crate::emodb::{EMOTIONS, EmodbName};
use crate::error::{Error, Result};

/// The clips a generated actor has of its rarest emotion: neutral comes at normal intensity
/// only, 2 statements x 2 repetitions ([`clip_names`]), so at most this many texts.
pub const MAX_TEXTS: usize = 4;

/// How [`write_emodb_layout`] names and picks the clips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmodbLayout {
    /// The EMO-DB speaker code (`3` is written `03`) of each generated actor, in the order of
    /// [`SynthConfig::actors`].
    pub speakers: Vec<u8>,
    /// EMO-DB text codes (`a01` .. `b10`): every speaker gets one clip of each emotion per
    /// text (at most [`MAX_TEXTS`]).
    pub texts: Vec<String>,
    /// Also write `boredom/`, EMO-DB's seventh emotion, which RAVDESS and the generated
    /// corpus lack: the generated `calm` clips stand in for it, so a label map can be tested
    /// on it (mapped or left out).
    pub boredom: bool,
}

/// What [`write_emodb_layout`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmodbWritten {
    /// Clips written, `boredom` among them.
    pub clips: usize,
    /// `boredom/` clips written.
    pub boredom: usize,
}

/// Writes the generated actors of `cfg` as EMO-DB speakers: `dir/<label>/SSTTTEV.wav` with
/// speaker `SS` from `layout.speakers`, text `TTT` from `layout.texts`, EMO-DB's emotion
/// letter `E` and version `a`, for EMO-DB's six emotions that RAVDESS shares (and `boredom`
/// if asked). Each clip is the actor's first generated clips of that emotion (RAVDESS code
/// order), so the audio equals the same actor's in [`super::generate`]. No `synth-config.json`
/// is written: a label folder holds audio only. Files are written in parallel, each
/// atomically ([`write_wav`]).
///
/// ```
/// use ravdess_loader::synth::{EmodbLayout, SynthConfig, write_emodb_layout};
///
/// let dir = tempfile::tempdir()?;
/// let cfg = SynthConfig { actors: vec![5], ..Default::default() };
/// let layout = EmodbLayout { speakers: vec![3], texts: vec!["a01".into()], boredom: false };
/// let written = write_emodb_layout(dir.path(), &cfg, &layout)?;
/// assert_eq!(written.clips, 6); // EMO-DB's six emotions that RAVDESS shares, one text
/// assert!(dir.path().join("angry/03a01Wa.wav").exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`Error::InvalidConfig`] for actors or a rate [`super::write`] refuses, a speaker list
/// whose length differs from the actors', a speaker code over 99 or repeated, a text code
/// that does not make an EMO-DB name, a repeated text or more than [`MAX_TEXTS`] texts;
/// [`Error::Io`] naming the path that could not be written.
pub fn write_emodb_layout(
    dir: impl AsRef<Path>,
    cfg: &SynthConfig,
    layout: &EmodbLayout,
) -> Result<EmodbWritten> {
    check(cfg)?;
    check_layout(cfg, layout)?;
    let dir = dir.as_ref();
    let folders: Vec<(char, &str)> = EMOTIONS
        .into_iter()
        .filter(|&(_, folder)| folder != "boredom" || layout.boredom)
        .collect();
    for (_, folder) in &folders {
        let d = dir.join(folder);
        std::fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
    }
    let mut jobs = Vec::new();
    for (&actor, &speaker) in cfg.actors.iter().zip(&layout.speakers) {
        let names = clip_names(actor);
        for &(letter, folder) in &folders {
            // EMO-DB's labels are RAVDESS names except `boredom`, which `calm` stands in for.
            let ours = if folder == "boredom" { "calm" } else { folder };
            let clips = names.iter().filter(|n| n.emotion.name() == ours);
            for (name, text) in clips.zip(&layout.texts) {
                let file = format!("{speaker:02}{text}{letter}a.wav");
                jobs.push((*name, dir.join(folder).join(file)));
            }
        }
    }
    jobs.par_iter()
        .try_for_each(|(name, path)| write_wav(path, &synthesize(cfg, name)))?;
    let boredom = jobs
        .iter()
        .filter(|(n, _)| n.emotion == Emotion::Calm)
        .count();
    Ok(EmodbWritten {
        clips: jobs.len(),
        boredom,
    })
}

fn check_layout(cfg: &SynthConfig, layout: &EmodbLayout) -> Result<()> {
    let invalid = |field, reason: String| Err(Error::InvalidConfig { field, reason });
    if layout.speakers.len() != cfg.actors.len() {
        return invalid(
            "speakers",
            format!(
                "lists {} speaker code(s) for {} generated actor(s); give one per actor",
                layout.speakers.len(),
                cfg.actors.len()
            ),
        );
    }
    if let Some(s) = layout.speakers.iter().find(|&&s| s > 99) {
        return invalid("speakers", format!("{s} has more than EMO-DB's two digits"));
    }
    // Two actors under one code would write the same file names, the second overwriting the
    // first while the count says both were written.
    let mut codes = BTreeSet::new();
    if let Some(s) = layout.speakers.iter().find(|&&s| !codes.insert(s)) {
        return invalid(
            "speakers",
            format!("repeats {s}; give each actor its own code"),
        );
    }
    if layout.texts.len() > MAX_TEXTS {
        return invalid(
            "texts",
            format!(
                "lists {} texts; a generated actor has {MAX_TEXTS} clips of neutral, so at \
                 most {MAX_TEXTS}",
                layout.texts.len()
            ),
        );
    }
    let mut seen = BTreeSet::new();
    for t in &layout.texts {
        if EmodbName::parse(&format!("03{t}Na.wav")).is_none() {
            return invalid(
                "texts",
                format!("`{t}` is not an EMO-DB text code (a letter a/b and two digits, e.g. a01)"),
            );
        }
        if !seen.insert(t) {
            return invalid("texts", format!("repeats `{t}`; give each text once"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Gender, Layout, open_corpus};

    fn layout(speakers: &[u8], texts: &[&str], boredom: bool) -> EmodbLayout {
        EmodbLayout {
            speakers: speakers.to_vec(),
            texts: texts.iter().map(|t| t.to_string()).collect(),
            boredom,
        }
    }

    /// The folder loader reads what was written as EMO-DB: label folders, speakers from the
    /// names, genders from EMO-DB's table, and the audio of the generated actor's clip.
    #[test]
    fn written_corpus_loads_as_emodb_speakers_in_label_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = SynthConfig {
            actors: vec![5, 6],
            ..Default::default()
        };
        let w =
            write_emodb_layout(tmp.path(), &cfg, &layout(&[3, 8], &["a01", "b02"], true)).unwrap();
        assert_eq!(
            w,
            EmodbWritten {
                clips: 28,
                boredom: 4
            }
        );
        let c = open_corpus(tmp.path()).unwrap();
        assert_eq!(c.layout, Layout::LabelFolders);
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.utterances.len(), 28);
        assert_eq!(c.speakers(), vec!["03", "08"]);
        let u = c
            .utterances
            .iter()
            .find(|u| u.id == "sad/08b02Ta.wav")
            .unwrap();
        assert_eq!(
            (u.speaker.as_deref(), u.gender),
            (Some("08"), Some(Gender::Female))
        );
        // The second sad clip of actor 6, as `generate` makes it.
        let sad: Vec<_> = super::super::generate(&SynthConfig {
            actors: vec![6],
            ..Default::default()
        })
        .into_iter()
        .filter(|u| u.label == "sad")
        .collect();
        // The file holds exactly that clip's 16-bit encoding.
        let loaded = ser_audio::read_wav(u.path.as_ref().unwrap()).unwrap();
        let want = sad[1].audio.as_ref().unwrap();
        let encoded = ser_audio::read_wav_bytes(&ser_audio::encode_wav_16(want).unwrap());
        assert_eq!(loaded, encoded.unwrap());
        let without = tempfile::tempdir().unwrap();
        let w =
            write_emodb_layout(without.path(), &cfg, &layout(&[3, 8], &["a01"], false)).unwrap();
        assert_eq!(
            w,
            EmodbWritten {
                clips: 12,
                boredom: 0
            }
        );
        assert!(!without.path().join("boredom").exists());
    }

    #[test]
    fn bad_layouts_are_refused_by_field() {
        let cfg = SynthConfig {
            actors: vec![5, 6],
            ..Default::default()
        };
        let tmp = tempfile::tempdir().unwrap();
        for (l, field, says) in [
            (layout(&[3], &["a01"], false), "speakers", "one per actor"),
            (layout(&[3, 100], &["a01"], false), "speakers", "two digits"),
            (layout(&[8, 8], &["a01"], false), "speakers", "repeats 8"),
            (layout(&[3, 8], &["c01"], false), "texts", "`c01`"),
            (
                layout(&[3, 8], &["a01", "a01"], false),
                "texts",
                "repeats `a01`",
            ),
            (
                layout(&[3, 8], &["a01", "a02", "a03", "a04", "a05"], false),
                "texts",
                "at most 4",
            ),
        ] {
            let err = write_emodb_layout(tmp.path(), &cfg, &l).unwrap_err();
            let msg = err.to_string();
            assert!(
                matches!(err, Error::InvalidConfig { field: f, .. } if f == field),
                "{msg}"
            );
            assert!(msg.contains(says), "{msg}");
        }
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    }
}
