//! Speaker ids: the one place that normalises them and builds namespaced ids.
//!
//! Speaker-independent splits ([`crate::split`]) group utterances by their speaker string, so
//! every spelling of one speaker must become the same string: a user typing `--test-actors 1`
//! means RAVDESS actor `"01"`, and `ravdess:1` means `ravdess:01` once several corpora are
//! combined ([`crate::open_corpora`] namespaces speakers as `corpus:speaker`). CLIs and
//! loaders call [`normalise`] instead of keeping their own copies.
//!
//! ```
//! use ravdess_loader::speaker;
//!
//! assert_eq!(speaker::normalise(" 1 "), "01");
//! assert_eq!(speaker::normalise("EmoDB : 3"), "emodb:03");
//! assert_eq!(speaker::normalise("spk_A"), "spk_A");
//! assert_eq!(speaker::namespaced("emodb", "03"), "emodb:03");
//! assert_eq!(speaker::split("emodb:03"), (Some("emodb"), "03"));
//! ```

/// Separates the corpus name from the speaker in a namespaced id (`emodb:03`).
pub const SEPARATOR: char = ':';

/// Normalises one speaker id so that equal speakers compare equal:
///
/// * surrounding white space is trimmed;
/// * a purely numeric id is zero-padded to two digits (`1` -> `01`, `007` -> `07`,
///   `123` stays `123`), the way RAVDESS (`Actor_01`) and EMO-DB (`03`) write speakers;
/// * a namespaced id `corpus:speaker` keeps its namespace, trimmed and lowercased (corpus
///   names are lowercase, see [`crate::CorpusSpec`]), and normalises the speaker part:
///   `Ravdess:1` -> `ravdess:01`;
/// * anything else is returned trimmed, case preserved (`spk_A`).
///
/// Only the first `:` separates the namespace; an empty string stays empty.
pub fn normalise(id: &str) -> String {
    match split(id) {
        (Some(ns), sp) => namespaced(&ns.trim().to_lowercase(), &normalise_bare(sp)),
        (None, sp) => normalise_bare(sp),
    }
}

/// [`normalise`] over a list, dropping entries that are empty after trimming (a trailing
/// comma in `--test-actors 01,02,`).
pub fn normalise_all<S: AsRef<str>>(ids: &[S]) -> Vec<String> {
    ids.iter()
        .map(|s| normalise(s.as_ref()))
        .filter(|s| !s.is_empty() && !s.ends_with(SEPARATOR))
        .collect()
}

/// The namespaced id `corpus:speaker` used when several corpora are combined.
pub fn namespaced(corpus: &str, speaker: &str) -> String {
    format!("{corpus}{SEPARATOR}{speaker}")
}

/// Splits a namespaced id into `(Some(corpus), speaker)`; a bare id gives `(None, id)`.
pub fn split(id: &str) -> (Option<&str>, &str) {
    match id.split_once(SEPARATOR) {
        Some((ns, sp)) => (Some(ns), sp),
        None => (None, id),
    }
}

/// Resolves speaker ids a user typed (`--test-actors`, `--actors`) against the `known`
/// speakers of a corpus: each is [`normalise`]d; one that `known` holds is kept; a bare id
/// that is the speaker part of exactly one namespaced speaker becomes that one (`03` ->
/// `emodb:03` when only EMO-DB has a speaker 03), so bare ids work whenever they are
/// unambiguous. Ids no corpus has are returned normalised, for the caller to report (it knows
/// whether that is an error). Empty entries are dropped, as by [`normalise_all`].
///
/// # Errors
///
/// [`crate::Error::InvalidConfig`] naming `flag` for a bare id that several corpora have
/// (`01` with `ravdess:01` and `emodb:01`), listing the namespaced ids to choose from.
///
/// ```
/// use ravdess_loader::speaker;
///
/// let known = ["emodb:03", "ravdess:01", "emodb:01"].map(String::from);
/// assert_eq!(speaker::resolve(&known, &["3", "ravdess:1"], "--actors")?, ["emodb:03", "ravdess:01"]);
/// let e = speaker::resolve(&known, &["01"], "--actors").unwrap_err().to_string();
/// assert!(e.contains("--actors") && e.contains("emodb:01 or ravdess:01"), "{e}");
/// # Ok::<(), ravdess_loader::Error>(())
/// ```
pub fn resolve<S: AsRef<str>>(
    known: &[String],
    asked: &[S],
    flag: &'static str,
) -> crate::Result<Vec<String>> {
    normalise_all(asked)
        .into_iter()
        .map(|id| {
            if known.contains(&id) || split(&id).0.is_some() {
                return Ok(id);
            }
            let mut candidates: Vec<&String> = known
                .iter()
                .filter(|k| matches!(split(k), (Some(_), sp) if sp == id))
                .collect();
            candidates.sort();
            candidates.dedup();
            match candidates.as_slice() {
                [] => Ok(id),
                [one] => Ok((*one).clone()),
                several => Err(crate::Error::InvalidConfig {
                    field: flag,
                    reason: format!(
                        "speaker `{id}` is in several corpora; write {} (CORPUS:SPEAKER)",
                        several
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ),
                }),
            }
        })
        .collect()
}

fn normalise_bare(id: &str) -> String {
    let id = id.trim();
    // All ASCII digits (so "+1" or "1.0" stay as written); u32 is enough for any corpus's
    // speaker numbers and a longer digit string is kept verbatim rather than rejected.
    if !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = id.parse::<u32>()
    {
        return format!("{n:02}");
    }
    id.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_padded_and_trimmed() {
        assert_eq!(normalise("1"), "01");
        assert_eq!(normalise(" 21"), "21");
        assert_eq!(normalise("007"), "07");
        assert_eq!(normalise("123"), "123");
        assert_eq!(normalise("+1"), "+1");
        assert_eq!(normalise(""), "");
        assert_eq!(normalise("  "), "");
        assert_eq!(normalise("spk_A"), "spk_A");
        assert_eq!(normalise("99999999999999999999"), "99999999999999999999");
    }

    #[test]
    fn namespaced_ids_keep_namespace_and_normalise_speaker() {
        assert_eq!(normalise("ravdess:1"), "ravdess:01");
        assert_eq!(normalise(" RAVDESS : 01 "), "ravdess:01");
        assert_eq!(normalise("emodb:03"), "emodb:03");
        assert_eq!(normalise("mine:spk_A"), "mine:spk_A");
        assert_eq!(split("a:b:c"), (Some("a"), "b:c"));
        assert_eq!(split("07"), (None, "07"));
    }

    #[test]
    fn resolve_takes_unambiguous_bare_ids_and_names_the_flag_otherwise() {
        let known: Vec<String> = ["emodb:03", "emodb:08", "ravdess:01", "ravdess:03"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            resolve(
                &known,
                &["8", "ravdess:3", " RAVDESS:1 ", "", "99"],
                "--test-actors"
            )
            .expect("unambiguous"),
            vec!["emodb:08", "ravdess:03", "ravdess:01", "99"]
        );
        let e = resolve(&known, &["03"], "--test-actors")
            .expect_err("ambiguous")
            .to_string();
        assert!(
            e.contains("--test-actors") && e.contains("emodb:03 or ravdess:03"),
            "{e}"
        );
        // A single corpus: bare ids stay bare.
        let bare: Vec<String> = ["01", "02"].map(String::from).to_vec();
        assert_eq!(resolve(&bare, &["1"], "--actors").expect("bare"), ["01"]);
    }

    #[test]
    fn lists_drop_empty_entries() {
        assert_eq!(
            normalise_all(&["1", " 21", "spk_a", "", "emodb:", "emodb:9"]),
            vec!["01", "21", "spk_a", "emodb:09"]
        );
    }
}
