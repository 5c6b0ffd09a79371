//! Label maps: rename, merge or drop a corpus's class labels before corpora are combined.
//!
//! Corpora name and choose their emotions differently (EMO-DB has `boredom`, which RAVDESS
//! lacks; a user's corpus may say `anger` for our `angry`). A [`LabelMap`] is applied per
//! corpus by [`crate::open_corpora`]; labels it does not mention are kept unchanged.
//!
//! # File format
//!
//! A small CSV, one rule per line, `from,to`:
//!
//! ```text
//! # EMO-DB -> our class names
//! from,to          <- optional header
//! anger,angry      <- rename (or merge: several `from` may share one `to`)
//! boredom,-        <- `-` or an empty `to` drops every clip with that label
//! neutral,neutral  <- keep as is (same as not listing it)
//! ```
//!
//! Labels are trimmed and lowercased; `#` starts a comment (whole line or after a rule); blank
//! lines are ignored. There is no quoting: labels cannot contain `,` or `#`. Each `from` may
//! appear once. Errors name the file and the 1-based line.
//!
//! ```
//! use ravdess_loader::{LabelMap, labelmap::LabelAction};
//!
//! let map = LabelMap::parse("boredom,-\nanger,angry # German 'Ärger'\n", "inline")?;
//! assert_eq!(map.action("boredom"), LabelAction::Drop);
//! assert_eq!(map.action("Anger"), LabelAction::Map("angry".into()));
//! assert_eq!(map.action("sad"), LabelAction::Keep);
//! let same = LabelMap::new().drop_label("boredom").map("anger", "angry");
//! assert_eq!(map.rules(), same.rules());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What a [`LabelMap`] does with one label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", content = "to", rename_all = "lowercase")]
pub enum LabelAction {
    /// Keep the label as it is.
    Keep,
    /// Replace the label with this one (lowercase).
    Map(String),
    /// Leave every clip with this label out.
    Drop,
}

/// A per-corpus label map (see the module docs for the file format).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelMap {
    rules: BTreeMap<String, LabelAction>,
    source: Option<PathBuf>,
}

/// The label map shipped as `datasets/labelmaps/emodb.csv`, compiled in so that
/// [`LabelMap::emodb`] needs no file (a test checks the two agree).
pub const EMODB_MAP: &str = include_str!("../../../datasets/labelmaps/emodb.csv");

fn clean(label: &str) -> String {
    label.trim().to_lowercase()
}

impl LabelMap {
    /// The identity map (keeps every label).
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `from` to `to` (both trimmed and lowercased); a later rule for the same `from`
    /// replaces an earlier one.
    pub fn map(mut self, from: &str, to: &str) -> Self {
        self.rules.insert(clean(from), LabelAction::Map(clean(to)));
        self
    }

    /// Drops every clip labelled `from`.
    pub fn drop_label(mut self, from: &str) -> Self {
        self.rules.insert(clean(from), LabelAction::Drop);
        self
    }

    /// Keeps `from` unchanged (the default for unlisted labels; listing it documents intent).
    pub fn keep(mut self, from: &str) -> Self {
        self.rules.insert(clean(from), LabelAction::Keep);
        self
    }

    /// What happens to `label` (compared trimmed and lowercased). A mapping to the label
    /// itself reads as [`LabelAction::Keep`].
    pub fn action(&self, label: &str) -> LabelAction {
        let label = clean(label);
        match self.rules.get(&label) {
            Some(LabelAction::Map(to)) if *to == label => LabelAction::Keep,
            Some(a) => a.clone(),
            None => LabelAction::Keep,
        }
    }

    /// The rules, by `from` label.
    pub fn rules(&self) -> &BTreeMap<String, LabelAction> {
        &self.rules
    }

    /// The file this map was read from, if any (for messages).
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// The shipped EMO-DB map ([`EMODB_MAP`]): the six emotions RAVDESS shares renamed to
    /// our class names, `boredom` dropped.
    pub fn emodb() -> Self {
        // The text is compiled in and covered by a unit test, so it always parses; an empty
        // map would still be a safe (identity) fallback.
        Self::parse(EMODB_MAP, "datasets/labelmaps/emodb.csv").unwrap_or_default()
    }

    /// Reads a label-map file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, path)
    }

    /// Parses label-map text; `origin` names it in errors (a file path, or e.g. `"--label-map"`).
    pub fn parse(text: &str, origin: impl AsRef<Path>) -> Result<Self> {
        let origin = origin.as_ref();
        let err = |line: usize, reason: String| Error::LabelMap {
            path: origin.to_path_buf(),
            line,
            reason,
        };
        let mut map = Self {
            rules: BTreeMap::new(),
            source: Some(origin.to_path_buf()),
        };
        let mut first_rule = true;
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let body = raw.split('#').next().unwrap_or("").trim();
            if body.is_empty() {
                continue;
            }
            let fields: Vec<&str> = body.split(',').map(str::trim).collect();
            if fields.len() != 2 {
                return Err(err(
                    line,
                    format!(
                        "expected `from,to` (2 fields), found {} in `{body}`; `to` empty or `-` \
                         drops the label",
                        fields.len()
                    ),
                ));
            }
            let (from, to) = (clean(fields[0]), clean(fields[1]));
            if std::mem::take(&mut first_rule) && from == "from" && to == "to" {
                continue; // the optional header
            }
            if from.is_empty() {
                return Err(err(line, "empty `from` label".into()));
            }
            if map.rules.contains_key(&from) {
                return Err(err(
                    line,
                    format!("`{from}` is mapped twice; keep one rule per label"),
                ));
            }
            let action = if to.is_empty() || to == "-" {
                LabelAction::Drop
            } else {
                LabelAction::Map(to)
            };
            map.rules.insert(from, action);
        }
        Ok(map)
    }
}

/// Why clips were left out of a combined corpus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LeftOutReason {
    /// The corpus's label map drops the label.
    DroppedByMap {
        /// The label-map file, when the map came from one.
        map: Option<PathBuf>,
    },
    /// The (mapped) label is not one of the target labels the caller asked for.
    NotInTarget {
        /// The target labels.
        target: Vec<String>,
    },
}

/// Clips of one label of one corpus that were left out, with the reason and how to keep them.
/// `Display` is the message CLIs print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOut {
    /// Corpus name.
    pub corpus: String,
    /// The label as it was when left out (after mapping, for [`LeftOutReason::NotInTarget`]).
    pub label: String,
    /// Number of clips.
    pub clips: usize,
    /// Why.
    pub reason: LeftOutReason,
}

impl fmt::Display for LeftOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self {
            corpus,
            label,
            clips,
            reason,
        } = self;
        write!(
            f,
            "corpus `{corpus}`: left out {clips} clip(s) labelled `{label}`: "
        )?;
        match reason {
            LeftOutReason::DroppedByMap { map } => {
                match map {
                    Some(p) => write!(f, "dropped by the label map {}", p.display())?,
                    None => write!(f, "dropped by the label map")?,
                }
                write!(
                    f,
                    "; to keep them, map the label instead (a line `{label},<class>` in the map)"
                )
            }
            LeftOutReason::NotInTarget { target } => write!(
                f,
                "not one of the target labels ({}); to keep them, map it to one in a label \
                 map (a line `{label},<class>`, see datasets/README.md)",
                target.join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_emodb_map_parses_and_drops_boredom() {
        let map = LabelMap::parse(EMODB_MAP, "emodb.csv").expect("shipped map parses");
        assert_eq!(map.action("boredom"), LabelAction::Drop);
        for ours in ["angry", "disgust", "fearful", "happy", "neutral", "sad"] {
            assert_eq!(map.action(ours), LabelAction::Keep, "{ours}");
        }
        assert_eq!(LabelMap::emodb().rules(), map.rules());
    }

    #[test]
    fn bad_lines_are_errors_naming_the_line() {
        let cases = [
            ("angry,angry\nsad\n", 2, "2 fields"),
            ("# c\n\nsad,unhappy,x\n", 3, "found 3"),
            (",angry\n", 1, "empty `from`"),
            ("sad,x\nSAD,y\n", 2, "mapped twice"),
        ];
        for (text, line, needle) in cases {
            let e = LabelMap::parse(text, "m.csv").expect_err(text).to_string();
            assert!(e.starts_with(&format!("m.csv:{line}:")), "{e}");
            assert!(e.contains(needle), "{e}");
        }
    }

    #[test]
    fn header_comments_and_drop_spellings() {
        let m = LabelMap::parse("from,to\n# x\nA,\nb , - \nC,D # why\n", "m").expect("parses");
        assert_eq!(m.action("a"), LabelAction::Drop);
        assert_eq!(m.action("b"), LabelAction::Drop);
        assert_eq!(m.action("c"), LabelAction::Map("d".into()));
        // A header is only recognised as the first rule line.
        let m = LabelMap::parse("x,y\nfrom,to\n", "m").expect("parses");
        assert_eq!(m.action("from"), LabelAction::Map("to".into()));
    }

    #[test]
    fn message_says_how_to_keep_the_clips() {
        let l = LeftOut {
            corpus: "emodb".into(),
            label: "boredom".into(),
            clips: 81,
            reason: LeftOutReason::DroppedByMap {
                map: Some("datasets/labelmaps/emodb.csv".into()),
            },
        };
        let s = l.to_string();
        assert!(s.contains("left out 81 clip(s) labelled `boredom`"), "{s}");
        assert!(s.contains("`boredom,<class>`"), "{s}");
    }
}
