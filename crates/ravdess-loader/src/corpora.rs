//! [`open_corpora`]: several corpora as one, with speakers namespaced per corpus, each
//! corpus's speaker rule and label map applied, and a report of the clips left out.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use crate::corpus::{Corpus, CorpusPart, Duplicate, Layout, Problem};
use crate::error::{Error, Result};
use crate::labelmap::{LabelAction, LeftOut, LeftOutReason};
use crate::speaker;
use crate::spec::{CorpusSpec, SpeakerRule};

/// Options of [`open_corpora_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorporaOptions {
    /// The class labels to keep (lowercase), e.g. a model's labels or RAVDESS's eight.
    /// Clips whose label (after the corpus's label map) is not one of them are left out and
    /// reported in [`Corpus::left_out`]. `None` keeps every label of every corpus.
    pub labels: Option<Vec<String>>,
}

/// [`open_corpora_with`] with default options (every label kept).
pub fn open_corpora(specs: &[CorpusSpec]) -> Result<Corpus> {
    open_corpora_with(specs, &CorporaOptions::default())
}

/// Opens every corpus of `specs` (layouts auto-detected as by [`crate::open_corpus`]) and
/// combines them into one [`Corpus`]:
///
/// * each utterance's [`crate::Utterance::corpus`] is its spec's name;
/// * each spec's [`SpeakerRule`] gives the speakers (a file whose name does not match is a
///   [`Problem`] naming it), then its [`crate::LabelMap`] renames or drops labels, then labels
///   outside [`CorporaOptions::labels`] are left out; every clip left out is counted in
///   [`Corpus::left_out`] by corpus and label;
/// * with two or more specs, speakers become `name:speaker` (`emodb:03`, `ravdess:01`) and ids
///   `name:id`, so speaker folds ([`crate::split`]) never mix corpora's speakers and ids stay
///   unique; the layout is [`Layout::Combined`] and the root the corpora's common folder
///   (empty when they share none). With one spec, speakers and ids stay bare (`01`) and the
///   layout and root are that corpus's, so single-corpus outputs are unchanged.
///
/// Utterances are sorted by id, problems by path. Errors when `specs` is empty, two specs
/// share a name, a corpus cannot be opened, or a speaker column is given for a corpus that is
/// not a CSV manifest.
pub fn open_corpora_with(specs: &[CorpusSpec], options: &CorporaOptions) -> Result<Corpus> {
    if specs.is_empty() {
        return Err(Error::InvalidConfig {
            field: "corpora",
            reason: "needs at least one corpus".into(),
        });
    }
    let mut names = HashSet::new();
    for s in specs {
        crate::spec::check_name(&s.name)?;
        if !names.insert(s.name.as_str()) {
            return Err(Error::InvalidSpec {
                spec: format!("{}={}", s.name, s.root.display()),
                field: "name",
                reason: "is used by two corpora; give each its own NAME=PATH".into(),
            });
        }
    }
    let target: Option<BTreeSet<String>> = options
        .labels
        .as_ref()
        .map(|l| l.iter().map(|x| x.trim().to_lowercase()).collect());
    let several = specs.len() > 1;
    let mut parts = Vec::with_capacity(specs.len());
    for spec in specs {
        let mut c = open_one(spec)?;
        apply_labels(&mut c, spec, target.as_ref());
        if several {
            namespace(&mut c, &spec.name);
        }
        parts.push(c);
    }
    if !several {
        return parts.pop().ok_or_else(|| Error::InvalidConfig {
            field: "corpora",
            reason: "needs at least one corpus".into(),
        });
    }
    Ok(combine(specs, parts))
}

/// Opens one spec: scan (with a speaker column for manifests), name its utterances, apply a
/// file-name speaker rule.
fn open_one(spec: &CorpusSpec) -> Result<Corpus> {
    let column = match &spec.speaker_rule {
        Some(SpeakerRule::Column(c)) => Some(c.as_str()),
        _ => None,
    };
    let mut c = crate::scan::scan(&spec.root, column)?;
    for u in &mut c.utterances {
        u.corpus.clone_from(&spec.name);
    }
    if let Some(rule @ SpeakerRule::FileName(_)) = &spec.speaker_rule {
        apply_file_rule(&mut c, rule);
    }
    Ok(c)
}

/// Sets every speaker from the file name; non-matching files move to `problems`.
fn apply_file_rule(c: &mut Corpus, rule: &SpeakerRule) {
    let utts = std::mem::take(&mut c.utterances);
    let infos = std::mem::take(&mut c.wav_info);
    for (mut u, info) in utts.into_iter().zip(infos) {
        let file = u
            .path
            .as_deref()
            .and_then(Path::file_name)
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| u.id.clone());
        match rule.speaker_of(&file) {
            Some(s) => {
                // A gender read from a RAVDESS / EMO-DB name (or a CSV column) belongs to
                // that speaker; keep it only when the rule found the same one.
                if u.speaker.as_ref().is_some_and(|old| *old != s) {
                    u.gender = None;
                }
                u.speaker = Some(s);
                c.utterances.push(u);
                c.wav_info.push(info);
            }
            None => c.problems.push(Problem {
                path: u.path.clone().unwrap_or_else(|| PathBuf::from(&u.id)),
                reason: format!(
                    "file name `{file}` does not match the speaker pattern `{rule}` (or its \
                     group is empty), so it has no speaker; rename it or change the pattern"
                ),
            }),
        }
    }
    c.problems.sort_by(|a, b| a.path.cmp(&b.path));
    prune_duplicates(c);
}

/// Applies the spec's label map and the target set, recording what was left out.
fn apply_labels(c: &mut Corpus, spec: &CorpusSpec, target: Option<&BTreeSet<String>>) {
    let mut dropped: BTreeMap<String, usize> = BTreeMap::new();
    let mut outside: BTreeMap<String, usize> = BTreeMap::new();
    let utts = std::mem::take(&mut c.utterances);
    let infos = std::mem::take(&mut c.wav_info);
    for (mut u, info) in utts.into_iter().zip(infos) {
        let action = spec
            .label_map
            .as_ref()
            .map_or(LabelAction::Keep, |m| m.action(&u.label));
        match action {
            LabelAction::Drop => {
                *dropped.entry(u.label).or_default() += 1;
                continue;
            }
            LabelAction::Map(to) => u.label = to,
            LabelAction::Keep => {}
        }
        if target.is_some_and(|t| !t.contains(&u.label)) {
            *outside.entry(u.label).or_default() += 1;
            continue;
        }
        c.utterances.push(u);
        c.wav_info.push(info);
    }
    let map = spec
        .label_map
        .as_ref()
        .and_then(|m| m.source().map(Path::to_path_buf));
    for (label, clips) in dropped {
        c.left_out.push(LeftOut {
            corpus: spec.name.clone(),
            label,
            clips,
            reason: LeftOutReason::DroppedByMap { map: map.clone() },
        });
    }
    for (label, clips) in outside {
        c.left_out.push(LeftOut {
            corpus: spec.name.clone(),
            label,
            clips,
            reason: LeftOutReason::NotInTarget {
                target: target
                    .map(|t| t.iter().cloned().collect())
                    .unwrap_or_default(),
            },
        });
    }
    prune_duplicates(c);
}

/// Drops duplicate-group members that are no longer utterances.
fn prune_duplicates(c: &mut Corpus) {
    let kept: HashSet<&str> = c.utterances.iter().map(|u| u.id.as_str()).collect();
    for d in &mut c.duplicates {
        d.ids.retain(|i| kept.contains(i.as_str()));
    }
    c.duplicates.retain(|d| d.ids.len() > 1);
}

/// Prefixes speakers and ids with `name:`.
fn namespace(c: &mut Corpus, name: &str) {
    for u in &mut c.utterances {
        u.id = speaker::namespaced(name, &u.id);
        if let Some(s) = &u.speaker {
            u.speaker = Some(speaker::namespaced(name, s));
        }
    }
    for d in &mut c.duplicates {
        for id in &mut d.ids {
            *id = speaker::namespaced(name, id);
        }
    }
}

fn combine(specs: &[CorpusSpec], parts: Vec<Corpus>) -> Corpus {
    let mut rows = Vec::new();
    let mut problems: Vec<Problem> = Vec::new();
    let mut duplicates: Vec<Duplicate> = Vec::new();
    let mut left_out = Vec::new();
    let mut infos = Vec::with_capacity(parts.len());
    for (spec, c) in specs.iter().zip(parts) {
        infos.push(CorpusPart {
            name: spec.name.clone(),
            speakers: c.speakers().len(),
            clips: c.utterances.len(),
            root: c.root,
            layout: c.layout,
        });
        rows.extend(c.utterances.into_iter().zip(c.wav_info));
        problems.extend(c.problems);
        duplicates.extend(c.duplicates);
        left_out.extend(c.left_out);
    }
    rows.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    duplicates.sort_by(|a, b| a.ids.cmp(&b.ids));
    let root = common_root(infos.iter().map(|p| p.root.as_path()));
    let (utterances, wav_info) = rows.into_iter().unzip();
    Corpus {
        root,
        layout: Layout::Combined { corpora: infos },
        utterances,
        wav_info,
        problems,
        duplicates,
        left_out,
    }
}

/// The longest common leading path of `roots` (empty when there is none).
fn common_root<'a>(mut roots: impl Iterator<Item = &'a Path>) -> PathBuf {
    let Some(first) = roots.next() else {
        return PathBuf::new();
    };
    let mut common: Vec<_> = first.components().collect();
    for r in roots {
        let n = common
            .iter()
            .zip(r.components())
            .take_while(|(a, b)| **a == *b)
            .count();
        common.truncate(n);
    }
    common.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_root_of_paths() {
        let r = |v: &[&str]| common_root(v.iter().map(Path::new));
        assert_eq!(r(&["/d/a", "/d/b/c"]), PathBuf::from("/d"));
        assert_eq!(r(&["/d/a", "/d/a"]), PathBuf::from("/d/a"));
        assert_eq!(r(&["a/x", "b/y"]), PathBuf::new());
        assert_eq!(r(&[]), PathBuf::new());
    }

    #[test]
    fn empty_and_duplicate_names_are_errors() {
        assert!(open_corpora(&[]).is_err());
        let a = CorpusSpec::new("a", "/nonexistent/x").expect("valid");
        let e = open_corpora(&[a.clone(), a])
            .expect_err("same name")
            .to_string();
        assert!(e.contains("used by two corpora"), "{e}");
    }
}
