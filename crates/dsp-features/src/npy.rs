//! Minimal NPY v1.0 reading and writing for little-endian f32 arrays in C order, so features can
//! be exchanged with numpy (`np.load` / `np.save`) without a Python dependency.
//!
//! Format (numpy's `format.py`, "NPY format version 1.0"): the magic `\x93NUMPY`, version bytes
//! `1, 0`, a little-endian `u16` header length, then an ASCII dict
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (rows, cols), }` padded with spaces and a
//! final `\n` so the data starts at a multiple of 64 bytes, then the raw values.

use std::io::{Read, Write};

use ndarray::Array2;

const MAGIC: &[u8] = b"\x93NUMPY";

/// Write `data` (C order, `shape.iter().product()` values) as a v1.0 `.npy` with dtype `<f4`.
pub fn write_npy<W: Write>(mut w: W, shape: &[usize], data: &[f32]) -> std::io::Result<()> {
    let expected: usize = shape.iter().product();
    if expected != data.len() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "npy shape {shape:?} holds {expected} values but {} were given",
                data.len()
            ),
        ));
    }
    let shape_txt = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_txt}, }}");
    // magic (6) + version (2) + header length (2) + header, ending in '\n', multiple of 64.
    let unpadded = MAGIC.len() + 2 + 2 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let len = u16::try_from(header.len()).map_err(|_| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "npy header too long")
    })?;
    w.write_all(MAGIC)?;
    w.write_all(&[1, 0])?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(header.as_bytes())?;
    let mut bytes = Vec::with_capacity(data.len() * 4);
    for v in data {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    w.write_all(&bytes)?;
    w.flush()
}

/// Write a `[rows, cols]` matrix (any memory layout) as a C-order `.npy`.
pub fn write_npy_matrix<W: Write>(w: W, m: &Array2<f32>) -> std::io::Result<()> {
    let std = m.as_standard_layout();
    let (r, c) = m.dim();
    match std.as_slice() {
        Some(s) => write_npy(w, &[r, c], s),
        None => write_npy(w, &[r, c], &std.iter().copied().collect::<Vec<_>>()),
    }
}

fn bad(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.into())
}

/// Read a v1/v2 `.npy` holding little-endian `<f4` or `<f8` in C order; returns
/// `(shape, values)` with values converted to f32.
pub fn read_npy<R: Read>(mut r: R) -> std::io::Result<(Vec<usize>, Vec<f32>)> {
    let mut bytes = Vec::new();
    r.read_to_end(&mut bytes)?;
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(bad("not an .npy file (missing \\x93NUMPY magic)"));
    }
    let (hlen, hstart) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(bad(format!("unsupported .npy version {v}"))),
    };
    let header = std::str::from_utf8(
        bytes
            .get(hstart..hstart + hlen)
            .ok_or_else(|| bad("truncated .npy header"))?,
    )
    .map_err(|_| bad("non-UTF-8 .npy header"))?;
    if header.contains("'fortran_order': True") {
        return Err(bad("Fortran-order .npy is not supported"));
    }
    let width = if header.contains("'<f4'") {
        4
    } else if header.contains("'<f8'") {
        8
    } else {
        return Err(bad(format!(
            "unsupported dtype in .npy header {header:?} (need '<f4' or '<f8')"
        )));
    };
    let shape_txt = header
        .split("'shape':")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| bad("no shape in .npy header"))?;
    let shape = shape_txt
        .trim()
        .trim_start_matches('(')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| bad(format!("bad shape entry {s:?}")))
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let n: usize = shape.iter().product();
    let data = bytes
        .get(hstart + hlen..)
        .ok_or_else(|| bad("truncated .npy data"))?;
    if data.len() != n * width {
        return Err(bad(format!(
            "npy data has {} bytes, shape {shape:?} needs {}",
            data.len(),
            n * width
        )));
    }
    let values = if width == 4 {
        data.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    } else {
        data.chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
            .collect()
    };
    Ok((shape, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_alignment() {
        let m = Array2::from_shape_fn((3, 5), |(r, c)| (r * 10 + c) as f32);
        let mut buf = Vec::new();
        write_npy_matrix(&mut buf, &m).unwrap();
        let hlen = u16::from_le_bytes([buf[8], buf[9]]) as usize;
        assert_eq!((10 + hlen) % 64, 0);
        assert!(
            std::str::from_utf8(&buf[10..10 + hlen])
                .unwrap()
                .starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5), }")
        );
        let (shape, v) = read_npy(&buf[..]).unwrap();
        assert_eq!(shape, vec![3, 5]);
        assert_eq!(v, m.iter().copied().collect::<Vec<_>>());
        // Transposed (non-standard layout) input is written in logical C order.
        let mut buf = Vec::new();
        write_npy_matrix(&mut buf, &m.t().to_owned()).unwrap();
        let (shape, v) = read_npy(&buf[..]).unwrap();
        assert_eq!(shape, vec![5, 3]);
        assert_eq!(v[1], 10.0);
        let mut one = Vec::new();
        write_npy(&mut one, &[2], &[1.0, 2.0]).unwrap();
        assert_eq!(read_npy(&one[..]).unwrap(), (vec![2], vec![1.0, 2.0]));
        assert!(write_npy(Vec::new(), &[3], &[1.0]).is_err());
        assert!(read_npy(&b"nonsense"[..]).is_err());
    }
}
