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

use std::io::{Cursor, Read};
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
