//! `ser-data download ravdess`: resumable HTTP download with retries, integrity checks and
//! unpacking of the official RAVDESS speech archive.
//!
//! Resume: bytes go to `<archive>.part`; every attempt asks for `Range: bytes=<have>-` and
//! appends when the server answers `206 Partial Content` (restarts on `200`). Integrity: the
//! optional `--md5` (copy it from the Zenodo record page; we do not hard-code one), then the
//! CRC-32 of every zip member and the number of RAVDESS speech files (see [`crate::unzip`]).

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};

use crate::{progress, unzip};

/// Official archive: Livingstone & Russo (2018), Zenodo record 1188976.
pub const RAVDESS_URL: &str =
    "https://zenodo.org/records/1188976/files/Audio_Speech_Actors_01-24.zip";

/// What to download and check.
#[derive(Debug, Clone)]
pub struct Request {
    /// Destination folder.
    pub dest: PathBuf,
    /// Archive URL.
    pub url: String,
    /// Expected MD5 (hex), if the user supplied one.
    pub md5: Option<String>,
    /// Expected number of speech WAV files.
    pub expect_files: usize,
    /// Attempts.
    pub retries: u32,
}

/// Failure of one attempt: worth retrying (network) or not (404, bad server reply).
enum Attempt {
    Retry(anyhow::Error),
    Fatal(anyhow::Error),
}

/// Runs the whole download-verify-unpack pipeline.
pub fn ravdess(req: &Request) -> anyhow::Result<ExitCode> {
    let md5 = match &req.md5 {
        Some(m) => {
            let m = m.trim().to_ascii_lowercase();
            if m.len() != 32 || !m.bytes().all(|b| b.is_ascii_hexdigit()) {
                bail!(
                    "--md5 `{m}` is not 32 hex digits (copy the md5 shown on the Zenodo record page)"
                );
            }
            Some(m)
        }
        None => None,
    };
    std::fs::create_dir_all(&req.dest)
        .with_context(|| format!("creating {}", req.dest.display()))?;
    let file_name = req
        .url
        .rsplit('/')
        .next()
        .filter(|n| n.ends_with(".zip"))
        .unwrap_or("Audio_Speech_Actors_01-24.zip");
    let archive = req.dest.join(file_name);
    if archive.is_file() {
        eprintln!("using the existing archive {}", archive.display());
    } else {
        fetch(&req.url, &archive, req.retries.max(1))?;
    }
    if let Some(want) = md5 {
        let got = md5_of(&archive)?;
        if got != want {
            let bad = archive.with_extension("zip.corrupt");
            std::fs::rename(&archive, &bad).ok();
            bail!(
                "MD5 of {} is {got}, expected {want}; moved it to {} — run the command again to \
                 download afresh",
                archive.display(),
                bad.display()
            );
        }
        eprintln!("md5 ok ({got})");
    }
    let n = unzip::verify_and_extract(&archive, &req.dest, req.expect_files)?;
    let corpus = ravdess_loader::open_corpus(&req.dest)
        .with_context(|| format!("scanning the unpacked corpus in {}", req.dest.display()))?;
    if corpus.utterances.len() != req.expect_files || !corpus.problems.is_empty() {
        for p in &corpus.problems {
            eprintln!("problem: {}: {}", p.path.display(), p.reason);
        }
        bail!(
            "unpacked corpus has {} readable speech clips, expected {}",
            corpus.utterances.len(),
            req.expect_files
        );
    }
    eprintln!(
        "RAVDESS ready in {}: {n} files verified, {} clips, {} actors. The archive {} can be deleted.",
        req.dest.display(),
        corpus.utterances.len(),
        corpus.speakers().len(),
        archive.display()
    );
    eprintln!(
        "Licence CC BY-NC-SA 4.0; cite Livingstone & Russo (2018), PLoS ONE 13(5): e0196391."
    );
    Ok(ExitCode::SUCCESS)
}

fn md5_of(path: &Path) -> anyhow::Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut ctx = md5::Context::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        ctx.consume(&buf[..n]);
    }
    Ok(format!("{:x}", ctx.finalize()))
}

/// Downloads `url` to `out` via `out.part`, resuming and retrying with exponential backoff.
fn fetch(url: &str, out: &Path, retries: u32) -> anyhow::Result<()> {
    let mut part = out.as_os_str().to_owned();
    part.push(".part");
    let part = PathBuf::from(part);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut last = anyhow!("no attempt made");
    for attempt in 1..=retries {
        match try_fetch(&agent, url, &part) {
            Ok(()) => {
                ser_fs::persist(&part, out)
                    .with_context(|| format!("renaming {} to {}", part.display(), out.display()))?;
                return Ok(());
            }
            Err(Attempt::Fatal(e)) => return Err(e),
            Err(Attempt::Retry(e)) => {
                eprintln!("download attempt {attempt}/{retries} failed: {e:#}");
                last = e;
                if attempt < retries {
                    let wait = Duration::from_millis(500 * (1u64 << (attempt - 1).min(6)));
                    std::thread::sleep(wait.min(Duration::from_secs(30)));
                }
            }
        }
    }
    Err(last.context(format!(
        "downloading {url} failed after {retries} attempts; the partial file {} is kept and the \
         next run resumes from it",
        part.display()
    )))
}

/// `Content-Range: bytes START-END/TOTAL` or `bytes */TOTAL` -> (start, total).
fn content_range(v: &str) -> (Option<u64>, Option<u64>) {
    let v = v.trim().trim_start_matches("bytes").trim();
    let (range, total) = v.split_once('/').unwrap_or((v, "*"));
    let start = range
        .split_once('-')
        .and_then(|(s, _)| s.trim().parse().ok());
    (start, total.trim().parse().ok())
}

fn try_fetch(agent: &ureq::Agent, url: &str, part: &Path) -> Result<(), Attempt> {
    let have = std::fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    let mut request = agent.get(url);
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let resp = request
        .call()
        .map_err(|e| Attempt::Retry(anyhow!(e).context(format!("requesting {url}"))))?;
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let length: Option<u64> = header("content-length").and_then(|v| v.trim().parse().ok());
    let (append, total) = match status {
        206 => {
            let (start, total) = header("content-range")
                .as_deref()
                .map_or((None, None), content_range);
            if start != Some(have) {
                // The server resumed somewhere else: start over.
                std::fs::remove_file(part).ok();
                return Err(Attempt::Retry(anyhow!(
                    "server resumed at {start:?}, not {have}"
                )));
            }
            (true, total.or(length.map(|l| l + have)))
        }
        200 => (false, length),
        416 => {
            let (_, total) = header("content-range")
                .as_deref()
                .map_or((None, None), content_range);
            if total == Some(have) {
                return Ok(()); // already complete
            }
            std::fs::remove_file(part).ok();
            return Err(Attempt::Retry(anyhow!(
                "server rejected the resume range; restarting"
            )));
        }
        408 | 429 | 500..=599 => return Err(Attempt::Retry(anyhow!("HTTP {status} from {url}"))),
        _ => {
            return Err(Attempt::Fatal(anyhow!(
                "HTTP {status} from {url}; check the URL (default: {RAVDESS_URL})"
            )));
        }
    };
    let io = |what: &str, e: std::io::Error| {
        Attempt::Retry(anyhow!(e).context(format!("{what} {}", part.display())))
    };
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(part)
        .map_err(|e| io("opening", e))?;
    let start = if append { have } else { 0 };
    let bar = progress::bytes(total.unwrap_or(0), "download");
    bar.set_position(start);
    let mut reader = resp.into_body().into_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut written = start;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                bar.abandon();
                file.flush().ok();
                return Err(Attempt::Retry(
                    anyhow!(e).context(format!("receiving {url} after {written} bytes")),
                ));
            }
        };
        file.write_all(&buf[..n]).map_err(|e| io("writing", e))?;
        written += n as u64;
        bar.set_position(written);
    }
    bar.finish_and_clear();
    file.sync_all().map_err(|e| io("syncing", e))?;
    if let Some(t) = total
        && written != t
    {
        return Err(Attempt::Retry(anyhow!(
            "connection closed after {written} of {t} bytes"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_range() {
        assert_eq!(content_range("bytes 100-199/200"), (Some(100), Some(200)));
        assert_eq!(content_range("bytes */200"), (None, Some(200)));
        assert_eq!(content_range("bytes 0-9/*"), (Some(0), None));
    }
}
