//! [`CorpusSpec`]: which corpus to open, under which name, with which speaker rule and label
//! map; the typed form of a CLI's `--data emodb=../data/emodb-16k`.
//!
//! ```
//! use ravdess_loader::{CorpusSpec, LabelMap, SpeakerRule};
//!
//! let spec = CorpusSpec::parse("emodb=../data/emodb-16k")?
//!     .with_speaker_rule(SpeakerRule::parse(r"^(\d\d)")?)
//!     .with_label_map(LabelMap::emodb());
//! assert_eq!(spec.name, "emodb");
//! // A bare path is named after its folder, sanitised to lowercase [a-z0-9_-].
//! assert_eq!(CorpusSpec::parse("data/My RAVDESS/")?.name, "my-ravdess");
//! assert!(CorpusSpec::parse("=data").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use regex::Regex;

use crate::error::{Error, Result};
use crate::labelmap::LabelMap;

/// How to find each utterance's speaker, when the file names are neither RAVDESS nor EMO-DB
/// names (those are recognised without a rule).
#[derive(Debug, Clone)]
pub enum SpeakerRule {
    /// A regular expression with exactly one capture group, matched against each file's name
    /// (not its folder); the group is the speaker (normalised by [`crate::speaker::normalise`]).
    /// A file whose name does not match becomes a [`crate::Problem`] naming it.
    FileName(Regex),
    /// A column of the CSV manifest, by header name. Rows with an empty value become problems.
    Column(String),
}

impl SpeakerRule {
    /// A [`SpeakerRule::FileName`] rule; errors when `pattern` does not compile or does not
    /// have exactly one capture group.
    pub fn file_name(pattern: &str) -> Result<Self> {
        let bad = |reason: String| Error::InvalidSpec {
            spec: pattern.to_string(),
            field: "speaker pattern",
            reason,
        };
        let re = Regex::new(pattern).map_err(|e| bad(e.to_string()))?;
        // captures_len counts the implicit whole-match group 0.
        let groups = re.captures_len() - 1;
        if groups != 1 {
            return Err(bad(format!(
                "needs exactly one capture group (the speaker), found {groups}; e.g. `^(\\d\\d)` \
                 for EMO-DB's SSTTTEV.wav"
            )));
        }
        Ok(Self::FileName(re))
    }

    /// Parses `column:NAME` (a CSV column) or a file-name pattern, optionally written
    /// `regex:PATTERN`.
    pub fn parse(s: &str) -> Result<Self> {
        if let Some(col) = s.strip_prefix("column:") {
            let col = col.trim();
            if col.is_empty() {
                return Err(Error::InvalidSpec {
                    spec: s.to_string(),
                    field: "speaker column",
                    reason: "is empty; write `column:speaker`".into(),
                });
            }
            return Ok(Self::Column(col.to_string()));
        }
        Self::file_name(s.strip_prefix("regex:").unwrap_or(s))
    }

    /// The speaker captured from `file_name`, normalised; `None` when the name does not match
    /// or the group is empty (always `None` for a column rule).
    pub fn speaker_of(&self, file_name: &str) -> Option<String> {
        let Self::FileName(re) = self else {
            return None;
        };
        let s = crate::speaker::normalise(re.captures(file_name)?.get(1)?.as_str());
        (!s.is_empty()).then_some(s)
    }
}

impl fmt::Display for SpeakerRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FileName(re) => write!(f, "regex:{}", re.as_str()),
            Self::Column(c) => write!(f, "column:{c}"),
        }
    }
}

impl PartialEq for SpeakerRule {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

/// One corpus to open: its name (the namespace of its speakers and ids when several corpora
/// are combined), where it is, and optionally a speaker rule and a label map.
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusSpec {
    /// Lowercase ASCII letters, digits, `-` and `_`, starting with a letter or digit.
    pub name: String,
    /// A corpus folder (any layout [`crate::open_corpus`] detects) or a `.csv` manifest.
    pub root: PathBuf,
    /// How to find speakers; `None` = from RAVDESS / EMO-DB names or a `speaker` column.
    pub speaker_rule: Option<SpeakerRule>,
    /// Applied to every label of this corpus; `None` keeps labels as they are.
    pub label_map: Option<LabelMap>,
}

impl CorpusSpec {
    /// A spec with a checked `name` (see [`CorpusSpec::name`]).
    pub fn new(name: &str, root: impl Into<PathBuf>) -> Result<Self> {
        check_name(name)?;
        Ok(Self {
            name: name.to_string(),
            root: root.into(),
            speaker_rule: None,
            label_map: None,
        })
    }

    /// A spec named after the folder (or, for a manifest, the file stem) of `root`,
    /// sanitised: lowercased, runs of other characters replaced by `-`.
    pub fn from_path(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        let name = default_name(&root).ok_or_else(|| Error::InvalidSpec {
            spec: root.display().to_string(),
            field: "name",
            reason: "cannot be derived from this path; give one as NAME=PATH".into(),
        })?;
        Self::new(&name, root)
    }

    /// Parses `NAME=PATH` or a bare `PATH` (named by [`CorpusSpec::from_path`]).
    ///
    /// The text before the first `=` is the name unless it holds a path separator, so a bare
    /// path may contain `=` after a `/` (`runs/a=b/data`); a path that starts with `word=`
    /// must be given a name (`mine=word=x`).
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::InvalidSpec {
                spec: s.to_string(),
                field: "path",
                reason: "is empty; expected NAME=PATH or PATH".into(),
            });
        }
        match s.split_once('=') {
            // Text before `=` without a path separator was meant as a name: check it rather
            // than silently reading `EmoDB=x` as a folder called `EmoDB=x`.
            Some((name, path)) if !name.contains(['/', '\\']) => {
                check_name(name).map_err(|e| with_spec(e, s))?;
                if path.trim().is_empty() {
                    return Err(Error::InvalidSpec {
                        spec: s.to_string(),
                        field: "path",
                        reason: "is empty; expected NAME=PATH".into(),
                    });
                }
                Self::new(name, path.trim())
            }
            _ => Self::from_path(s),
        }
    }

    /// Sets the speaker rule.
    pub fn with_speaker_rule(mut self, rule: SpeakerRule) -> Self {
        self.speaker_rule = Some(rule);
        self
    }

    /// Sets the label map.
    pub fn with_label_map(mut self, map: LabelMap) -> Self {
        self.label_map = Some(map);
        self
    }
}

impl CorpusSpec {
    /// Builds specs from a CLI's repeated flags, so every tool reads them the same way:
    ///
    /// * `data`: `NAME=PATH` or `PATH` per corpus ([`CorpusSpec::parse`]);
    /// * `speaker_rules`: `NAME=RULE` for one corpus, or a bare `RULE` when there is only one
    ///   corpus ([`SpeakerRule::parse`]: a file-name regex or `column:NAME`);
    /// * `label_maps`: `NAME=FILE` or a bare `FILE` likewise ([`LabelMap::from_file`]).
    ///
    /// Errors name the flag value: an unknown corpus name, a bare value with several corpora,
    /// two values for one corpus, or a bad rule, file or spec.
    ///
    /// ```no_run
    /// use ravdess_loader::{CorpusSpec, open_corpora};
    ///
    /// let specs = CorpusSpec::from_args(
    ///     &["ravdess=data/ravdess", "emodb=data/emodb-16k"],
    ///     &[] as &[&str],
    ///     &["emodb=datasets/labelmaps/emodb.csv"],
    /// )?;
    /// let corpus = open_corpora(&specs)?;
    /// for l in &corpus.left_out { eprintln!("note: {l}"); }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_args<A, B, C>(
        data: &[A],
        speaker_rules: &[B],
        label_maps: &[C],
    ) -> Result<Vec<Self>>
    where
        A: AsRef<str>,
        B: AsRef<str>,
        C: AsRef<str>,
    {
        let mut specs = data
            .iter()
            .map(|d| Self::parse(d.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        for r in speaker_rules {
            let (i, rule) = target(&specs, r.as_ref(), "speaker rule")?;
            if specs[i].speaker_rule.is_some() {
                return Err(twice(r.as_ref(), "speaker rule", &specs[i].name));
            }
            specs[i].speaker_rule = Some(SpeakerRule::parse(rule)?);
        }
        for m in label_maps {
            let (i, file) = target(&specs, m.as_ref(), "label map")?;
            if specs[i].label_map.is_some() {
                return Err(twice(m.as_ref(), "label map", &specs[i].name));
            }
            specs[i].label_map = Some(LabelMap::from_file(file)?);
        }
        Ok(specs)
    }
}

fn twice(value: &str, field: &'static str, name: &str) -> Error {
    Error::InvalidSpec {
        spec: value.to_string(),
        field,
        reason: format!("is given twice for corpus `{name}`"),
    }
}

/// Which spec a per-corpus value (`NAME=VALUE` or bare `VALUE`) is for, and the value.
fn target<'a>(
    specs: &[CorpusSpec],
    value: &'a str,
    field: &'static str,
) -> Result<(usize, &'a str)> {
    let bad = |reason: String| Error::InvalidSpec {
        spec: value.to_string(),
        field,
        reason,
    };
    let names = || {
        specs
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match split_named(value) {
        (Some(name), rest) => match specs.iter().position(|s| s.name == name) {
            Some(i) => Ok((i, rest)),
            None => Err(bad(format!(
                "names corpus `{name}`, which is not among the corpora given ({})",
                names()
            ))),
        },
        (None, rest) if specs.len() == 1 => Ok((0, rest)),
        (None, _) => Err(bad(format!(
            "must say which corpus it is for when there are several: NAME=VALUE with NAME one \
             of {}",
            names()
        ))),
    }
}

/// Splits an optional `NAME=` prefix off a per-corpus CLI value (`emodb=^(\d\d)`,
/// `emodb=datasets/labelmaps/emodb.csv`), by the same rule as [`CorpusSpec::parse`]:
/// `(Some("emodb"), rest)`, or `(None, s)` when the text before `=` is not a valid name.
pub fn split_named(s: &str) -> (Option<&str>, &str) {
    match s.split_once('=') {
        Some((name, rest)) if check_name(name).is_ok() => (Some(name), rest),
        _ => (None, s),
    }
}

fn with_spec(e: Error, spec: &str) -> Error {
    match e {
        Error::InvalidSpec { field, reason, .. } => Error::InvalidSpec {
            spec: spec.to_string(),
            field,
            reason,
        },
        other => other,
    }
}

/// Checks a corpus name: it becomes the prefix of speaker ids (`name:03`), so it may not hold
/// the `:` separator, and it appears in file names of reports, so it stays plain ASCII.
pub(crate) fn check_name(name: &str) -> Result<()> {
    let bad = |reason: &str| Error::InvalidSpec {
        spec: name.to_string(),
        field: "name",
        reason: reason.to_string(),
    };
    let mut chars = name.chars();
    match chars.next() {
        None => Err(bad("is empty")),
        Some(c) if !(c.is_ascii_lowercase() || c.is_ascii_digit()) => Err(bad(
            "must start with a lowercase ASCII letter or digit (then a-z, 0-9, `-`, `_`)",
        )),
        _ if !chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') =>
        {
            Err(bad(
                "may hold only lowercase ASCII letters, digits, `-` and `_`",
            ))
        }
        _ => Ok(()),
    }
}

/// The folder name (or a manifest's file stem) lowercased, other characters collapsed to `-`.
pub(crate) fn default_name(root: &Path) -> Option<String> {
    let is_file = root
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let raw = if is_file {
        root.file_stem()?
    } else {
        root.file_name()?
    };
    let mut out = String::new();
    for c in raw.to_string_lossy().chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_derived() {
        assert!(check_name("emodb").is_ok());
        assert!(check_name("ravdess-16k_2").is_ok());
        for bad in ["", "EmoDB", "-x", "a:b", "a b", "é"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert_eq!(
            default_name(Path::new("/d/emodb-16k")).as_deref(),
            Some("emodb-16k")
        );
        assert_eq!(
            default_name(Path::new("Audio_Speech_Actors_01-24")).as_deref(),
            Some("audio_speech_actors_01-24")
        );
        assert_eq!(
            default_name(Path::new("x/My Calls.csv")).as_deref(),
            Some("my-calls")
        );
        assert_eq!(default_name(Path::new("/")), None);
        assert_eq!(default_name(Path::new("x/..")), None);
    }

    #[test]
    fn parse_names_the_field_in_errors() {
        let s = CorpusSpec::parse("emodb=../data/emodb-16k").expect("valid");
        assert_eq!(
            (s.name.as_str(), s.root.as_path()),
            ("emodb", Path::new("../data/emodb-16k"))
        );
        let s = CorpusSpec::parse("runs/a=b/corpus").expect("bare path with =");
        assert_eq!(s.name, "corpus");
        let e = CorpusSpec::parse("EmoDB=data")
            .expect_err("bad name")
            .to_string();
        assert!(e.contains("`name`") && e.contains("lowercase"), "{e}");
        let e = CorpusSpec::parse("=data")
            .expect_err("empty name")
            .to_string();
        assert!(e.contains("`name`") && e.contains("=data"), "{e}");
        let e = CorpusSpec::parse("emodb=")
            .expect_err("empty path")
            .to_string();
        assert!(e.contains("`path`"), "{e}");
        let e = CorpusSpec::parse("/").expect_err("no name").to_string();
        assert!(e.contains("`name`") && e.contains("NAME=PATH"), "{e}");
        assert_eq!(split_named("emodb=^(\\d\\d)"), (Some("emodb"), "^(\\d\\d)"));
        assert_eq!(split_named("^(?P<s>\\d)"), (None, "^(?P<s>\\d)"));
    }

    #[test]
    fn specs_from_cli_flags() {
        let none: &[&str] = &[];
        let specs = CorpusSpec::from_args(&["a=x", "b=y"], &["b=^(\\d\\d)"], none).expect("valid");
        assert_eq!(specs[0].speaker_rule, None);
        assert_eq!(
            specs[1].speaker_rule,
            Some(SpeakerRule::parse("^(\\d\\d)").expect("valid"))
        );
        let one = CorpusSpec::from_args(&["x"], &["column:spk"], none).expect("bare ok");
        assert_eq!(one[0].speaker_rule, Some(SpeakerRule::Column("spk".into())));
        for (rules, needle) in [
            (
                &["c=^(a)"][..],
                "`c`, which is not among the corpora given (a, b)",
            ),
            (&["^(a)"][..], "must say which corpus"),
            (&["a=^(a)", "a=^(b)"][..], "twice for corpus `a`"),
        ] {
            let e = CorpusSpec::from_args(&["a=x", "b=y"], rules, none)
                .expect_err(needle)
                .to_string();
            assert!(e.contains(needle) && e.contains("speaker rule"), "{e}");
        }
        let e =
            CorpusSpec::from_args(&["a=x"], none, &["a=/no/such/map.csv"]).expect_err("missing");
        assert!(e.to_string().contains("/no/such/map.csv"), "{e}");
    }

    #[test]
    fn speaker_rules() {
        let r = SpeakerRule::parse(r"^(\d\d)").expect("valid");
        assert_eq!(r.speaker_of("03a01Wa.wav").as_deref(), Some("03"));
        assert_eq!(r.speaker_of("x.wav"), None);
        assert_eq!(r.to_string(), r"regex:^(\d\d)");
        assert_eq!(
            SpeakerRule::parse("regex:^(\\d+)_")
                .expect("valid")
                .speaker_of("7_a.wav")
                .as_deref(),
            Some("07")
        );
        assert_eq!(
            SpeakerRule::parse("column:spk").expect("valid"),
            SpeakerRule::Column("spk".into())
        );
        for (bad, needle) in [
            ("^\\d\\d", "found 0"),
            ("(a)(b)", "found 2"),
            ("(", "speaker pattern"),
            ("column:", "speaker column"),
        ] {
            let e = SpeakerRule::parse(bad).expect_err(bad).to_string();
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }
}
