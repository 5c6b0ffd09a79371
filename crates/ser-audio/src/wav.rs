//! Reading WAV files into mono [`Audio`], robustly.
//!
//! Decoding is done by `hound`. In front of it sits a small RIFF chunk walker, because real
//! files are messier than hound's reader expects:
//!
//! * the RAVDESS originals carry `FLLR`, `LIST`, `bext` and `_PMX` chunks. hound skips unknown
//!   chunks before `data` and ignores everything after it (checked on the nine originals in
//!   `ravdess-48k-samples`), but it does not honour the RIFF pad byte after odd-sized chunks
//!   (RIFF spec, Microsoft "Multimedia Programming Interface and Data Specifications 1.0",
//!   1991, p. 2-1: "If the chunk size is an odd number of bytes, a pad byte with value zero is
//!   written after ckData"), and it reads only 4 bytes of a `fact` chunk whatever its size;
//! * truncated files should say *which* part is missing instead of an opaque EOF.
//!
//! So the walker finds `fmt ` and `data` itself, checks sizes, and hands hound a canonical
//! `RIFF/fmt/data` buffer. Integer PCM of `b` bits is scaled by `2^(b-1)` into `[-1, 1)`;
//! 32-bit float is taken as is. Multi-channel audio is downmixed by averaging channels.

use std::io::Cursor;
use std::path::Path;

use crate::Audio;
use crate::container::Container;
use crate::error::{Error, Result};

/// What the header of a WAV file says, before downmixing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WavInfo {
    /// Channels in the file (the decoded [`Audio`] is always mono).
    pub channels: u16,
    /// Native sample rate (Hz).
    pub sample_rate: u32,
    /// Bits per sample.
    pub bits_per_sample: u16,
    /// `true` for IEEE float samples, `false` for integer PCM.
    pub float: bool,
    /// Frames (samples per channel).
    pub frames: usize,
}

/// Reads a WAV file as mono `f32` at its native sample rate.
///
/// Supports integer PCM of 8, 16, 24 and 32 bits and 32-bit float, plain or
/// `WAVE_FORMAT_EXTENSIBLE`, with any extra chunks. Errors name the file and the reason.
pub fn read_wav(path: impl AsRef<Path>) -> Result<Audio> {
    read_wav_with_info(path).map(|(audio, _)| audio)
}

/// Like [`read_wav`], also returning the header information (channels, bit depth).
pub fn read_wav_with_info(path: impl AsRef<Path>) -> Result<(Audio, WavInfo)> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode(&bytes).map_err(|e| e.in_file(path))
}

/// Decodes WAV bytes (e.g. an HTTP upload) as mono `f32`. Errors carry no path (there is
/// none); [`Error::in_file`] adds one.
pub fn read_wav_bytes(bytes: &[u8]) -> Result<Audio> {
    decode(bytes).map(|(audio, _)| audio)
}

/// Like [`read_wav_bytes`], also returning the header information.
pub fn read_wav_bytes_with_info(bytes: &[u8]) -> Result<(Audio, WavInfo)> {
    decode(bytes)
}

/// Encodes mono audio as a 16-bit PCM WAV (values clipped to `[-1, 1]`, rounded).
pub fn encode_wav_16(audio: &Audio) -> Result<Vec<u8>> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: audio.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::with_capacity(44 + 2 * audio.samples.len()));
    let map = |e: hound::Error| Error::Encode {
        reason: e.to_string(),
    };
    let mut writer = hound::WavWriter::new(&mut cursor, spec).map_err(map)?;
    for &x in &audio.samples {
        let v = (x.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        writer.write_sample(v).map_err(map)?;
    }
    writer.finalize().map_err(map)?;
    Ok(cursor.into_inner())
}

/// Writes mono audio as a 16-bit PCM WAV, atomically (temporary file, then rename).
pub fn write_wav(path: impl AsRef<Path>, audio: &Audio) -> Result<()> {
    let path = path.as_ref();
    let bytes = encode_wav_16(audio)?;
    ser_fs::write_atomic(path, &bytes).map_err(|e| Error::io(path, e))
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Printable rendering of a 4-byte tag for error messages.
fn tag(b: &[u8]) -> String {
    b.iter()
        .map(|&c| {
            if c.is_ascii_graphic() || c == b' ' {
                c as char
            } else {
                '.'
            }
        })
        .collect()
}

/// The two chunks we need, located by the walker.
struct Chunks<'a> {
    fmt: &'a [u8],
    data: &'a [u8],
}

fn find_chunks(bytes: &[u8]) -> Result<Chunks<'_>> {
    if bytes.is_empty() {
        return Err(Error::EmptyInput);
    }
    let head = &bytes[..bytes.len().min(4)];
    if head == b"RF64" || head == b"BW64" {
        return Err(Error::Unsupported {
            format: Container::Wav,
            reason: format!("{} (64-bit RIFF) container", tag(head)),
        });
    }
    if !b"RIFF".starts_with(head) || (head.len() == 4 && head != b"RIFF") {
        return Err(Error::NotRiff {
            reason: format!("starts with `{}` instead of `RIFF`", tag(head)),
        });
    }
    if bytes.len() < 12 {
        return Err(Error::Truncated {
            format: Container::Wav,
            reason: format!(
                "only {} bytes, shorter than the 12-byte RIFF header",
                bytes.len()
            ),
        });
    }
    if &bytes[8..12] != b"WAVE" {
        return Err(Error::NotRiff {
            reason: format!("RIFF form type is `{}`, not `WAVE`", tag(&bytes[8..12])),
        });
    }
    let mut pos = 12usize;
    let mut fmt: Option<&[u8]> = None;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let size = u32_at(bytes, pos + 4).unwrap_or(0) as usize;
        let body = pos + 8;
        let avail = bytes.len() - body;
        match id {
            b"fmt " => {
                if size > avail {
                    return Err(Error::Truncated {
                        format: Container::Wav,
                        reason: format!("fmt chunk declares {size} bytes but only {avail} remain"),
                    });
                }
                fmt = Some(&bytes[body..body + size]);
            }
            b"data" => {
                let Some(fmt) = fmt else {
                    return Err(Error::Corrupt {
                        format: Container::Wav,
                        detail: "data chunk comes before any fmt chunk".into(),
                    });
                };
                if size > avail {
                    return Err(Error::Truncated {
                        format: Container::Wav,
                        reason: format!("data chunk declares {size} bytes but only {avail} remain"),
                    });
                }
                return Ok(Chunks {
                    fmt,
                    data: &bytes[body..body + size],
                });
            }
            _ => {}
        }
        // Skip the body and the pad byte of odd-sized chunks (RIFF spec, see module docs).
        pos = body.saturating_add(size).saturating_add(size & 1);
    }
    Err(match fmt {
        None => Error::Truncated {
            format: Container::Wav,
            reason: format!("no fmt chunk in {} bytes", bytes.len()),
        },
        Some(_) => Error::Truncated {
            format: Container::Wav,
            reason: format!("no data chunk in {} bytes", bytes.len()),
        },
    })
}

/// Format tags from Microsoft's mmreg.h, for naming unsupported encodings.
fn format_name(tag: u16) -> &'static str {
    match tag {
        0x0001 => "integer PCM",
        0x0002 => "Microsoft ADPCM",
        0x0003 => "IEEE float",
        0x0006 => "A-law",
        0x0007 => "mu-law",
        0x0011 => "IMA ADPCM",
        0x0031 => "GSM 6.10",
        0x0055 => "MPEG layer 3",
        _ => "unknown format",
    }
}

fn parse_fmt(fmt: &[u8]) -> Result<WavInfo> {
    let (Some(mut format), Some(channels), Some(sample_rate), Some(bits)) = (
        u16_at(fmt, 0),
        u16_at(fmt, 2),
        u32_at(fmt, 4),
        u16_at(fmt, 14),
    ) else {
        return Err(Error::Corrupt {
            format: Container::Wav,
            detail: format!("fmt chunk is {} bytes, at least 16 needed", fmt.len()),
        });
    };
    if format == 0xFFFE {
        // WAVE_FORMAT_EXTENSIBLE: the real format tag is the first two bytes of the
        // SubFormat GUID at offset 24.
        format = u16_at(fmt, 24).ok_or_else(|| Error::Corrupt {
            format: Container::Wav,
            detail: "WAVE_FORMAT_EXTENSIBLE fmt chunk shorter than 40 bytes".into(),
        })?;
    }
    let float = match (format, bits) {
        (1, 8 | 16 | 24 | 32) => false,
        (3, 32) => true,
        (1 | 3, _) => {
            return Err(Error::Unsupported {
                format: Container::Wav,
                reason: format!("{bits}-bit {}", format_name(format)),
            });
        }
        _ => {
            return Err(Error::Unsupported {
                format: Container::Wav,
                reason: format!("{} (format tag 0x{format:04x})", format_name(format)),
            });
        }
    };
    if channels == 0 || sample_rate == 0 {
        return Err(Error::Corrupt {
            format: Container::Wav,
            detail: format!("{channels} channels at {sample_rate} Hz"),
        });
    }
    Ok(WavInfo {
        channels,
        sample_rate,
        bits_per_sample: bits,
        float,
        frames: 0,
    })
}

/// Checks the RIFF structure and `fmt ` chunk of WAV bytes without decoding samples.
///
/// This is what corpus scanning uses to report bad files (truncated, empty, not RIFF,
/// unsupported encoding) cheaply before any decoding.
pub fn probe_wav_bytes(bytes: &[u8]) -> Result<WavInfo> {
    let chunks = find_chunks(bytes)?;
    let mut info = parse_fmt(chunks.fmt)?;
    let frame_bytes = usize::from(info.channels) * usize::from(info.bits_per_sample / 8);
    info.frames = chunks.data.len() / frame_bytes;
    if info.frames == 0 {
        return Err(Error::NoSamples {
            reason: NO_FRAME.into(),
        });
    }
    Ok(info)
}

impl WavInfo {
    /// Duration in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.frames as f64 / f64::from(self.sample_rate)
    }
}

/// Why a WAV without a whole sample frame has no samples.
const NO_FRAME: &str = "the WAV data chunk holds no complete sample frame";

fn decode(bytes: &[u8]) -> Result<(Audio, WavInfo)> {
    let chunks = find_chunks(bytes)?;
    let mut info = parse_fmt(chunks.fmt)?;
    let frame_bytes = usize::from(info.channels) * usize::from(info.bits_per_sample / 8);
    // A trailing partial frame (seen in files cut by some editors) is dropped, not an error.
    let whole = chunks.data.len() / frame_bytes * frame_bytes;
    if whole == 0 {
        return Err(Error::NoSamples {
            reason: NO_FRAME.into(),
        });
    }
    let data = &chunks.data[..whole];

    // Canonical RIFF/WAVE buffer for hound: header, fmt (padded to even), data.
    let fmt_len = chunks.fmt.len() + (chunks.fmt.len() & 1);
    let mut canon = Vec::with_capacity(20 + fmt_len + 8 + data.len());
    let riff_len = 4 + 8 + fmt_len + 8 + data.len();
    canon.extend_from_slice(b"RIFF");
    canon.extend_from_slice(&(riff_len as u32).to_le_bytes());
    canon.extend_from_slice(b"WAVE");
    canon.extend_from_slice(b"fmt ");
    canon.extend_from_slice(&(chunks.fmt.len() as u32).to_le_bytes());
    canon.extend_from_slice(chunks.fmt);
    if chunks.fmt.len() & 1 == 1 {
        canon.push(0);
    }
    canon.extend_from_slice(b"data");
    canon.extend_from_slice(&(data.len() as u32).to_le_bytes());
    canon.extend_from_slice(data);

    let hound_err = |e: hound::Error| match e {
        hound::Error::Unsupported => Error::Unsupported {
            format: Container::Wav,
            reason: "hound cannot decode this fmt chunk".into(),
        },
        other => Error::Corrupt {
            format: Container::Wav,
            detail: other.to_string(),
        },
    };
    let mut reader = hound::WavReader::new(Cursor::new(canon)).map_err(hound_err)?;
    let channels = usize::from(info.channels);
    let interleaved: Vec<f32> = if info.float {
        reader
            .samples::<f32>()
            .collect::<std::result::Result<_, _>>()
            .map_err(hound_err)?
    } else {
        let scale = 1.0 / (1u64 << (info.bits_per_sample - 1)) as f32;
        reader
            .samples::<i32>()
            .map(|s| s.map(|v| v as f32 * scale))
            .collect::<std::result::Result<_, _>>()
            .map_err(hound_err)?
    };
    let samples: Vec<f32> = if channels == 1 {
        interleaved
    } else {
        let inv = 1.0 / channels as f32;
        interleaved
            .chunks_exact(channels)
            .map(|f| f.iter().sum::<f32>() * inv)
            .collect()
    };
    info.frames = samples.len();
    Ok((Audio::new(samples, info.sample_rate), info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_16_bit() {
        let audio = Audio::new(
            (0..1000).map(|i| ((i as f32) * 0.01).sin() * 0.5).collect(),
            16000,
        );
        let bytes = encode_wav_16(&audio).unwrap();
        let back = read_wav_bytes(&bytes).unwrap();
        assert_eq!(back.sample_rate, 16000);
        assert_eq!(back.samples.len(), 1000);
        for (a, b) in audio.samples.iter().zip(&back.samples) {
            assert!((a - b).abs() < 1.0 / 32000.0);
        }
    }

    #[test]
    fn odd_sized_chunk_before_fmt_is_skipped_with_pad_byte() {
        let audio = Audio::new(vec![0.25; 10], 8000);
        let plain = encode_wav_16(&audio).unwrap();
        // Insert an odd-sized "junk" chunk (3 bytes + pad) right after "WAVE".
        let mut odd = plain[..12].to_vec();
        odd.extend_from_slice(b"junk");
        odd.extend_from_slice(&3u32.to_le_bytes());
        odd.extend_from_slice(&[1, 2, 3, 0]);
        odd.extend_from_slice(&plain[12..]);
        let back = read_wav_bytes(&odd).unwrap();
        assert_eq!(back.samples.len(), 10);
    }
}
