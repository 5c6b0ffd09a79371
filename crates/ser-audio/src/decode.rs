//! Bytes in, mono `f32` audio out: WAV through the crate's own reader (hound: 8/16/24/32-bit
//! PCM, float, any channel count, unknown RIFF chunks skipped), FLAC, MP3 and OGG/Vorbis
//! through symphonia, all within [`DecodeLimits`].
//!
//! The container is sniffed from its magic number first ([`crate::sniff`]), so a non-audio
//! input is refused as *unsupported* before any decoder runs, while a file that starts like
//! audio but does not decode is *corrupt*.

use std::path::Path;

use crate::Audio;
use crate::compressed::decode_compressed;
use crate::container::{Container, describe_unknown, sniff};
use crate::error::{Error, Result};
use crate::limits::DecodeLimits;
use crate::wav::decode_wav;

/// What [`decode`] produced: the audio and what the stream was like.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Decoded {
    /// Mono audio at the stream's own rate.
    pub audio: Audio,
    /// The container the bytes were recognised as.
    pub container: Container,
    /// Channels in the stream, before downmixing.
    pub channels: usize,
    /// Compressed packets (MP3 frames, Vorbis packets, FLAC frames) in the stream; 0 for WAV.
    pub packets: usize,
    /// Of those, damaged packets that were skipped, as players do (each leaves a gap of one
    /// packet's length); 0 for WAV. See [`crate::MAX_DAMAGED_FRACTION`] for when a stream is
    /// refused instead.
    pub damaged_packets: usize,
}

impl Decoded {
    /// One line for the user when damaged packets were skipped, e.g. "12 of 170 damaged MP3
    /// frames skipped"; `None` for a clean stream.
    pub fn warning(&self) -> Option<String> {
        (self.damaged_packets > 0).then(|| {
            let unit = match self.container {
                Container::Mp3 | Container::Flac => "frames",
                Container::Ogg | Container::Wav => "packets",
            };
            format!(
                "{} of {} {} {unit} are damaged and were skipped",
                self.damaged_packets, self.packets, self.container
            )
        })
    }
}

/// Decodes an in-memory file to mono audio at its native rate, within `limits`.
///
/// Before any sample is decoded: the container is sniffed, the header's sample rate
/// (8-192 kHz) and channel count ([`crate::MAX_CHANNELS`]) are checked, and so is the duration
/// the header states where it is exact (WAV, FLAC, Ogg). While decoding, the output is checked
/// against the duration limit and the sample cap ([`DecodeLimits::sample_cap`]) before it is
/// stored, and every sample must be finite and within [`crate::MAX_SAMPLE_MAGNITUDE`]. So
/// neither a header that lies about the rate nor a small file that expands to hours can make
/// decoding allocate without bound.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<Decoded> {
    limits.validate()?;
    if bytes.is_empty() {
        return Err(Error::EmptyInput);
    }
    let container = sniff(bytes).ok_or_else(|| Error::UnsupportedFormat {
        detail: describe_unknown(bytes),
    })?;
    let decoded = match container {
        Container::Wav => {
            let (audio, info) = decode_wav(bytes, limits)?;
            Decoded {
                audio,
                container,
                channels: usize::from(info.channels),
                packets: 0,
                damaged_packets: 0,
            }
        }
        other => decode_compressed(bytes, other, limits)?,
    };
    if decoded.audio.samples.is_empty() {
        return Err(Error::NoSamples {
            reason: format!("the {container} stream decodes to no samples"),
        });
    }
    Ok(decoded)
}

/// Reads and decodes a file (any of the formats of [`decode`]); errors name the file.
pub fn decode_file(path: impl AsRef<Path>, limits: &DecodeLimits) -> Result<Decoded> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode(&bytes, limits).map_err(|e| e.in_file(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_audio_is_unsupported_not_corrupt() {
        let err = decode(b"<!DOCTYPE html><html></html>", &DecodeLimits::default()).unwrap_err();
        assert!(matches!(err, Error::UnsupportedFormat { .. }), "{err}");
        assert!(err.to_string().contains("HTML"), "{err}");
    }

    #[test]
    fn empty_input_is_its_own_error() {
        let err = decode(b"", &DecodeLimits::default()).unwrap_err();
        assert!(matches!(err, Error::EmptyInput));
    }

    #[test]
    fn garbage_after_a_flac_magic_is_corrupt() {
        let mut bytes = b"fLaC".to_vec();
        bytes.extend(std::iter::repeat_n(0x5A, 200));
        let err = decode(&bytes, &DecodeLimits::default()).unwrap_err();
        assert_eq!(err.code(), "corrupt_audio", "{err}");
    }

    #[test]
    fn invalid_limits_are_refused() {
        let wav = crate::encode_wav_16(&Audio::new(vec![0.1; 100], 16_000)).unwrap();
        let err = decode(&wav, &DecodeLimits::with_max_secs(Some(f64::NAN))).unwrap_err();
        assert_eq!(err.code(), "invalid_config", "{err}");
    }
}
