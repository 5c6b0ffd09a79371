//! Where the tools find a model when they are not given one: the documented search order of
//! [`find_model`], the way an installed tool finds its data.
//!
//! 1. the `--model DIR` flag (passed in as `flag`);
//! 2. the [`MODEL_ENV`] environment variable (`SER_MODEL=DIR`);
//! 3. the user's data directory: `$XDG_DATA_HOME/ser/models/default`, or
//!    `~/.local/share/ser/models/default` when `XDG_DATA_HOME` is unset or not absolute (the
//!    XDG Base Directory Specification 0.8, "`$XDG_DATA_HOME` ... If `$XDG_DATA_HOME` is either
//!    not set or empty, a default equal to `$HOME/.local/share` should be used"; relative
//!    paths are to be ignored);
//! 4. next to the program: `<exe dir>/../share/ser/models/default` (an install prefix such as
//!    `/usr/local/bin` + `/usr/local/share`, the Filesystem Hierarchy Standard's layout), then
//!    `<exe dir>/models/default` (an unpacked archive);
//! 5. the source tree's `models/default`, compiled in, for `cargo run` from a checkout.
//!
//! A flag or a variable that names a directory is used as it is (a wrong one is an error, not
//! a reason to look elsewhere); the other places are candidates, and the first holding a
//! `manifest.json` wins. When none does, [`ModelError::NoModelFound`] lists every place
//! searched and how to fix it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::manifest::MANIFEST_FILE;
use crate::error::{ModelError, Result};

/// The environment variable naming a model directory (step 2 of [`find_model`]).
pub const MODEL_ENV: &str = "SER_MODEL";

/// Where the shipped model sits under a data directory: `<data>/ser/models/default`.
const DATA_SUBDIR: [&str; 3] = ["ser", "models", "default"];

/// Which step of the search order found a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelSource {
    /// The `--model` flag.
    Flag,
    /// The [`MODEL_ENV`] environment variable.
    Env,
    /// The user's data directory (`$XDG_DATA_HOME` or `~/.local/share`).
    UserData,
    /// Next to the program (`<exe dir>/../share/...` or `<exe dir>/models/default`).
    Installed,
    /// The source tree this build came from (`cargo run` in a checkout).
    SourceTree,
}

impl ModelSource {
    /// How the source is named in messages ("the --model flag", ...).
    pub fn describe(self) -> &'static str {
        match self {
            Self::Flag => "the --model flag",
            Self::Env => "the SER_MODEL environment variable",
            Self::UserData => "the user data directory",
            Self::Installed => "the installation next to the program",
            Self::SourceTree => "the source tree of this build",
        }
    }
}

/// A model directory and the step of the search order that found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelLocation {
    /// The model directory (`manifest.json` + weights).
    pub dir: PathBuf,
    /// Where it was found.
    pub source: ModelSource,
}

/// The inputs of the search: a flag and what the environment says. [`ModelSearch::from_env`]
/// reads them from this process; tests build one by hand (no process-wide variables to set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelSearch {
    /// The `--model` flag, if given.
    pub flag: Option<PathBuf>,
    /// The value of [`MODEL_ENV`], if set and not empty.
    pub env_model: Option<OsString>,
    /// `$XDG_DATA_HOME`, if set.
    pub xdg_data_home: Option<OsString>,
    /// `$HOME`, if set.
    pub home: Option<OsString>,
    /// The running program (`std::env::current_exe`).
    pub exe: Option<PathBuf>,
    /// The source tree's `models/default` (compiled in; `None` to leave it out).
    pub source_tree: Option<PathBuf>,
}

impl ModelSearch {
    /// The search for this process: `flag`, the environment, the running executable and the
    /// source tree this crate was built from.
    pub fn from_env(flag: Option<&Path>) -> Self {
        let non_empty = |v: Option<OsString>| v.filter(|s| !s.is_empty());
        Self {
            flag: flag.map(Path::to_path_buf),
            env_model: non_empty(std::env::var_os(MODEL_ENV)),
            xdg_data_home: non_empty(std::env::var_os("XDG_DATA_HOME")),
            home: non_empty(std::env::var_os("HOME")),
            exe: std::env::current_exe().ok(),
            source_tree: Some(source_tree_model()),
        }
    }

    /// The candidate directories of steps 3-5, in order, with their source.
    pub fn candidates(&self) -> Vec<(ModelSource, PathBuf)> {
        let mut out = Vec::new();
        let xdg = self
            .xdg_data_home
            .as_ref()
            .map(PathBuf::from)
            .filter(|p| p.is_absolute());
        let data = xdg.or_else(|| {
            self.home
                .as_ref()
                .map(|h| PathBuf::from(h).join(".local").join("share"))
        });
        let subdir: PathBuf = DATA_SUBDIR.iter().collect();
        if let Some(data) = data {
            out.push((ModelSource::UserData, data.join(&subdir)));
        }
        if let Some(exe_dir) = self.exe.as_deref().and_then(Path::parent) {
            out.push((
                ModelSource::Installed,
                exe_dir.join("..").join("share").join(&subdir),
            ));
            out.push((
                ModelSource::Installed,
                exe_dir.join("models").join("default"),
            ));
        }
        if let Some(src) = &self.source_tree {
            out.push((ModelSource::SourceTree, src.clone()));
        }
        out
    }

    /// Runs the search (the order of [`find_model`]).
    ///
    /// # Errors
    ///
    /// [`ModelError::MissingArtifact`] / [`ModelError::MissingManifest`] for a flag or
    /// [`MODEL_ENV`] that names no model directory; [`ModelError::NoModelFound`], listing
    /// every place searched, when no candidate holds a model.
    pub fn find(&self) -> Result<ModelLocation> {
        let explicit = match (&self.flag, &self.env_model) {
            (Some(dir), _) => Some((dir.clone(), ModelSource::Flag)),
            (None, Some(dir)) => Some((PathBuf::from(dir), ModelSource::Env)),
            (None, None) => None,
        };
        if let Some((dir, source)) = explicit {
            check_model_dir(&dir)?;
            return Ok(ModelLocation { dir, source });
        }
        let candidates = self.candidates();
        if let Some((source, dir)) = candidates.iter().find(|(_, d)| is_model_dir(d)) {
            return Ok(ModelLocation {
                dir: dir.clone(),
                source: *source,
            });
        }
        Err(ModelError::NoModelFound {
            searched: candidates.into_iter().map(|(_, d)| d).collect(),
        })
    }
}

/// Finds the model to use, in this order:
///
/// 1. `flag` (the `--model DIR` flag);
/// 2. the [`MODEL_ENV`] environment variable (`SER_MODEL=DIR`);
/// 3. `$XDG_DATA_HOME/ser/models/default`, or `~/.local/share/ser/models/default` when
///    `XDG_DATA_HOME` is unset or not absolute (XDG Base Directory Specification 0.8);
/// 4. `<exe dir>/../share/ser/models/default` (an install prefix, `/usr/local/bin` +
///    `/usr/local/share`), then `<exe dir>/models/default` (an unpacked archive);
/// 5. the source tree's `models/default`, compiled in, for `cargo run` from a checkout.
///
/// A flag or variable is used as it is (a wrong one is an error, not a reason to look
/// elsewhere); of the other places the first holding a `manifest.json` wins. When none does,
/// the error lists every place searched and how to fix it.
///
/// ```no_run
/// let found = ser_models::artifact::find_model(None)?;
/// println!("{} (from {})", found.dir.display(), found.source.describe());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// As [`ModelSearch::find`].
pub fn find_model(flag: Option<&Path>) -> Result<ModelLocation> {
    ModelSearch::from_env(flag).find()
}

/// [`find_model`] without a flag: where the tools' default model is.
///
/// # Errors
///
/// As [`ModelSearch::find`].
pub fn find_default_model() -> Result<ModelLocation> {
    find_model(None)
}

/// The `models/default` directory of the source tree this crate was compiled from.
pub fn source_tree_model() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    // crates/ser-models -> the workspace root, as a plain path: messages then name
    // `/src/ser/models/default`, not `/src/ser/crates/ser-models/../../models/default`.
    crate_dir
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| crate_dir.join("..").join(".."), Path::to_path_buf)
        .join("models")
        .join("default")
}

fn is_model_dir(dir: &Path) -> bool {
    dir.join(MANIFEST_FILE).is_file()
}

fn check_model_dir(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        return Err(ModelError::MissingArtifact {
            path: dir.to_path_buf(),
        });
    }
    if !is_model_dir(dir) {
        return Err(ModelError::MissingManifest {
            dir: dir.to_path_buf(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_at(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(MANIFEST_FILE), "{}").unwrap();
    }

    fn search(root: &Path) -> ModelSearch {
        ModelSearch {
            flag: None,
            env_model: None,
            xdg_data_home: None,
            home: Some(root.join("home").into()),
            exe: Some(root.join("prefix").join("bin").join("ser-web")),
            source_tree: Some(root.join("src").join("models").join("default")),
        }
    }

    #[test]
    fn the_search_order_is_flag_env_user_data_install_source() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let mut s = search(root);
        let [user, share, beside, src] = [
            root.join("home/.local/share/ser/models/default"),
            root.join("prefix/bin/../share/ser/models/default"),
            root.join("prefix/bin/models/default"),
            root.join("src/models/default"),
        ];
        let found = |s: &ModelSearch| s.find().map(|l| (l.source, l.dir));
        // Found from the last place up: each earlier place wins once it has a model.
        model_at(&src);
        assert_eq!(found(&s).unwrap(), (ModelSource::SourceTree, src.clone()));
        model_at(&beside);
        assert_eq!(found(&s).unwrap(), (ModelSource::Installed, beside.clone()));
        model_at(&share);
        assert_eq!(found(&s).unwrap(), (ModelSource::Installed, share.clone()));
        model_at(&user);
        assert_eq!(found(&s).unwrap(), (ModelSource::UserData, user.clone()));
        // XDG_DATA_HOME replaces ~/.local/share when absolute, and is ignored when relative.
        let xdg = root.join("xdg");
        model_at(&xdg.join("ser/models/default"));
        s.xdg_data_home = Some(xdg.clone().into());
        assert_eq!(found(&s).unwrap().1, xdg.join("ser/models/default"));
        s.xdg_data_home = Some("relative/dir".into());
        assert_eq!(found(&s).unwrap().1, user);
        // The variable beats every candidate, the flag beats the variable.
        let env_dir = root.join("from-env");
        model_at(&env_dir);
        s.env_model = Some(env_dir.clone().into());
        assert_eq!(found(&s).unwrap(), (ModelSource::Env, env_dir));
        let flag_dir = root.join("from-flag");
        model_at(&flag_dir);
        s.flag = Some(flag_dir.clone());
        assert_eq!(found(&s).unwrap(), (ModelSource::Flag, flag_dir));
    }

    #[test]
    fn a_wrong_flag_or_variable_is_an_error_not_a_fallback() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = search(tmp.path());
        model_at(&tmp.path().join("src/models/default"));
        s.env_model = Some(tmp.path().join("nowhere").into());
        assert!(matches!(
            s.find().unwrap_err(),
            ModelError::MissingArtifact { .. }
        ));
        std::fs::create_dir_all(tmp.path().join("empty")).unwrap();
        s.flag = Some(tmp.path().join("empty"));
        assert!(matches!(
            s.find().unwrap_err(),
            ModelError::MissingManifest { .. }
        ));
    }

    #[test]
    fn nothing_found_lists_every_place_and_the_fixes() {
        let tmp = tempfile::tempdir().unwrap();
        let s = search(tmp.path());
        let err = s.find().unwrap_err();
        let msg = err.to_string();
        for (_, place) in s.candidates() {
            assert!(msg.contains(&place.display().to_string()), "{msg}");
        }
        assert!(msg.contains("--model") && msg.contains(MODEL_ENV), "{msg}");
        // Without HOME, an executable path or a source tree there is nothing to search, and
        // the message still says how to fix it.
        let bare = ModelSearch::default().find().unwrap_err().to_string();
        assert!(
            bare.contains("--model") && bare.contains(MODEL_ENV),
            "{bare}"
        );
    }
}
