//! Verifying and unpacking the RAVDESS archive with the `zip` crate (deflate only).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anyhow::{Context, bail};
use ravdess_loader::name::{RavdessName, VocalChannel};

use crate::progress;

/// Checks every member's CRC-32 (by reading it to the end: the zip crate compares the CRC when
/// a member is fully read) and that exactly `expect` RAVDESS speech WAVs are present, then
/// extracts all members under `dest` (each via a temporary file and rename; members already
/// extracted with the right size are skipped, so a re-run resumes). Returns the member count.
pub fn verify_and_extract(
    archive_path: &Path,
    dest: &Path,
    expect: usize,
) -> anyhow::Result<usize> {
    let open = || -> anyhow::Result<zip::ZipArchive<BufReader<File>>> {
        let f = File::open(archive_path)
            .with_context(|| format!("opening {}", archive_path.display()))?;
        zip::ZipArchive::new(BufReader::new(f)).with_context(|| {
            format!(
                "{} is not a valid zip archive (incomplete or corrupted download?); delete it and run \
                 the command again",
                archive_path.display()
            )
        })
    };
    let mut archive = open()?;
    let members = archive.len();
    let bar = progress::bar(members as u64, "verify");
    let mut speech = 0usize;
    for i in 0..members {
        let mut f = archive
            .by_index(i)
            .with_context(|| format!("reading member {i} of {}", archive_path.display()))?;
        let name = f
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("#{i}"));
        std::io::copy(&mut f, &mut std::io::sink()).with_context(|| {
            format!(
                "member `{name}` of {} is corrupt (CRC or deflate error); delete the archive and \
                 download again",
                archive_path.display()
            )
        })?;
        if !f.is_dir()
            && RavdessName::from_path(Path::new(&name))
                .is_ok_and(|n| n.channel == VocalChannel::Speech)
        {
            speech += 1;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if speech != expect {
        bail!(
            "{} holds {speech} RAVDESS speech WAV files, expected {expect}; is this \
             Audio_Speech_Actors_01-24.zip?",
            archive_path.display()
        );
    }
    let bar = progress::bar(members as u64, "unpack");
    for i in 0..members {
        let mut f = archive.by_index(i)?;
        let Some(rel) = f.enclosed_name() else {
            bail!("member {i} of the archive has an unsafe path; refusing to unpack");
        };
        let target = dest.join(rel);
        if f.is_dir() {
            std::fs::create_dir_all(&target)
                .with_context(|| format!("creating {}", target.display()))?;
        } else {
            if std::fs::metadata(&target).is_ok_and(|m| m.len() == f.size()) {
                bar.inc(1);
                continue;
            }
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            ser_fs::write_atomic_with(&target, |out| std::io::copy(&mut f, out).map(drop))
                .with_context(|| format!("unpacking {}", target.display()))?;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(members)
}
