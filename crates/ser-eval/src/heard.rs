//! Which corpora a model heard, and the speaker-independence check of an evaluation made
//! corpus by corpus.
//!
//! Speaker ids are unique only within a corpus: RAVDESS actor `03` and EMO-DB speaker `03`
//! are different people. Comparing bare ids would call an evaluation of a RAVDESS model on
//! EMO-DB "not speaker-independent" for ten speakers the model never heard, and comparing
//! namespaced ids naively (`emodb:03` vs `03`) would miss real overlaps. So the check
//! compares **corpus-qualified** speakers:
//!
//! * **The model's side** ([`TrainingCorpora::from_training_record`]): the `corpora` that
//!   `ser-train` records in the manifest's training record (with several corpora its speakers
//!   are namespaced, `ravdess:01`); for older or single-corpus artifacts, corpora **inferred**
//!   from the recorded data paths (`data`, `config.data.dir`, `cv.data`, and the members'
//!   records of an ensemble), named after the folder as [`ravdess_loader::CorpusSpec`] names
//!   a bare path (`/data/ravdess-16k` -> `ravdess-16k`; the generated corpus is `generated`).
//!   A bare speaker belongs to the model's corpora; when the manifest names none, it may
//!   belong to any corpus (the conservative reading, and the check of earlier versions).
//! * **The evaluated side** ([`EvaluatedCorpus::list`]): each clip's corpus and its root.
//! * **Same corpus** ([`same_corpus`]): the same name, the same folder (after resolving
//!   links), or the same known corpus recognised on both sides: RAVDESS (a name or path
//!   containing `ravdess`, RAVDESS actor folders or file names; the generated corpus is
//!   RAVDESS-shaped and counts as RAVDESS, so a model of it is checked against RAVDESS
//!   actors) or EMO-DB (`emodb` / `emo-db` in the name or path, EMO-DB file names). When in
//!   doubt the corpora count as the same: a false warning is cheap, a false claim of speaker
//!   independence is not.
//!
//! An evaluated speaker overlaps when a heard speaker has the same speaker part in the same
//! corpus. Evaluating a RAVDESS-only model on EMO-DB is therefore reported as
//! speaker-independent (a leave-one-corpus-out figure), and evaluating it on its own RAVDESS
//! training actors still warns.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ravdess_loader::emodb::EmodbName;
use ravdess_loader::{Corpus, CorpusSpec, Layout, Utterance, speaker};
use ser_models::artifact::Manifest;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::corpora::CorpusRef;
use crate::report::Protocol;

/// The corpora a model's manifest says (or lets us infer) it heard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingCorpora {
    /// The corpora, deduplicated. Empty: unknown.
    pub corpora: Vec<CorpusRef>,
    /// `true` when taken from recorded data paths rather than a recorded corpus list.
    pub inferred: bool,
}

impl TrainingCorpora {
    /// Reads the manifest's training record (see the module docs for the fields read).
    pub fn from_training_record(training: &Value) -> Self {
        let mut out = Self::default();
        collect(training, &mut out);
        out.corpora.sort();
        out.corpora.dedup();
        out
    }

    /// The heard corpus named `name`, or one with that name and no root.
    fn named(&self, name: &str) -> CorpusRef {
        self.corpora
            .iter()
            .find(|c| c.name == name)
            .cloned()
            .unwrap_or_else(|| CorpusRef {
                name: name.to_string(),
                root: None,
            })
    }
}

/// One level of a training record: its `corpora` list, or else its data paths; then its
/// cross-validation settings and its members' records.
fn collect(v: &Value, out: &mut TrainingCorpora) {
    let listed: Vec<CorpusRef> = v
        .get("corpora")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| serde_json::from_value(c.clone()).ok())
        .collect();
    if listed.is_empty() {
        let config_data = v.get("config").and_then(|c| c.get("data"));
        let dir = config_data
            .and_then(|d| d.get("dir"))
            .and_then(Value::as_str);
        let synth = config_data.is_some_and(|d| d.get("synth").is_some());
        for path in [v.get("data").and_then(Value::as_str), dir]
            .into_iter()
            .flatten()
        {
            if let Some(c) = infer(path) {
                out.corpora.push(c);
                out.inferred = true;
            }
        }
        if synth {
            out.corpora.push(generated());
            out.inferred = true;
        }
    } else {
        out.corpora.extend(listed);
    }
    if let Some(cv) = v.get("cv") {
        collect(cv, out);
    }
    for m in v
        .get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(t) = m.get("training") {
            collect(t, out);
        }
    }
}

fn generated() -> CorpusRef {
    CorpusRef {
        name: "generated".into(),
        root: None,
    }
}

/// The corpus of a recorded data path: named after its folder (the generated corpus's
/// descriptions give `generated`); `None` for text that names no folder.
fn infer(path: &str) -> Option<CorpusRef> {
    if path.starts_with("<generated") || path.starts_with("generated corpus") {
        return Some(generated());
    }
    let spec = CorpusSpec::from_path(path).ok()?;
    Some(CorpusRef {
        name: spec.name,
        root: Some(PathBuf::from(path)),
    })
}

/// A known corpus, recognised by name, path or file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Known {
    /// RAVDESS actors (and the RAVDESS-shaped generated corpus).
    Ravdess,
    /// EMO-DB speakers.
    Emodb,
}

/// Known corpora a name or path points at.
fn known_by_text(text: &str) -> BTreeSet<Known> {
    let t = text.to_lowercase();
    let mut k = BTreeSet::new();
    if t.contains("ravdess") || t == "generated" {
        k.insert(Known::Ravdess);
    }
    if t.contains("emodb") || t.contains("emo-db") {
        k.insert(Known::Emodb);
    }
    k
}

/// One corpus of an evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluatedCorpus {
    /// Its name ([`Utterance::corpus`]).
    pub name: String,
    /// Its folder or manifest.
    pub root: PathBuf,
    known: BTreeSet<Known>,
}

impl EvaluatedCorpus {
    /// The corpora of `corpus` (one per distinct [`Utterance::corpus`]), with what the layout
    /// and file names say about them.
    pub fn list(corpus: &Corpus) -> Vec<Self> {
        let names: BTreeSet<&str> = corpus
            .utterances
            .iter()
            .map(|u| u.corpus.as_str())
            .collect();
        names
            .into_iter()
            .map(|name| {
                let (root, layout) = match &corpus.layout {
                    Layout::Combined { corpora } => corpora
                        .iter()
                        .find(|p| p.name == name)
                        .map_or((corpus.root.clone(), None), |p| {
                            (p.root.clone(), Some(&p.layout))
                        }),
                    other => (corpus.root.clone(), Some(other)),
                };
                let utts = corpus.utterances.iter().filter(|u| u.corpus == name);
                let mut known = known_by_text(name);
                known.extend(known_by_text(&root.to_string_lossy()));
                known.extend(known_by_content(layout, utts));
                Self {
                    name: name.to_string(),
                    root,
                    known,
                }
            })
            .collect()
    }

    /// A corpus known by name only.
    fn named(name: &str) -> Self {
        Self {
            name: name.to_string(),
            root: PathBuf::new(),
            known: known_by_text(name),
        }
    }
}

/// Known corpora a layout and its clips' file names show.
fn known_by_content<'a>(
    layout: Option<&Layout>,
    utts: impl Iterator<Item = &'a Utterance>,
) -> BTreeSet<Known> {
    let mut k = BTreeSet::new();
    match layout {
        Some(Layout::RavdessActors | Layout::RavdessFlat | Layout::Generated) => {
            k.insert(Known::Ravdess);
        }
        Some(Layout::EmodbFlat) => {
            k.insert(Known::Emodb);
        }
        // Label folders or a manifest: the clips' names say.
        _ => {
            for u in utts {
                if u.ravdess.is_some() {
                    k.insert(Known::Ravdess);
                } else if u.path.as_deref().and_then(EmodbName::from_path).is_some() {
                    k.insert(Known::Emodb);
                }
                if k.len() == 2 {
                    break;
                }
            }
        }
    }
    k
}

/// Known corpora of a heard corpus: its name, its path, and RAVDESS actor folders in it.
fn known_heard(c: &CorpusRef) -> BTreeSet<Known> {
    let mut k = known_by_text(&c.name);
    if let Some(root) = &c.root {
        k.extend(known_by_text(&root.to_string_lossy()));
        if root.join("Actor_01").is_dir() || root.join("Audio_Speech_Actors_01-24").is_dir() {
            k.insert(Known::Ravdess);
        }
    }
    k
}

/// Whether a heard corpus and an evaluated one are (or may be) the same: same name, same
/// folder, or the same known corpus (see the module docs).
pub fn same_corpus(heard: &CorpusRef, evaluated: &EvaluatedCorpus) -> bool {
    if heard.name == evaluated.name {
        return true;
    }
    if let Some(root) = &heard.root
        && !evaluated.root.as_os_str().is_empty()
        && (root == &evaluated.root || same_file(root, &evaluated.root))
    {
        return true;
    }
    !known_heard(heard).is_disjoint(&evaluated.known)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Fills `protocol`'s overlap fields by comparing corpus-qualified speakers (see the module
/// docs): `overlapping_actors`, `validation_overlap`, `speaker_independent`,
/// `training_corpora` and `speaker_check`. `evaluated` are the evaluation's corpora and
/// `speakers` each evaluated speaker (as reported) with its corpus.
pub fn check(
    protocol: &mut Protocol,
    heard: &TrainingCorpora,
    evaluated: &[EvaluatedCorpus],
    speakers: &[(String, String)],
) {
    let corpus_of = |name: &str| {
        evaluated
            .iter()
            .find(|e| e.name == name)
            .cloned()
            .unwrap_or_else(|| EvaluatedCorpus::named(name))
    };
    // Whether heard speaker `h` may be evaluated speaker `s` of corpus `e`.
    let same = |h: &str, s: &str, e: &EvaluatedCorpus| {
        let (hn, hs) = speaker::split(h);
        if speaker::normalise(hs) != speaker::normalise(speaker::split(s).1) {
            return false;
        }
        match hn {
            Some(n) => same_corpus(&heard.named(n), e),
            None if heard.corpora.is_empty() => true,
            None => heard.corpora.iter().any(|c| same_corpus(c, e)),
        }
    };
    let overlap = |list: &[String]| -> Vec<String> {
        speakers
            .iter()
            .filter(|(s, c)| {
                let e = corpus_of(c);
                list.iter().any(|h| same(h, s, &e))
            })
            .map(|(s, _)| s.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    protocol.validation_overlap = protocol
        .validation_actors
        .as_deref()
        .map(&overlap)
        .unwrap_or_default();
    let shared: Vec<&EvaluatedCorpus> = evaluated
        .iter()
        .filter(|e| heard.corpora.iter().any(|c| same_corpus(c, e)))
        .collect();
    match &protocol.training_actors {
        Some(train) => {
            protocol.overlapping_actors = overlap(train);
            protocol.speaker_independent = Some(protocol.overlapping_actors.is_empty());
        }
        // No speakers recorded, but none of the model's corpora is evaluated: nobody heard.
        None if !heard.corpora.is_empty() && shared.is_empty() => {
            protocol.overlapping_actors.clear();
            protocol.speaker_independent = Some(true);
        }
        None => {
            protocol.overlapping_actors.clear();
            protocol.speaker_independent = None;
        }
    }
    protocol.training_corpora = heard.corpora.clone();
    protocol.speaker_check = describe(heard, evaluated, &shared);
}

/// Which held-out speakers a trained model heard ([`heard_by`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeardSpeakers {
    /// The speakers it trained or validated on, sorted.
    pub overlap: Vec<String>,
    /// `false` when the manifest records no training speakers and the model may have heard
    /// the data's corpora: the check could not be made.
    pub checked: bool,
    /// How the speakers were compared ([`check`]'s sentence).
    pub how: String,
}

/// Which of `speakers` (each with its corpus name) the model of `manifest` heard, trained or
/// validated on, compared corpus by corpus ([`check`]). `evaluated` are the corpora of the
/// data ([`EvaluatedCorpus::list`]). Used before training on a model's outputs (a parent to
/// fine-tune, a teacher to distil): a held-out speaker it heard would make the scores on them
/// not speaker-independent.
pub fn heard_by(
    manifest: &Manifest,
    evaluated: &[EvaluatedCorpus],
    speakers: &[(String, String)],
) -> HeardSpeakers {
    let corpora = TrainingCorpora::from_training_record(&manifest.training);
    let mut protocol = Protocol {
        training_actors: manifest.training_speakers(),
        validation_actors: manifest.validation_speakers(),
        ..Protocol::default()
    };
    check(&mut protocol, &corpora, evaluated, speakers);
    let mut overlap: BTreeSet<String> = protocol.overlapping_actors.into_iter().collect();
    overlap.extend(protocol.validation_overlap);
    HeardSpeakers {
        overlap: overlap.into_iter().collect(),
        checked: protocol.speaker_independent.is_some(),
        how: protocol
            .speaker_check
            .unwrap_or_else(|| "training speakers compared by id".to_string()),
    }
}

/// The protocol's one-sentence account of how speakers were compared (`None` when the model
/// records no corpus and one corpus is evaluated: the plain check of earlier versions).
fn describe(
    heard: &TrainingCorpora,
    evaluated: &[EvaluatedCorpus],
    shared: &[&EvaluatedCorpus],
) -> Option<String> {
    let names = |v: &mut dyn Iterator<Item = &EvaluatedCorpus>| {
        v.map(|e| e.name.as_str()).collect::<Vec<_>>().join(", ")
    };
    if heard.corpora.is_empty() {
        return (evaluated.len() > 1).then(|| {
            "the model's manifest does not say which corpora it heard, so speakers were \
             compared by their ids alone, across corpora (`03` matches every corpus's 03)"
                .to_string()
        });
    }
    let how = if heard.inferred {
        "inferred from its recorded data paths"
    } else {
        "recorded in its manifest"
    };
    let heard_list = heard
        .corpora
        .iter()
        .map(CorpusRef::describe)
        .collect::<Vec<_>>()
        .join(", ");
    let outcome = if shared.is_empty() {
        format!(
            "the evaluated corpus {} is none of them, so the model never heard its speakers: \
             a leave-one-corpus-out figure",
            names(&mut evaluated.iter())
        )
    } else {
        format!(
            "speakers were compared within {}",
            names(&mut shared.iter().copied())
        )
    };
    Some(format!(
        "speakers compared corpus by corpus: the model heard {heard_list} ({how}); {outcome}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(name: &str, root: &str, known: &[Known]) -> EvaluatedCorpus {
        EvaluatedCorpus {
            name: name.into(),
            root: root.into(),
            known: known.iter().copied().collect(),
        }
    }

    fn protocol(evaluated: &[&str], train: &[&str]) -> Protocol {
        Protocol {
            actors_evaluated: evaluated.iter().map(|s| s.to_string()).collect(),
            training_actors: Some(train.iter().map(|s| s.to_string()).collect()),
            ..Protocol::default()
        }
    }

    /// The manifest of the model shipped until issue 27 (a ser-models test fixture) records
    /// bare actors 01-20 and (in its cross-validation settings and members' configs) the data
    /// path /work/shared/data/ravdess-16k.
    #[test]
    fn the_shipped_model_heard_ravdess_inferred_from_its_data_path() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../ser-models/tests/fixtures/shipped-2026-12-05-v1/manifest.json");
        let manifest: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let heard = TrainingCorpora::from_training_record(&manifest["training"]);
        assert!(heard.inferred);
        assert_eq!(
            heard.corpora,
            vec![CorpusRef {
                name: "ravdess-16k".into(),
                root: Some("/work/shared/data/ravdess-16k".into())
            }]
        );
        let train: Vec<&str> = manifest["training"]["train_speakers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(train.len(), 20);

        // EMO-DB speakers 03, 08-16 share ids with RAVDESS actors, not people.
        let emodb = eval("emodb-16k", "/data/emodb-16k", &[Known::Emodb]);
        let mut p = protocol(&["03", "08", "16"], &train);
        let speakers: Vec<(String, String)> = ["03", "08", "16"]
            .iter()
            .map(|s| (s.to_string(), "emodb-16k".to_string()))
            .collect();
        check(&mut p, &heard, std::slice::from_ref(&emodb), &speakers);
        assert_eq!(p.speaker_independent, Some(true));
        assert!(p.overlapping_actors.is_empty());
        let note = p.speaker_check.as_deref().unwrap();
        assert!(note.contains("leave-one-corpus-out"), "{note}");

        // The same actors in another copy of RAVDESS are the training actors.
        let ravdess = eval("ravdess", "/elsewhere/ravdess", &[Known::Ravdess]);
        let speakers = vec![("03".to_string(), "ravdess".to_string())];
        let mut p = protocol(&["03"], &train);
        check(&mut p, &heard, &[ravdess], &speakers);
        assert_eq!(p.speaker_independent, Some(false));
        assert_eq!(p.overlapping_actors, ["03"]);
    }

    #[test]
    fn namespaced_training_speakers_match_only_their_corpus() {
        let heard = TrainingCorpora::from_training_record(&serde_json::json!({
            "train_speakers": ["emodb:03", "ravdess:01"],
            "corpora": [{"name": "ravdess", "root": "/d/r"}, {"name": "emodb", "root": "/d/e"}],
        }));
        assert!(!heard.inferred);
        let train = ["emodb:03", "ravdess:01"];
        // A single-corpus evaluation of EMO-DB: bare ids, another name, same known corpus.
        let e = eval("emodb-16k", "/x/emodb-16k", &[Known::Emodb]);
        let speakers: Vec<(String, String)> = ["01", "03"]
            .iter()
            .map(|s| (s.to_string(), "emodb-16k".to_string()))
            .collect();
        let mut p = protocol(&["01", "03"], &train);
        check(&mut p, &heard, &[e], &speakers);
        assert_eq!(p.overlapping_actors, ["03"]);
        // A combined evaluation: namespaced on both sides.
        let parts = [
            eval("emodb", "/d/e", &[Known::Emodb]),
            eval("other", "/d/o", &[]),
        ];
        let speakers = vec![
            ("emodb:01".to_string(), "emodb".to_string()),
            ("other:03".to_string(), "other".to_string()),
        ];
        let mut p = protocol(&["emodb:01", "other:03"], &train);
        check(&mut p, &heard, &parts, &speakers);
        assert_eq!(p.speaker_independent, Some(true));
    }

    #[test]
    fn unknown_corpora_compare_ids_alone_as_before() {
        let heard = TrainingCorpora::from_training_record(&serde_json::json!({
            "train_actors": ["01", "05"]
        }));
        assert!(heard.corpora.is_empty());
        let e = eval("synth", "/t/synth", &[Known::Ravdess]);
        let speakers = vec![
            ("01".to_string(), "synth".to_string()),
            ("02".to_string(), "synth".to_string()),
        ];
        let mut p = protocol(&["01", "02"], &["01", "05"]);
        check(&mut p, &heard, &[e], &speakers);
        assert_eq!(p.overlapping_actors, ["01"]);
        assert_eq!(
            p.speaker_check, None,
            "a single corpus: the report is as before"
        );
    }

    #[test]
    fn recorded_data_paths_name_the_corpora() {
        let heard = TrainingCorpora::from_training_record(&serde_json::json!({
            "data": "<generated corpus>",
            "members": [{"training": {"config": {"data": {"dir": "data/My RAVDESS"}}}}],
            "cv": {"data": "generated corpus (ravdess_loader::synth)"},
        }));
        let names: Vec<&str> = heard.corpora.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["generated", "my-ravdess"]);
        assert!(same_corpus(
            &heard.corpora[0],
            &eval("x", "/x", &[Known::Ravdess])
        ));
        assert!(!same_corpus(
            &heard.corpora[0],
            &eval("emodb", "/e", &[Known::Emodb])
        ));
    }

    /// A model's manifest with `training` as its training record.
    fn manifest(training: serde_json::Value) -> Manifest {
        let model = ser_models::ModelConfig::default_for(ser_models::Family::Crnn, 64, 2);
        let features = dsp_features::FeatureConfig::default();
        let labels = vec!["angry".to_string(), "sad".to_string()];
        let mut m = Manifest::single("model", model, features, labels, "test");
        m.training = training;
        m
    }

    #[test]
    fn heard_by_compares_a_bare_id_model_with_namespaced_speakers_in_its_own_corpus_only() {
        // A RAVDESS-only model (bare ids, its corpus inferred from the data path) against a
        // run on two corpora (namespaced ids): its `01` is `ravdess:01`, not `emodb:01`; it
        // validated on `02`.
        let m = manifest(serde_json::json!({
            "data": "/data/ravdess-16k",
            "train_speakers": ["01", "03"],
            "val_speakers": ["02"],
        }));
        let evaluated = [
            eval("ravdess", "/data/ravdess-16k", &[Known::Ravdess]),
            eval("emodb", "/data/emodb-16k", &[Known::Emodb]),
        ];
        let speakers: Vec<(String, String)> = [
            ("ravdess:01", "ravdess"),
            ("ravdess:02", "ravdess"),
            ("ravdess:04", "ravdess"),
            ("emodb:01", "emodb"),
            ("emodb:03", "emodb"),
        ]
        .iter()
        .map(|(s, c)| (s.to_string(), c.to_string()))
        .collect();
        let h = heard_by(&m, &evaluated, &speakers);
        assert_eq!(h.overlap, ["ravdess:01", "ravdess:02"]);
        assert!(h.checked);
        assert!(h.how.contains("compared within ravdess"), "{}", h.how);

        // Nothing recorded: cannot be checked on a corpus it may have heard.
        let h = heard_by(&manifest(serde_json::json!({})), &evaluated, &speakers[..1]);
        assert!(!h.checked && h.overlap.is_empty());
    }
}
