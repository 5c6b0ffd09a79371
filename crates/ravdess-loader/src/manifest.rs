//! CSV manifests: `path,label[,speaker[,gender]]`, for corpora in any folder layout.
//!
//! A header row is optional; it is recognised when its first field is `path`. With a header,
//! columns are found by name (`path`, `label`, `speaker`, `gender`) in any order; without one
//! they are positional. Speakers are normalised ([`crate::speaker::normalise`]: `1` -> `01`);
//! a row without one takes it (and the gender) from a RAVDESS or EMO-DB file name. Relative paths are resolved against the manifest's folder. Rows with a
//! missing file or empty label are reported as problems, not errors.

use std::path::{Path, PathBuf};

use crate::Utterance;
use crate::corpus::{Corpus, Layout, Problem};
use crate::error::{Error, Result};
use crate::scan::{finish, named_speaker, parse_gender, rel_id};

/// Opens a CSV manifest (see the module docs for the format).
pub fn open_manifest(manifest: &Path) -> Result<Corpus> {
    open_manifest_with(manifest, None)
}

/// [`open_manifest`] with the speaker read from the header column `speaker_column` (a
/// [`crate::SpeakerRule::Column`]): the header must have it, and a row with an empty value is
/// a problem rather than an utterance without a speaker.
pub(crate) fn open_manifest_with(manifest: &Path, speaker_column: Option<&str>) -> Result<Corpus> {
    let base = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(manifest)
        .map_err(|e| Error::Manifest {
            path: manifest.to_path_buf(),
            line: 0,
            reason: e.to_string(),
        })?;
    let mut cols = (0usize, 1usize, Some(2usize), Some(3usize));
    let mut utts = Vec::new();
    let mut problems = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let line = rec
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i as u64 + 1, |p| p.line());
        let rec = rec.map_err(|e| Error::Manifest {
            path: manifest.to_path_buf(),
            line,
            reason: e.to_string(),
        })?;
        if i == 0 && rec.get(0).is_some_and(|f| f.eq_ignore_ascii_case("path")) {
            let find = |n: &str| rec.iter().position(|f| f.eq_ignore_ascii_case(n));
            let label = find("label").ok_or_else(|| Error::Manifest {
                path: manifest.to_path_buf(),
                line,
                reason: "header has no `label` column (expected path,label[,speaker[,gender]])"
                    .into(),
            })?;
            let speaker = match speaker_column {
                Some(c) => Some(find(c).ok_or_else(|| Error::Manifest {
                    path: manifest.to_path_buf(),
                    line,
                    reason: format!("header has no speaker column `{c}`"),
                })?),
                None => find("speaker"),
            };
            cols = (0, label, speaker, find("gender"));
            continue;
        }
        if i == 0
            && let Some(c) = speaker_column
        {
            return Err(Error::Manifest {
                path: manifest.to_path_buf(),
                line,
                reason: format!(
                    "speaker column `{c}` needs a header row starting with `path` \
                     (path,label,{c},...)"
                ),
            });
        }
        let bad = |reason: String| Problem {
            path: PathBuf::from(format!("{}:{line}", manifest.display())),
            reason,
        };
        let (Some(rel), Some(label)) = (rec.get(cols.0), rec.get(cols.1)) else {
            problems.push(bad("row needs at least `path,label`".into()));
            continue;
        };
        if rel.is_empty() || label.is_empty() {
            problems.push(bad("empty path or label".into()));
            continue;
        }
        let path = base.join(rel);
        if !path.is_file() {
            problems.push(bad(format!("file {} does not exist", path.display())));
            continue;
        }
        let (named, named_gender, ravdess) = named_speaker(&path);
        let column = cols
            .2
            .and_then(|c| rec.get(c))
            .map(crate::speaker::normalise)
            .filter(|s| !s.is_empty());
        if let (Some(c), None) = (speaker_column, &column) {
            problems.push(bad(format!("no value in speaker column `{c}`")));
            continue;
        }
        // The file name's gender belongs to the file name's speaker only.
        let name_gender = named_gender.filter(|_| column.is_none() || column == named);
        let speaker = column.or(named);
        let gender = cols
            .3
            .and_then(|c| rec.get(c))
            .and_then(parse_gender)
            .or(name_gender);
        utts.push(Utterance {
            id: rel_id(&base, &path),
            path: Some(path),
            label: label.to_lowercase(),
            speaker,
            gender,
            ravdess,
            ..Default::default()
        });
    }
    Ok(finish(
        base,
        Layout::CsvManifest {
            manifest: manifest.to_path_buf(),
        },
        utts,
        problems,
    ))
}

/// Writes a manifest `path,label,speaker,gender` for `utterances` (paths relative to the
/// manifest's folder where possible), atomically.
pub fn write_manifest(manifest: &Path, utterances: &[Utterance]) -> Result<()> {
    let base = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
    let base = std::fs::canonicalize(&base).unwrap_or(base);
    let mut w = csv::Writer::from_writer(Vec::new());
    let io = |e: csv::Error| Error::Manifest {
        path: manifest.to_path_buf(),
        line: 0,
        reason: e.to_string(),
    };
    w.write_record(["path", "label", "speaker", "gender"])
        .map_err(io)?;
    for u in utterances {
        let Some(p) = &u.path else { continue };
        let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        let rel = abs
            .strip_prefix(&base)
            .map(|r| rel_id(Path::new(""), r))
            .unwrap_or_else(|_| abs.display().to_string());
        let gender = match u.gender {
            Some(crate::Gender::Male) => "male",
            Some(crate::Gender::Female) => "female",
            None => "",
        };
        w.write_record([
            rel.as_str(),
            &u.label,
            u.speaker.as_deref().unwrap_or(""),
            gender,
        ])
        .map_err(io)?;
    }
    let bytes = w.into_inner().map_err(|e| Error::Manifest {
        path: manifest.to_path_buf(),
        line: 0,
        reason: e.to_string(),
    })?;
    ser_fs::write_atomic(manifest, &bytes).map_err(|e| Error::io(manifest, e))
}
