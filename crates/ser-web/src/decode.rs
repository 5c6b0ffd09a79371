//! Bytes in, mono `f32` audio out: WAV through `ravdess_loader::read_wav_bytes` (hound: 8/16/24/
//! 32-bit PCM, float, any channel count, unknown RIFF chunks skipped), FLAC, MP3 and OGG/Vorbis
//! through symphonia.
//!
//! The container is sniffed from its magic number first, so a non-audio upload (an HTML page, a
//! JPEG, a text file) is refused as *unsupported* (415) before any decoder runs, while a file
//! that starts like audio but does not decode is *corrupt* (422).

use std::io::Cursor;

use ravdess_loader::Audio;
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::error::{Error, Result};

/// The containers ser-web accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// RIFF/WAVE (PCM or IEEE float).
    Wav,
    /// Native FLAC (`fLaC`).
    Flac,
    /// MPEG-1/2 layer III, with or without an ID3v2 tag.
    Mp3,
    /// Ogg (Vorbis inside).
    Ogg,
}

impl Container {
    /// Human name used in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Container::Wav => "WAV",
            Container::Flac => "FLAC",
            Container::Mp3 => "MP3",
            Container::Ogg => "OGG",
        }
    }

    /// The file extension symphonia's probe takes as a hint.
    fn extension(self) -> &'static str {
        match self {
            Container::Wav => "wav",
            Container::Flac => "flac",
            Container::Mp3 => "mp3",
            Container::Ogg => "ogg",
        }
    }
}

/// Guesses the container from the first bytes.
///
/// Magic numbers: RIFF/WAVE (Microsoft RIFF spec), `fLaC` (FLAC format spec, "STREAM"),
/// `OggS` (RFC 3533 section 6), `ID3` (ID3v2.4 section 3.1) or an MPEG audio frame sync of
/// eleven set bits with layer bits `01` = layer III (ISO/IEC 11172-3 2.4.1.3).
pub fn sniff(bytes: &[u8]) -> Option<Container> {
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        return Some(Container::Wav);
    }
    if bytes.starts_with(b"fLaC") {
        return Some(Container::Flac);
    }
    if bytes.starts_with(b"OggS") {
        return Some(Container::Ogg);
    }
    if bytes.starts_with(b"ID3") {
        return Some(Container::Mp3);
    }
    if bytes.len() >= 2
        && bytes[0] == 0xFF
        && (bytes[1] & 0xE0) == 0xE0
        && (bytes[1] & 0x06) == 0x02
    {
        return Some(Container::Mp3);
    }
    None
}

/// Decodes an in-memory file to mono audio at its native rate.
///
/// `max_secs` bounds the work done on compressed input: decoding stops with
/// [`Error::TooLong`] as soon as the decoded length passes it, so a small MP3 that expands to
/// hours of audio cannot tie up a worker.
pub fn decode(bytes: &[u8], max_secs: Option<f64>) -> Result<Audio> {
    if bytes.is_empty() {
        return Err(Error::EmptyInput {
            what: "the upload".into(),
        });
    }
    let container = sniff(bytes).ok_or_else(|| Error::UnsupportedFormat {
        detail: describe_unknown(bytes),
    })?;
    let audio = match container {
        Container::Wav => ravdess_loader::read_wav_bytes(bytes).map_err(|e| Error::Corrupt {
            format: "WAV",
            detail: error_chain(&e),
        })?,
        other => decode_symphonia(bytes, other, max_secs)?,
    };
    if audio.samples.is_empty() {
        return Err(Error::NoSamples {
            format: container.name(),
        });
    }
    Ok(audio)
}

/// `e` and its sources joined with ": ", like anyhow's `{:#}`.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let msg = s.to_string();
        if !out.contains(&msg) {
            out.push_str(": ");
            out.push_str(&msg);
        }
        src = s.source();
    }
    out
}

/// A short, safe description of an unrecognised upload for the error message.
fn describe_unknown(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(16)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let kind = if lower.starts_with(b"<!doctype") || lower.starts_with(b"<html") {
        "looks like an HTML page"
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "looks like a JPEG image"
    } else if head.starts_with(b"\x89PNG") {
        "looks like a PNG image"
    } else if head.starts_with(b"RIFF") {
        "a RIFF file that is not WAVE"
    } else if head.len() >= 8 && &head[4..8] == b"ftyp" {
        "looks like MP4/M4A (AAC is not supported)"
    } else if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        "looks like WebM/Matroska (not supported)"
    } else if head
        .iter()
        .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        "looks like text"
    } else {
        "unknown magic number"
    };
    let hex: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{kind}; first bytes {}", hex.join(" "))
}

/// A compressed stream that decodes to less than this fraction of the length its header
/// promises is reported as truncated. Not 1.0: MP3/Vorbis headers count encoder delay and
/// padding (up to ~2 frames of 1152 samples), which decoders trim.
const TRUNCATION_RATIO: f64 = 0.95;

/// Decodes FLAC/MP3/OGG with symphonia, downmixing every packet to mono as it goes.
fn decode_symphonia(bytes: &[u8], container: Container, max_secs: Option<f64>) -> Result<Audio> {
    let format_name = container.name();
    let corrupt = |e: SymError| Error::Corrupt {
        format: format_name,
        detail: e.to_string(),
    };
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(container.extension());
    let mut reader = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        // The magic number matched, so a probe failure means a damaged or cut file.
        .map_err(|e| Error::Corrupt {
            format: format_name,
            detail: format!("the stream does not parse ({e})"),
        })?;
    let track = reader
        .default_track(TrackType::Audio)
        .ok_or_else(|| Error::Corrupt {
            format: format_name,
            detail: "no audio track".into(),
        })?;
    let track_id = track.id;
    // Frames the container promises (FLAC STREAMINFO, an MP3 Xing/LAME header, Ogg's last
    // granule position), to tell a cut file from a short one.
    let promised_frames = track.num_frames;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| Error::Corrupt {
            format: format_name,
            detail: "the audio track has no codec parameters".into(),
        })?
        .clone();
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| match e {
            SymError::Unsupported(what) => Error::UnsupportedFormat {
                detail: format!("codec inside {format_name}: {what}"),
            },
            other => corrupt(other),
        })?;

    let mut rate = params.sample_rate.unwrap_or(0);
    let mut mono: Vec<f32> = Vec::new();
    let mut interleaved: Vec<f32> = Vec::new();
    let mut bad_packets = 0usize;
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            // A stream cut short: symphonia reports an unexpected end of file.
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                if mono.is_empty() {
                    return Err(Error::Corrupt {
                        format: format_name,
                        detail: "the stream ends before the first audio frame (truncated)".into(),
                    });
                }
                return Err(Error::Corrupt {
                    format: format_name,
                    detail: format!(
                        "the stream is truncated after {:.2} s of audio",
                        mono.len() as f64 / f64::from(rate.max(1))
                    ),
                });
            }
            Err(e) => return Err(corrupt(e)),
        };
        if packet.track_id != track_id {
            continue;
        }
        match decoder.decode(&packet) {
            Ok(buf) => {
                let spec = buf.spec();
                rate = spec.rate();
                let channels = spec.channels().count().max(1);
                interleaved.resize(buf.samples_interleaved(), 0.0);
                buf.copy_to_slice_interleaved(&mut interleaved);
                // Downmix by averaging channels, like librosa.to_mono.
                let scale = 1.0 / channels as f32;
                mono.extend(
                    interleaved
                        .chunks_exact(channels)
                        .map(|frame| frame.iter().sum::<f32>() * scale),
                );
            }
            // One damaged frame: skip it, as players do, but fail if nothing decodes at all.
            Err(SymError::DecodeError(_)) => bad_packets += 1,
            Err(e) => return Err(corrupt(e)),
        }
        if let Some(max) = max_secs
            && rate > 0
            && mono.len() as f64 > max * f64::from(rate)
        {
            return Err(Error::TooLong {
                duration_secs: mono.len() as f64 / f64::from(rate),
                max_secs: max,
            });
        }
    }
    if let Some(promised) = promised_frames
        && (mono.len() as f64) < TRUNCATION_RATIO * promised as f64
    {
        return Err(Error::Corrupt {
            format: format_name,
            detail: format!(
                "the stream is truncated: {} of the {promised} samples its header promises",
                mono.len()
            ),
        });
    }
    if mono.is_empty() && bad_packets > 0 {
        return Err(Error::Corrupt {
            format: format_name,
            detail: format!("none of its {bad_packets} frames decode"),
        });
    }
    if rate == 0 {
        return Err(Error::Corrupt {
            format: format_name,
            detail: "no sample rate in the stream".into(),
        });
    }
    Ok(Audio::new(mono, rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_magic_numbers() {
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), Some(Container::Wav));
        assert_eq!(sniff(b"fLaC\0\0\0\x22"), Some(Container::Flac));
        assert_eq!(sniff(b"OggS\0\x02"), Some(Container::Ogg));
        assert_eq!(sniff(b"ID3\x04\0"), Some(Container::Mp3));
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x64]), Some(Container::Mp3));
        // Layer I sync (bits 01 -> layer III only): not accepted as MP3.
        assert_eq!(sniff(&[0xFF, 0xFF, 0x90, 0x64]), None);
        assert_eq!(sniff(b"RIFF\0\0\0\0AVI "), None);
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn non_audio_is_unsupported_not_corrupt() {
        let err = decode(b"<!DOCTYPE html><html></html>", None).unwrap_err();
        assert!(matches!(err, Error::UnsupportedFormat { .. }), "{err}");
        assert!(err.to_string().contains("HTML"), "{err}");
    }

    #[test]
    fn empty_input_is_its_own_error() {
        assert!(matches!(
            decode(b"", None).unwrap_err(),
            Error::EmptyInput { .. }
        ));
    }

    #[test]
    fn garbage_after_a_flac_magic_is_corrupt() {
        let mut bytes = b"fLaC".to_vec();
        bytes.extend(std::iter::repeat_n(0x5A, 200));
        let err = decode(&bytes, None).unwrap_err();
        assert_eq!(err.status().as_u16(), 422, "{err}");
    }
}
