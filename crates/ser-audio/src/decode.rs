//! Bytes in, mono `f32` audio out: WAV through [`crate::read_wav_bytes`] (hound: 8/16/24/32-bit
//! PCM, float, any channel count, unknown RIFF chunks skipped), FLAC, MP3 and OGG/Vorbis
//! through symphonia.
//!
//! The container is sniffed from its magic number first ([`crate::sniff`]), so a non-audio
//! input is refused as *unsupported* before any decoder runs, while a file that starts like
//! audio but does not decode is *corrupt*.

use std::io::Cursor;
use std::path::Path;

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::Audio;
use crate::container::{Container, describe_unknown, sniff};
use crate::error::{Error, Result};

/// Decodes an in-memory file to mono audio at its native rate.
///
/// `max_secs` bounds the work done on compressed input: decoding stops with
/// [`Error::TooLong`] as soon as the decoded length passes it, so a small MP3 that expands to
/// hours of audio cannot tie up a worker.
pub fn decode(bytes: &[u8], max_secs: Option<f64>) -> Result<Audio> {
    if bytes.is_empty() {
        return Err(Error::EmptyInput);
    }
    let container = sniff(bytes).ok_or_else(|| Error::UnsupportedFormat {
        detail: describe_unknown(bytes),
    })?;
    let audio = match container {
        Container::Wav => crate::read_wav_bytes(bytes).map_err(|e| Error::Corrupt {
            format: Container::Wav,
            detail: e.to_string(),
        })?,
        other => decode_symphonia(bytes, other, max_secs)?,
    };
    if audio.samples.is_empty() {
        return Err(Error::NoSamples {
            reason: format!("the {container} stream decodes to no samples"),
        });
    }
    Ok(audio)
}

/// Reads and decodes a file (any of the formats of [`decode`]); errors name the file.
pub fn decode_file(path: impl AsRef<Path>, max_secs: Option<f64>) -> Result<Audio> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode(&bytes, max_secs).map_err(|e| e.in_file(path))
}

/// A compressed stream that decodes to less than this fraction of the length its header
/// promises is reported as truncated. Not 1.0: MP3/Vorbis headers count encoder delay and
/// padding (up to ~2 frames of 1152 samples), which decoders trim.
const TRUNCATION_RATIO: f64 = 0.95;

/// Decodes FLAC/MP3/OGG with symphonia, downmixing every packet to mono as it goes.
fn decode_symphonia(bytes: &[u8], container: Container, max_secs: Option<f64>) -> Result<Audio> {
    let corrupt = |e: SymError| Error::Corrupt {
        format: container,
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
            format: container,
            detail: format!("the stream does not parse ({e})"),
        })?;
    let track = reader
        .default_track(TrackType::Audio)
        .ok_or_else(|| Error::Corrupt {
            format: container,
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
            format: container,
            detail: "the audio track has no codec parameters".into(),
        })?
        .clone();
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .map_err(|e| match e {
            SymError::Unsupported(what) => Error::UnsupportedFormat {
                detail: format!("codec inside {container}: {what}"),
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
                        format: container,
                        detail: "the stream ends before the first audio frame (truncated)".into(),
                    });
                }
                return Err(Error::Corrupt {
                    format: container,
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
            format: container,
            detail: format!(
                "the stream is truncated: {} of the {promised} samples its header promises",
                mono.len()
            ),
        });
    }
    if mono.is_empty() && bad_packets > 0 {
        return Err(Error::Corrupt {
            format: container,
            detail: format!("none of its {bad_packets} frames decode"),
        });
    }
    if rate == 0 {
        return Err(Error::Corrupt {
            format: container,
            detail: "no sample rate in the stream".into(),
        });
    }
    Ok(Audio::new(mono, rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_audio_is_unsupported_not_corrupt() {
        let err = decode(b"<!DOCTYPE html><html></html>", None).unwrap_err();
        assert!(matches!(err, Error::UnsupportedFormat { .. }), "{err}");
        assert!(err.to_string().contains("HTML"), "{err}");
    }

    #[test]
    fn empty_input_is_its_own_error() {
        assert!(matches!(decode(b"", None).unwrap_err(), Error::EmptyInput));
    }

    #[test]
    fn garbage_after_a_flac_magic_is_corrupt() {
        let mut bytes = b"fLaC".to_vec();
        bytes.extend(std::iter::repeat_n(0x5A, 200));
        let err = decode(&bytes, None).unwrap_err();
        assert_eq!(err.code(), "corrupt_audio", "{err}");
    }
}
