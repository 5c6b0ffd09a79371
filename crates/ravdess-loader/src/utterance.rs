//! The one utterance type every corpus (RAVDESS, generated, folder, CSV manifest) yields.

use std::path::PathBuf;

use crate::Audio;
use crate::name::RavdessName;

/// Speaker gender, where a corpus records it (RAVDESS: odd actor = male, even = female).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    /// Male speaker.
    Male,
    /// Female speaker.
    Female,
}

/// One labelled utterance from any corpus.
///
/// `label` is the class name as a lowercase string (for RAVDESS one of
/// [`crate::Emotion::name`]), so models and metrics work with any label set.
/// `speaker` is what speaker-independent splits group by.
///
/// `Default` gives an empty utterance, so code that builds one field by field can end with
/// `..Default::default()` and keeps compiling when a field is added.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Utterance {
    /// Stable identifier: the path relative to the corpus root, or the file name for
    /// generated clips. Used in reports and as a cache key component. In a corpus combined
    /// from several ([`crate::open_corpora`]) it is prefixed `corpus:` so it stays unique.
    pub id: String,
    /// Name of the corpus the utterance came from (see [`crate::CorpusSpec::name`]):
    /// the sanitised folder name for [`crate::open_corpus`], `"generated"` for
    /// [`crate::synth`], empty when unknown. Reports group per corpus by it.
    pub corpus: String,
    /// File on disk, when the utterance came from one.
    pub path: Option<PathBuf>,
    /// Decoded audio, when loaded (or generated in memory).
    pub audio: Option<Audio>,
    /// Class label, lowercase (e.g. `"angry"`).
    pub label: String,
    /// Speaker identifier (RAVDESS: the two-digit actor number, e.g. `"07"`; EMO-DB `"03"`),
    /// namespaced `corpus:speaker` (`"emodb:03"`) when several corpora are combined.
    pub speaker: Option<String>,
    /// Speaker gender, when known.
    pub gender: Option<Gender>,
    /// The parsed RAVDESS file name, for RAVDESS-shaped corpora (intensity, statement, ...).
    pub ravdess: Option<RavdessName>,
}
