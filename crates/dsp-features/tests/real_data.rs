//! Opt-in checks on real RAVDESS speech: set `SER_RAVDESS_DIR` (16 kHz copy) to run, skipped
//! otherwise. dsp-features has no WAV reader (by design), so this reads 16-bit PCM `data`
//! directly; files it cannot parse are skipped.
#![allow(clippy::unwrap_used)] // tests may unwrap (brief)

use std::path::{Path, PathBuf};

use dsp_features::{FeatureConfig, FeatureExtractor, NormStats};

/// Minimal 16-bit PCM mono RIFF reader (walks the chunks, so extra chunks are fine).
fn read_pcm16(path: &Path) -> Option<Vec<f32>> {
    let b = std::fs::read(path).ok()?;
    if b.get(..4)? != b"RIFF" || b.get(8..12)? != b"WAVE" {
        return None;
    }
    let (mut pos, mut fmt_ok) = (12usize, false);
    while pos + 8 <= b.len() {
        let id = &b[pos..pos + 4];
        let len = u32::from_le_bytes(b[pos + 4..pos + 8].try_into().ok()?) as usize;
        let body = b.get(pos + 8..(pos + 8 + len).min(b.len()))?;
        if id == b"fmt " {
            let channels = u16::from_le_bytes(body.get(2..4)?.try_into().ok()?);
            let bits = u16::from_le_bytes(body.get(14..16)?.try_into().ok()?);
            fmt_ok = channels == 1 && bits == 16;
        } else if id == b"data" && fmt_ok {
            return Some(
                body.chunks_exact(2)
                    .map(|c| i16::from_le_bytes([c[0], c[1]]) as f32 / 32768.0)
                    .collect(),
            );
        }
        pos += 8 + len + (len & 1);
    }
    None
}

fn wavs(dir: &Path, n: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "wav") {
                out.push(p);
            }
        }
    }
    out.sort();
    out.truncate(n);
    out
}

#[test]
fn real_speech_batch_stream_and_stats() {
    let Ok(dir) = std::env::var("SER_RAVDESS_DIR") else {
        eprintln!("SER_RAVDESS_DIR not set: skipping real-data test");
        return;
    };
    let clips: Vec<Vec<f32>> = wavs(Path::new(&dir), 24)
        .iter()
        .filter_map(|p| read_pcm16(p))
        .collect();
    assert!(
        !clips.is_empty(),
        "no readable 16-bit mono WAVs under {dir}"
    );
    for cfg in [
        FeatureConfig::default(),
        FeatureConfig {
            deltas: 2,
            ..FeatureConfig::mfcc()
        },
    ] {
        let ex = FeatureExtractor::new(cfg).unwrap();
        let refs: Vec<&[f32]> = clips.iter().map(|c| c.as_slice()).collect();
        let mats: Vec<_> = ex
            .extract_many(&refs)
            .into_iter()
            .map(|r| r.unwrap())
            .collect();
        for (c, m) in clips.iter().zip(&mats) {
            assert_eq!(m.frames(), 1 + c.len() / 160);
            assert!(m.data.iter().all(|v| v.is_finite()));
        }
        // Real-time path gives the same numbers on real speech, in 10 ms chunks.
        let mut s = ex.streaming();
        for chunk in clips[0].chunks(160) {
            s.push(chunk).unwrap();
        }
        assert_eq!(s.finish().unwrap(), mats[0]);
        let stats = NormStats::fit(&mats.iter().collect::<Vec<_>>()).unwrap();
        assert!(
            stats.std.iter().all(|&s| s > 0.0),
            "speech varies in every bin"
        );
    }
}
