//! On-disk feature cache: one binary file per (data, feature config, preprocessing) key, so a
//! second run skips decoding, preprocessing and feature extraction.
//!
//! Format (little endian): magic `SERFEAT1`, item count `u64`, then per item: id length
//! `u32`, id UTF-8 bytes, bins `u32`, frames `u32`, `bins * frames` `f32` in row-major
//! `[bins, frames]` order.

use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::error::{Result, TrainError};

const MAGIC: &[u8; 8] = b"SERFEAT1";

/// Hex MD5 of `parts` (joined with a separator byte). MD5 is a cache key here, not security.
pub fn key(parts: &[&[u8]]) -> String {
    let mut ctx = md5::Context::new();
    for p in parts {
        ctx.consume((p.len() as u64).to_le_bytes());
        ctx.consume(p);
    }
    format!("{:x}", ctx.finalize())
}

/// Path of the cache file for `key` in `dir`.
pub fn path(dir: &Path, key: &str) -> PathBuf {
    dir.join(format!("features-{key}.bin"))
}

/// Writes `(id, matrix)` pairs atomically ([`ser_fs::write_atomic_with`]).
pub fn write(file: &Path, items: &[(String, Array2<f32>)]) -> Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, e))?;
    }
    ser_fs::write_atomic_with(file, |w| {
        w.write_all(MAGIC)?;
        w.write_all(&(items.len() as u64).to_le_bytes())?;
        for (id, m) in items {
            w.write_all(&(id.len() as u32).to_le_bytes())?;
            w.write_all(id.as_bytes())?;
            let (bins, frames) = m.dim();
            w.write_all(&(bins as u32).to_le_bytes())?;
            w.write_all(&(frames as u32).to_le_bytes())?;
            for v in m.iter() {
                w.write_all(&v.to_le_bytes())?;
            }
        }
        Ok(())
    })
    .map_err(|e: std::io::Error| TrainError::io(file, e))
}

/// Reads a cache file; `None` when it does not exist or is unreadable (the caller then
/// recomputes and overwrites it).
pub fn read(file: &Path) -> Option<Vec<(String, Array2<f32>)>> {
    let f = std::fs::File::open(file).ok()?;
    let mut r = BufReader::new(f);
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic).ok()?;
    if &magic != MAGIC {
        return None;
    }
    let n = read_u64(&mut r)? as usize;
    let mut out = Vec::with_capacity(n.min(1 << 20));
    for _ in 0..n {
        let len = read_u32(&mut r)? as usize;
        let mut id = vec![0u8; len];
        r.read_exact(&mut id).ok()?;
        let id = String::from_utf8(id).ok()?;
        let bins = read_u32(&mut r)? as usize;
        let frames = read_u32(&mut r)? as usize;
        let mut bytes = vec![0u8; bins * frames * 4];
        r.read_exact(&mut bytes).ok()?;
        let data: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        out.push((id, Array2::from_shape_vec((bins, frames), data).ok()?));
    }
    Some(out)
}

fn read_u32(r: &mut impl Read) -> Option<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b).ok()?;
    Some(u32::from_le_bytes(b))
}

fn read_u64(r: &mut impl Read) -> Option<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b).ok()?;
    Some(u64::from_le_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let f = path(dir.path(), &key(&[b"a", b"b"]));
        let items = vec![
            (
                "x".to_string(),
                Array2::from_shape_fn((3, 4), |(i, j)| (i * 10 + j) as f32),
            ),
            ("y/z".to_string(), Array2::zeros((3, 1))),
        ];
        write(&f, &items).unwrap();
        assert_eq!(read(&f).unwrap(), items);
        let bytes = std::fs::read(&f).unwrap();
        std::fs::write(&f, &bytes[..bytes.len() - 3]).unwrap();
        assert!(read(&f).is_none());
        assert_ne!(key(&[b"ab", b""]), key(&[b"a", b"b"]));
    }
}
