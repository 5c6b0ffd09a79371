//! Atomic writes: a file or directory is written beside its final path and renamed onto it.
//!
//! A rename within one file system is atomic on POSIX, so readers of the final path (and a
//! resumed run that treats "the file exists" as "that step is done") see either the previous
//! version or the complete new one. Every crate of the workspace that writes results, caches,
//! checkpoints or model artifacts goes through this crate instead of a hand-written
//! temp-then-rename.
//!
//! ```
//! use std::io::Write;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("report.json");
//! ser_fs::write_atomic(&path, b"{}")?;
//! ser_fs::write_atomic_with(&path, |w| w.write_all(b"{\"ua\": 0.5}"))?;
//! assert_eq!(std::fs::read(&path)?, b"{\"ua\": 0.5}");
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Conventions
//!
//! - Temporary names are hidden siblings, `.<name>.tmp-<pid>-<n>[.<ext>]`: unique per process
//!   and per call, so threads or processes writing the same path never share one.
//! - File contents are `fsync`ed before the rename, and the directory after it (best effort:
//!   not every platform can open a directory), so a crash right after a write cannot leave an
//!   empty file under the final name.
//! - Parent directories are not created: where a caller wants them, it says so.
//! - Errors are plain [`std::io::Error`]s; callers attach the path in their own error types.
#![warn(missing_docs)]

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` atomically.
///
/// # Errors
///
/// Any I/O error creating, writing, syncing or renaming the temporary file; `path` is then
/// unchanged and the temporary file removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Writes `path` atomically through `write`, which gets a buffered writer on a temporary file
/// in the same directory. The file is flushed, synced and renamed onto `path` only when
/// `write` succeeds.
///
/// `E` is the closure's error type; I/O errors of the staging itself convert into it (use
/// [`std::io::Error`] itself, or `anyhow::Error`).
///
/// # Errors
///
/// `write`'s error, or an I/O error of the staging; `path` is then unchanged and the
/// temporary file removed.
pub fn write_atomic_with<E, F>(path: &Path, write: F) -> Result<(), E>
where
    E: From<io::Error>,
    F: FnOnce(&mut BufWriter<File>) -> Result<(), E>,
{
    let staged = StagedFile::new(path);
    let mut w = BufWriter::new(File::create(staged.path())?);
    write(&mut w)?;
    let file = w.into_inner().map_err(io::IntoInnerError::into_error)?;
    file.sync_all()?;
    drop(file);
    staged.commit()?;
    Ok(())
}

/// Moves a finished file that was written under another name beside `target` onto it: synced,
/// renamed, the rename synced. For a file that must outlive a failed attempt and so cannot be
/// a [`StagedFile`] (a resumable download's `.part`).
///
/// # Errors
///
/// `tmp` cannot be opened or synced, or the rename fails.
pub fn persist(tmp: &Path, target: &Path) -> io::Result<()> {
    File::open(tmp)?.sync_all()?;
    std::fs::rename(tmp, target)?;
    sync_parent(target);
    Ok(())
}

/// A file written at a temporary path beside `target` and renamed onto it by
/// [`commit`](Self::commit); removed if dropped uncommitted. For writers that open the file
/// themselves (an image encoder that picks its format from the extension, which the temporary
/// name keeps).
#[derive(Debug)]
pub struct StagedFile(Staging);

impl StagedFile {
    /// A staging path for `target` (nothing is created yet).
    pub fn new(target: &Path) -> Self {
        Self(Staging::new(target, true))
    }

    /// Where to write the contents.
    pub fn path(&self) -> &Path {
        &self.0.tmp
    }

    /// Syncs the written file and renames it onto the target.
    ///
    /// # Errors
    ///
    /// The file does not exist (nothing was written), or syncing or renaming failed.
    pub fn commit(mut self) -> io::Result<()> {
        persist(&self.0.tmp, &self.0.target)?;
        self.0.committed = true;
        Ok(())
    }
}

/// A directory filled at a temporary path beside `target` and swapped in as a whole by
/// [`commit`](Self::commit): an existing `target` is moved aside, the new one renamed into
/// place, the old one removed. Removed if dropped uncommitted.
///
/// Between the two renames `target` is briefly absent (POSIX cannot swap two directories in
/// one call); a reader then finds nothing rather than a mixture.
#[derive(Debug)]
pub struct StagedDir(Staging);

impl StagedDir {
    /// Creates an empty staging directory beside `target` (the parent must exist).
    ///
    /// # Errors
    ///
    /// The staging directory cannot be created.
    pub fn new(target: &Path) -> io::Result<Self> {
        let staging = Staging::new(target, false);
        std::fs::create_dir(&staging.tmp)?;
        Ok(Self(staging))
    }

    /// The staging directory to fill.
    pub fn path(&self) -> &Path {
        &self.0.tmp
    }

    /// Renames the staging directory onto the target, replacing an existing one.
    ///
    /// # Errors
    ///
    /// A rename failed. If the old directory was already moved aside, it is moved back.
    pub fn commit(mut self) -> io::Result<()> {
        self.0.commit()
    }
}

/// A temporary sibling of `target` (a file or a directory), removed when dropped unless
/// committed: what [`StagedFile`] and [`StagedDir`] share.
#[derive(Debug)]
struct Staging {
    tmp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl Staging {
    fn new(target: &Path, keep_extension: bool) -> Self {
        Self {
            tmp: sibling(target, keep_extension),
            target: target.to_path_buf(),
            committed: false,
        }
    }

    /// Renames the staged directory onto the target. A directory cannot replace another in
    /// one rename, so an existing one is moved aside first (and back if the second rename
    /// fails) and removed after.
    fn commit(&mut self) -> io::Result<()> {
        if self.target.exists() {
            let old = sibling(&self.target, false);
            std::fs::rename(&self.target, &old)?;
            if let Err(e) = std::fs::rename(&self.tmp, &self.target) {
                let _ = std::fs::rename(&old, &self.target);
                return Err(e);
            }
            let _ = std::fs::remove_dir_all(&old);
        } else {
            std::fs::rename(&self.tmp, &self.target)?;
        }
        self.committed = true;
        sync_parent(&self.target);
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            // Whichever it is; the other call fails harmlessly.
            let _ = std::fs::remove_file(&self.tmp);
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// `.<name>.tmp-<pid>-<n>` beside `target`, keeping `target`'s extension when asked.
fn sibling(target: &Path, keep_extension: bool) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let ext = match target.extension() {
        Some(e) if keep_extension => format!(".{}", e.to_string_lossy()),
        _ => String::new(),
    };
    target.with_file_name(format!(".{name}.tmp-{}-{n}{ext}", std::process::id()))
}

/// Makes a rename in `path`'s directory durable (best effort: on platforms where a directory
/// cannot be opened and synced, the rename is still atomic, only its durability is the OS's).
fn sync_parent(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Ok(dir) = File::open(parent) {
        let _ = dir.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_a_file_whole_or_not_at_all_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log.csv");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        // A write that fails half-way leaves the previous contents.
        let err = write_atomic_with(&p, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(names(dir.path()), ["log.csv"]);
    }

    #[test]
    fn a_missing_parent_is_an_error_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("no/such/file");
        assert!(write_atomic(&p, b"x").is_err());
        assert!(!dir.path().join("no").exists());
    }

    #[test]
    fn a_staged_file_keeps_the_extension_and_is_removed_when_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("confusion.png");
        let staged = StagedFile::new(&target);
        assert_eq!(staged.path().extension().unwrap(), "png");
        std::fs::write(staged.path(), b"png").unwrap();
        drop(staged);
        assert!(names(dir.path()).is_empty());
        let staged = StagedFile::new(&target);
        std::fs::write(staged.path(), b"png").unwrap();
        staged.commit().unwrap();
        assert_eq!(names(dir.path()), ["confusion.png"]);
    }

    #[test]
    fn a_staged_dir_replaces_the_old_one_as_a_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("model");
        for (file, text) in [("a", "first"), ("b", "second")] {
            let staged = StagedDir::new(&target).unwrap();
            std::fs::write(staged.path().join(file), text).unwrap();
            staged.commit().unwrap();
        }
        assert_eq!(names(&target), ["b"]);
        assert_eq!(names(dir.path()), ["model"]);
        // Dropped uncommitted: the target is untouched, the staging directory gone.
        let staged = StagedDir::new(&target).unwrap();
        std::fs::write(staged.path().join("c"), "third").unwrap();
        drop(staged);
        assert_eq!(names(&target), ["b"]);
        assert_eq!(names(dir.path()), ["model"]);
    }

    #[test]
    fn temporary_names_are_unique_hidden_siblings() {
        let t = Path::new("/x/y/cv.json");
        let (a, b) = (sibling(t, true), sibling(t, true));
        assert_ne!(a, b);
        assert_eq!(a.parent(), t.parent());
        let name = a.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(".cv.json.tmp-") && name.ends_with(".json"),
            "{name}"
        );
    }
}

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
