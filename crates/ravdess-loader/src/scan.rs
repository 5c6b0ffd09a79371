//! [`open_corpus`]: detect the layout of a corpus on disk, list its utterances, and check
//! every file's WAV header, reporting (not aborting on) bad files.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use ser_audio::{WavInfo, probe_wav_bytes};

use crate::corpus::{Corpus, Duplicate, Layout, Problem};
use crate::emodb::EmodbName;
use crate::error::{Error, Result};
use crate::name::RavdessName;
use crate::{Gender, Utterance};

/// Opens a corpus, auto-detecting its layout (first match wins):
///
/// 1. `path` is a `.csv` file -> CSV manifest (`path,label[,speaker[,gender]]`, header optional,
///    paths relative to the manifest's folder);
/// 2. `path` holds `Audio_Speech_Actors_01-24/` or `Actor_XX/` folders -> official RAVDESS layout;
/// 3. `path` holds `.wav` files directly -> flat folder of RAVDESS names, or of EMO-DB names
///    `SSTTTEV.wav` when more files have those ([`Layout::EmodbFlat`]);
/// 4. `path` holds sub-folders with `.wav` files -> `label/*.wav` (speakers and genders from
///    RAVDESS or EMO-DB file names);
/// 5. `path` holds exactly one `.csv` file -> that manifest.
///
/// Every file's RIFF header is checked (in parallel). Unreadable, truncated, empty, non-WAV or
/// unsupported files, and RAVDESS-layout files with malformed names, are listed in
/// [`Corpus::problems`] and skipped. Byte-identical files are listed in [`Corpus::duplicates`].
/// Errors only when `path` cannot be read or matches no layout.
///
/// Utterances carry the corpus name [`crate::CorpusSpec::from_path`] would give (the
/// sanitised folder name, `corpus` when there is none) and bare speaker ids (`"01"`). To give
/// a name, a speaker rule or a label map, or to combine corpora, use [`crate::open_corpora`].
pub fn open_corpus(path: impl AsRef<Path>) -> Result<Corpus> {
    let path = path.as_ref();
    let mut corpus = scan(path, None)?;
    let name = crate::spec::default_name(path)
        .or_else(|| {
            std::fs::canonicalize(path)
                .ok()
                .and_then(|p| crate::spec::default_name(&p))
        })
        .unwrap_or_else(|| "corpus".to_string());
    for u in &mut corpus.utterances {
        u.corpus.clone_from(&name);
    }
    Ok(corpus)
}

/// [`open_corpus`] without naming the utterances; `column` is a CSV manifest's speaker column
/// (see [`crate::SpeakerRule::Column`]).
pub(crate) fn scan(path: &Path, column: Option<&str>) -> Result<Corpus> {
    let not_csv = |layout: &str| Error::InvalidSpec {
        spec: path.display().to_string(),
        field: "speaker column",
        reason: format!(
            "applies to CSV manifests only, and this is a {layout} corpus; give a file-name \
             pattern instead (e.g. `^(\\d\\d)`)"
        ),
    };
    if path.is_file() {
        if has_ext(path, "csv") {
            return crate::manifest::open_manifest_with(path, column);
        }
        return Err(Error::UnknownLayout {
            path: path.to_path_buf(),
            reason: "is a file; pass a corpus folder or a .csv manifest".into(),
        });
    }
    let entries = list_dir(path)?;
    let official = path.join("Audio_Speech_Actors_01-24");
    let root = if official.is_dir() {
        official
    } else {
        path.to_path_buf()
    };
    let entries = if root == path {
        entries
    } else {
        list_dir(&root)?
    };

    let actor_dirs: Vec<&PathBuf> = entries
        .iter()
        .filter(|p| p.is_dir() && file_name(p).starts_with("Actor_"))
        .collect();
    let wavs: Vec<PathBuf> = entries
        .iter()
        .filter(|p| p.is_file() && has_ext(p, "wav"))
        .cloned()
        .collect();
    let subdirs: Vec<&PathBuf> = entries.iter().filter(|p| p.is_dir()).collect();
    let csvs: Vec<&PathBuf> = entries
        .iter()
        .filter(|p| p.is_file() && has_ext(p, "csv"))
        .collect();

    // A speaker column exists only in a manifest; refuse it for the other layouts rather than
    // silently ignoring the user's rule.
    let no_column = |layout: &str| match column {
        Some(_) => Err(not_csv(layout)),
        None => Ok(()),
    };
    if !actor_dirs.is_empty() {
        no_column("RAVDESS Actor_XX/")?;
        let mut files = Vec::new();
        for d in actor_dirs {
            files.extend(
                list_dir(d)?
                    .into_iter()
                    .filter(|p| p.is_file() && has_ext(p, "wav")),
            );
        }
        return Ok(ravdess_files(&root, Layout::RavdessActors, files));
    }
    if !wavs.is_empty() {
        no_column("flat-folder")?;
        let ravdess = wavs
            .iter()
            .filter(|p| RavdessName::from_path(p).is_ok())
            .count();
        let emodb = wavs
            .iter()
            .filter(|p| EmodbName::from_path(p).is_some())
            .count();
        if emodb > ravdess {
            return Ok(emodb_files(&root, wavs));
        }
        return Ok(ravdess_files(&root, Layout::RavdessFlat, wavs));
    }
    let label_dirs: Vec<(String, Vec<PathBuf>)> = subdirs
        .iter()
        .map(|d| {
            let files = list_dir(d)?
                .into_iter()
                .filter(|p| p.is_file() && has_ext(p, "wav"))
                .collect::<Vec<_>>();
            Ok((file_name(d).to_lowercase(), files))
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .filter(|(_, f)| !f.is_empty())
        .collect();
    if !label_dirs.is_empty() {
        no_column("label-folder")?;
        return Ok(label_folders(&root, label_dirs));
    }
    if csvs.len() == 1 {
        return crate::manifest::open_manifest_with(csvs[0], column);
    }
    Err(Error::UnknownLayout {
        path: path.to_path_buf(),
        reason:
            "no Actor_XX/ folders, .wav files, label/*.wav folders or single .csv manifest found; \
                 see datasets/README.md for the supported layouts"
                .into(),
    })
}

fn list_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        // Hidden files (.DS_Store, ._foo.wav AppleDouble files) are never audio.
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        out.push(entry.path());
    }
    out.sort();
    Ok(out)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub(crate) fn has_ext(p: &Path, ext: &str) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// Id = path relative to `root` with `/` separators.
pub(crate) fn rel_id(root: &Path, p: &Path) -> String {
    let rel = p.strip_prefix(root).unwrap_or(p);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// An utterance for a RAVDESS-named file.
pub(crate) fn ravdess_utterance(root: &Path, path: PathBuf, name: RavdessName) -> Utterance {
    Utterance {
        id: rel_id(root, &path),
        path: Some(path),
        label: name.emotion.name().to_string(),
        speaker: Some(name.speaker()),
        gender: Some(name.gender()),
        ravdess: Some(name),
        ..Default::default()
    }
}

/// Speaker and gender from a RAVDESS or EMO-DB file name, when the file has one.
pub(crate) fn named_speaker(path: &Path) -> (Option<String>, Option<Gender>, Option<RavdessName>) {
    if let Ok(n) = RavdessName::from_path(path) {
        return (Some(n.speaker()), Some(n.gender()), Some(n));
    }
    match EmodbName::from_path(path) {
        Some(n) => (Some(n.speaker()), n.gender(), None),
        None => (None, None, None),
    }
}

fn emodb_files(root: &Path, files: Vec<PathBuf>) -> Corpus {
    let mut utts = Vec::new();
    let mut problems = Vec::new();
    for f in files {
        match EmodbName::from_path(&f) {
            Some(n) => utts.push(Utterance {
                id: rel_id(root, &f),
                path: Some(f),
                label: n.label().to_string(),
                speaker: Some(n.speaker()),
                gender: n.gender(),
                ..Default::default()
            }),
            None => problems.push(Problem {
                reason: format!(
                    "`{}` is not an EMO-DB name SSTTTEV.wav (speaker, text, emotion letter \
                     W/L/E/A/F/T/N, version), as the other files in this folder are",
                    file_name(&f)
                ),
                path: f,
            }),
        }
    }
    finish(root.to_path_buf(), Layout::EmodbFlat, utts, problems)
}

fn ravdess_files(root: &Path, layout: Layout, files: Vec<PathBuf>) -> Corpus {
    let mut utts = Vec::new();
    let mut problems = Vec::new();
    for f in files {
        match RavdessName::from_path(&f) {
            Ok(n) => utts.push(ravdess_utterance(root, f, n)),
            Err(e) => problems.push(Problem {
                path: f,
                reason: e.to_string(),
            }),
        }
    }
    finish(root.to_path_buf(), layout, utts, problems)
}

fn label_folders(root: &Path, dirs: Vec<(String, Vec<PathBuf>)>) -> Corpus {
    let mut utts = Vec::new();
    for (label, files) in dirs {
        for f in files {
            let (speaker, gender, ravdess) = named_speaker(&f);
            utts.push(Utterance {
                id: rel_id(root, &f),
                path: Some(f),
                label: label.clone(),
                speaker,
                gender,
                ravdess,
                ..Default::default()
            });
        }
    }
    finish(root.to_path_buf(), Layout::LabelFolders, utts, Vec::new())
}

/// Parses a gender column value (`m`, `male`, `f`, `female`, case-insensitive).
pub(crate) fn parse_gender(s: &str) -> Option<Gender> {
    match s.trim().to_ascii_lowercase().as_str() {
        "m" | "male" => Some(Gender::Male),
        "f" | "female" => Some(Gender::Female),
        _ => None,
    }
}

/// Header info, file length and content hash of a checked file, or why it was skipped.
type Checked = std::result::Result<(WavInfo, u64, u64), Problem>;

/// Checks every file's header in parallel, drops bad ones into `problems`, finds duplicates,
/// and sorts by id.
pub(crate) fn finish(
    root: PathBuf,
    layout: Layout,
    utts: Vec<Utterance>,
    mut problems: Vec<Problem>,
) -> Corpus {
    let checked: Vec<(Utterance, Checked)> = utts
        .into_par_iter()
        .map(|u| {
            let res = match &u.path {
                None => Err(Problem {
                    path: PathBuf::from(&u.id),
                    reason: "no file path".into(),
                }),
                Some(p) => std::fs::read(p)
                    .map_err(|e| Error::io(p, e))
                    .and_then(|bytes| {
                        // The problem names the file; the reason need not name it again.
                        let info = probe_wav_bytes(&bytes)?;
                        let mut h = std::hash::DefaultHasher::new();
                        bytes.hash(&mut h);
                        Ok((info, bytes.len() as u64, h.finish()))
                    })
                    .map_err(|e| Problem {
                        path: p.clone(),
                        reason: e.to_string(),
                    }),
            };
            (u, res)
        })
        .collect();
    let mut rows: Vec<(Utterance, WavInfo, (u64, u64))> = Vec::new();
    for (u, r) in checked {
        match r {
            Ok((info, len, hash)) => rows.push((u, info, (len, hash))),
            Err(p) => problems.push(p),
        }
    }
    rows.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    let mut groups: HashMap<(u64, u64), Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        groups.entry(r.2).or_default().push(i);
    }
    let mut duplicates: Vec<Duplicate> = Vec::new();
    for idx in groups.into_values().filter(|g| g.len() > 1) {
        // Confirm byte equality (the 64-bit hash is only a pre-filter).
        let paths: Vec<&Path> = idx
            .iter()
            .filter_map(|&i| rows[i].0.path.as_deref())
            .collect();
        let first = paths.first().and_then(|p| std::fs::read(p).ok());
        let same: Vec<String> = idx
            .iter()
            .zip(&paths)
            .filter(|(_, p)| first.is_some() && std::fs::read(p).ok() == first)
            .map(|(&i, _)| rows[i].0.id.clone())
            .collect();
        if same.len() > 1 {
            duplicates.push(Duplicate { ids: same });
        }
    }
    duplicates.sort_by(|a, b| a.ids.cmp(&b.ids));
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    let (utterances, wav_info) = rows.into_iter().map(|(u, i, _)| (u, Some(i))).unzip();
    Corpus {
        root,
        layout,
        utterances,
        wav_info,
        problems,
        duplicates,
        left_out: Vec::new(),
    }
}
