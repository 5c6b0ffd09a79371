//! Reading WAV files into mono [`Audio`], robustly and within [`DecodeLimits`].
//!
//! The RIFF walker in `riff.rs` finds `fmt ` and `data` and checks their sizes, the rate and
//! the channel count; the duration and sample cap are checked from the data size before any
//! sample is decoded; then `hound` decodes the samples from a canonical `RIFF/fmt/data` header
//! followed by the original data bytes (not copied). Integer PCM of `b` bits is scaled by
//! `2^(b-1)` into `[-1, 1)`; 32-bit float is taken as is, each sample checked
//! ([`crate::checks::check_samples`]). Channels are averaged to mono as they are read.

use std::io::{Cursor, Read};
use std::path::Path;

use crate::Audio;
use crate::checks::check_sample;
use crate::container::Container;
use crate::error::{Error, Result};
use crate::limits::DecodeLimits;
use crate::riff::{find_chunks, parse_fmt};

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
/// `WAVE_FORMAT_EXTENSIBLE`, with any extra chunks, at 8-192 kHz, within the default
/// [`DecodeLimits`]. Errors name the file and the reason.
pub fn read_wav(path: impl AsRef<Path>) -> Result<Audio> {
    read_wav_with_info(path).map(|(audio, _)| audio)
}

/// Like [`read_wav`], also returning the header information (channels, bit depth).
pub fn read_wav_with_info(path: impl AsRef<Path>) -> Result<(Audio, WavInfo)> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode_wav(&bytes, &DecodeLimits::default()).map_err(|e| e.in_file(path))
}

/// Decodes WAV bytes (e.g. an HTTP upload) as mono `f32`. Errors carry no path (there is
/// none); [`Error::in_file`] adds one.
pub fn read_wav_bytes(bytes: &[u8]) -> Result<Audio> {
    decode_wav(bytes, &DecodeLimits::default()).map(|(audio, _)| audio)
}

/// Like [`read_wav_bytes`], also returning the header information.
pub fn read_wav_bytes_with_info(bytes: &[u8]) -> Result<(Audio, WavInfo)> {
    decode_wav(bytes, &DecodeLimits::default())
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

/// Decodes WAV bytes within `limits`: everything but the samples is checked first.
pub(crate) fn decode_wav(bytes: &[u8], limits: &DecodeLimits) -> Result<(Audio, WavInfo)> {
    limits.validate()?;
    let chunks = find_chunks(bytes)?;
    let mut info = parse_fmt(chunks.fmt)?;
    let channels = usize::from(info.channels);
    let rate = info.sample_rate;
    let frame_bytes = channels * usize::from(info.bits_per_sample / 8);
    // A trailing partial frame (seen in files cut by some editors, and in streamed WAVs cut
    // anywhere) is dropped, not an error.
    let frames = chunks.data.len() / frame_bytes;
    if frames == 0 {
        return Err(Error::NoSamples {
            reason: NO_FRAME.into(),
        });
    }
    // The data size gives the exact length: refuse before decoding a sample.
    limits.check_duration(frames as u64, rate, true)?;
    limits.check_samples(
        (frames * channels) as u64,
        channels,
        frames as u64,
        rate,
        true,
    )?;
    let data = &chunks.data[..frames * frame_bytes];

    let mut reader =
        hound::WavReader::new(Cursor::new(canonical_header(chunks.fmt, data.len())?).chain(data))
            .map_err(hound_err)?;
    let mut mono = Vec::with_capacity(frames);
    if info.float {
        downmix(reader.samples::<f32>(), channels, rate, true, &mut mono)?;
    } else {
        let scale = 1.0 / (1u64 << (info.bits_per_sample - 1)) as f32;
        let scaled = reader.samples::<i32>().map(|s| s.map(|v| v as f32 * scale));
        downmix(scaled, channels, rate, false, &mut mono)?;
    }
    if mono.is_empty() {
        return Err(Error::NoSamples {
            reason: NO_FRAME.into(),
        });
    }
    info.frames = mono.len();
    Ok((Audio::new(mono, rate), info))
}

/// A `RIFF/WAVE` header with the original `fmt ` chunk (padded to even) and a `data` chunk
/// header of `data_len` bytes: what hound reads before the data itself.
fn canonical_header(fmt: &[u8], data_len: usize) -> Result<Vec<u8>> {
    let fmt_len = fmt.len() + (fmt.len() & 1);
    let too_big = || Error::Unsupported {
        format: Container::Wav,
        reason: format!("{data_len} bytes of data (a RIFF chunk holds at most 4 GiB)"),
    };
    let data_u32 = u32::try_from(data_len).map_err(|_| too_big())?;
    let fmt_u32 = u32::try_from(fmt.len()).map_err(|_| too_big())?;
    let riff_len = u32::try_from(4 + 8 + fmt_len + 8 + data_len).map_err(|_| too_big())?;
    let mut h = Vec::with_capacity(28 + fmt_len);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&riff_len.to_le_bytes());
    h.extend_from_slice(b"WAVE");
    h.extend_from_slice(b"fmt ");
    h.extend_from_slice(&fmt_u32.to_le_bytes());
    h.extend_from_slice(fmt);
    if fmt.len() & 1 == 1 {
        h.push(0);
    }
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_u32.to_le_bytes());
    Ok(h)
}

fn hound_err(e: hound::Error) -> Error {
    match e {
        hound::Error::Unsupported => Error::Unsupported {
            format: Container::Wav,
            reason: "hound cannot decode this fmt chunk".into(),
        },
        other => Error::Corrupt {
            format: Container::Wav,
            detail: other.to_string(),
        },
    }
}

/// Averages interleaved samples to mono into `out`, frame by frame (a trailing partial frame is
/// dropped). With `check`, every sample is checked as it is read (float WAV; integer PCM is
/// in range by construction).
fn downmix(
    samples: impl Iterator<Item = std::result::Result<f32, hound::Error>>,
    channels: usize,
    rate: u32,
    check: bool,
    out: &mut Vec<f32>,
) -> Result<()> {
    let inv = 1.0 / channels as f32;
    let mut acc = 0.0_f32;
    let mut in_frame = 0;
    for s in samples {
        let v = s.map_err(hound_err)?;
        if check {
            check_sample(v, out.len(), rate)?;
        }
        acc = if in_frame == 0 { v } else { acc + v };
        in_frame += 1;
        if in_frame == channels {
            out.push(if channels == 1 { acc } else { acc * inv });
            in_frame = 0;
        }
    }
    Ok(())
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
