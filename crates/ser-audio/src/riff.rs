//! The RIFF/WAVE structure: a chunk walker that finds `fmt ` and `data`, and the `fmt ` parser.
//!
//! Real files are messier than hound's reader expects: the RAVDESS originals carry `FLLR`,
//! `LIST`, `bext` and `_PMX` chunks, hound does not honour the RIFF pad byte after odd-sized
//! chunks (RIFF spec, Microsoft "Multimedia Programming Interface and Data Specifications 1.0",
//! 1991, p. 2-1: "If the chunk size is an odd number of bytes, a pad byte with value zero is
//! written after ckData") and reads only 4 bytes of a `fact` chunk whatever its size; a
//! truncated file should say *which* part is missing; and a WAV written to a pipe carries a
//! placeholder data size. So the walker finds the chunks itself and checks their sizes.

use crate::checks::check_rate;
use crate::container::Container;
use crate::error::{Error, Result};
use crate::limits::MAX_CHANNELS;
use crate::wav::WavInfo;

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
pub(crate) struct Chunks<'a> {
    /// The `fmt ` chunk's body.
    pub fmt: &'a [u8],
    /// The `data` chunk's body (to the end of the input for a streamed WAV).
    pub data: &'a [u8],
}

/// Declared `data` sizes that mean "unknown: up to the end of the stream". A writer that
/// cannot seek back to patch the header leaves its placeholder there: 0xFFFFFFFF from
/// FFmpeg (`ffmpeg -f wav -`; libavformat `ff_start_tag` writes -1 and only a seekable
/// output gets the real size) and 0x7FFFF000 from SoX (`MS_UNSPEC`, src/wav.c). Such a file is
/// read to its end in whole frames instead of being refused as truncated.
const STREAMED_DATA_SIZES: [u32; 2] = [u32::MAX, 0x7FFF_F000];

/// Finds the `fmt ` and `data` chunks of RIFF/WAVE bytes.
pub(crate) fn find_chunks(bytes: &[u8]) -> Result<Chunks<'_>> {
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
        let declared = u32_at(bytes, pos + 4).unwrap_or(0);
        let size = declared as usize;
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
                if size > avail && STREAMED_DATA_SIZES.contains(&declared) {
                    return Ok(Chunks {
                        fmt,
                        data: &bytes[body..],
                    });
                }
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

/// Parses a `fmt ` chunk (WAVEFORMATEX, optionally WAVE_FORMAT_EXTENSIBLE) into what the
/// decoder needs, refusing encodings, channel counts and rates it does not take.
pub(crate) fn parse_fmt(fmt: &[u8]) -> Result<WavInfo> {
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
    if channels == 0 {
        return Err(Error::Corrupt {
            format: Container::Wav,
            detail: "the fmt chunk declares 0 channels".into(),
        });
    }
    if usize::from(channels) > MAX_CHANNELS {
        return Err(Error::Unsupported {
            format: Container::Wav,
            reason: format!("{channels} channels (at most {MAX_CHANNELS})"),
        });
    }
    check_rate(sample_rate)?;
    Ok(WavInfo {
        channels,
        sample_rate,
        bits_per_sample: bits,
        float,
        frames: 0,
    })
}
